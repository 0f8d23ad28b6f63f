"""The named rescaler variants (:mod:`hw.variants`): one table, one name per datapath,
every architecture option a boolean, each variant's RTL equal to the golden model on
its legal operands (Amaranth simulation)."""

import dataclasses

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.config import ARCH_FIELDS, RESCALER_ARCH_FIELDS, DatapathConfig
from hw.engine import Engine
from hw.rescaler import Rescaler, rescale_operand_shapes
from hw.variants import PAPER_VARIANT, VARIANTS, variant_config, variant_of
from sim.golden import legal_operands, quantize_multiplier, rescale, s_max


def unused(component):
    """Silence Amaranth's "created but never used" warning for a component only inspected."""
    component._MustUse__silence = True
    return component


def test_one_name_per_datapath():
    """Every entry sets every RTL option (and nothing else), no two entries are the
    same datapath, and the paper's datapath is the one with no option on."""
    assert all(set(fields) == set(RESCALER_ARCH_FIELDS) for fields in VARIANTS.values())
    assert len({tuple(sorted(fields.items())) for fields in VARIANTS.values()}) == len(VARIANTS)
    assert not any(VARIANTS[PAPER_VARIANT].values())
    assert variant_of(DatapathConfig()) == "fast_clamp"  # the default configuration


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_of_finds_the_entry_whose_options_match(name):
    config = variant_config(name, k=6, macs=4, rescaler_pipeline=2, booth=True)
    assert variant_of(config) == name == variant_of(dataclasses.asdict(config))
    assert {f: getattr(config, f) for f in RESCALER_ARCH_FIELDS} == VARIANTS[name]


def test_variant_config_checks_the_name():
    with pytest.raises(ValueError, match=r"^variant must be one of paper, fast_clamp, .*, not 'plain'$"):
        variant_config("plain", k=4)
    assert variant_of({"k": 4}) == "fast_clamp" and variant_of({"trim_shift": True, "fast_clamp": False}) == "trim_shift"


@pytest.mark.parametrize("name", ARCH_FIELDS)
def test_options_are_booleans(name):
    assert getattr(DatapathConfig(), name) is (name == "fast_clamp")
    with pytest.raises(ValueError, match=rf"{name} must be True or False, not 1"):
        DatapathConfig(**{name: 1})


def test_engine_passes_options_to_its_rescaler():
    engine = unused(Engine(k=6, macs=4, hidden_bit=True, booth=True))
    assert engine.config.hidden_bit and engine.config.booth
    assert engine.m.shape().width == 5 and engine.latency == DatapathConfig(k=6, macs=4).latency
    assert unused(Engine.from_config(engine.config)).config == engine.config
    assert rescale_operand_shapes(6, hidden_bit=True)["m"].width == 5


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
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_matches_golden_on_legal_operands(k, variant):
    options = VARIANTS[variant]
    rng = np.random.default_rng([k, list(VARIANTS).index(variant)])
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
