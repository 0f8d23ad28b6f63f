"""qflow (graywolf, qrouter, magic): a project that places and routes a mapped
netlist, its steps, and the reading of what they leave (DEF, LEF, qrouter's RC trees).

:func:`place_and_route` takes the flat netlist of the liberty flow (already
mapped onto the qflow technology's cells, e.g. OSU 0.18 um), and:

1. builds a qflow project in ``workdir`` whose "synthesis" only imports that
   netlist (a Yosys script: ``read_liberty -lib``, ``read_verilog``,
   ``opt_clean -purge``, ``write_blif -buf``); qflow then runs its usual
   post-synthesis steps (``blifFanout`` buffering of high-fanout nets and gate
   resizing, netlist conversion);
2. ``qflow place``: graywolf at a fixed utilization (qflow's
   ``initial_density``: fill cells pad the design to that density);
3. ``qflow route``: qrouter; any net left unrouted is a :class:`ToolError`;
4. writes the routed netlist without its fill cells (``routed.v``) and
   qrouter's RC trees (``<top>.rc``) as a SPEF file (:func:`rc_to_spef`;
   qflow's own ``rc2dly`` SPEF does not load into OpenSTA 2.0), for timing
   and power with parasitics (:mod:`eda.sta`).

:func:`drc` runs ``qflow migrate`` and ``qflow drc`` (magic) for the DRC count.
Areas come from the routed DEF (die, rows) and the LEF cell sizes (cell area
without fill); wire length is the Manhattan length of the routed DEF's wires.
"""

import dataclasses
import re
import shutil
import time
from pathlib import Path

from toolkit.run import TimeLimit, Tool, ToolError, read_output, run_tool

__all__ = ["TECH_ROOT", "QFLOW_TOOLS", "TIME_LIMIT", "QflowTech", "find_tech", "check_tools", "write_project",
           "run_qflow", "lef_macros", "parse_def", "def_wire_length", "rc_to_spef", "Routed", "place_and_route", "drc"]

#: Where Debian's qflow keeps its technologies.
TECH_ROOT = Path("/usr/share/qflow/tech")
#: The programs the layout flow runs (Debian packages of the same names).
QFLOW_TOOLS = ("qflow", "graywolf", "qrouter", "magic")
_INSTALL_HINT = ("apt-get install qflow graywolf qrouter magic qflow-tech-osu018 "
                 "(make synth FLOW=layout installs them when run as root)")
#: Each qflow step: several times what placing the largest layout point needs.
TIME_LIMIT = TimeLimit("QFLOW_TIMEOUT", 4 * 3600.0)

_IMPORT_YS = """\
# Import an already mapped netlist: no synthesis, only clean-up and BLIF.
read_liberty -lib -ignore_miss_dir -setattr blackbox {liberty}
read_verilog {netlist}
hierarchy -top {top}
opt_clean -purge
rename -enumerate
write_blif -buf {bufcell} {bufin} {bufout} {top}_mapped.blif
stat
"""

_PROJECT_VARS = """\
#!/usr/bin/tcsh -f
# Written by eda.qflow: the netlist is imported, not synthesized.
set yosys_options = "-s import.ys"
set initial_density = {density}
set run_opensta = 0
set run_vesta = 0
{extra}
"""

class QflowTech:
    """The files of one qflow technology (``/usr/share/qflow/tech/<name>``).

    Members
    -------
    name : str
    directory : pathlib.Path
    lef, liberty : pathlib.Path
    settings : dict of str to str
        The ``set name=value`` lines of ``<name>.sh`` (cell names, pins).
    """

    def __init__(self, name, directory):
        self.name, self.directory = name, Path(directory)
        script = self.directory / f"{name}.sh"
        if not script.is_file():
            raise ToolError(f"qflow technology {name} is not installed ({script} is missing): "
                            f"apt-get install qflow-tech-{name}")
        self.settings = dict(re.findall(r"^\s*set\s+(\w+)\s*=\s*\"?([^\"\s;#]*)", script.read_text(), re.M))
        self.lef = self.directory / self.settings.get("leffile", f"{name}_stdcells.lef")
        self.liberty = self.directory / self.settings.get("libertyfile", f"{name}_stdcells.lib")


