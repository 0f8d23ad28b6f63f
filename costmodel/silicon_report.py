"""Energy per output and placed-and-routed silicon: the REPORT.md section.

The section is written from what ``make energy-sweep PUBLISH=1``,
``make layout-sweep PUBLISH=1`` and ``make energy-beats PUBLISH=1`` published,
never by running them (they take minutes to an hour per point):

* ``<dir>/synth/<name>.json`` with an ``energy`` object (``synth --energy``),
  one per ``(k, MACS)`` of :data:`ENERGY_K` x :data:`ENERGY_MACS`;
* ``<dir>/synth/<name>_layout.json`` (``--flow layout``), one per ``(k, MACS)``
  of :data:`LAYOUT_K` x :data:`LAYOUT_MACS`;
* ``<dir>/energy_beats.json`` (rescaler vs MACs against beats per output).

A point whose file is absent (or a liberty report without an ``energy`` object)
is **missing**: the section lists it with the command that produces it, and
reports the rest. A file that is there but damaged (not JSON, another
configuration, fields missing or not numbers) is a ValueError naming the file
and the command that rewrites it, so a committed point never silently drops out
of the study.

Every sentence is computed from those files; nothing measured is typed in. The
figures are drawn by :mod:`costmodel.silicon_plots`.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from hw.config import DatapathConfig

from .sweep import PAPER

__all__ = ["ENERGY_K", "ENERGY_MACS", "LAYOUT_K", "LAYOUT_MACS", "BEATS_THRESHOLDS", "Points", "load",
           "EXAMPLE_LAYERS", "energy_rows", "energy_ratios", "layout_ratios", "beats_fit", "layer_shares", "summary",
           "render"]

#: The grids of ``make energy-sweep`` and ``make layout-sweep`` (the Makefile's defaults).
ENERGY_K = (3, 4, 6, 8, 16, 32)
ENERGY_MACS = (4, 8, 16)
LAYOUT_K = (4, 8, 32)
LAYOUT_MACS = (8,)
#: Rescaler shares of the energy per output the beats analysis solves for.
BEATS_THRESHOLDS = (0.10, 0.01)
BASE_K = 32
#: Percentage points within which the vectorless saving counts as confirming the simulated one.
CONTROL_POINTS = 5.0

_ENERGY_FIELDS = ("energy_pj_per_output", "internal_pj_per_output", "switching_pj_per_output",
                  "leakage_pj_per_output", "clock_ns", "cycles", "cycles_per_output")
_LAYOUT_POSITIVE = ("die_area_um2", "core_area_um2", "cell_area_um2", "synthesized_cell_area_um2",
                    "utilization", "target_utilization", "wire_length_um", "synthesized_delay_ns")
_LAYOUT_COUNTS = ("drc_errors", "unrouted_nets", "buffers_added", "cells")
_BEATS_FIELDS = ("k", "macs", "beats_per_output", "total_pj", "rescaler_pj", "macs_pj")


@dataclass
class Points:
    """What a reports directory holds for the section.

    ``energy`` and ``layout`` map ``(k, macs)`` to the point's report; ``beats``
    is the rows of ``energy_beats.json`` (None when absent); the ``missing_*``
    lists are the grid points without a file (or, for energy, without an
    ``energy`` object), in grid order.
    """

    directory: Path
    energy: dict = field(default_factory=dict)
    layout: dict = field(default_factory=dict)
    beats: list = None
    missing_energy: list = field(default_factory=list)
    missing_layout: list = field(default_factory=list)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and value >= 0


def _read(path, remedy):
    """The JSON at ``path``, or None when absent; a damaged file is one ValueError."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}): re-run '{remedy}'") from None


def _check_point(path, report, k, macs, flow, remedy):
    """``report`` if it is the synth report of ``(k, macs)`` in ``flow``, else a ValueError."""
    def fail(why):
        raise ValueError(f"{path} {why}: re-run '{remedy}'")
    if not isinstance(report, dict) or not isinstance(report.get("config"), dict):
        fail("is not a synth report (a JSON object from 'python -m costmodel synth')")
    config = report["config"]
    if (config.get("k"), config.get("macs"), config.get("engines", 1)) != (k, macs, 1) \
            or report.get("flow") != flow:
        fail(f"holds k={config.get('k')} macs={config.get('macs')} ({report.get('flow')} flow), "
             f"not k={k} macs={macs} ({flow} flow)")
    if not all(_number(report.get(key)) for key in ("area", "delay", "runtime_s", "cells")):
        fail("lacks a non-negative area, delay, cells or runtime_s")
    return report


def _check_energy(path, energy, remedy):
    if not isinstance(energy, dict) or not all(_number(energy.get(key)) for key in _ENERGY_FIELDS) \
            or not energy["energy_pj_per_output"] > 0 or not isinstance(energy.get("stimulus"), str):
        raise ValueError(f"{path}: its energy object needs a stimulus, a positive energy_pj_per_output and "
                         f"non-negative {', '.join(_ENERGY_FIELDS[1:])}: re-run '{remedy}'")
    groups = energy.get("groups", {})
    if not isinstance(groups, dict) or not all(
            isinstance(g, dict) and _number(g.get("energy_pj_per_output")) for g in groups.values()):
        raise ValueError(f"{path}: its energy groups need energy_pj_per_output: re-run '{remedy}'")
    if energy.get("outputs_match_golden") is not True:
        raise ValueError(f"{path}: the gate-level outputs are not recorded as matching the golden "
                         f"model: re-run '{remedy}'")


