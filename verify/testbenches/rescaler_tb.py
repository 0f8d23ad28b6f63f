"""cocotb testbench: the rescaler RTL against :func:`sim.golden.rescale`, bit for bit.

Launched through :func:`verify.runner.run_cocotb`, one simulator run per
configuration; the vectors are :func:`verify.vectors.rescaler_vectors`.
Parameters (environment variables):

``DATAPATH``
    The :class:`hw.config.DatapathConfig` of the Verilog (required): ``k``, the
    pipeline depth (= latency) and the architecture options; only operands legal
    for them are driven, and with ``hidden_bit`` the ``m`` port gets ``m - 2^(k-1)``.
``N_RANDOM``, ``RANDOM_SEED``
    Number of random vectors on top of the edge vectors; their seed (logged, drawn
    when unset: rerun with it to reproduce a failure).

Two tests stream every vector: ``back_to_back`` (``valid`` every cycle) and
``bubbles`` (``valid`` low on random cycles, garbage on ``acc`` meanwhile). Each
checks that ``y_valid`` is ``valid`` delayed by exactly the latency, that as many
results come out as operand sets went in, and every result in order.
"""

import hashlib

import numpy as np

import cocotb
from cocotb.triggers import Timer

from sim.golden import INT8_MAX, INT8_MIN
from sim.ports import rescaler_inputs
from tb_common import clock_and_reset, config_from_env, env_int, random_seed
from verify.vectors import describe, rescaler_vectors

BUBBLE_RATE = 0.3
MAX_REPORTED = 8


CONFIG = config_from_env()
K, PIPELINE = CONFIG.k, CONFIG.rescaler_pipeline
N_RANDOM = env_int("N_RANDOM", 20000)
SEED, _SEED_NOTE = random_seed()
PORTS = rescaler_inputs(K, hidden_bit=CONFIG.hidden_bit)
print(f"rescaler_tb: {CONFIG}, N_RANDOM={N_RANDOM} RANDOM_SEED={SEED}{_SEED_NOTE}", flush=True)

_VECTORS = None


def vectors():
    """``(operands, expected, kinds)``: lists of Python ints, built once per run."""
    global _VECTORS
    if _VECTORS is None:
        table, kinds, expected = rescaler_vectors(K, N_RANDOM, SEED, trim_shift=CONFIG.trim_shift,
                                                  hidden_bit=CONFIG.hidden_bit)
        _VECTORS = ([tuple(row) for row in table.tolist()], expected.tolist(), kinds)
    return _VECTORS


# ---------------------------------------------------------------------------------------
# Driving


def _encode(rows):
    """Operand tuples as the unsigned port values written to the DUT (``m`` without
    its leading 1 for a hidden-bit rescaler: the port's width drops it)."""
    return [tuple(port.encode(value) for port, value in zip(PORTS, row)) for row in rows]


def _describe(index, row, expected, got, kind):
    return f"vector #{index} ({kind}): {describe(row)}: expected {expected}, got {got}"


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
        header = (f"rescaler RTL mismatch in {test} (K={K}, RESCALER_PIPELINE={PIPELINE}, N_RANDOM={N_RANDOM}, "
                  f"RANDOM_SEED={SEED}; reproduce with RANDOM_SEED={SEED}):")
        raise AssertionError("\n".join([header] + problems))
    dut._log.info("%s: %d vectors bit-exact, %d cycles (K=%d, RESCALER_PIPELINE=%d, RANDOM_SEED=%d)",
                  test, len(expected), len(valid_seq), K, PIPELINE, SEED)


async def _stream(dut, test, bubble_rate):
    rows, expected, kinds = vectors()
    digest = hashlib.sha1(repr((rows, expected)).encode()).hexdigest()[:12]
    dut._log.info("RANDOM_SEED=%d (set RANDOM_SEED=%d to reproduce), K=%d, RESCALER_PIPELINE=%d, %d vectors, sha1 %s",
                  SEED, SEED, K, PIPELINE, len(rows), digest)
    encoded = _encode(rows)
    handles = [getattr(dut, port.name) for port in PORTS]
    h_acc = handles[0]
    valid_h, y_h, y_valid_h = dut.valid, dut.y, dut.y_valid

    # Drive every input at t = 0 (an Icarus `always @*` can miss its first evaluation).
    last = [0, 0, 0, 0, PORTS[4].encode(INT8_MIN), PORTS[5].encode(INT8_MAX)]
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
    """A new operand set every cycle: one result per cycle after RESCALER_PIPELINE cycles."""
    await _stream(dut, "back_to_back", 0.0)


@cocotb.test()
async def bubbles(dut):
    """valid low on random cycles (garbage on acc meanwhile): results still in order."""
    await _stream(dut, "bubbles", BUBBLE_RATE)
