"""``make synth``: one configuration from RTL to an area/delay report.

Builds the datapath from a :class:`hw.config.DatapathConfig`, synthesizes it with
:func:`eda.yosys.synthesize` and returns the report (``config``, ``area``,
``area_unit``, ``delay_ns`` or ``delay`` + ``delay_unit``, ``breakdown``,
``tools``, ``flow``, ``runtime_s``, ...; ``docs/reports.md``). All inputs are
checked before any tool runs; each run works in its own scratch directory, and
results are cached (:class:`toolkit.cache.ResultCache`) under a key of
everything that can change them: :data:`CACHE_MODULES`' source, the tool
versions and the request (:func:`cache_key`).
"""

import dataclasses
import datetime
import hashlib
import json
import math
import re
import time
from pathlib import Path

from eda import nextpnr, qflow
from eda.flows import FLOWS
from eda.liberty import DEFAULT_LIBERTY, Library, as_library, liberty_files
from eda.sta import find_sta, sta_path
from eda.yosys import find_yosys, synthesize
from hw.export import datapath, to_rtlil
from toolkit.cache import ResultCache, result_key
from toolkit.cli import UsageError
from toolkit.files import check_output, scratch
from toolkit.run import ToolError

from . import layout
from .published import SCHEMA_VERSION, default_flow

__all__ = [
    "DEFAULT_LIBERTY", "BUILD_DIR", "CACHE_DIR", "CACHE_MODULES", "SCHEMA_VERSION", "SynthRequest",
    "resolve_flow", "find_tools", "report_name", "run", "cache_key", "finite",
    "check_report", "load_cached", "synthesize_config", "to_json", "format_table",
]

#: Where each synthesis keeps its scripts, logs and netlist, in a directory of its own.
BUILD_DIR = Path("build") / "synth"
#: Cached reports, one JSON file per cache key.
CACHE_DIR = Path("build") / "cache" / "synth"
#: The modules whose source is part of every synthesis cache key: the flows, the
#: scripts and parsers of every tool a flow runs, and the code that turns their
#: results into a report.
CACHE_MODULES = ("eda.flows", "eda.yosys", "eda.sta", "eda.nextpnr", "eda.qflow", "eda.liberty",
                 "costmodel.synth", "costmodel.layout", "costmodel.published")
#: Clock period given to static timing unless another is asked for.
DEFAULT_CLOCK_NS = 100.0


@dataclasses.dataclass(frozen=True)
class SynthRequest:
    """What to synthesize and how; validated by :func:`resolve_flow`.

    Members
    -------
    flow : str
        A name of :data:`~eda.flows.FLOWS` (``"liberty"``, ``"generic"``, ``"ecp5"``, ...).
    liberty : eda.liberty.Library or None
        The cells (liberty flows only); a path or paths given here are opened as one
        (:func:`eda.liberty.as_library`).
    clock_ns : float
        Clock period given to static timing (FPGA flows: nextpnr's target).
    device : str or None
        FPGA flows: the device (one of the flow's ``devices``); None elsewhere.
    seed : int
        FPGA flows: nextpnr's placer seed.
    levels : bool
        A flow timed by OpenSTA, without OpenSTA: the delay is the logic depth in
        levels, and the report name says so (``_levels``), so that it never takes
        the place of a report in ns.
    """

    flow: str
    liberty: Library | None
    clock_ns: float = DEFAULT_CLOCK_NS
    device: str | None = None
    seed: int = 1
    levels: bool = False

    def __post_init__(self):
        if self.liberty is not None:
            object.__setattr__(self, "liberty", as_library(self.liberty))

    @property
    def spec(self):
        """The :class:`~eda.flows.Flow` record of :attr:`flow`."""
        return FLOWS[self.flow]


#: Longest clock period static timing is given: far above any critical path here,
#: and OpenSTA's single-precision slack keeps 4 decimals of the delay below it.
MAX_CLOCK_NS = 1000.0


