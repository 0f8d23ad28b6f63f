"""cocotb testbench: the dot-product engine / systolic array RTL against the layer-level
golden model (:mod:`sim.layers`, which runs :mod:`sim.golden`), every output bit for bit.

Launched through :func:`verify.runner.run_cocotb`, one simulator run per
configuration. Parameters (environment variables):

``DATAPATH``
    The :class:`hw.config.DatapathConfig` the Verilog was generated for (required;
    :func:`verify.runner.config_env`), which also gives the expected latency.
``N_LAYERS``
    Number of random layers (default 8), on top of the edge layers.
``RANDOM_SEED``
    Seed of the layers and of the bubble pattern. When unset, one is drawn and
    logged: rerun with ``RANDOM_SEED=<seed>`` to reproduce a failure.

The ports are packed buses (one write per port and cycle, only when the value
changes): ``x`` (``MACS`` lanes of 8 bits), ``w`` (``ENGINES*MACS`` lanes),
``bias``, ``m``, ``s``, ``zero_point``, ``act_min``, ``act_max`` (``ENGINES``
lanes), ``valid``, ``first``, ``last``; ``y`` (``ENGINES`` lanes) and ``y_valid``.
For a pre-skewed array (``pre_skew``) lane ``e`` of the per-engine ports is driven
``e`` cycles late, bubbles included, as its protocol asks (:class:`hw.array.Array`).

Six tests:

* ``random_layers``: random layers (1 to 3 positions, 1 to ``3*ENGINES`` output
  channels, dot products of 1 beat up to 70 beats, a 64-beat one always included),
  per-channel ``M`` in ``(0, 1]`` mostly chosen from the accumulator's spread (some
  log-uniform, some exactly 1: :func:`sim.layers.random_layer`), biases, zero points
  and ReLU/ReLU6 clamps, with random bubbles (``valid`` low, garbage on every input);
* ``saturation``, ``accumulator_wrap``, ``m_one``, ``underflow``: the layers of
  :data:`sim.layers.EDGE_LAYERS` (int8 saturation by all -128 operands, accumulator
  wrap at +-2^31, ``M = 1``, underflowing tiny ``M``), back to back;
* ``conv3x3``: a float 3x3 convolution quantized by :func:`sim.layers.quantize_conv2d`
  (per-channel weight scales, ``(m, s)`` from the golden quantizer), back to back.

Every test checks that ``y_valid`` is the (``valid and last``) pattern delayed by
exactly the latency, and every output; a failure names the layer, position,
output channel, engine, and the beat (in the layer's stream and cycle). Each test
logs what its outputs covered (:mod:`verify.coverage`; padding channels aside) and
writes it to ``coverage_<test>.json`` in the run directory.
"""

import json
import random

import numpy as np

import cocotb

from sim import layers
from sim.ports import ENGINE_INPUTS, RESCALER_INPUTS
from toolkit.files import write_atomically
from verify.coverage import Coverage, format_table
from tb_common import clock_and_reset, config_from_env, env_int, random_seed

BUBBLE_RATE = 0.3
MAX_REPORTED = 8


CONFIG = config_from_env()
K, MACS, ENGINES = CONFIG.k, CONFIG.macs, CONFIG.engines
N_LAYERS = env_int("N_LAYERS", 8)
SEED, _SEED_NOTE = random_seed()
_PORTS = ENGINE_INPUTS
print(f"engine_tb: {CONFIG}, latency {CONFIG.latency}, N_LAYERS={N_LAYERS}, RANDOM_SEED={SEED}"
      f"{_SEED_NOTE}", flush=True)


class Stream:
    """Several layers' schedules as one stream of port words, with the expected outputs
    and, per output group, where it comes from (for the failure messages)."""

    def __init__(self):
        self.words = {name: [] for name in _PORTS}
        self.expected = []   # per output group: list of ENGINES ints
        self.origin = []     # per output group: (layer name, layer, schedule, group, first stream beat)
        self.schedules = {}
        self.coverage = Coverage(k=K, lanes=ENGINES, wraps=True)

    def add(self, name, layer, schedule):
        start = len(self.words["first"])
        for port, values in layers.stream_words(schedule, K, hidden_bit=CONFIG.hidden_bit).items():
            self.words[port] += values
        self.expected += layers.run_schedule(schedule, k=K).astype(int).tolist()
        ops, real = layers.schedule_operands(schedule), schedule.channel >= 0  # padding channels aside
        self.coverage.add(np.stack([ops[name][real] for name in RESCALER_INPUTS], axis=1),
                          lane=np.nonzero(real)[1], wrapped=ops["wrapped"][real])
        self.origin += [(name, layer, schedule, group, start) for group in range(schedule.groups)]
        self.schedules[name] = schedule

    def describe(self, g, e, got):
        name, layer, schedule, group, start = self.origin[g]
        return (f"layer {name!r}, {layers.describe_output(layer, schedule, group, e)} "
                f"(the layer starts at stream beat {start}): expected {self.expected[g][e]}, got {got}")


