#!/usr/bin/env python3
"""The BraTS 2023 lesion-wise metrics, re-implemented step for step from the challenge's code
to give peer values for `maskeval lesions --match brats2023`.

Source: github.com/rachitsaluja/BraTS-2023-Metrics, `brats_2023_metrics/surface_distance/
brats_metrics.py` (functions `get_challenge_parameters`, `get_dice_score`,
`get_tissue_wise_mask`, `get_gt_seg_combined_by_dilation`, `get_lesion_wise_score`,
`get_lesion_wise_results`; the same steps as the repository's earlier `eval.py`) and its
vendored copy of DeepMind's `surface_distance/metrics.py` (Apache-2.0;
`compute_surface_distances`, `compute_robust_hausdorff`). The BraTS repository states no
licence, so its code is not vendored here: this file repeats its steps with the same library
calls (numpy, scipy.ndimage, cc3d). The differences are only mechanical: arrays instead of
file paths (the caller passes the label arrays and the spacing the challenge reads from the
prediction header), no pandas (the same sums and counts), and `np.inf` for the removed
`np.Inf`. The per-lesion table is returned as well as the challenge's summary.

    python3 scripts/brats2023_reference.py REF.nii.gz PRED.nii.gz [--challenge BraTS-MET]

Needs numpy, scipy, cc3d (connected-components-3d) and nibabel; the surface-element areas
come from the `surface_distance` package (DeepMind, PyPI `surface-distance`).
"""
import argparse
import json
import math

import cc3d
import numpy as np
import scipy.ndimage
from surface_distance import lookup_tables

PENALTY_MM = 374  # get_lesion_wise_results: metric_df.replace(np.inf, 374) and len(fp) * 374


def get_challenge_parameters(challenge_name):
    """(dilation_factor, lesion_volume_thresh) as in the challenge code."""
    return {
        "BraTS-GLI": (3, 50),
        "BraTS-SSA": (3, 50),
        "BraTS-MEN": (1, 50),
        "BraTS-PED": (3, 50),
        "BraTS-MET": (1, 2),
    }[challenge_name]


def get_dice_score(pred_img, gt_img):
    pred_array = np.asarray(pred_img).astype(bool)
    gt_array = np.asarray(gt_img).astype(bool)
    intersection = np.logical_and(pred_array, gt_array)
    return 2.0 * (intersection.sum()) / (pred_array.sum() + gt_array.sum())


def get_tissue_wise_mask(array, tissue_type):
    array = array.copy()
    if tissue_type == "WT":
        np.place(array, (array != 1) & (array != 2) & (array != 3), 0)
    elif tissue_type == "TC":
        np.place(array, (array != 1) & (array != 3), 0)
    elif tissue_type == "ET":
        np.place(array, (array != 3), 0)
    else:
        raise ValueError("Supported tissue types: WT, TC, ET")
    np.place(array, (array > 0), 1)
    return array


def get_gt_seg_combined_by_dilation(gt_dilated_cc_mat, gt_label_cc):
    gt_seg_combined_by_dilation_mat = np.zeros_like(gt_dilated_cc_mat)
    for comp in range(1, np.max(gt_dilated_cc_mat) + 1):
        gt_d_tmp = np.zeros_like(gt_dilated_cc_mat)
        gt_d_tmp[gt_dilated_cc_mat == comp] = 1
        gt_d_tmp = gt_label_cc * gt_d_tmp
        np.place(gt_d_tmp, gt_d_tmp > 0, comp)
        gt_seg_combined_by_dilation_mat += gt_d_tmp
    return gt_seg_combined_by_dilation_mat