def resolve_flow(flow=None, liberty=None, clock_ns=None, *, device=None, seed=None):
    """Choose and validate the flow: by default
    :func:`costmodel.published.default_flow` (``liberty`` when a library is at
    hand, given or the default OSU one installed, else ``generic``).
    ``clock_ns=None`` is the flow's default period; ``device`` and ``seed`` apply
    to the FPGA flows only and ``liberty`` (file(s) or folder(s), replacing the
    flow's own library) to the flows with liberty cells: given to another flow,
    each is refused, never silently ignored."""
    if flow is not None and flow not in FLOWS:
        raise ValueError(f"flow must be one of {', '.join(FLOWS)}, not {flow!r}")
    if flow is None:
        flow = default_flow(liberty)
    spec = FLOWS[flow]
    clock_ns = spec.clock_ns if clock_ns is None else clock_ns
    if isinstance(clock_ns, bool) or not isinstance(clock_ns, (int, float)) or not 0 < clock_ns <= MAX_CLOCK_NS:
        raise ValueError(f"clock period must be a positive number of ns up to {MAX_CLOCK_NS:g}, not {clock_ns!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31):
        raise ValueError(f"seed must be an integer in 0..2^31-1, not {seed!r}")
    fpga_flows = ", ".join(f.name for f in FLOWS.values() if f.kind == "fpga")
    for option, value in (("a device", device), ("a seed", seed)):
        if spec.kind != "fpga" and value is not None:
            raise ValueError(f"{option} applies to the FPGA flows ({fpga_flows}), not to the {flow} flow")
    if liberty is not None and not spec.liberty:
        raise ValueError(f"a liberty file applies to the flows with liberty cells "
                         f"({', '.join(f.name for f in FLOWS.values() if f.liberty)}), not to the {flow} flow")
    if spec.kind == "fpga":
        device = nextpnr.device_package(spec, device)[0]
    seed = 1 if seed is None else seed
    lib = as_library(liberty or spec.library) if spec.liberty else None
    levels = spec.kind == "asic" and spec.timing == "opensta" and sta_path() is None
    return SynthRequest(flow=flow, liberty=lib, clock_ns=float(clock_ns), device=device, seed=seed, levels=levels)


def report_name(config, request):
    """File stem of the report: :attr:`DatapathConfig.name <hw.config.DatapathConfig.name>`
    plus every synthesis knob that differs from its default (flow, library, clock),
    so that two reports of different results never share a name."""
    name = config.name
    if request.flow != next(iter(FLOWS)):
        name += f"_{request.flow}"
    if request.liberty is not None and request.liberty.files != _default_files(request.spec):
        name += f"_{request.liberty.name}_{request.liberty.digest()[:8]}"
    if request.device is not None and request.device != request.spec.devices[0][0]:
        name += f"_{request.device}"
    if request.clock_ns != request.spec.clock_ns:
        name += f"_clock{repr(request.clock_ns).removesuffix('.0')}ns"  # every digit: 10 and 10.0000001 differ
    if request.seed != 1:
        name += f"_seed{request.seed}"
    if request.levels:
        name += "_levels"
    return name


def _default_files(spec):
    """The files of a liberty flow's own library, resolved, without checking them."""
    return tuple(path.resolve() for path in liberty_files(spec.library))


def _breakdown(modules):
    """Own area of each part, by the last name of its module, times its instance count.

    In an array, ``engine`` is the engines' own logic (registers and control
    outside their multipliers, tree, accumulator and rescaler).
    """
    parts = {}
    for name, entry in modules.items():
        # Instances of one kind (engine0, engine1, ...) add up to one part.
        part = "top-level logic and registers" if name == "top" else re.sub(r"\d+$", "", name.rsplit(".", 1)[-1])
        parts[part] = round(parts.get(part, 0) + entry["area"] * entry["instances"], 1)
    return parts


def _layout_liberty(request):
    """The one liberty file of a layout request: qflow places with one technology's file."""
    if len(request.liberty.files) != 1:
        raise ToolError(f"the {request.flow} flow places and routes with one qflow technology: give "
                        f"one liberty file, not {len(request.liberty.files)}")
    return request.liberty.files[0]


def find_tools(request, yosys=None):
    """The Yosys and the timing tool a request needs: OpenSTA (liberty flow; None
    when missing), nextpnr (FPGA flows), else None. Raises ToolError if Yosys, or
    an FPGA flow's nextpnr, is missing."""
    if request.spec.kind == "fpga":
        return find_yosys(yosys), nextpnr.find_nextpnr(request.spec)
    if request.spec.kind == "layout":
        qflow.check_tools(_layout_liberty(request))
        sta = find_sta()
        if sta is None:
            raise ToolError("the layout flow needs OpenSTA for post-route timing: apt-get install opensta")
        return find_yosys(yosys), sta
    if request.spec.timing != "opensta" or request.levels:
        return find_yosys(yosys), None
    sta = find_sta()
    if sta is None:
        raise ToolError("OpenSTA disappeared after the flow was chosen: run again")
    return find_yosys(yosys), sta


def run(config, rtlil, request, *, yosys, sta, workdir, progress=None):
    """Synthesize ``rtlil`` (the design of ``config``, top ``top``) with the given tools.

    Returns the report dict; ``workdir`` keeps the scripts, logs and netlist.
    ``progress`` is called with a line as each long step starts (layout flow).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    if request.spec.kind == "fpga":
        if config.booth:
            raise ToolError(f"booth is an ASIC mapping option: the {request.flow} flow maps "
                            "multipliers onto DSP tiles")
        result = nextpnr.synthesize(rtlil, flow=request.spec, workdir=workdir, yosys=yosys, nextpnr=sta,
                                 device=request.device, clock_ns=request.clock_ns, seed=request.seed)
    else:
        result = synthesize(rtlil, flow=request.spec, workdir=workdir,
                            yosys=yosys, liberty=request.liberty, sta=sta, clock_ns=request.clock_ns,
                            booth=config.booth)
        result.update(breakdown=_breakdown(result["modules"]),
                      breakdown_note="own area of each module, synthesized with the hierarchy kept; "
                                     f"sums to {result['hierarchical_area']} vs {result['area']} flattened")
        if request.spec.kind == "layout":
            result.update(layout.layout_result(result, workdir=workdir, liberty=_layout_liberty(request),
                                               utilization=request.spec.utilization,
                                               clock_ns=request.clock_ns, sta=sta, progress=progress))
    tools = {"yosys": {"name": yosys.name, "version": yosys.version}}
    if sta is not None:
        tools["nextpnr" if request.spec.kind == "fpga" else "sta"] = {"name": sta.name, "version": sta.version}
    report = {
        "schema": SCHEMA_VERSION,
        "config": dataclasses.asdict(config),
        "flow": request.flow,
        "area": round(result["area"], 1),
        "area_unit": result["area_unit"],
        "cells": result["cells"],
        "delay": result["delay"],
        "delay_unit": result["delay_unit"],
        "delay_source": result["delay_source"],
        "logic_levels": result["levels"],
        "breakdown": result["breakdown"],
        "breakdown_note": result["breakdown_note"],
        "tools": tools,
        "library": None if request.liberty is None else
        {**request.liberty.record(), "node": _node(request)},
        "clock_ns": request.clock_ns,
        "runtime_s": round(time.monotonic() - start, 3),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if result["delay_unit"] == "ns":
        report["delay_ns"] = result["delay"]
    for extra in ("fpga", "layout"):
        if extra in result:
            report[extra] = result[extra]
    return report


def _node(request):
    """The technology a report names: the flow's node for its own library, else the library's name."""
    if request.liberty.files == _default_files(request.spec):
        return request.spec.node
    return f"cells of {request.liberty.name}"


def cache_key(config, rtlil, request, *, yosys, sta):
    """Key over everything that can change a report.

    The source of :data:`CACHE_MODULES`, the tool versions, the configuration,
    the flow, the clock, the SHA-256 of the liberty file, the report schema and
    the SHA-256 of the generated RTLIL, so a change to the generators invalidates
    exactly the designs it changes.
    """
    material = {
        "config": dataclasses.asdict(config),
        "flow": request.flow,
        "clock_ns": request.clock_ns,
        "library": None if request.liberty is None else request.liberty.digest(),
        "rtlil": hashlib.sha256(rtlil.encode()).hexdigest(),
        "schema": SCHEMA_VERSION,
    }
    if request.spec.kind == "fpga":
        material.update(device=request.device, seed=request.seed)
    tools = {"yosys": yosys.version, "sta": None if sta is None else sta.version}
    return result_key(CACHE_MODULES, material, tools=tools)


def finite(value, *, positive=False):
    """A real number (not a bool, not a numeric string), finite, and > 0 if ``positive``."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and (value > 0 if positive else value >= 0))


def check_report(report, config=None, request=None):
    """Raise ``ValueError`` naming the first field of ``report`` that is missing or
    not what :func:`run` writes (types, finite numbers, the same config and flow).

    Cached and loaded reports go through it, so a hand-edited or damaged entry
    (``"area": "NaN"``, a missing key) is never passed on as a result.
    """
    if not isinstance(report, dict):
        raise ValueError("not a JSON object")
    if report.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"schema is {report.get('schema')!r}, not {SCHEMA_VERSION}")
    checks = {
        "config": lambda v: isinstance(v, dict) and (config is None or v == dataclasses.asdict(config)),
        "flow": lambda v: v in FLOWS and (request is None or v == request.flow),
        "area": lambda v: finite(v, positive=True),
        "area_unit": lambda v: isinstance(v, str) and v,
        "cells": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "delay": lambda v: finite(v, positive=True),
        "delay_unit": lambda v: isinstance(v, str) and v,
        "delay_source": lambda v: isinstance(v, str),
        # None for the FPGA flows: nextpnr reports timing, not logic depth.
        "logic_levels": lambda v: (v is None and FLOWS[report.get("flow")].kind == "fpga") if v is None
        else isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "breakdown": lambda v: isinstance(v, dict) and all(isinstance(p, str) and finite(a)
                                                           for p, a in v.items()),
        "tools": lambda v: isinstance(v, dict) and isinstance(v.get("yosys"), dict),
        "library": lambda v: v is None or (isinstance(v, dict) and isinstance(v.get("sha256"), str)),
        "clock_ns": lambda v: finite(v, positive=True) and (request is None or v == request.clock_ns),
        "runtime_s": finite,
    }
    for field, check in checks.items():
        if field not in report:
            raise ValueError(f"no {field!r}")
        if not check(report[field]):
            raise ValueError(f"{field!r} is {json.dumps(report[field])[:60]}")
    if "delay_ns" in report and report["delay_ns"] != report["delay"]:
        raise ValueError("'delay_ns' differs from 'delay'")
    return report


