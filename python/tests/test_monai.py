"""maskeval.monai equals MONAI's own outputs, stored by scripts/cross_check_monai.py (MONAI
1.x on the same one-hot inputs, rebuilt here by the script's `cases()`)."""
import json
import os

import numpy as np
import pytest

import maskeval.monai
from cross_check_monai import cases, decode

EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "monai_expected.json")

# MONAI computes distances in float32 (and torch.quantile in float32); maskeval in float64
# and returns float32: a few float32 ulps apart at most.
RTOL = 4e-7 * 8


@pytest.fixture(scope="module")
def stored():
    with open(EXPECTED) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def inputs():
    return cases()


def test_stored_outputs_cover_every_case(stored, inputs):
    assert sorted(stored["cases"]) == sorted(inputs)
    assert stored["monai_version"].startswith("1.")


@pytest.mark.parametrize("name", ["jhu-crops-3d", "abdomen-slice-2d", "jhu-overlapping-3d", "abdomen-half-3d"])
def test_helper_equals_monai(stored, inputs, name):
    case = inputs[name]
    for call in stored["cases"][name]["calls"]:
        kwargs = dict(call["kwargs"])
        function = getattr(maskeval.monai, call["function"])
        got = function(case["y_pred"], case["y"], spacing=case["spacing"], **kwargs)
        want = decode(call["result"])
        assert got.shape == want.shape and got.dtype == np.float32
        # NaN and inf in the same places, finite values within RTOL.
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=str(call["kwargs"]))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want), err_msg=str(call["kwargs"]))
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, equal_nan=True,
                                   err_msg="%s %s %s" % (name, call["function"], call["kwargs"]))


def test_every_empty_mask_case_occurs(stored):
    """The stored outputs hold NaN (empty in both), inf (empty in one) and NSD 0."""
    values = [decode(call["result"]) for case in stored["cases"].values() for call in case["calls"]]
    assert any(np.isnan(v).any() for v in values)
    assert any(np.isinf(v).any() for v in values)
    nsd = [decode(call["result"]) for case in stored["cases"].values() for call in case["calls"]
           if call["function"] == "surface_dice"]
    assert any((v == 0).any() for v in nsd)


def test_bad_shapes_raise_input_error():
    with pytest.raises(maskeval.InputError):
        maskeval.monai.hausdorff(np.zeros((1, 2, 4, 4)), np.zeros((1, 2, 4, 5)))
    with pytest.raises(maskeval.InputError):
        maskeval.monai.surface_dice(np.zeros((1, 3, 4, 4)), np.zeros((1, 3, 4, 4)), [1.0])
