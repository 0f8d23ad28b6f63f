"""Energy per output of a configuration: simulated activity combined with OpenSTA's
per-instance power (``make energy``, ``python -m costmodel synth --energy``).

For one flat liberty-mapped netlist (``netlist.v`` of the liberty flow, or
:func:`eda.yosys.named_netlist`, whose instance names keep the module they
came from), :func:`measure_energy`:

1. **Simulates** it at gate level (:func:`eda.gatesim.simulate`, zero-delay
   cell models from the liberty file) under a :class:`~costmodel.stimulus.Stimulus`
   and counts the toggles of every cell output net: activity is *zero-delay*,
   glitches are not counted.
2. **Reads power** from OpenSTA's ``report_power -instances`` run twice
   (:func:`eda.sta.instance_power`), with every net at global activity 0 and at
   activity 1 (transitions per clock period). Power is linear in activity, so an
   instance whose outputs toggle ``a`` times per cycle draws
   ``P(0) + a * (P(1) - P(0))`` for each of internal, switching and leakage power
   (:func:`combine_power`). ``P(0)`` holds leakage and the clock pins' internal
   power of the flip-flops (the clock always toggles).
3. **Energy** per output ``= power * clock period * cycles per output``.

:func:`vectorless_energy` is the fallback without simulation: every net at one
global activity; its figures are labelled ``"vectorless"``.
What is not counted: the switching power of nets driven by primary inputs
(the outside world drives them; this includes the clock net, there is no clock
tree before layout) and wire capacitance (none before layout).

:func:`measure_config` is what a synth report's ``energy`` object holds: the
configuration mapped onto the liberty cells module by module (so power splits by
module), simulated under a realistic layer (:func:`costmodel.stimulus.stimulus_for`),
checked against the golden model, with the vectorless figure beside it, never in
its place. Results are cached (:class:`toolkit.cache.ResultCache`) under a key of
:data:`CACHE_MODULES`' source, the tool versions, the configuration's RTLIL, the
library and the clock. :func:`beats_sweep` measures the rescaler against the rest
of an engine as the beats per output grow (``make energy-beats``).
"""

import dataclasses
import functools
import hashlib
import tempfile
import time
from pathlib import Path

from eda import gatesim, liberty as cell_library, sta as opensta
from eda.yosys import instance_group, named_netlist
from hw.config import DatapathConfig
from hw.export import datapath, to_rtlil
from toolkit.cache import ResultCache, result_key
from toolkit.files import scratch
from toolkit.run import ToolError

from .stimulus import conv_layer, engine_stimulus, golden_check, stimulus_for
from .synth import SCHEMA_VERSION, finite

__all__ = ["COMPONENTS", "DEFAULT_CLOCK_NS", "VECTORLESS_ACTIVITY", "CACHE_DIR", "CACHE_MODULES",
           "combine_power", "measure_energy", "vectorless_energy", "check_energy", "cache_key",
           "measure_config", "beats_sweep", "format_lines", "format_beats"]

#: Power components reported by OpenSTA, in its column order.
COMPONENTS = ("internal", "switching", "leakage")
#: Clock period of the energy figures unless another is asked for: one the engines
#: meet after routing on OSU 0.18 um. Energy per cycle barely depends on it (only
#: leakage, which is negligible in this library, scales with the period).
DEFAULT_CLOCK_NS = 20.0
#: Global activity (transitions per net and cycle) of the vectorless figure.
VECTORLESS_ACTIVITY = 0.1
CACHE_DIR = Path("build") / "cache" / "energy"
BUILD_DIR = Path("build") / "energy"
#: The modules whose source is part of every energy cache key: the netlist script,
#: the simulation, the cell models, the power script and parsers, the stimulus and
#: the layer it is made of, the golden model it is checked against, the arithmetic.
CACHE_MODULES = ("eda.yosys", "eda.gatesim", "eda.liberty", "eda.sta", "costmodel.stimulus",
                 "costmodel.energy", "sim.layers", "sim.ports", "sim.golden")


def combine_power(power0, power1, activity):
    """Per-instance power for per-instance output ``activity`` (toggles per cycle).

    ``power0`` and ``power1`` map instance names to ``[internal, switching,
    leakage]`` at global activity 0 and 1; an instance missing from ``activity``
    counts as idle. Returns ``{name: array}`` in the same units.
    """
    return {name: p0 + activity.get(name, 0.0) * (power1[name] - p0) for name, p0 in power0.items()}