def load_cached(path, config, request=None):
    """The report cached at ``path``, or None when missing, unreadable, damaged or
    not for ``config`` (and ``request``).

    A corrupt entry (truncated, edited, another schema, a missing field, a number
    that is not finite) is never trusted: the caller recomputes and overwrites it.
    """
    path = Path(path)
    return ResultCache(path.parent).load(path.stem, lambda entry: check_report(entry, config, request))


def synthesize_config(config, request, *, yosys, sta, cache_dir=CACHE_DIR, fresh=False, progress=None):
    """The report of ``config``: from the cache, or synthesized and then cached.

    Returns ``(report, cached)``. Cache entries are written atomically, so a killed
    run leaves either a whole entry or none. ``fresh=True`` ignores the cache;
    ``progress`` goes to :func:`run`.
    """
    rtlil = to_rtlil(datapath(config).component, name="top")
    cache = ResultCache(cache_dir)
    key = cache_key(config, rtlil, request, yosys=yosys, sta=sta)
    report = None if fresh else cache.load(key, lambda entry: check_report(entry, config, request))
    if report is not None:
        return report, True
    try:  # before the synthesis, not after it: a folder in place of the entry, an immutable cache
        check_output(cache.path(key), parents=True)
    except UsageError as exc:
        raise ToolError(f"the synthesis cache: {exc}") from None
    with scratch(BUILD_DIR, report_name(config, request), keep_on=ToolError) as workdir:
        # kept, with its logs, only when a tool failed; swept by a later run
        report = run(config, rtlil, request, yosys=yosys, sta=sta, workdir=workdir, progress=progress)
        try:
            check_report(report, config, request)
        except ValueError as exc:
            raise ToolError(f"the synthesis of {report_name(config, request)} gave no valid result ({exc}); "
                            f"scripts and logs are in {workdir}") from None
    cache.store(key, report)
    return report, False


