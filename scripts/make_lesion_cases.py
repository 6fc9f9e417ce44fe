#!/usr/bin/env python3
"""Generates the lesion test cases (reference/prediction NIfTI pairs) into a folder.

    python3 scripts/make_lesion_cases.py Tests/Fixtures/lesions          # the committed small cases
    python3 scripts/make_lesion_cases.py /tmp/lesion-bench --bench        # full-size pairs for bench_lesions.py

Every case is made from a fixed seed, so the files are the same on every run. Cases:
split (one lesion predicted as two halves), merged (two lesions predicted as one), tiny
(lesions under the BraTS volume threshold), diagonal (components that touch only at an edge
or a corner: one component with 18/26-connectivity, several with 6), empty_prediction,
empty_reference, anisotropic (0.5 x 1.0 x 2.0 mm), ms40 (40 MS-like lesions, some missed,
shifted, shrunk, split, plus false positives) and brats (nested labels 1 NCR, 2 ED, 3 ET with a
satellite lesion), and regions (nnU-Net's relabelled BraTS with an ignore label and its
dataset.json). Needs numpy and nibabel.
"""
import argparse
import json
import os

import nibabel as nib
import numpy as np


def ellipsoid(shape, centre, radii):
    i, j, k = np.ogrid[: shape[0], : shape[1], : shape[2]]
    return (
        ((i - centre[0]) / radii[0]) ** 2 + ((j - centre[1]) / radii[1]) ** 2 + ((k - centre[2]) / radii[2]) ** 2
    ) <= 1.0


def save(folder, name, ref, pred, spacing=(1.0, 1.0, 1.0)):
    affine = np.diag([spacing[0], spacing[1], spacing[2], 1.0])
    affine[:3, 3] = [-20.0, 10.0, 5.0]
    for side, array in (("reference", ref), ("prediction", pred)):
        image = nib.Nifti1Image(array.astype(np.uint8), affine)
        image.header.set_zooms(spacing)
        image.set_sform(affine, code=1)
        image.set_qform(affine, code=1)
        nib.save(image, os.path.join(folder, "%s_%s.nii.gz" % (name, side)))


def split_case():
    shape = (24, 24, 24)
    ref = ellipsoid(shape, (12, 12, 12), (7, 5, 5))
    pred = ref.copy()
    pred[11:13, :, :] = False  # a two-voxel gap: two predicted components
    return shape, ref, pred


def merged_case():
    shape = (24, 24, 24)
    ref = ellipsoid(shape, (7, 12, 12), (4, 4, 4)) | ellipsoid(shape, (17, 12, 12), (4, 4, 4))
    pred = ref.copy()
    pred[7:18, 11:14, 11:14] = True  # a bridge: one predicted component over both
    return shape, ref, pred


def tiny_case():
    shape = (32, 32, 24)
    ref = ellipsoid(shape, (10, 10, 12), (5, 5, 5))
    ref |= ellipsoid(shape, (24, 24, 6), (1.5, 1.5, 1.5))  # under 50 mm^3
    ref[25:27, 5:7, 18:20] = True  # 8 voxels
    pred = ellipsoid(shape, (10, 11, 12), (5, 5, 4))
    pred[24:26, 23:25, 5:7] = True  # hits the small lesion
    pred[2:4, 28:30, 2:4] = True  # a small false positive
    return shape, ref, pred


def diagonal_case():
    shape = (16, 16, 16)
    ref = np.zeros(shape, bool)
    ref[2:5, 2:5, 2:5] = True
    ref[5:8, 5:8, 5:8] = True  # touches the first block at one corner only
    ref[10:12, 2:4, 2:4] = True
    ref[12:14, 4:6, 2:4] = True  # touches the previous block along an edge only
    pred = np.zeros(shape, bool)
    pred[2:5, 2:5, 2:5] = True
    pred[5:8, 5:8, 5:8] = True
    pred[10:14, 2:6, 2:4] = True
    return shape, ref, pred


def empty_prediction_case():
    shape = (20, 20, 20)
    ref = ellipsoid(shape, (6, 6, 6), (3, 3, 3)) | ellipsoid(shape, (14, 14, 14), (4, 3, 3))
    return shape, ref, np.zeros(shape, bool)


def empty_reference_case():
    shape = (20, 20, 20)
    pred = ellipsoid(shape, (6, 6, 6), (3, 3, 3)) | ellipsoid(shape, (14, 14, 14), (4, 3, 3))
    return shape, np.zeros(shape, bool), pred


def anisotropic_case():
    shape = (40, 24, 12)
    ref = ellipsoid(shape, (12, 10, 6), (8, 5, 3)) | ellipsoid(shape, (30, 16, 5), (5, 4, 2))
    pred = ellipsoid(shape, (13, 10, 6), (7, 5, 3)) | ellipsoid(shape, (31, 15, 6), (5, 3, 2))
    pred |= ellipsoid(shape, (30, 4, 9), (3, 2, 1))
    return shape, ref, pred


