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
    JSON ``{"lanes": L, "depth": D, "clock": "internal" | "external"}`` of the harness
    Verilog (required): lanes, cycles per block, and whether the harness clocks
    itself (Icarus) or cocotb's C clock drives ``clk`` (Verilator).
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

import gc
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np

import cocotb
from cocotb.triggers import SimTimeoutError, Timer, with_timeout

from sim.ports import rescaler_inputs
from tb_common import CLOCK_NS, clock_and_reset, config_from_env, env_int, env_json, random_seed
from toolkit.files import write_atomically
from verify import harness
from verify.coverage import Coverage, format_table
from verify.vectors import KINDS, describe, vector_chunks

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


class Block(NamedTuple):
    """One block, ready to play: its vectors (rows of ``chunk``) and their slots."""

    index: int
    chunk: object  # verify.vectors.Chunk
    rows: np.ndarray  # rows of chunk.table, in slot order
    plan: np.ndarray  # (cycles, lanes) bool: the slots holding them
    slots: np.ndarray  # flat indices of plan's true slots, in order
    data: bytes  # the binary block file (harness.pack_block), drain cycles included
    cycles: int


def _blocks(bubble_rate, rng):
    """Every block of the run, in order (vectors, golden outputs, slots, file text)."""
    index = 0
    for chunk in vector_chunks(K, N_RANDOM, SEED, trim_shift=CONFIG.trim_shift, hidden_bit=CONFIG.hidden_bit):
        # The unsigned port words (Port.encode on whole columns).
        encoded = [col & ((1 << port.width) - 1) for port, col in zip(PORTS, chunk.table.T)]
        position = 0
        while position < len(chunk.table):
            plan = harness.valid_plan(len(chunk.table) - position, LANES, bubble_rate, rng)[:DEPTH - PIPELINE]
            slots = np.flatnonzero(plan)  # the plan's rows come first in valid: same flat indices
            rows = np.arange(position, position + len(slots))
            valid = np.concatenate([plan, np.zeros((PIPELINE, LANES), dtype=bool)])  # + drain cycles
            columns = {}
            for port, col in zip(PORTS, encoded):
                word = np.zeros(valid.shape, dtype=np.int64)
                if bubble_rate > 0:  # garbage on every operand of an idle lane
                    word[~valid] = rng.integers(0, 1 << port.width, size=int((~valid).sum()), dtype=np.int64)
                word.reshape(-1)[slots] = col[position:position + len(slots)]
                columns[port.name] = word
            yield Block(index, chunk, rows, plan, slots, harness.pack_block(LAYOUT, columns, valid), len(valid))
            position += len(rows)
            index += 1


def _check(block, output, failures, coverage):
    """Compare one block's harness output with the golden outputs; count its coverage."""
    y, y_valid, y_unknown, valid_unknown = harness.unpack_outputs(output, LANES, block.cycles)
    # y_valid must be the slots' valid pattern delayed by the latency (idle before).
    expected_valid = np.zeros((block.cycles, LANES), dtype=bool)
    expected_valid[PIPELINE:PIPELINE + len(block.plan)] = block.plan
    failures.timing(block.index, expected_valid, y_valid, valid_unknown)
    # Results in slot order: the operands of slot (c, lane) come out at (c + latency, lane).
    window = slice(PIPELINE, PIPELINE + len(block.plan))
    got = y[window].reshape(-1)[block.slots]
    unknown = y_unknown[window].reshape(-1)[block.slots]
    lanes = block.slots % LANES
    rows = slice(int(block.rows[0]), int(block.rows[-1]) + 1) if len(block.rows) else slice(0, 0)  # consecutive
    failures.values(block.index, block.chunk, block.rows, lanes, block.chunk.expected[rows], got, unknown)
    coverage.add(block.chunk.table[rows], lane=lanes)
    return len(block.rows)


async def _play(dut, block):
    """Play one block on the harness; return the bytes of its output file."""
    harness.write_block(harness.IN_FILE, block.data)
    dut.cycles.value = block.cycles
    dut.start.value = 1 - int(dut.start.value)  # a change of start plays the block
    try:
        await with_timeout(dut.done.value_change, (block.cycles + 16) * CLOCK_NS, "ns")
    except SimTimeoutError:
        raise AssertionError(f"the harness did not finish block {block.index} of {block.cycles} cycles "
                             f"(its done output never changed)") from None
    return Path(harness.OUT_FILE).read_bytes()


