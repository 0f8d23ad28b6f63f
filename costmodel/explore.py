"""Design-space exploration: every knob of a declared space, and its Pareto front.

``python -m costmodel explore`` (``make explore``) takes a *space*: a list of
values for each :class:`~hw.config.DatapathConfig` field (k, macs, engines,
pipeline depths, architecture options), optionally a list of named
``variants`` (sets of architecture options taken together), and lists of
flows, devices and clock periods. Every combination that is a valid
configuration is a point; each is synthesized through the same cache and
executors as a sweep (:func:`costmodel.sweep.run_sweep`), so an interrupted
exploration resumes where it stopped and a finished one re-runs from the cache.

The result, in the output directory:

* ``explore.json`` / ``explore.csv``: every point (knobs, area, delay, ADP, the
  FPGA resources for FPGA flows, the digits CNN's accuracy at that k when
  ``reports/accuracy.json`` has it), with flags ``pareto``, ``best_for_k`` and
  ``paper``; ``pareto.json`` / ``pareto.csv``: the front alone. These files hold
  results only (no run times, no dates), so two runs of the same space on any
  executor give the same bytes.
* ``pareto.png`` / ``.svg``: area against delay per flow, the front drawn, the
  paper's configurations and the best configuration per k marked.
* ``run.json``: how the run went: points synthesized vs from the cache, wall
  time, executor.

A front compares like with like: one per (flow, device, clock, MACS, engines),
since an engine with more MACs does more work per cycle and is bound to be
larger. Objectives (:data:`OBJECTIVES`): area and delay (smaller is better; ADP's
minimum is then on the front), and, each when every point of the group has it,
latency, energy per output (smaller) and accuracy (larger).
Each point's latency is its configuration's :attr:`~hw.config.DatapathConfig.latency`.
With ``energy=True`` (``explore --energy``) every one-engine point of the liberty
flow also gets its energy per output, measured as ``make energy`` measures it
(:func:`costmodel.energy.measure_config`: a gate-level simulation of a named
layer and OpenSTA's power report, through the energy cache), with the layer in
``energy_layer``; otherwise, and for points it cannot measure (other flows,
arrays), ``energy_pj_per_output`` is null, never guessed.

The named variants of the preset spaces are those of :mod:`hw.variants` (and the
paper's datapath with Booth multipliers, named as :func:`costmodel.variants.variant_name`
names it); a space file may declare its own.
"""

import csv
import dataclasses
import io
import itertools
import json
import time
from pathlib import Path

from eda.flows import FLOWS
from hw.config import ARCH_FIELDS, DatapathConfig
from hw.variants import PAPER_VARIANT, VARIANTS
from toolkit.cli import MAX_VALUES
from toolkit.files import write_atomically
from toolkit.validate import is_integer, is_number, read_json

from . import synth
from .published import FPGA_COLUMNS
from .variants import variant_name
from .sweep import Sweep, run_sweep

__all__ = ["SPACES", "PAPER_CONFIGS", "OBJECTIVES", "MAX_COMBINATIONS", "load_space", "points", "explore",
           "pareto_flags", "to_csv", "CountingExecutor"]

#: The paper's datapath: its RTL variant, without Booth multipliers.
_PAPER_DATAPATH = {**VARIANTS[PAPER_VARIANT], "booth": False}


def _variants(*names, booth=()):
    """Named variants of a space: RTL variants of :mod:`hw.variants` by name, and
    those of ``booth`` with Booth multipliers."""
    return {**{name: VARIANTS[name] for name in names},
            **{variant_name(name, booth=True): {**VARIANTS[name], "booth": True} for name in booth}}


