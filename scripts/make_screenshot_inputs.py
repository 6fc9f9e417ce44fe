#!/usr/bin/env python3
"""Inputs of scripts/screenshots, deterministic (numpy only), written under screenshots/inputs/:

1. abdomen_ct_image.nii.gz: a CT-like image for the synthetic abdomen (SampleVolumes), made
   from its reference labels: a Hounsfield value per organ (contrast-enhanced vessels and
   kidneys), an elliptic body of fat with a muscle wall in air (-1000 HU), Gaussian noise.
2. aal_prediction.nii.gz: Debian mricron-data's AAL atlas (117 values, 181 x 217 x 181 at 1 mm)
   perturbed by scripts/perturb.py, Cerebelum_Crus1_L (91) missed, a spurious island of label 200.
3. batch/{ref,pred}/case_NN.nii.gz: 20 nnU-Net-style cases from the JHU white-matter atlas
   (2 mm), each perturbed with its own seed; case_05 has no prediction, case_13's prediction
   is truncated (an error), case_17's has a far false-positive island.
Run: python3 scripts/make_screenshot_inputs.py
"""
import gzip
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nifti_lite  # noqa: E402
from perturb import perturb  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "screenshots", "inputs")
MRICRON = "/usr/share/mricron/templates"

# Hounsfield values per label of SampleVolumes/abdomen_ct_labels.txt (portal-venous phase).
HU = {1: 110, 2: 160, 3: 160, 4: 10, 5: 100, 6: 35, 7: 180, 8: 150, 9: 90, 10: 60, 11: 60, 12: 70}


def ct_image():
    labels, affine = nifti_lite.read(os.path.join(ROOT, "SampleVolumes", "abdomen_ct_reference.nii.gz"))
    nx, ny, nz = labels.shape
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    # The body: an ellipse around the organs in every axial slice.
    where = np.nonzero(labels)
    ci, cj = (where[0].min() + where[0].max()) / 2, (where[1].min() + where[1].max()) / 2
    ri = (where[0].max() - where[0].min()) / 2 + 22
    rj = (where[1].max() - where[1].min()) / 2 + 18
    r = ((i - ci) / ri) ** 2 + ((j - cj) / rj) ** 2
    body = np.where(r <= 1, np.where(r > 0.86, 50.0, -100.0), -1000.0)
    image = np.repeat(body[:, :, None], nz, axis=2)
    for label, value in HU.items():
        image[labels == label] = value
    rng = np.random.default_rng(3)
    image += rng.normal(0, 12, image.shape)
    return np.round(image).astype(np.int16), affine


def main():
    os.makedirs(OUT, exist_ok=True)
    image, affine = ct_image()
    nifti_lite.write(os.path.join(OUT, "abdomen_ct_image.nii.gz"), image, affine, "CT-like image from labels")

    aal, affine = nifti_lite.read(os.path.join(MRICRON, "aal.nii.gz"))
    aal = aal.astype(np.uint8)
    prediction = perturb(aal, seed=11, islands=3)
    prediction[prediction == 91] = 0  # Cerebelum_Crus1_L missed
    prediction[150:154, 30:34, 60:64] = 200  # a spurious structure
    nifti_lite.write(os.path.join(OUT, "aal_prediction.nii.gz"), prediction, affine, "AAL perturbed")

    jhu, affine = nifti_lite.read(os.path.join(MRICRON, "JHU-WhiteMatter-labels-2mm.nii.gz"))
    jhu = jhu.astype(np.uint8)
    for side in ("ref", "pred"):
        os.makedirs(os.path.join(OUT, "batch", side), exist_ok=True)
    for case in range(20):
        name = "case_%02d.nii.gz" % case
        nifti_lite.write(os.path.join(OUT, "batch", "ref", name), jhu, affine, "JHU reference")
        if case == 5:
            continue
        prediction = perturb(jhu, seed=100 + case, islands=1 + case % 3)
        if case == 17:
            prediction[5:8, 5:8, 5:8] = 7
        path = os.path.join(OUT, "batch", "pred", name)
        nifti_lite.write(path, prediction, affine, "JHU perturbed")
        if case == 13:
            data = open(path, "rb").read()
            open(path, "wb").write(data[: len(data) // 3])


if __name__ == "__main__":
    main()