def find_tech(liberty):
    """The qflow technology whose liberty file is ``liberty`` (same file or same name)."""
    liberty = Path(liberty).resolve()
    if TECH_ROOT.is_dir():
        for directory in sorted(TECH_ROOT.iterdir()):
            for script in directory.glob("*.sh"):
                tech = QflowTech(script.stem, directory)
                if tech.liberty.resolve() == liberty or tech.liberty.name == liberty.name:
                    return tech
    raise ToolError(f"no qflow technology uses the liberty file {liberty}: install qflow and "
                    "qflow-tech-osu018 (apt-get install qflow qflow-tech-osu018) and map the "
                    "netlist onto that technology's cells")


def check_tools(liberty):
    """Raise one :class:`ToolError` unless qflow's programs and a qflow technology for
    ``liberty`` are installed; return that technology."""
    missing = [tool for tool in QFLOW_TOOLS if shutil.which(tool) is None]
    if missing:
        raise ToolError(f"the layout flow needs {', '.join(missing)}, not found: {_INSTALL_HINT}")
    return find_tech(liberty)


def write_project(netlist_path, *, tech, top, workdir, utilization, qflow_vars=""):
    """Create the qflow project in ``workdir``: ``source/`` with the netlist and the
    import script, and ``project_vars.sh`` (``initial_density = utilization``)."""
    workdir = Path(workdir)
    source = workdir / "source"
    source.mkdir(parents=True, exist_ok=True)
    text = read_output(netlist_path)
    (source / f"{top}_netlist.v").write_text(re.sub(r"\bsigned\b", "", text))
    s = tech.settings
    (source / "import.ys").write_text(_IMPORT_YS.format(
        liberty=tech.liberty, netlist=f"{top}_netlist.v", top=top, bufcell=s.get("bufcell", "BUFX2"),
        bufin=s.get("bufpin_in", "A"), bufout=s.get("bufpin_out", "Y")))
    (workdir / "project_vars.sh").write_text(_PROJECT_VARS.format(density=utilization, extra=qflow_vars))


def run_qflow(step, *, tech, top, workdir):
    """Run ``qflow <step>`` in ``workdir``; return its output (also in ``q<step>.out``).

    Raises :class:`ToolError` when qflow is missing, fails or reports an error
    (qflow may stop on an error with exit status 0), and
    :class:`toolkit.run.ToolTimeout` past :data:`TIME_LIMIT`. A DRC step that
    finds violations is not a failure of the flow: its count is reported
    (``qflow drc`` calls it "DRC failure").
    """
    qflow = shutil.which("qflow")
    if qflow is None:
        raise ToolError(f"qflow not found: {_INSTALL_HINT}")
    log = Path(workdir) / f"q{step}.out"

    def check(returncode, out):
        if step == "drc" and _drc_count(out) is not None:
            return  # magic counted the violations: reported, whatever qflow's exit status
        bad = re.search(r"^(?!DRC failure:).*(?:Premature exit|flow stopped (?:due to|on) error|failure).*$",
                        out, re.M)
        if returncode != 0 or bad:
            detail = bad.group(0).strip() if bad else f"exit status {returncode}"
            raise ToolError(f"qflow {step} failed: {detail} (full log: {log})")

    return run_tool(Tool("qflow", (qflow,), ""), [step, "-T", tech.name, top], cwd=workdir, log_name=log.name,
                    timeout=TIME_LIMIT, check=check)


def lef_macros(lef):
    """``{macro: (width_um, height_um)}`` of a LEF file."""
    text = Path(lef).read_text()
    return {m.group(1): (float(m.group(2)), float(m.group(3))) for m in
            re.finditer(r"^MACRO\s+(\S+).*?^\s*SIZE\s+([\d.]+)\s+BY\s+([\d.]+)", text, re.M | re.S)}


