"""What every cocotb testbench of the project shares: parameters, seed, clock and reset.

Every testbench takes its configuration (``K``, ``MACS``, ...) from the
environment the launcher (:mod:`sim.runner`) sets, and its random seed the same
way, so a failure anywhere is reproduced the same way: ``RANDOM_SEED=<printed seed>``.
"""

import os
import secrets

from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, Timer

__all__ = ["CLOCK_NS", "RESET_CYCLES", "env_int", "random_seed", "clock_and_reset"]

CLOCK_NS = 10
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


def random_seed():
    """``(seed, note)``: ``RANDOM_SEED`` if set, else a fresh one, and how to reproduce it."""
    if os.environ.get("RANDOM_SEED", "") != "":
        return env_int("RANDOM_SEED"), ""
    seed = secrets.randbits(31)
    return seed, f" (drawn; rerun with RANDOM_SEED={seed} to reproduce)"


async def clock_and_reset(dut):
    """Start ``dut.clk`` and hold ``dut.rst`` for :data:`RESET_CYCLES` rising edges.

    The caller drives every other input before (Icarus can miss the first
    evaluation of an ``always @*`` block otherwise). Returns the ``RisingEdge``
    trigger to step the design with.
    """
    dut.rst.value = 1
    dut.clk.value = 0
    await Timer(1, unit="ns")
    Clock(dut.clk, CLOCK_NS, unit="ns").start(start_high=False)
    edge = RisingEdge(dut.clk)
    for _ in range(RESET_CYCLES):
        await edge
    dut.rst.value = 0
    return edge