#: Named spaces. ``small`` (48 points, generic flow, pip-only) finishes in minutes on
#: two cores from a cold cache; ``large`` is the study an architect would run on a
#: cluster; ``fpga`` places and routes on an ECP5 (about a minute per point).
SPACES = {
    "small": {
        "flow": ["generic"], "k": [4, 8, 16, 32], "macs": [4, 8], "rescaler_pipeline": [1, 2],
        "variants": _variants("paper", "fast_clamp", "trim_fast"),
    },
    "large": {
        "flow": ["liberty", "generic"], "k": [3, 4, 5, 6, 8, 12, 16, 24, 32], "macs": [4, 8, 16],
        "rescaler_pipeline": [1, 2, 3], "mac_pipeline": [1, 2],
        "variants": _variants("paper", "fast_clamp", "trim_fast", "trim_fast_hidden", "isolated", booth=("paper",)),
    },
    "fpga": {
        "flow": ["ecp5"], "k": [4, 6, 8, 12, 16, 32], "macs": [4, 8],
        "variants": _variants("paper", "fast_clamp"),
    },
}
#: The paper's configurations (arXiv 2510.11484, Section III.D): its datapath (no
#: architecture option) at the default pipeline, the 32-bit baseline and k = 4.
PAPER_CONFIGS = {32: "paper baseline (k=32)", 4: "paper (k=4)"}

#: The Pareto objectives, as (row field, +1 smaller is better / -1 larger is better,
#: whether every point of a group must have it for it to count).
OBJECTIVES = (("area", 1, False), ("delay", 1, False), ("latency_cycles", 1, True),
              ("energy_pj_per_output", 1, True), ("accuracy_pct", -1, True))

_CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(DatapathConfig))
#: The boolean fields (the architecture options and ``pre_skew``): knobs of true or false.
_BOOL_FIELDS = tuple(f.name for f in dataclasses.fields(DatapathConfig) if f.type in (bool, "bool"))
_REQUEST_KEYS = ("flow", "device", "clock_ns")


#: Most combinations a space may declare (the product of its list lengths and
#: variants, counted before anything is expanded): ``large`` declares 1,620.
MAX_COMBINATIONS = 10_000


def _check_values(key, values):
    """One knob's list: non-empty, at most :data:`toolkit.cli.MAX_VALUES` values, each of
    the knob's type (a flow name, a device name, a positive clock, a boolean
    field, else an integer)."""
    if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
        raise ValueError(f"knob {key!r} must be a non-empty list of at most {MAX_VALUES} values, "
                         f"not {json.dumps(values)[:40]}")
    if key == "flow":
        ok, what = (lambda v: isinstance(v, str) and v in FLOWS), f"one of {', '.join(FLOWS)}"
    elif key == "device":
        ok, what = (lambda v: isinstance(v, str)), "a device name"
    elif key == "clock_ns":
        ok, what = (lambda v: is_number(v) and v > 0), "a positive number of ns"
    elif key in _BOOL_FIELDS:
        ok, what = (lambda v: isinstance(v, bool)), "true or false"
    else:
        ok, what = is_integer, "an integer"
    for value in values:
        if not ok(value):
            raise ValueError(f"{key} must be {what}, not {json.dumps(value)[:40]} (in the space's {key!r} list)")


