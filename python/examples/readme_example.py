"""The README's example: nibabel loads two label files, maskeval compares the arrays.
Usage: python readme_example.py REFERENCE.nii.gz PREDICTION.nii.gz"""
import sys

import nibabel as nib
import maskeval

ref, pred = nib.load(sys.argv[1]), nib.load(sys.argv[2])
report = maskeval.compare(
    ref.dataobj, pred.dataobj,                 # labels as stored (any integer dtype), no float copy
    spacing=ref.header.get_zooms()[:3],        # mm per array axis
    preset="monai", tolerance=1.0)             # MONAI's definitions, NSD at 1 mm
print(report)                                  # the CLI's table
frame = report.to_pandas()                     # one row per label (needs pandas)
print(frame[["status", "dice", "hd95_mm", "assd_mm", "nsd"]].head())
