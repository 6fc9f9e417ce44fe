#!/usr/bin/env python3
"""Prepares the benchmark pairs in bench-data/ (deterministic; numpy only):

1. aal_reference / aal_prediction: Debian mricron-data's AAL atlas (181 x 217 x 181, 1 mm,
   116 labels) and a perturbed copy (scripts/perturb.py: shifts, dilations, erosions, a
   removed label, spurious islands, dropped boundary voxels).
2. ct_reference / ct_prediction: the same pair upsampled with nearest neighbour to
   500 x 500 x 400 voxels (0.362 x 0.434 x 0.4525 mm), a CT-sized volume, with boundary
   voxels dropped at the fine scale too.
3. a copy of AICHA and HarvardOxford with perturbations, for scripts/cross-check.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nifti_lite  # noqa: E402
from perturb import erode, perturb  # noqa: E402

MRICRON = "/usr/share/mricron/templates"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench-data")


def upsample(volume, shape):
    idx = [np.minimum((np.arange(n) * volume.shape[a] / n).astype(int), volume.shape[a] - 1)
           for a, n in enumerate(shape)]
    return volume[np.ix_(*idx)]


def main():
    os.makedirs(OUT, exist_ok=True)
    aal, affine = nifti_lite.read(os.path.join(MRICRON, "aal.nii.gz"))
    aal = aal.astype(np.uint8)
    pred = perturb(aal, seed=11)
    paths = {name: os.path.join(OUT, name + ".nii.gz") for name in
             ("aal_reference", "aal_prediction", "ct_reference", "ct_prediction")}
    if not os.path.exists(paths["aal_prediction"]):
        nifti_lite.write(paths["aal_reference"], aal, affine)
        nifti_lite.write(paths["aal_prediction"], pred, affine)
    if not os.path.exists(paths["ct_prediction"]):
        shape = (500, 500, 400)
        scale = np.array(aal.shape) / np.array(shape)
        ct_affine = affine.copy()
        ct_affine[:3, :3] = affine[:3, :3] * scale
        # Voxel centres: the fine grid starts at the coarse grid's first corner.
        ct_affine[:3, 3] = affine[:3, 3] + affine[:3, :3] @ (scale / 2 - 0.5)
        ct_ref = upsample(aal, shape)
        ct_pred = upsample(pred, shape)
        rng = np.random.default_rng(5)
        edge = (ct_pred > 0) & ~erode(ct_pred > 0)
        ct_pred[edge & (rng.random(ct_pred.shape, dtype=np.float32) < 0.05)] = 0
        nifti_lite.write(paths["ct_reference"], ct_ref, ct_affine)
        nifti_lite.write(paths["ct_prediction"], ct_pred, ct_affine)
    for name in ("AICHAmc", "HarvardOxford-cort-maxprob-thr0-1mm"):
        target = os.path.join(OUT, name + "_prediction.nii.gz")
        if not os.path.exists(target):
            ref, aff = nifti_lite.read(os.path.join(MRICRON, name + ".nii.gz"))
            ref = ref.astype(np.uint8)
            nifti_lite.write(os.path.join(OUT, name + "_reference.nii.gz"), ref, aff)
            nifti_lite.write(target, perturb(ref, seed=3), aff)


if __name__ == "__main__":
    main()
