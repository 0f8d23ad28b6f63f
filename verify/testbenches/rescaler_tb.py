"""cocotb testbench: the rescaler RTL against :func:`sim.golden.rescale`, bit for bit.

Launched through :func:`verify.harness.run_rescaler_regression`, one simulator run per
configuration, on the multi-lane harness of :mod:`verify.harness` (``LANES``
rescalers side by side): Python writes a block of operand words to a file, the
harness plays it one word per clock and writes every lane's outputs back, and
numpy compares them with the golden outputs. cocotb awaits once per block, not
once per cycle. The vectors are :func:`verify.vectors.vector_chunks`.
Parameters (environment variables):

``DATAPATH``
    The :class:`hw.config.DatapathConfig` of the Verilog (required): ``k``, the
    pipeline depth (= latency) and the architecture options; only operands legal
    for them are driven, and with ``hidden_bit`` the ``m`` port gets ``m - 2^(k-1)``.
``HARNESS``
    JSON ``{"lanes": L, "depth": D}`` of the harness Verilog (required).
``N_RANDOM``, ``RANDOM_SEED``
    Number of random vectors on top of the edge vectors; their seed (logged, drawn
    when unset: rerun with it to reproduce a failure).

Two tests stream every vector: ``back_to_back`` (every lane valid every cycle) and
``bubbles`` (each lane's ``valid`` low on random cycles, garbage on all its operands
meanwhile). Each checks, per lane, that ``y_valid`` is ``valid`` delayed by exactly
the latency, that as many results come out as operand sets went in, and every
result in order; a failure names the vector (index, kind, operands, lane, block).
Each test logs a coverage table (:mod:`verify.coverage`) and writes it with its
throughput to ``coverage_<test>.json`` in the run directory.
"""

import json
import time
from pathlib import Path

import numpy as np

import cocotb
from cocotb.triggers import SimTimeoutError, Timer, with_timeout

from sim.ports import rescaler_inputs
from tb_common import CLOCK_NS, clock_and_reset, config_from_env, env_int, env_json, random_seed
from toolkit.cli import write_atomically
from verify import harness
from verify.coverage import Coverage, format_table
from verify.vectors import KINDS, describe, vector_chunks

SIM_SECONDS = [0.0]
BUBBLE_RATE = 0.3
MAX_REPORTED = 8


CONFIG = config_from_env()
K, PIPELINE = CONFIG.k, CONFIG.rescaler_pipeline
N_RANDOM = env_int("N_RANDOM", 200_000)
SEED, _SEED_NOTE = random_seed()
PORTS = rescaler_inputs(K, hidden_bit=CONFIG.hidden_bit)
LAYOUT = harness.input_layout(K, hidden_bit=CONFIG.hidden_bit)
_HARNESS = env_json("HARNESS")
LANES, DEPTH = int(_HARNESS["lanes"]), int(_HARNESS["depth"])
print(f"rescaler_tb: {CONFIG}, {LANES} lanes, N_RANDOM={N_RANDOM} RANDOM_SEED={SEED}{_SEED_NOTE}", flush=True)


class Failures:
    """The first problems found, with enough context to reproduce each."""

    def __init__(self):
        self.lines, self.bad, self.checked = [], 0, 0

    def timing(self, block, expected, y_valid, unknown):
        differ = np.argwhere((expected != y_valid) | unknown)
        if len(differ):
            cycle, lane = (int(v) for v in differ[0])
            self.lines.append(
                f"y_valid is not valid delayed by {PIPELINE} cycle{'s' * (PIPELINE != 1)}: first difference at "
                f"cycle {cycle} of block {block}, lane {lane} "
                f"(y_valid={'x' if unknown[cycle, lane] else int(y_valid[cycle, lane])}, "
                f"valid {PIPELINE} cycle(s) earlier={int(expected[cycle, lane])})")

    def values(self, block, chunk, rows, lanes, expected, got, unknown):
        self.checked += len(expected)
        wrong = np.flatnonzero((expected != got) | unknown)
        self.bad += len(wrong)
        room = MAX_REPORTED - sum(line.startswith("  vector") for line in self.lines)
        for i in wrong[:max(room, 0)].tolist():
            index = chunk.start + rows[i]
            shown = "x" if unknown[i] else int(got[i])
            self.lines.append(f"  vector #{index} ({KINDS[chunk.kind[rows[i]]]}): {describe(chunk.table[rows[i]])}: "
                              f"expected {int(expected[i])}, got {shown} (lane {int(lanes[i])}, block {block})")