def parse_def(text):
    """Die, rows and components of a DEF file.

    Returns
    -------
    dict
        ``units`` (DEF units per micron), ``die_um`` (``(x0, y0, x1, y1)``),
        ``rows`` (list of ``(x, y, count, step_x)`` in DEF units), ``components``
        (``{name: cell}``).
    """
    units = re.search(r"^\s*UNITS\s+DISTANCE\s+MICRONS\s+(\d+)", text, re.M)
    die = re.search(r"^\s*DIEAREA\s*\(\s*(-?\d+)\s+(-?\d+)\s*\)\s*\(\s*(-?\d+)\s+(-?\d+)\s*\)", text, re.M)
    if units is None or die is None:
        raise ToolError("the DEF file has no UNITS or DIEAREA statement")
    u = int(units.group(1))
    rows = [(int(x), int(y), int(n), int(step)) for x, y, n, step in re.findall(
        r"^\s*ROW\s+\S+\s+\S+\s+(-?\d+)\s+(-?\d+)\s+\S+\s+DO\s+(\d+)\s+BY\s+\d+\s+STEP\s+(\d+)", text, re.M)]
    comps = re.search(r"^COMPONENTS\s+\d+\s*;(.*?)^END COMPONENTS", text, re.M | re.S)
    components = dict(re.findall(r"^\s*-\s+(\S+)\s+(\S+)", comps.group(1), re.M)) if comps else {}
    return {"units": u, "die_um": tuple(int(v) / u for v in die.groups()), "rows": rows,
            "components": components}


def def_wire_length(text):
    """Routed wire length in microns: Manhattan length of every ``ROUTED``/``NEW`` path
    in the DEF's ``NETS`` section (special nets excluded), and the per-layer split."""
    units = int(re.search(r"^\s*UNITS\s+DISTANCE\s+MICRONS\s+(\d+)", text, re.M).group(1))
    nets = re.search(r"^NETS\s+\d+\s*;(.*?)^END NETS", text, re.M | re.S)
    if nets is None:
        raise ToolError("the routed DEF file has no NETS section")
    per_layer = {}
    for m in re.finditer(r"(?:ROUTED|NEW)\s+(\w+)((?:\s*\(\s*[-\d*]+\s+[-\d*]+(?:\s+-?\d+)?\s*\))+)",
                         nets.group(1)):
        layer, points = m.group(1), re.findall(r"\(\s*([-\d*]+)\s+([-\d*]+)", m.group(2))
        length, (px, py) = 0, (None, None)
        for x, y in points:
            x = px if x == "*" else int(x)
            y = py if y == "*" else int(y)
            if px is not None:
                length += abs(x - px) + abs(y - py)
            px, py = x, y
        per_layer[layer] = per_layer.get(layer, 0) + length
    per_layer = {k: round(v / units, 1) for k, v in sorted(per_layer.items())}
    return round(sum(per_layer.values()), 1), per_layer


# --- parasitics ----------------------------------------------------------------------------

def _rc_tokens(line):
    return re.findall(r"\(|\)|,|[^\s(),]+", line)


def _spef_name(name):
    """A SPEF identifier: every character other than letters, digits and ``_`` escaped."""
    return re.sub(r"([^A-Za-z0-9_])", r"\\\1", name)


def _verilog_nets(netlist_text):
    """``({"INST/PIN": net}, ports)`` of a flat qflow netlist (``<top>.rtlnopwr.v``)."""
    pins = {}
    for inst in re.finditer(r"^\s*([A-Za-z_]\w*)\s+(\\\S+|[A-Za-z_][\w$]*)\s*\((.*?)\)\s*;", netlist_text,
                            re.M | re.S):
        cell, name, conns = inst.groups()
        if cell in ("input", "output", "inout", "wire", "module", "assign"):
            continue
        for pin, net in re.findall(r"\.(\w+)\s*\(\s*(.*?)\s*\)(?=\s*,|\s*$)", conns, re.S):
            pins[f"{name.lstrip(chr(92)).strip()}/{pin}"] = net.strip().lstrip("\\").strip()
    ports = set()
    for kind, msb, lsb, name in re.findall(r"^\s*(input|output)\s+(?:\[(\d+):(\d+)\]\s*)?(\w+)\s*;",
                                           netlist_text, re.M):
        if msb:
            lo, hi = sorted((int(msb), int(lsb)))
            ports.update(f"{name}[{i}]" for i in range(lo, hi + 1))
        else:
            ports.add(name)
    return pins, ports


