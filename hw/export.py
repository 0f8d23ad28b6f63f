"""Verilog and RTLIL export with stable top-level names.

The cocotb launchers, the synthesis flows and ``python -m hw`` all export through
these functions, so the Verilog a test simulates is the Verilog a user synthesizes.
"""

from amaranth.back import rtlil, verilog

from .rescaler import Rescaler

__all__ = ["RESCALER_TOP", "rescaler", "to_verilog", "to_rtlil"]

#: Top-level module name of an exported rescaler.
RESCALER_TOP = "rescaler"


def rescaler(config):
    """The :class:`~hw.rescaler.Rescaler` described by a :class:`~hw.config.DatapathConfig`."""
    return Rescaler(k=config.k, pipeline=config.rescaler_pipeline)


def to_verilog(component, *, name):
    """Verilog text of ``component`` with top module ``name``.

    Ports keep the names of the component's signature (``acc``, ``m``, ...), plus
    ``clk`` and ``rst`` when the design has registers.
    """
    return verilog.convert(component, name=name, emit_src=False)


def to_rtlil(component, *, name):
    """RTLIL text of ``component`` with top module ``name`` (Yosys' native input)."""
    return rtlil.convert(component, name=name, emit_src=False)
