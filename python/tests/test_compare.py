"""maskeval.compare on arrays and compare_files equal the CLI's JSON; every layout of the
same labels gives the same report; bad inputs raise InputError with the CLI's message."""
import concurrent.futures
import json

import numpy as np
import pytest

import maskeval
from conftest import PAIRS, cli_error, cli_json, run_cli, sample_path, write_nifti


def same_numbers(report, expected):
    """Labels and summary equal key by key (the engine ran on the same labels and spacing)."""
    assert len(report.labels) == len(expected["labels"])
    for row, want in zip(report.labels, expected["labels"]):
        assert row.keys() == want.keys()
        for key in want:
            assert row[key] == want[key], (row["label"], key)
    assert report.summary == expected["summary"]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_compare_on_samples_equals_cli(samples, name):
    reference, prediction, expected = samples[name]
    spacing = expected["reference"]["spacing_mm"]
    report = maskeval.compare(reference, prediction, spacing)
    same_numbers(report, expected)
    # Arrays have no file names: every setting but the recorded input paths agrees.
    assert report.settings == {k: v for k, v in expected["settings"].items() if k != "inputs"}
    assert report.reference["dims"] == expected["reference"]["dims"]
    assert report.reference["spacing_mm"] == spacing
    # nibabel's way of getting the spacing (column norms of the affine) gives the same numbers.
    assert np.allclose(spacing, [np.linalg.norm(c) for c in np.asarray(
        __import__("nifti_lite").read(sample_path(PAIRS[name][0]))[1])[:3, :3].T])


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_compare_files_is_the_cli_document_and_table(name):
    ref, pred = (sample_path(p) for p in PAIRS[name])
    report = maskeval.compare_files(ref, pred, preset="all", percentile=90, tolerance=2)
    options = ("--compat", "all", "--percentile", "90", "--tolerance", "2")
    assert report.to_dict() == cli_json("compare", ref, pred, *options)
    assert repr(report) == run_cli("compare", ref, pred, *options)[1]


def test_options_reach_the_engine_as_the_cli_flags(jhu_crop, tmp_path):
    reference, prediction = jhu_crop
    ref = write_nifti(tmp_path / "r.nii", reference, (2, 2, 2))
    pred = write_nifti(tmp_path / "p.nii", prediction, (2, 2, 2))
    expected = cli_json("compare", ref, pred, "--labels", "3,5-7,99", "--compat", "medpy", "--percentile", "99.5",
                        "--tolerance", "3", "--penalty-mm", "diagonal")
    with pytest.warns(maskeval.MaskEvalWarning, match="labels 7, 99"):
        report = maskeval.compare(reference, prediction, (2, 2, 2), labels=[3, 5, 6, 7, 99], preset="medpy",
                                  percentile=99.5, tolerance=3, penalty_mm="diagonal", threads=1)
    same_numbers(report, expected)
    # Arrays have no file names: every setting but the recorded input paths agrees.
    assert report.settings == {k: v for k, v in expected["settings"].items() if k != "inputs"}
    binary = maskeval.compare(reference, prediction, (2, 2, 2), binary=True, labels="1")
    same_numbers(binary, cli_json("compare", ref, pred, "--binary", "--labels", "1"))


def layouts(reference):
    """The same labels in every dtype, byte order and memory layout the API accepts."""
    out = {}
    for dtype in ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]:
        for order in "<>":
            out["%s%s" % (order, dtype)] = reference.astype(np.dtype(order + dtype))
    out["fortran"] = np.asfortranarray(reference)
    big = np.zeros((reference.shape[0] * 2, reference.shape[1] + 3, reference.shape[2] * 3), dtype=np.int32)
    big[::2, 3:, ::3] = reference
    out["strided view"] = big[::2, 3:, ::3]
    flipped = np.ascontiguousarray(reference[::-1, :, ::-1])
    out["negative strides"] = flipped[::-1, :, ::-1]
    out["transposed view"] = np.ascontiguousarray(reference.transpose(2, 0, 1)).transpose(1, 2, 0)
    out["bool"] = reference > 0
    return out