def ms_case(shape=(96, 96, 64), lesions=40, seed=40):
    rng = np.random.default_rng(seed)
    ref = np.zeros(shape, bool)
    pred = np.zeros(shape, bool)
    scale = shape[0] / 96.0
    for n in range(lesions):
        centre = [rng.uniform(6, s - 6) for s in shape]
        radii = [rng.uniform(1.2, 4.0) * scale for _ in range(3)]
        ref |= ellipsoid(shape, centre, radii)
        fate = n % 8
        if fate == 0:
            continue  # missed
        if fate == 1:  # shifted by a voxel or two
            centre = [c + rng.integers(-2, 3) for c in centre]
        if fate == 2:  # shrunk
            radii = [r * 0.7 for r in radii]
        blob = ellipsoid(shape, centre, radii)
        if fate == 3:  # split by a plane through the centre
            blob[int(round(centre[0])), :, :] = False
        pred |= blob
    for _ in range(6):  # false positives
        centre = [rng.uniform(6, s - 6) for s in shape]
        pred |= ellipsoid(shape, centre, [rng.uniform(1.0, 3.0) * scale for _ in range(3)])
    return shape, ref, pred


def brats_case(shape=(96, 96, 80), seed=2023):
    rng = np.random.default_rng(seed)
    s = shape[0] / 96.0
    c = (48 * s, 44 * s, 40 * shape[2] / 80.0)

    def labels(centre, r, satellite):
        out = np.zeros(shape, np.uint8)
        out[ellipsoid(shape, centre, (r[0] * 1.6, r[1] * 1.5, r[2] * 1.4))] = 2  # oedema
        core = ellipsoid(shape, centre, r)
        out[core] = 3  # enhancing rim
        out[ellipsoid(shape, centre, (r[0] * 0.6, r[1] * 0.6, r[2] * 0.6))] = 1  # necrotic centre
        out[ellipsoid(shape, satellite, (4 * s, 4 * s, 3))] = 3  # a satellite enhancing lesion
        return out

    ref = labels(c, (14 * s, 12 * s, 10), (75 * s, 70 * s, 20))
    jitter = [x + rng.uniform(-1.5, 1.5) for x in c]
    pred = labels(jitter, (13 * s, 12.5 * s, 9), (20 * s, 75 * s, 60))  # misses the satellite, adds one
    pred[ellipsoid(shape, (75 * s, 70 * s, 21), (1.2, 1.2, 1.2))] = 1  # a tiny NCR blob near the satellite
    return shape, ref, pred


def regions_case():
    """nnU-Net's relabelled BraTS (Dataset137: 1 edema, 2 non-enhancing, 3 enhancing; TC = {2, 3})
    with an ignore label 4 over a slab of the reference, and its dataset.json."""
    shape, ref, pred = brats_case()
    relabel = np.array([0, 2, 1, 3], np.uint8)  # BraTS 1 NCR -> 2, 2 ED -> 1, 3 ET -> 3
    ref, pred = relabel[ref], relabel[pred]
    ref[:, 40:46, :][ref[:, 40:46, :] > 0] = 4  # sparsely annotated: unknown there
    ref[10:14, 10:14, 10:14] = 4  # and a stray patch the prediction marks as tumour
    pred[10:14, 10:14, 10:12] = 1
    dataset = {
        "channel_names": {"0": "T1", "1": "T1ce", "2": "T2", "3": "FLAIR"},
        "labels": {"background": 0, "whole tumor": [1, 2, 3], "tumor core": [2, 3], "enhancing tumor": 3,
                   "ignore": 4},
        "regions_class_order": [1, 2, 3],
        "numTraining": 1,
        "file_ending": ".nii.gz",
    }
    return shape, ref, pred, dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--bench", action="store_true", help="full-size ms and brats pairs only")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    if args.bench:
        _, ref, pred = ms_case(shape=(256, 256, 160), lesions=46, seed=46)
        save(args.folder, "ms46", ref, pred)
        _, ref, pred = brats_case(shape=(240, 240, 155))
        save(args.folder, "brats", ref, pred)
        return
    for name, make, spacing in (
        ("split", split_case, (1.0, 1.0, 1.0)),
        ("merged", merged_case, (1.0, 1.0, 1.0)),
        ("tiny", tiny_case, (1.0, 1.0, 1.0)),
        ("diagonal", diagonal_case, (1.0, 1.0, 1.0)),
        ("empty_prediction", empty_prediction_case, (1.0, 1.0, 1.0)),
        ("empty_reference", empty_reference_case, (1.0, 1.0, 1.0)),
        ("anisotropic", anisotropic_case, (0.5, 1.0, 2.0)),
        ("ms40", ms_case, (1.0, 1.0, 1.0)),
        ("brats", brats_case, (1.0, 1.0, 1.0)),
    ):
        _, ref, pred = make()
        save(args.folder, name, ref, pred, spacing)
    _, ref, pred, dataset = regions_case()
    save(args.folder, "regions", ref, pred)
    with open(os.path.join(args.folder, "regions_dataset.json"), "w") as f:
        json.dump(dataset, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
