"""Rescaler architecture variants: config, golden contracts, simulation, sweep plumbing."""

import dataclasses

import numpy as np
import pytest
from amaranth.sim import Simulator

from costmodel import sweep, synth, variants
from hw.config import ARCH_FIELDS, DatapathConfig
from hw.engine import Engine
from hw.rescaler import Rescaler, rescale_operand_shapes
from sim.golden import legal_operands, quantize_multiplier, rescale, s_max


def unused(component):
    """Silence Amaranth's "created but never used" warning for a component only inspected."""
    component._MustUse__silence = True
    return component

OPTIONS = [{"fast_clamp": False}, {}, {"trim_shift": True, "fast_clamp": False}, {"trim_shift": True},
           {"hidden_bit": True, "fast_clamp": False}, {"trim_shift": True, "hidden_bit": True}]


# --------------------------------------------------------------------------- config

@pytest.mark.parametrize("name", ARCH_FIELDS)
def test_options_are_booleans(name):
    assert getattr(DatapathConfig(), name) is (name == "fast_clamp")
    with pytest.raises(ValueError, match=rf"{name} must be True or False, not 1"):
        DatapathConfig(**{name: 1})


def test_report_name_adds_options():
    request = synth.SynthRequest("liberty", synth.DEFAULT_LIBERTY)
    config = DatapathConfig(k=4, macs=8, rescaler_pipeline=2, trim_shift=True)
    assert synth.report_name(config, request) == "k4_macs8_rescaler_pipeline2_trim_shift1"
    assert synth.report_name(DatapathConfig(k=4, macs=8, fast_clamp=False), request) == "k4_macs8_fast_clamp0"


def test_engine_passes_options_to_its_rescaler():
    engine = unused(Engine(k=6, macs=4, hidden_bit=True, booth=True))
    assert engine.config.hidden_bit and engine.config.booth
    assert engine.m.shape().width == 5 and engine.latency == DatapathConfig(k=6, macs=4).latency
    assert unused(Engine.from_config(engine.config)).config == engine.config
    assert rescale_operand_shapes(6, hidden_bit=True)["m"].width == 5


# --------------------------------------------------------------------------- golden

def test_legal_operands():
    k = 4
    assert legal_operands([0, 8, 3, 8, 15], [0, 3, s_max(k), 2, 3], k, trim_shift=True).tolist() == \
        [True, True, True, False, True]
    assert legal_operands([0, 7, 8], [3, 3, 3], k, hidden_bit=True).tolist() == [False, False, True]
    assert legal_operands([16, 8], [3, s_max(k) + 1], k).tolist() == [False, False]


def test_quantizers_give_legal_operands():
    rng = np.random.default_rng(1)
    M = np.concatenate([np.exp2(-rng.uniform(0, 40, 2000)), [0.0, 1.0]])
    for k in (2, 4, 8, 32):
        for method in ("truncate", "nearest"):
            m, s = quantize_multiplier(M, k, method=method)
            assert legal_operands(m, s, k, trim_shift=True).all()
        M_ok = M[(M >= 2.0 ** (k - 1 - s_max(k)))]
        m, s = quantize_multiplier(M_ok, k, method="hidden")
        m_t, s_t = quantize_multiplier(M_ok, k)
        assert np.array_equal(m, m_t) and np.array_equal(s, s_t)
        assert legal_operands(m, s, k, trim_shift=True, hidden_bit=True).all()


def test_hidden_quantizer_rejects_what_it_cannot_represent():
    with pytest.raises(ValueError, match=r"M\[1\] = 0.0 is below 2\^-25: a hidden-bit multiplier"):
        quantize_multiplier([0.5, 0.0], 4, method="hidden")
    with pytest.raises(ValueError, match=r"below 2\^-25"):
        quantize_multiplier(2.0 ** -26, 4, method="hidden")
    assert quantize_multiplier(2.0 ** -25, 4, method="hidden") == (8, s_max(4))


# --------------------------------------------------------------------------- RTL (Amaranth simulation)

