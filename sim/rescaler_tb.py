"""cocotb testbench: the rescaler RTL against :func:`sim.golden.rescale`, bit for bit.

Launched by ``tests/test_rescaler_cocotb.py`` through :func:`sim.runner.run_cocotb`,
one simulator run per configuration. Parameters (environment variables):

``K``
    Multiplier width the Verilog was generated for (required).
``PIPELINE``
    Its pipeline depth = latency in cycles (required); 0 is combinational (no clock).
``ARCH``
    Comma-separated architecture options of the Verilog (``fast_clamp``,
    ``trim_shift``, ``hidden_bit``; default none). Only operands legal for them
    (:func:`sim.golden.legal_operands`) are driven, and with ``hidden_bit`` the
    ``m`` port gets ``m - 2^(k-1)``.
``N_RANDOM``
    Number of random vectors (default 20000), on top of the edge vectors.
``RANDOM_SEED``
    Seed of the vectors and of the bubble pattern. When unset, one is drawn and
    logged: rerun with ``RANDOM_SEED=<seed>`` to reproduce a failure.

Vectors: a cartesian set of edge operands (extreme accumulators, ``m`` in
``{0, 1, 2^(k-1), 2^k-1}``, ``s`` in ``{0, 1, k-1, s_max}``...), every clamp corner
crossed with zero-point extremes, exact ties at one half for positive and negative
products at every shift, then random ``(m, s)`` and realistic ``(m, s)`` from
:func:`sim.golden.quantize_multiplier` of random scales. Expected outputs come from one
vectorized call of :func:`sim.golden.rescale`.

Two tests, both streaming every vector:

* ``back_to_back``: ``valid`` every cycle (throughput one result per cycle);
* ``bubbles``: ``valid`` low on random cycles, with garbage on ``acc`` meanwhile.

Each checks that ``y_valid`` is ``valid`` delayed by exactly ``PIPELINE`` cycles, that
as many results come out as valid operands went in, and every result in order.
"""

import hashlib

import numpy as np

import cocotb
from cocotb.triggers import Timer

import os

from sim.golden import (INT8_MAX, INT8_MIN, INT32_MAX, INT32_MIN, legal_operands, quantize_multiplier,
                        rescale, s_max)
from sim.tb_common import clock_and_reset, env_int, random_seed

BUBBLE_RATE = 0.3
MAX_REPORTED = 8


K = env_int("K")
PIPELINE = env_int("PIPELINE")
N_RANDOM = env_int("N_RANDOM", 20000)
SEED, _SEED_NOTE = random_seed()
S_MAX = s_max(K)
ARCH = {name: True for name in os.environ.get("ARCH", "").split(",") if name}
print(f"rescaler_tb: K={K} PIPELINE={PIPELINE} ARCH={','.join(ARCH) or '-'} N_RANDOM={N_RANDOM} "
      f"RANDOM_SEED={SEED}{_SEED_NOTE}",
      flush=True)


# ---------------------------------------------------------------------------------------
# Vectors


def _edge_vectors(k):
    """Cartesian edge set, clamp corners and exact ties. Columns: acc, m, s, zp, lo, hi."""
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


def _random_vectors(k, n, rng):
    """``n`` random vectors: half uniform (m, s), half realistic from quantize_multiplier."""
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
    pair = np.sort(rng.integers(INT8_MIN, INT8_MAX + 1, size=(n, 2), dtype=np.int64), axis=1)
    kind = rng.random(n)
    lo = np.where(kind < 0.4, INT8_MIN, np.where(kind < 0.6, zp, pair[:, 0]))
    hi = np.where(kind < 0.6, INT8_MAX, pair[:, 1])
    return np.stack([acc, m, s, zp, lo, hi], axis=1)


_VECTORS = None


