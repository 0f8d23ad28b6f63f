"""Throughput of the golden rescale against a bare numpy expression.

Times :func:`sim.golden.rescale` (default ``half_up`` rounding, full argument
validation) on ``n`` random vectors and compares it with the bare numpy baseline

    np.clip((a*m + r) >> s, -128, 127),   r = 1 << (s-1)

on the same data (int32 accumulators, per-vector ``(m, s)`` from
:func:`sim.golden.quantize_multiplier` of random ``M``). Best of ``--repeat`` runs
each. The target is golden within 2x of the baseline. This script only prints: it
is a measurement, never a test, and asserts nothing about time.

Usage::

    python benchmarks/golden_throughput.py [--n 10000000] [--k 8] [--seed S]
"""

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from sim import golden  # noqa: E402


def make_data(n, k, rng):
    """``n`` int32 accumulators and per-vector ``(m, s)`` for random ``M`` in (0, 1]."""
    acc = rng.integers(golden.INT32_MIN, golden.INT32_MAX, size=n, endpoint=True, dtype=np.int64)
    acc = acc.astype(np.int32)
    # Log-uniform M over the range real layers use (about 2^-20 .. 1).
    M = np.exp2(-rng.uniform(0.0, 20.0, size=n)).astype(np.float32)
    m, s = golden.quantize_multiplier(M, k)
    return acc, m, s


def baseline(acc, m, s):
    """Bare numpy: round half up by adding 2^(s-1), shift, saturate (assumes s >= 1)."""
    r = np.left_shift(1, s - 1)
    return np.clip((acc.astype(np.int64) * m + r) >> s, -128, 127).astype(np.int8)


def best_of(fn, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="vectors per run (default 10_000_000)")
    parser.add_argument("--k", type=int, default=8, help="multiplier width (default 8)")
    parser.add_argument("--seed", type=int, default=None, help="RNG seed (default: random, printed)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per candidate, best kept (default 3)")
    args = parser.parse_args(argv)
    k = golden.check_k(args.k)
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % (1 << 32))
    print(f"seed = {seed}, n = {args.n:_}, k = {k}, best of {args.repeat}")

    acc, m, s = make_data(args.n, k, np.random.default_rng(seed))
    assert s.min() >= 1  # the baseline's rounding term needs s >= 1 (true for M <= 1, k >= 2)

    t_base, y_base = best_of(lambda: baseline(acc, m, s), args.repeat)
    t_gold, y_gold = best_of(lambda: golden.rescale(acc, m, s, k=k), args.repeat)
    if not np.array_equal(y_base, y_gold):  # a sanity check of the data, not of speed
        bad = np.flatnonzero(y_base != y_gold)[0]
        print(f"WARNING: outputs differ at {bad}: acc={acc[bad]} m={m[bad]} s={s[bad]} "
              f"baseline={y_base[bad]} golden={y_gold[bad]}")

    rate_base, rate_gold = args.n / t_base, args.n / t_gold
    print(f"bare numpy : {rate_base / 1e6:8.2f} M rescales/s ({t_base:.3f} s)")
    print(f"golden     : {rate_gold / 1e6:8.2f} M rescales/s ({t_gold:.3f} s)")
    print(f"ratio      : golden is {t_gold / t_base:.2f}x slower than bare numpy (target <= 2x)")


if __name__ == "__main__":
    main()