def _timed(cpu, phase, func, *args):
    """``func(*args)``, adding the calling thread's CPU time to ``cpu[phase]``."""
    started = time.thread_time()
    try:
        return func(*args)
    finally:
        cpu[phase] += time.thread_time() - started


async def _stream(dut, test, bubble_rate):
    """Play every block; a worker thread prepares the next block and checks the last one
    while the simulator runs (the simulator does not hold the GIL between callbacks).

    Where the time goes is recorded per thread: the simulator's thread (the design's
    evaluation, file I/O in Verilog and in ``_play``, cocotb's scheduling) and the
    worker's two phases, ``prepare`` (vectors, golden outputs, block file) and
    ``check`` (output file, comparison, coverage)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    main_started = time.thread_time()
    cpu = {"prepare": 0.0, "check": 0.0}
    rng = np.random.default_rng([SEED, 1 + (bubble_rate > 0)])
    if not dut.start.value.is_resolvable:  # first test: drive it (the harness starts at 0)
        dut.start.value = 0
    dut.cycles.value = 0
    if _HARNESS["clock"] == "external":
        await clock_and_reset(dut, impl="gpi")
    else:  # the harness clocks and resets itself; step past its initial done = 0
        await Timer(1, unit="ns")
    failures, coverage = Failures(), Coverage(k=K, lanes=LANES)
    blocks = _blocks(bubble_rate, rng)
    checks, played = [], 0
    gc.disable()  # numpy arrays only: the collector's passes would cost time for nothing
    try:
        with ThreadPoolExecutor(max_workers=1) as worker:  # one worker: tasks run in order
            upcoming = worker.submit(_timed, cpu, "prepare", next, blocks, None)
            while not failures.lines:
                block = upcoming.result()
                if block is None:
                    break
                upcoming = worker.submit(_timed, cpu, "prepare", next, blocks, None)
                output = await _play(dut, block)
                checks.append(worker.submit(_timed, cpu, "check", _check, block, output, failures, coverage))
                played = block.index + 1
            vectors = sum(check.result() for check in checks)
    finally:
        gc.enable()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    cpu = {"simulator_thread": time.thread_time() - main_started, **cpu}
    if failures.lines:
        header = (f"rescaler RTL mismatch in {test} (K={K}, RESCALER_PIPELINE={PIPELINE}, N_RANDOM={N_RANDOM}, "
                  f"RANDOM_SEED={SEED}; reproduce with RANDOM_SEED={SEED}); stopped after block {played - 1}:")
        lines = [header]
        if failures.bad:
            lines.append(f"{failures.bad} of {failures.checked} results differ from sim.golden.rescale "
                         f"(first {min(failures.bad, MAX_REPORTED)} shown):")
        raise AssertionError("\n".join(lines + failures.lines))
    write_atomically(f"coverage_{test}.json", json.dumps(
        {"test": test, "config": CONFIG.name, "sim": cocotb.SIM_NAME, "lanes": LANES, "vectors": vectors,
         "blocks": played, "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
         "cpu_by_thread": {name: round(value, 3) for name, value in cpu.items()},
         "coverage": coverage.summary()}, indent=1) + "\n")
    dut._log.info("%s: %d vectors bit-exact in %d blocks of %d lanes, %.1f s (%.0f vectors/s), K=%d, "
                  "RESCALER_PIPELINE=%d, RANDOM_SEED=%d\n%s", test, vectors, played, LANES, seconds,
                  vectors / seconds, K, PIPELINE, SEED, format_table([coverage.row(f"{CONFIG.name} {test}")]))


@cocotb.test()
async def back_to_back(dut):
    """A new operand set on every lane every cycle: one result per lane and cycle."""
    await _stream(dut, "back_to_back", 0.0)


@cocotb.test()
async def bubbles(dut):
    """valid low on random cycles of each lane (garbage operands meanwhile): results still in order."""
    await _stream(dut, "bubbles", BUBBLE_RATE)
