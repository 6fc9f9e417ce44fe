#!/usr/bin/env python3
"""In-process benchmark row: maskeval.compare on arrays already in memory vs DeepMind's
surface-distance (compute_surface_distances + robust Hausdorff 100 and 95, average surface
distance, surface Dice at 1 mm, per label) on the same arrays; imports and file reading
excluded. Also the wrapper's own overhead (arrays in, report out): compare's wall time minus
the engine's own time (report.engine_seconds), for arrays in Fortran order (as nibabel gives
them: the engine reads them in place) and in C order (copied into voxel order first), and the
wall time of a call on a 4 x 4 x 4 pair.

Usage (release library; e.g. the one scripts/wheel builds):
    MASKEVAL_LIBRARY=.build-wheel/release/libMaskEvalC.so PYTHONPATH=python \
        PYTHON scripts/bench_python.py [--pairs aal,ct] [--runs 5] [--threads 2]
PYTHON needs numpy and surface-distance (PyPI); the pairs come from scripts/bench_data.py.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "python"))
import nifti_lite  # noqa: E402

import maskeval  # noqa: E402

PAIRS = {
    "aal": ("AAL 181x217x181, 1 mm, 116 labels", "bench-data/aal_reference.nii.gz",
            "bench-data/aal_prediction.nii.gz"),
    "ct": ("CT-sized 500x500x400, 116 labels", "bench-data/ct_reference.nii.gz", "bench-data/ct_prediction.nii.gz"),
}


def load(path):
    data, affine = nifti_lite.read(os.path.join(ROOT, path))[:2]
    return data, tuple(float(np.linalg.norm(affine[:3, c])) for c in range(3))


def deepmind(ref, pred, spacing):
    import surface_distance as sd
    labels = [int(v) for v in np.union1d(np.unique(ref), np.unique(pred)) if v != 0]
    for label in labels:
        r, p = ref == label, pred == label
        if not r.any() or not p.any():
            continue
        d = sd.compute_surface_distances(r, p, spacing)
        sd.compute_robust_hausdorff(d, 100)
        sd.compute_robust_hausdorff(d, 95)
        sd.compute_average_surface_distance(d)
        sd.compute_surface_dice_at_tolerance(d, 1.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", default="aal")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--no-peer", action="store_true", help="time maskeval only")
    args = parser.parse_args()
    print("maskeval %s, library %s, %d threads" % (maskeval.__version__, os.environ.get("MASKEVAL_LIBRARY",
                                                                                          "installed"), args.threads))
    tiny = np.zeros((4, 4, 4), np.uint8)
    tiny[1:3, 1:3, 1:3] = 1
    tiny_times = []
    for _ in range(50):
        start = time.perf_counter()
        maskeval.compare(tiny, tiny, (1, 1, 1), threads=1)
        tiny_times.append(time.perf_counter() - start)
    print("4x4x4 pair, one label: compare %.2f ms (median of 50)" % (statistics.median(tiny_times) * 1e3))
    for key in args.pairs.split(","):
        title, ref_path, pred_path = PAIRS[key]
        ref, spacing = load(ref_path)
        pred, _ = load(pred_path)
        print("\n%s (arrays %s %s, spacing %s)" % (title, ref.dtype, ref.shape, spacing))
        layouts = {"F order": (np.asfortranarray(ref), np.asfortranarray(pred)),
                   "C order": (np.ascontiguousarray(ref), np.ascontiguousarray(pred))}
        overhead = {}
        for preset in ("monai", "deepmind"):
            for layout, (r, p) in layouts.items():
                walls, overheads = [], []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    report = maskeval.compare(r, p, spacing, preset=preset, threads=args.threads)
                    wall = time.perf_counter() - start
                    walls.append(wall)
                    overheads.append(wall - report.engine_seconds)
                overhead.setdefault(layout, []).extend(overheads)
                print("maskeval.compare preset %-8s %s: %.3f s (median of %d; engine %.3f s, wrapper overhead %.1f ms)"
                      % (preset, layout, statistics.median(walls), args.runs, statistics.median(walls)
                         - statistics.median(overheads), statistics.median(overheads) * 1e3))
                if preset == "deepmind" and layout == "F order":
                    deepmind_preset = statistics.median(walls)
        for layout, values in overhead.items():
            print("wrapper overhead (arrays in, report out), %s: %.1f ms (median of %d calls; target <= 5 ms on AAL)"
                  % (layout, statistics.median(values) * 1e3, len(values)))
        if not args.no_peer:
            start = time.perf_counter()
            deepmind(ref, pred, spacing)
            peer = time.perf_counter() - start
            print("DeepMind surface_distance     : %.3f s (one run)" % peer)
            print("ratio (DeepMind / maskeval deepmind preset): %.1fx" % (peer / deepmind_preset))


if __name__ == "__main__":
    main()
