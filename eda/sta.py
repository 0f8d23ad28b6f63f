"""OpenSTA: finding it, and the set-up every timing and power script shares.

A missing tool, or a program that is not OpenSTA, is one :class:`toolkit.run.ToolError`
whose message says what to do.
"""

import os
import re
import shutil

from toolkit.run import Tool, ToolError, checked_version, tool_version

__all__ = ["STA_SETUP_TCL", "find_sta", "clock_tcl", "sta_argv"]

#: What OpenSTA's version answer looks like: ``2.0.17``.
_STA_VERSION = re.compile(r"^(OpenSTA )?\d+\.\d+(\.\d+)?\S*$")


def find_sta(path=None):
    """OpenSTA (``sta``), or None when it is not installed."""
    exe = shutil.which(path or os.environ.get("STA", "sta"))
    if exe is None:
        return None
    version = checked_version(tool_version([exe], "-version"), _STA_VERSION, exe, "OpenSTA")
    return Tool("opensta", (exe, "-no_init", "-no_splash", "-exit"), version)


#: OpenSTA set-up shared by the power and the post-route timing scripts: the design,
#: optional parasitics, the clock, and zero input/output delays.
STA_SETUP_TCL = """\
read_liberty {liberty}
read_verilog {netlist}
link_design {top}
{spef}
{clock}
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 0 -clock clk [all_outputs]
"""


def clock_tcl(has_clock, clock_ns):
    """``create_clock`` on the ``clk`` port, or a virtual clock for a design without one."""
    if has_clock:
        return f"create_clock -name clk -period {clock_ns} [get_ports clk]"
    return f"create_clock -name clk -period {clock_ns}"


def sta_argv(sta):
    """Command prefix of OpenSTA: a ``Tool`` (``argv``) or a path."""
    if hasattr(sta, "argv"):
        return list(sta.argv)
    exe = shutil.which(str(sta))
    if exe is None:
        raise ToolError(f"OpenSTA not found at {sta}: apt-get install opensta")
    return [exe, "-no_init", "-no_splash", "-exit"]
