#!/usr/bin/env python3
"""Times `maskeval lesions` against the peers on the full-size lesion pairs.

    scripts/build-release
    python3 scripts/make_lesion_cases.py /tmp/lesion-bench --bench
    python3 scripts/bench_lesions.py /tmp/lesion-bench [--runs 5] [--maskeval .build/release/maskeval]
        [--baseline OTHER_MASKEVAL]

Per pair (ms46: 256x256x160, 46 MS-like lesions; brats: 240x240x155, labels 1/2/3) and match
mode (iou:0.5, brats2023, brats2023:met), one row:
- maskeval: the whole process (`maskeval lesions REF PRED --match M --format json`, reading the
  files included), median of --runs runs; with --baseline, another binary's median, its runs
  interleaved with those of --maskeval (before/after figures from one run of the script);
- the peer, one run: for iou:0.5 panoptica (nibabel load + `Panoptica_Evaluator.evaluate`
  per label: cc3d components, IoU 0.5 matching, DSC/IOU/HD95/ASSD per pair); for brats2023
  and brats2023:met the BraTS 2023 code (nibabel load +
  scripts/brats2023_reference.get_lesion_wise_results for WT, TC, ET with the BraTS-GLI or
  BraTS-MET parameters). The challenge's own function reads both files again for each of
  the three regions; the re-implementation reads them once, so the challenge code is, if
  anything, slower;
- x: peer seconds / maskeval seconds;
- components: cc3d.connected_components (26) on the same binary masks maskeval labels (iou:
  each label's reference and prediction; brats2023: each region's prediction and dilated
  reference), against the `components` time of `maskeval lesions --timings` (median).
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


def run_maskeval(binaries, ref, pred, match, runs):
    """Median wall seconds and `--timings` component seconds per binary, runs interleaved."""
    walls = {b: [] for b in binaries}
    components = {b: [] for b in binaries}
    for _ in range(runs):
        for binary in binaries:
            start = time.perf_counter()
            done = subprocess.run([binary, "lesions", ref, pred, "--match", match, "--format", "json", "--timings"],
                                  check=True, capture_output=True, text=True)
            walls[binary].append(time.perf_counter() - start)
            line = [l for l in done.stderr.splitlines() if l.startswith("timings:")][0]
            components[binary].append(float(line.split("components ")[1].split(" s")[0]))
    return {b: (statistics.median(walls[b]), statistics.median(components[b])) for b in binaries}


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


def time_brats(ref_path, pred_path, challenge):
    import brats2023_reference
    start = time.perf_counter()
    ref, pred, spacing = load(ref_path, pred_path)
    brats2023_reference.get_lesion_wise_results(pred.astype(np.float64), ref.astype(np.float64), spacing, challenge)
    return time.perf_counter() - start


def time_cc3d(ref_path, pred_path, match):
    """cc3d on the masks `maskeval lesions --match M` labels: per label, both sides (iou), or
    per region, the prediction and the reference dilated as the variant does (brats2023)."""
    import cc3d
    import scipy.ndimage
    ref, pred, _ = load(ref_path, pred_path)
    masks = []
    if match.startswith("iou"):
        for label in sorted((set(np.unique(ref)) | set(np.unique(pred))) - {0}):
            masks += [(ref == label).astype(np.uint8), (pred == label).astype(np.uint8)]
    else:
        structure = scipy.ndimage.generate_binary_structure(3, 2)
        iterations = 1 if match == "brats2023:met" else 3
        for labels in ((1, 2, 3), (1, 3), (3,)):
            r, p = np.isin(ref, labels).astype(np.uint8), np.isin(pred, labels).astype(np.uint8)
            masks += [p, scipy.ndimage.binary_dilation(r, structure=structure, iterations=iterations).astype(np.uint8)]
    start = time.perf_counter()
    for m in masks:
        cc3d.connected_components(m, connectivity=26)
    return time.perf_counter() - start


PEERS = {"iou:0.5": "panoptica", "brats2023": "BraTS code (GLI)", "brats2023:met": "BraTS code (MET)"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--maskeval", default=".build/release/maskeval")
    parser.add_argument("--baseline", help="another maskeval binary, timed interleaved with --maskeval")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    binaries = [args.maskeval] + ([args.baseline] if args.baseline else [])
    rows = []
    for name in ("ms46", "brats"):
        ref = os.path.join(args.folder, name + "_reference.nii.gz")
        pred = os.path.join(args.folder, name + "_prediction.nii.gz")
        if not os.path.exists(ref):
            continue
        for match in PEERS:
            timed = run_maskeval(binaries, ref, pred, match, args.runs)
            if match == "iou:0.5":
                peer = time_panoptica(ref, pred)
            else:
                peer = time_brats(ref, pred, "BraTS-MET" if match == "brats2023:met" else "BraTS-GLI")
            rows.append((name, match, timed, peer, time_cc3d(ref, pred, match)))
    baseline = " | baseline s | baseline x" if args.baseline else ""
    print("| pair | match | maskeval s | peer | peer s | x%s | components: maskeval / cc3d s |" % baseline)
    print("|---|---|---:|---|---:|---:|%s---:|" % ("---:|---:|" if args.baseline else ""))
    for name, match, timed, peer, cc in rows:
        wall, components = timed[args.maskeval]
        extra = ""
        if args.baseline:
            extra = " | %.3f | %.1f" % (timed[args.baseline][0], peer / timed[args.baseline][0])
        print("| %s | `%s` | %.3f | %s | %.2f | %.1f%s | %.3f / %.3f |" % (
            name, match, wall, PEERS[match], peer, peer / wall, extra, components, cc))


if __name__ == "__main__":
    main()