def load_space(spec):
    """A space from a preset name (:data:`SPACES`) or a JSON file; validated: known
    knobs, typed values, at most :data:`MAX_COMBINATIONS` combinations.

    Returns ``(name, space)`` where ``space`` maps each knob to a list of values
    and ``variants`` to ``{name: {field: value}}``.
    """
    if spec in SPACES:
        name, space = spec, SPACES[spec]
    else:
        path = Path(spec)
        if not path.is_file() and not path.is_dir():
            raise ValueError(f"space must be one of {', '.join(SPACES)} or a JSON file, not {spec!r}")
        space = read_json(path, remedy="fix the space file")
        name = path.stem
    if not isinstance(space, dict):
        raise ValueError(f"a space is a JSON object of knob -> list of values, not {type(space).__name__}")
    allowed = set(_CONFIG_FIELDS) | set(_REQUEST_KEYS) | {"variants"}
    combinations = 1
    for key, values in space.items():
        if key not in allowed:
            raise ValueError(f"unknown knob {key!r} in the space: one of {', '.join(sorted(allowed))}")
        if key == "variants":
            if not isinstance(values, dict) or not values or len(values) > MAX_VALUES or not all(
                    isinstance(v, dict) and set(v) <= set(ARCH_FIELDS) and all(isinstance(b, bool) for b in v.values())
                    for v in values.values()):
                raise ValueError("variants must map names to objects of architecture options "
                                 f"({', '.join(ARCH_FIELDS)}: true or false)")
        else:
            _check_values(key, values)
        combinations *= len(values)
    if combinations > MAX_COMBINATIONS:
        raise ValueError(f"the space declares {combinations:,} combinations, more than {MAX_COMBINATIONS:,}: "
                         "split it, or shorten its lists")
    return name, space


def points(space):
    """Every valid point of ``space``: ``[(request_knobs, variant, DatapathConfig)]``, and
    the number of combinations skipped as invalid (e.g. a MAC pipeline deeper than
    the engine's tree). Request knobs are ``(flow, device, clock_ns)``."""
    variants = space.get("variants") or {"": {}}
    fields = [f for f in _CONFIG_FIELDS if f in space]
    out, skipped = [], 0
    for flow, device, clock_ns in itertools.product(space.get("flow", [None]), space.get("device", [None]),
                                                    space.get("clock_ns", [None])):
        for values in itertools.product(*(space[f] for f in fields)):
            for variant, options in variants.items():
                knobs = {**dict(zip(fields, values)), **options}
                try:
                    config = DatapathConfig(**knobs)
                except (ValueError, TypeError):
                    skipped += 1
                    continue
                out.append(((flow, device, clock_ns), variant, config))
    seen, unique = set(), []
    for point in out:  # a variant may repeat a knob of the product: keep the first
        key = (point[0], point[2])
        if key not in seen:
            seen.add(key)
            unique.append(point)
    return unique, skipped


class CountingExecutor:
    """Wraps an executor and counts the points synthesized and those from the cache."""

    def __init__(self, inner):
        self.inner, self.synthesized, self.cached = inner, 0, 0

    def describe(self):
        return self.inner.describe()

    def map(self, fn, items):
        for i, result, error in self.inner.map(fn, items):
            if error is None:
                if result[1]:
                    self.cached += 1
                else:
                    self.synthesized += 1
            yield i, result, error


def _accuracy_by_k(path):
    """Top-1 accuracy (%) of the digits CNN per k (the paper's truncating quantizer),
    from ``reports/accuracy.json``; empty when absent."""
    try:
        rows = json.loads(Path(path).read_text())["rows"]
        return {int(row["k"]): float(row["truncate"]["accuracy"]) for row in rows}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _row(variant, request, config, report, accuracy, energy=None):
    row = {"point": synth.report_name(config, request), "flow": request.flow, "device": request.device,
           "clock_ns": request.clock_ns, "variant": variant, **dataclasses.asdict(config),
           "latency_cycles": config.latency,
           "area": report["area"], "area_unit": report["area_unit"], "delay": report["delay"],
           "delay_unit": report["delay_unit"], "adp": round(report["area"] * report["delay"], 3)}
    fpga = report.get("fpga") or {}
    for key in FPGA_COLUMNS:
        row[key] = fpga.get(key)
    row["accuracy_pct"] = None if config.hidden_bit else accuracy.get(config.k)
    row["energy_pj_per_output"] = None if energy is None else energy["energy_pj_per_output"]
    row["energy_layer"] = None if energy is None else energy["stimulus"]
    return row


