#!/usr/bin/env python3
"""Times MaskEval against its peers on the same pairs, in one run (see scripts/bench).

For each pair it prints the read floor (scripts/read_floor.c: nifticlib, zlib, libdeflate and
ISA-L when built), MaskEval's wall and CPU seconds with its `--timings` phases, the ratios to
each floor, and the peers' times as multiples of MaskEval's. With `--baseline BINARY` another
maskeval build (say, main's) runs interleaved with this one, run for run, for every preset:
before/after figures from one run on one machine, with `same JSON: yes` when both reports
are byte-identical.
"""
import argparse
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MASKEVAL = os.path.join(ROOT, ".build", "release", "maskeval")

PAIRS = [
    ("AAL 181x217x181, 1 mm, 116 labels", "bench-data/aal_reference.nii.gz", "bench-data/aal_prediction.nii.gz",
     ["deepmind", "monai", "simpleitk"]),
    ("CT-sized 500x500x400, 0.36-0.45 mm, 116 labels", "bench-data/ct_reference.nii.gz",
     "bench-data/ct_prediction.nii.gz", ["deepmind", "monai", "simpleitk"]),
    ("abdomen sample 256x256x100, 0.8x0.8x2.5 mm, 12 labels", "SampleVolumes/abdomen_ct_reference.nii.gz",
     "SampleVolumes/abdomen_ct_prediction.nii.gz", ["deepmind", "monai", "simpleitk", "medpy"]),
    ("JHU white-matter sample 2 mm", "SampleVolumes/jhu_wm_2mm_reference.nii.gz",
     "SampleVolumes/jhu_wm_2mm_prediction.nii.gz", ["deepmind"]),
]
PRESETS = ["monai", "medpy", "deepmind", "meshmetrics"]


