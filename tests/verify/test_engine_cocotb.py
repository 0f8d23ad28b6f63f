"""Bit-exact cocotb regression of the exported engine / systolic array Verilog against
the layer-level golden model (:mod:`sim.layers`).

One Icarus run per configuration: every preset engine width N in {4, 8, 16}, every k in
{4, 8, 32}, and E in {1, 4} engines, plus other depths, variants and pre-skewed arrays,
each in its own ``build/cocotb/<name>/``. The
testbench is ``verify/testbenches/engine_tb.py``: random layers with bubbles, the edge layers
(cocotb tests ``saturation``, ``accumulator_wrap``, ``m_one``, ``underflow``) and a
quantized 3x3 convolution (``conv3x3``).
Knobs from the shell: ``SIM``, ``N_LAYERS`` (default 8), ``RANDOM_SEED``.
"""

import re

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring

from hw.config import MACS_PRESETS, DatapathConfig
from hw.engine import Engine
from hw.export import datapath, to_verilog
from verify.runner import SimulationFailed, config_env, run_cocotb

CONFIGS = [DatapathConfig(k=k, macs=macs, engines=engines)
           for macs in MACS_PRESETS for k in (4, 8, 32) for engines in (1, 4)]
# Other pipeline depths, on a few configurations.
CONFIGS += [DatapathConfig(k=8, macs=4, engines=3, mac_pipeline=0, rescaler_pipeline=0),
            DatapathConfig(k=4, macs=16, engines=2, mac_pipeline=5, rescaler_pipeline=3)]
# Rescaler architecture variants (the edge and random layers' (m, s) come from the
# truncating quantizer, so they meet trim_shift's contract).
CONFIGS += [DatapathConfig(k=4, macs=8, rescaler_pipeline=2, trim_shift=True),
            DatapathConfig(k=8, macs=4, engines=2, fast_clamp=False),
            DatapathConfig(k=32, macs=4, rescaler_pipeline=3, trim_shift=True),
            DatapathConfig(k=4, macs=8, operand_isolation=True),
            DatapathConfig(k=32, macs=8, engines=2, rescaler_pipeline=2, operand_isolation=True)]
# Pre-skewed arrays (the testbench skews its drive).
CONFIGS += [DatapathConfig(k=4, macs=4, engines=2, pre_skew=True),
            DatapathConfig(k=32, macs=8, engines=4, pre_skew=True),
            DatapathConfig(k=8, macs=4, engines=3, mac_pipeline=0, rescaler_pipeline=3, pre_skew=True,
                           operand_isolation=True)]


@pytest.mark.cocotb
@pytest.mark.parametrize("config", CONFIGS, ids=lambda config: config.name)
def test_engine_rtl_matches_golden(config):
    design = datapath(config)
    result = run_cocotb(
        verilog=lambda: to_verilog(design.component, name=design.top), toplevel=design.top,
        test_module="engine_tb", build_name=f"engine_{config.name}", env=config_env(config))
    assert result.tests == 6


class BiasOffByOne(wiring.Component):
    """An engine whose bias is off by one (LSB flipped): a datapath bug to be caught."""

    def __init__(self, config):
        self._engine = Engine.from_config(config)
        super().__init__(self._engine.signature)
        self.latency = self._engine.latency

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = engine = self._engine
        for name, member in self.signature.members.items():
            if name == "bias":
                m.d.comb += engine.bias.eq(self.bias ^ 1)
            elif member.flow == wiring.In:
                m.d.comb += getattr(engine, name).eq(getattr(self, name))
            else:
                m.d.comb += getattr(self, name).eq(getattr(engine, name))
        return m


@pytest.mark.cocotb
def test_regression_catches_a_broken_engine():
    """The same testbench against an engine with an off-by-one bias must fail, and the
    message must name the layer, position, channel and beats of a wrong output."""
    config = DatapathConfig(k=8, macs=4)
    with pytest.raises(SimulationFailed) as failure:
        run_cocotb(verilog=lambda: to_verilog(BiasOffByOne(config), name="engine"), toplevel="engine",
                   test_module="engine_tb", build_name="engine_broken_bias_k8_macs4",
                   env=config_env(config),
                   defaults={"N_LAYERS": 3})
    message = str(failure.value)
    assert "m_one: failure" in message
    assert re.search(r"layer 'm_one', position \d+, channel \d+ \(output group \d+, engine 0\), "
                     r"beats \d+\.\.\d+: acc=-?\d+, m=\d+, s=\d+, zero_point=-?\d+, act_min=-?\d+, "
                     r"act_max=-?\d+ \(the layer starts at stream beat \d+\): expected -?\d+, got -?\d+", message), message
    assert "RANDOM_SEED=" in message
