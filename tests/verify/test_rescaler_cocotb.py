"""Bit-exact cocotb regression of the rescaler RTL against ``sim.golden.rescale``.

One simulator run per (k, pipeline), each in its own ``build/cocotb/<name>/``
(safe under pytest-xdist), on the multi-lane harness of :mod:`verify.harness`. The
testbench is ``verify/testbenches/rescaler_tb.py``; knobs from the shell: ``SIM``
(icarus, verilator), ``N_RANDOM`` (default 200000), ``RANDOM_SEED`` (drawn and
logged when unset). Nothing is skipped: without Icarus the tests fail with the
message saying how to install it.
"""

import re

import pytest
from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.config import DatapathConfig
from hw.rescaler import Rescaler
from hw.variants import VARIANTS
from sim.golden import shift_bits
from verify.harness import run_rescaler_regression
from verify.runner import SimulationFailed, SimulatorMissing

K_VALUES = (4, 5, 6, 8, 12, 16, 24, 32)
CONFIGS = [(k, p) for k in K_VALUES for p in (0, 2)] + [(8, 1), (8, 3)]


def _run(design, config, *, build_name=None, n_random=None, sim=None, lanes=None):
    return run_rescaler_regression(design, config, build_name=build_name or f"rescaler_{config.name}",
                                   n_random=n_random, sim=sim, lanes=lanes)


@pytest.mark.cocotb
@pytest.mark.parametrize("k,pipeline", sorted(CONFIGS), ids=[f"k{k}-p{p}" for k, p in sorted(CONFIGS)])
def test_rescaler_rtl_matches_golden(k, pipeline):
    dut = Rescaler(k=k, rescaler_pipeline=pipeline)
    result = _run(dut, dut.config)
    assert result.tests == 2


# Every architecture variant but the default (fast_clamp, covered above), on legal operands only.
VARIANT_CONFIGS = [(k, p, v) for v in VARIANTS if v != "fast_clamp" for k, p in ((4, 1), (8, 2), (32, 3))]


@pytest.mark.cocotb
@pytest.mark.parametrize("k,pipeline,variant", VARIANT_CONFIGS, ids=[f"{v}-k{k}-p{p}" for k, p, v in VARIANT_CONFIGS])
def test_rescaler_variant_rtl_matches_golden(k, pipeline, variant):
    dut = Rescaler(k=k, rescaler_pipeline=pipeline, **VARIANTS[variant])
    result = _run(dut, dut.config, n_random=20000)
    assert result.tests == 2


