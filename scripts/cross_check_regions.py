#!/usr/bin/env python3
"""nnU-Net's values for regions and the ignore label on a small generated case (numpy only).

    python3 scripts/cross_check_regions.py Tests/Fixtures/regions/nnunet_regions.json

The case: a 12 x 10 x 8 volume (1 mm, i fastest) holding labels 1, 2, 3 as overlapping blobs
and an ignore label 4, in the reference and in a prediction made from it by shifting, eroding
and relabelling parts (numpy RandomState(16), so the file is the same on every run). Every
ignore-labelled reference voxel has a predicted label (1, 2 or 3) in the prediction, so
ignoring changes FP in a known way.

It stores the two arrays (flattened i fastest, as NIfTI stores voxels), the regions and the
ignore label, and per structure TP, FP, FN, TN, Dice and IoU as nnU-Net v2 computes them:
`region_or_label_to_mask` and `compute_tp_fp_fn_tn` below are those of
nnunetv2/evaluation/evaluate_predictions.py (github.com/MIC-DKFZ/nnUNet, Apache-2.0), and
`compute_metrics` there masks with `ignore_mask = seg_ref == ignore_label` and reports
Dice = 2TP/(2TP+FP+FN), IoU = TP/(TP+FP+FN) (NaN when TP+FP+FN = 0; no structure here is
empty). Three runs: the regions with the ignore label, the labels 1, 2, 3 with it
(`labels_to_list_of_regions`), and the regions without it. The Swift test
(Tests/MaskEvalTests/RegionsPipelineTests.swift) evaluates the same arrays through
MaskEval's pipeline and compares every value.
"""
import json
import sys

import numpy as np


def region_or_label_to_mask(segmentation, region_or_label):
    """nnU-Net v2 `evaluate_predictions.py`, unchanged."""
    if np.isscalar(region_or_label):
        return segmentation == region_or_label
    else:
        mask = np.zeros_like(segmentation, dtype=bool)
        for r in region_or_label:
            mask[segmentation == r] = True
    return mask


def compute_tp_fp_fn_tn(mask_ref, mask_pred, ignore_mask=None):
    """nnU-Net v2 `evaluate_predictions.py`, unchanged."""
    if ignore_mask is None:
        use_mask = np.ones_like(mask_ref, dtype=bool)
    else:
        use_mask = ~ignore_mask
    tp = np.sum((mask_ref & mask_pred) & use_mask)
    fp = np.sum(((~mask_ref) & mask_pred) & use_mask)
    fn = np.sum((mask_ref & (~mask_pred)) & use_mask)
    tn = np.sum(((~mask_ref) & (~mask_pred)) & use_mask)
    return tp, fp, fn, tn


def compute_metrics(seg_ref, seg_pred, labels_or_regions, ignore_label=None):
    """nnU-Net v2 `compute_metrics` on arrays instead of files, keyed by structure name."""
    ignore_mask = seg_ref == ignore_label if ignore_label is not None else None
    out = {}
    for name, r in labels_or_regions:
        tp, fp, fn, tn = compute_tp_fp_fn_tn(region_or_label_to_mask(seg_ref, r),
                                             region_or_label_to_mask(seg_pred, r), ignore_mask)
        out[name] = {"TP": int(tp), "FP": int(fp), "FN": int(fn), "TN": int(tn),
                     "Dice": float(2 * tp / (2 * tp + fp + fn)), "IoU": float(tp / (tp + fp + fn))}
    return out


def make_case():
    rng = np.random.RandomState(16)
    shape = (12, 10, 8)
    i, j, k = np.indices(shape)
    ref = np.zeros(shape, dtype=np.int32)
    ref[(i - 5) ** 2 + (j - 5) ** 2 + (k - 4) ** 2 <= 14] = 2        # oedema
    ref[(i - 5) ** 2 + (j - 4) ** 2 + (k - 4) ** 2 <= 6] = 1         # necrotic core
    ref[(i - 6) ** 2 + (j - 5) ** 2 + (k - 3) ** 2 <= 3] = 3         # enhancing
    ref[(i >= 9) & (j <= 3)] = 4                                      # unannotated corner
    ref[(rng.rand(*shape) < 0.03) & (ref == 0)] = 4                   # scattered unannotated voxels
    pred = np.roll(np.where(ref == 4, 0, ref), 1, axis=0)            # shifted by one voxel
    flip = rng.rand(*shape) < 0.08
    pred[flip & (pred > 0)] = rng.randint(1, 4, size=shape)[flip & (pred > 0)]
    ignored = ref == 4
    pred[ignored] = rng.randint(1, 4, size=shape)[ignored]           # predictions in the ignored area
    pred[(i == 0) & (j == 0)] = 4                                     # the ignore value in the prediction
    return ref, pred


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ref, pred = make_case()
    regions = [["whole_tumor", [1, 2, 3]], ["tumor_core", [1, 3]], ["enhancing", [3]]]
    region_list = [(name, tuple(labels)) for name, labels in regions]
    labels = [(str(v), v) for v in (1, 2, 3)]
    document = {
        "made_by": "scripts/cross_check_regions.py (nnU-Net v2 evaluate_predictions.py, numpy "
                   + np.__version__ + ")",
        "dims": list(ref.shape),
        "reference": ref.flatten(order="F").tolist(),
        "prediction": pred.flatten(order="F").tolist(),
        "regions": regions,
        "ignore_label": 4,
        "ignored_voxels": int((ref == 4).sum()),
        "regions_with_ignore": compute_metrics(ref, pred, region_list, ignore_label=4),
        "labels_with_ignore": compute_metrics(ref, pred, labels, ignore_label=4),
        "regions_without_ignore": compute_metrics(ref, pred, region_list),
    }
    with open(sys.argv[1], "w") as f:
        json.dump(document, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
