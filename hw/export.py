"""Verilog and RTLIL export with stable top-level names.

The cocotb launchers, the synthesis flows and ``python -m hw`` all export through
these functions, so the Verilog a test simulates is the Verilog a user synthesizes.
"""

from typing import NamedTuple

from amaranth.back import rtlil, verilog
from amaranth.lib import wiring

from .array import Array
from .engine import Engine
from .rescaler import Rescaler

__all__ = ["RESCALER_TOP", "ENGINE_TOP", "ARRAY_TOP", "Datapath", "top_name",
           "rescaler", "engine", "array", "datapath", "to_verilog", "to_rtlil"]

#: Top-level module name of an exported rescaler.
RESCALER_TOP = "rescaler"
#: Top-level module name of an exported dot-product engine (``engines = 1``).
ENGINE_TOP = "engine"
#: Top-level module name of an exported systolic array (``engines > 1``).
ARRAY_TOP = "array"


def rescaler(config):
    """The :class:`~hw.rescaler.Rescaler` described by a :class:`~hw.config.DatapathConfig`."""
    return Rescaler.from_config(config)


def engine(config):
    """The :class:`~hw.engine.Engine` described by a :class:`~hw.config.DatapathConfig` with ``macs``."""
    return Engine.from_config(config)


def array(config):
    """The :class:`~hw.array.Array` described by a :class:`~hw.config.DatapathConfig` with ``macs``."""
    return Array.from_config(config)


class Datapath(NamedTuple):
    """The top-level component of a configuration and its stable module name.

    ``latency`` and ``has_clock`` describe the exported module.

    Members
    -------
    component : wiring.Component
        :class:`~hw.rescaler.Rescaler`, :class:`~hw.engine.Engine` or :class:`~hw.array.Array`.
    top : str
        :data:`RESCALER_TOP`, :data:`ENGINE_TOP` or :data:`ARRAY_TOP`.
    """

    component: wiring.Component
    top: str

    @property
    def latency(self):
        """Cycles from input to output (0: combinational)."""
        return self.component.latency

    @property
    def has_clock(self):
        """Whether the exported module has ``clk`` and ``rst`` ports."""
        return self.component.macs is not None or self.latency > 0


def top_name(config):
    """The stable top-level module name of a configuration's design."""
    if config.macs is None:
        return RESCALER_TOP
    return ENGINE_TOP if config.engines == 1 else ARRAY_TOP


def datapath(config):
    """The :class:`Datapath` a :class:`~hw.config.DatapathConfig` describes: the
    rescaler alone without ``macs``, else the engine (one engine, whose Verilog ports
    are those of a one-engine array) or the systolic array."""
    factory = {RESCALER_TOP: rescaler, ENGINE_TOP: engine, ARRAY_TOP: array}[top_name(config)]
    return Datapath(factory(config), top_name(config))


def to_verilog(component, *, name):
    """Verilog text of ``component`` with top module ``name``.

    Ports keep the names of the component's signature (``acc``, ``m``, ...), plus
    ``clk`` and ``rst`` when the design has registers.
    """
    return verilog.convert(component, name=name, emit_src=False)


def to_rtlil(component, *, name):
    """RTLIL text of ``component`` with top module ``name`` (Yosys' native input)."""
    return rtlil.convert(component, name=name, emit_src=False)