def test_meshmetrics_preset_equals_the_cli_with_its_biou(jhu_crop, tmp_path):
    reference, prediction = jhu_crop
    ref = write_nifti(tmp_path / "r.nii", reference, (2, 2, 2))
    pred = write_nifti(tmp_path / "p.nii", prediction, (2, 2, 2))
    expected = cli_json("compare", ref, pred, "--compat", "meshmetrics", "--tolerance", "1.5")
    report = maskeval.compare(reference, prediction, (2, 2, 2), preset="meshmetrics", tolerance=1.5, threads=1)
    same_numbers(report, expected)
    assert all("biou" in row for row in report.labels)
    assert any(row["biou"] is not None and 0 < row["biou"] < 1 for row in report.labels)


def test_every_dtype_byte_order_and_layout_gives_the_same_report(jhu_crop):
    reference, prediction = jhu_crop
    baseline = maskeval.compare(reference, prediction, (2, 2, 2)).to_dict()
    binary = maskeval.compare(reference > 0, prediction > 0, (2, 2, 2)).to_dict()
    for name, variant in layouts(reference).items():
        other = layouts(prediction)[name]
        assert not variant.flags.owndata or name.startswith(("<", ">", "fortran", "bool"))
        got = maskeval.compare(variant, other, (2, 2, 2)).to_dict()
        assert got == (binary if name == "bool" else baseline), name


def test_arrays_read_in_place_and_mixed_dtypes_give_the_same_report(jhu_crop):
    # Fortran-ordered arrays of one label dtype in native order are read in place by the
    # engine (no copy); two dtypes, or a C-ordered array, take the copying path.
    reference, prediction = jhu_crop
    baseline = maskeval.compare(reference.astype(np.int32), prediction.astype(np.int32), (2, 2, 2)).to_dict()
    for dtype in ["i1", "u1", "i2", "u2", "i4"]:
        ref = np.asfortranarray(reference.astype(dtype))
        pred = np.asfortranarray(prediction.astype(dtype))
        assert maskeval.compare(ref, pred, (2, 2, 2)).to_dict() == baseline, dtype
    mixed = maskeval.compare(np.asfortranarray(reference.astype(np.uint8)), prediction.astype(">i2"), (2, 2, 2))
    assert mixed.to_dict() == baseline


def test_negative_labels_in_narrow_signed_arrays(jhu_crop):
    reference, prediction = (np.where(a > 0, -a.astype(np.int32), 0) for a in jhu_crop)
    baseline = maskeval.compare(reference, prediction, (2, 2, 2)).to_dict()
    assert any(row["label"] < 0 for row in baseline["labels"])
    for dtype in ["i1", "i2"]:
        got = maskeval.compare(np.asfortranarray(reference.astype(dtype)), np.asfortranarray(prediction.astype(dtype)),
                               (2, 2, 2))
        assert got.to_dict() == baseline, dtype


def test_two_dimensional_arrays_equal_a_one_slice_volume(jhu_crop, tmp_path):
    reference, prediction = (a[:, :, 12] for a in jhu_crop)
    ref = write_nifti(tmp_path / "r.nii", reference[:, :, None], (2, 1.5, 1))
    pred = write_nifti(tmp_path / "p.nii", prediction[:, :, None], (2, 1.5, 1))
    expected = cli_json("compare", ref, pred)
    report = maskeval.compare(reference, prediction, (2, 1.5))
    same_numbers(report, expected)
    assert report.reference["dims"] == expected["reference"]["dims"]


def test_non_integral_float_and_nan_give_the_clis_message(jhu_crop, tmp_path):
    reference, prediction = (a.astype(np.float32) for a in jhu_crop)
    for bad in (0.5, np.nan):
        broken = reference.copy()
        broken[3, 4, 5] = bad
        path = write_nifti(tmp_path / "bad.nii", broken, (2, 2, 2))
        status, message = cli_error("compare", path, write_nifti(tmp_path / "p.nii", prediction, (2, 2, 2)))
        with pytest.raises(maskeval.InputError) as caught:
            maskeval.compare(broken, prediction, (2, 2, 2))
        assert str(caught.value) == message.replace(path, "<reference array>")
        assert caught.value.status == status == 65


