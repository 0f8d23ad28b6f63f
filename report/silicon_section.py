"""Energy per output and placed-and-routed silicon: the REPORT.md section.

Written from what ``make energy-sweep PUBLISH=1``, ``make layout-sweep PUBLISH=1``
and ``make energy-beats PUBLISH=1`` published (:func:`report.silicon_numbers.load`),
never by running them. A grid point that is not published is listed with the
command that produces it, and the rest is reported. Every sentence is computed
from those files; nothing measured is typed in. The figures are drawn by
:mod:`report.silicon_figures`.
"""

from pathlib import Path

from costmodel.published import BASE_K, PAPER
from toolkit.markdown import num, pct, share, table

from . import silicon_figures
from .figure_style import figure_link
from .isolation_section import isolation_part
from .skew_section import skew_part
from .silicon_numbers import (BEATS_THRESHOLDS, ENERGY_K, ENERGY_MACS, EXAMPLE_LAYERS, LAYOUT_K, LAYOUT_MACS,
                              beats_fit, delays, energy_ratios, energy_rows, layer_shares, layout_ratios, load)

__all__ = ["CAPTIONS", "EXAMPLE_LAYERS", "summary", "SiliconSection"]

#: The report's caption of each figure of :mod:`report.silicon_figures`.
CAPTIONS = {
    "energy_vs_k": "Energy per output against k (gate-level activity of the same layer for every k, OSU "
                   "0.18 um), absolute and relative to k=32; dashed: the synthesized area relative to "
                   "k=32, same colour per MACS.",
    "delay_pre_post_route": "Critical path per k of the placed-and-routed engines: synthesized, after "
                            "qflow's buffering (pre-route), with the routed wires' parasitics (post-route), "
                            "and with the clock tree propagated.",
    "rescaler_share_isolation": "The rescaler's share of the energy per output against the beats per "
                                "output (a 1x1 convolution at 8 MACS, gate-level activity, OSU 0.18 um): "
                                "solid as built (the rescaler reads the running accumulator), dashed with "
                                "operand isolation (it switches once per output); grey: 10 %.",
}
#: Percentage points within which the vectorless saving counts as confirming the simulated one.
CONTROL_POINTS = 5.0


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
        lines += ["", f"#### Energy per output, {macs} MACS", ""]
        lines += table(["k", "pJ/output", "internal", "switching", "leakage", "rescaler pJ", "rescaler share",
                        "energy vs k=32", "area vs k=32 (synthesis)"], (
            [r["k"], num(r["pj"], 1), num(r["internal"], 1), num(r["switching"], 1), f"{r['leakage']:.3f}",
             num(r["rescaler_pj"], 1), pct(100 * r["rescaler_share"]),
             f"{r['energy_vs_k32']:.3f}" if "energy_vs_k32" in r else "-",
             f"{r['area_vs_k32']:.3f}" if "area_vs_k32" in r else "-"] for r in macs_rows))
    ratios = energy_ratios(rows)
    if ratios:
        lines += ["", "#### Energy against area and the paper", ""]
        lines += table(["MACS", "energy -% k=32->4", "vectorless -% k=32->4", "area -% k=32->4 (synthesis)",
                        "paper area -% k=32->4", "energy -% k=32->8", "vectorless -% k=32->8",
                        "area -% k=32->8 (synthesis)"], (
            [c["macs"]] + [pct(c[key]) for key in ("energy_k4_pct", "vectorless_k4_pct", "area_k4_pct",
                                                   "paper_area_k4_pct", "energy_k8_pct", "vectorless_k8_pct",
                                                   "area_k8_pct")] for c in ratios))
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
    cells = []
    for (k, macs), report in sorted(points.layout.items(), key=lambda item: (item[0][1], item[0][0])):
        a, d = report["layout"], delays(report)
        wall = a["wall_s"]
        cells.append([
            k, macs, num(a["core_area_um2"] / 1e3, 1), num(a["die_area_um2"] / 1e3, 1),
            f"{num(a['synthesized_cell_area_um2'] / 1e3, 1)} -> {num(a['cell_area_um2'] / 1e3, 1)}",
            f"{report['cells']:,} -> {a['cells']:,}", f"{a['buffers_added']:,}", f"{a['utilization']:.3f}",
            num(a["wire_length_um"] / 1e3, 1), f"{d['synthesized']:.2f}", f"{d['pre_route']:.2f}",
            f"{d['post_route']:.2f}", "-" if d["propagated"] is None else f"{d['propagated']:.2f}",
            a["unrouted_nets"], a["drc_errors"],
            f"{report['runtime_s']:,.0f} (place {wall.get('place', 0):,.0f}, route {wall.get('route', 0):,.0f})"])
    lines += [""] + table(["k", "MACS", "core area (10^3 um^2)", "die area (10^3 um^2)",
                           "cell area synth. -> placed (10^3 um^2)", "cells synth. -> placed",
                           "gates buffered or resized", "utilization", "wire length (mm)", "delay synth. (ns)",
                           "pre-route (ns)", "post-route (ns)", "post-route, clock tree (ns)", "unrouted", "DRC",
                           "wall time (s)"], cells)
    ratios = layout_ratios(points)
    if ratios:
        lines += [""] + table(["MACS", "k=32 ->", "area -% synthesized", "area -% placed cells",
                               "area -% routed core", "paper area -%", "delay -% synthesized",
                               "delay -% post-route", "paper delay -%"], (
            [c["macs"], c["k"], pct(c["area_synthesized_pct"]), pct(c["area_cells_pct"]), pct(c["area_core_pct"]),
             pct(c["paper_area_pct"]) if c["k"] == 4 else "~half of k=4's",
             pct(c["delay_synthesized_pct"]), pct(c["delay_post_route_pct"]),
             f"~{PAPER['delay_reduction_k4_pct']:.0f} %" if c["k"] == 4 else "-"] for c in ratios))
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
        d = delays(report)
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
        wires = [delays(r)["post_route"] - delays(r)["pre_route"] for r in (large, small)]
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
    lines += [""] + table(["k", "MACS", "beats B", "L", "pJ/output", "rescaler pJ", "MACs and rest pJ",
                           "rescaler share"], (
        [r["k"], r["macs"], r["beats_per_output"], r["beats_per_output"] * r["macs"], num(r["total_pj"], 1),
         num(r["rescaler_pj"], 1), num(r["macs_pj"], 1), share(r["rescaler_pj"], r["total_pj"])] for r in rows))
    fits = beats_fit(rows)
    if fits:
        def beats(b, fit):
            return "never" if b is None else f"{b} (L = {b * fit['macs']})"
        lines += ["", "Fitted lines in B (pJ): energy per output = per output + per beat x B.", ""]
        lines += table(["k", "MACS", "rescaler per output", "rescaler per beat", "rest per output", "rest per beat",
                        "worst misfit", "share as B grows"]
                       + [f"B for share < {100 * t:g} %" for t in BEATS_THRESHOLDS]
                       + [f"same, input held (< {100 * t:g} %)" for t in BEATS_THRESHOLDS], (
            [f["k"], f["macs"], num(f["rescaler_per_output"], 1), num(f["rescaler_per_beat"], 1),
             num(f["rest_per_output"], 1), num(f["rest_per_beat"], 1), pct(100 * f["residual"]),
             pct(100 * f["share_limit"])]
            + [beats(f["beats_below"][t], f) for t in BEATS_THRESHOLDS]
            + [beats(f["beats_below_held"][t], f) for t in BEATS_THRESHOLDS] for f in fits))
        lines += [""] + _beats_discussion(fits) + [""] + _layer_table(fits)
    return lines