def _simulate(dut, rows, k, hidden):
    got = []

    async def testbench(ctx):
        for acc, m, s, zp, lo, hi in rows:
            for name, value in zip(("acc", "m", "s", "zero_point", "act_min", "act_max"),
                                   (acc, m - hidden, s, zp, lo, hi)):
                ctx.set(getattr(dut, name), int(value))
            await ctx.delay(1e-6)
            got.append(ctx.get(dut.y))

    sim = Simulator(dut)
    sim.add_testbench(testbench)
    sim.run()
    return np.array(got)


@pytest.mark.parametrize("k", [2, 5, 8, 32])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "+".join(o) or "plain")
def test_variant_matches_golden_on_legal_operands(k, options):
    rng = np.random.default_rng([k, len(options)])
    n = 600
    acc = np.where(rng.random(n) < 0.5, rng.integers(-2**31, 2**31, n), rng.integers(-4096, 4096, n))
    m, s = rng.integers(0, 1 << k, n), rng.integers(0, s_max(k) + 1, n)
    M = np.exp2(-rng.uniform(0, 30, n))
    m_q, s_q = quantize_multiplier(M, k)
    half = rng.random(n) < 0.5
    m, s = np.where(half, m_q, m), np.where(half, s_q, s)
    zp, lo, hi = rng.integers(-128, 128, n), rng.integers(-128, 0, n), rng.integers(0, 128, n)
    ok = legal_operands(m, s, k, trim_shift=options.get("trim_shift", False),
                        hidden_bit=options.get("hidden_bit", False))
    rows = np.stack([acc, m, s, zp, lo, hi], axis=1)[ok]
    expected = rescale(*rows.T[:3], zero_point=rows[:, 3], act_min=rows[:, 4], act_max=rows[:, 5], k=k)
    hidden = (1 << (k - 1)) if options.get("hidden_bit") else 0
    got = _simulate(Rescaler(k=k, rescaler_pipeline=0, **options), rows, k, hidden)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"{len(bad)} mismatches, first operands {rows[bad[0]].tolist()}: " \
                          f"expected {expected[bad[0]]}, got {got[bad[0]]}"


# --------------------------------------------------------------------------- sweep and flows

def test_parse_overrides():
    assert sweep.parse_overrides(["rescaler_pipeline=2", "fast-clamp=1", "booth=false"]) == \
        {"rescaler_pipeline": 2, "fast_clamp": True, "booth": False}
    with pytest.raises(ValueError, match="--set takes FIELD=VALUE"):
        sweep.parse_overrides(["k=4"])
    with pytest.raises(ValueError, match="--set takes FIELD=VALUE"):
        sweep.parse_overrides(["nonsense"])


def _report(k, macs, area, delay, **config):
    return {"config": dataclasses.asdict(DatapathConfig(k=k, macs=macs, **config)), "area": area,
            "delay": delay, "breakdown": {}, "area_unit": "um^2", "delay_unit": "ns",
            "tools": {"yosys": {"version": "Yosys test"}}, "library": None}


def test_variants_analysis_picks_the_best_and_checks_the_target():
    results = {"baseline": [_report(32, 8, 1000.0, 20.0), _report(4, 8, 600.0, 14.0)],
               "p2_trim_fast": [_report(32, 8, 1100.0, 12.0, rescaler_pipeline=2),
                                _report(4, 8, 500.0, 9.0, rescaler_pipeline=2)]}
    request = synth.SynthRequest("liberty", synth.DEFAULT_LIBERTY)
    doc = variants.analyse(results, request, 1.0)
    assert doc["must_show"]["passing_variants"] == ["p2_trim_fast"]
    k4 = next(p for p in doc["points"] if p["variant"] == "p2_trim_fast" and p["k"] == 4)
    assert (k4["area_reduction_pct"], k4["delay_reduction_pct"], k4["latency_cycles"]) == (50.0, 55.0, 4)
    assert {b["k"]: b["best_adp"] for b in doc["best"]} == {4: "p2_trim_fast", 32: "p2_trim_fast"}
    assert "| p2_trim_fast | 8 | 55.0 | 50.0 | 47.5 | yes |" in variants.to_markdown(doc)
