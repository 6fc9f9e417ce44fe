#!/usr/bin/env python3
"""Times the `meshmetrics` preset against the MeshMetrics 0.2.1 pipeline on VTK, and
`--compat all` against the default preset.

Two ratios, each like for like:
- process: a whole `maskeval compare --compat meshmetrics --format json` process (start,
  dynamic linking, reading both files, evaluating, writing the JSON) against a whole Python
  process running the peer (interpreter start, importing vtk, nibabel, numpy and scipy,
  reading both files with nibabel, evaluating);
- call: the work inside a running process: `maskeval.compare_files(REF, PRED,
  preset="meshmetrics")` of the Python package (reading both files and evaluating in the
  Swift engine, in-process; needs the release libMaskEvalC.so) against the peer's own timed
  section (reading with nibabel and evaluating), each timed in its own process.
Wall seconds, and CPU seconds (user + system, all threads) in brackets. MaskEval: median of
--runs runs (the calls in one Python process, so the offset tables are built once, as in a
batch). Each peer runs once: "cropped" is the VTK peer of scripts/cross_check_mesh.py
(float32 surface nets per label on the label's cropped, padded mask,
vtkDistancePolyDataFilter both ways, cell areas, the HD/HD95/ASSD/MASD/NSD reductions; no
BIoU), a lower bound of MeshMetrics' time; "as 0.2.1 runs" does what MeshMetrics 0.2.1
itself does, surface nets on the whole padded image per label and the triangle areas one
Python call per triangle (`vtk_compute_cell_sizes`). MaskEval computes biou too; the peers
do not.

Usage: scripts/bench_mesh.py [--runs 5] [--pairs jhu,aal] [--threads N] [--no-faithful]
  MASKEVAL_LIBRARY defaults to .build/release/libMaskEvalC.so
  (swift build -c release --product MaskEvalC); the AAL pair comes from scripts/bench_data.py;
  needs vtk nibabel numpy scipy (e.g. /work/venv-mesh).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import nibabel as nib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cross_check_mesh as peer  # noqa: E402

ROOT = peer.ROOT
PAIRS = {
    "jhu": ("SampleVolumes/jhu_wm_2mm_reference.nii.gz", "SampleVolumes/jhu_wm_2mm_prediction.nii.gz"),
    "aal": ("bench-data/aal_reference.nii.gz", "bench-data/aal_prediction.nii.gz"),
    "abdomen": ("SampleVolumes/abdomen_ct_reference.nii.gz", "SampleVolumes/abdomen_ct_prediction.nii.gz"),
}


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_process(command, runs):
    """Median wall and median CPU seconds of `runs` runs of a child process, and the
    standard output of the last one."""
    walls, cpus, out = [], [], ""
    for _ in range(runs):
        start, cpu = time.perf_counter(), children_cpu()
        out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
        walls.append(time.perf_counter() - start)
        cpus.append(children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus), out


def time_calls(ref, pred, runs, threads):
    """Median wall and CPU seconds of maskeval.compare_files with the meshmetrics preset in
    this process (process_time counts every thread of the process)."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import maskeval  # noqa: E402
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        maskeval.compare_files(ref, pred, preset="meshmetrics", threads=threads)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def faithful_areas(mesh):
    """MeshMetrics 0.2.1's `vtk_compute_cell_sizes`: one Python call per triangle."""
    return np.array([mesh.GetCell(index).ComputeArea() for index in range(mesh.GetNumberOfCells())])


