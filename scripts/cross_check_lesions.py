#!/usr/bin/env python3
"""Peer values for `maskeval lesions` on the cases of scripts/make_lesion_cases.py.

    python3 scripts/cross_check_lesions.py Tests/Fixtures/lesions                    # writes expected.json
    python3 scripts/cross_check_lesions.py Tests/Fixtures/lesions --maskeval .build/debug/maskeval --check

For every case (a *_reference.nii.gz / *_prediction.nii.gz pair) it stores:
- `panoptica`: per non-zero label value, panoptica's (PyPI `panoptica`) semantic pipeline on the
  label's binary masks: `ConnectedComponentsInstanceApproximator` (cc3d, 26-connected),
  `NaiveThresholdMatching(matching_metric=Metric.IOU, matching_threshold=0.5)` and the instance
  metrics DSC, IOU, HD95, ASSD with `voxelspacing` = the header zooms; the counts, prec, rec,
  rq, sq, pq, sq_dsc, pq_dsc, and the per-pair values (reference voxel count, Dice, IoU,
  HD95, ASSD), sorted.
- `nnunet` (cases with a NAME_dataset.json): nnU-Net v2's `compute_metrics` per region of the
  dataset.json with its ignore label (TP, FP, FN, TN, Dice, IoU).
- `brats2023` and `brats2023_met`: scripts/brats2023_reference.py (BraTS-GLI and BraTS-MET
  parameters) on WT, TC, ET.
With --maskeval it also runs the binary and prints the largest differences (--check: exit 1
beyond the test tolerances).
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import warnings

import nibabel as nib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brats2023_reference  # noqa: E402


def panoptica_values(ref, pred, spacing):
    from panoptica import (ConnectedComponentsInstanceApproximator, InputType, NaiveThresholdMatching,
                           Panoptica_Evaluator)
    from panoptica.metrics import Metric
    from panoptica.utils.edge_case_handling import EdgeCaseHandler, EdgeCaseResult, MetricZeroTPEdgeCaseHandling
    # panoptica's default zero-TP handling, plus HD95 (which it lacks: it raises otherwise),
    # given the same values as ASSD. Only the aggregates of cases without a match use it.
    handling = dict(EdgeCaseHandler().listmetric_zeroTP_handling)
    handling[Metric.HD95] = MetricZeroTPEdgeCaseHandling(no_instances_result=EdgeCaseResult.NAN,
                                                         default_result=EdgeCaseResult.INF)
    evaluator = Panoptica_Evaluator(
        edge_case_handler=EdgeCaseHandler(listmetric_zeroTP_handling=handling),
        expected_input=InputType.SEMANTIC,
        instance_approximator=ConnectedComponentsInstanceApproximator(),
        instance_matcher=NaiveThresholdMatching(matching_metric=Metric.IOU, matching_threshold=0.5),
        instance_metrics=[Metric.DSC, Metric.IOU, Metric.HD95, Metric.ASSD],
        global_metrics=[Metric.DSC],
        verbose=False,
    )
    result = evaluator.evaluate(pred.astype(np.uint8), ref.astype(np.uint8), voxelspacing=tuple(spacing),
                                verbose=False)["ungrouped"]
    d = result.to_dict(output_individual_instance_metrics=True)

    def number(x):
        if x is None:
            return None
        x = float(x)
        return None if math.isnan(x) or math.isinf(x) else x

    out = {k: number(d.get(k)) for k in ("prec", "rec", "rq", "sq", "pq", "sq_dsc", "pq_dsc")}
    for k in ("tp", "fp", "fn", "n_ref_instances", "n_pred_instances"):
        out[k] = int(d[k])
    pairs = []
    for row in d.get("reference_instances", []):
        if row.get("is_matched"):
            pairs.append([int(row["voxel_count"]), number(row.get("sq_dsc")), number(row.get("sq_iou", row.get("sq"))),
                          number(row.get("sq_hd95")), number(row.get("sq_assd"))])
    out["pairs"] = sorted(pairs, key=lambda p: (p[0], p[1] or 0))
    return out


def region_or_label_to_mask(segmentation, region_or_label):
    """nnU-Net v2 `nnunetv2/evaluation/evaluate_predictions.py` (Apache-2.0), unchanged."""
    if np.isscalar(region_or_label):
        return segmentation == region_or_label
    mask = np.zeros_like(segmentation, dtype=bool)
    for r in region_or_label:
        mask[segmentation == r] = True
    return mask


def compute_tp_fp_fn_tn(mask_ref, mask_pred, ignore_mask=None):
    """nnU-Net v2 `evaluate_predictions.py` (Apache-2.0), unchanged."""
    use_mask = np.ones_like(mask_ref, dtype=bool) if ignore_mask is None else ~ignore_mask
    tp = np.sum((mask_ref & mask_pred) & use_mask)
    fp = np.sum(((~mask_ref) & mask_pred) & use_mask)
    fn = np.sum((mask_ref & (~mask_pred)) & use_mask)
    tn = np.sum(((~mask_ref) & (~mask_pred)) & use_mask)
    return tp, fp, fn, tn


def nnunet_values(ref, pred, dataset):
    """nnU-Net's `compute_metrics` per region of dataset.json, with its ignore label."""
    ignore_label = dataset["labels"].get("ignore")
    ignore_mask = ref == ignore_label if ignore_label is not None else None
    out = {}
    for name, value in dataset["labels"].items():
        if name in ("background", "ignore"):
            continue
        region = tuple(value) if isinstance(value, list) else value
        tp, fp, fn, tn = compute_tp_fp_fn_tn(region_or_label_to_mask(ref, region),
                                             region_or_label_to_mask(pred, region), ignore_mask)
        out[name] = {"TP": int(tp), "FP": int(fp), "FN": int(fn), "TN": int(tn),
                     "Dice": float(2 * tp / (2 * tp + fp + fn)), "IoU": float(tp / (tp + fp + fn))}
    return out


