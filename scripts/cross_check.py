#!/usr/bin/env python3
"""Cross-check `maskeval compare` against MONAI, MedPy and DeepMind's surface-distance.

Usage: scripts/cross-check REF PRED [--tolerance MM] [--json OUT]

Runs `maskeval compare --compat all --format json` on the pair, evaluates every label
with the peers (and `scipy64`: the default definitions computed directly in float64 with
scipy, to separate MaskEval's error from MONAI's float32 arithmetic) (each label as its own binary pair, spacing = the affine's column norms,
as MaskEval defines it), and prints per metric the largest absolute and relative
difference. Outside CI: the peers come from the virtual environment that
scripts/cross-check makes.
"""
import argparse
import json
import math
import subprocess
import sys
import time
import warnings

import nibabel as nib
import numpy as np

warnings.filterwarnings("ignore")


def spacing_of(img):
    return tuple(float(np.linalg.norm(img.affine[:3, c])) for c in range(3))


def monai_metrics(r, p, spacing, tau, q):
    import torch
    from monai.metrics import (compute_average_surface_distance,
                               compute_hausdorff_distance, compute_surface_dice)

    def onehot(m):
        t = torch.from_numpy(np.stack([~m, m])[None].astype(np.float32))
        return t

    yp, y = onehot(p), onehot(r)
    hd = compute_hausdorff_distance(yp, y, include_background=False, spacing=spacing).item()
    hdq = compute_hausdorff_distance(yp, y, include_background=False, percentile=q, spacing=spacing).item()
    assd = compute_average_surface_distance(yp, y, include_background=False, symmetric=True, spacing=spacing).item()
    asd_pr = compute_average_surface_distance(yp, y, include_background=False, symmetric=False, spacing=spacing).item()
    asd_rp = compute_average_surface_distance(y, yp, include_background=False, symmetric=False, spacing=spacing).item()
    nsd = compute_surface_dice(yp, y, [tau], include_background=False, spacing=spacing).item()
    return {"hausdorff_mm": hd, "hdq": hdq, "assd_mm": assd, "asd_prediction_to_reference_mm": asd_pr,
            "asd_reference_to_prediction_mm": asd_rp, "nsd": nsd}


def scipy_metrics(r, p, spacing, tau, q):
    """The default preset's definitions computed directly in float64 with scipy and numpy
    (boundary by 6-neighbour erosion with the image edge outside, exact EDT), as MONAI does
    but without MONAI's float32 arithmetic."""
    from scipy import ndimage
    br = r ^ ndimage.binary_erosion(r)
    bp = p ^ ndimage.binary_erosion(p)
    dpr = ndimage.distance_transform_edt(~br, sampling=spacing)[bp]
    drp = ndimage.distance_transform_edt(~bp, sampling=spacing)[br]
    return {"hausdorff_mm": max(dpr.max(), drp.max()),
            "hdq": max(np.percentile(dpr, q), np.percentile(drp, q)),
            "assd_mm": (dpr.sum() + drp.sum()) / (len(dpr) + len(drp)),
            "masd_mm": (dpr.mean() + drp.mean()) / 2,
            "asd_prediction_to_reference_mm": dpr.mean(), "asd_reference_to_prediction_mm": drp.mean(),
            "nsd": (np.sum(dpr <= tau) + np.sum(drp <= tau)) / (len(dpr) + len(drp))}


def medpy_metrics(r, p, spacing, q):
    from medpy.metric import binary
    out = {"hausdorff_mm": binary.hd(p, r, voxelspacing=spacing),
           "assd_mm": binary.assd(p, r, voxelspacing=spacing),
           "asd_prediction_to_reference_mm": binary.asd(p, r, voxelspacing=spacing),
           "asd_reference_to_prediction_mm": binary.asd(r, p, voxelspacing=spacing)}
    if q == 95:
        out["hdq"] = binary.hd95(p, r, voxelspacing=spacing)
    return out