def to_json(report):
    """The report as JSON text (written atomically by the caller)."""
    return json.dumps(report, indent=2) + "\n"


def _library_line(library):
    """``ASAP7 7 nm ..., 5 liberty files in ps, fF, pW``: the node and the units read."""
    files = library.get("files") or [Path(library["path"]).name]
    what = files[0] if len(files) == 1 else f"{len(files)} liberty files in {Path(library['path']).name}/"
    node = library.get("node")
    units = library.get("units")
    return ", ".join(part for part in (node, what, units and f"units {units}") if part)


def format_table(report):
    """A short human-readable summary of a report."""
    unit = report["area_unit"]
    lines = [
        f"flow      {report['flow']}" + (f"  ({_library_line(report['library'])})" if report["library"] else ""),
        "config    " + ", ".join(f"{k}={v}" for k, v in report["config"].items()),
        f"area      {report['area']:,} {unit}   ({report['cells']:,} cells)",
        f"delay     {report['delay']} {report['delay_unit']}   ({report['delay_source']})",
    ]
    if "fpga" not in report:  # an FPGA's breakdown is resources of different kinds: no percentages
        lines.append("breakdown (hierarchy kept):")
        total = sum(report["breakdown"].values()) or 1
        for part, area in sorted(report["breakdown"].items(), key=lambda kv: -kv[1]):
            lines.append(f"  {part:<32} {area:>12,} {unit}  {100 * area / total:5.1f} %")
    if "fpga" in report:
        f = report["fpga"]
        fmax = "no register-to-register path" if f["fmax_mhz"] is None else f"{f['fmax_mhz']} MHz"
        lines.insert(2, f"device    {f['device']} ({f['package']}), seed {f['seed']}, "
                        f"target {f['target_mhz']} MHz")
        lines.insert(3, f"fpga      LUT {f['luts']:,}  FF {f['ffs']:,}  DSP {f['dsps']}  BRAM {f['brams']}  "
                        f"IO {f['io']}  fmax {fmax}")
    if "layout" in report:
        lines[2:2] = layout.format_lines(report["layout"])
    lines.append(f"runtime   {report['runtime_s']} s   (the whole {report['flow']} flow)")
    return "\n".join(lines)
