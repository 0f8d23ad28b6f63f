"""The FPGA part of the study: resources and post-route fmax against k, and where
the DSP tiles quantize the saving of a narrow rescaler.

On standard cells the rescaler's k x 32 multiplier shrinks with every bit of k;
on an FPGA it maps onto fixed-size DSP tiles (``MULT18X18D`` on ECP5), so its
DSP count moves in steps and the bits between two steps save only the LUT logic
around the tiles. This module turns an FPGA sweep document (the
:func:`costmodel.sweep.summary` of an ``ecp5``/``ice40`` sweep,
``reports/sweep_<flow>.json``) into tables and sentences that say so from the
data, and is the FPGA section of ``reports/REPORT.md``:

* ``python -m costmodel report`` (an ASIC flow) adds one section per FPGA sweep
  next to the sweep it reports on (``reports/sweep_ecp5.json`` beside
  ``reports/sweep_liberty.json``), read as it is (no place and route);
* ``python -m costmodel report --flow ecp5`` first places and routes the default
  grid's missing points, then writes the section alone to ``REPORT_ecp5.md``.

The figure (:func:`costmodel.plots.draw_fpga`) is drawn from :func:`rows_by_macs`.
"""

import re
from pathlib import Path

from . import report
from eda.flows import FLOWS

__all__ = ["FIGURES", "CAPTIONS", "is_fpga", "published", "controls", "resources", "seed_spread", "rows_by_macs", "tiles_per_mac",
           "dsp_steps", "section", "render"]

#: The figures of the FPGA section (:func:`costmodel.plots.draw_fpga`).
FIGURES = ("fpga_vs_k",)
CAPTIONS = {
    "fpga_vs_k": "FPGA resources and post-route fmax against k, one line per MACS: LUT4 logic cells, "
                 "DSP tiles (the steps are the rescaler's multiplier changing tile count), flip-flops, "
                 "and fmax after place and route (one run per point, fixed seed).",
}


def is_fpga(document):
    """Whether a (validated) sweep document comes from an FPGA flow."""
    return FLOWS[document["flow"]].kind == "fpga"


def published(*roots):
    """``[(flow, path)]`` of the FPGA sweeps present in the reports roots, in flow
    order: each flow's from the first root that has one."""
    found = []
    for name, flow in FLOWS.items():
        paths = [Path(root) / f"sweep_{name}.json" for root in roots]
        path = next((p for p in paths if p.exists()), None)
        if flow.kind == "fpga" and path is not None:
            found.append((name, path))
    return found


def controls(path):
    """The seed controls of the FPGA sweep at ``path``: the sweeps next to it that
    differ only by nextpnr's seed (``sweep_ecp5_seed2.json`` for ``sweep_ecp5.json``),
    in seed order."""
    path = Path(path)
    found = [(int(p.stem[len(path.stem) + 5:]), p) for p in path.parent.glob(f"{path.stem}_seed*.json")
             if p.stem[len(path.stem) + 5:].isdigit()]
    return [p for _, p in sorted(found)]


def resources(point, flow):
    """``{"luts", "ffs", "dsps", "brams", "io", "fmax_mhz"}`` of one sweep point.

    Read from the device resources of its breakdown (named by ``flow.resources``);
    fmax from the point's ``fpga`` record when it has one (it is None for a design
    without a register-to-register path), else ``1000 / delay``.
    """
    roles = dict(FLOWS[flow].resources)
    breakdown = point["breakdown"]
    fpga = point.get("fpga")
    fmax = fpga.get("fmax_mhz") if fpga else round(1000.0 / point["delay"], 3)
    return {"luts": breakdown.get(roles["lut"], point["area"]), "ffs": breakdown.get("FF", 0),
            "dsps": breakdown.get(roles["dsp"], 0), "brams": breakdown.get(roles["bram"], 0),
            "io": breakdown.get(roles["io"], 0), "fmax_mhz": fmax}


def rows_by_macs(document):
    """``{macs: [row, ...]}``, rows sorted by k: the resources, delay, LUT4 x ns and
    the ratios to k = 32 (LUT4s, DSP tiles, LUT4 x ns gain) where k = 32 is swept."""
    table = {}
    for macs, macs_rows in report.rows_by_macs(document).items():
        rows = []
        for r in macs_rows:
            row = {"k": r["k"], "delay": r["delay"], "lut_delay": r["adp"],
                   **resources(r["point"], document["flow"])}
            if "area_vs_k32" in r:
                row.update(luts_vs_k32=r["area_vs_k32"], lut_delay_gain_vs_k32=r["adp_gain_vs_k32"])
            rows.append(row)
        table[macs] = rows
    return table