def deepmind_metrics(r, p, spacing, tau, q):
    import surface_distance as sd
    d = sd.compute_surface_distances(r, p, spacing)
    gt_to_pred, pred_to_gt = sd.compute_average_surface_distance(d)
    a_gt = d["surfel_areas_gt"]
    a_pred = d["surfel_areas_pred"]
    sum_gt = float(np.sum(d["distances_gt_to_pred"] * a_gt))
    sum_pred = float(np.sum(d["distances_pred_to_gt"] * a_pred))
    return {"hausdorff_mm": sd.compute_robust_hausdorff(d, 100), "hdq": sd.compute_robust_hausdorff(d, q),
            "asd_reference_to_prediction_mm": gt_to_pred, "asd_prediction_to_reference_mm": pred_to_gt,
            "masd_mm": (gt_to_pred + pred_to_gt) / 2,
            "assd_mm": (sum_gt + sum_pred) / (float(np.sum(a_gt)) + float(np.sum(a_pred))),
            "nsd": sd.compute_surface_dice_at_tolerance(d, tau)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ref")
    parser.add_argument("pred")
    parser.add_argument("--tolerance", type=float, default=1.0)
    parser.add_argument("--percentile", type=float, default=95)
    parser.add_argument("--maskeval", default=".build/release/maskeval")
    parser.add_argument("--peers", default="scipy64,monai,medpy,deepmind")
    args = parser.parse_args()
    q = args.percentile
    key = "hd%s_mm" % (int(q) if q == int(q) else q)
    out = subprocess.run([args.maskeval, "compare", args.ref, args.pred, "--compat", "all", "--format", "json",
                          "--tolerance", str(args.tolerance), "--percentile", str(q)],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    ref_img, pred_img = nib.load(args.ref), nib.load(args.pred)
    ref = np.asarray(ref_img.dataobj)
    pred = np.asarray(pred_img.dataobj)
    spacing = spacing_of(ref_img)
    worst = {}
    dice_worst = 0.0
    peers = args.peers.split(",")
    timing = {peer: 0.0 for peer in peers}
    labels = [row for row in report["labels"] if row["status"] == "matched"]
    for row in labels:
        r = ref == row["label"]
        p = pred == row["label"]
        dice = 2 * np.sum(r & p) / (np.sum(r) + np.sum(p))
        dice_worst = max(dice_worst, abs(dice - row["dice"]))
        for peer in peers:
            t0 = time.perf_counter()
            if peer == "monai":
                values = monai_metrics(r, p, spacing, args.tolerance, q)
            elif peer == "medpy":
                values = medpy_metrics(r, p, spacing, q)
            elif peer == "scipy64":
                values = scipy_metrics(r, p, spacing, args.tolerance, q)
            else:
                values = deepmind_metrics(r, p, spacing, args.tolerance, q)
            timing[peer] += time.perf_counter() - t0
            ours = row["presets"]["monai" if peer == "scipy64" else peer]
            for metric, theirs in values.items():
                mine = ours[key if metric == "hdq" else metric]
                name = key if metric == "hdq" else metric
                diff = abs(mine - theirs)
                rel = diff / max(abs(theirs), 1e-12)
                w = worst.setdefault((peer, name), [0.0, 0.0, row["label"]])
                if diff > w[0]:
                    worst[(peer, name)] = [diff, rel, row["label"]]
                else:
                    w[1] = max(w[1], rel)
    print("pair: %s vs %s, %d matched labels, spacing %s mm" % (args.ref, args.pred, len(labels),
                                                               "x".join("%g" % s for s in spacing)))
    print("largest |dice - numpy| = %.3g" % dice_worst)
    print("%-9s %-32s %12s %12s %6s" % ("peer", "metric", "max abs diff", "max rel diff", "label"))
    for (peer, name), (diff, rel, label) in sorted(worst.items()):
        print("%-9s %-32s %12.3g %12.3g %6d" % (peer, name, diff, rel, label))
    print("peer time: " + ", ".join("%s %.1f s" % (p, t) for p, t in timing.items()))


if __name__ == "__main__":
    sys.exit(main())