def _check_layout(path, layout, remedy):
    stages = ("pre_route", "post_route")
    ok = isinstance(layout, dict) and all(isinstance(layout.get(stage), dict) for stage in stages) \
        and all(_number(v) and v > 0 for v in [layout.get(key) for key in _LAYOUT_POSITIVE]
                + [layout[stage].get("delay_ns") for stage in stages]) \
        and all(_number(layout.get(key)) for key in _LAYOUT_COUNTS) and isinstance(layout.get("wall_s"), dict)
    if not ok:
        raise ValueError(f"{path}: its layout object needs positive pre_route/post_route delay_ns, "
                         f"{', '.join(_LAYOUT_POSITIVE)}, non-negative {', '.join(_LAYOUT_COUNTS)} "
                         f"and wall_s: re-run '{remedy}'")


def _check_beats(path, rows):
    remedy = "make energy-beats PUBLISH=1"
    if not isinstance(rows, list) or not rows or not all(
            isinstance(r, dict) and all(_number(r.get(key)) for key in _BEATS_FIELDS)
            and r["beats_per_output"] >= 1 for r in rows):
        raise ValueError(f"{path} is not a list of energy-beats rows with non-negative "
                         f"{', '.join(_BEATS_FIELDS)}: re-run '{remedy}'")
    return rows


def load(directory, *, energy_k=ENERGY_K, energy_macs=ENERGY_MACS, layout_k=LAYOUT_K,
         layout_macs=LAYOUT_MACS):
    """The :class:`Points` of ``directory`` (e.g. ``reports``) over the two grids.

    Raises
    ------
    ValueError
        A point file or ``energy_beats.json`` that is there but damaged, with the
        file's path and the command that rewrites it.
    """
    directory = Path(directory)
    points = Points(directory)
    for macs in energy_macs:
        for k in energy_k:
            path = directory / "synth" / f"{DatapathConfig(k=k, macs=macs).name}.json"
            remedy = f"make energy K={k} MACS={macs} PUBLISH=1"
            report = _read(path, remedy)
            if report is not None:
                _check_point(path, report, k, macs, "liberty", remedy)
            if report is None or "energy" not in report:
                points.missing_energy.append((k, macs))
                continue
            _check_energy(path, report["energy"], remedy)
            points.energy[(k, macs)] = report
    for macs in layout_macs:
        for k in layout_k:
            path = directory / "synth" / f"{DatapathConfig(k=k, macs=macs).name}_layout.json"
            remedy = f"make synth K={k} MACS={macs} FLOW=layout PUBLISH=1"
            report = _read(path, remedy)
            if report is None:
                points.missing_layout.append((k, macs))
                continue
            _check_point(path, report, k, macs, "layout", remedy)
            _check_layout(path, report.get("layout"), remedy)
            points.layout[(k, macs)] = report
    path = directory / "energy_beats.json"
    rows = _read(path, "make energy-beats PUBLISH=1")
    points.beats = None if rows is None else _check_beats(path, rows)
    return points


# --- the numbers ---------------------------------------------------------------------------------

def _rescaler_pj(energy):
    return sum(g["energy_pj_per_output"] for name, g in energy.get("groups", {}).items()
               if name.startswith("rescaler"))


def energy_rows(points, area_ratios=None):
    """``{macs: [row, ...]}`` sorted by k: energy per output, its split, the rescaler's
    part and share, and the ratios to k = 32 (energy, and synthesized area from
    ``area_ratios`` ``{(macs, k): area_vs_k32}``, the liberty sweep's) where present."""
    table = {}
    for (k, macs), report in sorted(points.energy.items(), key=lambda item: (item[0][1], item[0][0])):
        e = report["energy"]
        rescaler = _rescaler_pj(e)
        row = {"k": k, "macs": macs, "pj": e["energy_pj_per_output"],
               "internal": e["internal_pj_per_output"], "switching": e["switching_pj_per_output"],
               "leakage": e["leakage_pj_per_output"], "rescaler_pj": rescaler,
               "rescaler_share": rescaler / e["energy_pj_per_output"] if e["energy_pj_per_output"] else 0.0,
               "vectorless_pj": (e.get("vectorless") or {}).get("energy_pj_per_output"),
               "area": report["area"], "stimulus": e["stimulus"], "clock_ns": e["clock_ns"],
               "cycles": e["cycles"], "cycles_per_output": e["cycles_per_output"],
               "wall_s": (e.get("wall_s") or {}).get("total_s")}
        if area_ratios and (macs, k) in area_ratios:
            row["area_vs_k32"] = area_ratios[(macs, k)]
        table.setdefault(macs, []).append(row)
    for rows in table.values():
        base = next((r for r in rows if r["k"] == BASE_K), None)
        for r in rows:
            if base and base["pj"]:
                r["energy_vs_k32"] = r["pj"] / base["pj"]
                if r["vectorless_pj"] and base["vectorless_pj"]:
                    r["vectorless_vs_k32"] = r["vectorless_pj"] / base["vectorless_pj"]
    return table


