#!/usr/bin/env python3
"""Runs MONAI's surface metrics on one-hot batches made from the sample volumes and stores
their outputs, which python/tests/test_monai.py compares with maskeval.monai.

Usage (outside CI; needs numpy, torch and monai, e.g. in a venv outside the repo):
    python scripts/cross_check_monai.py [--out python/tests/data/monai_expected.json]

The inputs are rebuilt by `cases()` from SampleVolumes/ with numpy alone (the test calls
the same function), so the stored JSON holds only MONAI's outputs. Non-finite values are
stored as the strings "nan" and "inf".
"""
import argparse
import json
import math
import os
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import nifti_lite  # noqa: E402

DEFAULT_OUT = os.path.join(ROOT, "python", "tests", "data", "monai_expected.json")


def _sample(name):
    return nifti_lite.read(os.path.join(ROOT, "SampleVolumes", name))[0]


def _one_hot(label_maps, classes):
    """(B, 1 + len(classes), *spatial) uint8: channel 0 background (no listed class), then one
    channel per class id."""
    out = []
    for labels in label_maps:
        channels = [np.isin(labels, classes, invert=True)] + [labels == c for c in classes]
        out.append(np.stack(channels))
    return np.stack(out).astype(np.uint8)


def cases():
    """name -> dict(y_pred, y, spacing, calls): the MONAI calls made on each input."""
    jhu_ref, jhu_pred = _sample("jhu_wm_2mm_reference.nii.gz"), _sample("jhu_wm_2mm_prediction.nii.gz")
    ab_ref, ab_pred = _sample("abdomen_ct_reference.nii.gz"), _sample("abdomen_ct_prediction.nii.gz")
    out = {}

    # Two crops of the JHU pair, anisotropic per-item spacing. Classes: six labels present,
    # one id present nowhere (NaN); item 0 misses one class, item 1's reference lacks another
    # (spurious), so every MONAI empty-mask case occurs.
    w0 = (slice(25, 65), slice(30, 80), slice(30, 60))
    w1 = (slice(40, 80), slice(45, 95), slice(25, 55))
    refs = [jhu_ref[w0].copy(), jhu_ref[w1].copy()]
    preds = [jhu_pred[w0].copy(), jhu_pred[w1].copy()]
    present = sorted(set(np.unique(refs[0])) & set(np.unique(refs[1])) & set(np.unique(preds[0]))
                     & set(np.unique(preds[1])) - {0})
    classes = [int(c) for c in present[:6]] + [250]
    preds[0][preds[0] == classes[1]] = 0
    refs[1][refs[1] == classes[2]] = 0
    three_d = [
        ("hausdorff", {}), ("hausdorff", {"percentile": 95}), ("hausdorff", {"percentile": 99.5}),
        ("mean_surface_distance", {"symmetric": False}), ("mean_surface_distance", {"symmetric": True}),
        ("surface_dice", {"tolerances": [1.0, 2.0, 2.0, 3.5, 1.0, 2.0, 1.0]}),
    ]
    out["jhu-crops-3d"] = dict(
        y_pred=_one_hot(preds, classes), y=_one_hot(refs, classes), spacing=[[2.0, 1.5, 2.5], [1.0, 1.0, 3.0]],
        calls=three_d)

    # One axial slice of the abdomen pair (2-D), all 12 organs (some absent from the slice),
    # also with the background channel.
    organs = list(range(1, 13))
    two_d = [
        ("hausdorff", {}), ("hausdorff", {"percentile": 95}), ("hausdorff", {"percentile": 95, "include_background": True}),
        ("mean_surface_distance", {"symmetric": True}),
        ("mean_surface_distance", {"symmetric": False, "include_background": True}),
        ("surface_dice", {"tolerances": [1.5] * 12}),
    ]
    out["abdomen-slice-2d"] = dict(
        y_pred=_one_hot([ab_pred[:, :, 40]], organs), y=_one_hot([ab_ref[:, :, 40]], organs), spacing=[0.8, 0.8],
        calls=two_d)

    # Overlapping channels (BraTS-like nested regions) on the JHU crop: one label, three
    # labels, every label.
    region_ids = [classes[0], classes[:3], present]

    def regions(labels):
        return np.stack([labels == 0] + [np.isin(labels, ids) for ids in region_ids])[None].astype(np.uint8)

    out["jhu-overlapping-3d"] = dict(
        y_pred=regions(jhu_pred[w0]), y=regions(jhu_ref[w0]), spacing=2.0,
        calls=[("hausdorff", {"percentile": 95}), ("mean_surface_distance", {"symmetric": True}),
               ("surface_dice", {"tolerances": [2.0, 2.0, 2.0]})])

    # The abdomen pair at half resolution in-plane: 12 organs, 128 × 128 × 100.
    out["abdomen-half-3d"] = dict(
        y_pred=_one_hot([ab_pred[::2, ::2, :]], organs), y=_one_hot([ab_ref[::2, ::2, :]], organs),
        spacing=[1.6, 1.6, 2.5],
        calls=[("hausdorff", {}), ("hausdorff", {"percentile": 95}), ("mean_surface_distance", {"symmetric": True}),
               ("surface_dice", {"tolerances": [2.0] * 12})])
    return out


def encode(values):
    return [[v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")) for v in row]
            for row in np.asarray(values, dtype=np.float64).tolist()]


def decode(rows):
    return np.array([[float(v) for v in row] for row in rows], dtype=np.float64)


def run_monai(case, function, kwargs):
    import torch
    from monai.metrics import compute_average_surface_distance, compute_hausdorff_distance, compute_surface_dice

    y_pred = torch.from_numpy(case["y_pred"].astype(np.float32))
    y = torch.from_numpy(case["y"].astype(np.float32))
    kwargs = dict(kwargs)
    include_background = kwargs.pop("include_background", False)
    common = dict(include_background=include_background, spacing=case["spacing"])
    if function == "hausdorff":
        return compute_hausdorff_distance(y_pred, y, percentile=kwargs.get("percentile"), **common)
    if function == "mean_surface_distance":
        return compute_average_surface_distance(y_pred, y, symmetric=kwargs["symmetric"], **common)
    return compute_surface_dice(y_pred, y, class_thresholds=kwargs["tolerances"], **common)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    import monai
    import torch

    torch.set_num_threads(2)
    warnings.filterwarnings("ignore")
    document = {"made_by": "scripts/cross_check_monai.py", "monai_version": monai.__version__,
                "torch_version": torch.__version__, "cases": {}}
    for name, case in cases().items():
        calls = []
        for function, kwargs in case["calls"]:
            start = time.perf_counter()
            result = run_monai(case, function, kwargs).numpy()
            print("%s %s %s: %.1f s" % (name, function, kwargs, time.perf_counter() - start), file=sys.stderr)
            calls.append({"function": function, "kwargs": kwargs, "result": encode(result)})
        document["cases"][name] = {"spacing": case["spacing"], "calls": calls}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