def random_layers(rng):
    stream = Stream()
    lengths = [64 * MACS] + [int(v) for v in rng.integers(1, 70 * MACS + 1, size=N_LAYERS - 1)]
    lengths[1:3] = [1, MACS][:len(lengths) - 1]  # one beat of one lane, one full beat
    for i, length in enumerate(lengths):
        positions = 1 if length > 16 * MACS else int(rng.integers(1, 4))
        channels = int(rng.integers(1, 3 * ENGINES + 1))
        layer = layers.random_layer(rng, k=K, positions=positions, channels=channels, length=length)
        stream.add(f"random{i} (P={positions}, C={channels}, L={length})", layer,
                   layers.layer_schedule(layer, macs=MACS, engines=ENGINES))
    return stream


def edge_layers(names):
    stream = Stream()
    for name in names:
        layer = layers.edge_layer(name, k=K, macs=MACS)
        stream.add(name, layer, layers.layer_schedule(layer, macs=MACS, engines=ENGINES))
    return stream


def conv_layer(rng):
    x = rng.normal(size=(6, 6, 8))
    w = rng.normal(size=(8, 3, 3, 8)) * rng.uniform(0.2, 2, size=(8, 1, 1, 1))
    b = rng.normal(size=8)
    q = layers.quantize_conv2d(x, w, b, K, padding=1, relu=True)
    cols, wm, _ = q.lowered()
    layer = {"x": cols, "w": wm, "bias": q.bias, "m": q.m, "s": q.s,
             "zero_point": np.full(8, q.y_zero_point), "act_min": np.full(8, q.act_min),
             "act_max": np.full(8, q.act_max)}
    stream = Stream()
    stream.add("conv3x3 6x6x8->8 pad 1 ReLU", layer, layers.layer_schedule(layer, macs=MACS, engines=ENGINES))
    return stream, q, (x, w, b)


class Monitor:
    """What the outputs did at every rising clock edge: whether the beat just driven
    ended a channel (``done``), ``y_valid``, and every ``y`` sampled while it was high."""

    def __init__(self, dut, edge):
        self.edge, self.y, self.y_valid = edge, dut.y, dut.y_valid
        self.done, self.valid, self.outputs = [], [], []

    async def clock(self, done):
        """Wait for the next rising edge and sample the outputs there."""
        await self.edge
        self.done.append(done)
        valid = int(self.y_valid.value)
        self.valid.append(valid)
        if valid:
            self.outputs.append(layers.unpack_lanes(self.y.value.to_unsigned(), 8, ENGINES))


def cycle_words(dut, stream, gaps, garbage):
    """The word of every input port (``valid`` included) in every cycle: ``gaps[b]``
    bubbles (``valid`` low, random garbage on every other input) before beat ``b``;
    for a pre-skewed array, lane ``e`` of the per-engine operands ``e`` cycles late
    (:func:`sim.layers.pre_skew`)."""
    widths = [len(getattr(dut, name)) for name in _PORTS]
    cycles = {name: [] for name in (*_PORTS, "valid")}
    for beat, gap in enumerate(gaps):
        for _ in range(gap):
            for name, width in zip(_PORTS, widths):
                cycles[name].append(garbage.getrandbits(width))
            cycles["valid"].append(0)
        for name in _PORTS:
            cycles[name].append(stream.words[name][beat])
        cycles["valid"].append(1)
    if CONFIG.pre_skew:
        cycles = layers.pre_skew(cycles, engines=ENGINES, macs=MACS, k=K, hidden_bit=CONFIG.hidden_bit)
    return cycles


async def drive(dut, cycles, monitor):
    """Drive the words of :func:`cycle_words`, then idle until the last output is out.
    A port is written only when its value changes (writes dominate the simulation cost)."""
    handles = {name: getattr(dut, name) for name in cycles}
    last = dict.fromkeys(cycles, 0)
    for t in range(len(cycles["valid"])):
        for name, column in cycles.items():
            if column[t] != last[name]:
                handles[name].value = last[name] = column[t]
        await monitor.clock(cycles["valid"][t] & cycles["last"][t])
    dut.valid.value = 0
    for _ in range(CONFIG.latency + 2):
        await monitor.clock(0)


