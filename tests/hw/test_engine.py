"""The dot-product engine and the systolic array in Amaranth's simulator, against
the layer-level golden model (:mod:`sim.layers`): ``ref_*`` next to ``rtl_*``.

Every output of every layer is compared bit-exactly, and the cycle of every
output is checked against the documented latency (no bubbles when the input has
none). The cocotb/Icarus regression of the exported Verilog is
``tests/test_engine_cocotb.py``.
"""

import random

import numpy as np
import pytest
from amaranth.hdl import Value
from amaranth.sim import Simulator

from hw.array import Array
from hw.config import DatapathConfig
from hw.engine import Engine, tree_register_levels
from sim import golden, layers

_PORTS = ("x", "w", "bias", "m", "s", "zero_point", "act_min", "act_max", "first", "last")


def rtl_stream(dut, schedule, *, k, bubbles=0.0, seed=0, trace=None, skew=None):
    """Drive ``schedule`` into ``dut`` (an Engine or an Array), with a random bubble
    (``valid = 0``, random values on every other input) before a beat with
    probability ``bubbles``, the per-engine operands skewed if the array is
    pre-skewed (:func:`sim.layers.pre_skew`; ``skew`` overrides that); return the ``(G, engines)`` outputs
    and, per output, ``(cycle of the group's last beat, cycle of its y_valid)``.
    ``trace`` (a list), if given, receives ``(y, y_valid)`` of every cycle."""
    words = layers.stream_words(schedule, k)
    ports = {name: Value.cast(getattr(dut, name)) for name in _PORTS}
    rng = random.Random(seed)
    cycles = {name: [] for name in (*_PORTS, "valid")}
    for beat in range(schedule.beats):
        while rng.random() < bubbles:  # a bubble carries garbage that must be ignored
            for name, port in ports.items():
                cycles[name].append(rng.getrandbits(len(port)))
            cycles["valid"].append(0)
        for name in _PORTS:
            cycles[name].append(words[name][beat])
        cycles["valid"].append(1)
    if dut.config.pre_skew if skew is None else skew:
        cycles = layers.pre_skew(cycles, engines=dut.engines, macs=dut.macs, k=k)
    last_cycles = [t for t, (v, last) in enumerate(zip(cycles["valid"], cycles["last"])) if v and last]
    y = Value.cast(dut.y)
    outputs, out_cycles = [], []

    async def testbench(ctx):
        for cycle in range(len(cycles["valid"]) + dut.latency + 3):
            if cycle < len(cycles["valid"]):
                for name, port in ports.items():
                    ctx.set(port, cycles[name][cycle])
                ctx.set(dut.valid, cycles["valid"][cycle])
            else:
                ctx.set(dut.valid, 0)
            if trace is not None:
                trace.append((ctx.get(y), ctx.get(dut.y_valid)))
            if ctx.get(dut.y_valid):
                outputs.append(layers.unpack_lanes(ctx.get(y), 8, schedule.engines))
                out_cycles.append(cycle)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    return (np.array(outputs, dtype=np.int64).reshape(-1, schedule.engines),
            list(zip(last_cycles, out_cycles)))


def unused(component):
    """Silence Amaranth's "created but never used" warning for a component only inspected."""
    component._MustUse__silence = True
    return component


def ref_stream(schedule, *, k):
    """The golden outputs of ``schedule``, ``(G, engines)``."""
    return layers.run_schedule(schedule, k=k).astype(np.int64)


def check_layer(dut, layer, *, k, bubbles=0.0, seed=0, what="layer"):
    """Run ``layer`` through ``dut`` and compare every output and its timing."""
    schedule = layers.layer_schedule(layer, macs=dut.macs, engines=getattr(dut, "engines", 1))
    ref = ref_stream(schedule, k=k)
    rtl, timing = rtl_stream(dut, schedule, k=k, bubbles=bubbles, seed=seed)
    assert rtl.shape == ref.shape, f"{what}: {len(rtl)} outputs, expected {len(ref)}"
    bad = np.argwhere(rtl != ref)
    if len(bad):
        g, e = bad[0]
        raise AssertionError(f"{what}: {len(bad)} outputs differ; first: "
                             f"{layers.describe_output(layer, schedule, g, e)}: "
                             f"rtl {rtl[g, e]}, golden {ref[g, e]}")
    late = [(i, last, out) for i, (last, out) in enumerate(timing) if out - last != dut.latency]
    assert not late, f"{what}: output (group, last-beat cycle, y_valid cycle) {late[0]}: latency is not {dut.latency}"
    # The layer as a whole is the golden model's dot_product.
    full = golden.dot_product(layer["x"], layer["w"], layer["bias"], layer["M"], k,
                              zero_point=layer["zero_point"], act_min=layer["act_min"],
                              act_max=layer["act_max"])
    np.testing.assert_array_equal(layers.unschedule(schedule, rtl), full)