def compute_surface_distances(mask_gt, mask_pred, spacing_mm):
    """DeepMind's compute_surface_distances as vendored by the challenge (3-D)."""
    # The same loop over the 256 neighbour codes as the vendored copy (lookup_tables holds
    # the normals; the table is identical).
    neighbour_code_to_surface_area = lookup_tables.create_table_neighbour_code_to_surface_area(spacing_mm)
    mask_all = mask_gt | mask_pred
    bbox_min = np.zeros(3, np.int64)
    bbox_max = np.zeros(3, np.int64)
    proj_0 = np.max(np.max(mask_all, axis=2), axis=1)
    idx_nonzero_0 = np.nonzero(proj_0)[0]
    if len(idx_nonzero_0) == 0:
        empty = np.array([])
        return {"distances_gt_to_pred": empty, "distances_pred_to_gt": empty, "surfel_areas_gt": empty,
                "surfel_areas_pred": empty}
    bbox_min[0], bbox_max[0] = np.min(idx_nonzero_0), np.max(idx_nonzero_0)
    idx_nonzero_1 = np.nonzero(np.max(np.max(mask_all, axis=2), axis=0))[0]
    bbox_min[1], bbox_max[1] = np.min(idx_nonzero_1), np.max(idx_nonzero_1)
    idx_nonzero_2 = np.nonzero(np.max(np.max(mask_all, axis=1), axis=0))[0]
    bbox_min[2], bbox_max[2] = np.min(idx_nonzero_2), np.max(idx_nonzero_2)
    cropmask_gt = np.zeros((bbox_max - bbox_min) + 2, np.uint8)
    cropmask_pred = np.zeros((bbox_max - bbox_min) + 2, np.uint8)
    window = tuple(slice(bbox_min[a], bbox_max[a] + 1) for a in range(3))
    cropmask_gt[0:-1, 0:-1, 0:-1] = mask_gt[window]
    cropmask_pred[0:-1, 0:-1, 0:-1] = mask_pred[window]
    kernel = np.array([[[128, 64], [32, 16]], [[8, 4], [2, 1]]])
    code_gt = scipy.ndimage.correlate(cropmask_gt.astype(np.uint8), kernel, mode="constant", cval=0)
    code_pred = scipy.ndimage.correlate(cropmask_pred.astype(np.uint8), kernel, mode="constant", cval=0)
    borders_gt = (code_gt != 0) & (code_gt != 255)
    borders_pred = (code_pred != 0) & (code_pred != 255)
    if borders_gt.any():
        distmap_gt = scipy.ndimage.distance_transform_edt(~borders_gt, sampling=spacing_mm)
    else:
        distmap_gt = np.inf * np.ones(borders_gt.shape)
    if borders_pred.any():
        distmap_pred = scipy.ndimage.distance_transform_edt(~borders_pred, sampling=spacing_mm)
    else:
        distmap_pred = np.inf * np.ones(borders_pred.shape)
    surface_area_map_gt = neighbour_code_to_surface_area[code_gt]
    surface_area_map_pred = neighbour_code_to_surface_area[code_pred]
    distances_gt_to_pred = distmap_pred[borders_gt]
    distances_pred_to_gt = distmap_gt[borders_pred]
    surfel_areas_gt = surface_area_map_gt[borders_gt]
    surfel_areas_pred = surface_area_map_pred[borders_pred]
    if distances_gt_to_pred.shape != (0,):
        s = np.array(sorted(zip(distances_gt_to_pred, surfel_areas_gt)))
        distances_gt_to_pred, surfel_areas_gt = s[:, 0], s[:, 1]
    if distances_pred_to_gt.shape != (0,):
        s = np.array(sorted(zip(distances_pred_to_gt, surfel_areas_pred)))
        distances_pred_to_gt, surfel_areas_pred = s[:, 0], s[:, 1]
    return {"distances_gt_to_pred": distances_gt_to_pred, "distances_pred_to_gt": distances_pred_to_gt,
            "surfel_areas_gt": surfel_areas_gt, "surfel_areas_pred": surfel_areas_pred}


def compute_robust_hausdorff(surface_distances, percent):
    out = []
    for d, a in (("distances_gt_to_pred", "surfel_areas_gt"), ("distances_pred_to_gt", "surfel_areas_pred")):
        distances, areas = surface_distances[d], surface_distances[a]
        if len(distances) > 0:
            cumulative = np.cumsum(areas) / np.sum(areas)
            idx = np.searchsorted(cumulative, percent / 100.0)
            out.append(distances[min(idx, len(distances) - 1)])
        else:
            out.append(np.inf)
    return max(out)