def test_shape_mismatch_gives_the_clis_dims_message(jhu_crop, tmp_path):
    reference, prediction = jhu_crop
    ref = write_nifti(tmp_path / "r.nii", reference, (2, 2, 2))
    pred = write_nifti(tmp_path / "p.nii", prediction[:, :-1], (2, 2, 2))
    _, message = cli_error("compare", ref, pred)
    with pytest.raises(maskeval.InputError) as caught:
        maskeval.compare(reference, prediction[:, :-1], (2, 2, 2))
    # The CLI's message less its hint about --resample, which arrays do not have.
    assert message.replace(pred, "<prediction array>").startswith(str(caught.value) + " (use --resample")


def test_negative_spacing_gives_the_clis_spacing_message(jhu_crop):
    reference, prediction = jhu_crop
    with pytest.raises(maskeval.InputError) as caught:
        maskeval.compare(reference, prediction, (2, -1, 2))
    # As the CLI words it for a header (pixdim[2] there, spacing[1] here).
    assert str(caught.value) == ("<reference array>: voxel spacing along j is -1.0 (spacing[1]); "
                                 "it must be positive (1e-6 to 1e6 mm)")


@pytest.mark.parametrize("case, message", [
    ("wrong spacing length", "spacing has 2 values for 3-D arrays; give one per axis"),
    ("4-D", "<reference array>: 4-D array: only 1-D, 2-D and 3-D label arrays are supported"),
    ("complex", "<reference array>: dtype complex128 is not a label type (integers or integral floats)"),
    ("tolerance", "--tolerance must be a non-negative number of mm"),
    ("percentile", "--percentile must be in (0, 100]"),
    ("preset", "--compat takes monai, medpy, deepmind, meshmetrics or all"),
    ("labels", "--labels: 0 is background and has no surface metrics"),
    ("threads", "--threads must be at least 1"),
])
def test_bad_inputs_raise_input_error(jhu_crop, case, message):
    reference, prediction = jhu_crop
    calls = {
        "wrong spacing length": lambda: maskeval.compare(reference, prediction, (2, 2)),
        "4-D": lambda: maskeval.compare(reference[..., None], prediction[..., None], (2, 2, 2, 1)),
        "complex": lambda: maskeval.compare(reference.astype(complex), prediction, (2, 2, 2)),
        "tolerance": lambda: maskeval.compare(reference, prediction, (2, 2, 2), tolerance=-1),
        "percentile": lambda: maskeval.compare(reference, prediction, (2, 2, 2), percentile=0),
        "preset": lambda: maskeval.compare(reference, prediction, (2, 2, 2), preset="scipy"),
        "labels": lambda: maskeval.compare(reference, prediction, (2, 2, 2), labels=[0, 1]),
        "threads": lambda: maskeval.compare(reference, prediction, (2, 2, 2), threads=0),
    }
    with pytest.raises(maskeval.InputError) as caught:
        calls[case]()
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == message


def test_file_errors_are_the_clis(tmp_path, jhu_crop):
    ref, pred = (sample_path(p) for p in PAIRS["jhu"])
    missing = str(tmp_path / "none.nii.gz")
    status, message = cli_error("compare", ref, missing)
    with pytest.raises(maskeval.MissingFileError) as caught:
        maskeval.compare_files(ref, missing)
    assert (str(caught.value), caught.value.status) == (message, status)
    shifted = write_nifti(tmp_path / "s.nii", jhu_crop[1], (2, 2, 2))
    other = write_nifti(tmp_path / "o.nii", jhu_crop[0], (2, 2, 2.5))
    status, message = cli_error("compare", other, shifted)
    with pytest.raises(maskeval.GeometryError) as caught:
        maskeval.compare_files(other, shifted)
    assert (str(caught.value), caught.value.status) == (message, status)
    resampled = maskeval.compare_files(other, shifted, resample=True)
    assert resampled.to_dict() == cli_json("compare", other, shifted, "--resample")