def _energy(request, config, yosys, sta):
    """The energy object of ``config`` (:func:`costmodel.energy.measure_config`), or
    None for a point it does not measure: another flow than liberty, or an array."""
    from . import energy
    if request.flow != "liberty" or config.engines != 1:
        return None
    return energy.measure_config(config, liberty=request.liberty, clock_ns=energy.DEFAULT_CLOCK_NS,
                                 yosys=yosys, sta=sta)


def _group(row):
    return (row["flow"], row["device"], row["clock_ns"], row["macs"], row["engines"])


def pareto_flags(rows):
    """Set ``pareto`` on every row: not dominated within its group (see the module
    docstring); set ``best_for_k`` on the smallest-ADP row per group and k; set
    ``paper`` to the label of the paper's configurations (else "")."""
    groups = {}
    for row in rows:
        groups.setdefault(_group(row), []).append(row)
    for row in rows:
        row["best_for_k"] = False
    for members in groups.values():
        used = [(key, sign) for key, sign, optional in OBJECTIVES
                if not optional or all(r.get(key) is not None for r in members)]

        def objectives(r):
            return tuple(sign * r[key] for key, sign in used)

        for row in members:
            mine = objectives(row)
            row["pareto"] = not any(
                all(a <= b for a, b in zip(objectives(o), mine)) and objectives(o) != mine for o in members)
        for k in {r["k"] for r in members}:
            best = min((r for r in members if r["k"] == k), key=lambda r: (r["adp"], r["point"]))
            best["best_for_k"] = True
    for row in rows:
        paper = (all(row[f] == v for f, v in _PAPER_DATAPATH.items()) and row["rescaler_pipeline"] == 1
                 and row["mac_pipeline"] == 1 and row["engines"] == 1)
        row["paper"] = PAPER_CONFIGS.get(row["k"], "") if paper else ""
    return rows


