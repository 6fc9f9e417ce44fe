#!/usr/bin/env python3
"""Generates the peer values for the statistics of issue 19 (Tests/Fixtures/statistics/*.json):

- wilcoxon.json: scipy.stats.wilcoxon(x, y) with its defaults (zero_method="wilcox",
  correction=False, alternative="two-sided", method="auto") on seeded inputs that reach every
  branch of scipy's `auto` rule (exact, permutation with ties/zeros for n <= 13, normal
  approximation), plus ties, zeros, all-zero and tiny inputs.
- holm.json: statsmodels.stats.multitest.multipletests(p, alpha, method="holm").
- quantile.json: numpy.quantile (default "linear" method) on seeded arrays.
- generators.json: SplitMix64 and xoshiro256** outputs and Lemire's bounded integers, from a
  transcription of Vigna's reference C code (a second implementation, not the Swift one).
- bootstrap.json: the percentile bootstrap as documented in Sources/MaskEval/Metrics/Bootstrap.swift,
  re-implemented here (generators above, numpy.median, numpy.quantile).
- paired.json: the paired comparison as documented in Sources/MaskEval/Metrics/PairedComparison.swift,
  re-implemented here with numpy and scipy.stats.wilcoxon.

Every input comes from a fixed seed; the package versions are recorded in each file.

Usage: python3 -m venv /work/venv-stats && /work/venv-stats/bin/pip install scipy numpy statsmodels
       /work/venv-stats/bin/python scripts/make_statistics_cases.py
"""
import json
import math
import os
import platform
import warnings

import numpy as np
import scipy
import scipy.stats
import statsmodels
from statsmodels.stats.multitest import multipletests

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "statistics")
VERSIONS = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "statsmodels": statsmodels.__version__,
}
MASK = (1 << 64) - 1