def time_peer(ref_path, pred_path, faithful=False):
    """Wall and CPU seconds of one run. `faithful`: as MeshMetrics 0.2.1 runs on a label
    map's binary masks, each label's surface nets on the whole (padded) image and the cell
    areas one Python call per triangle; otherwise the label's crop and vectorized areas."""
    start, cpu = time.perf_counter(), time.process_time()
    ref_img, pred_img = nib.load(ref_path), nib.load(pred_path)
    ref = np.asarray(ref_img.dataobj).astype(np.int64)
    pred = np.asarray(pred_img.dataobj).astype(np.int64)
    spacing = peer.spacing_of(ref_img.affine)
    labels = sorted(set(np.unique(ref[ref > 0])) & set(np.unique(pred[pred > 0])))
    for label in labels:
        r, p = ref == label, pred == label
        if faithful:
            meshes = (peer.surface_nets(r, spacing), peer.surface_nets(p, spacing))
            d_rp, _, d_pr, _ = peer.directed(*meshes)
            peer.reductions(d_rp, faithful_areas(meshes[0]), d_pr, faithful_areas(meshes[1]), 1.0, 95)
            continue
        where = np.argwhere(r | p)
        lo, hi = where.min(0), where.max(0) + 1
        crop = tuple(slice(a, b) for a, b in zip(lo, hi))
        meshes = (peer.surface_nets(r[crop], spacing), peer.surface_nets(p[crop], spacing))
        peer.reductions(*peer.directed(*meshes), 1.0, 95)
    return time.perf_counter() - start, time.process_time() - cpu, len(labels)


def peer_process(ref, pred, faithful):
    """Wall and CPU seconds of a whole Python process running the peer once (interpreter
    start and imports included), and of its own timed section (its call)."""
    command = [sys.executable, os.path.abspath(__file__), "--peer-process", ref, pred] + (
        ["--faithful"] if faithful else [])
    wall, cpu, out = time_process(command, 1)
    inside = json.loads(out)
    return {"process": (wall, cpu), "call": (inside["wall"], inside["cpu"]), "labels": inside["labels"]}


def seconds(pair):
    return "%.3f (%.3f)" % pair


def ratio(peer_time, ours):
    return "%.0f (%.0f)" % (peer_time[0] / ours[0], peer_time[1] / ours[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pairs", default="jhu,aal")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "maskeval"))
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-faithful", action="store_true", help="skip the (slow) 0.2.1-style peer run")
    parser.add_argument("--peer-process", nargs=2, metavar=("REF", "PRED"), help=argparse.SUPPRESS)
    parser.add_argument("--faithful", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_process:
        wall, cpu, labels = time_peer(*args.peer_process, faithful=args.faithful)
        print(json.dumps({"wall": wall, "cpu": cpu, "labels": labels}))
        return
    os.environ.setdefault("MASKEVAL_LIBRARY", os.path.join(ROOT, ".build", "release", "libMaskEvalC.so"))
    rows = []
    for name in args.pairs.split(","):
        ref, pred = (os.path.join(ROOT, p) for p in PAIRS[name])

        def cli(extra):
            command = [args.binary, "compare", ref, pred, "--format", "json", "--threads", str(args.threads)]
            return time_process(command + extra, args.runs)[:2]
        default, mesh, every = cli([]), cli(["--compat", "meshmetrics"]), cli(["--compat", "all"])
        call = time_calls(ref, pred, args.runs, args.threads)
        peers = {}
        if not args.no_peer:
            peers["cropped"] = peer_process(ref, pred, False)
            if not args.no_faithful:
                peers["as 0.2.1 runs"] = peer_process(ref, pred, True)
        rows.append((name, default, mesh, every, call, peers))
    print("Wall seconds and, in brackets, CPU seconds (user + system, all threads); MaskEval: median of %d "
          "runs, --threads %d; each peer once." % (args.runs, args.threads))
    print()
    print("| pair | default preset | `--compat meshmetrics` | `--compat all` | all / default | "
          "meshmetrics call (`compare_files`) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, default, mesh, every, call, _ in rows:
        print("| %s | %s | %s | %s | %.2f (%.2f) | %s |" % (
            name, seconds(default), seconds(mesh), seconds(every), every[0] / default[0], every[1] / default[1],
            seconds(call)))
    if args.no_peer:
        return
    print()
    print("| pair | labels | peer | peer process | × process | peer call | × call |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, _, mesh, _, call, peers in rows:
        for label, values in peers.items():
            print("| %s | %d | %s | %s | %s | %s | %s |" % (
                name, values["labels"], label, seconds(values["process"]), ratio(values["process"], mesh),
                seconds(values["call"]), ratio(values["call"], call)))


if __name__ == "__main__":
    main()
