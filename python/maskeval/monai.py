"""MONAI-shaped surface metrics for validation loops: swap

    from monai.metrics import compute_hausdorff_distance
    hd = compute_hausdorff_distance(y_pred, y, percentile=95, spacing=spacing)

for

    import maskeval.monai
    hd = maskeval.monai.hausdorff(y_pred.numpy(), y.numpy(), spacing, percentile=95)

Inputs are one-hot, binarized (B, C, *spatial) arrays (2-D or 3-D spatial; torch tensors are
taken through ``.detach().cpu().numpy()``); axis n of the spatial part has ``spacing[n]`` mm.
A value other than 0 and 1 (a probability, NaN, a label 2) raises InputError: MONAI compares
non-boolean inputs with 1, so it would count such a voxel as background, and reading it as
foreground would give other numbers without a word; threshold first (``AsDiscrete``).
``spacing`` is as MONAI takes it: None (1 mm), one number, one number per spatial axis, or
one such per batch item. The background channel 0 is left out unless
``include_background=True``. The results are (B, C') float32 arrays with MONAI 1.x's values
(``compute_hausdorff_distance``, ``compute_average_surface_distance``,
``compute_surface_dice``): NaN where the class is empty in both y_pred and y; where it is
empty in one of them NSD 0 and +inf distances, but NaN for a percentile Hausdorff distance
(MONAI's torch.quantile interpolates between infinities). Each batch item is one engine call when its
channels do not overlap (a true one-hot), else one call per channel. Checked against MONAI's
own output: scripts/cross_check_monai.py, python/tests/test_monai.py.
"""
import numbers
import warnings

import numpy as np

from ._api import compare as _compare
from .errors import InputError, MaskEvalWarning

__all__ = ["hausdorff", "mean_surface_distance", "surface_dice"]


def _numpy(array):
    if hasattr(array, "detach"):  # a torch tensor
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def _spacings(spacing, batch_size, spatial_dims):
    """MONAI's prepare_spacing: one spacing tuple per batch item."""
    def one(value):
        if value is None:
            return (1.0,) * spatial_dims
        if isinstance(value, numbers.Number):
            return (float(value),) * spatial_dims
        values = [float(v) for v in np.asarray(value, dtype=np.float64).ravel()]
        if len(values) == 1:
            return (values[0],) * spatial_dims
        if len(values) != spatial_dims:
            raise InputError("spacing has %d values for %d-D images; give one per axis" % (len(values), spatial_dims),
                             65)
        return tuple(values)

    if spacing is None or isinstance(spacing, numbers.Number):
        return [one(spacing)] * batch_size
    items = list(spacing)
    if items and all(not isinstance(v, numbers.Number) for v in items):
        if len(items) != batch_size:
            raise InputError("spacing has %d items for a batch of %d" % (len(items), batch_size), 65)
        return [one(v) for v in items]
    return [one(items)] * batch_size


def _require_binary(array, name):
    """InputError naming the first voxel of ``array`` that is neither 0 nor 1 (bool arrays pass)."""
    if array.dtype == np.bool_:
        return
    if array.dtype.kind not in "iuf":
        raise InputError("%s: dtype %s is not a binarized (0/1) array" % (name, array.dtype), 65)
    bad = (array != 0) & (array != 1)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError("%s should be binarized (0 or 1): %s holds %s; threshold it first (MONAI's "
                         "AsDiscrete(threshold=0.5), or argmax and one-hot)" % (name, index, array[index]), 65)