# --- the engine ------------------------------------------------------------------------------

@pytest.mark.parametrize("macs,mac_pipeline,rescaler_pipeline", [
    (1, 0, 0), (1, 1, 1), (4, 0, 1), (4, 1, 1), (4, 3, 3), (8, 1, 2), (8, 2, 0), (16, 5, 1)])
@pytest.mark.parametrize("k", [4, 8, 32])
def test_engine_random_layers(macs, mac_pipeline, rescaler_pipeline, k):
    rng = np.random.default_rng([macs, mac_pipeline, rescaler_pipeline, k])
    dut = Engine(k=k, macs=macs, mac_pipeline=mac_pipeline, rescaler_pipeline=rescaler_pipeline)
    for length in (1, macs, 3 * macs + 1, 9 * macs):
        layer = layers.random_layer(rng, k=k, positions=2, channels=4, length=length)
        check_layer(dut, layer, k=k, seed=length, what=f"length {length}")


@pytest.mark.parametrize("k", [4, 32])
def test_engine_bubbles(k):
    rng = np.random.default_rng(k)
    dut = Engine(k=k, macs=4, mac_pipeline=2, rescaler_pipeline=2)
    layer = layers.random_layer(rng, k=k, positions=3, channels=5, length=10)
    schedule = layers.layer_schedule(layer, macs=4)
    rtl, _ = rtl_stream(dut, schedule, k=k, bubbles=0.4, seed=1)
    np.testing.assert_array_equal(rtl, ref_stream(schedule, k=k))


@pytest.mark.parametrize("macs,mac_pipeline,rescaler_pipeline,k", [
    (1, 0, 0, 4), (4, 1, 1, 4), (8, 1, 1, 32), (8, 2, 3, 8), (16, 0, 2, 32)])
def test_engine_operand_isolation(macs, mac_pipeline, rescaler_pipeline, k):
    """The isolated engine: the same outputs at the same latency, with and without
    bubbles (whose garbage must not reach the rescaler), and with a registered
    rescaler ``y`` changes only when an output arrives."""
    rng = np.random.default_rng([macs, rescaler_pipeline, k])
    dut = Engine(k=k, macs=macs, mac_pipeline=mac_pipeline, rescaler_pipeline=rescaler_pipeline,
                 operand_isolation=True)
    for length in (1, 3 * macs + 1):
        layer = layers.random_layer(rng, k=k, positions=2, channels=4, length=length)
        check_layer(dut, layer, k=k, seed=length, what=f"length {length}")
        schedule = layers.layer_schedule(layer, macs=macs)
        trace = []
        rtl, _ = rtl_stream(dut, schedule, k=k, bubbles=0.4, seed=length, trace=trace)
        np.testing.assert_array_equal(rtl, ref_stream(schedule, k=k))
        if rescaler_pipeline:
            moved = [i for i in range(1, len(trace)) if trace[i][0] != trace[i - 1][0] and not trace[i][1]]
            assert not moved, f"length {length}: y changed without y_valid at cycles {moved[:5]}"


def test_engine_back_to_back_single_beat_channels():
    """first = last on every beat: one output per cycle, no bubbles, in order."""
    rng = np.random.default_rng(7)
    dut = Engine(k=8, macs=8)
    layer = layers.random_layer(rng, k=8, positions=4, channels=16, length=8)
    check_layer(dut, layer, k=8)


def test_engine_64_beats():
    rng = np.random.default_rng(64)
    dut = Engine(k=8, macs=4)
    layer = layers.random_layer(rng, k=8, positions=1, channels=3, length=64 * 4)
    check_layer(dut, layer, k=8)


@pytest.mark.parametrize("name", ["wrap_high", "wrap_low"])
def test_engine_accumulator_wrap(name):
    """bias +-(2^31 - 1) plus products wraps around like two's complement (the golden
    model's accumulate), it does not saturate."""
    layer = layers.edge_layer(name, k=8, macs=4)
    acc = golden.accumulate(layer["x"], layer["w"], layer["bias"])
    exact = layer["x"] @ layer["w"].T + layer["bias"]
    assert np.any(acc != exact)  # the layer does wrap
    check_layer(Engine(k=8, macs=4), layer, k=8, what=name)