def encode(value):
    """JSON has no inf or NaN: +inf is the string "inf", -inf "-inf", NaN null."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def write(name, body):
    body = {"generated_by": "scripts/make_statistics_cases.py", "versions": VERSIONS, **body}
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(body, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.normpath(path))


# ---------------------------------------------------------------- generators (Vigna's C code)


class SplitMix64:
    def __init__(self, state):
        self.state = state & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256StarStar:
    def __init__(self, seed):
        sm = SplitMix64(seed)
        self.s = [sm.next() for _ in range(4)]

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def bounded(self, n):
        """Lemire (2019), 'Fast random integer generation in an interval', with rejection."""
        m = self.next() * n
        low = m & MASK
        if low < n:
            threshold = ((1 << 64) - n) % n
            while low < threshold:
                m = self.next() * n
                low = m & MASK
        return m >> 64


def resample_stream(seed, index):
    """Resample `index` draws from xoshiro256** seeded (via SplitMix64) with the index-th
    SplitMix64 output of `seed`: the stream depends only on (seed, index)."""
    return Xoshiro256StarStar(SplitMix64((seed + index * 0x9E3779B97F4A7C15) & MASK).next())


def generators():
    cases = []
    for seed in [0, 1, 1234567, 0xFFFFFFFFFFFFFFFF]:
        sm = SplitMix64(seed)
        xo = Xoshiro256StarStar(seed)
        cases.append({
            "seed": str(seed),
            "splitmix64": [str(sm.next()) for _ in range(6)],
            "xoshiro256starstar": [str(xo.next()) for _ in range(6)],
        })
    bounded = []
    for seed, n in [(7, 1), (7, 2), (7, 3), (42, 10), (42, 1000), (99, (1 << 63) + 12345), (5, (1 << 64) - 3)]:
        xo = Xoshiro256StarStar(seed)
        bounded.append({"seed": str(seed), "n": str(n), "values": [str(xo.bounded(n)) for _ in range(8)]})
    streams = []
    for seed, index in [(2026, 0), (2026, 1), (2026, 1999), (0, 5)]:
        st = resample_stream(seed, index)
        streams.append({"seed": str(seed), "index": index, "values": [str(st.next()) for _ in range(4)]})
    write("generators.json", {"cases": cases, "bounded": bounded, "streams": streams})


# ---------------------------------------------------------------- quantiles and bootstrap


def quantile(sorted_values, p):
    return float(np.quantile(np.asarray(sorted_values, dtype=np.float64), p))


def bootstrap_distribution(values, statistic, resamples, seed):
    n = len(values)
    out = []
    for r in range(resamples):
        st = resample_stream(seed, r)
        idx = [st.bounded(n) for _ in range(n)]
        if statistic == "mean":
            total = 0.0
            for i in idx:
                total += values[i]
            out.append(total / n)
        else:
            out.append(float(np.median(np.asarray([values[i] for i in idx], dtype=np.float64))))
    return sorted(out)


def bootstrap_interval(values, statistic, resamples, seed, level):
    if len(values) == 0 or resamples == 0:
        return None
    dist = bootstrap_distribution(values, statistic, resamples, seed)
    return [quantile(dist, (1 - level) / 2), quantile(dist, (1 + level) / 2)]


def quantiles():
    rng = np.random.default_rng(19001)
    cases = []
    for n in [1, 2, 3, 10, 40, 2000]:
        values = sorted(float(v) for v in rng.normal(3.0, 2.0, n))
        ps = [0.0, 0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975, 1.0, (1 - 0.95) / 2, (1 + 0.95) / 2,
              (1 - 0.9) / 2, (1 + 0.9) / 2]
        cases.append({"n": n, "sorted": values, "p": ps, "expected": [quantile(values, p) for p in ps]})
    write("quantile.json", {"cases": cases})


def bootstraps():
    rng = np.random.default_rng(19002)
    cases = []
    specs = [
        ("normal_n25_mean", rng.normal(0.8, 0.1, 25), "mean", 2000, 2026, 0.95),
        ("normal_n25_median", rng.normal(0.8, 0.1, 25), "median", 2000, 2026, 0.95),
        ("skewed_n12_mean_level90", rng.exponential(4.0, 12), "mean", 500, 7, 0.90),
        ("ties_n30_median", np.round(rng.normal(5, 2, 30)), "median", 1000, 123456789, 0.95),
        ("one_value_mean", np.array([0.75]), "mean", 100, 1, 0.95),
        ("two_values_median", np.array([1.0, 3.0]), "median", 300, 3, 0.95),
    ]
    for name, values, statistic, resamples, seed, level in specs:
        values = [float(v) for v in values]
        cases.append({
            "name": name, "values": values, "statistic": statistic, "resamples": resamples, "seed": str(seed),
            "level": level, "expected": bootstrap_interval(values, statistic, resamples, seed, level),
        })
    write("bootstrap.json", {"cases": cases})


# ---------------------------------------------------------------- Wilcoxon


def scipy_wilcoxon(x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scipy.stats.wilcoxon(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return float(res.statistic), float(res.pvalue)


def wilcoxon_cases():
    rng = np.random.default_rng(19003)

    def pair(n, shift=0.0, scale=1.0):
        x = rng.normal(10.0, scale, n)
        return x + shift + rng.normal(0.0, 1.0, n), x

    cases = []

    def add(name, x, y):
        x = [float(v) for v in x]
        y = [float(v) for v in y]
        try:
            statistic, p = scipy_wilcoxon(x, y)
        except ValueError as error:  # recorded: scipy refuses this input
            cases.append({"name": name, "x": [encode(v) for v in x], "y": [encode(v) for v in y],
                          "scipy_error": str(error)})
            return
        cases.append({"name": name, "x": [encode(v) for v in x], "y": [encode(v) for v in y],
                      "statistic": encode(statistic), "pvalue": encode(p)})

    add("empty", [], [])
    add("n1", [1.5], [0.25])
    add("n1_zero", [2.0], [2.0])
    add("n2", [1.0, 4.0], [2.5, 1.0])
    add("n2_one_zero", [1.0, 4.0], [1.0, 1.0])
    add("n3", [0.3, 2.0, 5.5], [1.0, 1.0, 1.0])
    add("n3_all_negative", [0.0, 0.0, 0.0], [1.0, 2.5, 0.5])
    add("n3_ties", [2.0, 0.0, 3.0], [1.0, 1.0, 1.0])
    add("all_zero_n5", [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0])
    add("all_zero_n20", list(range(20)), list(range(20)))
    add("all_zero_n60", list(range(60)), list(range(60)))
    for n in [5, 10, 13, 20, 50]:
        x, y = pair(n, shift=0.3)
        add("exact_n%d" % n, x, y)
    x, y = pair(50, shift=3.0)
    add("exact_n50_extreme", x, y)
    for n in [51, 80, 200]:
        x, y = pair(n, shift=0.2)
        add("asymptotic_n%d" % n, x, y)
    x, y = pair(200, shift=2.5)
    add("asymptotic_n200_tiny_p", x, y)
    # Ties: differences on a coarse grid.
    for n in [6, 12, 13, 14, 40, 300]:
        y = np.round(rng.normal(10, 3, n))
        x = y + rng.choice([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0], n)
        add("ties_n%d" % n, x, y)
    # Zeros (no other ties): continuous differences with some set to exactly zero.
    for n, zeros in [(4, 1), (8, 2), (13, 3), (14, 2), (30, 5), (60, 4)]:
        x, y = pair(n, shift=0.4)
        for i in rng.choice(n, zeros, replace=False):
            x[i] = y[i]
        add("zeros_n%d" % n, x, y)
    # Infinite differences (a missed structure's +inf distance): ranked above every finite |d|.
    inf = math.inf
    add("infinite_differences_n6", [1.0, 4.0, inf, 2.0, 7.5, 3.0], [0.0, 2.0, 1.0, inf, 1.0, 3.5])
    x, y = pair(20, shift=0.5)
    x[[2, 9, 13]] = inf
    y[[5]] = inf
    add("infinite_differences_n20", x, y)
    # Zeros and ties together.
    for n in [10, 25, 70]:
        y = np.round(rng.normal(10, 3, n))
        x = y + rng.choice([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0], n)
        add("zeros_ties_n%d" % n, x, y)
    write("wilcoxon.json", {
        "defaults": "scipy.stats.wilcoxon(x, y): zero_method='wilcox', correction=False, "
                    "alternative='two-sided', method='auto'; statistic = min(R+, R-)",
        "cases": cases,
    })


# ---------------------------------------------------------------- Holm


def holm():
    rng = np.random.default_rng(19004)
    families = [
        ("single", [0.03]),
        ("hand_example", [0.01, 0.04, 0.03, 0.005]),
        ("ties", [0.02, 0.02, 0.5, 0.001, 0.02]),
        ("capped", [0.4, 0.6, 0.9, 0.3]),
        ("monotone_needed", [0.0125, 0.0130, 0.0126, 0.2, 0.0001]),
        ("boundary", [0.05 / 3, 0.05 / 2, 0.05]),
        ("random_12", [float(v) for v in rng.uniform(0, 0.1, 12)]),
        ("random_40", [float(v) for v in rng.beta(0.3, 2.0, 40)]),
    ]
    cases = []
    for name, p in families:
        for alpha in [0.05, 0.01]:
            reject, corrected, _, _ = multipletests(np.asarray(p), alpha=alpha, method="holm")
            cases.append({"name": name, "alpha": alpha, "p": p, "adjusted": [float(v) for v in corrected],
                          "reject": [bool(v) for v in reject]})
    write("holm.json", {"call": "statsmodels.stats.multitest.multipletests(p, alpha, method='holm')",
                        "cases": cases})


# ---------------------------------------------------------------- paired comparison


def paired_expected(a, b, direction, tolerance, penalty, resamples, seed, level):
    """The rules of PairedComparison.compare, written again from its documentation."""
    pairs = len(a)
    kept = [(x, y) for x, y in zip(a, b)
            if not (math.isnan(x) or math.isnan(y) or x == -math.inf or y == -math.inf)]
    dropped = pairs - len(kept)
    if direction == "smallerMagnitudeIsBetter":
        kept = [(abs(x), abs(y)) for x, y in kept]
    # Means: +inf -> penalty, else the pair is left out of the means.
    mean_pairs = []
    for x, y in kept:
        if penalty is not None:
            x = penalty if x == math.inf else x
            y = penalty if y == math.inf else y
        if math.isfinite(x) and math.isfinite(y) and math.isfinite(y - x):
            mean_pairs.append((x, y))
    if mean_pairs:
        xa = np.array([p[0] for p in mean_pairs])
        xb = np.array([p[1] for p in mean_pairs])
        d = xb - xa
        mean_a, mean_b = float(np.mean(xa)), float(np.mean(xb))
        mean_d, median_d = float(np.mean(d)), float(np.median(d))
        ci = bootstrap_interval([float(v) for v in d], "mean", resamples, seed, level)
    else:
        mean_a = mean_b = mean_d = median_d = None
        ci = None
    # Rank test: differences B - A; a pair with exactly one +inf has the difference +/-inf (ranked
    # above every finite |d|, all such pairs tied); two +inf are a zero difference.
    d_rank = [0.0 if (x == math.inf and y == math.inf) else y - x for x, y in kept]
    if d_rank:
        statistic, p = scipy_wilcoxon(d_rank, [0.0] * len(d_rank))
        d_arr = np.array(d_rank)
        r = scipy.stats.rankdata(np.abs(d_arr[d_arr != 0]))
        nz = d_arr[d_arr != 0]
        r_plus, r_minus = float(r[nz > 0].sum()), float(r[nz < 0].sum())
    else:
        statistic = p = None
        r_plus = r_minus = 0.0
    # Wins of B: better by more than the tolerance (inf - inf is a tie).
    wins = ties = losses = 0
    for x, y in kept:
        diff = 0.0 if (x == math.inf and y == math.inf) else y - x
        if abs(diff) <= tolerance:
            ties += 1
        elif (diff > 0) == (direction == "higherIsBetter"):
            wins += 1
        else:
            losses += 1
    if r_plus == r_minus:
        better = None
    elif (r_plus > r_minus) == (direction == "higherIsBetter"):
        better = "b"
    else:
        better = "a"
    return {
        "pairs": pairs, "dropped": dropped, "n": len(kept), "mean_n": len(mean_pairs),
        "mean_a": encode(mean_a), "mean_b": encode(mean_b), "mean_difference": encode(mean_d),
        "median_difference": encode(median_d), "mean_difference_interval": ci,
        "statistic": encode(statistic), "pvalue": encode(p), "rank_sum_positive": r_plus,
        "rank_sum_negative": r_minus, "wins": wins, "ties": ties, "losses": losses, "better": better,
    }


def paired():
    rng = np.random.default_rng(19005)
    inf, nan = math.inf, math.nan
    cases = []

    def add(name, a, b, direction, tolerance, penalty, resamples=400, seed=11, level=0.95):
        a = [float(v) for v in a]
        b = [float(v) for v in b]
        cases.append({
            "name": name, "a": [encode(v) for v in a], "b": [encode(v) for v in b], "direction": direction,
            "tolerance": tolerance, "penalty": penalty, "resamples": resamples, "seed": str(seed), "level": level,
            "expected": paired_expected(a, b, direction, tolerance, penalty, resamples, seed, level),
        })

    dice_a = np.clip(rng.normal(0.85, 0.05, 30), 0, 1)
    dice_b = np.clip(dice_a + rng.normal(0.01, 0.02, 30), 0, 1)
    add("dice_b_better", dice_a, dice_b, "higherIsBetter", 0.005, None)
    add("dice_b_worse", dice_b, dice_a, "higherIsBetter", 0.0, None)
    hd_a = list(rng.gamma(2.0, 3.0, 20))
    hd_b = [v * 0.8 for v in hd_a]
    hd_a[3], hd_b[7], hd_a[11], hd_b[11] = inf, inf, inf, inf
    hd_a[5] = nan
    add("hd95_inf_no_penalty", hd_a, hd_b, "lowerIsBetter", 0.1, None)
    add("hd95_inf_penalty", hd_a, hd_b, "lowerIsBetter", 0.1, 100.0)
    vol_a = list(rng.normal(0.0, 5.0, 15))
    vol_b = [v * 0.5 + 0.2 for v in vol_a]
    add("volume_difference_magnitude", vol_a, vol_b, "smallerMagnitudeIsBetter", 0.0, None)
    add("identical", dice_a[:10], dice_a[:10], "higherIsBetter", 0.0, None)
    add("all_dropped", [nan, 1.0], [2.0, nan], "lowerIsBetter", 0.0, None)
    many_a = list(rng.gamma(2.0, 2.0, 70))
    many_b = list(np.round(np.array(many_a) + rng.normal(-0.3, 1.0, 70), 1))
    many_a = list(np.round(many_a, 1))
    many_a[0], many_b[1], many_b[2] = inf, inf, inf
    add("assd_n70_ties_inf", many_a, many_b, "lowerIsBetter", 0.05, None, resamples=1000, seed=2026)
    write("paired.json", {"cases": cases})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    generators()
    quantiles()
    bootstraps()
    wilcoxon_cases()
    holm()
    paired()
