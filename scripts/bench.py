#!/usr/bin/env python3
"""Times MaskEval against its peers on the same pairs, in one run (see scripts/bench)."""
import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MASKEVAL = os.path.join(ROOT, ".build", "release", "maskeval")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")

PAIRS = [
    ("AAL 181x217x181, 1 mm, 116 labels", "bench-data/aal_reference.nii.gz", "bench-data/aal_prediction.nii.gz",
     ["deepmind", "monai", "simpleitk"]),
    ("CT-sized 500x500x400, 0.36-0.45 mm, 116 labels", "bench-data/ct_reference.nii.gz",
     "bench-data/ct_prediction.nii.gz", ["deepmind", "monai", "simpleitk"]),
    ("abdomen sample 256x256x100, 0.8x0.8x2.5 mm, 12 labels", "SampleVolumes/abdomen_ct_reference.nii.gz",
     "SampleVolumes/abdomen_ct_prediction.nii.gz", ["deepmind", "monai", "simpleitk", "medpy"]),
]


def timed(command, timeout):
    """Runs a command under GNU time; returns (wall s, peak RSS MB, stdout, stderr) or None."""
    try:
        done = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M"] + command, capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return None
    line = [l for l in done.stderr.splitlines() if l.startswith("TIME ")][-1]
    wall, rss = line.split()[1:3]
    return float(wall), int(rss) / 1024, done.stdout, done.stderr


def maskeval(ref, pred, runs, extra):
    results = []
    for _ in range(runs):
        r = timed([MASKEVAL, "compare", ref, pred, "--format", "json", "--timings"] + extra, 600)
        if r is None:
            sys.exit("maskeval failed on %s" % ref)
        results.append(r)
    results.sort(key=lambda r: r[0])
    median = results[len(results) // 2]
    phases = [l for l in median[3].splitlines() if l.startswith("timings:")][0][len("timings: "):]
    return median[0], max(r[1] for r in results), phases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peers", default="deepmind,monai,simpleitk,medpy")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per peer run")
    parser.add_argument("--pairs", default="0,1,2", help="which pairs (0 AAL, 1 CT-sized, 2 abdomen)")
    args = parser.parse_args()
    wanted_peers = set(args.peers.split(","))
    floor_binary = os.path.join(ROOT, "bench-data", "read_floor")
    print("machine: %d cores, %s" % (os.cpu_count(), open("/proc/cpuinfo").read().split("model name")[1].split(":")[1]
                                      .split("\n")[0].strip()))
    for index in [int(i) for i in args.pairs.split(",")]:
        title, ref, pred, peers = PAIRS[index]
        print("\n== %s" % title)
        # "reader seconds" per line: nifticlib, zlib, libdeflate (and isal), both files, best of 5.
        floors = {name: float(value) for name, value in
                  (line.split() for line in subprocess.run([floor_binary, "--runs", "5", ref, pred],
                                                           capture_output=True, text=True, cwd=ROOT,
                                                           check=True).stdout.splitlines())}
        rows = []
        base, base_rss, phases = maskeval(ref, pred, args.runs, [])
        rows.append(("maskeval (default preset)", base, base_rss))
        dm, dm_rss, dm_phases = maskeval(ref, pred, args.runs, ["--compat", "deepmind"])
        rows.append(("maskeval --compat deepmind", dm, dm_rss))
        one, one_rss, _ = maskeval(ref, pred, args.runs, ["--threads", "1"])
        rows.append(("maskeval --threads 1", one, one_rss))
        for peer in peers:
            if peer not in wanted_peers:
                continue
            r = timed([PYTHON, "scripts/bench_peer.py", peer, ref, pred], args.timeout)
            rows.append((peer, r[0] if r else None, r[1] if r else None))
        print("%-30s %10s %12s %14s" % ("tool", "wall s", "peak RSS MB", "x MaskEval"))
        for name, wall, rss in rows:
            if wall is None:
                print("%-30s %10s %12s %14s" % (name, "timeout/failed", "", ""))
                continue
            print("%-30s %10.3f %12.0f %14.1f" % (name, wall, rss, wall / base))
        print("read floor, both files into fresh buffers (scripts/read_floor.c, best of 5): "
              + ", ".join("%s %.3f s" % item for item in floors.items()))
        print("MaskEval %.3f s = %s" % (base, ", ".join("%.1fx the %s floor" % (base / value, name)
                                                      for name, value in floors.items() if value > 0)))
        print("load average: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
        print("threads 1 -> %d: %.2fx" % (os.cpu_count(), one / base))
        print("deepmind preset / default: %.2fx" % (dm / base))
        print("MaskEval phases (median run): %s" % phases)


if __name__ == "__main__":
    main()