@pytest.mark.parametrize("k", [4, 8, 32])
def test_engine_underflow(k):
    """Tiny M: s clipped to s_max, m shifted right, down to 0."""
    layer = layers.edge_layer("underflow", k=k, macs=4)
    assert layer["m"].min() == 0 and layer["s"].max() == golden.s_max(k)
    check_layer(Engine(k=k, macs=4), layer, k=k, what="underflow")


@pytest.mark.parametrize("name", ["saturate_high", "saturate_low", "m_one"])
def test_engine_edges(name):
    layer = layers.edge_layer(name, k=4, macs=4)
    check_layer(Engine(k=4, macs=4, mac_pipeline=0), layer, k=4, what=name)


def test_tree_register_levels():
    assert tree_register_levels(8, 0) == frozenset()
    assert tree_register_levels(8, 1) == {0}
    assert tree_register_levels(8, 2) == {0, 3}
    assert tree_register_levels(8, 4) == {0, 1, 2, 3}
    for macs in (1, 2, 4, 8, 16, 32, 64):
        for depth in range(macs.bit_length() + 1):
            assert len(tree_register_levels(macs, depth)) == depth


def test_engine_properties():
    dut = unused(Engine(k=4, macs=16, mac_pipeline=2, rescaler_pipeline=3))
    assert (dut.k, dut.macs, dut.mac_pipeline, dut.rescaler_pipeline) == (4, 16, 2, 3)
    assert dut.latency == 2 + 1 + 3
    assert dut.sum_bits == 20
    assert dut.config == DatapathConfig(k=4, macs=16, mac_pipeline=2, rescaler_pipeline=3)
    assert unused(Engine.from_config(DatapathConfig.preset("macs8", k=4))).config.macs == 8


# --- the array -------------------------------------------------------------------------------

@pytest.mark.parametrize("engines,macs,k", [(1, 4, 8), (2, 4, 4), (4, 8, 32), (3, 1, 8)])
def test_array_random_layers(engines, macs, k):
    rng = np.random.default_rng([engines, macs, k])
    dut = Array(k=k, macs=macs, engines=engines)
    for length, channels in ((1, engines), (2 * macs + 3, 2 * engines + 1), (6 * macs, engines)):
        layer = layers.random_layer(rng, k=k, positions=2, channels=channels, length=length)
        check_layer(dut, layer, k=k, seed=length, what=f"E={engines} length {length}")


def test_array_bubbles_and_edges():
    dut = Array(k=4, macs=4, engines=3, mac_pipeline=2, rescaler_pipeline=0)
    rng = np.random.default_rng(3)
    layer = layers.random_layer(rng, k=4, positions=3, channels=7, length=13)
    schedule = layers.layer_schedule(layer, macs=4, engines=3)
    rtl, _ = rtl_stream(dut, schedule, k=4, bubbles=0.3, seed=5)
    np.testing.assert_array_equal(rtl, ref_stream(schedule, k=4))
    for name in ("wrap_high", "underflow"):
        check_layer(dut, layers.edge_layer(name, k=4, macs=4), k=4, what=name)


@pytest.mark.parametrize("engines,macs,k", [(2, 4, 4), (4, 8, 32), (3, 1, 8)])
def test_pre_skewed_array_random_layers(engines, macs, k):
    """With ``pre_skew`` the caller delays lane e of the operands by e cycles
    (bubbles included) and gets the aligned array's outputs at its latency."""
    rng = np.random.default_rng([engines, macs, k, 1])
    dut = Array(k=k, macs=macs, engines=engines, pre_skew=True)
    for length, channels in ((1, engines), (2 * macs + 3, 2 * engines + 1), (6 * macs, engines)):
        layer = layers.random_layer(rng, k=k, positions=2, channels=channels, length=length)
        check_layer(dut, layer, k=k, seed=length, what=f"pre-skewed E={engines} length {length}")
        check_layer(dut, layer, k=k, bubbles=0.3, seed=length, what=f"pre-skewed E={engines} with bubbles")


def test_pre_skewed_array_with_other_options():
    """Pre-skew beside operand isolation, other pipeline depths and the edge layers."""
    dut = Array(k=4, macs=4, engines=2, mac_pipeline=0, rescaler_pipeline=3, pre_skew=True,
                operand_isolation=True)
    layer = layers.random_layer(np.random.default_rng(7), k=4, positions=3, channels=5, length=9)
    check_layer(dut, layer, k=4, bubbles=0.3, seed=2, what="pre-skewed, isolated")
    for name in ("wrap_high", "underflow"):
        check_layer(dut, layers.edge_layer(name, k=4, macs=4), k=4, what=name)