def test_eight_threads_at_once_equal_serial_calls(samples, jhu_crop):
    reference, prediction, expected = samples["jhu"]
    spacing = expected["reference"]["spacing_mm"]
    inputs = [(reference, prediction, spacing, 2), (jhu_crop[0], jhu_crop[1], (2, 2, 2), 1)] * 8
    serial = [maskeval.compare(r, p, s, threads=t).to_dict() for r, p, s, t in inputs]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(lambda args: maskeval.compare(*args[:3], threads=args[3]).to_dict(), inputs))
    assert parallel == serial


def test_report_accessors(samples):
    reference, prediction, expected = samples["jhu"]
    report = maskeval.compare(reference, prediction, expected["reference"]["spacing_mm"])
    assert json.loads(report.to_json()) == report.to_dict()
    assert report[report.labels[0]["label"]] == report.labels[0]
    assert report.engine_seconds > 0
    assert repr(report).startswith("Reference   <reference array>\n")


def test_to_pandas(samples):
    pd = pytest.importorskip("pandas")
    reference, prediction, expected = samples["abdomen"]
    frame = maskeval.compare(reference, prediction, expected["reference"]["spacing_mm"]).to_pandas()
    assert list(frame.index) == [row["label"] for row in expected["labels"]]
    for row in expected["labels"]:
        want = float("inf") if row["status"] in ("missed", "spurious") else row["hd95_mm"]
        assert frame.loc[row["label"], "hd95_mm"] == want
    assert isinstance(frame, pd.DataFrame)


@pytest.mark.parametrize("order", ["C", "F"])
def test_the_first_bad_voxel_in_voxel_order_is_named_whatever_the_layout_and_threads(order):
    """Voxel (5, 0, 0) comes first in NIfTI order (i fastest) though (0, 3, 1) comes first in a
    C-ordered array's memory; a 64³ array is split between worker threads."""
    labels = np.zeros((64, 64, 64), dtype=np.float32, order=order)
    labels[0, 3, 1] = np.nan
    labels[5, 0, 0] = 2.5
    for threads in (1, 2, 4):
        with pytest.raises(maskeval.InputError) as caught:
            maskeval.compare(labels, np.zeros((64, 64, 64), np.uint8), (1, 1, 1), threads=threads)
        assert str(caught.value) == ("<reference array>: voxel (5, 0, 0) holds 2.5, which is not an integer label "
                                     "in the Int32 range")


def test_the_clis_notes_are_warnings_and_kept_on_the_report(jhu_crop, tmp_path):
    """A label asked for that is in neither volume is a note on the CLI's stderr; the API says
    it too (a MaskEvalWarning per note, and report.notes), for arrays and for files."""
    reference, prediction = jhu_crop
    ref = write_nifti(tmp_path / "r.nii", reference, (2, 2, 2))
    pred = write_nifti(tmp_path / "p.nii", prediction, (2, 2, 2))
    _, _, stderr = run_cli("compare", ref, pred, "--labels", "3,99")
    cli_notes = [line[len("maskeval: "):] for line in stderr.splitlines() if line.startswith("maskeval: note")]
    assert cli_notes and "99" in cli_notes[0]
    with pytest.warns(maskeval.MaskEvalWarning) as caught:
        report = maskeval.compare(reference, prediction, (2, 2, 2), labels=[3, 99])
    assert report.notes == cli_notes
    assert [str(w.message) for w in caught] == ["maskeval: " + note for note in cli_notes]
    with pytest.warns(maskeval.MaskEvalWarning):
        from_files = maskeval.compare_files(ref, pred, labels=[3, 99])
    assert from_files.notes == cli_notes
    # Nothing to say: no warning, no notes.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", maskeval.MaskEvalWarning)
        assert maskeval.compare(reference, prediction, (2, 2, 2), labels=[3]).notes == []
