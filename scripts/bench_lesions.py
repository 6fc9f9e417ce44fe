#!/usr/bin/env python3
"""Times `maskeval lesions` against the peers on the full-size lesion pairs.

    swift build -c release
    python3 scripts/make_lesion_cases.py /tmp/lesion-bench --bench
    python3 scripts/bench_lesions.py /tmp/lesion-bench [--runs 5] [--maskeval .build/release/maskeval]

Per pair (ms46: 256x256x160, 46 MS-like lesions; brats: 240x240x155, labels 1/2/3):
- maskeval: the whole process (`maskeval lesions REF PRED --match M --format json`, reading the
  files included), median of --runs runs, for --match iou:0.5 and brats2023;
- panoptica: nibabel load + `Panoptica_Evaluator.evaluate` (cc3d components, IoU 0.5 matching,
  DSC/IOU/HD95/ASSD per pair) per label, one run;
- BraTS 2023: nibabel load + scripts/brats2023_reference.get_lesion_wise_results (WT, TC, ET),
  one run. The challenge's own function reads both files again for each of the three regions;
  the re-implementation reads them once, so the challenge code is, if anything, slower;
- components: cc3d.connected_components (26) on the same binary masks maskeval labels (iou: each
  label's reference and prediction; brats2023: each region's prediction and dilated reference), against
  the `components` time of `maskeval lesions --timings`.
Prints measured seconds only.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def run_maskeval(binary, ref, pred, match, runs):
    walls, components = [], []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([binary, "lesions", ref, pred, "--match", match, "--format", "json", "--timings"],
                              check=True, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        line = [l for l in done.stderr.splitlines() if l.startswith("timings:")][0]
        components.append(float(line.split("components ")[1].split(" s")[0]))
    return statistics.median(walls), statistics.median(components)


def load(ref, pred):
    import nibabel as nib
    ref_image = nib.load(ref)
    pred_image = nib.load(pred)
    return (np.asarray(ref_image.dataobj).astype(np.int32), np.asarray(pred_image.dataobj).astype(np.int32),
            [float(z) for z in pred_image.header.get_zooms()[:3]])


def time_panoptica(ref_path, pred_path):
    from panoptica import (ConnectedComponentsInstanceApproximator, InputType, NaiveThresholdMatching,
                           Panoptica_Evaluator)
    from panoptica.metrics import Metric
    from panoptica.utils.edge_case_handling import EdgeCaseHandler, EdgeCaseResult, MetricZeroTPEdgeCaseHandling
    handling = dict(EdgeCaseHandler().listmetric_zeroTP_handling)
    handling[Metric.HD95] = MetricZeroTPEdgeCaseHandling(no_instances_result=EdgeCaseResult.NAN,
                                                         default_result=EdgeCaseResult.INF)
    evaluator = Panoptica_Evaluator(
        expected_input=InputType.SEMANTIC, instance_approximator=ConnectedComponentsInstanceApproximator(),
        instance_matcher=NaiveThresholdMatching(matching_metric=Metric.IOU, matching_threshold=0.5),
        instance_metrics=[Metric.DSC, Metric.IOU, Metric.HD95, Metric.ASSD], global_metrics=[Metric.DSC],
        edge_case_handler=EdgeCaseHandler(listmetric_zeroTP_handling=handling), verbose=False)
    start = time.perf_counter()
    ref, pred, spacing = load(ref_path, pred_path)
    for label in sorted((set(np.unique(ref)) | set(np.unique(pred))) - {0}):
        evaluator.evaluate((pred == label).astype(np.uint8), (ref == label).astype(np.uint8),
                           voxelspacing=tuple(spacing), verbose=False)
    return time.perf_counter() - start


def time_brats(ref_path, pred_path):
    import brats2023_reference
    start = time.perf_counter()
    ref, pred, spacing = load(ref_path, pred_path)
    brats2023_reference.get_lesion_wise_results(pred.astype(np.float64), ref.astype(np.float64), spacing, "BraTS-GLI")
    return time.perf_counter() - start


def time_cc3d(ref_path, pred_path):
    """cc3d on the masks `maskeval lesions --match iou:0.5` labels (per label, both sides), and
    those `--match brats2023` labels (per region: the prediction and the dilated reference)."""
    import cc3d
    import scipy.ndimage
    ref, pred, _ = load(ref_path, pred_path)
    iou_masks = []
    for label in sorted((set(np.unique(ref)) | set(np.unique(pred))) - {0}):
        iou_masks += [(ref == label).astype(np.uint8), (pred == label).astype(np.uint8)]
    brats_masks = []
    structure = scipy.ndimage.generate_binary_structure(3, 2)
    for labels in ((1, 2, 3), (1, 3), (3,)):
        r, p = np.isin(ref, labels).astype(np.uint8), np.isin(pred, labels).astype(np.uint8)
        brats_masks += [p, scipy.ndimage.binary_dilation(r, structure=structure, iterations=3).astype(np.uint8)]
    out = []
    for masks in (iou_masks, brats_masks):
        start = time.perf_counter()
        for m in masks:
            cc3d.connected_components(m, connectivity=26)
        out.append(time.perf_counter() - start)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--maskeval", default=".build/release/maskeval")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows = []
    for name in ("ms46", "brats"):
        ref = os.path.join(args.folder, name + "_reference.nii.gz")
        pred = os.path.join(args.folder, name + "_prediction.nii.gz")
        if not os.path.exists(ref):
            continue
        iou_wall, iou_cc = run_maskeval(args.maskeval, ref, pred, "iou:0.5", args.runs)
        brats_wall, brats_cc = run_maskeval(args.maskeval, ref, pred, "brats2023", args.runs)
        panoptica = time_panoptica(ref, pred)
        brats = time_brats(ref, pred)
        cc_iou, cc_brats = time_cc3d(ref, pred)
        rows.append((name, iou_wall, panoptica, brats_wall, brats, iou_cc, cc_iou, brats_cc, cc_brats))
    print("| pair | maskeval iou:0.5 s | panoptica s | x | maskeval brats2023 s | BraTS code s | x | "
          "components iou (maskeval / cc3d) s | components brats (maskeval / cc3d) s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, iou_wall, panoptica, brats_wall, brats, iou_cc, cc_iou, brats_cc, cc_brats in rows:
        print("| %s | %.3f | %.2f | %.1f | %.3f | %.2f | %.1f | %.3f / %.3f | %.3f / %.3f |" % (
            name, iou_wall, panoptica, panoptica / iou_wall, brats_wall, brats, brats / brats_wall, iou_cc, cc_iou,
            brats_cc, cc_brats))


if __name__ == "__main__":
    main()