def _layer_table(fits):
    span = max(b for f in fits for b in f["beats"])
    rows = []
    for name, length in EXAMPLE_LAYERS:
        cells = [name, length]
        for f in fits:
            beats, built, held = layer_shares(f, length)
            cells += [beats, pct(100 * built), "-" if held is None else pct(100 * held)]
        rows.append(cells)
    return ["The rescaler's share for layers of common int8 CNNs (from the fitted lines; B above "
            f"{span} is extrapolated):", ""] + table(
        ["layer", "L"] + [cell for f in fits for cell in (f"B at {f['macs']} MACS, k={f['k']}", "as built",
                                                          "input held")], rows, align="lr" + "rrr" * len(fits))


def _beats_discussion(fits):
    out = []
    span = sorted({b for f in fits for b in f["beats"]})
    for f in fits:
        grows = f["rescaler_per_beat"] > 0.1 * max(f["rescaler_once"] or 0.0, f["rescaler_per_output"], 1e-9)
        text = (f"- **k = {f['k']}, {f['macs']} MACS.** The rescaler's share goes from "
                f"{pct(100 * f['shares'][0][1])} at B = {f['shares'][0][0]} to {pct(100 * f['shares'][-1][1])} "
                f"at B = {f['shares'][-1][0]}")
        if grows:
            text += (f", not towards zero: its energy per output grows by {f['rescaler_per_beat']:,.1f} pJ per beat "
                     f"(the MACs and the rest by {f['rest_per_beat']:,.1f}), so its share tends to "
                     f"{pct(100 * f['share_limit'])}. The engine feeds the running accumulator to the "
                     "rescaler on every beat and the rescaler's registers load every cycle (only its valid "
                     "flag marks the last beat's result), so its logic switches on every beat, not once per "
                     "output.")
        else:
            text += f"; it tends to {pct(100 * f['share_limit'])} as B grows."
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
               f"{pct(100 * max(f['residual'] for f in fits))}, and B beyond {max(span)} is their "
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



class SiliconSection:
    """The section (a ``##`` heading and its subsections) of the published points in
    :class:`report.silicon_numbers.Points`.

    ``label`` is how the reports directory is cited (default: its path),
    ``area_ratios`` ``{(macs, k): area_vs_k32}`` of the liberty sweep
    (:func:`report.sweep_rows.area_ratios`); the figures are drawn into ``figures_dir``.
    """

    def __init__(self, points, figures_dir="figures", *, label=None, area_ratios=None):
        self.points, self.figures_dir, self.area_ratios = points, Path(figures_dir), area_ratios
        self.label = label or Path(points.directory).as_posix()
        self.figures = tuple(silicon_figures.drawable(points))
        missing = len(points.missing_energy) + len(points.missing_layout) + (points.beats is None)
        self.about = (f"energy/layout section from {points.directory}: {len(points.energy)} energy and "
                      f"{len(points.layout)} layout points"
                      + (f", {missing} missing (listed in the report)" if missing else ""))

    @classmethod
    def load(cls, directory, figures_dir="figures", **options):
        """The section of the points published in ``directory`` (:func:`report.silicon_numbers.load`)."""
        return cls(load(directory), figures_dir, **options)

    def draw(self):
        return silicon_figures.draw(self.points, self.figures_dir, area_ratios=self.area_ratios)

    def render(self, report_dir="."):
        points, label = self.points, self.label
        rows = energy_rows(points, self.area_ratios)
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
        lines += [""] + isolation_part(points, rows, label)
        lines += [""] + skew_part(points, label)
        if self.figures:
            link = figure_link(self.figures_dir, report_dir)
            lines += ["", "### Figures", ""]
            for name in self.figures:
                lines += [f"![{name}]({link}/{name}.png)", "", f"*{CAPTIONS[name]}*", ""]
        return lines