async def _play(dut, block, valid, columns):
    """Play one block (``valid`` and port columns of shape ``(cycles, lanes)``) plus the
    drain cycles; return the harness outputs (:func:`verify.harness.unpack_outputs`) and
    the ``valid`` pattern played."""
    drain = np.zeros((PIPELINE, LANES), dtype=bool)
    valid = np.concatenate([valid, drain])
    columns = {name: np.concatenate([col, np.zeros((PIPELINE, LANES), dtype=col.dtype)])
               for name, col in columns.items()}
    cycles = len(valid)
    harness.write_block(harness.IN_FILE, harness.pack_block(LAYOUT, columns, valid))
    dut.cycles.value = cycles
    dut.start.value = 1 - int(dut.start.value)  # a change of start plays the block
    waited = time.perf_counter()
    try:
        await with_timeout(dut.done.value_change, (cycles + 16) * CLOCK_NS, "ns")
    except SimTimeoutError:
        raise AssertionError(f"the harness did not finish block {block} of {cycles} cycles "
                             f"(its done output never changed)") from None
    SIM_SECONDS[0] += time.perf_counter() - waited
    print("DEBUG block", block, cycles, time.perf_counter() - waited, flush=True)
    return harness.unpack_outputs(Path(harness.OUT_FILE).read_bytes(), LANES, cycles) + (valid,)


async def _stream(dut, test, bubble_rate):
    started = time.perf_counter()
    rng = np.random.default_rng([SEED, 1 + (bubble_rate > 0)])
    if not dut.start.value.is_resolvable:  # first test: drive it (the harness starts at 0)
        dut.start.value = 0
    dut.cycles.value = 0
    if _HARNESS["clock"] == "external":
        await clock_and_reset(dut, impl="gpi")
    else:  # the harness clocks and resets itself; step past its initial done = 0
        await Timer(1, unit="ns")
    failures, coverage = Failures(), Coverage(k=K, lanes=LANES)
    block, vectors = 0, 0
    for chunk in vector_chunks(K, N_RANDOM, SEED, trim_shift=CONFIG.trim_shift, hidden_bit=CONFIG.hidden_bit):
        # The unsigned port words (Port.encode on whole columns).
        encoded = [col & ((1 << port.width) - 1) for port, col in zip(PORTS, chunk.table.T)]
        position = 0
        while position < len(chunk.table):
            plan = harness.valid_plan(len(chunk.table) - position, LANES, bubble_rate, rng)[:DEPTH - PIPELINE]
            used = int(plan.sum())
            rows = np.arange(position, position + used)
            columns = {}
            for port, col in zip(PORTS, encoded):
                word = np.zeros(plan.shape, dtype=np.int64)
                if bubble_rate > 0:  # garbage on every operand of an idle lane
                    word[~plan] = rng.integers(0, 1 << port.width, size=int((~plan).sum()), dtype=np.int64)
                word[plan] = col[rows]
                columns[port.name] = word
            y, y_valid, unknown, valid_unknown, valid = await _play(dut, block, plan, columns)
            expected_valid = np.concatenate([np.zeros((PIPELINE, LANES), dtype=bool), valid[:len(valid) - PIPELINE]])
            failures.timing(block, expected_valid, y_valid, valid_unknown)
            # Results in slot order: the operands of slot (c, lane) come out at (c + latency, lane).
            got, got_unknown = y[PIPELINE:][plan], unknown[PIPELINE:][plan]
            lanes = np.nonzero(plan)[1]
            failures.values(block, chunk, rows, lanes, chunk.expected[rows], got, got_unknown)
            coverage.add(chunk.table[rows], lane=lanes)
            position += used
            vectors += used
            block += 1
            if failures.lines:
                break
        if failures.lines:
            break
    seconds = time.perf_counter() - started
    if failures.lines:
        header = (f"rescaler RTL mismatch in {test} (K={K}, RESCALER_PIPELINE={PIPELINE}, N_RANDOM={N_RANDOM}, "
                  f"RANDOM_SEED={SEED}; reproduce with RANDOM_SEED={SEED}); stopped after block {block - 1}:")
        lines = [header]
        if failures.bad:
            lines.append(f"{failures.bad} of {failures.checked} results differ from sim.golden.rescale "
                         f"(first {min(failures.bad, MAX_REPORTED)} shown):")
        raise AssertionError("\n".join(lines + failures.lines))
    summary = coverage.summary()
    write_atomically(f"coverage_{test}.json", json.dumps(
        {"test": test, "config": CONFIG.name, "sim": cocotb.SIM_NAME, "lanes": LANES, "vectors": vectors,
         "blocks": block, "seconds": round(seconds, 3), "sim_seconds": round(SIM_SECONDS[0], 3), "coverage": summary}, indent=1) + "\n")
    dut._log.info("%s: %d vectors bit-exact in %d blocks of %d lanes, %.1f s (%.0f vectors/s), K=%d, "
                  "RESCALER_PIPELINE=%d, RANDOM_SEED=%d\n%s", test, vectors, block, LANES, seconds,
                  vectors / seconds, K, PIPELINE, SEED, format_table([coverage.row(f"{CONFIG.name} {test}")]))


@cocotb.test()
async def back_to_back(dut):
    """A new operand set on every lane every cycle: one result per lane and cycle."""
    await _stream(dut, "back_to_back", 0.0)


@cocotb.test()
async def bubbles(dut):
    """valid low on random cycles of each lane (garbage operands meanwhile): results still in order."""
    await _stream(dut, "bubbles", BUBBLE_RATE)
