"""The FPGA part of the study: resources and post-route fmax against k, and where
the DSP tiles quantize the saving of a narrow rescaler.

On standard cells the rescaler's k x 32 multiplier shrinks with every bit of k;
on an FPGA it maps onto fixed-size DSP tiles (``MULT18X18D`` on ECP5), so its
DSP count moves in steps and the bits between two steps save only the LUT logic
around the tiles. :class:`FpgaSection` turns a published FPGA sweep
(``reports/sweep_<flow>.json``, each point with its ``fpga`` record) into tables
and sentences that say so from the data:

* in ``reports/REPORT.md``, one section per FPGA sweep next to the standard-cell
  sweep it reports on (``reports/sweep_ecp5.json`` beside
  ``reports/sweep_liberty.json``), read as it is;
* ``python -m report report --flow ecp5`` writes the section alone to
  ``REPORT_ecp5.md``.

The numbers come from :mod:`report.fpga_rows`, the figure from :mod:`report.fpga_figures`.
"""

import re
from pathlib import Path

from costmodel.published import FPGA_DSP_TILES, load_sweep
from toolkit.markdown import saving, table

from . import fpga_figures
from .figure_style import figure_link
from .fpga_rows import controls, dsp_steps, rows_by_macs, seed_spread, tiles_per_mac
from .sweep_rows import swept_ks

__all__ = ["CAPTIONS", "FpgaSection"]

#: The report's caption of each figure of :mod:`report.fpga_figures`.
CAPTIONS = {
    "fpga_vs_k": "FPGA resources and post-route fmax against k, one line per MACS: LUT4 logic cells, "
                 "DSP tiles (the steps are the rescaler's multiplier changing tile count), flip-flops, "
                 "and fmax after place and route (one run per point, fixed seed).",
}


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
    return table(["k", "LUT4", "LUT4 vs k=32", "FF", "DSP tiles", "BRAM", "fmax (MHz)", "LUT4 x ns gain vs k=32"], (
        [r["k"], f"{r['luts']:,}", f"{r['luts_vs_k32']:.3f}" if "luts_vs_k32" in r else "-", f"{r['ffs']:,}",
         r["dsps"], r["brams"], "-" if r["fmax_mhz"] is None else f"{r['fmax_mhz']:.2f}",
         f"{r['lut_delay_gain_vs_k32']:.2f}x" if "luts_vs_k32" in r else "-"] for r in rows))


def _dsp_discussion(rows, flow):
    """The sentences on where the DSP tiles quantize the saving."""
    dsp = FPGA_DSP_TILES[flow]
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
            + ", ".join(f"{saving(r4['luts'], r32['luts'])} of its LUT4s and "
                        f"{r32['dsps'] - r4['dsps']} of {r32['dsps']} DSP tiles "
                        f"({saving(r4['dsps'], r32['dsps'])}) for {m} MACS" for m, r32, r4, *_ in pairs))
    below = [(m, rf, r4, flat) for m, _, r4, rf, flat in pairs if flat not in (4, 32)]
    if below:
        text += ("; from the DSP step down to k = 4 no tile is saved, what changes is "
                 + ", ".join(f"{rf['luts'] - r4['luts']:,} LUT4s ({saving(r4['luts'], rf['luts'])})"
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
        out.append("- **Flip-flops** from k = 32 to k = 4: "
                   + ", ".join(f"{a:,} -> {b:,} for {m} MACS" for m, a, b in ends) + ".")
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


class FpgaSection:
    """The section of one FPGA sweep (a ``##`` heading, or ``heading``, and its subsections).

    ``asic_comparison`` (:func:`costmodel.published.compare_to_paper` of the
    report's standard-cell sweep) adds its area saving for contrast; ``control``
    (sweep documents of the same design with other seeds, :func:`controls`) gives
    the place-and-route noise. Its figure is drawn into ``figures_dir``.
    """

    figures = fpga_figures.FIGURES

    def __init__(self, document, path, figures_dir, *, heading="##", asic_comparison=None, control=()):
        self.document, self.path, self.figures_dir = document, Path(path), Path(figures_dir)
        self.heading, self.asic_comparison, self.control = heading, asic_comparison, list(control)
        self.about = f"FPGA section: {self.path}"

    @classmethod
    def load(cls, path, figures_dir, **options):
        """The section of the FPGA sweep at ``path``, with its seed controls next to it."""
        return cls(load_sweep(path), path, figures_dir, control=[load_sweep(p) for p in controls(path)], **options)

    def draw(self):
        return fpga_figures.draw(self.document, self.figures_dir)

    def render(self, report_dir="."):
        document, heading = self.document, self.heading
        flow = document["flow"]
        rows = rows_by_macs(document)
        tools = "; ".join(f"{t['name']} {_version(t['version'])}" for t in document["tools"].values())
        lines = [
            f"{heading} On an FPGA: the {flow} flow", "",
            f"From `{self.path.as_posix()}` ({len(document['points'])} points, k in "
            f"{{{', '.join(map(str, swept_ks(rows)))}}} x MACS in {{{', '.join(map(str, rows))}}}; "
            f"`make sweep FLOW={flow} PUBLISH=1` places and routes "
            f"them, {document.get('synthesis_runtime_s', '?')} s of synthesis and place and route summed over the "
            f"points), read as it is. Device {_device(document)}; {tools}. The engine's ports are the device's "
            "pins. Area here is LUT4 logic cells after packing (carry halves included) and the delay 1000 / fmax, "
            "so the LUT4 x ns gain is the FPGA's ADP gain; the breakdown is per device resource, not per module.",
        ]
        for macs, macs_rows in rows.items():
            lines += ["", f"{heading}# {flow}: {macs} MACS", ""] + _table(macs_rows)
        lines += ["", f"{heading}# {flow}: where the DSP granularity changes the k trade-off", ""]
        lines += (_dsp_discussion(rows, flow) + _saving(rows, self.asic_comparison) + _fmax(rows)
                  + _seed_control(seed_spread(document, self.control), flow) + _others(rows))
        stepped = any(dsp_steps(v) for v in rows.values())
        lines.append("- **For an architect.** " + (
            "On this FPGA a k below the DSP step saves no DSP tile: choose k by accuracy down to the step, and "
            "below it weigh the LUT4s and fmax it buys (above)." if stepped else
            "The DSP count does not change over the swept k: narrowing k buys LUT4s and fmax only (above).")
            + (" (`synth_ecp5 -nodsp`, not a flow option, would put every multiplier in LUTs, where k counts "
               "bit by bit again.)" if flow == "ecp5" else ""))
        link = figure_link(self.figures_dir, report_dir)
        for name in self.figures:
            lines += ["", f"![{name}]({link}/{name}.png)", "", f"*{CAPTIONS[name]}*"]
        return lines