def timed(command, timeout):
    """Runs a command under GNU time (for the peak RSS); returns (wall s, CPU s, peak RSS MB,
    stdout, stderr) or None. Wall and CPU come from the clock and the children's rusage, to the
    microsecond (GNU time's own figures are in hundredths)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(["/usr/bin/time", "-f", "TIME %M"] + command, capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return None
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = [l for l in done.stderr.splitlines() if l.startswith("TIME ")][-1].split()[1]
    return wall, cpu, int(rss) / 1024, done.stdout, done.stderr


class Runs:
    """The runs of one maskeval command line: best wall, best CPU, peak RSS, the phases of
    the fastest run, and the report of the last."""

    def __init__(self):
        self.results = []

    def add(self, result):
        self.results.append(result)

    @property
    def wall(self):
        return min(r[0] for r in self.results)

    @property
    def cpu(self):
        return min(r[1] for r in self.results)

    @property
    def rss(self):
        return max(r[2] for r in self.results)

    @property
    def phases(self):
        fastest = min(self.results, key=lambda r: r[0])
        lines = [l for l in fastest[4].splitlines() if l.startswith("timings:")]
        return lines[0][len("timings: "):] if lines else ""

    @property
    def report(self):
        return self.results[-1][3]


def run_maskeval(binary, ref, pred, extra):
    r = timed([binary, "compare", ref, pred, "--format", "json", "--timings"] + extra, 900)
    if r is None:
        sys.exit("%s failed on %s" % (binary, ref))
    return r


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="runs per command line (best of)")
    parser.add_argument("--peers", default="deepmind,monai,simpleitk,medpy", help="peers to time ('' for none)")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per peer run")
    parser.add_argument("--pairs", default="0,1,2,3", help="which pairs (0 AAL, 1 CT-sized, 2 abdomen, 3 JHU)")
    parser.add_argument("--baseline", help="another maskeval binary to time interleaved with this one")
    parser.add_argument("--presets", default="monai",
                        help="presets to time (comma-separated, or 'all' for %s)" % ",".join(PRESETS))
    parser.add_argument("--with-all", action="store_true",
                        help="also time `--compat all` and print its cost over the first preset's (issue #17: <= 2x)")
    parser.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"),
                        help="the Python with the peers")
    args = parser.parse_args()
    wanted_peers = set(p for p in args.peers.split(",") if p)
    presets = PRESETS if args.presets == "all" else args.presets.split(",")
    if args.with_all:
        presets = presets + ["all"]
    binaries = [("this build", MASKEVAL)] + ([("baseline", args.baseline)] if args.baseline else [])
    floor_binary = os.path.join(ROOT, "bench-data", "read_floor")
    print("machine: %d cores, %s" % (os.cpu_count(), open("/proc/cpuinfo").read().split("model name")[1].split(":")[1]
                                      .split("\n")[0].strip()))
    print("load average at start: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    print("best of %d runs; wall and CPU (user + sys) seconds" % args.runs)
    for index in [int(i) for i in args.pairs.split(",")]:
        title, ref, pred, peers = PAIRS[index]
        print("\n== %s" % title)
        # "reader seconds" per line: nifticlib, zlib, libdeflate (and isal), both files, best of 5.
        floors = {name: float(value) for name, value in
                  (line.split() for line in subprocess.run([floor_binary, "--runs", "5", ref, pred],
                                                           capture_output=True, text=True, cwd=ROOT,
                                                           check=True).stdout.splitlines())}
        print("read floor, both files into fresh buffers (scripts/read_floor.c, best of 5): "
              + ", ".join("%s %.3f s" % item for item in floors.items()))
        # Every command line of every binary, interleaved run by run.
        lines = [(preset, threads) for preset in presets for threads in (None, 1)]
        runs = {(name, line): Runs() for name, _ in binaries for line in lines}
        for _ in range(args.runs):
            for line in lines:
                preset, threads = line
                extra = ["--compat", preset] + (["--threads", str(threads)] if threads else [])
                for name, binary in binaries:
                    runs[(name, line)].add(run_maskeval(binary, ref, pred, extra))
        print("%-34s %8s %8s %8s  %s" % ("maskeval", "wall s", "CPU s", "RSS MB", "--timings of the fastest run"))
        for line in lines:
            preset, threads = line
            for name, _ in binaries:
                r = runs[(name, line)]
                label = "%s %s%s" % (name, preset, " --threads 1" if threads else "")
                print("%-34s %8.3f %8.3f %8.0f  %s" % (label, r.wall, r.cpu, r.rss, r.phases))
            if args.baseline:
                new, old = runs[("this build", line)], runs[("baseline", line)]
                print("%-34s %7.2fx %7.2fx %8s  same JSON: %s" % (
                    "  baseline / this build", old.wall / new.wall, old.cpu / new.cpu, "",
                    "yes" if new.report == old.report else "NO"))
        if args.with_all:
            for threads in (None, 1):
                for name, _ in binaries:
                    one, every = runs[(name, (presets[0], threads))], runs[(name, ("all", threads))]
                    print("%-34s %7.2fx %7.2fx  (--compat all / %s%s)" % (
                        "  %s: all / %s" % (name, presets[0]), every.wall / one.wall, every.cpu / one.cpu,
                        presets[0], ", --threads 1" if threads else ""))
        base = runs[("this build", (presets[0], None))].wall
        print("MaskEval (%s) %.3f s = %s" % (presets[0], base, ", ".join(
            "%.1fx the %s floor" % (base / value, name) for name, value in floors.items() if value > 0)))
        peer_rows = []
        for peer in peers:
            if peer not in wanted_peers:
                continue
            r = timed([args.python, "scripts/bench_peer.py", peer, ref, pred], args.timeout)
            peer_rows.append((peer, r[0] if r else None, r[2] if r else None))
        if peer_rows:
            print("%-34s %8s %8s %14s" % ("peer", "wall s", "RSS MB", "x MaskEval"))
            for name, wall, rss in peer_rows:
                if wall is None:
                    print("%-34s %8s" % (name, "timeout/failed"))
                    continue
                print("%-34s %8.3f %8.0f %14.1f" % (name, wall, rss, wall / base))
        print("load average at the end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))


if __name__ == "__main__":
    main()
