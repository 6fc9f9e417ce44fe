#!/usr/bin/env python3
"""Generates SampleVolumes/ deterministically (numpy only; run: python3 scripts/make_samples.py).

1. abdomen_ct_{reference,prediction}.nii.gz: a synthetic abdominal CT label map of 12 organs
   on 256 x 256 x 100 voxels at 0.8 x 0.8 x 2.5 mm (LPS), and a prediction with the errors
   models make: shifted boundaries, a missed small organ, a false-positive island, an
   over-segmented organ, an eroded organ and boundary noise.
2. jhu_wm_2mm_{reference,prediction}.nii.gz: Debian mricron-data's JHU-WhiteMatter-labels-2mm
   (BSD-3) and a deterministic perturbation of it.
"""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nifti_lite  # noqa: E402
from perturb import dilate, erode, perturb, shift  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "SampleVolumes")
MRICRON = "/usr/share/mricron/templates"

ORGANS = [
    (1, "spleen"), (2, "kidney_right"), (3, "kidney_left"), (4, "gallbladder"), (5, "liver"),
    (6, "stomach"), (7, "aorta"), (8, "inferior_vena_cava"), (9, "pancreas"),
    (10, "adrenal_gland_right"), (11, "adrenal_gland_left"), (12, "duodenum"),
]


def abdomen():
    nx, ny, nz = 256, 256, 100
    spacing = np.array([0.8, 0.8, 2.5])
    # LPS, as DICOM-derived NIfTI often is: world x and y run opposite to i and j.
    affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    affine[:3, 3] = [102.0, 102.0, -125.0]
    i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij", sparse=True)
    # Patient coordinates in mm: x to the patient's left, y anterior, z superior.
    x = (i - nx / 2) * spacing[0]
    y = (j - ny / 2) * spacing[1]
    z = (k - nz / 2) * spacing[2]
    rng = np.random.default_rng(20261127)

    def ellipsoid(c, r, wobble=0.0, seed=0):
        d = ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2
        if wobble:
            phase = np.random.default_rng(seed).uniform(0, 2 * np.pi, 3)
            d = d * (1 + wobble * np.sin(x / 9 + phase[0]) * np.sin(y / 11 + phase[1]) * np.sin(z / 13 + phase[2]))
        return d <= 1

    def tube(points, radius):
        mask = np.zeros((nx, ny, nz), bool)
        for (a, b) in zip(points[:-1], points[1:]):
            a, b = np.array(a, float), np.array(b, float)
            ab = b - a
            t = ((x - a[0]) * ab[0] + (y - a[1]) * ab[1] + (z - a[2]) * ab[2]) / ab.dot(ab)
            t = np.clip(t, 0, 1)
            d2 = (x - a[0] - t * ab[0]) ** 2 + (y - a[1] - t * ab[1]) ** 2 + (z - a[2] - t * ab[2]) ** 2
            mask |= d2 <= radius ** 2
        return mask

    body = ellipsoid((0, 0, 0), (98, 80, 400))
    shapes = {
        5: ellipsoid((-42, 8, 45), (52, 52, 62), 0.25, 5) & (x < 15),
        1: ellipsoid((58, -35, 55), (20, 34, 42), 0.2, 1),
        2: ellipsoid((-45, -42, -15), (20, 25, 48), 0.1, 2),
        3: ellipsoid((45, -42, -8), (20, 25, 48), 0.1, 3),
        4: ellipsoid((-22, 38, 12), (11, 14, 24), 0.1, 4),
        6: ellipsoid((35, 22, 58), (32, 26, 40), 0.2, 6),
        7: tube([(6, -22, -125), (6, -22, 125)], 10),
        8: tube([(-20, -16, -125), (-20, -16, 125)], 9),
        9: tube([(-12, 2, 8), (15, -2, 18), (48, -14, 30)], 8),
        10: ellipsoid((-33, -32, 48), (4, 9, 14)),
        11: ellipsoid((33, -32, 50), (4, 9, 14)),
        12: tube([(-30, 10, 20), (-32, 8, -10), (-10, 4, -22), (10, 0, -12)], 9),
    }
    reference = np.zeros((nx, ny, nz), np.uint8)
    for label, _ in ORGANS:
        reference[shapes[label] & body] = label

    prediction = reference.copy()
    # Liver boundary shifted by 2 voxels along i and 1 along j.
    liver = reference == 5
    prediction[liver] = 0
    prediction[shift(liver, (2, 1, 0)) & ((prediction == 0) | (prediction == 5))] = 5
    # Left kidney dilated by one voxel into the background.
    prediction[dilate(reference == 3) & (prediction == 0)] = 3
    # Left adrenal gland missed.
    prediction[prediction == 11] = 0
    # Stomach over-segmented: two voxels of growth, over its neighbours too.
    prediction[dilate(reference == 6, 2) & body] = 6
    # Pancreas eroded by one voxel.
    pancreas = reference == 9
    prediction[pancreas & ~erode(pancreas)] = 0
    # A false-positive spleen island next to the liver.
    prediction[ellipsoid((-70, -20, -30), (6, 6, 8))] = 1
    # Boundary noise on every structure: 8 % of boundary voxels flip to background.
    edge = (prediction > 0) & ~erode(prediction > 0)
    prediction[edge & (rng.random(prediction.shape) < 0.08)] = 0
    return reference, prediction, affine


def jhu():
    reference, affine = nifti_lite.read(os.path.join(MRICRON, "JHU-WhiteMatter-labels-2mm.nii.gz"))
    reference = reference.astype(np.uint8)
    return reference, perturb(reference, seed=7, islands=1), affine


def main():
    os.makedirs(OUT, exist_ok=True)
    reference, prediction, affine = abdomen()
    nifti_lite.write(os.path.join(OUT, "abdomen_ct_reference.nii.gz"), reference, affine, "MaskEval synthetic abdomen")
    nifti_lite.write(os.path.join(OUT, "abdomen_ct_prediction.nii.gz"), prediction, affine,
                     "MaskEval synthetic abdomen prediction")
    with open(os.path.join(OUT, "abdomen_ct_labels.txt"), "w") as f:
        for label, name in ORGANS:
            f.write("%d %s\n" % (label, name))
    if not os.path.exists(os.path.join(MRICRON, "JHU-WhiteMatter-labels-2mm.nii.gz")):
        sys.exit("mricron-data is missing: apt-get install -y mricron-data")
    reference, prediction, affine = jhu()
    nifti_lite.write(os.path.join(OUT, "jhu_wm_2mm_reference.nii.gz"), reference, affine, "JHU WM labels 2mm")
    nifti_lite.write(os.path.join(OUT, "jhu_wm_2mm_prediction.nii.gz"), prediction, affine,
                     "JHU WM labels 2mm, perturbed")
    shutil.copyfile(os.path.join(MRICRON, "JHU-WhiteMatter-labels-2mm.nii.txt"), os.path.join(OUT, "jhu_wm_2mm_labels.txt"))


if __name__ == "__main__":
    main()
