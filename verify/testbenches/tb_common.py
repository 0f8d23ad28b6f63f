"""What every cocotb testbench of the project shares: configuration, seed, clock and reset.

Every testbench takes the :class:`hw.config.DatapathConfig` its Verilog was
generated for from the environment the launcher sets
(:func:`verify.runner.config_env`), and its random seed the same way, so a failure
anywhere is reproduced the same way: ``RANDOM_SEED=<printed seed>``.
"""

import json
import os
import secrets

from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, Timer

from hw.config import DatapathConfig
from verify.harness import CLOCK_NS

__all__ = ["CLOCK_NS", "RESET_CYCLES", "config_from_env", "env_int", "env_json", "random_seed", "clock_and_reset"]

RESET_CYCLES = 3


def env_int(name, default=None):
    """The integer in environment variable ``name``, or ``default`` when unset.

    Raises a RuntimeError naming the variable when it is required and missing, or
    not an integer (a launcher bug, not a design failure).
    """
    text = os.environ.get(name)
    if text is None or text == "":
        if default is None:
            raise RuntimeError(f"environment variable {name} is required by the testbench")
        return default
    try:
        return int(text, 0)
    except ValueError:
        raise RuntimeError(f"environment variable {name} must be an integer, not {text!r}") from None


def env_json(name):
    """The JSON value in environment variable ``name`` (required)."""
    text = os.environ.get(name)
    if not text:
        raise RuntimeError(f"environment variable {name} is required by the testbench")
    try:
        return json.loads(text)
    except ValueError:
        raise RuntimeError(f"environment variable {name} must hold JSON, not {text!r}") from None


def config_from_env():
    """The :class:`DatapathConfig` in environment variable ``DATAPATH`` (JSON of its fields)."""
    text = os.environ.get("DATAPATH")
    if not text:
        raise RuntimeError("environment variable DATAPATH is required by the testbench")
    return DatapathConfig(**json.loads(text))


def random_seed():
    """``(seed, note)``: ``RANDOM_SEED`` if set, else a fresh one, and how to reproduce it."""
    if os.environ.get("RANDOM_SEED", "") != "":
        return env_int("RANDOM_SEED"), ""
    seed = secrets.randbits(31)
    return seed, f" (drawn; rerun with RANDOM_SEED={seed} to reproduce)"


async def clock_and_reset(dut, *, impl=None):
    """Start ``dut.clk`` and hold ``dut.rst`` for :data:`RESET_CYCLES` rising edges.

    The caller drives every other input before (Icarus can miss the first
    evaluation of an ``always @*`` block otherwise). ``impl`` is cocotb's clock
    implementation (``"gpi"``: toggled in C, no Python per edge). Returns the
    ``RisingEdge`` trigger to step the design with.
    """
    dut.rst.value = 1
    dut.clk.value = 0
    await Timer(1, unit="ns")
    Clock(dut.clk, CLOCK_NS, unit="ns", impl=impl).start(start_high=False)
    edge = RisingEdge(dut.clk)
    for _ in range(RESET_CYCLES):
        await edge
    dut.rst.value = 0
    return edge