def _rows(y_pred, y, spacing, include_background, percentile, tolerances, threads):
    """{(b, c): CLI row} for every batch item b and reported channel c (0-based in the
    output), with per-channel NSD tolerances."""
    y_pred, y = _numpy(y_pred), _numpy(y)
    if y_pred.shape != y.shape:
        raise InputError("y_pred and y should have same shapes, got %s and %s" % (y_pred.shape, y.shape), 65)
    if y.ndim not in (4, 5):
        raise InputError("y_pred and y should be one-hot (B, C, H, W[, D]) arrays, got shape %s" % (y.shape,), 65)
    _require_binary(y_pred, "y_pred")
    _require_binary(y, "y")
    batch_size, channels = y.shape[:2]
    first = 0 if include_background else 1
    reported = list(range(first, channels))
    if tolerances is None:
        tolerances = [1.0] * len(reported)
    spacings = _spacings(spacing, batch_size, y.ndim - 2)
    options = dict(percentile=percentile, threads=threads)

    def compare(*args, **kwargs):
        # MONAI reports a channel empty in both as nan, which these rows become: the API's
        # note that the label is absent from both would only repeat that, once per item.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MaskEvalWarning)
            return _compare(*args, **kwargs)

    rows = {}
    for b in range(batch_size):
        pred_in = y_pred[b, first:] != 0
        ref_in = y[b, first:] != 0
        exclusive = pred_in.sum(0, dtype=np.int32).max(initial=0) <= 1 and ref_in.sum(0, dtype=np.int32).max(
            initial=0) <= 1
        # Channels that share a tolerance share an engine call.
        by_tolerance = {}
        for offset, tolerance in enumerate(tolerances):
            by_tolerance.setdefault(float(tolerance), []).append(offset)
        for tolerance, offsets in by_tolerance.items():
            if exclusive:
                # One label map, label = offset + 1; channels empty in both come back `absent`.
                def label_map(masks):
                    out = np.zeros(masks.shape[1:], dtype=np.int32)
                    for offset in offsets:
                        out[masks[offset]] = offset + 1
                    return out

                report = compare(label_map(ref_in), label_map(pred_in), spacings[b],
                                 labels=[o + 1 for o in offsets], tolerance=tolerance, **options)
                for offset, row in zip(offsets, report.labels):
                    rows[b, offset] = row
            else:
                for offset in offsets:
                    report = compare(ref_in[offset], pred_in[offset], spacings[b], labels=[1],
                                     tolerance=tolerance, **options)
                    rows[b, offset] = report.labels[0]
    return rows, (batch_size, len(reported))


def _value(row, key):
    """MONAI's value for a row's key: NaN when both masks are empty; when one is, NSD 0 and
    +inf distances, except a percentile Hausdorff distance: MONAI's torch.quantile
    interpolates between infinite distances (inf - inf) and gives NaN."""
    status = row["status"]
    if status == "absent":
        return np.nan
    if status in ("missed", "spurious"):
        if key == "nsd":
            return 0.0
        return np.nan if key.startswith("hd") else np.inf
    return row[key]


def _table(rows, shape, key):
    out = np.empty(shape, dtype=np.float32)
    for (b, c), row in rows.items():
        out[b, c] = _value(row, key(row) if callable(key) else key)
    return out


def hausdorff(y_pred, y, spacing=None, percentile=None, *, include_background=False, threads=None):
    """MONAI ``compute_hausdorff_distance(y_pred, y, include_background, percentile=percentile,
    spacing=spacing)`` (symmetric): the largest of the two directed maxima, or of the two
    directed percentiles (linear interpolation, as torch.quantile). Returns (B, C) float32."""
    if percentile is not None and not 0 <= percentile <= 100:
        raise InputError("percentile should be a value between 0 and 100, get %s" % (percentile,), 65)
    use_percentile = bool(percentile)  # MONAI: 0 or None means the maximum
    rows, shape = _rows(y_pred, y, spacing, include_background, percentile if use_percentile else 95.0, None,
                        threads)

    def key(row):
        if not use_percentile:
            return "hausdorff_mm"
        return next(k for k in row if k.startswith("hd") and k.endswith("_mm"))

    return _table(rows, shape, key)


def mean_surface_distance(y_pred, y, spacing=None, symmetric=False, *, include_background=False, threads=None):
    """MONAI ``compute_average_surface_distance(y_pred, y, include_background,
    symmetric=symmetric, spacing=spacing)``: the mean distance from y_pred's surface to y's, or
    with ``symmetric=True`` the mean over both surfaces' distances (ASSD). Returns (B, C)
    float32."""
    rows, shape = _rows(y_pred, y, spacing, include_background, 95.0, None, threads)
    return _table(rows, shape, "assd_mm" if symmetric else "asd_prediction_to_reference_mm")


def surface_dice(y_pred, y, tolerances, spacing=None, *, include_background=False, threads=None):
    """MONAI ``compute_surface_dice(y_pred, y, class_thresholds=tolerances, include_background,
    spacing=spacing)``: the fraction of both surfaces within the class's tolerance (mm when a
    spacing is given) of the other. ``tolerances``: one per reported class. Returns (B, C)
    float32."""
    y_shape = _numpy(y).shape
    reported = y_shape[1] - (0 if include_background else 1) if len(y_shape) > 1 else 0
    tolerances = [float(t) for t in tolerances]
    if len(tolerances) != reported:
        raise InputError("number of classes (%d) does not match number of class thresholds (%d)"
                         % (reported, len(tolerances)), 65)
    if not all(np.isfinite(tolerances)) or min(tolerances, default=0) < 0:
        raise InputError("class thresholds need to be finite and >= 0", 65)
    rows, shape = _rows(y_pred, y, spacing, include_background, 95.0, tolerances, threads)
    return _table(rows, shape, "nsd")
