#!/usr/bin/env python3
"""Times one peer on one pair, as a user would run it: load both volumes with nibabel, then
every label in turn through the peer's surface metrics (HD, HD95, average surface distance
and, where it has one, surface Dice). Prints the seconds spent and the label count.

Usage: bench_peer.py PEER REF PRED   (PEER: deepmind, monai, simpleitk, medpy)
"""
import sys
import time
import warnings

import nibabel as nib
import numpy as np

warnings.filterwarnings("ignore")


def main():
    peer, ref_path, pred_path = sys.argv[1:4]
    start = time.perf_counter()
    ref_img = nib.load(ref_path)
    ref = np.asarray(ref_img.dataobj)
    pred = np.asarray(nib.load(pred_path).dataobj)
    spacing = tuple(float(np.linalg.norm(ref_img.affine[:3, c])) for c in range(3))
    labels = [int(v) for v in np.union1d(np.unique(ref), np.unique(pred)) if v != 0]
    matched = [l for l in labels if (ref == l).any() and (pred == l).any()]
    if peer == "deepmind":
        import surface_distance as sd
        for label in matched:
            d = sd.compute_surface_distances(ref == label, pred == label, spacing)
            sd.compute_robust_hausdorff(d, 100)
            sd.compute_robust_hausdorff(d, 95)
            sd.compute_average_surface_distance(d)
            sd.compute_surface_dice_at_tolerance(d, 1.0)
    elif peer == "monai":
        import torch
        from monai.metrics import (compute_average_surface_distance, compute_hausdorff_distance,
                                   compute_surface_dice)
        torch.set_num_threads(2)
        for label in matched:
            r = ref == label
            p = pred == label
            y = torch.from_numpy(np.stack([~r, r])[None].astype(np.float32))
            yp = torch.from_numpy(np.stack([~p, p])[None].astype(np.float32))
            compute_hausdorff_distance(yp, y, include_background=False, spacing=spacing)
            compute_hausdorff_distance(yp, y, include_background=False, percentile=95, spacing=spacing)
            compute_average_surface_distance(yp, y, include_background=False, symmetric=True, spacing=spacing)
            compute_surface_dice(yp, y, [1.0], include_background=False, spacing=spacing)
    elif peer == "simpleitk":
        import SimpleITK as sitk
        for label in matched:
            a = sitk.GetImageFromArray((ref == label).astype(np.uint8).transpose(2, 1, 0))
            b = sitk.GetImageFromArray((pred == label).astype(np.uint8).transpose(2, 1, 0))
            a.SetSpacing(spacing)
            b.SetSpacing(spacing)
            f = sitk.HausdorffDistanceImageFilter()
            f.Execute(a, b)
            f.GetHausdorffDistance()
            f.GetAverageHausdorffDistance()
    elif peer == "medpy":
        from medpy.metric import binary
        for label in matched:
            r = ref == label
            p = pred == label
            binary.hd(p, r, voxelspacing=spacing)
            binary.hd95(p, r, voxelspacing=spacing)
            binary.assd(p, r, voxelspacing=spacing)
    else:
        sys.exit("unknown peer " + peer)
    print("%.3f %d" % (time.perf_counter() - start, len(matched)))


if __name__ == "__main__":
    main()