def get_lesion_wise_score(pred_array, gt_array, spacing, label_name, dil_factor):
    sx, sy, sz = spacing
    score = {"gt_tp": [], "tp": [], "fn": [], "fp": [], "metric_pairs": []}
    pred_array = get_tissue_wise_mask(pred_array, label_name)
    gt_array = get_tissue_wise_mask(gt_array, label_name)
    dilation_struct = scipy.ndimage.generate_binary_structure(3, 2)
    gt_mat_cc = cc3d.connected_components(gt_array, connectivity=26)
    pred_mat_cc = cc3d.connected_components(pred_array, connectivity=26)
    gt_mat_dilation = scipy.ndimage.binary_dilation(gt_array, structure=dilation_struct, iterations=dil_factor)
    gt_mat_dilation_cc = cc3d.connected_components(gt_mat_dilation, connectivity=26)
    gt_label_cc = get_gt_seg_combined_by_dilation(gt_mat_dilation_cc, gt_mat_cc)
    pred_label_cc = pred_mat_cc
    for gt_comp in range(1, np.max(gt_label_cc) + 1):
        gt_tmp = np.zeros_like(gt_label_cc)
        gt_tmp[gt_label_cc == gt_comp] = 1
        gt_tmp_dilation = scipy.ndimage.binary_dilation(gt_tmp, structure=dilation_struct, iterations=dil_factor)
        gt_volume = np.sum(gt_tmp) * sx * sy * sz
        pred_tmp = np.copy(pred_label_cc) * gt_tmp_dilation
        intersecting_cc = np.unique(pred_tmp)
        intersecting_cc = intersecting_cc[intersecting_cc != 0]
        for cc in intersecting_cc:
            score["tp"].append(cc)
        pred_tmp = np.copy(pred_label_cc)
        pred_tmp[np.isin(pred_tmp, intersecting_cc, invert=True)] = 0
        pred_tmp[np.isin(pred_tmp, intersecting_cc)] = 1
        dice_score = get_dice_score(pred_tmp, gt_tmp)
        distances = compute_surface_distances(gt_tmp.astype(bool), pred_tmp.astype(bool), (sx, sy, sz))
        hd = compute_robust_hausdorff(distances, 95)
        score["metric_pairs"].append((intersecting_cc, gt_comp, gt_volume, dice_score, hd, int(np.sum(gt_tmp))))
        (score["gt_tp"] if len(intersecting_cc) > 0 else score["fn"]).append(gt_comp)
    score["fp"] = np.unique(pred_label_cc[np.isin(pred_label_cc, score["tp"] + [0], invert=True)])
    return score


def get_lesion_wise_results(pred_array, gt_array, spacing, challenge_name="BraTS-GLI", labels=("WT", "TC", "ET")):
    """Per label: the challenge's Num_TP, Num_FP, Num_FN, Lesion_Wise_Score_Dice and _HD95,
    and the per-lesion table (gt voxels, gt volume mm^3, matched count, dice, hd95)."""
    dilation_factor, lesion_volume_thresh = get_challenge_parameters(challenge_name)
    out = {}
    for label_name in labels:
        s = get_lesion_wise_score(pred_array, gt_array, spacing, label_name, dilation_factor)
        pairs = s["metric_pairs"]
        fn_sub = sum(1 for p in pairs if len(p[0]) == 0 and p[2] <= lesion_volume_thresh)
        gt_tp_sub = sum(1 for p in pairs if len(p[0]) != 0 and p[2] <= lesion_volume_thresh)
        kept = [p for p in pairs if p[2] > lesion_volume_thresh]
        n_fp = len(s["fp"])
        denominator = len(kept) + n_fp
        with np.errstate(invalid="ignore", divide="ignore"):
            dice = np.float64(sum(p[3] for p in kept)) / denominator if denominator else np.nan
            hd95 = (np.float64(sum(PENALTY_MM if np.isinf(p[4]) else p[4] for p in kept)) + n_fp * PENALTY_MM) / (
                denominator) if denominator else np.nan
        if math.isnan(dice):
            dice = 1
        if math.isnan(hd95):
            hd95 = 0
        out[label_name] = {
            "tp": len(s["gt_tp"]) - gt_tp_sub,
            "fp": n_fp,
            "fn": len(s["fn"]) - fn_sub,
            "lesion_dice": float(dice),
            "lesion_hd95_mm": float(hd95),
            "lesions": [
                {"voxels": p[5], "volume_mm3": float(p[2]), "matched": int(len(p[0])), "dice": float(p[3]),
                 "hd95_mm": None if np.isinf(p[4]) else float(p[4]), "counted": bool(p[2] > lesion_volume_thresh)}
                for p in pairs
            ],
        }
    return out


def main():
    import nibabel as nib
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reference")
    parser.add_argument("prediction")
    parser.add_argument("--challenge", default="BraTS-GLI")
    args = parser.parse_args()
    pred = nib.load(args.prediction)
    gt = nib.load(args.reference)
    spacing = pred.header.get_zooms()[:3]
    result = get_lesion_wise_results(pred.get_fdata(), gt.get_fdata(), spacing, args.challenge)
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
