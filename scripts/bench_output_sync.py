#!/usr/bin/env python3
"""What the fsyncs of OutputFile.write cost: `maskeval batch` over 20 small cases (copies of
SampleVolumes/jhu_wm_2mm), writing rows, their settings file and the summary ("plain", 3
outputs) or also the HTML report and one page per case ("pages", 23 outputs), timed for two
builds in one run, interleaved, best and median of N (wall clock: fsync waits for the disk,
which CPU time does not show).

Usage: scripts/bench_output_sync.py BEFORE_BINARY AFTER_BINARY [--runs 15] [--folder DIR]
(e.g. a release build of the commit before the fsyncs and one of the commit with them). The
outputs go to --folder (default: a temporary folder under /tmp): put it on the disk you mean.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--folder")
    args = parser.parse_args()
    folder = args.folder or tempfile.mkdtemp(prefix="maskeval-sync-bench-")
    for side, name in [("ref", "reference"), ("pred", "prediction")]:
        os.makedirs(os.path.join(folder, side), exist_ok=True)
        for index in range(20):
            shutil.copy(os.path.join(ROOT, "SampleVolumes", "jhu_wm_2mm_%s.nii.gz" % name),
                        os.path.join(folder, side, "case%02d.nii.gz" % index))
    times = {}
    for mode in ["plain", "pages"]:
        for _ in range(args.runs):
            for label, binary in [("before", args.before), ("after", args.after)]:
                out = os.path.join(folder, "out-" + label)
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                command = [binary, "batch", os.path.join(folder, "ref"), os.path.join(folder, "pred"),
                           "--output", out + "/rows.csv", "--summary", out + "/summary.json", "--bootstrap", "0"]
                if mode == "pages":
                    command += ["--html", out + "/report.html", "--html-cases", out + "/cases"]
                start = time.perf_counter()
                subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                times.setdefault((mode, label), []).append(time.perf_counter() - start)
    for mode in ["plain", "pages"]:
        before, after = times[(mode, "before")], times[(mode, "after")]
        print("%-5s before best %.4f s median %.4f s | after best %.4f s median %.4f s | after/before best %.3f "
              "median %.3f" % (mode, min(before), statistics.median(before), min(after), statistics.median(after),
                               min(after) / min(before), statistics.median(after) / statistics.median(before)))
    if not args.folder:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