def test_pre_skewed_array_needs_the_skew():
    """Driven with aligned operands, a pre-skewed array computes engine 1's outputs from
    the wrong beats: the skew is the protocol, not a detail."""
    dut = Array(k=8, macs=4, engines=2, pre_skew=True)
    layer = layers.random_layer(np.random.default_rng(2), k=8, positions=4, channels=2, length=12)
    schedule = layers.layer_schedule(layer, macs=4, engines=2)
    rtl, _ = rtl_stream(dut, schedule, k=8, skew=False)
    ref = ref_stream(schedule, k=8)
    assert (rtl[:, 0] == ref[:, 0]).all() and (rtl[:, 1] != ref[:, 1]).any()


def test_pre_skew_timing_diagram():
    """The timing diagram of :class:`hw.array.Array`, cycle by cycle: E = 3, latency 5,
    group A of two beats (x = 1, 2) and B of one (x = 3), engine e's weights e + 1,
    biases 10 e (A) and 100 (B), M = 1; y_valid in cycles 6 and 7 only."""
    dut = Array(k=8, macs=1, engines=3, pre_skew=True)
    lanes = layers.pack_lanes
    rescale = {"m": lanes([128] * 3, 8), "s": lanes([7] * 3, 6), "zero_point": 0,
               "act_min": lanes([-128] * 3, 8), "act_max": lanes([127] * 3, 8)}
    aligned = {"valid": [1, 1, 1], "first": [1, 0, 1], "last": [0, 1, 1], "x": [1, 2, 3],
               "w": [lanes([1, 2, 3], 8)] * 3, "bias": [lanes([0, 10, 20], 32), 0, lanes([100] * 3, 32)],
               **{name: [0, value, value] for name, value in rescale.items()}}
    cycles = layers.pre_skew(aligned, engines=3, macs=1, k=8)
    assert cycles["bias"][1] == lanes([0, 10, 0], 32) and cycles["m"][3] == lanes([0, 128, 128], 8)
    seen = []

    async def testbench(ctx):
        for cycle in range(12):
            for name, column in cycles.items():
                ctx.set(Value.cast(getattr(dut, name)), column[cycle] if cycle < len(column) else 0)
            if ctx.get(dut.y_valid):
                seen.append((cycle, layers.unpack_lanes(ctx.get(Value.cast(dut.y)), 8, 3)))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    assert seen == [(6, [3, 16, 29]), (7, [103, 106, 109])]


def test_array_properties():
    dut = unused(Array(k=8, macs=8, engines=4, mac_pipeline=1, rescaler_pipeline=2))
    assert dut.latency == unused(Engine(k=8, macs=8, rescaler_pipeline=2)).latency + 3
    assert dut.engines == 4 and dut.macs == 8 and dut.k == 8
    assert unused(Array.from_config(DatapathConfig(k=8, macs=8, engines=4))).config.engines == 4


# --- a real layer ----------------------------------------------------------------------------

@pytest.mark.parametrize("k", [4, 8])
def test_array_runs_a_quantized_3x3_convolution(k):
    """A float 3x3 convolution (6x6x8 -> 6x6x8, padding 1), quantized to int8 with
    per-channel weight scales and (m, s) from the golden quantizer, lowered to dot
    products of length 72 and run through 4 engines of 8 MACs: every output
    bit-exact, and the float reference error reported."""
    rng = np.random.default_rng(2024)
    x = rng.normal(size=(6, 6, 8))
    w = rng.normal(size=(8, 3, 3, 8)) * rng.uniform(0.2, 2, size=(8, 1, 1, 1))
    b = rng.normal(size=8)
    q = layers.quantize_conv2d(x, w, b, k, padding=1, relu=True)
    cols, wm, (ho, wo) = q.lowered()
    assert cols.shape == (36, 72)
    schedule = layers.matmul_schedule(cols, wm, q.bias, q.m, q.s, zero_point=q.y_zero_point,
                                      act_min=q.act_min, act_max=q.act_max, macs=8, engines=4)
    rtl, _ = rtl_stream(Array(k=k, macs=8, engines=4), schedule, k=k, bubbles=0.1)
    y = layers.unschedule(schedule, rtl).reshape(ho, wo, -1)
    np.testing.assert_array_equal(y, q.golden())
    ref = np.maximum(layers.conv2d_float(x, w, b, padding=1), 0)
    err = np.abs(q.dequantize(y) - ref) / q.y_scale
    print(f"3x3 conv through the array, k={k}: float reference error max {err.max():.2f} LSB, "
          f"mean {err.mean():.3f} LSB (output scale {q.y_scale:.4g})")
    assert err.mean() < (0.5 if k >= 8 else 3)
