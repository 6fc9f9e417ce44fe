#!/usr/bin/env python3
"""Cross-checks the batch summary's confidence intervals and `maskeval diff` against pandas,
numpy and scipy on generated batch rows (issue 19; outside CI).

1. Generates N synthetic cases (ellipsoid "organs" on an anisotropic grid) with two models'
   predictions: A (shifted, resized, now and then an organ missed or a spurious blob) and B
   (closer to the reference), writes them with scripts/nifti_lite.py.
2. Runs the built binary: `maskeval batch ref/ predA/ --output a.csv --summary sa.json`, the same
   for B, then `maskeval diff a.csv b.csv --metrics all --output d.json`, and once more with
   `--penalty-mm 50`.
3. Recomputes with pandas from the row files alone:
   - the summary's centres: per structure and overall `mean` and `median` of every metric
     (error rows out, +inf left out as without --penalty-mm);
   - the summary's intervals (for dice, hd95_mm, assd_mm, nsd): the percentile bootstrap over
     cases, per structure and overall (cases resampled, all rows of the drawn cases), with the
     generators of scripts/make_statistics_cases.py (a second implementation) and numpy;
   - the diff's paired means: rows joined on (case, label), a row missing on one side taken as
     `absent` (Dice 1, distances 0, NSD 1), mean of A, of B, mean and median of B − A (pairs with
     +inf left out, or +inf counted as the penalty), wins/ties/losses, and scipy.stats.wilcoxon's
     p on B − A (+inf ranks worst).
4. Prints the largest difference of each check.

Usage: python3 -m venv /tmp/venv-stats && /tmp/venv-stats/bin/pip install pandas numpy scipy statsmodels
       swift build && /tmp/venv-stats/bin/python scripts/cross_check_stats.py [--cases 24] [--binary PATH]
       (statsmodels: scripts/make_statistics_cases.py, whose generators this reuses, imports it.)
Measured (24 cases, 2000 resamples; pandas 3.1.1, numpy 2.4.6, scipy 1.17.1): summary means and
medians 8.9e-16, all 168 interval ends identical, diff means/medians 3.6e-15, counts 0, p 2.8e-17.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import scipy.stats

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nifti_lite  # noqa: E402
from make_statistics_cases import resample_stream, quantile  # noqa: E402

CI_METRICS = ["dice", "hd95_mm", "assd_mm", "nsd"]
HIGHER = {"dice", "jaccard", "nsd"}
ABSENT = {"dice": 1.0, "jaccard": 1.0, "nsd": 1.0, "relative_volume_difference": math.nan}


def ellipsoid(shape, centre, radii):
    i, j, k = np.indices(shape)
    return ((i - centre[0]) / radii[0]) ** 2 + ((j - centre[1]) / radii[1]) ** 2 + (
        (k - centre[2]) / radii[2]) ** 2 <= 1


def make_cases(folder, count, seed):
    rng = np.random.default_rng(seed)
    shape = (36, 36, 24)
    affine = np.diag([1.2, 1.2, 2.0, 1.0])
    for side in ["ref", "predA", "predB"]:
        os.makedirs(os.path.join(folder, side), exist_ok=True)
    for c in range(count):
        ref = np.zeros(shape, np.int16)
        preds = {"predA": np.zeros(shape, np.int16), "predB": np.zeros(shape, np.int16)}
        for label in range(1, 5):
            centre = rng.uniform([8, 8, 6], [28, 28, 18])
            radii = rng.uniform([3, 3, 2], [7, 7, 4])
            ref[ellipsoid(shape, centre, radii)] = label
            for side, error in [("predA", 1.5), ("predB", 0.8)]:
                if side == "predA" and rng.random() < 0.08:
                    continue  # missed
                shifted = centre + rng.normal(0, error, 3)
                scaled = radii * (1 + rng.normal(0, 0.12 * error, 3))
                preds[side][ellipsoid(shape, shifted, np.maximum(scaled, 1))] = label
        if rng.random() < 0.25:  # a spurious blob of label 5 in A
            preds["predA"][ellipsoid(shape, rng.uniform([6, 6, 4], [30, 30, 20]), [2, 2, 1.5])] = 5
        name = "case%03d.nii.gz" % c
        nifti_lite.write(os.path.join(folder, "ref", name), ref, affine)
        for side, data in preds.items():
            nifti_lite.write(os.path.join(folder, side, name), data, affine)


def run(binary, *args):
    result = subprocess.run([binary, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("maskeval %s failed (%d): %s" % (" ".join(args), result.returncode, result.stderr))
    return result.stdout


def rows(path):
    frame = pd.read_csv(path, keep_default_na=True, na_values=[""])
    frame["case"] = frame["case"].astype(str)
    return frame[frame["status"] != "error"]


def metric_columns(frame):
    skip = {"case", "label", "name", "status", "image_diagonal_mm", "error"}
    return [c for c in frame.columns if c not in skip and not c.endswith("_voxels")]


def finite(series):
    values = series.astype(float)
    return values[np.isfinite(values)]


def grouped_interval(groups, statistic, resamples, seed, level=0.95):
    """The summary's overall interval: cases drawn, the statistic over all their rows."""
    groups = [g for g in groups if len(g) > 0]
    g = len(groups)
    sums = [sum(group, 0.0) for group in groups]
    out = []
    for r in range(resamples):
        st = resample_stream(seed, r)
        drawn = [st.bounded(g) for _ in range(g)]
        if statistic == "mean":
            total = 0.0
            size = 0
            for d in drawn:
                total += sums[d]
                size += len(groups[d])
            out.append(total / size)
        else:
            out.append(float(np.median(np.concatenate([groups[d] for d in drawn]))))
    out.sort()
    return [quantile(out, (1 - level) / 2), quantile(out, (1 + level) / 2)]