def check(stream, monitor):
    """The problems found: ``y_valid`` not (valid and last) delayed by exactly the
    latency, a wrong number of outputs, outputs that differ from the golden model."""
    problems = []
    latency = CONFIG.latency
    shifted = [0] * latency + monitor.done[:len(monitor.done) - latency]
    if monitor.valid != shifted:
        first = next(i for i, (a, b) in enumerate(zip(monitor.valid, shifted)) if a != b)
        problems.append(f"y_valid is not (valid and last) delayed by {latency} cycles: first difference "
                        f"at cycle {first} after reset (y_valid={monitor.valid[first]}, expected {shifted[first]})")
    got = monitor.outputs
    if len(got) != len(stream.expected):
        problems.append(f"{len(got)} outputs came out for {len(stream.expected)} output groups")
    bad = [(g, e) for g, (exp, out) in enumerate(zip(stream.expected, got))
           for e in range(ENGINES) if exp[e] != out[e]]
    if bad:
        problems.append(f"{len(bad)} of {len(stream.expected) * ENGINES} outputs differ from the golden "
                        f"model (first {min(len(bad), MAX_REPORTED)} shown):")
        problems += ["  " + stream.describe(g, e, got[g][e]) for g, e in bad[:MAX_REPORTED]]
    return problems


def record_coverage(dut, test, stream, monitor):
    """Write ``coverage_<test>.json`` and log the outputs' coverage."""
    write_atomically(f"coverage_{test}.json", json.dumps(
        {"test": test, "config": CONFIG.name, "sim": cocotb.SIM_NAME, "lanes": ENGINES,
         "coverage": stream.coverage.summary()}, indent=1) + "\n")
    dut._log.info("%s: %d outputs bit-exact in %d cycles (%d beats), RANDOM_SEED=%d\n%s",
                  test, len(monitor.outputs) * ENGINES, len(monitor.done), len(stream.words["first"]), SEED,
                  format_table([stream.coverage.row(f"{CONFIG.name} {test}")]))


async def run(dut, test, stream, bubble_rate, rng):
    """Drive ``stream`` (with bubbles at ``bubble_rate``), check outputs and timing,
    record the coverage; returns the outputs (one list of ENGINES ints per group)."""
    for name in _PORTS:  # every input driven at t = 0
        getattr(dut, name).value = 0
    dut.valid.value = 0
    monitor = Monitor(dut, await clock_and_reset(dut))
    beats = len(stream.words["first"])
    garbage = random.Random(int(rng.integers(1 << 31)))  # drawn first: a seed replays earlier runs
    gaps = (rng.geometric(1 - bubble_rate, size=beats) - 1).tolist() if bubble_rate > 0 else [0] * beats
    await drive(dut, cycle_words(dut, stream, gaps, garbage), monitor)
    problems = check(stream, monitor)
    if problems:
        header = f"engine RTL mismatch in {test} ({CONFIG}; reproduce with RANDOM_SEED={SEED}):"
        raise AssertionError("\n".join([header] + problems))
    record_coverage(dut, test, stream, monitor)
    return monitor.outputs


@cocotb.test()
async def random_layers_with_bubbles(dut):
    """Random layers, 1 to 70 beats per dot product, random bubbles on the input."""
    rng = np.random.default_rng([SEED, 1])
    await run(dut, "random_layers_with_bubbles", random_layers(rng), BUBBLE_RATE, rng)


async def _edges(dut, test, names):
    await run(dut, test, edge_layers(names), 0.0, np.random.default_rng([SEED, 2]))


@cocotb.test()
async def saturation(dut):
    """All -128 activations and -128 (+127) weights over 64 beats: y saturates at 127 (-128)."""
    await _edges(dut, "saturation", ["saturate_high", "saturate_low"])


@cocotb.test()
async def accumulator_wrap(dut):
    """A bias of +-(2^31 - 1) plus products: the accumulator wraps like two's complement."""
    await _edges(dut, "accumulator_wrap", ["wrap_high", "wrap_low"])


@cocotb.test()
async def m_one(dut):
    """M = 1 (m = 2^(k-1), s = k-1) on small accumulators: every bit of acc is visible."""
    await _edges(dut, "m_one", ["m_one"])


@cocotb.test()
async def underflow(dut):
    """Tiny M: s clipped to s_max and m shifted right, down to 0."""
    await _edges(dut, "underflow", ["underflow"])


@cocotb.test()
async def conv3x3(dut):
    """A quantized float 3x3 convolution, bit-exact; the float reference error is logged."""
    rng = np.random.default_rng([SEED, 3])
    stream, q, floats = conv_layer(rng)
    got = await run(dut, "conv3x3", stream, 0.0, rng)
    (name, schedule), = stream.schedules.items()
    y = layers.unschedule(schedule, got).reshape(q.golden().shape)
    np.testing.assert_array_equal(y, q.golden())
    err = np.abs(q.dequantize(y) - np.maximum(layers.conv2d_float(*floats, padding=1), 0)) / q.y_scale
    dut._log.info("conv3x3 (k=%d): float reference error max %.2f LSB, mean %.3f LSB (LSB = %.4g)",
                  K, err.max(), err.mean(), q.y_scale)
