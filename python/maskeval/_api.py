"""compare, compare_files, batch and their results."""
import json
import numbers
import os
import sys
import warnings

import numpy as np

from . import _native
from .errors import InputError, MaskEvalWarning

_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"


def _flag(name, value):
    """"true"/"false" for a boolean keyword argument. Anything but a bool (or 0/1) is refused:
    ``binary="false"`` is a non-empty string, which truth testing reads as True."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return "true" if value else "false"
    raise InputError("%s must be True or False, not %r" % (name, value), 64)


def _whole(name, value):
    """A whole-number keyword argument as text; 2.7 is refused, not cut to 2."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    raise InputError("%s must be a whole number, not %r" % (name, value), 64)


def _option_values(labels, preset, tolerance, percentile, penalty_mm, binary, threads, label_names=None):
    """The CLI option values for these keyword arguments (checked by the library, which
    raises InputError with the CLI's message)."""
    if labels is None:
        label_text = None
    elif isinstance(labels, str):
        label_text = labels
    else:
        if isinstance(labels, numbers.Integral):
            labels = [labels]
        items = []
        for label in labels:
            if not isinstance(label, numbers.Integral) or isinstance(label, bool):
                raise InputError("--labels: %r is not a label or a range like 5-9" % (label,), 64)
            items.append(str(int(label)))
        if not items:
            raise InputError("--labels: '' is not a label or a range like 5-9", 64)
        label_text = ",".join(items)
    values = {
        "labels": label_text,
        "compat": preset,
        "tolerance": repr(float(tolerance)),
        "percentile": repr(float(percentile)),
        "penalty-mm": None if penalty_mm is None else (
            penalty_mm if isinstance(penalty_mm, str) else repr(float(penalty_mm))),
        "binary": _flag("binary", binary),
        "threads": None if threads is None else _whole("threads", threads),
        "label-names": None if label_names is None else os.fspath(label_names),
    }
    return values


def _array_argument(array, role):
    """(array, type code) for maskeval_compare_arrays: no copy when the dtype is a label type
    (either byte order) and the strides are whole elements; otherwise one conversion."""
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    if array.dtype == np.bool_:
        array = array.view(np.uint8)
    kind = array.dtype.kind
    if kind == "f" and array.dtype.itemsize not in (4, 8):
        array = array.astype(np.float64)  # float16, longdouble: exact in float64 for labels
    elif kind not in "iuf":
        raise InputError("<%s array>: dtype %s is not a label type (integers or integral floats)"
                         % (role, array.dtype), 65)
    key = "%s%d" % (array.dtype.kind, array.dtype.itemsize)
    code = _native.TYPE_CODES[key]
    byteorder = array.dtype.byteorder
    if byteorder not in ("=", "|", _NATIVE_ORDER):
        code |= _native.BYTE_SWAPPED
    if any(s % array.itemsize for s in array.strides):
        array = np.array(array, order="F")  # e.g. a field of a structured array
    return array, code


def _spacing(spacing):
    try:
        values = [float(s) for s in np.asarray(spacing, dtype=np.float64).ravel()]
    except (TypeError, ValueError):
        raise InputError("spacing must be numbers (mm per axis), not %r" % (spacing,), 65) from None
    return values