def check_summary(frame, summary, resamples, seed):
    centre = 0.0
    interval = 0.0
    checked = 0
    blocks = [(None, frame, summary["overall"])] + [
        (s["label"], frame[frame["label"] == s["label"]], s) for s in summary["structures"]]
    for label, part, block in blocks:
        for metric in metric_columns(frame):
            values = finite(part[metric])
            stats = block["metrics"][metric]
            if len(values) == 0:
                continue
            for key, expected in [("mean", values.mean()), ("median", values.median())]:
                centre = max(centre, abs(stats[key] - expected))
            if metric not in CI_METRICS:
                continue
            for statistic in ["mean", "median"]:
                if label is None:
                    groups = [finite(g[metric]).to_numpy() for _, g in part.groupby("case", sort=False)]
                    expected = grouped_interval(groups, statistic, resamples, seed)
                else:
                    from make_statistics_cases import bootstrap_interval
                    expected = bootstrap_interval(list(values), statistic, resamples, seed, 0.95)
                got = stats[statistic + "_ci"]
                interval = max(interval, abs(got[0] - expected[0]), abs(got[1] - expected[1]))
                checked += 1
    return centre, interval, checked


def paired(a, b, metric, penalty):
    joined = a.merge(b, on=["case", "label"], how="outer", suffixes=("_a", "_b"))
    absent = ABSENT.get(metric, 0.0)
    xa = joined[metric + "_a"].where(joined["status_a"].notna(), absent).astype(float)
    xb = joined[metric + "_b"].where(joined["status_b"].notna(), absent).astype(float)
    if metric.startswith("volume_difference") or metric.startswith("relative_volume"):
        xa, xb = xa.abs(), xb.abs()
    keep = xa.notna() & xb.notna()
    return joined.loc[keep, "label"], xa[keep], xb[keep]


def check_diff(a, b, diff, penalty):
    means = 0.0
    counts = 0
    p_values = 0.0
    entries = 0
    for block in diff["metrics"]:
        metric = block["metric"]
        for entry in block["structures"]:
            labels, xa, xb = paired(a, b, metric, penalty)
            xa = xa[labels == entry["label"]]
            xb = xb[labels == entry["label"]]
            ma = xa.replace(np.inf, penalty) if penalty is not None else xa
            mb = xb.replace(np.inf, penalty) if penalty is not None else xb
            use = np.isfinite(ma) & np.isfinite(mb)
            d = mb[use] - ma[use]
            expected = {"mean_a": ma[use].mean(), "mean_b": mb[use].mean(), "mean_diff": d.mean(),
                        "median_diff": d.median()}
            for key, value in expected.items():
                got = entry[key]
                if got is None or (isinstance(value, float) and math.isnan(value)):
                    if not (got is None and (isinstance(value, float) and math.isnan(value))):
                        means = math.inf
                    continue
                means = max(means, abs(got - value))
            rank = np.where(np.isinf(xa) & np.isinf(xb), 0.0, xb - xa)
            better = rank > 0 if metric in HIGHER else rank < 0
            wins = int(np.sum((np.abs(rank) > 0) & better))
            losses = int(np.sum((np.abs(rank) > 0) & ~better))
            counts = max(counts, abs(wins - entry["wins"]), abs(losses - entry["losses"]),
                         abs(len(rank) - entry["n"]))
            if np.any(rank != 0):
                p = scipy.stats.wilcoxon(rank).pvalue
                got = entry["wilcoxon"]["p"]
                p_values = max(p_values, abs(got - p) if got is not None and not math.isnan(p) else
                               (0.0 if got is None and math.isnan(p) else math.inf))
            entries += 1
    return means, counts, p_values, entries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(HERE, "..", ".build", "debug", "maskeval"))
    parser.add_argument("--cases", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--keep", help="folder to keep the cases and outputs in")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="maskeval-stats-")
    os.makedirs(folder, exist_ok=True)
    make_cases(folder, args.cases, args.seed)
    p = lambda name: os.path.join(folder, name)  # noqa: E731
    boot = ["--bootstrap", str(args.resamples), "--seed", "19"]
    run(args.binary, "batch", p("ref"), p("predA"), "--output", p("a.csv"), "--summary", p("sa.json"), *boot)
    run(args.binary, "batch", p("ref"), p("predB"), "--output", p("b.csv"), "--summary", p("sb.json"), *boot)
    a, b = rows(p("a.csv")), rows(p("b.csv"))
    print("%d cases, %d rows in A, %d in B; pandas %s, numpy %s, scipy %s" % (
        args.cases, len(a), len(b), pd.__version__, np.__version__, scipy.__version__))
    for name, frame in [("A", a), ("B", b)]:
        with open(p("s%s.json" % name.lower())) as f:
            summary = json.load(f)
        centre, interval, checked = check_summary(frame, summary, args.resamples, 19)
        print("summary %s: largest |difference| of means/medians %.3g; of %d bootstrap interval ends %.3g" % (
            name, centre, checked * 2, interval))
    for penalty in [None, 50.0]:
        extra = ["--penalty-mm", "50"] if penalty is not None else []
        run(args.binary, "diff", p("a.csv"), p("b.csv"), "--metrics", "all", "--output", p("d.json"), *extra)
        with open(p("d.json")) as f:
            diff = json.load(f)
        means, counts, p_values, entries = check_diff(a, b, diff, penalty)
        print("diff (penalty %s): %d metric x structure entries; largest |difference| of paired means/medians "
              "%.3g, of n/wins/losses %d, of Wilcoxon p (scipy) %.3g" % (penalty, entries, means, counts, p_values))
    print("files in", folder)


if __name__ == "__main__":
    main()
