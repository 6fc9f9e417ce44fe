"""maskeval.batch gives batch's rows and summary, also through a process pool."""
import concurrent.futures
import json
import os

import pytest

import maskeval
from conftest import PAIRS, run_cli, sample_path


def make_folders(tmp_path):
    refs, preds = tmp_path / "refs", tmp_path / "preds"
    refs.mkdir()
    preds.mkdir()
    for name, (ref, pred) in PAIRS.items():
        os.symlink(sample_path(ref), refs / (name + ".nii.gz"))
        os.symlink(sample_path(pred), preds / (name + ".nii.gz"))
    os.symlink(sample_path(PAIRS["jhu"][0]), refs / "unpredicted.nii.gz")
    (refs / "broken.nii").write_bytes(b"not a NIfTI file")
    (preds / "broken.nii").write_bytes(b"not a NIfTI file")
    # One case with two prediction files: an error row, never one of them picked silently.
    os.symlink(sample_path(PAIRS["jhu"][0]), refs / "twice.nii.gz")
    os.symlink(sample_path(PAIRS["jhu"][1]), preds / "twice.nii.gz")
    os.symlink(sample_path(PAIRS["jhu"][1]), preds / "twice.nii")
    return str(refs), str(preds)


def test_batch_with_a_process_pool_equals_the_cli(tmp_path):
    refs, preds = make_folders(tmp_path)
    rows_path, summary_path = tmp_path / "rows.json", tmp_path / "summary.json"
    status, table, stderr = run_cli("batch", refs, preds, "--output", rows_path, "--format", "json", "--summary",
                                    summary_path, "--penalty-mm", "50", check=False)
    assert status == 65  # the broken case
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        with pytest.warns(maskeval.MaskEvalWarning) as caught:
            result = maskeval.batch((refs, preds), penalty_mm=50, executor=pool)
    # What the CLI says after its table, the API says too: failed cases word for word, and the
    # case without a prediction (the CLI's 65 without --allow-missing), as warnings and notes.
    assert [str(w.message) for w in caught] == ["maskeval: " + note for note in result.notes]
    failed = [line[len("maskeval: "):] for line in stderr.splitlines() if line.startswith("maskeval: case ")]
    assert len(failed) == 2 and all(line in result.notes for line in failed)
    assert "note: 1 case(s) without a prediction: unpredicted" in result.notes
    assert result.cases_without_prediction == ["unpredicted"]
    assert result.rows_document() == json.loads(rows_path.read_text())
    assert result.summary == json.loads(summary_path.read_text())
    assert repr(result) == table
    assert result.error_cases == ["broken", "twice"]
    assert any("has 2 files" in row["error"] for row in result.rows if row["case"] == "twice")
    serial = maskeval.batch([("jhu", sample_path(PAIRS["jhu"][0]), sample_path(PAIRS["jhu"][1]))])
    assert serial.rows == [row for row in result.rows if row["case"] == "jhu"]


def test_batch_on_a_dask_local_cluster_equals_the_serial_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    refs, preds = make_folders(tmp_path)
    serial = maskeval.batch((refs, preds), threads=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            result = maskeval.batch((refs, preds), threads=1, executor=client)
    assert result.rows == serial.rows
    assert result.summary == serial.summary