class Report:
    """The report of one comparison: the CLI's `compare --format json` document.

    - ``labels``: one dict per label, keyed exactly as the CLI's JSON rows (``label``,
      ``name``, ``status``, ``dice``, ``hd95_mm``, …); non-finite values are ``None`` as in
      the JSON (a ``missed``/``spurious`` row's distances are +inf).
    - ``summary``, ``settings``, ``reference``, ``prediction``: those parts of the document.
    - ``to_dict()``: the whole document; ``to_json()``: its text as the CLI prints it.
    - ``engine_seconds``: time the engine spent evaluating (without conversion and report).
    - ``notes``: what the CLI notes on stderr after the report (each also issued as a
      :class:`MaskEvalWarning` when the report is made).
    - ``repr(report)``: the CLI's table.
    """

    def __init__(self, result):
        self._json = result.json_text
        self._parsed = None
        self._result = result  # the table is made on first use
        self.engine_seconds = result.engine_seconds
        self.notes = list(result.notes)
        for note in self.notes:
            warnings.warn("maskeval: " + note, MaskEvalWarning, stacklevel=3)

    @property
    def _document(self):
        # Parsed on first use: a call that only keeps the report pays no parsing.
        if self._parsed is None:
            self._parsed = json.loads(self._json)
        return self._parsed

    @property
    def labels(self):
        return self._document["labels"]

    @property
    def summary(self):
        return self._document["summary"]

    @property
    def settings(self):
        return self._document["settings"]

    @property
    def reference(self):
        return self._document["reference"]

    @property
    def prediction(self):
        return self._document["prediction"]

    def to_dict(self):
        return json.loads(self._json)

    def to_json(self):
        return self._json

    def __getitem__(self, label):
        """The row of one label id."""
        for row in self.labels:
            if row["label"] == label:
                return row
        raise KeyError(label)

    def to_pandas(self):
        """The label rows as a pandas DataFrame indexed by label; distances of ``missed`` and
        ``spurious`` rows are +inf (null in the JSON), other nulls NaN. Needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Report.to_pandas needs pandas (pip install pandas)") from None
        return _rows_frame(self.labels, pd).set_index("label")

    @property
    def _table(self):
        return self._result.text

    def __repr__(self):
        return self._table

    def _repr_html_(self):
        return "<pre>%s</pre>" % (self._table.replace("&", "&amp;").replace("<", "&lt;"),)


def _rows_frame(rows, pd):
    records = []
    for row in rows:
        record = {k: v for k, v in row.items() if k != "presets"}
        if record.get("status") in ("missed", "spurious"):
            for key in record:
                if key.endswith("_mm") and record[key] is None:
                    record[key] = float("inf")
        records.append(record)
    return pd.DataFrame.from_records(records)


def compare(reference, prediction, spacing, *, labels=None, preset="monai", tolerance=1.0, percentile=95.0,
            penalty_mm=None, binary=False, threads=None):
    """Compares a prediction with a reference, label by label, as ``maskeval compare``.

    ``reference`` and ``prediction``: label arrays of the same shape (1-D to 3-D), any integer
    dtype or integral floats, either byte order, C- or Fortran-ordered or strided views; they
    must not change while the call runs. Two Fortran-ordered arrays of one dtype among uint8,
    int8, uint16, int16 and int32 in native byte order (nibabel's layout) are evaluated in
    place, with no copy; other layouts are first copied into that layout by the engine (C
    order: ~20 ms for the 181 x 217 x 181 AAL pair). Axis n of the arrays has ``spacing[n]``
    mm: with nibabel, ``img.get_fdata()``/``img.dataobj`` and ``img.header.get_zooms()[:3]``
    (axis n is NIfTI voxel axis n). A 2-D array is one slice (third spacing 1 mm).

    ``labels``: ids (an int, a list, or ``"1,3,5-9"``); default every non-zero label in either
    array. ``preset``: monai, medpy, deepmind, meshmetrics or all. ``tolerance``: NSD tolerance in mm.
    ``percentile``: Q of the ``hdQ_mm`` key. ``penalty_mm``: mm (or "diagonal") counted for +inf
    in the summary. ``binary``: every non-zero voxel is label 1. ``threads``: worker threads
    (default: all cores).

    Returns a :class:`Report`; raises :class:`InputError` with the CLI's message on bad input.
    The GIL is released while the engine runs.
    """
    ref = _array_argument(reference, "reference")
    pred = _array_argument(prediction, "prediction")
    options = _native.Options(_option_values(labels, preset, tolerance, percentile, penalty_mm, binary, threads))
    return Report(_native.compare_arrays(ref, pred, _spacing(spacing), options))


def compare_files(reference_path, prediction_path, *, labels=None, preset="monai", tolerance=1.0, percentile=95.0,
                  penalty_mm=None, binary=False, threads=None, resample=False, ignore_geometry=False,
                  geometry_tolerance=None, label_names=None):
    """``maskeval compare REF PRED`` on two NIfTI files (.nii, .nii.gz, .hdr/.img): the same
    geometry check (:class:`GeometryError` unless ``resample=True`` or
    ``ignore_geometry=True``), the same options as :func:`compare`, and ``label_names``
    (a mricron .txt, ITK-SNAP or JSON file). ``prediction_path=None`` is an empty prediction."""
    values = _option_values(labels, preset, tolerance, percentile, penalty_mm, binary, threads, label_names)
    values["resample"] = _flag("resample", resample)
    values["ignore-geometry"] = _flag("ignore_geometry", ignore_geometry)
    if geometry_tolerance is not None:
        values["geometry-tolerance"] = repr(float(geometry_tolerance))
    return Report(_native.compare_files(reference_path, prediction_path, _native.Options(values)))


class BatchResult:
    """The outcome of :func:`batch`: ``rows`` (dicts keyed as ``batch --output rows.json``'s
    rows), ``summary`` (the ``batch --summary`` document), ``warnings``, ``rows_document()``
    (the whole rows JSON), ``to_pandas()``, and ``repr()``: batch's stdout table.

    ``notes``: what ``maskeval batch`` says on stderr after its table — files left unpaired,
    failed cases, cases without a prediction (which the CLI's exit status 65 fails unless
    ``--allow-missing``), and its run notes — each also issued as a :class:`MaskEvalWarning`.
    ``error_cases`` and ``cases_without_prediction`` list those cases."""

    def __init__(self, document, summary, table, notes=()):
        self._document = document
        self.metric_keys = document["metric_keys"]
        self.rows = document["rows"]
        self.warnings = document["warnings"]
        self.summary = summary
        self._table = table
        self.notes = list(self.warnings) + list(notes)

    @property
    def cases_without_prediction(self):
        return self.summary["cases_without_prediction"]

    @property
    def error_cases(self):
        return self.summary["error_cases"]

    def rows_document(self):
        return self._document

    def to_pandas(self):
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("BatchResult.to_pandas needs pandas (pip install pandas)") from None
        return _rows_frame(self.rows, pd)

    def __repr__(self):
        return self._table


def _evaluate_case(case_id, reference, prediction, option_values, problem=None):
    """One case's rows as JSON text; module-level so that process pools and Dask can ship it."""
    values = dict(option_values, **({"case-problem": problem} if problem else {}))
    return _native.batch_case(case_id, reference, prediction, _native.Options(values)).json_text


def _cases(pairs_or_folders):
    """[(case id, reference, prediction)] and warnings, as ``maskeval batch`` pairs them."""
    if isinstance(pairs_or_folders, (str, os.PathLike)):
        document = _native.batch_cases(pairs_or_folders, None).document()
        inputs = document["inputs"]
    elif (isinstance(pairs_or_folders, tuple) and len(pairs_or_folders) == 2
          and all(isinstance(p, (str, os.PathLike)) for p in pairs_or_folders)):
        document = _native.batch_cases(pairs_or_folders[0], pairs_or_folders[1]).document()
        inputs = document["inputs"]
    else:
        inputs = {}
        items = pairs_or_folders.items() if isinstance(pairs_or_folders, dict) else pairs_or_folders
        cases = []
        seen = set()
        for number, item in enumerate(items):
            if isinstance(pairs_or_folders, dict):
                case_id, (reference, prediction) = item
            elif len(item) == 3:
                case_id, reference, prediction = item
            elif len(item) == 2:
                reference, prediction = item
                case_id = "%04d" % number
            else:
                raise InputError("batch: a pair is (reference, prediction) or (case, reference, prediction)", 64)
            case_id = str(case_id)
            if case_id in seen:
                raise InputError("batch: case id '%s' is repeated" % case_id, 64)
            seen.add(case_id)
            cases.append({"case": case_id, "reference": None if reference is None else os.fspath(reference),
                          "prediction": None if prediction is None else os.fspath(prediction)})
        document = {"cases": sorted(cases, key=lambda c: c["case"]), "warnings": []}
    # A case the pairing found broken (two files for one id) carries its problem, so the
    # engine reports it as an error row exactly as the CLI does.
    return ([(c["case"], c["reference"], c["prediction"], c.get("problem")) for c in document["cases"]],
            document["warnings"], inputs)


def batch(pairs_or_folders, *, labels=None, preset="monai", tolerance=1.0, percentile=95.0, penalty_mm=None,
          binary=False, threads=None, resample=False, ignore_geometry=False, label_names=None, executor=None):
    """``maskeval batch``: every case of two folders, a ``--pairs`` CSV, or a list of
    ``(reference, prediction)`` / ``(case, reference, prediction)`` file tuples (or a dict
    case -> (reference, prediction)). Returns a :class:`BatchResult` with the CLI's rows and
    summary; a case that fails is an ``error`` row, as in the CLI.

    ``executor``: anything with ``concurrent.futures.Executor``'s ``submit`` whose futures
    have ``result()`` — a ``ThreadPoolExecutor`` (the GIL is released), a
    ``ProcessPoolExecutor``, or a Dask ``distributed.Client`` for a cluster::

        from dask.distributed import Client
        result = maskeval.batch(("labels/", "predictions/"), executor=Client("scheduler:8786"), threads=4)

    Without one, cases run one after the other, each on ``threads`` threads. As in the CLI's
    batch, ``penalty_mm="diagonal"`` counts +inf as each case's own image diagonal.
    """
    values = _option_values(labels, preset, tolerance, percentile, penalty_mm, binary, threads, label_names)
    values["resample"] = _flag("resample", resample)
    values["ignore-geometry"] = _flag("ignore_geometry", ignore_geometry)
    _native.Options(values)  # checks the option names before any case runs
    cases, pairing_warnings, inputs = _cases(pairs_or_folders)
    values.update(inputs)
    if executor is None:
        texts = [_evaluate_case(c, r, p, values, problem) for c, r, p, problem in cases]
    else:
        futures = [executor.submit(_evaluate_case, c, r, p, values, problem) for c, r, p, problem in cases]
        texts = [future.result() for future in futures]
    rows, facts = [], []
    for text in texts:
        document = json.loads(text)
        rows.extend(document["rows"])
        facts.extend(document.get("case_facts", []))
    # The cases' facts (ignored voxels, scaled labels, spacing) give the notes the rows cannot.
    summary = _native.batch_summary(json.dumps({"rows": rows, "warnings": pairing_warnings,
                                                "cases": [c for c, _, _, _ in cases], "case_facts": facts}),
                                    _native.Options(values))
    document = summary.document()
    result = BatchResult(document["rows_document"], document["summary"], summary.text, summary.notes)
    for note in result.notes:
        warnings.warn("maskeval: " + note, MaskEvalWarning, stacklevel=2)
    return result
