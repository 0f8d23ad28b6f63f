"""OpenSTA: finding it, and every script the project runs in it, for timing and power.

Every script starts with one set-up (:data:`SETUP_TCL`): the liberty files, the
flat netlist, optional parasitics (SPEF), the clock (on the ``clk`` port, or a
virtual clock for a design without one) and zero input and output delays, so
that the synthesized delay, the post-route delay and the power figures all see
the same constraints. Then:

* :func:`critical_path`: the synthesized netlist's delay, ``period - slack``;
* :func:`clock_paths`: the same with an ideal and with a propagated clock (a
  routed netlist, whose clock buffers then count);
* :func:`instance_power`: ``report_power -instances`` at global activities.

OpenSTA works in the units of the first liberty file it reads (so a period is
given, and a slack read, in the library's time unit, :class:`eda.liberty.Units`);
its power report is in watts whatever the library. The functions here take and
return ns and watts. A netlist without a timed path ("No paths found") is an
error naming the likely causes, never a delay of 0.

OpenSTA reports a failing command as an ``Error`` line and goes on with exit
status 0: any such line is one :class:`toolkit.run.ToolError` naming the log.
A missing tool, or a program that is not OpenSTA, is one :class:`ToolError`
whose message says what to do.
"""

import os
import re
import shutil
from pathlib import Path

import numpy as np

from toolkit.run import TimeLimit, Tool, ToolError, checked_version, read_output, run_tool, tool_version

from .liberty import as_library

__all__ = ["SETUP_TCL", "TIME_LIMIT", "sta_path", "find_sta", "clock_tcl", "critical_path", "clock_paths",
           "instance_power", "parse_delay", "parse_instance_power", "parse_total_power"]

#: What OpenSTA's version answer looks like: ``2.0.17``.
_STA_VERSION = re.compile(r"^(OpenSTA )?\d+\.\d+(\.\d+)?\S*$")
#: Each OpenSTA run: far more than the power report of the largest energy point needs.
TIME_LIMIT = TimeLimit("STA_TIMEOUT", 1800.0)


def sta_path(path=None):
    """The OpenSTA executable ``path``, ``$STA`` or ``sta`` names, or None when there is
    none (found on ``PATH``, not run: callers choose a flow before running any tool)."""
    return shutil.which(path or os.environ.get("STA", "sta"))


def find_sta(path=None):
    """OpenSTA (``sta``), or None when it is not installed."""
    exe = sta_path(path)
    if exe is None:
        return None
    version = checked_version(tool_version([exe], "-version"), _STA_VERSION, exe, "OpenSTA")
    return Tool("opensta", (exe, "-no_init", "-no_splash", "-exit"), version)


#: The set-up every script shares: the design, optional parasitics, the clock,
#: and zero input/output delays.
SETUP_TCL = """\
{liberty}
read_verilog {netlist}
link_design {top}
{spef}
{clock}
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 0 -clock clk [all_outputs]
"""

_SLACK = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+slack\s+\((?:MET|VIOLATED)\)", re.M)


def clock_tcl(has_clock, period):
    """``create_clock`` on the ``clk`` port, or a virtual clock for a design without
    one; ``period`` in the library's time unit."""
    if has_clock:
        return f"create_clock -name clk -period {period} [get_ports clk]"
    return f"create_clock -name clk -period {period}"


def _run(sta, commands, *, netlist, liberty, top, clock_ns, workdir, name, what, spef=None):
    """Write ``<name>.tcl`` (the set-up, then ``commands``), run it in ``workdir`` and
    return OpenSTA's output (also in ``<name>.log``)."""
    workdir = Path(workdir)
    library = as_library(liberty)
    has_clock = re.search(r"^\s*input\s+clk\s*;", read_output(netlist), re.M) is not None
    reads = "\n".join(f"read_liberty {path.resolve()}" for path in library.local_files(workdir))
    script = SETUP_TCL.format(liberty=reads, netlist=Path(netlist).resolve(), top=top,
                              spef=f"read_spef {Path(spef).resolve()}" if spef else "",
                              clock=clock_tcl(has_clock, round(clock_ns / library.units.time_ns, 9)))
    (workdir / f"{name}.tcl").write_text(script + commands)
    log = workdir / f"{name}.log"

    def check(returncode, output):
        error = re.search(r"^Error.*$", output, re.M)
        if returncode != 0 or error:
            detail = error.group(0).strip() if error else f"exit status {returncode}"
            raise ToolError(f"OpenSTA failed on {what}: {detail} (full log: {log})")

    return run_tool(sta, [f"{name}.tcl"], cwd=workdir, log_name=log.name, timeout=TIME_LIMIT, check=check)