def _instance_activity(sim):
    """Mean toggles per cycle of each instance's outputs."""
    rate = sim["toggles"] / max(sim["cycles"], 1)
    per = {}
    for net, r in zip(sim["nets"], rate):
        for inst in sim["drivers"][net]:
            per.setdefault(inst, []).append(float(r))
    return {inst: sum(v) / len(v) for inst, v in per.items()}


def _energy_fields(power, clock_ns, cycles_per_output):
    energy = lambda p: p * clock_ns * 1e-9 * cycles_per_output * 1e12  # pJ
    fields = {f"{c}_mw": round(float(power[i]) * 1e3, 6) for i, c in enumerate(COMPONENTS)}
    fields["total_mw"] = round(float(power.sum()) * 1e3, 6)
    fields.update({f"{c}_pj_per_output": round(energy(float(power[i])), 4) for i, c in enumerate(COMPONENTS)})
    fields["energy_pj_per_output"] = round(energy(float(power.sum())), 4)
    return fields


def _instance_power(netlist, netlist_path, *, activities, liberty, clock_ns, workdir, sta, spef):
    """:func:`eda.sta.instance_power`, checked to cover every instance of ``netlist``."""
    power = opensta.instance_power(netlist_path, liberty=liberty, top=netlist.top, clock_ns=clock_ns,
                                   workdir=workdir, sta=sta, activities=activities, spef=spef)
    for figures in power.values():
        if len(figures["instances"]) != len(netlist.instances):
            raise ToolError(f"OpenSTA reported power for {len(figures['instances'])} instances, the netlist "
                            f"has {len(netlist.instances)} (see {Path(workdir) / 'power.log'})")
    return power


def measure_energy(netlist_path, *, liberty, top, stimulus, clock_ns, workdir, sta, icarus=None,
                   cycles_per_output=None, groups=True, spef=None):
    """Energy per output of a mapped netlist under a simulated stimulus.

    Parameters
    ----------
    netlist_path : path-like
        Flat Verilog netlist mapped onto the cells of ``liberty`` (module ``top``).
    liberty : path-like
    top : str
    stimulus : costmodel.stimulus.Stimulus
        Words per input port and cycle (e.g. :func:`costmodel.stimulus.engine_stimulus`).
    clock_ns : float
        Clock period; the activity is per cycle, power scales with ``1/clock_ns``.
    workdir : path-like
        Scratch directory (created); the testbench, logs and reports stay there.
    sta : toolkit.run.Tool
        OpenSTA (:func:`eda.sta.find_sta`).
    icarus : eda.gatesim.Icarus, optional
        Default :func:`eda.gatesim.find_icarus`.
    cycles_per_output : float, optional
        Defaults to ``stimulus.cycles_per_output``.
    groups : bool
        Also split power by :func:`eda.yosys.instance_group` (meaningful for
        :func:`eda.yosys.named_netlist`).
    spef : path-like, optional
        Parasitics of the netlist after routing (e.g. from :mod:`eda.qflow`):
        wire capacitance adds to the switching power.

    Returns
    -------
    dict
        ``method`` (``"simulated"``), ``stimulus``, ``cycles``, ``cycles_per_output``,
        ``clock_ns``, ``internal_mw``, ``switching_mw``, ``leakage_mw``, ``total_mw``,
        the same as ``*_pj_per_output`` and ``energy_pj_per_output``,
        ``idle_mw`` (power at zero activity: leakage plus the flip-flops' clock pins),
        ``mean_toggles_per_net``, ``instances``, ``groups`` (``{group: {...}}``)
        ``output_trace`` (:func:`eda.gatesim.read_outputs` of the run, to check the
        netlist's results) and ``wall_s`` (``simulate_s``, ``sta_s``, ``total_s``).

    Raises
    ------
    ToolError
        A missing tool, a tool that fails, or a netlist it cannot use.
    """
    t0 = time.monotonic()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cells = cell_library.read_cells(liberty)
    netlist = gatesim.read_netlist(netlist_path, top)
    sim = gatesim.simulate(netlist, stimulus.words, window=stimulus.window, reset_cycles=stimulus.reset_cycles,
                           cells=cells, netlist_path=netlist_path, workdir=workdir, clock_ns=clock_ns,
                           icarus=icarus)
    t1 = time.monotonic()
    power = _instance_power(netlist, netlist_path, activities=(0.0, 1.0), liberty=liberty, clock_ns=clock_ns,
                            workdir=workdir, sta=sta, spef=spef)
    t2 = time.monotonic()
    activity = _instance_activity(sim)
    per = combine_power(power[0.0]["instances"], power[1.0]["instances"], activity)
    cpo = cycles_per_output or stimulus.cycles_per_output
    total = sum(per.values())
    result = {"method": "simulated (zero-delay toggles, Icarus) + OpenSTA per-instance power"
                        + (" with routed parasitics" if spef else ""),
              "stimulus": stimulus.name, "cycles": sim["cycles"], "cycles_per_output": cpo,
              "clock_ns": clock_ns, **_energy_fields(total, clock_ns, cpo),
              "idle_mw": round(float(power[0.0]["total"].sum()) * 1e3, 6),
              "mean_toggles_per_net": round(float(sim["toggles"].mean() / max(sim["cycles"], 1)), 4),
              "instances": len(per)}
    if groups:
        split = {}
        for name, p in per.items():
            g = instance_group(name)
            split[g] = split.get(g, 0) + p
        result["groups"] = {g: _energy_fields(p, clock_ns, cpo) for g, p in sorted(split.items())}
    result["output_trace"] = sim["outputs"]
    result["wall_s"] = {"compile_s": sim["compile_s"], "simulate_s": sim["sim_s"],
                        "sta_s": round(t2 - t1, 2), "total_s": round(time.monotonic() - t0, 2)}
    return result


