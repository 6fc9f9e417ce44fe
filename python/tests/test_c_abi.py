"""The header is the interface: a C program written against maskeval.h alone compiles, links
and gets the same report as Python does for the same arrays."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

import maskeval
from conftest import ROOT

HERE = os.path.dirname(os.path.abspath(__file__))


def test_a_c_caller_gets_the_same_report(tmp_path):
    compiler = shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    library = os.environ.get("MASKEVAL_LIBRARY")
    if compiler is None or not library:
        pytest.skip("needs a C compiler and MASKEVAL_LIBRARY")
    program = str(tmp_path / "abi_example")
    subprocess.run([compiler, "-std=c11", "-Wall", "-Werror", "-I", os.path.join(ROOT, "Sources/MaskEvalC/include"),
                    os.path.join(HERE, "data", "abi_example.c"), library, "-o", program, "-lm"], check=True)
    done = subprocess.run([program], capture_output=True, text=True,
                          env=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(library)))
    assert done.returncode == 0, done.stderr
    reference = np.zeros((6, 5, 4), np.uint8)
    reference[1:4, 1:4, 1:3] = 7
    prediction = np.zeros((6, 5, 4), ">i2")
    prediction[2:5, 1:4, 1:3] = 7
    expected = maskeval.compare(reference, prediction, (1, 2, 3), preset="all", threads=1)
    assert json.loads(done.stdout) == expected.to_dict()
    assert done.stderr.strip() == ("65 2 <reference array>: voxel spacing along j is -2.0 (spacing[1]); "
                                   "it must be positive (1e-6 to 1e6 mm)")