def case_values(ref_path, pred_path):
    ref_image = nib.load(ref_path)
    pred_image = nib.load(pred_path)
    ref = np.asarray(ref_image.dataobj).astype(np.int32)
    pred = np.asarray(pred_image.dataobj).astype(np.int32)
    spacing = [float(z) for z in pred_image.header.get_zooms()[:3]]
    labels = sorted((set(np.unique(ref)) | set(np.unique(pred))) - {0})
    values = {"spacing": spacing, "panoptica": {}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label in labels:
            values["panoptica"][str(int(label))] = panoptica_values(ref == label, pred == label, spacing)
    dataset_path = ref_path.replace("_reference.nii.gz", "_dataset.json")
    if os.path.exists(dataset_path):
        with open(dataset_path) as f:
            values["nnunet"] = nnunet_values(ref, pred, json.load(f))
    values["brats2023"] = brats2023_reference.get_lesion_wise_results(
        pred.astype(np.float64), ref.astype(np.float64), spacing, "BraTS-GLI")
    values["brats2023_met"] = brats2023_reference.get_lesion_wise_results(
        pred.astype(np.float64), ref.astype(np.float64), spacing, "BraTS-MET")
    return values


def run_maskeval(binary, ref_path, pred_path, match):
    out = subprocess.run([binary, "lesions", ref_path, pred_path, "--match", match, "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    return {s["name"]: s for s in json.loads(out)["structures"]}


def compare(name, expected, binary, ref_path, pred_path):
    worst = {"count": 0, "rate": 0.0, "dice": 0.0, "hd95": 0.0}
    ours = run_maskeval(binary, ref_path, pred_path, "iou:0.5")
    if "nnunet" in expected:
        return True  # regions and the ignore label: compared by the Swift tests
    for label, peer in expected["panoptica"].items():
        agg = ours.get(label, {"aggregates": {}, "lesions": []})["aggregates"]
        for ours_key, peer_key in (("tp", "tp"), ("fp", "fp"), ("fn", "fn")):
            worst["count"] = max(worst["count"], abs((agg.get(ours_key) or 0) - peer[peer_key]))
        for ours_key, peer_key in (("precision", "prec"), ("recall", "rec"), ("rq", "rq"), ("sq", "sq"),
                                   ("pq", "pq"), ("sq_dice", "sq_dsc"), ("pq_dice", "pq_dsc")):
            a, b = agg.get(ours_key), peer[peer_key]
            if (a is None) != (b is None):
                print("%s label %s %s: maskeval %s, panoptica %s" % (name, label, ours_key, a, b))
                worst["rate"] = math.inf
            elif a is not None:
                worst["rate"] = max(worst["rate"], abs(a - b))
        pairs = sorted(([l["voxels"], l["dice"], l["iou"], l["hd95_mm"], l["assd_mm"]]
                        for l in ours.get(label, {"lesions": []})["lesions"] if l["status"] == "tp"),
                       key=lambda p: (p[0], p[1] or 0))
        if len(pairs) != len(peer["pairs"]):
            print("%s label %s: %d pairs, panoptica %d" % (name, label, len(pairs), len(peer["pairs"])))
            worst["count"] = max(worst["count"], 1)
        for a, b in zip(pairs, peer["pairs"]):
            worst["dice"] = max(worst["dice"], abs(a[1] - b[1]), abs(a[2] - b[2]))
            worst["hd95"] = max(worst["hd95"], abs(a[3] - b[3]), abs(a[4] - b[4]))
    for key, match in (("brats2023", "brats2023"), ("brats2023_met", "brats2023:met")):
        ours = run_maskeval(binary, ref_path, pred_path, match)
        for region, peer in expected[key].items():
            agg = ours[region]["aggregates"]
            for k in ("tp", "fp", "fn"):
                worst["count"] = max(worst["count"], abs(agg[k] - peer[k]))
            worst["dice"] = max(worst["dice"], abs(agg["lesion_dice"] - peer["lesion_dice"]))
            worst["hd95"] = max(worst["hd95"], abs(agg["lesion_hd95_mm"] - peer["lesion_hd95_mm"]))
            mine = sorted((l["voxels"], l["dice"], l["hd95_mm"]) for l in ours[region]["lesions"]
                          if l["side"] == "reference")
            theirs = sorted((l["voxels"], l["dice"], l["hd95_mm"]) for l in peer["lesions"])
            if len(mine) != len(theirs):
                print("%s %s %s: %d lesions, peer %d" % (name, key, region, len(mine), len(theirs)))
                worst["count"] = max(worst["count"], 1)
            for a, b in zip(mine, theirs):
                worst["dice"] = max(worst["dice"], abs(a[1] - b[1]))
                if (a[2] is None) != (b[2] is None):
                    worst["hd95"] = math.inf
                elif a[2] is not None:
                    worst["hd95"] = max(worst["hd95"], abs(a[2] - b[2]))
    print("%-18s counts %d, rates %.2e, dice/iou %.2e, hd95/assd %.2e mm" % (
        name, worst["count"], worst["rate"], worst["dice"], worst["hd95"]))
    return worst["count"] == 0 and worst["rate"] <= 1e-9 and worst["dice"] <= 1e-9 and worst["hd95"] <= 1e-6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--maskeval", help="also run this maskeval binary and print the largest differences")
    parser.add_argument("--check", action="store_true", help="with --maskeval: exit 1 beyond the tolerances")
    parser.add_argument("--output", help="expected values file (default FOLDER/expected.json)")
    args = parser.parse_args()
    cases = {}
    for ref_path in sorted(glob.glob(os.path.join(args.folder, "*_reference.nii.gz"))):
        name = os.path.basename(ref_path)[: -len("_reference.nii.gz")]
        cases[name] = case_values(ref_path, ref_path.replace("_reference.nii.gz", "_prediction.nii.gz"))
    output = args.output or os.path.join(args.folder, "expected.json")
    with open(output, "w") as f:
        json.dump({"made_by": "scripts/cross_check_lesions.py", "cases": cases}, f, indent=1, sort_keys=True)
        f.write("\n")
    ok = True
    if args.maskeval:
        for name in cases:
            ref_path = os.path.join(args.folder, name + "_reference.nii.gz")
            ok &= compare(name, cases[name], args.maskeval, ref_path,
                          ref_path.replace("_reference.nii.gz", "_prediction.nii.gz"))
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
