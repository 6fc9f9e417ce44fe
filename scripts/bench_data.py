#!/usr/bin/env python3
"""Prepares the benchmark pairs in bench-data/ (deterministic; numpy only):

1. aal_reference / aal_prediction: Debian mricron-data's AAL atlas (181 x 217 x 181, 1 mm,
   116 labels) and a perturbed copy (scripts/perturb.py: shifts, dilations, erosions, a
   removed label, spurious islands, dropped boundary voxels).
2. ct_reference / ct_prediction: the same pair upsampled with nearest neighbour to
   500 x 500 x 400 voxels (0.362 x 0.434 x 0.4525 mm), a CT-sized volume, with boundary
   voxels dropped at the fine scale too.
3. wb_reference / wb_prediction: the same again at 512 x 512 x 855 voxels (224 M, whole-body-CT
   sized; for scripts/scaling).
4. a copy of AICHA and HarvardOxford with perturbations, for scripts/cross-check.
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


def upsampled_pair(aal, pred, affine, shape, reference_path, prediction_path):
    """The AAL pair upsampled (nearest neighbour) to `shape`, with boundary voxels of the
    prediction dropped at the fine scale too."""
    scale = np.array(aal.shape) / np.array(shape)
    fine_affine = affine.copy()
    fine_affine[:3, :3] = affine[:3, :3] * scale
    # Voxel centres: the fine grid starts at the coarse grid's first corner.
    fine_affine[:3, 3] = affine[:3, 3] + affine[:3, :3] @ (scale / 2 - 0.5)
    fine_ref = upsample(aal, shape)
    fine_pred = upsample(pred, shape)
    rng = np.random.default_rng(5)
    edge = (fine_pred > 0) & ~erode(fine_pred > 0)
    fine_pred[edge & (rng.random(fine_pred.shape, dtype=np.float32) < 0.05)] = 0
    nifti_lite.write(reference_path, fine_ref, fine_affine)
    nifti_lite.write(prediction_path, fine_pred, fine_affine)


def main():
    os.makedirs(OUT, exist_ok=True)
    aal, affine = nifti_lite.read(os.path.join(MRICRON, "aal.nii.gz"))
    aal = aal.astype(np.uint8)
    pred = perturb(aal, seed=11)
    paths = {name: os.path.join(OUT, name + ".nii.gz") for name in
             ("aal_reference", "aal_prediction", "ct_reference", "ct_prediction", "wb_reference",
              "wb_prediction")}
    if not os.path.exists(paths["aal_prediction"]):
        nifti_lite.write(paths["aal_reference"], aal, affine)
        nifti_lite.write(paths["aal_prediction"], pred, affine)
    for prefix, shape in (("ct", (500, 500, 400)), ("wb", (512, 512, 855))):
        if not os.path.exists(paths[prefix + "_prediction"]):
            upsampled_pair(aal, pred, affine, shape, paths[prefix + "_reference"], paths[prefix + "_prediction"])
    for name in ("AICHAmc", "HarvardOxford-cort-maxprob-thr0-1mm"):
        target = os.path.join(OUT, name + "_prediction.nii.gz")
        if not os.path.exists(target):
            ref, aff = nifti_lite.read(os.path.join(MRICRON, name + ".nii.gz"))
            ref = ref.astype(np.uint8)
            nifti_lite.write(os.path.join(OUT, name + "_reference.nii.gz"), ref, aff)
            nifti_lite.write(target, perturb(ref, seed=3), aff)


if __name__ == "__main__":
    main()
