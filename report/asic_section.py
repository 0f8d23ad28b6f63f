"""The standard-cell sweep against the paper: the main sections of ``reports/REPORT.md``.

Computed from two published documents, never typed in: the sweep
(``reports/sweep_<flow>.json``, :func:`costmodel.published.load_sweep`) and
the analytic model's coefficients (``costmodel/coefficients_<flow>.json``);
next to a liberty sweep, the netlist = RTL table (``formal_netlist.json``)
adds a column. Two sections: :class:`SweepSection` (how it was produced,
results per MACS, against the paper, discussion, analytic model) and
:class:`SweepFiguresSection` (the figures of :mod:`report.asic_figures`),
which the report places after the FPGA sections.
"""

import math
from pathlib import Path

from costmodel.published import BASE_K, PAPER, compare_to_paper, load_netlist_proofs, load_sweep
from toolkit.markdown import num, pct, table

from . import asic_figures
from .figure_style import figure_link
from .sweep_rows import flow_label, is_liberty, load_model, model_points, rows_by_macs, sweep_date, swept_ks

__all__ = ["PAPER_TECHNOLOGY", "CAPTIONS", "proof_mark", "trend", "model_summary", "SweepSection", "SweepFiguresSection"]

#: The paper's technology, for sentences.
PAPER_TECHNOLOGY = PAPER["technology"].replace(" (paper)", "")

#: The report's caption of each figure of :mod:`report.asic_figures`.
CAPTIONS = {
    "area_vs_k": "Engine area against k, absolute and relative to k=32, one line per MACS; the stars "
                 "are the paper's k=32 -> 4 reductions (16 nm).",
    "delay_vs_k": "Critical-path delay against k, absolute and relative to k=32; the star is the "
                  "paper's ~50 % at k=4.",
    "adp_vs_k": "Area-delay product against k (log scale), absolute and relative to k=32; the "
                "triangles are the paper's bounds (ADP gain > 4x at k=4, > 2x at k=8).",
    "area_breakdown": "Area per part against k, stacked, one panel per MACS (hierarchy kept, so the stack "
                      "differs by a few % from the flattened total, the black tick). The rescaler is "
                      "one part: its multiplier and shift/round/clamp logic are not split.",
    "model_vs_synthesis": "Analytic model against synthesis, per point: predicted over measured area and "
                          "delay, with the ±5 % band.",
}