def rc_to_spef(rc_text, netlist_text, *, design="top"):
    """Convert qrouter's RC trees (``<top>.rc``) to SPEF for the qflow netlist ``netlist_text``.

    Each line of the ``.rc`` file is ``net ndrivers driver nloads tree`` where a
    tree node is ``( R C item , item ... )``: a wire segment of ``R`` ohms and
    ``C`` pF from its parent, followed by the pins (``INST/PIN``) attached at its
    end and its child nodes. Nets are named as in the netlist (found through
    their driver pin, or a ``PIN/<port>`` driver), so the ``.rc`` file's BLIF
    spellings do not matter. Each segment's capacitance sits at its far node.

    Returns
    -------
    tuple
        ``(spef_text, nets_written, nets_skipped)``.
    """
    pins, ports = _verilog_nets(netlist_text)
    out = ["*SPEF \"IEEE 1481-1998\"", f"*DESIGN \"{design}\"", "*DATE \"\"", "*VENDOR \"qrouter\"",
           "*PROGRAM \"eda.qflow.rc_to_spef\"", "*VERSION \"1\"", "*DESIGN_FLOW \"\"",
           "*DIVIDER /", "*DELIMITER :", "*BUS_DELIMITER [ ]", "*T_UNIT 1 NS", "*C_UNIT 1 PF",
           "*R_UNIT 1 OHM", "*L_UNIT 1 HENRY", ""]
    written = skipped = 0
    for line in rc_text.splitlines():
        tokens = _rc_tokens(line)
        if len(tokens) < 4 or tokens[0].startswith("#"):
            continue
        driver = tokens[2]
        if driver.startswith("PIN/"):
            net = driver[4:]
        else:
            net = pins.get(driver)
        if net is None:
            skipped += 1
            continue
        spef_net = net if net in ports else _spef_name(net)
        if "[" in net and net in ports:
            spef_net = net  # a bit of a port bus keeps its bus delimiter
        conns, caps, res = [], [], []
        node_count = [0]

        def conn(p):
            if p.startswith("PIN/"):
                port = p[4:]
                return f"*P {port if port in ports else _spef_name(port)} {'I' if p == driver else 'O'}"
            inst, pin = p.split("/")
            return f"*I {_spef_name(inst)}:{pin} {'O' if p == driver else 'I'}"

        def pin_ref(p):
            if p.startswith("PIN/"):
                port = p[4:]
                return port if port in ports else _spef_name(port)
            inst, pin = p.split("/")
            return f"{_spef_name(inst)}:{pin}"

        root = pin_ref(driver)
        conns.append(conn(driver))
        pos = 4
        stack = [root]  # current parent node
        while pos < len(tokens):
            tok = tokens[pos]
            if tok == "(":
                r, c = float(tokens[pos + 1]), float(tokens[pos + 2])
                node_count[0] += 1
                node = f"{spef_net}:{node_count[0]}"
                res.append((stack[-1], node, r))
                caps.append((node, c))
                stack.append(node)
                pos += 3
                continue
            if tok == ")":
                stack.pop()
            elif tok != ",":
                # A pin attached at the current node.
                conns.append(conn(tok))
                res.append((stack[-1], pin_ref(tok), 0.001))
            pos += 1
        total = sum(c for _, c in caps)
        out.append(f"*D_NET {spef_net} {total:.6g}")
        out.append("*CONN")
        out.extend(dict.fromkeys(conns))
        out.append("*CAP")
        out.extend(f"{i + 1} {n} {c:.6g}" for i, (n, c) in enumerate(caps))
        out.append("*RES")
        out.extend(f"{i + 1} {a} {b} {r:.6g}" for i, (a, b, r) in enumerate(res))
        out.append("*END")
        out.append("")
        written += 1
    return "\n".join(out) + "\n", written, skipped


