"""Bit-exact cocotb regression of the exported engine / systolic array Verilog against
the layer-level golden model (:mod:`sim.layers`).

One Icarus run per configuration: every preset engine width N in {4, 8, 16}, every k in
{4, 8, 32}, and E in {1, 4} engines, each in its own ``build/cocotb/<name>/``. The
testbench is ``sim/engine_tb.py``: random layers with bubbles, the edge layers
(saturation, accumulator wrap, M = 1, underflow) and a quantized 3x3 convolution.
Knobs from the shell: ``SIM``, ``N_LAYERS`` (default 8), ``RANDOM_SEED``.
"""

import pytest

from hw.config import MACS_PRESETS, DatapathConfig
from hw.export import datapath
from hw.export import to_verilog
from sim.runner import run_cocotb

CONFIGS = [DatapathConfig(k=k, macs=macs, engines=engines)
           for macs in MACS_PRESETS for k in (4, 8, 32) for engines in (1, 4)]
# Other pipeline depths, on a few configurations.
CONFIGS += [DatapathConfig(k=8, macs=4, engines=3, mac_pipeline=0, rescaler_pipeline=0),
            DatapathConfig(k=4, macs=16, engines=2, mac_pipeline=5, rescaler_pipeline=3)]


def _name(config):
    return f"k{config.k}_macs{config.macs}_e{config.engines}_mp{config.mac_pipeline}_p{config.rescaler_pipeline}"


@pytest.mark.cocotb
@pytest.mark.parametrize("config", CONFIGS, ids=_name)
def test_engine_rtl_matches_golden(config):
    design = datapath(config)
    result = run_cocotb(
        verilog=lambda: to_verilog(design.component, name=design.top), toplevel=design.top,
        test_module="engine_tb", build_name=f"engine_{_name(config)}",
        env={"K": config.k, "MACS": config.macs, "ENGINES": config.engines,
             "MAC_PIPELINE": config.mac_pipeline, "PIPELINE": config.rescaler_pipeline})
    assert result.tests == 3
