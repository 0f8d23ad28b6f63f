"""Rescaler test vectors, shared by every testbench (cocotb and Amaranth simulator).

A vector is one row ``(acc, m, s, zero_point, act_min, act_max)`` (the columns of
:data:`sim.ports.RESCALER_INPUTS`, ``m`` the full multiplier); expected outputs
always come from :func:`sim.golden.rescale`.

* :func:`edge_vectors`: a cartesian set of extreme operands, every clamp corner
  crossed with zero-point extremes, and exact ties at one half of both signs at
  every shift;
* :func:`random_vectors`: half uniform ``(m, s)``, half realistic ``(m, s)`` from
  :func:`sim.golden.quantize_multiplier` of log-uniform scales, accumulators aimed
  at, near and far from the int8 range;
* :func:`vector_chunks`: both, restricted to the operands a variant's contract
  allows, with their kinds and expected outputs, in bounded pieces (a run of ten
  million vectors never holds them all); :func:`rescaler_vectors` all at once.
"""

from typing import NamedTuple

import numpy as np

from sim.golden import (INT8_MAX, INT8_MIN, INT32_MAX, INT32_MIN, legal_operands, quantize_multiplier,
                        rescale, s_max)
from sim.ports import RESCALER_INPUTS

__all__ = ["KINDS", "CHUNK", "Chunk", "edge_vectors", "random_vectors", "vector_chunks", "rescaler_vectors", "expected_outputs", "columns", "describe"]