def vectorless_energy(netlist_path, *, liberty, top, clock_ns, cycles_per_output, workdir, sta,
                      activity=VECTORLESS_ACTIVITY, spef=None):
    """Fallback without simulation: every net at ``activity`` transitions per clock period.

    Returns the fields of :func:`measure_energy` that do not need a simulation,
    with ``method`` saying ``"vectorless"`` and the activity used.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    netlist = gatesim.read_netlist(netlist_path, top)
    t0 = time.monotonic()
    power = _instance_power(netlist, netlist_path, activities=(float(activity),), liberty=liberty,
                            clock_ns=clock_ns, workdir=workdir, sta=sta, spef=spef)
    total = power[float(activity)]["total"]
    return {"method": f"vectorless (set_power_activity -global -activity {activity} -duty 0.5)",
            "activity": activity, "cycles_per_output": cycles_per_output, "clock_ns": clock_ns,
            **_energy_fields(total, clock_ns, cycles_per_output),
            "wall_s": {"sta_s": round(time.monotonic() - t0, 2)}}


# --- one configuration, cached ----------------------------------------------------------------

_POWER_FIELDS = tuple(f"{c}_{unit}" for unit in ("mw", "pj_per_output") for c in (*COMPONENTS, "total")
                      if (c, unit) != ("total", "pj_per_output")) + ("energy_pj_per_output",)


def check_energy(result, clock_ns=None):
    """Raise ``ValueError`` naming the first field of an energy object (what
    :func:`measure_config` caches) that is missing or not what it writes; return it.

    A cached entry goes through it, so a hand-edited or damaged one is recomputed
    instead of being passed on."""
    if not isinstance(result, dict):
        raise ValueError("not a JSON object")
    checks = {
        "method": lambda v: isinstance(v, str) and v.startswith("simulated"),
        "stimulus": lambda v: isinstance(v, str) and v,
        "cycles": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        "cycles_per_output": lambda v: finite(v, positive=True),
        "clock_ns": lambda v: finite(v, positive=True) and (clock_ns is None or v == clock_ns),
        **{field: finite for field in (*_POWER_FIELDS, "idle_mw", "mean_toggles_per_net")},
        "instances": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        "groups": lambda v: isinstance(v, dict) and v and all(
            isinstance(g, dict) and all(finite(g.get(f)) for f in _POWER_FIELDS) for g in v.values()),
        "outputs_match_golden": lambda v: v is True,
        "netlist": lambda v: isinstance(v, str),
        "vectorless": lambda v: isinstance(v, dict) and str(v.get("method", "")).startswith("vectorless")
        and all(finite(v.get(f)) for f in _POWER_FIELDS),
        "wall_s": lambda v: isinstance(v, dict) and all(finite(s) for s in v.values()),
    }
    for field, check in checks.items():
        if field not in result:
            raise ValueError(f"no {field!r}")
        if not check(result[field]):
            raise ValueError(f"{field!r} is {result[field]!r:.60}")
    return result


def cache_key(config, rtlil, *, liberty, clock_ns, yosys, sta, icarus):
    """Key over everything that can change an energy object: the source of
    :data:`CACHE_MODULES`, the versions of Yosys, OpenSTA and Icarus, the
    configuration, the SHA-256 of its RTLIL and of the liberty file, the clock and
    the report schema."""
    material = {"config": dataclasses.asdict(config), "rtlil": hashlib.sha256(rtlil.encode()).hexdigest(),
                "library": cell_library.as_library(liberty).digest(), "clock_ns": clock_ns, "schema": SCHEMA_VERSION}
    tools = {"yosys": yosys.version, "sta": sta.version, "iverilog": icarus.iverilog.version}
    return result_key(CACHE_MODULES, material, tools=tools)


def _measure(config, rtlil, stimulus, schedule, *, liberty, clock_ns, yosys, sta, icarus, workdir):
    netlist = named_netlist(rtlil, liberty=liberty, workdir=workdir / "netlist", yosys=yosys)
    result = measure_energy(netlist, liberty=liberty, top="top", stimulus=stimulus, clock_ns=clock_ns,
                            workdir=workdir / "activity", sta=sta, icarus=icarus)
    if not golden_check(result.pop("output_trace"), schedule, config.k):
        raise ToolError(f"the gate-level simulation of {config.name} does not reproduce the golden "
                        f"model's outputs (files in {workdir})")
    result["outputs_match_golden"] = True
    return result, netlist


def measure_config(config, *, liberty, clock_ns=DEFAULT_CLOCK_NS, yosys, sta, fresh=False,
                   cache_dir=CACHE_DIR):
    """Energy per output of ``config`` (cached): the ``energy`` field of a synth report.

    Returns
    -------
    dict
        The fields of :func:`measure_energy` (``stimulus`` names the layer and its
        cycles), ``outputs_match_golden`` (always True: a mismatch is a
        :class:`ToolError`), ``netlist`` (how it was mapped), ``vectorless`` (the
        fallback's figure at :data:`VECTORLESS_ACTIVITY`) and ``cached``.
    """
    if sta is None:
        raise ToolError("energy needs OpenSTA's power report: apt-get install opensta")
    stimulus, schedule = stimulus_for(config)
    rtlil = to_rtlil(datapath(config).component, name="top")
    icarus = gatesim.find_icarus()
    cache = ResultCache(cache_dir)
    key = cache_key(config, rtlil, liberty=liberty, clock_ns=clock_ns, yosys=yosys, sta=sta, icarus=icarus)
    cached = None if fresh else cache.load(key, functools.partial(check_energy, clock_ns=clock_ns))
    if cached is not None:
        return {**cached, "cached": True}
    with scratch(BUILD_DIR, config.name, keep_on=ToolError) as workdir:
        result, netlist = _measure(config, rtlil, stimulus, schedule, liberty=liberty, clock_ns=clock_ns,
                                   yosys=yosys, sta=sta, icarus=icarus, workdir=workdir)
        vectorless = vectorless_energy(netlist, liberty=liberty, top="top", clock_ns=clock_ns,
                                       cycles_per_output=stimulus.cycles_per_output,
                                       workdir=workdir / "vectorless", sta=sta, activity=VECTORLESS_ACTIVITY)
    result["netlist"] = "each module mapped on its own (no cross-module optimization), then flattened"
    result["vectorless"] = vectorless
    cache.store(key, result)
    return {**result, "cached": False}


def beats_sweep(ks, beats_list, *, macs, liberty, clock_ns=DEFAULT_CLOCK_NS, yosys, sta, progress=None,
                operand_isolation=False):
    """Energy per output of the rescaler and of the rest of a ``macs``-lane engine
    against the beats per output ``B``.

    The layer is a 1x1 convolution over a 3x3 image with ``macs * B`` input
    channels and 8 output channels (seed 1): 72 outputs of ``B`` beats each, the
    same float layer for every ``k``. The engine is the default one, with
    ``operand_isolation`` as given. Returns one row per ``(k, B)``.
    """
    rows = []
    icarus = gatesim.find_icarus()
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD_DIR, prefix="beats.") as tmp:
        for k in ks:
            config = DatapathConfig(k=k, macs=macs, operand_isolation=operand_isolation)
            rtlil = to_rtlil(datapath(config).component, name="top")
            netlist = named_netlist(rtlil, liberty=liberty, workdir=Path(tmp) / config.name, yosys=yosys)
            for beats in beats_list:
                schedule, description = conv_layer(k, macs=macs, seed=1, size=3, channels_in=macs * beats,
                                                   channels_out=8, kernel=1)
                stimulus = engine_stimulus(schedule, k, name=description)
                r = measure_energy(netlist, liberty=liberty, top="top", stimulus=stimulus, clock_ns=clock_ns,
                                   workdir=Path(tmp) / f"{config.name}_b{beats}", sta=sta, icarus=icarus)
                if not golden_check(r.pop("output_trace"), schedule, k):
                    raise ToolError(f"k = {k}, {beats} beats: the gate-level simulation does not "
                                    "reproduce the golden model's outputs")
                groups = {g: v["energy_pj_per_output"] for g, v in r["groups"].items()}
                rescaler = groups.get("rescaler", 0.0)
                row = {"k": k, "macs": macs, "operand_isolation": operand_isolation,
                       "beats_per_output": beats, "outputs": stimulus.outputs,
                       "cycles": r["cycles"], "clock_ns": clock_ns, "stimulus": description,
                       "total_pj": r["energy_pj_per_output"], "rescaler_pj": rescaler,
                       "macs_pj": round(r["energy_pj_per_output"] - rescaler, 2),
                       "rescaler_share": round(rescaler / r["energy_pj_per_output"], 4),
                       "groups_pj": groups, "wall_s": r["wall_s"]["total_s"]}
                rows.append(row)
                if progress is not None:
                    print(format_beats([row], header=not rows[:-1]), file=progress, flush=True)
    return rows


def format_lines(result):
    """Lines of the energy figures for a synth report's table."""
    lines = [
        f"energy    {result['energy_pj_per_output']:,.1f} pJ/output = {result['total_mw']} mW x "
        f"{result['clock_ns']} ns x {result['cycles_per_output']} cycles/output"
        + ("  (cached)" if result.get("cached") else ""),
        f"  split   internal {result['internal_pj_per_output']:,.1f} pJ, switching "
        f"{result['switching_pj_per_output']:,.1f} pJ, leakage {result['leakage_pj_per_output']:.3f} pJ; "
        f"idle power {result['idle_mw']} mW; {result['mean_toggles_per_net']} toggles/net/cycle",
        f"  stimulus {result['stimulus']} ({result['cycles']} cycles measured, outputs match the golden model)",
    ]
    groups = result.get("groups", {})
    if len(groups) > 1:
        lines.append("  by module: " + ", ".join(f"{g} {v['energy_pj_per_output']:,.1f} pJ"
                                                 for g, v in sorted(groups.items(),
                                                                    key=lambda kv: -kv[1]["energy_pj_per_output"])))
    v = result.get("vectorless")
    if v:
        lines.append(f"  vectorless fallback (activity {v['activity']}): {v['energy_pj_per_output']:,.1f} pJ/output")
    return lines


def format_beats(rows, header=True):
    """Rows of :func:`beats_sweep` as a fixed-width table."""
    out = [f"{'k':>3} {'beats':>5} {'total pJ':>10} {'rescaler pJ':>12} {'MACs pJ':>10} {'rescaler %':>10}"] \
        if header else []
    out += [f"{r['k']:>3} {r['beats_per_output']:>5} {r['total_pj']:>10,.1f} {r['rescaler_pj']:>12,.1f} "
            f"{r['macs_pj']:>10,.1f} {100 * r['rescaler_share']:>10.1f}" for r in rows]
    return "\n".join(out)