def _scale(values):
    """Power of ten that shows ``values`` with at most 4-5 integer digits."""
    top = max(values)
    return 10 ** (3 * max(0, int(math.log10(top) // 3) - 1)) if top >= 1e5 else 1


def _unit(unit):
    return {"um^2": "um^2", "transistors": "transistors", "levels": "logic levels"}.get(unit, unit)


def proof_mark(proofs, k, macs):
    """The netlist = RTL verdict of point ``(k, macs)`` from ``proofs`` (rows of
    ``formal_netlist.json`` by ``(k, macs)``, :func:`costmodel.published.load_netlist_proofs`):
    its ``status``, ``"other netlist"`` when the proof's netlist is not the one the sweep
    reports (different area, cells or delay), ``"-"`` when there is no proof."""
    row = proofs.get((k, macs))
    if row is None:
        return "-"
    return row["status"] if row.get("same_as_sweep") else "other netlist"


def _macs_table(rows, document, proofs=None):
    area_u, delay_u = _unit(document["area_unit"]), document["delay_unit"]
    scale = _scale([r["adp"] for r in rows])
    adp_u = (f"10^{int(math.log10(scale))} " if scale > 1 else "") + f"{area_u}*{delay_u}"
    delay_digits = 2 if document["delay_unit"] == "ns" else 1
    proof = proofs is not None
    header = ["k", f"area ({area_u})", "area vs k=32", f"delay ({delay_u})", "delay vs k=32", f"ADP ({adp_u})",
              "ADP gain vs k=32"] + ["netlist = RTL"] * proof
    cells = []
    for r in rows:
        ratio = "area_vs_k32" in r
        cells.append([r["k"], num(r["area"]), f"{r['area_vs_k32']:.3f}" if ratio else "-",
                      num(r["delay"], delay_digits), f"{r['delay_vs_k32']:.3f}" if ratio else "-",
                      num(r["adp"] / scale, 2 if scale > 1 else 0),
                      f"{r['adp_gain_vs_k32']:.2f}x" if ratio else "-"]
                     + ([proof_mark(proofs, r["k"], r["macs"])] if proof else []))
    return table(header, cells, align="r" * 7 + "l" * proof)


def _comparison_table(comparison, rows):
    cells = []
    for c in comparison:
        k8 = next((r for r in rows[c["macs"]] if r["k"] == 8 and "area_vs_k32" in r), None)
        paper = c["paper_area_reduction_k4_pct"]
        cells.append([
            c["macs"], pct(c["area_reduction_k4_pct"]), pct(paper),
            "-" if k8 is None else pct(100 * (1 - k8["area_vs_k32"])),
            "-" if paper is None else f"~{paper / 2:.0f} %",
            pct(c["delay_reduction_k4_pct"]), f"~{c['paper_delay_reduction_k4_pct']:.0f} %",
            f"{c['adp_gain_k4']:.2f}x", f"> {c['paper_adp_gain_k4_min']:.0f}x",
            "-" if c["adp_gain_k8"] is None else f"{c['adp_gain_k8']:.2f}x",
            f"> {c['paper_adp_gain_k8_min']:.0f}x"])
    return table(["MACS", "area -% k=32->4", "paper", "area -% k=32->8", "paper (\"approximately halved\")",
                  "delay -% k=32->4", "paper", "ADP gain k=4", "paper", "ADP gain k=8", "paper"], cells)


def _trend(comparison):
    """The sentence on whether our k=32 -> 4 reductions follow the paper's trend."""
    ours = [(c["macs"], c["area_reduction_k4_pct"]) for c in comparison]
    paper = [(c["macs"], c["paper_area_reduction_k4_pct"]) for c in comparison
             if c["paper_area_reduction_k4_pct"] is not None]
    if len(ours) < 2:
        return "With one MACS value in the sweep there is no trend over MACS to compare."
    text = (f"Our k=32 -> 4 area reductions are {' / '.join(f'{v:.1f}' for _, v in ours)} % for "
            f"{' / '.join(str(m) for m, _ in ours)} MACS")
    if paper:
        text += f" (paper: {' / '.join(f'{v:.1f}' for _, v in paper)} %)"
    decreasing = all(a[1] > b[1] for a, b in zip(ours, ours[1:]))
    if decreasing:
        text += (f": **they follow the paper's trend**, largest for {ours[0][0]} MACS and smallest "
                 f"for {ours[-1][0]}")
    else:
        text += (": **they do not follow the paper's trend** (the reduction does not fall steadily "
                 "as MACS grows)")
    both = [(c["area_reduction_k4_pct"], c["paper_area_reduction_k4_pct"]) for c in comparison
            if c["paper_area_reduction_k4_pct"] is not None]
    if both:
        gap = max(abs(a - b) for a, b in both)
        text += f", each within {gap:.1f} percentage points of the paper's figure"
    return text + "."


def trend(document):
    """One sentence: do the k=32 -> 4 area reductions follow the paper's trend over MACS?"""
    return _trend(compare_to_paper(document["points"]))


def _rescaler_share(rows):
    """``{macs: (share at k=32, share at k=4)}`` of the rescaler parts in the breakdown."""
    shares = {}
    for macs, macs_rows in rows.items():
        by_k = {r["k"]: r["point"]["breakdown"] for r in macs_rows}
        if BASE_K in by_k and 4 in by_k:
            shares[macs] = tuple(
                sum(v for part, v in by_k[k].items() if part.startswith("rescaler")) / sum(by_k[k].values())
                for k in (BASE_K, 4))
    return shares


def _non_monotonic(rows, key):
    return [macs for macs, macs_rows in rows.items()
            if any(a[key] > b[key] for a, b in zip(macs_rows, macs_rows[1:]))]


def _discussion(document, rows, comparison):
    out = [f"- **Area trend.** {_trend(comparison)}"]
    shares = _rescaler_share(rows)
    if shares:
        out.append("- **Why the saving shrinks with MACS.** Only the rescaler depends on k, and it is one "
                   "per engine while the MAC multipliers and the adder tree grow with N: the rescaler is "
                   + ", ".join(f"{100 * s32:.0f} %" for s32, _ in shares.values())
                   + f" of the k=32 engine for {' / '.join(map(str, shares))} MACS, and "
                   + ", ".join(f"{100 * s4:.0f} %" for _, s4 in shares.values())
                   + " at k=4. The breakdown shows the rescaler as one part (its k-bit multiplier and "
                     "the shift/round/clamp logic are one submodule, not split here).")
    delay = [c["delay_reduction_k4_pct"] for c in comparison]
    adp4 = [c["adp_gain_k4"] for c in comparison]
    adp8 = [c["adp_gain_k8"] for c in comparison if c["adp_gain_k8"] is not None]
    if comparison:
        paper_delay = comparison[0]["paper_delay_reduction_k4_pct"]
        four, two = comparison[0]["paper_adp_gain_k4_min"], comparison[0]["paper_adp_gain_k8_min"]
        out.append(
            f"- **Critical path and ADP.** The critical path shrinks by {min(delay):.1f}-{max(delay):.1f} % "
            f"from k=32 to k=4, against the paper's ~{paper_delay:.0f} %: rounding, shifting and saturation "
            "stay on the path whatever k is. So the area-delay product gains "
            f"{min(adp4):.2f}-{max(adp4):.2f}x at k=4 ("
            + ("above" if min(adp4) > four else "not above" if max(adp4) <= four else "not everywhere above")
            + f" the paper's > {four:.0f}x)"
            + (f" and {min(adp8):.2f}-{max(adp8):.2f}x at k=8 ("
               + ("above" if min(adp8) > two else "not everywhere above") + f" the paper's > {two:.0f}x)"
               if adp8 else "") + ".")
    halves = [(c["macs"], 100 * (1 - r["area_vs_k32"]) / c["area_reduction_k4_pct"])
              for c in comparison if c["area_reduction_k4_pct"] > 0
              for r in rows[c["macs"]] if r["k"] == 8 and "area_vs_k32" in r]
    if halves:
        out.append("- **k=8.** The paper's savings are \"approximately halved\" at k=8; ours keep "
                   + ", ".join(f"{100 * h:.0f} %" for _, h in halves)
                   + f" of the k=4 area saving for {' / '.join(str(m) for m, _ in halves)} MACS. The "
                   f"32 x k multiplier grows about linearly with k, so k=8 already drops {BASE_K - 8} of "
                   f"the {BASE_K - 4} partial-product columns that k=4 drops "
                   f"({100 * (BASE_K - 8) / (BASE_K - 4):.0f} %); a saving halved at k=8 would need a "
                   "cost that falls much faster below k=8 than this datapath's.")
    noisy = _non_monotonic(rows, "delay")
    noisy_area = _non_monotonic(rows, "area")
    if noisy or noisy_area:
        out.append("- **Noise.** ABC's results vary point to point: "
                   + "; ".join(filter(None, [
                       noisy and f"delay is not monotonic in k for {', '.join(map(str, noisy))} MACS",
                       noisy_area and f"area is not monotonic in k for {', '.join(map(str, noisy_area))} "
                                      "MACS"]))
                   + ". Read the trend over several k, not one pair of points.")
    if is_liberty(document):
        out.append(f"- **Technology.** Measured with the {flow_label(document)}: a 0.18 um open library "
                   f"with no wire-load model, against the paper's {PAPER_TECHNOLOGY}. Absolute areas and "
                   "delays are not comparable; ratios to k=32 are. The paper synthesizes a commercial "
                   "NPU's systolic array; this is one engine of the open generator.")
    else:
        out.append(f"- **Units.** The {document['flow']} flow counts area in {document['area_unit']} "
                   f"(Yosys' CMOS estimate) and delay in {_unit(document['delay_unit'])}, not um^2 and ns: "
                   f"only the ratios to k=32 compare with the paper's {PAPER_TECHNOLOGY}. Install the OSU 0.18 um "
                   "cells (`apt-get install qflow-tech-osu018 opensta`) for the liberty flow.")
    return out


def model_summary(document, model, note):
    """The sentence on how well ``model`` (or, when None, why there is none: ``note``)
    predicts the points of the sweep ``document``."""
    if model is None:
        return [f"No analytic-model comparison: {note}."]
    pts = model_points(document, model)
    area_err = [100 * (pa / ma - 1) for _, _, ma, pa, _, _ in pts]
    delay_err = [100 * (pd / md - 1) for *_, md, pd in pts]
    source = model.document.get("source") or {}
    same = source.get("tools") == document["tools"] and source.get("points") == len(document["points"])
    return [f"The analytic model (`costmodel/coefficients_{document['flow']}.json`, "
            f"{'fitted to this sweep' if same else 'fitted to another sweep'}) predicts every point's area "
            f"within {max(map(abs, area_err)):.1f} % and its delay within {max(map(abs, delay_err)):.1f} % "
            f"({len(pts)} points; mean |error| {sum(map(abs, area_err)) / len(pts):.1f} % and "
            f"{sum(map(abs, delay_err)) / len(pts):.1f} %)."]


class SweepSection:
    """The sweep's provenance, its tables per MACS, the comparison with the paper, the
    discussion and the analytic model (``##`` sections, from "How it was produced" to
    "Analytic model").

    ``proofs`` (rows of ``formal_netlist.json`` by ``(k, macs)``) adds a column
    "netlist = RTL" to the tables (:func:`proof_mark`) and a line saying how many
    points are proven; None leaves both out. It draws no figure: its figures are
    :class:`SweepFiguresSection`'s.
    """

    figures = ()

    def __init__(self, document, path, *, model=None, model_note=None, proofs=None):
        self.document, self.path = document, Path(path)
        self.model, self.model_note, self.proofs = model, model_note, proofs
        self.rows = rows_by_macs(document)
        self.comparison = compare_to_paper(document["points"])

    @classmethod
    def load(cls, path):
        """The section of the sweep at ``path``, with the analytic model of its flow and,
        for a liberty sweep, the netlist = RTL table next to it when there is one."""
        document = load_sweep(path)
        model, note = load_model(document)
        table_path = Path(path).parent / "formal_netlist.json"
        proofs = load_netlist_proofs(table_path) if document["flow"] == "liberty" and table_path.is_file() else None
        return cls(document, path, model=model, model_note=note, proofs=proofs)

    @property
    def sources(self):
        """The files the section's numbers come from, as the report cites them."""
        return [self.path.as_posix()] + [f"costmodel/coefficients_{self.document['flow']}.json"] * (
            self.model is not None)

    def draw(self):
        return []

    def render(self, report_dir="."):
        document, rows, proofs = self.document, self.rows, self.proofs
        date = sweep_date(document)
        lines = [
            "## How it was produced",
            "",
            f"- Flow: {flow_label(document)}; clock period {document.get('clock_ns', '?')} ns for timing.",
            f"- Sweep: {len(document['points'])} points, k in {{{', '.join(map(str, swept_ks(rows)))}}} x MACS in "
            f"{{{', '.join(map(str, rows))}}}; `make sweep` (`python -m costmodel sweep`), "
            f"{document.get('synthesis_runtime_s', '?')} s of synthesis summed over the points; the "
            f"sweep's last run took {document.get('runtime_s', '?')} s wall-clock (cached points are instant).",
            f"- Sweep date: {date} (date field of the sweep)." if date else
            "- Sweep date: not recorded (the sweep JSON has no `date` field: it was written before sweeps "
            "carried one; `git log` dates the commit that published it).",
        ]
        lines += [f"- {name}: {tool['name']}, {tool['version']}" for name, tool in document["tools"].items()]
        library = document["library"]
        lines.append(f"- Library: `{library['path']}`, SHA-256 {library['sha256']}" if library else
                     "- Library: none (the generic flow maps onto Yosys' internal gates)")
        if proofs is not None:
            marks = [proof_mark(proofs, r["k"], r["macs"]) for macs_rows in rows.values() for r in macs_rows]
            others = ", ".join(f"{marks.count(m)} {m}" for m in sorted(set(marks) - {"proven"}))
            lines.append(f"- Netlist = RTL (`make formal-netlist`, `formal_netlist.md`): {marks.count('proven')} of "
                         f"{len(marks)} points proven for the very netlist whose area and delay are reported"
                         + (f"; {others}." if others else "."))
        lines += ["", "## Results per MACS", "",
                  f"ADP is area x delay; a gain is the k=32 value over this one. Paper ({PAPER_TECHNOLOGY}): "
                  "k=32 -> 4 area reduction "
                  + ", ".join(f"{pct} % for {m} MACS" for m, pct in PAPER["area_reduction_k4_pct"].items())
                  + f"; ~{PAPER['delay_reduction_k4_pct']:.0f} % shorter critical path; ADP gain > "
                  f"{PAPER['adp_ratio_k4_min']:.0f}x at k=4 and > {PAPER['adp_ratio_k8_min']:.0f}x at k=8."]
        for macs, macs_rows in rows.items():
            lines += ["", f"### {macs} MACS", ""] + _macs_table(macs_rows, document, proofs)
        lines += ["", "## Against the paper", ""] + _comparison_table(self.comparison, rows)
        lines += ["", "## Discussion", ""] + _discussion(document, rows, self.comparison)
        lines += ["", "## Analytic model", ""] + model_summary(document, self.model, self.model_note)
        return lines


class SweepFiguresSection:
    """The ``## Figures`` section of a sweep: the figures of :mod:`report.asic_figures`
    (the model comparison only when the sweep's flow has a fitted model), drawn into
    ``figures_dir`` as PNG and SVG; ``about`` says what they were measured with."""

    def __init__(self, sweep, figures_dir):
        self.sweep, self.figures_dir = sweep, Path(figures_dir)
        self.figures = tuple(asic_figures.names(sweep.model))
        self.about = flow_label(sweep.document)

    def draw(self):
        return asic_figures.draw(self.sweep.document, self.figures_dir, model=self.sweep.model)

    def render(self, report_dir="."):
        link = figure_link(self.figures_dir, report_dir)
        lines = ["## Figures", "", f"PNG and SVG in `{link}/`.", ""]
        for name in self.figures:
            lines += [f"![{name}]({link}/{name}.png)", "", f"*{CAPTIONS[name]}*", ""]
        return lines