def energy_ratios(rows):
    """Per MACS with k = 32 and k = 4 or 8: savings k=32 -> 4 and -> 8 in energy
    (simulated and vectorless) and synthesized area, in percent, next to the paper's."""
    out = []
    for macs, macs_rows in rows.items():
        by_k = {r["k"]: r for r in macs_rows}
        if BASE_K not in by_k or not ({4, 8} & set(by_k)):
            continue
        entry = {"macs": macs, "paper_area_k4_pct": PAPER["area_reduction_k4_pct"].get(macs)}
        for k in (4, 8):
            r = by_k.get(k, {})
            for key, name in (("energy_vs_k32", "energy"), ("vectorless_vs_k32", "vectorless"),
                              ("area_vs_k32", "area")):
                entry[f"{name}_k{k}_pct"] = 100 * (1 - r[key]) if key in r else None
        out.append(entry)
    return out


def _delays(report):
    layout = report["layout"]
    return {"synthesized": layout["synthesized_delay_ns"], "pre_route": layout["pre_route"]["delay_ns"],
            "post_route": layout["post_route"]["delay_ns"],
            "propagated": layout["post_route"].get("delay_propagated_clock_ns")
            if _number(layout["post_route"].get("delay_propagated_clock_ns")) else None}


def layout_ratios(points):
    """Per MACS with a k = 32 layout: the savings k=32 -> 4 and -> 8 of area
    (synthesized cell area, cell area after buffering, routed core area) and delay
    (synthesized, post-route), in percent."""
    out = []
    for macs in sorted({m for _, m in points.layout}):
        base = points.layout.get((BASE_K, macs))
        if base is None:
            continue
        for k in (4, 8):
            report = points.layout.get((k, macs))
            if report is None:
                continue
            a, b = report["layout"], base["layout"]
            saving = lambda x, y: 100 * (1 - x / y) if y else None  # noqa: E731
            out.append({"macs": macs, "k": k,
                        "area_synthesized_pct": saving(a["synthesized_cell_area_um2"], b["synthesized_cell_area_um2"]),
                        "area_cells_pct": saving(a["cell_area_um2"], b["cell_area_um2"]),
                        "area_core_pct": saving(a["core_area_um2"], b["core_area_um2"]),
                        "delay_synthesized_pct": saving(a["synthesized_delay_ns"], b["synthesized_delay_ns"]),
                        "delay_post_route_pct": saving(a["post_route"]["delay_ns"], b["post_route"]["delay_ns"]),
                        "paper_area_pct": PAPER["area_reduction_k4_pct"].get(macs) if k == 4 else None})
    return out