def tiles_per_mac(rows):
    """DSP tiles each MAC adds, from the data: the DSP count's growth per MAC between
    every two MACS values swept at the same k, when that is one integer at every
    such k; None otherwise (one MACS value, or a growth that depends on k)."""
    by_k = {}
    for macs, macs_rows in rows.items():
        for r in macs_rows:
            by_k.setdefault(r["k"], []).append((macs, r["dsps"]))
    slopes = {(b[1] - a[1]) / (b[0] - a[0]) for pairs in by_k.values() if len(pairs) > 1
              for a, b in zip(sorted(pairs), sorted(pairs)[1:])}
    if len(slopes) == 1 and float(next(iter(slopes))).is_integer():
        return int(next(iter(slopes)))
    return None


def dsp_steps(macs_rows, key="dsps"):
    """``[(k_below, k_above, tiles_below, tiles_above)]`` where ``row[key]`` changes
    between two consecutive swept k (rows sorted by k)."""
    return [(a["k"], b["k"], a[key], b[key]) for a, b in zip(macs_rows, macs_rows[1:]) if a[key] != b[key]]


def _ks(values):
    values = list(values)
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


def _runs(pairs):
    """``[(value, [k, ...])]``: consecutive rows with the same value, in k order."""
    runs = []
    for k, value in pairs:
        if runs and runs[-1][0] == value:
            runs[-1][1].append(k)
        else:
            runs.append((value, [k]))
    return runs


def _pct(new, old):
    return 100.0 * (1 - new / old)


def _version(text):
    """The version number in a tool's version line (``Yosys 0.70 (git sha1 ...)`` -> ``0.70``)."""
    match = re.search(r"\d+\.\d+(?:\.\d+)?", str(text))
    return match.group(0) if match else str(text)


def _device(document):
    """``"85k (CABGA381), seed 1, target 100.0 MHz"`` from the points' FPGA records, if one setting."""
    settings = {(f.get("device"), f.get("package"), f.get("seed"), f.get("target_mhz"))
                for f in (p.get("fpga") for p in document["points"]) if f}
    if len(settings) != 1:
        return "device not recorded in the sweep" if not settings else "several devices (see the points)"
    device, package, seed, target = next(iter(settings))
    return f"{device} ({package}), nextpnr seed {seed}, target {target} MHz"


