"""The numbers of the energy and layout section, from the published point reports.

``make energy-sweep PUBLISH=1``, ``make layout-sweep PUBLISH=1`` and
``make energy-beats PUBLISH=1`` publish, and :func:`load` reads, never running
them (they take minutes to an hour per point):

* ``<dir>/synth/<name>.json`` with an ``energy`` object (``synth --energy``),
  one per ``(k, MACS)`` of :data:`ENERGY_K` x :data:`ENERGY_MACS`;
* ``<dir>/synth/<name>_layout.json`` (``--flow layout``), one per ``(k, MACS)``
  of :data:`LAYOUT_K` x :data:`LAYOUT_MACS`;
* ``<dir>/energy_beats.json`` (rescaler vs MACs against beats per output);
* with operand isolation (``OPERAND_ISOLATION=1``): ``<dir>/energy_beats_isolated.json``
  and the point reports ``synth/<name>_operand_isolation1.json`` of
  :data:`ISOLATED_K` x :data:`ENERGY_MACS`;
* the arrays of :data:`SKEW_ENGINES` engines of :data:`SKEW_MACS` MACs at each k of
  :data:`SKEW_K`, aligned and pre-skewed (``make energy ENGINES=E [PRE_SKEW=1]``):
  ``synth/k<k>_macs8_engines<E>[_pre_skew1].json``.

A point whose file is absent (or a liberty report without an ``energy`` object)
is **missing**, to be listed with the command that produces it. A file that is
there but damaged is a ValueError naming the file and the command that rewrites
it (:func:`costmodel.published.load_point_report`), so a committed point never
silently drops out of the study. The rest are the ratios, fits and shares the
section states (:mod:`report.silicon_section`).
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

from costmodel.published import (BASE_K, BEATS_FILES, PAPER, load_energy_beats, load_point_report,
                                 nonnegative_number)
from hw.config import DatapathConfig

__all__ = ["ENERGY_K", "ENERGY_MACS", "ISOLATED_K", "SKEW_K", "SKEW_ENGINES", "SKEW_MACS", "array_command", "LAYOUT_K", "LAYOUT_MACS", "BEATS_THRESHOLDS", "EXAMPLE_LAYERS",
           "Points", "load", "energy_rows", "energy_ratios", "delays", "layout_ratios", "beats_fit", "first_below", "layer_shares"]

#: The grids of ``make energy-sweep`` and ``make layout-sweep`` (the Makefile's defaults).
ENERGY_K = (3, 4, 6, 8, 16, 32)
ENERGY_MACS = (4, 8, 16)
LAYOUT_K = (4, 8, 32)
LAYOUT_MACS = (8,)
#: The k of the isolated engines' energy points (``make energy-sweep ENERGY_K=4,8,32
#: OPERAND_ISOLATION=1``), at every MACS of :data:`ENERGY_MACS`.
ISOLATED_K = (4, 8, 32)
#: The arrays of the pre-skew comparison: k, engines E and MACS, each aligned and pre-skewed.
SKEW_K = (4, 32)
SKEW_ENGINES = (2, 4)
SKEW_MACS = 8
#: Rescaler shares of the energy per output the beats analysis solves for.
BEATS_THRESHOLDS = (0.10, 0.01)
#: Layers of common int8 CNNs, by their dot-product length L (one output = L MACs).
EXAMPLE_LAYERS = (("depthwise 3x3", 9), ("1x1, 64 channels in", 64), ("3x3, 8 channels in", 72),
                  ("1x1, 512 channels in", 512), ("3x3, 64 channels in", 576), ("3x3, 256 channels in", 2304))


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
    #: The same for the engine with operand isolation: ``isolated`` maps ``(k, macs)``
    #: to its energy point report, ``beats_isolated`` its energy-beats rows.
    isolated: dict = field(default_factory=dict)
    beats_isolated: list = None
    missing_isolated: list = field(default_factory=list)
    #: The arrays: ``arrays`` maps ``(k, engines, pre_skew)`` to the energy point report.
    arrays: dict = field(default_factory=dict)
    missing_arrays: list = field(default_factory=list)


def array_command(k, engines, pre_skew):
    """The command that publishes the array point ``(k, engines, pre_skew)``."""
    return f"make energy K={k} MACS={SKEW_MACS} ENGINES={engines}" + " PRE_SKEW=1" * pre_skew + " PUBLISH=1"


def load(directory, *, energy_k=ENERGY_K, energy_macs=ENERGY_MACS, layout_k=LAYOUT_K,
         layout_macs=LAYOUT_MACS, isolated_k=ISOLATED_K):
    """The :class:`Points` of ``directory`` (e.g. ``reports``) over the two grids.

    Raises
    ------
    ValueError
        A point file or ``energy_beats.json`` that is there but damaged, with the
        file's path and the command that rewrites it.
    """
    directory = Path(directory)
    points = Points(directory)
    for ks, isolation, found, missing in ((energy_k, False, points.energy, points.missing_energy),
                                          (isolated_k, True, points.isolated, points.missing_isolated)):
        for macs in energy_macs:
            for k in ks:
                config = DatapathConfig(k=k, macs=macs, operand_isolation=isolation)
                report = load_point_report(directory / "synth" / f"{config.name}.json", k=k, macs=macs,
                                           flow="liberty", remedy=f"make energy K={k} MACS={macs}"
                                           + " OPERAND_ISOLATION=1" * isolation + " PUBLISH=1")
                if report is None or "energy" not in report:
                    missing.append((k, macs))
                else:
                    found[(k, macs)] = report
    for macs in layout_macs:
        for k in layout_k:
            report = load_point_report(directory / "synth" / f"{DatapathConfig(k=k, macs=macs).name}_layout.json",
                                       k=k, macs=macs, flow="layout",
                                       remedy=f"make synth K={k} MACS={macs} FLOW=layout PUBLISH=1")
            if report is None:
                points.missing_layout.append((k, macs))
            else:
                points.layout[(k, macs)] = report
    for k in SKEW_K:
        for engines in SKEW_ENGINES:
            for pre_skew in (False, True):
                config = DatapathConfig(k=k, macs=SKEW_MACS, engines=engines, pre_skew=pre_skew)
                report = load_point_report(directory / "synth" / f"{config.name}.json", k=k, macs=SKEW_MACS,
                                           flow="liberty", engines=engines, pre_skew=pre_skew,
                                           remedy=array_command(k, engines, pre_skew))
                if report is None or "energy" not in report:
                    points.missing_arrays.append((k, engines, pre_skew))
                else:
                    points.arrays[(k, engines, pre_skew)] = report
    points.beats = load_energy_beats(directory / BEATS_FILES[False])
    points.beats_isolated = load_energy_beats(directory / BEATS_FILES[True])
    return points


def _rescaler_pj(energy):
    return sum(g["energy_pj_per_output"] for name, g in energy.get("groups", {}).items()
               if name.startswith("rescaler"))


def energy_rows(points, area_ratios=None, *, isolated=False):
    """``{macs: [row, ...]}`` sorted by k: energy per output, its split, the rescaler's
    part and share, and the ratios to k = 32 (energy, and synthesized area from
    ``area_ratios`` ``{(macs, k): area_vs_k32}``, the liberty sweep's) where present;
    of the isolated engines' points with ``isolated``."""
    table = {}
    reports = points.isolated if isolated else points.energy
    for (k, macs), report in sorted(reports.items(), key=lambda item: (item[0][1], item[0][0])):
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


def delays(report):
    layout = report["layout"]
    return {"synthesized": layout["synthesized_delay_ns"], "pre_route": layout["pre_route"]["delay_ns"],
            "post_route": layout["post_route"]["delay_ns"],
            "propagated": layout["post_route"].get("delay_propagated_clock_ns")
            if nonnegative_number(layout["post_route"].get("delay_propagated_clock_ns")) else None}


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


def first_below(rows, threshold):
    """The smallest measured beats per output whose rescaler share is below
    ``threshold`` in energy-beats ``rows`` of one ``(k, macs)``, or None."""
    return min((r["beats_per_output"] for r in rows if r["total_pj"] and r["rescaler_pj"] / r["total_pj"] < threshold),
               default=None)


def layer_shares(fit, length):
    """``(B, share as built, share with the input held)`` of the rescaler for a layer
    whose outputs are dot products of ``length`` terms on ``fit['macs']`` lanes,
    from the lines of :func:`beats_fit` (the held share is None without a B = 1 row)."""
    beats = math.ceil(length / fit["macs"])
    rescaler = fit["rescaler_per_output"] + fit["rescaler_per_beat"] * beats
    rest = fit["rest_per_output"] + fit["rest_per_beat"] * beats
    held = None if fit["rescaler_once"] is None else fit["rescaler_once"] / (fit["rescaler_once"] + rest)
    return beats, rescaler / (rescaler + rest), held
