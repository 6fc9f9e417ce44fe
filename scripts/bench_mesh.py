#!/usr/bin/env python3
"""Times the `meshmetrics` preset against the MeshMetrics 0.2.1 pipeline on VTK, and
`--compat all` against the default preset.

For each pair: `maskeval compare` (release build) with the default preset, with
`--compat meshmetrics` and with `--compat all` (median of --runs runs, all cores), and once
the VTK peer of scripts/cross_check_mesh.py as MeshMetrics runs it (float32 surface nets per
label on the label's cropped, padded mask, vtkDistancePolyDataFilter both ways, cell areas,
the HD/HD95/ASSD/MASD/NSD reductions; no BIoU, as `compare` computes none), loading the
volumes with nibabel. The peer gets the crop that MeshMetrics 0.2.1 itself does not make (it
meshes the whole image per label), so its time is a lower bound of MeshMetrics'. The
second peer run (`faithful`) does what 0.2.1 does: surface nets on the whole padded image per
label and the triangle areas one Python call per triangle (`vtk_compute_cell_sizes`).

Usage: scripts/bench_mesh.py [--runs 5] [--pairs jhu,aal]
(the AAL pair comes from scripts/bench_data.py; needs vtk nibabel numpy scipy)
"""
import argparse
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


def time_maskeval(binary, ref, pred, extra, runs):
    """Median wall seconds and median CPU seconds (user + system, all threads)."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), children_cpu()
        subprocess.run([binary, "compare", ref, pred, "--format", "json", *extra], check=True,
                       stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        cpus.append(children_cpu() - cpu)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pairs", default="jhu,aal")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "maskeval"))
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-faithful", action="store_true", help="skip the (slow) 0.2.1-style peer run")
    args = parser.parse_args()
    print("Wall seconds (median of %d runs for maskeval, one run of each peer) and, in brackets, CPU "
          "seconds (user + system, all threads)." % args.runs)
    print("| pair | labels | default | meshmetrics | all | all / default | VTK peer, cropped | × | "
          "VTK peer as 0.2.1 runs | × |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.pairs.split(","):
        ref, pred = (os.path.join(ROOT, p) for p in PAIRS[name])
        default = time_maskeval(args.binary, ref, pred, [], args.runs)
        mesh = time_maskeval(args.binary, ref, pred, ["--compat", "meshmetrics"], args.runs)
        every = time_maskeval(args.binary, ref, pred, ["--compat", "all"], args.runs)
        nan = (float("nan"), float("nan"), 0)
        cropped = nan if args.no_peer else time_peer(ref, pred)
        faithful = nan if args.no_peer or args.no_faithful else time_peer(ref, pred, faithful=True)
        print("| %s | %d | %.3f (%.3f) | %.3f (%.3f) | %.3f (%.3f) | %.2f (%.2f) | %.1f (%.1f) | %.0f (%.0f) "
              "| %.1f (%.1f) | %.0f (%.0f) |" % (
                  name, cropped[2], *default, *mesh, *every, every[0] / default[0], every[1] / default[1],
                  cropped[0], cropped[1], cropped[0] / mesh[0], cropped[1] / mesh[1],
                  faithful[0], faithful[1], faithful[0] / mesh[0], faithful[1] / mesh[1]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