def _table(rows):
    lines = ["| k | LUT4 | LUT4 vs k=32 | FF | DSP tiles | BRAM | fmax (MHz) | LUT4 x ns gain vs k=32 |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = "luts_vs_k32" in r
        lines.append(" | ".join([
            f"| {r['k']}", f"{r['luts']:,}", f"{r['luts_vs_k32']:.3f}" if ratio else "-", f"{r['ffs']:,}",
            str(r["dsps"]), str(r["brams"]), "-" if r["fmax_mhz"] is None else f"{r['fmax_mhz']:.2f}",
            f"{r['lut_delay_gain_vs_k32']:.2f}x" if ratio else "-"]) + " |")
    return lines


def _dsp_discussion(rows, flow):
    """The sentences on where the DSP tiles quantize the saving."""
    dsp = dict(FLOWS[flow].resources)["dsp"]
    per_mac = tiles_per_mac(rows)
    out = []
    if per_mac is not None:
        rescaler = {macs: [{**r, "rescaler_dsps": r["dsps"] - per_mac * macs} for r in macs_rows]
                    for macs, macs_rows in rows.items()}
        same = len({tuple((r["k"], r["rescaler_dsps"]) for r in v) for v in rescaler.values()}) == 1
        first = next(iter(rescaler.values()))
        runs = _runs((r["k"], r["rescaler_dsps"]) for r in first)
        text = (f"- **DSP tiles.** Each int8 MAC takes {per_mac} {dsp} tile{'s' * (per_mac != 1)} whatever k "
                f"is (the DSP count grows by {per_mac} per MAC at every swept k), so the rest is the "
                "rescaler's k x 32 multiplier: "
                + "; ".join(f"{v} tile{'s' * (v != 1)} for k = {_ks(ks)}" for v, ks in runs)
                + (" at every MACS" if same and len(rows) > 1 else f" (MACS = {next(iter(rows))})" if same else
                   " at MACS = " + str(next(iter(rows))) + " (other MACS differ: see the tables)") + ".")
        steps = dsp_steps(first, "rescaler_dsps")
        if steps:
            text += " Its tile count steps " + "; ".join(
                f"from {lo_t} to {hi_t} between k = {lo} and k = {hi}"
                + (" (no k swept in between, so the boundary lies somewhere in that interval)"
                   if hi - lo > 1 else "") for lo, hi, lo_t, hi_t in steps) + "."
        else:
            text += " Its tile count does not change over the swept k."
        out.append(text)
        shares = []
        for macs, v in rescaler.items():
            by_k = {r["k"]: r for r in v}
            if 32 in by_k and 4 in by_k:
                shares.append((macs, by_k[32], by_k[4]))
        if shares:
            fractions = [r32["rescaler_dsps"] / r32["dsps"] for _, r32, _ in shares]
            falls = len(shares) > 1 and all(a > b for a, b in zip(fractions, fractions[1:]))
            out.append("- **The rescaler's share of the DSP budget**" + (" falls as MACS grows" * falls) + ": "
                       + ", ".join(f"{r32['rescaler_dsps']} of {r32['dsps']} tiles at k=32 and "
                                   f"{r4['rescaler_dsps']} of {r4['dsps']} at k=4 for {m} MACS"
                                   for m, r32, r4 in shares) + ".")
    else:
        steps = {macs: dsp_steps(macs_rows) for macs, macs_rows in rows.items()}
        out.append("- **DSP tiles.** " + "; ".join(
            f"{macs} MACS: " + (", ".join(f"{lo_t} -> {hi_t} tiles between k = {lo} and {hi}"
                                          for lo, hi, lo_t, hi_t in s) or "no step")
            for macs, s in steps.items())
            + " (the MACs' share of the tiles cannot be separated from the rescaler's with "
            + ("one MACS value" if len(rows) < 2 else "a growth per MAC that depends on k") + ").")
    return out


def _flat_from_4(macs_rows):
    """The largest swept k up to which the DSP count stays that of k = 4 (rows sorted by k)."""
    base = next(r["dsps"] for r in macs_rows if r["k"] == 4)
    flat = 4
    for r in macs_rows:
        if r["k"] > 4:
            if r["dsps"] != base:
                break
            flat = r["k"]
    return flat


def _saving(rows, asic_comparison=None):
    """k=32 -> 4 savings: LUT4s and DSP tiles, below the DSP step, against the ASIC flow's."""
    pairs = []
    for macs, macs_rows in rows.items():
        by_k = {r["k"]: r for r in macs_rows}
        if 32 in by_k and 4 in by_k:
            flat = _flat_from_4(macs_rows)
            pairs.append((macs, by_k[32], by_k[4], by_k[flat], flat))
    if not pairs:
        return []
    text = ("- **Where the saving goes.** From k = 32 to k = 4 the engine saves "
            + ", ".join(f"{_pct(r4['luts'], r32['luts']):.1f} % of its LUT4s and "
                        f"{r32['dsps'] - r4['dsps']} of {r32['dsps']} DSP tiles "
                        f"({_pct(r4['dsps'], r32['dsps']):.1f} %) for {m} MACS" for m, r32, r4, *_ in pairs))
    below = [(m, rf, r4, flat) for m, _, r4, rf, flat in pairs if flat not in (4, 32)]
    if below:
        text += ("; from the DSP step down to k = 4 no tile is saved, what changes is "
                 + ", ".join(f"{rf['luts'] - r4['luts']:,} LUT4s ({_pct(r4['luts'], rf['luts']):.1f} %)"
                             + (f" and fmax {rf['fmax_mhz']:.2f} -> {r4['fmax_mhz']:.2f} MHz"
                                if rf["fmax_mhz"] and r4["fmax_mhz"] else "")
                             + f" from k = {flat} to 4 for {m} MACS" for m, rf, r4, flat in below))
    text += "."
    asic = {c["macs"]: c["area_reduction_k4_pct"] for c in asic_comparison or ()}
    common = [m for m, *_ in pairs if m in asic]
    if common:
        text += (" The standard-cell flow of this report saves "
                 + ", ".join(f"{asic[m]:.1f} %" for m in common) + " of the area for "
                 + " / ".join(map(str, common))
                 + " MACS from k = 32 to 4: there every bit of k counts, here the tiles count in steps.")
    return [text]


def seed_spread(document, control_documents):
    """Place-and-route noise from seed controls: ``(seeds, [(macs, k, luts, fmaxes, dsps)], luts_pct,
    fmax_pct)`` over the points the controls share with ``document``, each list in
    seed order, and the largest range over mean (%) of LUT4s and of fmax; None
    without a shared point."""
    def seed(doc):
        return next((p["fpga"].get("seed") for p in doc["points"] if p.get("fpga")), None)

    docs = [document] + list(control_documents)
    by_doc = [{(p["config"]["macs"], p["config"]["k"]): resources(p, doc["flow"]) for p in doc["points"]}
              for doc in docs]
    shared = sorted(set(by_doc[0]).intersection(*by_doc[1:])) if len(docs) > 1 else []
    if not shared:
        return None
    points = [(macs, k, [d[(macs, k)]["luts"] for d in by_doc], [d[(macs, k)]["fmax_mhz"] for d in by_doc],
               [d[(macs, k)]["dsps"] for d in by_doc]) for macs, k in shared]

    def spread(values):
        values = [v for v in values if v is not None]
        return 100.0 * (max(values) - min(values)) / (sum(values) / len(values)) if values else 0.0

    return ([seed(d) for d in docs], points, max(spread(p[2]) for p in points),
            max(spread(p[3]) for p in points))


def _seed_control(spread, flow):
    if spread is None:
        return ["- **Place-and-route noise.** No seed control is published (`make sweep FLOW="
                f"{flow} SEED=2 SWEEP_K=4,32 SWEEP_MACS=8 PUBLISH=1` writes one): the seed's effect on these "
                "numbers is not measured here."]
    seeds, points, luts_pct, fmax_pct = spread
    return ["- **Place-and-route noise (control).** The same design re-placed and routed with seeds "
            + ", ".join(map(str, seeds)) + ": "
            + "; ".join(f"k = {k}, {macs} MACS: LUT4 {' / '.join(f'{v:,}' for v in luts)}, fmax "
                        + " / ".join("-" if v is None else f"{v:.2f}" for v in fmaxes) + " MHz"
                        + ("" if len(set(dsps)) == 1 else f", DSP {' / '.join(map(str, dsps))}")
                        for macs, k, luts, fmaxes, dsps in points)
            + f". The seed moves fmax by up to {fmax_pct:.1f} % of its mean, "
            + (f"the LUT4 count by up to {luts_pct:.1f} %" if luts_pct else "the LUT4 count not at all")
            + (" and the DSP count not at all" if all(len(set(p[4])) == 1 for p in points) else "")
            + ": differences between points smaller than that are not resolved by one run per point."]


def _fmax(rows):
    out = []
    values = [(m, r) for m, v in rows.items() for r in v if r["fmax_mhz"] is not None]
    if not values:
        return ["- **fmax.** No point has a register-to-register path: the delay is the longest "
                "post-route path, pins included."]
    low = min(values, key=lambda x: x[1]["fmax_mhz"])
    high = max(values, key=lambda x: x[1]["fmax_mhz"])
    text = (f"- **fmax.** Post-route fmax ranges from {low[1]['fmax_mhz']:.2f} MHz (k = {low[1]['k']}, "
            f"{low[0]} MACS) to {high[1]['fmax_mhz']:.2f} MHz (k = {high[1]['k']}, {high[0]} MACS)")
    ends = []
    for macs, macs_rows in rows.items():
        by_k = {r["k"]: r for r in macs_rows}
        if 32 in by_k and 4 in by_k and by_k[32]["fmax_mhz"] and by_k[4]["fmax_mhz"]:
            ends.append((macs, by_k[32]["fmax_mhz"], by_k[4]["fmax_mhz"]))
    if ends:
        text += "; k = 32 -> 4: " + ", ".join(f"{a:.2f} -> {b:.2f} MHz ({100 * (b / a - 1):+.1f} %) for {m} MACS"
                                             for m, a, b in ends)
    noisy = [macs for macs, macs_rows in rows.items()
             if any(a["fmax_mhz"] and b["fmax_mhz"] and a["fmax_mhz"] < b["fmax_mhz"]
                    for a, b in zip(macs_rows, macs_rows[1:]))]
    text += (". fmax is not monotonic in k for " + ", ".join(map(str, noisy)) + " MACS: each point is one "
             "place and route with one seed, so read differences of a few percent as noise and the trend "
             "over several k." if noisy else ". Each point is one place and route with one seed.")
    out.append(text)
    return out


def _others(rows):
    out = []
    ffs = [(m, {r["k"]: r["ffs"] for r in v}) for m, v in rows.items()]
    ends = [(m, f[32], f[4]) for m, f in ffs if 32 in f and 4 in f]
    if ends:
        out.append("- **Flip-flops** from k = 32 to k = 4: " + ", ".join(f"{a:,} -> {b:,} for {m} MACS" for m, a, b in ends) + ".")
    bumps = {macs: [(a["k"], b["k"]) for a, b in zip(v, v[1:]) if a["luts"] > b["luts"]] for macs, v in rows.items()}
    bumps = {macs: b for macs, b in bumps.items() if b}
    if bumps:
        out.append("- **LUT4s** are not monotonic in k: " + "; ".join(
            f"{macs} MACS: " + ", ".join(f"k = {a} above k = {b}" for a, b in b_) for macs, b_ in bumps.items())
            + ". Synthesis maps each k on its own, so read a difference of a few percent between "
              "neighbouring k as mapping noise and the trend over several k.")
    brams = {r["brams"] for v in rows.values() for r in v}
    if brams == {0}:
        out.append("- **Block RAM**: none at any point (the engine holds no memory).")
    return out


def section(document, *, sweep_path, figures, figures_dir, heading="##", asic_comparison=None, control=()):
    """The FPGA section's lines for ``document`` (a validated FPGA sweep).

    ``figures`` are the figure names drawn in ``figures_dir`` (relative to the
    report); ``asic_comparison`` (:func:`costmodel.sweep.compare_to_paper` of the
    report's standard-cell sweep) adds its area saving for contrast; ``control``
    (sweep documents of the same design with other seeds, :func:`controls`) gives
    the place-and-route noise.
    """
    flow = document["flow"]
    rows = rows_by_macs(document)
    ks = sorted({r["k"] for v in rows.values() for r in v})
    tools = "; ".join(f"{t['name']} {_version(t['version'])}" for t in document["tools"].values())
    lines = [
        f"{heading} On an FPGA: the {flow} flow", "",
        f"From `{Path(sweep_path).as_posix()}` ({len(document['points'])} points, k in {{{', '.join(map(str, ks))}}} "
        f"x MACS in {{{', '.join(map(str, rows))}}}; `make sweep FLOW={flow} PUBLISH=1` places and routes "
        f"them, {document.get('synthesis_runtime_s', '?')} s of synthesis and place and route summed over the "
        f"points), read as it is. Device {_device(document)}; {tools}. The engine's ports are the device's "
        "pins. Area here is LUT4 logic cells after packing (carry halves included) and the delay 1000 / fmax, "
        "so the LUT4 x ns gain is the FPGA's ADP gain; the breakdown is per device resource, not per module.",
    ]
    for macs, macs_rows in rows.items():
        lines += ["", f"{heading}# {flow}: {macs} MACS", ""] + _table(macs_rows)
    lines += ["", f"{heading}# {flow}: where the DSP granularity changes the k trade-off", ""]
    lines += (_dsp_discussion(rows, flow) + _saving(rows, asic_comparison) + _fmax(rows)
              + _seed_control(seed_spread(document, control), flow) + _others(rows))
    stepped = any(dsp_steps(v) for v in rows.values())
    lines.append("- **For an architect.** " + (
        "On this FPGA a k below the DSP step saves no DSP tile: choose k by accuracy down to the step, and "
        "below it weigh the LUT4s and fmax it buys (above)." if stepped else
        "The DSP count does not change over the swept k: narrowing k buys LUT4s and fmax only (above).")
        + (" (`synth_ecp5 -nodsp`, not a flow option, would put every multiplier in LUTs, where k counts "
           "bit by bit again.)" if flow == "ecp5" else ""))
    for name in figures:
        lines += ["", f"![{name}]({Path(figures_dir).as_posix()}/{name}.png)", "", f"*{CAPTIONS[name]}*"]
    return lines


def render(document, *, sweep_path, figures, figures_dir, commands, control=()):
    """The text of a standalone FPGA report (``REPORT_<flow>.md``): a title, the
    commands that produced it, and :func:`section`."""
    lines = [f"# Cost of a k-bit rescaler on an FPGA: {document['flow']} flow", "",
             "Generated by " + " (".join(f"`{c}`" for c in commands) + ")" * (len(commands) - 1)
             + "; do not edit by hand, re-run the command.", ""]
    lines += section(document, sweep_path=sweep_path, figures=figures, figures_dir=figures_dir, control=control)
    return "\n".join(lines).rstrip() + "\n"