# --- the flow ------------------------------------------------------------------------------

def _route_status(text):
    """``(ok, failed)`` from qrouter's output: the ``Final:`` line decides."""
    final = re.findall(r"^\s*Final:\s*(.*)$", text, re.M)
    if not final:
        return False, None
    if re.search(r"No failed routes", final[-1]):
        return True, 0
    n = re.search(r"(\d+)", final[-1])
    return False, int(n.group(1)) if n else None


def _drc_count(text):
    m = re.findall(r"^\s*drc\s*=\s*(\d+)", text, re.M)
    return int(m[-1]) if m else None


@dataclasses.dataclass(frozen=True)
class Routed:
    """What :func:`place_and_route` leaves.

    Members
    -------
    fields : dict
        ``technology``, ``die_um``, ``die_area_um2``, ``core_area_um2``,
        ``cell_area_um2`` (no fill), ``utilization`` (cell over core area),
        ``target_utilization``, ``cells`` (no fill), ``fill_cells``,
        ``buffers_added`` (gates qflow's ``blifFanout`` inserted or resized),
        ``wire_length_um``, ``wire_length_by_layer``, ``unrouted_nets`` (always 0:
        otherwise an error), ``spef_nets``, ``spef_nets_skipped``, ``antenna``
        (what qflow reports), ``wall_s`` per step.
    tech : QflowTech
    netlist : pathlib.Path
        The routed netlist without fill cells (``routed.v``), for timing and power.
    spef : pathlib.Path
        Its parasitics.
    """

    fields: dict
    tech: QflowTech
    netlist: Path
    spef: Path


