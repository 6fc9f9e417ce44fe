"""Shared fixtures: the sample volumes (read with numpy alone, scripts/nifti_lite.py) and the
`maskeval` CLI, whose JSON is the expected output of every comparison.

The CLI and the library come from the build that scripts/test-python makes: MASKEVAL_CLI
(default .build/debug/maskeval) and MASKEVAL_LIBRARY (read by the package itself).
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, "SampleVolumes")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import nifti_lite  # noqa: E402

CLI = os.environ.get("MASKEVAL_CLI", os.path.join(ROOT, ".build", "debug", "maskeval"))

PAIRS = {
    "jhu": ("jhu_wm_2mm_reference.nii.gz", "jhu_wm_2mm_prediction.nii.gz"),
    "abdomen": ("abdomen_ct_reference.nii.gz", "abdomen_ct_prediction.nii.gz"),
}


def sample_path(name):
    return os.path.join(SAMPLES, name)


def run_cli(*args, check=True):
    """Runs the CLI; returns (exit status, stdout, stderr)."""
    done = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError("maskeval %s failed (%d): %s" % (" ".join(map(str, args)), done.returncode, done.stderr))
    return done.returncode, done.stdout, done.stderr


def cli_json(*args):
    return json.loads(run_cli(*args, "--format", "json")[1])


def cli_error(*args):
    """The CLI's one-line error message (without 'maskeval: error: ') and its status."""
    status, _, stderr = run_cli(*args, check=False)
    assert status != 0, "maskeval %s succeeded" % (args,)
    return status, stderr.strip().splitlines()[0].removeprefix("maskeval: error: ")


@pytest.fixture(scope="session")
def samples():
    """name -> (reference array, prediction array, CLI JSON of the pair)."""
    out = {}
    for name, (ref, pred) in PAIRS.items():
        reference, _ = nifti_lite.read(sample_path(ref))[:2]
        prediction, _ = nifti_lite.read(sample_path(pred))[:2]
        out[name] = (reference, prediction, cli_json("compare", sample_path(ref), sample_path(pred)))
    return out


@pytest.fixture(scope="session")
def jhu_crop(samples):
    """A 40×50×30 crop of the JHU pair (many labels, cheap), as int16 (labels < 128)."""
    reference, prediction, _ = samples["jhu"]
    window = (slice(25, 65), slice(30, 80), slice(30, 60))
    return (np.ascontiguousarray(reference[window], dtype=np.int16),
            np.ascontiguousarray(prediction[window], dtype=np.int16))


def write_nifti(path, data, spacing):
    affine = np.diag(list(spacing) + [1.0])
    nifti_lite.write(str(path), data, affine)
    return str(path)