def edge_vectors(k):
    """Cartesian edge set, clamp corners and exact ties: an ``(N, 6)`` int64 array."""
    smax = s_max(k)
    accs = sorted({INT32_MIN, INT32_MIN + 1, -(1 << 30), -65536, -257, -256, -129, -128, -2, -1,
                   0, 1, 2, 127, 128, 255, 256, 65535, 1 << 30, INT32_MAX - 1, INT32_MAX})
    ms = sorted({0, 1, 1 << (k - 1), (1 << (k - 1)) + 1, (1 << k) - 1})
    ss = sorted({s for s in (0, 1, k - 1, k, 31, 32, smax - 1, smax) if 0 <= s <= smax})
    rows = []
    # 1. acc x m x s with the three usual clamps: full range, ReLU, ReLU6-like (q(6) = 96).
    for lo, hi in ((INT8_MIN, INT8_MAX), (0, INT8_MAX), (0, 96)):
        rows += [(a, m, s, 0, lo, hi) for a in accs for m in ms for s in ss]
    # 2. Every clamp corner x zero-point extremes, on operands whose rescaled value
    #    spans below, inside and above the int8 range (m = 2^(k-1), s = k-1: y = acc).
    clamps = [(INT8_MIN, INT8_MAX), (0, INT8_MAX), (0, 96), (-128, -32), (-20, 60),
              (INT8_MIN, INT8_MIN), (INT8_MAX, INT8_MAX), (0, 0), (3, 3), (-1, 0)]
    zps = (INT8_MIN, -1, 0, 1, INT8_MAX)
    values = (INT32_MIN, -300, -129, -128, -127, -65, -1, 0, 1, 64, 96, 126, 127, 128, 300, INT32_MAX)
    for lo, hi in clamps:
        for zp in zps:
            rows += [(v, 1 << (k - 1), k - 1, zp, lo, hi) for v in values]
            rows += [(v, (1 << k) - 1, smax, zp, lo, hi) for v in (INT32_MIN, -1, 0, INT32_MAX)]
    # 3. Exact ties: acc*m = q * 2^(s-1) with q odd and small, so the result sits
    #    exactly at a half; m = 2^t (t as large as k allows) or m odd.
    for s in range(1, smax + 1):
        for q in (1, 3, 5, 127, 255, 257):
            for sign in (1, -1):
                for t in sorted({min(k - 1, s - 1), max(0, s - 1 - 22)}):
                    u = s - 1 - t
                    acc = sign * q << u
                    if u >= 0 and INT32_MIN <= acc <= INT32_MAX and t <= k - 1:
                        for zp, lo, hi in ((0, INT8_MIN, INT8_MAX), (-3, INT8_MIN, INT8_MAX), (0, 0, INT8_MAX)):
                            rows.append((acc, 1 << t, s, zp, lo, hi))
        if s - 1 <= 30:  # odd m: acc = +-(2j+1) * 2^(s-1) gives a tie whatever m is
            for m in sorted(v for v in {1, 3, (1 << k) - 1, ((1 << k) - 1) // 3 | 1} if v < 1 << k):
                for sign in (1, -1):
                    rows.append((sign << (s - 1), m, s, 0, INT8_MIN, INT8_MAX))
    return np.array(rows, dtype=np.int64)


def random_vectors(k, n, rng):
    """``n`` random vectors (an ``(n, 6)`` int64 array): the first half uniform
    ``(m, s)``, the second realistic ``(m, s)`` from the paper's quantizer."""
    smax = s_max(k)
    n_uniform = n // 2
    n_real = n - n_uniform
    # Uniform m and s; acc uniform over int32 for a third, else aimed near the int8 range.
    m_u = rng.integers(0, 1 << k, size=n_uniform, dtype=np.int64)
    s_u = rng.integers(0, smax + 1, size=n_uniform, dtype=np.int64)
    # Realistic: M log-uniform in [2^-26, 1] (some exactly 1), the paper's truncation.
    M = np.exp2(-rng.uniform(0, 26, size=n_real))
    M[rng.random(n_real) < 0.02] = 1.0
    m_r, s_r = quantize_multiplier(M, k)
    m = np.concatenate([m_u, m_r])
    s = np.concatenate([s_u, s_r])
    target = rng.uniform(-200, 200, size=n)  # desired rescaled value, before zero point
    scale = np.exp2(s.astype(np.float64)) / np.maximum(m, 1).astype(np.float64)
    aimed = np.clip(np.round(target * scale), INT32_MIN, INT32_MAX).astype(np.int64)
    aimed += rng.integers(-2, 3, size=n)
    full = rng.integers(INT32_MIN, INT32_MAX + 1, size=n, dtype=np.int64)
    small = rng.integers(-(1 << 16), 1 << 16, size=n, dtype=np.int64)
    pick = rng.random(n)
    acc = np.where(pick < 0.3, full, np.where(pick < 0.4, small, aimed))
    acc = np.clip(acc, INT32_MIN, INT32_MAX)
    # Output parameters: random zero point; clamp full range, ReLU at the zero point,
    # or a random ordered pair.
    zp = rng.integers(INT8_MIN, INT8_MAX + 1, size=n, dtype=np.int64)
    pair = rng.integers(INT8_MIN, INT8_MAX + 1, size=(n, 2), dtype=np.int64)
    pair_lo, pair_hi = np.minimum(pair[:, 0], pair[:, 1]), np.maximum(pair[:, 0], pair[:, 1])  # an ordered pair
    kind = rng.random(n)
    lo = np.where(kind < 0.4, INT8_MIN, np.where(kind < 0.6, zp, pair_lo))
    hi = np.where(kind < 0.6, INT8_MAX, pair_hi)
    # Built column by column: a row-major stack of six long columns is slow.
    table = np.empty((len(RESCALER_INPUTS), n), dtype=np.int64)
    for row, column in enumerate((acc, m, s, zp, lo, hi)):
        table[row] = column
    return table.T


def expected_outputs(table, k):
    """The golden outputs of an ``(N, 6)`` vector table (int64 array)."""
    acc, m, s, zp, lo, hi = np.asarray(table, dtype=np.int64).T
    return rescale(acc, m, s, zero_point=zp, act_min=lo, act_max=hi, k=k).astype(np.int64)


#: Names of the vector kinds (:attr:`Chunk.kind` holds indices into this tuple).
KINDS = ("edge", "random", "realistic")
#: Random vectors per :class:`Chunk`: bounded memory however many vectors a run asks for.
CHUNK = 1 << 16


class Chunk(NamedTuple):
    """A run of consecutive vectors of :func:`vector_chunks`.

    Members
    -------
    start : int
        Index of the first vector in the whole sequence.
    table : numpy.ndarray, shape (N, 6)
        Operands (:func:`columns` names them).
    kind : numpy.ndarray of int8, shape (N,)
        Index into :data:`KINDS`.
    expected : numpy.ndarray of int64, shape (N,)
        Golden outputs.
    """

    start: int
    table: np.ndarray
    kind: np.ndarray
    expected: np.ndarray


def vector_chunks(k, n_random, seed, *, trim_shift=False, hidden_bit=False, chunk=CHUNK):
    """Edge then ``n_random`` random vectors legal for the variant
    (:func:`sim.golden.legal_operands`), in :class:`Chunk` pieces with their golden
    outputs. Random chunk ``i`` draws from ``numpy.random.default_rng([seed, i])``, so
    a run of any length is reproducible from its seed without holding it whole."""
    start = 0

    def piece(table, kind):
        nonlocal start
        legal = legal_operands(table[:, 1], table[:, 2], k, trim_shift=trim_shift, hidden_bit=hidden_bit)
        table, kind = table[legal], kind[legal]
        out = Chunk(start, table, kind, expected_outputs(table, k))
        start += len(table)
        return out

    edge = edge_vectors(k)
    yield piece(edge, np.zeros(len(edge), dtype=np.int8))
    for index, first in enumerate(range(0, n_random, chunk)):
        n = min(chunk, n_random - first)
        kind = np.full(n, KINDS.index("realistic"), dtype=np.int8)
        kind[:n // 2] = KINDS.index("random")
        yield piece(random_vectors(k, n, np.random.default_rng([seed, index])), kind)


def rescaler_vectors(k, n_random, seed, *, trim_shift=False, hidden_bit=False):
    """``(table, kinds, expected)``: all of :func:`vector_chunks` at once, the kind of
    each row by name (``"edge"``, ``"random"``, ``"realistic"``)."""
    chunks = list(vector_chunks(k, n_random, seed, trim_shift=trim_shift, hidden_bit=hidden_bit))
    kinds = np.concatenate([c.kind for c in chunks])
    return (np.concatenate([c.table for c in chunks]), [KINDS[i] for i in kinds.tolist()],
            np.concatenate([c.expected for c in chunks]))


def columns(table):
    """An ``(N, 6)`` table as a dict of columns named as the rescaler's ports."""
    table = np.asarray(table, dtype=np.int64).reshape(-1, len(RESCALER_INPUTS))
    return {name: table[:, i] for i, name in enumerate(RESCALER_INPUTS)}


def describe(row):
    """One vector as ``acc=..., m=..., ...`` for a failure message."""
    return ", ".join(f"{name}={int(value)}" for name, value in zip(RESCALER_INPUTS, row))