def vectors():
    """``(operands, expected, kinds)``: lists of Python ints, built once per run."""
    global _VECTORS
    if _VECTORS is None:
        rng = np.random.default_rng(SEED)
        edge = _edge_vectors(K)
        rand = _random_vectors(K, N_RANDOM, rng)
        table = np.concatenate([edge, rand])
        kinds = ["edge"] * len(edge) + ["random"] * (N_RANDOM // 2) + ["realistic"] * (N_RANDOM - N_RANDOM // 2)
        legal = legal_operands(table[:, 1], table[:, 2], K, trim_shift="trim_shift" in ARCH,
                               hidden_bit="hidden_bit" in ARCH)
        table, kinds = table[legal], [kind for kind, ok in zip(kinds, legal.tolist()) if ok]
        acc, m, s, zp, lo, hi = table.T
        expected = rescale(acc, m, s, zero_point=zp, act_min=lo, act_max=hi, k=K)
        _VECTORS = ([tuple(row) for row in table.tolist()], expected.astype(np.int64).tolist(), kinds)
    return _VECTORS


# ---------------------------------------------------------------------------------------
# Driving


_PORTS = ("acc", "m", "s", "zero_point", "act_min", "act_max")
_MASKS = (0xFFFFFFFF, None, None, 0xFF, 0xFF, 0xFF)


def _encode(rows):
    """Operand tuples as the unsigned port values written to the DUT (``m`` without
    its leading 1 for a hidden-bit rescaler)."""
    hidden = (1 << (K - 1)) if "hidden_bit" in ARCH else 0
    return [(acc & 0xFFFFFFFF, m - hidden, s, zp & 0xFF, lo & 0xFF, hi & 0xFF) for acc, m, s, zp, lo, hi in rows]


def _describe(index, row, expected, got, kind):
    acc, m, s, zp, lo, hi = row
    return (f"vector #{index} ({kind}): acc={acc}, m={m}, s={s}, zero_point={zp}, "
            f"act_min={lo}, act_max={hi}: expected {expected}, got {got}")


def _check(dut, test, rows, expected, kinds, got, valid_seq, y_valid_seq, latency):
    """Compare everything collected by one test; raise one AssertionError listing failures."""
    problems = []
    # y_valid must be valid delayed by exactly `latency` cycles (0 before the first).
    shifted = [0] * latency + valid_seq[:len(valid_seq) - latency]
    if y_valid_seq != shifted:
        first = next(i for i, (a, b) in enumerate(zip(y_valid_seq, shifted)) if a != b)
        problems.append(f"y_valid is not valid delayed by {latency} cycle{'s' * (latency != 1)}: first difference at "
                        f"cycle {first} after reset (y_valid={y_valid_seq[first]}, "
                        f"valid {latency} cycle(s) earlier={shifted[first]})")
    if len(got) != len(expected):
        problems.append(f"{len(got)} results came out for {len(expected)} valid operand sets")
    bad = [i for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    if bad:
        problems.append(f"{len(bad)} of {len(expected)} results differ from sim.golden.rescale "
                        f"(first {min(len(bad), MAX_REPORTED)} shown):")
        problems += ["  " + _describe(i, rows[i], expected[i], got[i], kinds[i]) for i in bad[:MAX_REPORTED]]
    if problems:
        header = (f"rescaler RTL mismatch in {test} (K={K}, PIPELINE={PIPELINE}, N_RANDOM={N_RANDOM}, "
                  f"RANDOM_SEED={SEED}; reproduce with RANDOM_SEED={SEED}):")
        raise AssertionError("\n".join([header] + problems))
    dut._log.info("%s: %d vectors bit-exact, %d cycles (K=%d, PIPELINE=%d, RANDOM_SEED=%d)",
                  test, len(expected), len(valid_seq), K, PIPELINE, SEED)


async def _stream(dut, test, bubble_rate):
    rows, expected, kinds = vectors()
    digest = hashlib.sha1(repr((rows, expected)).encode()).hexdigest()[:12]
    dut._log.info("RANDOM_SEED=%d (set RANDOM_SEED=%d to reproduce), K=%d, PIPELINE=%d, %d vectors, sha1 %s",
                  SEED, SEED, K, PIPELINE, len(rows), digest)
    encoded = _encode(rows)
    handles = [getattr(dut, name) for name in _PORTS]
    h_acc = handles[0]
    valid_h, y_h, y_valid_h = dut.valid, dut.y, dut.y_valid

    # Drive every input at t = 0 (an Icarus `always @*` can miss its first evaluation).
    last = [0, 0, 0, 0, INT8_MIN & 0xFF, INT8_MAX & 0xFF]
    for handle, value in zip(handles, last):
        handle.value = value
    valid_h.value = 0

    # The valid pattern: one entry per cycle (or per step when combinational).
    rng = np.random.default_rng([SEED, 1 + (bubble_rate > 0)])
    n = len(rows)
    if bubble_rate > 0:
        # Geometric gaps between valid cycles, about `bubble_rate` of cycles idle.
        gaps = rng.geometric(1 - bubble_rate, size=n) - 1
        valid_seq = []
        for gap in gaps.tolist():
            valid_seq += [0] * gap + [1]
    else:
        valid_seq = [1] * n
    latency = PIPELINE
    valid_seq += [0] * latency  # drain the pipeline
    garbage = rng.integers(0, 1 << 32, size=len(valid_seq), dtype=np.int64).tolist() if bubble_rate > 0 else None
    y_valid_seq = []
    got = []

    if PIPELINE == 0:
        step = Timer(1, unit="ns")
        await step
    else:
        step = await clock_and_reset(dut)

    index = 0
    current_valid = 0
    for cycle, valid in enumerate(valid_seq):
        if valid:
            operands = encoded[index]
            index += 1
            for i in range(6):
                value = operands[i]
                if value != last[i]:
                    handles[i].value = value
                    last[i] = value
        elif garbage is not None:
            last[0] = garbage[cycle]
            h_acc.value = last[0]
        if valid != current_valid:
            valid_h.value = valid
            current_valid = valid
        await step
        # Combinational: the outputs of this step. Clocked: read right after the edge,
        # before the registers update: the outputs of `latency` cycles ago.
        y_valid = int(y_valid_h.value)
        y_valid_seq.append(y_valid)
        if y_valid:
            got.append(y_h.value.to_signed())
    _check(dut, test, rows, expected, kinds, got, valid_seq, y_valid_seq, latency)


@cocotb.test()
async def back_to_back(dut):
    """A new operand set every cycle: one result per cycle after PIPELINE cycles."""
    await _stream(dut, "back_to_back", 0.0)


@cocotb.test()
async def bubbles(dut):
    """valid low on random cycles (garbage on acc meanwhile): results still in order."""
    await _stream(dut, "bubbles", BUBBLE_RATE)
