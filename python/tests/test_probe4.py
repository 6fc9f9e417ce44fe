"""Findings of the fourth new-user probe (the deployed user's side), one test each."""
import warnings

import numpy as np
import pytest

import maskeval
import maskeval.monai


def _one_hot_cube():
    y = np.zeros((1, 2, 12, 12, 12), np.float32)
    y[0, 1, 3:9, 3:9, 3:9] = 1
    y[0, 0] = 1 - y[0, 1]
    return y


@pytest.mark.parametrize("value", [0.7, np.nan, 2.0, -1.0])
def test_monai_helpers_refuse_values_other_than_0_and_1(value):
    # MONAI compares a non-boolean input with 1 (get_mask_edges: seg == label_idx), so a
    # probability map's 0.7 is background there; the helpers read every non-zero value as
    # foreground and gave other numbers without a word (HD 0 where MONAI gives 2).
    y = _one_hot_cube()
    y_pred = y.copy()
    y_pred[0, 1, 3:9, 3:9, 7:9] = value
    for call in (lambda: maskeval.monai.hausdorff(y_pred, y),
                 lambda: maskeval.monai.mean_surface_distance(y, y_pred),
                 lambda: maskeval.monai.surface_dice(y_pred, y, [1.0])):
        with pytest.raises(maskeval.InputError, match=r"should be binarized \(0 or 1\): \(0, 1, 3, 3, 7\) holds"):
            call()


def test_monai_helpers_take_bool_and_integer_one_hot():
    y = _one_hot_cube()
    expected = maskeval.monai.hausdorff(y, y)
    assert np.array_equal(maskeval.monai.hausdorff(y.astype(bool), y.astype(np.uint8)), expected)


def test_two_empty_arrays_warn_that_nothing_was_evaluated():
    # A report without a row came back without a word (a CSV of its header only in the CLI).
    empty = np.zeros((4, 4, 4), np.uint8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = maskeval.compare(empty, empty, (1, 1, 1))
    assert report.labels == []
    assert any("no structure was evaluated" in note for note in report.notes)
    assert any(issubclass(w.category, maskeval.MaskEvalWarning) for w in caught)


@pytest.mark.parametrize("keyword", ["binary", "resample", "ignore_geometry"])
def test_boolean_options_refuse_strings(keyword, tmp_path):
    # binary="false" is a non-empty string, so truth testing made it True: the masks were
    # binarized without a word.
    cube = np.zeros((4, 4, 4), np.uint8)
    cube[1:3, 1:3, 1:3] = 2
    with pytest.raises(maskeval.InputError, match="%s must be True or False, not 'false'" % keyword):
        if keyword == "binary":
            maskeval.compare(cube, cube, (1, 1, 1), binary="false")
        else:
            maskeval.compare_files("/nonexistent/a.nii", "/nonexistent/b.nii", **{keyword: "false"})
    assert maskeval.compare(cube, cube, (1, 1, 1), binary=np.bool_(False)).labels[0]["label"] == 2
    assert maskeval.compare(cube, cube, (1, 1, 1), binary=1).labels[0]["label"] == 1


def test_threads_must_be_whole():
    # threads=2.7 ran on 2 threads without a word (int() cut it).
    cube = np.zeros((4, 4, 4), np.uint8)
    cube[1:3, 1:3, 1:3] = 1
    for value in (2.7, "2", True):
        with pytest.raises(maskeval.InputError, match="threads must be a whole number"):
            maskeval.compare(cube, cube, (1, 1, 1), threads=value)
    assert maskeval.compare(cube, cube, (1, 1, 1), threads=np.int64(2)).labels[0]["dice"] == 1.0


def test_empty_file_name_is_spelled_out(tmp_path):
    # compare_files(reference, "") said ": no such file", naming nothing.
    with pytest.raises(maskeval.MissingFileError, match=r"^'' \(an empty file name\): no such file$"):
        maskeval.compare_files("", "")


def test_batch_names_a_case_whose_volumes_are_both_empty(tmp_path):
    # Such a case had no row, no aggregate and no count, without a word.
    import nifti_lite  # scripts/, put on the path by conftest
    empty = np.zeros((3, 3, 3), np.uint8)
    cube = empty.copy()
    cube[1, 1, 1] = 1
    paths = {}
    for name, volume in (("a", empty), ("c", cube)):
        paths[name] = str(tmp_path / (name + ".nii.gz"))
        nifti_lite.write(paths[name], volume, np.eye(4))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        result = maskeval.batch([("a", paths["a"], paths["a"]), ("c", paths["c"], paths["c"])])
    assert any("neither volume of 1 of the 2 cases (a) has a non-zero label" in note for note in result.notes), \
        result.notes


def test_batch_gives_the_notes_of_each_case_facts(tmp_path):
    # A case whose labels scl_slope changes: the CLI's batch notes it, and Python's batch
    # said nothing (the case's facts stayed in the C library; only its rows came back).
    import struct
    import nifti_lite  # scripts/, put on the path by conftest
    cube = np.zeros((4, 4, 4), np.uint8)
    cube[1:3, 1:3, 1:3] = 1
    plain, scaled = str(tmp_path / "plain.nii"), str(tmp_path / "scaled.nii")
    nifti_lite.write(plain, cube, np.eye(4))
    nifti_lite.write(scaled, cube, np.eye(4))
    with open(scaled, "r+b") as f:  # scl_slope (offset 112) = 2: stored 1 reads as label 2
        f.seek(112)
        f.write(struct.pack("<f", 2.0))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        result = maskeval.batch([("s", scaled, scaled), ("p", plain, plain)])
    cli = run_cli_notes(scaled)
    assert cli, "the CLI gives a scaled-labels note"
    assert any("case s:" in note and "scl_slope" in note for note in result.notes), result.notes


def run_cli_notes(path):
    """The notes of the CLI's compare of `path` with itself (stderr lines)."""
    from conftest import run_cli
    _, _, stderr = run_cli("compare", path, path, check=False)
    return [line for line in stderr.splitlines() if "scl_slope" in line]
