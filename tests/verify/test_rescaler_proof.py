"""One rescaler configuration proved equal to Eq. (1) (:mod:`verify.rescaler_proof`).

Here: every variant at every k from 2 to 32 with the split proof, and every pipeline
depth of every variant at every k a pure delay of it (so that a fault in a single
(variant, k, depth) fails ``make test``, not only ``make formal``); the monolithic
proof at k = 3; and deliberately broken rescalers (the rounding increment dropped
everywhere, or only for s > 40 at k = 24; a trimmed shifter without its contract; a
pipeline one register short; registers without the isolation's enables) must fail, with a counterexample that the golden model
and a simulation of the broken RTL confirm.
"""

import pytest
from amaranth.hdl import Mux
from amaranth.sim import Simulator

from hw.rescaler import Rescaler
from hw.variants import VARIANTS, variant_config
from sim.golden import K_MAX, K_MIN, rescale
from verify import rescaler_proof


class NoRounding(Rescaler):
    """A deliberately broken rescaler: the rounding increment is dropped (floor)."""

    def round_half(self, partial, shift):
        return partial >> 1


class LateRoundingBug(Rescaler):
    """A rescaler that drops the rounding increment for shifts above 40 only."""

    def round_half(self, partial, shift):
        return Mux(shift > 40, partial >> 1, (partial + 1) >> 1)


def _simulate(component, operands, k, hidden_bit=False):
    """The combinational ``component``'s ``y`` for one operand dict (full ``m``)."""
    got = []

    async def testbench(ctx):
        for name, value in operands.items():
            if name == "m" and hidden_bit:
                value -= 1 << (k - 1)
            ctx.set(getattr(component, name), value)
        await ctx.delay(1e-6)
        got.append(ctx.get(component.y))

    sim = Simulator(component)
    sim.add_testbench(testbench)
    sim.run()
    return got[0]


def _golden(cex, k):
    return int(rescale(cex["acc"], cex["m"], cex["s"], zero_point=cex["zero_point"],
                       act_min=cex["act_min"], act_max=cex["act_max"], k=k))


def _config(variant, k, depth=0):
    return variant_config(variant, k=k, rescaler_pipeline=depth)


@pytest.mark.parametrize("k", range(K_MIN, K_MAX + 1))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_proved(variant, k, tmp_path):
    """Every variant at every k, each pipeline depth included: a wrong width
    expression at one k, or a register misplaced at one depth, fails here."""
    result = rescaler_proof.prove(_config(variant, k), workdir=tmp_path)
    assert result.proved, result.describe()
    for depth in rescaler_proof.PIPELINES:
        result = rescaler_proof.prove_pipeline(_config(variant, k, depth), workdir=tmp_path / f"pipe{depth}")
        assert result.proved, f"depth {depth}: {result.describe()}"


def test_monolithic_proof_agrees_at_small_k(tmp_path):
    result = rescaler_proof.prove(_config("paper", 3), workdir=tmp_path, method="monolithic")
    assert result.proved, result.describe()


@pytest.mark.parametrize("depth", rescaler_proof.PIPELINES)
def test_pipeline_only_delays(depth, tmp_path):
    result = rescaler_proof.prove_pipeline(_config("trim_fast_hidden", 8, depth), workdir=tmp_path)
    assert result.proved, result.describe()


def test_pipeline_of_the_wrong_depth_fails(tmp_path):
    """A two-stage rescaler checked as a three-stage one: its outputs come a cycle early."""
    config = _config("fast_clamp", 6, 3)
    result = rescaler_proof.prove_pipeline(config, component=Rescaler(k=6, rescaler_pipeline=2), workdir=tmp_path)
    assert not result.proved


@pytest.mark.parametrize("depth", rescaler_proof.PIPELINES)
def test_isolation_that_does_not_hold_fails(depth, tmp_path):
    """A rescaler without operand isolation checked as an isolated one: its registers
    follow the inputs between results, so ``y`` does not hold."""
    config = _config("isolated", 4, depth)
    plain = Rescaler(k=4, rescaler_pipeline=depth)
    assert not rescaler_proof.prove_pipeline(config, component=plain, workdir=tmp_path).proved


def test_late_rounding_bug_at_k24_is_caught_with_operands(tmp_path):
    k = 24
    result = rescaler_proof.prove(_config("fast_clamp", k), component=LateRoundingBug(k=k, rescaler_pipeline=0),
                          workdir=tmp_path)
    assert not result.proved
    cex = result.counterexample
    assert cex["s"] > 40, cex
    operands = {name: cex[name] for name in ("acc", "m", "s", "zero_point", "act_min", "act_max")}
    assert "counterexample acc=" in result.describe()
    assert _golden(cex, k) == _simulate(Rescaler(k=k, rescaler_pipeline=0), operands, k)
    assert _simulate(LateRoundingBug(k=k, rescaler_pipeline=0), operands, k) != _golden(cex, k)


def test_combined_variant_proved_k4(tmp_path):
    result = rescaler_proof.prove(_config("trim_fast_hidden", 4), workdir=tmp_path)
    assert result.proved, result.describe()


def test_broken_rounding_fails_with_counterexample(tmp_path):
    k = 4
    broken = NoRounding(k=k, rescaler_pipeline=0)
    result = rescaler_proof.prove(_config("paper", k), component=broken, workdir=tmp_path)
    assert not result.proved
    cex = result.counterexample
    assert set(cex) >= {"acc", "m", "s", "zero_point", "act_min", "act_max", "y_ref", "y_impl"}
    assert "counterexample acc=" in result.describe()
    # The golden model agrees with the reference, the broken RTL (simulated) with the proof.
    operands = {name: cex[name] for name in ("acc", "m", "s", "zero_point", "act_min", "act_max")}
    assert _golden(cex, k) == cex["y_ref"]
    assert _simulate(NoRounding(k=k, rescaler_pipeline=0), operands, k) == cex["y_impl"] != cex["y_ref"]
    assert _simulate(Rescaler(k=k, rescaler_pipeline=0), operands, k) == cex["y_ref"]


def test_trimmed_shifter_needs_its_contract(tmp_path):
    """Proved with the contract m == 0 or s >= k-1, the trimmed shifter fails without it,
    and the counterexample breaks exactly that contract."""
    k = 4
    trimmed = Rescaler(k=k, rescaler_pipeline=0, trim_shift=True)
    result = rescaler_proof.prove(_config("paper", k), component=trimmed, workdir=tmp_path)
    assert not result.proved
    cex = result.counterexample
    assert cex["m"] != 0 and cex["s"] < k - 1, cex
    assert _golden(cex, k) == cex["y_ref"]
    assert _simulate(Rescaler(k=k, rescaler_pipeline=0, trim_shift=True), {n: cex[n] for n in
                     ("acc", "m", "s", "zero_point", "act_min", "act_max")}, k) == cex["y_impl"]


def test_reference_is_plain_verilog():
    text = rescaler_proof.reference_verilog(4)
    assert "module ref_rescale" in text and ">>> s" in text
    assert "{1'b1, m}" in rescaler_proof.reference_verilog(4, hidden_bit=True)