def _line(xs, ys):
    """Least-squares ``(intercept, slope, max relative residual)`` of ``ys`` against ``xs``."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    intercept = my - slope * mx
    residual = max((abs(intercept + slope * x - y) / y for x, y in zip(xs, ys) if y), default=0.0)
    return intercept, slope, residual


def _beats_for_share(fixed, per_output_rest, per_beat_rest, per_beat_rescaler, share):
    """Smallest whole B with ``(fixed + b*B) / (fixed + b*B + rest(B)) < share``, or None."""
    # share * (fixed + bB + r0 + r1 B) > fixed + bB  <=>  B (share (b + r1) - b) > fixed (1 - share) - share r0
    gain = share * (per_beat_rescaler + per_beat_rest) - per_beat_rescaler
    need = fixed * (1 - share) - share * per_output_rest
    if gain <= 0:
        return None if need >= 0 else 1
    return max(1, math.floor(need / gain) + 1)


def beats_fit(rows):
    """Per ``(k, macs)`` of the energy-beats rows: the rescaler's and the rest's
    energy per output as lines in the beats per output ``B``, and what they imply.

    Returns a list of dicts: ``k``, ``macs``, ``beats`` (measured B), the fitted
    ``rescaler_per_output``/``rescaler_per_beat`` and ``rest_per_output``/``rest_per_beat``
    (pJ), ``residual`` (worst relative misfit of the two lines), ``share_limit``
    (the rescaler's share as B grows without bound), ``rescaler_once`` (its energy
    at B = 1, when it switches once per output: the cost with its input held between
    outputs), and per threshold of :data:`BEATS_THRESHOLDS` the smallest B below it
    as measured (``beats_below``, None when never) and with the input held
    (``beats_below_held``).
    """
    groups = {}
    for r in rows:
        groups.setdefault((r["k"], r["macs"]), []).append(r)
    out = []
    for (k, macs), group in sorted(groups.items()):
        group.sort(key=lambda r: r["beats_per_output"])
        beats = [r["beats_per_output"] for r in group]
        if len(set(beats)) < 2:
            continue
        r0, r1, res_r = _line(beats, [r["rescaler_pj"] for r in group])
        m0, m1, res_m = _line(beats, [r["macs_pj"] for r in group])
        once = next((r["rescaler_pj"] for r in group if r["beats_per_output"] == 1), None)
        entry = {"k": k, "macs": macs, "beats": beats, "rescaler_per_output": r0, "rescaler_per_beat": r1,
                 "rest_per_output": m0, "rest_per_beat": m1, "residual": max(res_r, res_m),
                 "share_limit": r1 / (r1 + m1) if r1 + m1 > 0 else 0.0, "rescaler_once": once,
                 "shares": [(r["beats_per_output"], r["rescaler_pj"] / r["total_pj"] if r["total_pj"] else 0.0)
                            for r in group],
                 "beats_below": {}, "beats_below_held": {}}
        for t in BEATS_THRESHOLDS:
            entry["beats_below"][t] = _beats_for_share(r0, m0, m1, r1, t)
            entry["beats_below_held"][t] = None if once is None else _beats_for_share(once, m0, m1, 0.0, t)
        out.append(entry)
    return out


# --- the text ------------------------------------------------------------------------------------

def _pct(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f} %"


def _grid_list(pairs):
    return ", ".join(f"k={k}/MACS={m}" for k, m in pairs)


def _range(values, fmt="{:.1f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}-{fmt.format(hi)}"


def _energy_part(points, rows, label):
    lines = ["### Energy per output", ""]
    if not rows:
        return lines + ["No energy point is published yet."]
    stimuli = {}
    for macs_rows in rows.values():
        for r in macs_rows:
            stimuli.setdefault(r["macs"], set()).add((r["stimulus"].replace(f"k={r['k']}", "k=<k>"),
                                                     r["clock_ns"], r["cycles"]))
    lines.append(f"From `{label}/synth/k<k>_macs<N>.json` (`make energy-sweep PUBLISH=1`): gate-level "
                 "activity of the same float layer for every k (only m and s depend on k), OpenSTA power "
                 "on the OSU 0.18 um cells. Stimulus per MACS: "
                 + "; ".join(f"{macs} MACS: {', '.join(f'{s} ({c} cycles, clock {t:g} ns)' for s, t, c in sorted(v))}"
                             for macs, v in sorted(stimuli.items())) + ".")
    lines.append("Energy per output is power x clock period x cycles per output; the rescaler's part is "
                 "the power of its instances (netlist mapped module by module). A ratio is the point's "
                 "value over k = 32's; area is the liberty sweep's synthesized area. Not counted: glitches "
                 "(zero-delay simulation) and wire capacitance (no layout), so absolute pJ are a lower "
                 "bound; the ratios share that bias.")
    for macs, macs_rows in rows.items():
        lines += ["", f"#### Energy per output, {macs} MACS", "",
                  "| k | pJ/output | internal | switching | leakage | rescaler pJ | rescaler share "
                  "| energy vs k=32 | area vs k=32 (synthesis) |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in macs_rows:
            lines.append(" | ".join([
                f"| {r['k']}", f"{r['pj']:,.1f}", f"{r['internal']:,.1f}", f"{r['switching']:,.1f}",
                f"{r['leakage']:.3f}", f"{r['rescaler_pj']:,.1f}", _pct(100 * r["rescaler_share"]),
                f"{r['energy_vs_k32']:.3f}" if "energy_vs_k32" in r else "-",
                f"{r['area_vs_k32']:.3f}" if "area_vs_k32" in r else "-"]) + " |")
    ratios = energy_ratios(rows)
    if ratios:
        lines += ["", "#### Energy against area and the paper", "",
                  "| MACS | energy -% k=32->4 | vectorless -% k=32->4 | area -% k=32->4 (synthesis) "
                  "| paper area -% k=32->4 | energy -% k=32->8 | vectorless -% k=32->8 "
                  "| area -% k=32->8 (synthesis) |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for c in ratios:
            lines.append(" | ".join([f"| {c['macs']}", _pct(c["energy_k4_pct"]), _pct(c["vectorless_k4_pct"]),
                                     _pct(c["area_k4_pct"]), _pct(c["paper_area_k4_pct"]), _pct(c["energy_k8_pct"]),
                                     _pct(c["vectorless_k8_pct"]), _pct(c["area_k8_pct"])]) + " |")
        lines += [""] + _energy_discussion(rows, ratios)
    return lines


def _energy_discussion(rows, ratios):
    paper = PAPER["area_reduction_k4_pct"]
    out = []
    e4 = [(c["macs"], c["energy_k4_pct"], c["area_k4_pct"]) for c in ratios if c["energy_k4_pct"] is not None]
    if e4:
        text = (f"- **Energy against area.** From k=32 to 4 the energy per output falls by "
                f"{' / '.join(f'{e:.1f}' for _, e, _ in e4)} % for {' / '.join(str(m) for m, _, _ in e4)} MACS")
        with_area = [(m, e, a) for m, e, a in e4 if a is not None]
        if with_area:
            text += (f", where the synthesized area falls by {' / '.join(f'{a:.1f}' for _, _, a in with_area)} % "
                     f"(the paper's area savings: {min(paper.values()):.0f}-{max(paper.values()):.0f} %, "
                     "which it does not measure in energy)")
            more = [m for m, e, a in with_area if e > a]
            text += (": energy saves more than area for " + ", ".join(map(str, more)) + " MACS"
                     if more else ": energy saves less than area at every MACS") + ""
        out.append(text + ".")
    v4 = [(c["energy_k4_pct"], c["vectorless_k4_pct"]) for c in ratios
          if c["energy_k4_pct"] is not None and c["vectorless_k4_pct"] is not None]
    if v4:
        gap = max(abs(a - b) for a, b in v4)
        out.append(f"- **Control.** The vectorless figure (every net at one activity, no stimulus) gives "
                   f"savings within {gap:.1f} percentage points of the simulated ones: "
                   + ("the ratio comes mostly from the cells that k removes, not from this stimulus"
                      if gap <= CONTROL_POINTS else "the stimulus moves the ratio, so read it for this layer only")
                   + ". Absolute pJ depend on the stimulus; compare ratios.")
    shares = [(macs, r32["rescaler_share"], r4["rescaler_share"], r4["cycles_per_output"])
              for macs, macs_rows in rows.items()
              for r32 in macs_rows if r32["k"] == BASE_K for r4 in macs_rows if r4["k"] == 4]
    if shares:
        out.append("- **The rescaler's share.** The rescaler draws "
                   + ", ".join(f"{100 * s:.0f} %" for _, s, _, _ in shares) + " of the energy per output at k=32 and "
                   + ", ".join(f"{100 * s:.0f} %" for _, _, s, _ in shares)
                   + f" at k=4 for {' / '.join(str(m) for m, *_ in shares)} MACS, whose layer takes "
                   + " / ".join(f"{c:g}" for *_, c in shares) + " cycles (beats) per output; how the share "
                   "depends on the beats is the subject of the last part of this section.")
    at4 = [(macs, r["pj"], r["cycles_per_output"]) for macs, macs_rows in sorted(rows.items())
           for r in macs_rows if r["k"] == 4]
    if len(at4) > 1:
        out.append("- **Energy against MACS.** At k=4 an output costs "
                   + " / ".join(f"{pj:,.0f}" for _, pj, _ in at4) + f" pJ with {' / '.join(str(m) for m, _, _ in at4)} "
                   "MACS, whose schedules of the same layer take " + " / ".join(f"{c:g}" for *_, c in at4)
                   + " beats per output: the multiply-accumulate work per output is the same, while the rescaler, "
                     "the accumulator and the registers' clock pins draw energy on every beat.")
    walls = [r["wall_s"] for macs_rows in rows.values() for r in macs_rows if r["wall_s"] is not None]
    if walls:
        out.append(f"- **Wall time** of the energy measurement (netlist, gate-level simulation, OpenSTA): "
                   f"{min(walls):,.0f}-{max(walls):,.0f} s per point, {sum(walls) / 60:,.0f} min over the "
                   f"{len(walls)} points, as recorded when each was measured.")
    leak = [r["leakage"] / r["pj"] for macs_rows in rows.values() for r in macs_rows if r["pj"]]
    if leak:
        out.append(f"- **Leakage** is at most {100 * max(leak):.3f} % of the energy per output at any point: "
                   "in this library energy is switching and internal (cell) power.")
    return out


def _layout_part(points, label):
    lines = ["### Placed and routed", ""]
    if not points.layout:
        return lines + ["No layout point is published yet."]
    lines.append(f"From `{label}/synth/k<k>_macs<N>_layout.json` (`make layout-sweep PUBLISH=1`): qflow "
                 "(graywolf, qrouter) on OSU 0.18 um, OpenSTA with qrouter's parasitics. Synthesized: the "
                 "liberty flow's netlist; pre-route: after qflow's buffering and resizing, without wires; "
                 "post-route: with the routed wires' RC (ideal clock, and the clock tree propagated).")
    lines += ["", "| k | MACS | core area (10^3 um^2) | die area (10^3 um^2) | cell area synth. -> placed (10^3 um^2) "
                  "| cells synth. -> placed | gates buffered or resized | utilization | wire length (mm) | delay synth. (ns) | pre-route (ns) "
                  "| post-route (ns) | post-route, clock tree (ns) | unrouted | DRC | wall time (s) |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (k, macs), report in sorted(points.layout.items(), key=lambda item: (item[0][1], item[0][0])):
        a, d = report["layout"], _delays(report)
        wall = a["wall_s"]
        lines.append(" | ".join([
            f"| {k}", str(macs), f"{a['core_area_um2'] / 1e3:,.1f}", f"{a['die_area_um2'] / 1e3:,.1f}",
            f"{a['synthesized_cell_area_um2'] / 1e3:,.1f} -> {a['cell_area_um2'] / 1e3:,.1f}",
            f"{report['cells']:,} -> {a['cells']:,}", f"{a['buffers_added']:,}", f"{a['utilization']:.3f}", f"{a['wire_length_um'] / 1e3:,.1f}",
            f"{d['synthesized']:.2f}", f"{d['pre_route']:.2f}", f"{d['post_route']:.2f}",
            "-" if d["propagated"] is None else f"{d['propagated']:.2f}",
            str(a["unrouted_nets"]), str(a["drc_errors"]),
            f"{report['runtime_s']:,.0f} (place {wall.get('place', 0):,.0f}, route {wall.get('route', 0):,.0f})"])
            + " |")
    ratios = layout_ratios(points)
    if ratios:
        lines += ["", "| MACS | k=32 -> | area -% synthesized | area -% placed cells | area -% routed core "
                      "| paper area -% | delay -% synthesized | delay -% post-route | paper delay -% |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for c in ratios:
            lines.append(" | ".join([
                f"| {c['macs']}", str(c["k"]), _pct(c["area_synthesized_pct"]), _pct(c["area_cells_pct"]),
                _pct(c["area_core_pct"]),
                _pct(c["paper_area_pct"]) if c["k"] == 4 else "~half of k=4's",
                _pct(c["delay_synthesized_pct"]), _pct(c["delay_post_route_pct"]),
                f"~{PAPER['delay_reduction_k4_pct']:.0f} %" if c["k"] == 4 else "-"]) + " |")
    lines += [""] + _layout_discussion(points, ratios)
    return lines


def _layout_discussion(points, ratios):
    items = sorted(points.layout.items(), key=lambda item: (item[0][1], item[0][0]))
    out = []
    core = [(k, a["layout"]["core_area_um2"] / a["layout"]["synthesized_cell_area_um2"],
             100 * (a["layout"]["cell_area_um2"] / a["layout"]["synthesized_cell_area_um2"] - 1),
             (a["layout"]["cells"] - a["cells"], a["layout"]["buffers_added"]), a["layout"]["target_utilization"])
            for (k, _), a in items]
    out.append("- **Area.** The routed core is "
               + ", ".join(f"{r:.2f}x" for _, r, _, _, _ in core) + " the synthesized cell area at k = "
               + ", ".join(str(k) for k, *_ in core)
               + f": the rows are filled to a target utilization of {_range([u for *_, u in core], '{:g}')} "
                 f"(1/utilization = {_range([1 / u for *_, u in core], '{:.2f}')}x), and qflow's fanout "
                 "buffering and gate resizing (" + ", ".join(f"{g:,}" for _, _, _, (_, g), _ in core)
               + " gates) add " + ", ".join(f"{n:+,} cells / {p:+.1f} % cell area" for _, _, p, (n, _), _ in core)
               + ".")
    for c in ratios:
        gap = round(c["area_core_pct"] - c["area_synthesized_pct"], 1) + 0.0  # no "-0.0"
        out.append(f"- **Area saving after layout ({c['macs']} MACS, k=32 -> {c['k']}).** "
                   f"{c['area_core_pct']:.1f} % of the routed core against {c['area_synthesized_pct']:.1f} % "
                   f"synthesized ({gap:+.1f} points)"
                   + (f"; the paper's synthesized figure is {c['paper_area_pct']:.1f} %" if c["paper_area_pct"] else "")
                   + ". At a fixed utilization the core follows the placed cell area "
                   f"({c['area_cells_pct']:.1f} % saving), so the saving moves only as much as the buffering "
                   "differs between the two designs.")
    for (k, macs), report in items:
        d = _delays(report)
        wires = d["post_route"] - d["pre_route"]
        text = (f"- **Delay, k = {k} ({macs} MACS).** Synthesized {d['synthesized']:.2f} ns; qflow's buffering "
                f"and resizing make it {d['pre_route']:.2f} ns before wires "
                f"({100 * (d['pre_route'] / d['synthesized'] - 1):+.1f} %); the routed wires' RC add "
                f"{wires:.2f} ns ({100 * wires / d['pre_route']:+.1f} %, "
                f"{report['layout']['wire_length_um'] / 1e3:,.1f} mm of wire)")
        if d["propagated"] is not None:
            text += f"; the clock tree (propagated clock) changes it by {d['propagated'] - d['post_route']:+.2f} ns"
        change = 100 * (d["post_route"] / d["synthesized"] - 1)
        out.append(text + f": post-route {d['post_route']:.2f} ns, {change:+.1f} % against synthesis.")
    for c in ratios:
        small, large = points.layout[(c["k"], c["macs"])], points.layout[(BASE_K, c["macs"])]
        wires = [_delays(r)["post_route"] - _delays(r)["pre_route"] for r in (large, small)]
        wider = c["delay_post_route_pct"] > c["delay_synthesized_pct"]
        out.append(f"- **Delay saving after layout ({c['macs']} MACS, k=32 -> {c['k']}).** "
                   f"{c['delay_post_route_pct']:.1f} % post-route against {c['delay_synthesized_pct']:.1f} % "
                   f"synthesized (the paper: ~{PAPER['delay_reduction_k4_pct']:.0f} % at k=4): the wires add "
                   f"{wires[0]:.2f} ns at k=32 ({large['layout']['wire_length_um'] / 1e3:,.1f} mm of wire, "
                   f"die {large['layout']['die_area_um2'] / 1e3:,.0f} 10^3 um^2) and {wires[1]:.2f} ns at "
                   f"k={c['k']} ({small['layout']['wire_length_um'] / 1e3:,.1f} mm, die "
                   f"{small['layout']['die_area_um2'] / 1e3:,.0f} 10^3 um^2), so layout "
                   + ("widens" if wider else "narrows") + " the saving.")
    drc = sum(a["layout"]["drc_errors"] for _, a in items)
    unrouted = sum(a["layout"]["unrouted_nets"] for _, a in items)
    out.append(f"- **Routing.** Unrouted nets: {unrouted}; DRC errors: {drc} over the {len(items)} layouts ("
               + ", ".join(f"{a['layout']['drc_errors']} at k={k}" for (k, _), a in items)
               + "; magic's count after qflow migrate); antenna rules are not checked (the OSU 0.18 um "
               "tech files define no antenna cell). Wall time per layout: "
               + ", ".join(f"k={k}: {a['runtime_s'] / 60:,.0f} min" for (k, _), a in items) + ".")
    return out


def _beats_part(points, label):
    lines = ["### The rescaler against the MACs per output", ""]
    if points.beats is None:
        return lines + [f"`{label}/energy_beats.json` is not published: run `make energy-beats PUBLISH=1`."]
    rows = sorted(points.beats, key=lambda r: (r["k"], r["macs"], r["beats_per_output"]))
    stimulus = rows[0].get("stimulus", "")
    lines.append(f"From `{label}/energy_beats.json` (`make energy-beats PUBLISH=1`): a 1x1 convolution of "
                 "B beats per output (channel length L = B x MACS input channels; for a 3x3 convolution "
                 "L = 9 x input channels), e.g. " + f"\"{stimulus}\". The rescaler's output is used once per "
                 "output, the MACs work once per beat.")
    lines += ["", "| k | MACS | beats B | L | pJ/output | rescaler pJ | MACs and rest pJ | rescaler share |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['k']} | {r['macs']} | {r['beats_per_output']} | {r['beats_per_output'] * r['macs']} "
                     f"| {r['total_pj']:,.1f} | {r['rescaler_pj']:,.1f} | {r['macs_pj']:,.1f} "
                     f"| {_pct(100 * r['rescaler_pj'] / r['total_pj'] if r['total_pj'] else 0.0)} |")
    fits = beats_fit(rows)
    if fits:
        lines += ["", "Fitted lines in B (pJ): energy per output = per output + per beat x B.", "",
                  "| k | MACS | rescaler per output | rescaler per beat | rest per output | rest per beat "
                  "| worst misfit | share as B grows | "
                  + " | ".join(f"B for share < {100 * t:g} %" for t in BEATS_THRESHOLDS)
                  + " | " + " | ".join(f"same, input held (< {100 * t:g} %)" for t in BEATS_THRESHOLDS) + " |",
                  "|" + "---:|" * (8 + 2 * len(BEATS_THRESHOLDS))]
        for f in fits:
            never = lambda b: "never" if b is None else f"{b} (L = {b * f['macs']})"  # noqa: E731
            lines.append(" | ".join([
                f"| {f['k']}", str(f["macs"]), f"{f['rescaler_per_output']:,.1f}", f"{f['rescaler_per_beat']:,.1f}",
                f"{f['rest_per_output']:,.1f}", f"{f['rest_per_beat']:,.1f}", _pct(100 * f["residual"]),
                _pct(100 * f["share_limit"])]
                + [never(f["beats_below"][t]) for t in BEATS_THRESHOLDS]
                + [never(f["beats_below_held"][t]) for t in BEATS_THRESHOLDS]) + " |")
        lines += [""] + _beats_discussion(fits) + [""] + _layer_table(fits)
    return lines


#: Layers of common int8 CNNs, by their dot-product length L (one output = L MACs).
EXAMPLE_LAYERS = (("depthwise 3x3", 9), ("1x1, 64 channels in", 64), ("3x3, 8 channels in", 72),
                  ("1x1, 512 channels in", 512), ("3x3, 64 channels in", 576), ("3x3, 256 channels in", 2304))


def layer_shares(fit, length):
    """``(B, share as built, share with the input held)`` of the rescaler for a layer
    whose outputs are dot products of ``length`` terms on ``fit['macs']`` lanes,
    from the lines of :func:`beats_fit` (the held share is None without a B = 1 row)."""
    beats = math.ceil(length / fit["macs"])
    rescaler = fit["rescaler_per_output"] + fit["rescaler_per_beat"] * beats
    rest = fit["rest_per_output"] + fit["rest_per_beat"] * beats
    held = None if fit["rescaler_once"] is None else fit["rescaler_once"] / (fit["rescaler_once"] + rest)
    return beats, rescaler / (rescaler + rest), held


def _layer_table(fits):
    span = max(b for f in fits for b in f["beats"])
    lines = ["The rescaler's share for layers of common int8 CNNs (from the fitted lines; B above "
             f"{span} is extrapolated):", "",
             "| layer | L | " + " | ".join(f"B at {f['macs']} MACS, k={f['k']} | as built | input held"
                                          for f in fits) + " |",
             "|---|---:|" + "---:|---:|---:|" * len(fits)]
    for name, length in EXAMPLE_LAYERS:
        cells = []
        for f in fits:
            beats, built, held = layer_shares(f, length)
            cells += [str(beats), _pct(100 * built), "-" if held is None else _pct(100 * held)]
        lines.append(f"| {name} | {length} | " + " | ".join(cells) + " |")
    return lines


def _beats_discussion(fits):
    out = []
    span = sorted({b for f in fits for b in f["beats"]})
    for f in fits:
        grows = f["rescaler_per_beat"] > 0.1 * max(f["rescaler_once"] or 0.0, f["rescaler_per_output"], 1e-9)
        text = (f"- **k = {f['k']}, {f['macs']} MACS.** The rescaler's share goes from "
                f"{_pct(100 * f['shares'][0][1])} at B = {f['shares'][0][0]} to {_pct(100 * f['shares'][-1][1])} "
                f"at B = {f['shares'][-1][0]}")
        if grows:
            text += (f", not towards zero: its energy per output grows by {f['rescaler_per_beat']:,.1f} pJ per beat "
                     f"(the MACs and the rest by {f['rest_per_beat']:,.1f}), so its share tends to "
                     f"{_pct(100 * f['share_limit'])}. The engine feeds the running accumulator to the "
                     "rescaler on every beat and the rescaler's registers load every cycle (only its valid "
                     "flag marks the last beat's result), so its logic switches on every beat, not once per "
                     "output.")
        else:
            text += f"; it tends to {_pct(100 * f['share_limit'])} as B grows."
        below = [f"{100 * t:g} % from B = {f['beats_below'][t]} (L = {f['beats_below'][t] * f['macs']})"
                 for t in BEATS_THRESHOLDS if f["beats_below"][t] is not None]
        never = [f"{100 * t:g} %" for t in BEATS_THRESHOLDS if f["beats_below"][t] is None]
        text += (" As built, the share falls below " + ", ".join(below) if below else " As built") + (
            (";" if below else "") + f" it never falls below {' or '.join(never)}" if never else "") + "."
        if f["rescaler_once"] is not None:
            held = [f"{100 * t:g} % from B = {f['beats_below_held'][t]} (L = {f['beats_below_held'][t] * f['macs']})"
                    for t in BEATS_THRESHOLDS if f["beats_below_held"][t] is not None]
            text += (f" With its input held between outputs (not built; its energy is then the B = 1 figure, "
                     f"{f['rescaler_once']:,.1f} pJ per output) it would fall below " + ", ".join(held) + "."
                     if held else "")
        out.append(text)
    lengths = sorted(length for _, length in EXAMPLE_LAYERS)
    shortest = all(layer_shares(f, lengths[0])[1] > layer_shares(f, lengths[-1])[1] for f in fits)
    out.append(f"- **Range.** Measured for B = {', '.join(map(str, span))}; the lines fit every point within "
               f"{_pct(100 * max(f['residual'] for f in fits))}, and B beyond {max(span)} is their "
               "extrapolation. The rescaler's energy matters wherever its share is above the threshold a "
               "designer accepts; the table below reads the lines at the dot-product lengths of common layers"
               + (": the shortest (depthwise convolutions) are where it matters most." if shortest else "."))
    return out


def summary(points, rows, macs=8):
    """One paragraph at ``macs`` MACS: energy per output and post-route area and delay
    at k = 4, 8 and 32, their ratios to k = 32 and the flows' wall times (empty when
    no such point is published)."""
    ks = (4, 8, BASE_K)
    energy = {r["k"]: r for r in rows.get(macs, []) if r["k"] in ks}
    layout = {k: points.layout[(k, macs)] for k in ks if (k, macs) in points.layout}
    parts = []
    if energy:
        parts.append("energy per output " + ", ".join(
            f"{r['pj']:,.1f} pJ at k={k}" + (f" ({r['energy_vs_k32']:.3f} of k=32)" if k != BASE_K and
                                             "energy_vs_k32" in r else "") for k, r in sorted(energy.items())))
    if layout:
        base = layout.get(BASE_K)
        def rel(value, key):
            return "" if base is None else f" ({value / key(base):.3f} of k=32)"
        core = lambda r: r["layout"]["core_area_um2"]  # noqa: E731
        delay = lambda r: r["layout"]["post_route"]["delay_ns"]  # noqa: E731
        parts.append("post-route core area " + ", ".join(
            f"{core(r) / 1e3:,.1f} 10^3 um^2 at k={k}" + (rel(core(r), core) if k != BASE_K else "")
            for k, r in sorted(layout.items())))
        parts.append("post-route critical path " + ", ".join(
            f"{delay(r):.2f} ns at k={k}" + (rel(delay(r), delay) if k != BASE_K else "")
            for k, r in sorted(layout.items())))
    walls = []
    if any(r["wall_s"] is not None for r in energy.values()):
        walls.append("energy " + ", ".join(f"{r['wall_s']:,.0f} s at k={k}" for k, r in sorted(energy.items())
                                           if r["wall_s"] is not None))
    if layout:
        walls.append("layout " + ", ".join(f"{r['runtime_s'] / 60:,.0f} min at k={k}"
                                           for k, r in sorted(layout.items())))
    if not parts:
        return []
    return [f"**At {macs} MACS:** " + "; ".join(parts) + "." + (f" Wall time: {'; '.join(walls)}." if walls else "")]


def render(points, *, label, area_ratios=None, figures=(), figures_dir="figures", captions=None):
    """The section's lines (a ``##`` heading and its subsections).

    ``label`` is how the reports directory is cited (e.g. ``reports``),
    ``area_ratios`` ``{(macs, k): area_vs_k32}`` of the liberty sweep, ``figures``
    the names drawn by :func:`costmodel.silicon_plots.draw_all` (in ``figures_dir``,
    relative to the report) with their ``captions``.
    """
    rows = energy_rows(points, area_ratios)
    lines = ["## Energy per output and placed-and-routed silicon", "",
             f"Read from the point reports published in `{label}/` (the report never runs the energy or "
             "layout flows). Energy grid: k in {" + ", ".join(map(str, ENERGY_K)) + "} x MACS in {"
             + ", ".join(map(str, ENERGY_MACS)) + f"}}, {len(points.energy)} of "
             f"{len(points.energy) + len(points.missing_energy)} points published; layout grid (smaller, "
             "each point takes tens of minutes): k in {" + ", ".join(map(str, LAYOUT_K)) + "} x MACS in {"
             + ", ".join(map(str, LAYOUT_MACS)) + f"}}, {len(points.layout)} of "
             f"{len(points.layout) + len(points.missing_layout)} published."]
    if points.missing_energy or points.missing_layout or points.beats is None:
        lines += ["", "**Missing points.**", ""]
        if points.missing_energy:
            lines.append(f"- energy: {_grid_list(points.missing_energy)}; produce them with "
                         "`make energy-sweep PUBLISH=1` (cached points are instant), or one with "
                         "`make energy K=<k> MACS=<N> PUBLISH=1`.")
        if points.missing_layout:
            lines.append(f"- layout: {_grid_list(points.missing_layout)}; produce them with "
                         "`make layout-sweep PUBLISH=1`, or one with `make synth K=<k> MACS=<N> FLOW=layout "
                         "PUBLISH=1`.")
        if points.beats is None:
            lines.append("- energy against beats: `make energy-beats PUBLISH=1`.")
        lines.append("")
        lines.append("Then `make report` regenerates this file.")
    head = summary(points, rows)
    lines += ([""] + head if head else []) + [""] + _energy_part(points, rows, label)
    lines += [""] + _layout_part(points, label)
    lines += [""] + _beats_part(points, label)
    if figures:
        lines += ["", "### Figures", ""]
        for name in figures:
            lines += [f"![{name}]({Path(figures_dir).as_posix()}/{name}.png)", "",
                      f"*{(captions or {}).get(name, name)}*", ""]
    return lines