def critical_path(netlist, *, liberty, top, clock_ns, workdir, sta):
    """Critical-path delay of ``netlist`` in ns (:func:`parse_delay`); ``liberty`` a
    :class:`eda.liberty.Library` or its file(s); script and log are ``sta.tcl`` and
    ``sta.log`` in ``workdir``."""
    library = as_library(liberty)
    report = _run(sta, "report_checks -path_delay max -digits 4\n", netlist=netlist, liberty=library,
                  top=top, clock_ns=clock_ns, workdir=workdir, name="sta", what="the synthesized netlist")
    try:
        return parse_delay(report, clock_ns, library.units.time_ns)
    except ToolError as exc:
        raise ToolError(f"{exc} (full log: {Path(workdir) / 'sta.log'})") from None


_CLOCK_PATHS_TCL = """\
puts "=== ideal clock"
report_checks -path_delay max -digits 4 -fields {cap slew}
set_propagated_clock [all_clocks]
puts "=== propagated clock"
report_checks -path_delay max -digits 4
"""


def clock_paths(netlist, *, liberty, top, clock_ns, workdir, sta, spef=None):
    """Critical path of ``netlist`` (with ``spef`` parasitics if given), with an ideal
    and with a propagated clock.

    Returns
    -------
    dict
        ``delay_ns`` (period minus worst slack, ideal clock), ``slack_ns``,
        ``delay_propagated_clock_ns`` (the same with the clock propagated through
        the clock buffers: skew included), ``sta_warnings``, ``report`` (the log's
        file name, ``sta_post_route.log`` with parasitics, else ``sta_pre_route.log``).
    """
    tag = "post_route" if spef else "pre_route"
    liberty = as_library(liberty)
    unit_ns = liberty.units.time_ns
    report = _run(sta, _CLOCK_PATHS_TCL, netlist=netlist, liberty=liberty, top=top, clock_ns=clock_ns,
                  workdir=workdir, name=f"sta_{tag}", what=f"the {tag.replace('_', '-')} netlist", spef=spef)
    slacks = [float(v) * unit_ns for v in _SLACK.findall(report)]
    if len(slacks) != 2:
        raise ToolError(f"cannot find the slacks in OpenSTA's {tag} report ({Path(workdir) / f'sta_{tag}.log'})")
    return {"delay_ns": round(clock_ns - slacks[0], 4), "slack_ns": slacks[0],
            "delay_propagated_clock_ns": round(clock_ns - slacks[1], 4),
            "sta_warnings": len(re.findall(r"^Warning", report, re.M)), "report": f"sta_{tag}.log"}


_ACTIVITY_TCL = """\
set_power_activity -global -activity {activity} -duty 0.5
report_power -digits 6 > total_{tag}.txt
report_power -instances [get_cells *] -digits 6 > instances_{tag}.txt
"""


def instance_power(netlist, *, liberty, top, clock_ns, workdir, sta, activities, spef=None):
    """Power of every instance of ``netlist`` at each global activity (transitions per
    clock period, duty 0.5); ``spef`` (optional) are parasitics of a routed netlist,
    whose wire capacitance then adds to the switching power.

    Returns
    -------
    dict
        ``{activity: {"instances": {name: array([internal, switching, leakage])},
        "total": array([...])}}`` in watts; script and log are ``power.tcl`` and
        ``power.log`` in ``workdir``.
    """
    workdir = Path(workdir)
    _run(sta, "".join(_ACTIVITY_TCL.format(activity=a, tag=i) for i, a in enumerate(activities)) + "\n",
         netlist=netlist, liberty=liberty, top=top, clock_ns=clock_ns, workdir=workdir, name="power",
         what="the power report", spef=spef)
    return {activity: {"instances": parse_instance_power(read_output(workdir / f"instances_{i}.txt")),
                       "total": parse_total_power(read_output(workdir / f"total_{i}.txt"))}
            for i, activity in enumerate(activities)}


def parse_delay(text, clock_ns, unit_ns=1.0):
    """Critical-path delay in ns from OpenSTA's ``report_checks``: ``period - slack``,
    the slack in library time units of ``unit_ns`` ns each.

    "No paths found" is an error: the netlist has no path from an input or a
    register to an output or a register under the clock, which for a synthesized
    datapath means its cells did not link or the design was optimized away.
    """
    match = _SLACK.search(text)
    if match is None:
        if re.search(r"No paths found", text):
            raise ToolError("OpenSTA found no timed path in the netlist (\"No paths found\"): its "
                            "cells did not link to the liberty files, or no logic is left between "
                            "the ports and registers; the delay is unknown, not 0")
        raise ToolError("cannot find the slack in OpenSTA's report")
    return round(clock_ns - float(match.group(1)) * unit_ns, 4)


def parse_instance_power(text):
    """``{instance: array([internal, switching, leakage])}`` from ``report_power -instances``."""
    rows = re.findall(r"^\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+[-+0-9.eE]+\s+(\S+)\s*$",
                      text, re.M)
    return {name: np.array([float(a), float(b), float(c)]) for a, b, c, name in rows}


def parse_total_power(text):
    """``array([internal, switching, leakage])`` of the ``Total`` row of ``report_power``."""
    m = re.search(r"^Total\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)", text, re.M)
    if m is None:
        raise ToolError("cannot find the total in OpenSTA's power report")
    return np.array([float(v) for v in m.groups()])
