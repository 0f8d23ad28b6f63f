"""Small statistics for accuracy comparisons: intervals, paired tests.

Accuracy differences between two rescalers are *paired* (the same test samples run
through both), so they are judged by the samples that change: McNemar's exact test
on the discordant pairs, and a paired bootstrap interval of the difference. All
functions are deterministic (fixed seeds) so reports regenerate identically.
"""

import math

import numpy as np

__all__ = ["wilson", "mcnemar", "paired_score_interval", "bootstrap_mean", "bootstrap_ratio", "paired_bootstrap",
           "summary", "paired"]

_Z95 = 1.959963984540054


def wilson(correct, n):
    """95 % Wilson score interval ``(lo, hi)`` of a proportion ``correct / n`` (in [0, 1])."""
    if n <= 0:
        return float("nan"), float("nan")
    p, z2 = correct / n, _Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar(a_correct, b_correct):
    """Exact two-sided McNemar test of paired correctness vectors.

    Returns ``(gained, lost, p)``: samples right only under ``b``, right only under
    ``a``, and the binomial two-sided p-value of that split under ``p = 1/2``
    (1.0 when nothing changes).
    """
    a, b = np.asarray(a_correct, bool), np.asarray(b_correct, bool)
    gained, lost = int((b & ~a).sum()), int((a & ~b).sum())
    n = gained + lost
    if n == 0:
        return gained, lost, 1.0
    # exact integers: 2.0 ** n overflows a float beyond n = 1023 discordant pairs;
    # C(n, i + 1) from C(n, i), not each from scratch (tens of thousands of pairs)
    tail = term = 1
    for i in range(min(gained, lost)):
        term = term * (n - i) // (i + 1)
        tail += term
    return gained, lost, min(1.0, (2 * tail) / (1 << n))


def paired_score_interval(a_correct, b_correct):
    """Accuracy difference ``b - a`` (fraction) of paired correctness vectors with
    Newcombe's hybrid score 95 % interval (1998, method 10): ``(diff, lo, hi)``.

    Unlike a bootstrap, it stays honest when few or no pairs are discordant: two
    identical vectors of ``n`` samples give an interval whose width shrinks with
    ``n`` (the Wilson intervals of the two accuracies, tied by their correlation),
    not ``[0, 0]``, so a small test set cannot prove a difference small.
    """
    a, b = np.asarray(a_correct, bool), np.asarray(b_correct, bool)
    n = a.size
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    both, only_b, only_a = int((a & b).sum()), int((b & ~a).sum()), int((a & ~b).sum())
    neither = n - both - only_b - only_a
    p1, p2 = (both + only_b) / n, (both + only_a) / n
    l1, u1 = wilson(both + only_b, n)
    l2, u2 = wilson(both + only_a, n)
    den = (both + only_b) * (only_a + neither) * (both + only_a) * (only_b + neither)
    phi = (both * neither - only_b * only_a) / math.sqrt(den) if den else 0.0
    lower = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    upper = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    diff = p1 - p2
    return diff, max(-1.0, diff - lower), min(1.0, diff + upper)


def bootstrap_mean(values, *, reps=2000, seed=0):
    """Mean of ``values`` and its 95 % percentile-bootstrap interval ``(mean, lo, hi)``."""
    v = np.asarray(values, np.float64)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // v.size)  # bounded memory for large samples
    means = np.concatenate([v[rng.integers(0, v.size, (min(chunk, reps - i), v.size))].mean(axis=1)
                            for i in range(0, reps, chunk)])
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(v.mean()), float(lo), float(hi)


def bootstrap_ratio(numerator, denominator, *, reps=2000, seed=0):
    """``sum(numerator) / sum(denominator)`` of per-sample values and its 95 %
    percentile-bootstrap interval over samples ``(ratio, lo, hi)``."""
    num, den = np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    if num.size == 0 or den.sum() == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // num.size)
    ratios = []
    for i in range(0, reps, chunk):
        idx = rng.integers(0, num.size, (min(chunk, reps - i), num.size))
        ratios.append(num[idx].sum(axis=1) / np.maximum(den[idx].sum(axis=1), np.finfo(float).tiny))
    lo, hi = np.percentile(np.concatenate(ratios), [2.5, 97.5])
    return float(num.sum() / den.sum()), float(lo), float(hi)


def paired_bootstrap(a_correct, b_correct, *, reps=2000, seed=0):
    """Accuracy difference ``b - a`` (fraction) with a 95 % paired-bootstrap interval."""
    d = np.asarray(b_correct, np.float64) - np.asarray(a_correct, np.float64)
    return bootstrap_mean(d, reps=reps, seed=seed)


def summary(correct_by_seed):
    """Accuracy of one model family over seeds (or folds) on one test set, in points.

    ``correct_by_seed``: one boolean vector per seed, over the same test samples.
    Returns the mean accuracy over seeds with a 95 % CI from a bootstrap over test
    samples (the same resampled samples for every seed), the per-seed accuracies and
    their standard deviation (0 for a single model).
    """
    per_seed = [100 * float(np.mean(c)) for c in correct_by_seed]
    mat = np.stack(correct_by_seed).astype(np.float64).mean(axis=0)  # per sample, over seeds
    mean, lo, hi = bootstrap_mean(mat)
    return {"accuracy": 100 * mean, "ci95": [100 * lo, 100 * hi], "per_seed": per_seed,
            "seed_sd": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0}


def paired(correct_by_seed, base_by_seed):
    """Paired comparison against a baseline over seeds, pooled: the mean accuracy
    difference (points) with a paired-bootstrap 95 % CI, the discordant counts and
    McNemar's exact p on the pooled pairs (and per seed)."""
    a, b = np.concatenate(base_by_seed), np.concatenate(correct_by_seed)
    d, lo, hi = paired_bootstrap(a, b)
    gained, lost, p = mcnemar(a, b)
    return {"diff_points": 100 * d, "diff_ci95": [100 * lo, 100 * hi], "gained": gained, "lost": lost,
            "mcnemar_p": p, "mcnemar_p_per_seed": [mcnemar(x, y)[2] for x, y in zip(base_by_seed, correct_by_seed)]}