def to_csv(rows):
    """The rows as CSV, one column per key of the first row."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def explore(name, space, *, executor, out, cache_dir=synth.CACHE_DIR, yosys=None, liberty=None,
            accuracy=Path("reports") / "accuracy.json", progress=None, draw=True, energy=False):
    """Synthesize every point of ``space`` on ``executor`` and write the results to ``out``;
    with ``energy``, also measure each liberty one-engine point's energy per output
    (in this process, one point after another, through the energy cache).

    Returns the run summary (``run.json``): points, synthesized, cached, skipped,
    failed, wall time and the files written.
    """
    start = time.monotonic()
    pts, skipped = points(space)
    if not pts:
        raise ValueError(f"the space {name} has no valid point ({skipped} combinations skipped as invalid)")
    by_request = {}
    for knobs, variant, config in pts:
        by_request.setdefault(knobs, []).append((variant, config))
    counting = CountingExecutor(executor)
    acc = _accuracy_by_k(accuracy)
    rows, failed = [], []
    for (flow, device, clock_ns), members in by_request.items():
        request = synth.resolve_flow(flow, liberty if FLOWS[flow or synth.default_flow(liberty)].liberty else None,
                                     clock_ns, device=device)
        configs = tuple(config for _, config in members)
        sweep = Sweep(configs, request, *synth.find_tools(request, yosys))
        print(f"explore {name}: {len(configs)} points, {request.flow} flow"
              + (f" on {request.device}" if request.device else "") + f", {executor.describe()}",
              file=progress, flush=True)
        failures = []
        reports = run_sweep(sweep, progress=progress, executor=counting, cache_dir=cache_dir, failed=failures)
        failed += [{"point": synth.report_name(c, request), "error": str(e)} for c, e in failures]
        for (variant, config), report in zip(members, reports):
            if report is None:
                continue
            measured = _energy(request, config, sweep.yosys, sweep.sta) if energy else None
            rows.append(_row(variant, request, config, report, acc, measured))
    rows.sort(key=lambda r: (r["flow"], str(r["device"]), r["clock_ns"], r["macs"] or 0, r["engines"],
                             r["k"], r["point"]))
    pareto_flags(rows)
    front = [r for r in rows if r["pareto"]]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    document = {"space": name, "declared": space, "objectives": "area, delay (smaller); latency_cycles, "
                "energy_pj_per_output (smaller) and accuracy_pct (larger) each when every point of a group has "
                "it; one front per (flow, device, clock_ns, macs, engines)",
                "energy": "energy per output of a simulated layer (energy_layer), OpenSTA power, liberty one-engine "
                "points" if energy else "not measured: explore --energy (liberty flow) or 'make energy' measures "
                "a point's energy per output",
                "accuracy_source": str(accuracy) if acc else None, "points": rows}
    write_atomically(out / "explore.json", json.dumps(document, indent=1) + "\n")
    write_atomically(out / "explore.csv", to_csv(rows))
    write_atomically(out / "pareto.json", json.dumps({"space": name, "points": front}, indent=1) + "\n")
    write_atomically(out / "pareto.csv", to_csv(front))
    files = ["explore.json", "explore.csv", "pareto.json", "pareto.csv"]
    if draw and rows:
        files += [p.name for p in draw_front(rows, out / "pareto", title=f"space {name}")]
    summary = {"space": name, "points": len(pts), "synthesized": counting.synthesized,
               "cached": counting.cached, "skipped_invalid": skipped, "failed": failed,
               "pareto_points": len(front), "executor": executor.describe(),
               "wall_s": round(time.monotonic() - start, 1), "files": files}
    write_atomically(out / "run.json", json.dumps(summary, indent=1) + "\n")
    return summary


def draw_front(rows, path, *, title):
    """Area against delay, one panel per flow and device: every point, each
    group's front as a line, the paper's configurations and the best per k marked."""
    from toolkit.figures import pyplot, save

    plt = pyplot()
    panels = sorted({(r["flow"], str(r["device"]), r["clock_ns"]) for r in rows})
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.8), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (flow, device, clock) in zip(axes[0], panels):
        here = [r for r in rows if (r["flow"], str(r["device"]), r["clock_ns"]) == (flow, device, clock)]
        groups = sorted({(r["macs"] or 0, r["engines"]) for r in here})
        for n, (macs, engines) in enumerate(groups):
            members = [r for r in here if (r["macs"] or 0, r["engines"]) == (macs, engines)]
            color = colors[n % len(colors)]
            label = f"MACS={macs or '-'}" + (f" x{engines}" if engines > 1 else "")
            ax.scatter([r["delay"] for r in members], [r["area"] for r in members], s=12, color=color,
                       alpha=0.35, label=f"{label}: all points")
            front = sorted((r for r in members if r["pareto"]), key=lambda r: (r["delay"], r["area"]))
            ax.plot([r["delay"] for r in front], [r["area"] for r in front], "-o", ms=4, color=color,
                    label=f"{label}: Pareto front")
            for r in members:
                if r["best_for_k"]:
                    ax.annotate(f"k={r['k']}", (r["delay"], r["area"]), fontsize=7, xytext=(3, 3),
                                textcoords="offset points", color=color)
        paper = [r for r in here if r["paper"]]
        ax.scatter([r["delay"] for r in paper], [r["area"] for r in paper], marker="*", s=120,
                   facecolor="none", edgecolor="black", label="paper's configurations (k=32, k=4)")
        best = [r for r in here if r["best_for_k"]]
        ax.scatter([r["delay"] for r in best], [r["area"] for r in best], marker="s", s=40,
                   facecolor="none", edgecolor="gray", label="best ADP per k (labelled)")
        unit_a, unit_d = here[0]["area_unit"], here[0]["delay_unit"]
        ax.set_xlabel(f"delay ({unit_d})")
        ax.set_ylabel(f"area ({unit_a})")
        ax.set_title(f"{title}: {flow}" + (f" {device}" if device != "None" else "") + f", clock {clock:g} ns",
                     fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    return save(fig, path, formats=("png", "svg"))