def place_and_route(netlist_path, *, liberty, utilization, workdir, top="top", qflow_vars="", progress=None):
    """Place and route a mapped netlist with qflow and read what it leaves.

    Parameters
    ----------
    netlist_path : path-like
        Flat netlist mapped onto the cells of ``liberty`` (the liberty flow's ``netlist.v``).
    liberty : path-like
        Liberty file of an installed qflow technology (selects the technology).
    utilization : float
        Target placement density in ``(0, 1)``: cell area over core area (qflow's
        ``initial_density``; fill cells take the rest).
    workdir : path-like
        Empty or new directory; the qflow project, logs, DEF and SPEF stay there.
    top : str
    qflow_vars : str
        Extra ``set name = value`` lines for ``project_vars.sh`` (e.g. router options).
    progress : callable, optional
        Called with a short line as each step starts: placement and routing take
        minutes to an hour, and a user should see which one is running.

    Returns
    -------
    Routed

    Raises
    ------
    ToolError
        A missing tool, a failing step, unrouted nets, or a routed design it cannot read.
    """
    if not 0 < float(utilization) < 1:
        raise ValueError(f"utilization must be in (0, 1), not {utilization!r}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    tech = find_tech(liberty)
    write_project(netlist_path, tech=tech, top=top, workdir=workdir, utilization=utilization,
                  qflow_vars=qflow_vars)
    wall = {}
    say = progress or (lambda line: None)
    for step in ("synthesize", "place", "route"):
        say({"synthesize": "qflow: importing the netlist, buffering high-fanout nets",
             "place": "qflow place: graywolf placement", "route": "qflow route: qrouter routing"}[step])
        t0 = time.monotonic()
        out = run_qflow(step, tech=tech, top=top, workdir=workdir)
        wall[step] = round(time.monotonic() - t0, 1)
    routed_log = (workdir / "log" / "route.log")
    route_text = out + (routed_log.read_text(errors="replace") if routed_log.is_file() else "")
    ok, failed = _route_status(route_text)
    if not ok:
        raise ToolError(f"qrouter left {failed if failed is not None else 'some'} nets unrouted at "
                        f"utilization {utilization}: lower the utilization (log: {workdir / 'qroute.out'})")
    def_text = read_output(workdir / f"{top}.def")
    info = parse_def(def_text)
    macros = lef_macros(tech.lef)
    fill = re.compile(tech.settings.get("fillcell", "FILL") or "FILL")
    cells = {n: c for n, c in info["components"].items() if not fill.fullmatch(c)}
    missing = sorted({c for c in cells.values() if c not in macros})
    if missing:
        raise ToolError(f"cells {', '.join(missing)} are not in the LEF file {tech.lef}")
    cell_area = sum(macros[c][0] * macros[c][1] for c in cells.values())
    x0, y0, x1, y1 = info["die_um"]
    core = _core_area(def_text, info, macros)
    wire, by_layer = def_wire_length(def_text)

    # The routed netlist without fill cells, qrouter's RC as SPEF.
    routed_v = read_output(workdir / f"{top}.rtlnopwr.v")
    routed_v = re.sub(rf"^\s*(?:{fill.pattern})\s+\S+\s*\(\s*\)\s*;\s*$\n?", "", routed_v, flags=re.M)
    (workdir / "routed.v").write_text(routed_v)
    rc_path = workdir / f"{top}.rc"
    if not rc_path.is_file():
        raise ToolError(f"qrouter wrote no RC file {rc_path}: no post-route parasitics")
    spef, written, skipped = rc_to_spef(read_output(rc_path), routed_v, design=top)
    (workdir / f"{top}.spef").write_text(spef)
    fields = {
        "technology": tech.name, "die_um": (round(x1 - x0, 2), round(y1 - y0, 2)),
        "die_area_um2": round((x1 - x0) * (y1 - y0), 1), "core_area_um2": round(core, 1),
        "cell_area_um2": round(cell_area, 1), "utilization": round(cell_area / core, 4),
        "target_utilization": float(utilization), "cells": len(cells),
        "fill_cells": len(info["components"]) - len(cells),
        "buffers_added": _buffers_added(workdir),
        "wire_length_um": wire, "wire_length_by_layer": by_layer, "unrouted_nets": 0,
        "spef_nets": written, "spef_nets_skipped": skipped, "antenna": _antenna(workdir, tech), "wall_s": wall,
    }
    return Routed(fields=fields, tech=tech, netlist=workdir / "routed.v", spef=workdir / f"{top}.spef")


def drc(*, tech, top, workdir):
    """``qflow migrate`` and ``qflow drc`` (magic) on a routed project; the DRC count."""
    run_qflow("migrate", tech=tech, top=top, workdir=workdir)
    out = run_qflow("drc", tech=tech, top=top, workdir=workdir)
    log = Path(workdir) / "log" / "drc.log"
    return _drc_count(out + (log.read_text(errors="replace") if log.is_file() else ""))


def _core_area(def_text, info, macros):
    """Core area in um^2: the bounding box of all placed cells, fill included (qflow's DEF
    has no ROW statements; fill cells pad every row to the core's width)."""
    u = info["units"]
    xs0, ys0, xs1, ys1 = [], [], [], []
    for name, cell, x, y in re.findall(r"^\s*-\s+(\S+)\s+(\S+)\s*\+\s*(?:PLACED|FIXED)\s*\(\s*(-?\d+)\s+(-?\d+)",
                                       def_text, re.M):
        w, h = macros.get(cell, (0.0, 0.0))
        xs0.append(int(x) / u)
        ys0.append(int(y) / u)
        xs1.append(int(x) / u + w)
        ys1.append(int(y) / u + h)
    if not xs0:
        raise ToolError("the DEF file has no placed components")
    return (max(xs1) - min(xs0)) * (max(ys1) - min(ys0))


def _buffers_added(workdir):
    """Gates changed by qflow's ``blifFanout`` (buffers inserted and resized), from its log."""
    log = Path(workdir) / "qsynthesize.out"
    counts = [int(n) for n in re.findall(r"gates resized:\s*(\d+)", read_output(log))] if log.is_file() else []
    return sum(counts)


def _antenna(workdir, tech):
    """What qflow says about antennas: the technology's antenna cell, if any."""
    cell = tech.settings.get("antennacell", "")
    if not cell:
        return f"not checked: technology {tech.name} defines no antenna cell (qflow inserts none)"
    out = Path(workdir) / "antenna.out"
    return read_output(out).count("\n") if out.is_file() else "no antenna report"