class FloorRescaler(wiring.Component):
    """A rescaler that forgets the rounding term: ``floor(acc*m / 2^s)``, latency 1.

    Written from scratch (same ports as :class:`Rescaler`), so the negative test
    does not depend on the real rescaler's internals.
    """

    def __init__(self, *, k):
        self.k = k
        super().__init__({
            "acc": In(signed(32)), "m": In(unsigned(k)), "s": In(unsigned(shift_bits(k))),
            "zero_point": In(signed(8)), "act_min": In(signed(8)), "act_max": In(signed(8)),
            "valid": In(1), "y": Out(signed(8)), "y_valid": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        product = Signal(signed(32 + self.k))
        m.d.comb += product.eq(self.acc * self.m)
        biased = Signal(signed(33 + self.k))
        m.d.comb += biased.eq((product >> self.s) + self.zero_point)
        clamped = Mux(biased > self.act_max, self.act_max, Mux(biased < self.act_min, self.act_min, biased))
        m.d.sync += [self.y.eq(clamped), self.y_valid.eq(self.valid)]
        return m


class BrokenWrapper(wiring.Component):
    """The real :class:`Rescaler` with a bug outside it: ``m``'s low bit dropped (a
    ``k-1``-bit multiplier), or one register too many on the outputs."""

    def __init__(self, *, k, pipeline, bug):
        self.inner = Rescaler(k=k, rescaler_pipeline=pipeline)
        self.bug = bug
        super().__init__(self.inner.signature)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self.inner
        for name in ("acc", "s", "zero_point", "act_min", "act_max", "valid"):
            m.d.comb += getattr(inner, name).eq(getattr(self, name))
        m.d.comb += inner.m.eq(self.m & ~1 if self.bug == "m_lsb" else self.m)
        domain = m.d.sync if self.bug == "extra_latency" else m.d.comb
        domain += [self.y.eq(inner.y), self.y_valid.eq(inner.y_valid)]
        return m


# (bug, design, PIPELINE the testbench is told, what the failure must say)
BROKEN = {
    "floor": (lambda: FloorRescaler(k=8), 1,
              r"acc=-?\d+, m=\d+, s=\d+, zero_point=-?\d+, act_min=-?\d+, act_max=-?\d+: "
              r"expected -?\d+, got -?\d+"),
    "m_lsb": (lambda: BrokenWrapper(k=8, pipeline=2, bug="m_lsb"), 2,
              r"vector #\d+ \(edge\): acc=-?\d+, m=\d+, s=\d+, .*expected -?\d+, got -?\d+"),
    "extra_latency": (lambda: BrokenWrapper(k=8, pipeline=1, bug="extra_latency"), 1,
                      r"y_valid is not valid delayed by 1 cycle: first difference at cycle \d+"),
}


@pytest.mark.cocotb
@pytest.mark.parametrize("bug", list(BROKEN))
def test_regression_catches_broken_rescaler(bug):
    """The same testbench against a deliberately broken rescaler must fail, saying why."""
    design, pipeline, expected = BROKEN[bug]
    with pytest.raises(SimulationFailed) as failure:
        _run(design(), DatapathConfig(k=8, rescaler_pipeline=pipeline), build_name=f"rescaler_broken_{bug}",
             n_random=200)
    message = str(failure.value)
    assert "2 of 2 cocotb tests failed" in message, message
    assert re.search(expected, message), message
    assert "RANDOM_SEED=" in message, message


class DroppedRoundingAtLargeShifts(Rescaler):
    """The real rescaler with a bug in one corner only: for ``s > 40`` the rounding bit
    is dropped (``floor`` instead of round half up). At k = 24 that is shifts 41..48 of
    0..48: only vectors with a large shift and bit ``s - 1`` of the product set expose it."""

    def round_half(self, partial, shift):
        return Mux(shift > 40, partial >> 1, (partial + 1) >> 1)


@pytest.mark.cocotb
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
# Where the simulator is missing the test skips before the design is elaborated.
@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_regression_catches_dropped_rounding_at_large_shifts(sim):
    """A deliberately broken rescaler at k = 24 fails the regression, and the failure
    names the operands of wrong results, every one of them with s > 40 (on Verilator
    too, when installed: ``make verilator-tools``; 8 lanes keep its C++ build short)."""
    config = DatapathConfig(k=24, rescaler_pipeline=2)
    with pytest.raises(SimulationFailed) as failure:
        try:
            _run(DroppedRoundingAtLargeShifts(k=24, rescaler_pipeline=2), config,
                 build_name="rescaler_broken_rounding_k24", n_random=20000, sim=sim,
                 lanes=8 if sim == "verilator" else None)
        except SimulatorMissing as exc:
            pytest.skip(str(exc))
    message = str(failure.value)
    assert "2 of 2 cocotb tests failed" in message, message
    shown = re.findall(r"vector #\d+ \((?:edge|random|realistic)\): acc=-?\d+, m=\d+, s=(\d+), zero_point=-?\d+, "
                       r"act_min=-?\d+, act_max=-?\d+: expected -?\d+, got -?\d+ \(lane \d+, block \d+\)", message)
    assert shown, message
    assert all(int(s) > 40 for s in shown), message
    assert "RANDOM_SEED=" in message, message
