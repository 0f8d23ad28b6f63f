"""The sweep as a reproducible report against the paper: ``reports/REPORT.md``.

Everything here is computed from two JSON files, never typed in: the sweep
document of :mod:`costmodel.sweep` (``reports/sweep_<flow>.json``) and the
analytic model's coefficients (``costmodel/coefficients_<flow>.json``). The
figures of :mod:`costmodel.plots` and the report read the sweep through one
validated loader, :func:`load_sweep`.

::

    python -m costmodel report            # figures + reports/REPORT.md (make report)
    python -m costmodel plot              # figures only (make plots)
"""

import datetime
import json
import math
import subprocess
from pathlib import Path

from hw.config import DatapathConfig

from . import analytic, silicon_report, sweep, synth
from eda.flows import FLOWS

__all__ = ["REQUIRED_KEYS", "load_sweep", "validate_sweep", "missing_points", "rows_by_macs",
           "flow_label", "area_ratios", "trend", "load_model", "model_points", "ordered_parts", "sweep_date", "render",
           "proof_mark"]

#: Keys a sweep document must hold to be plotted or reported.
REQUIRED_KEYS = ("schema", "flow", "area_unit", "delay_unit", "tools", "library", "points")
#: The k every ratio is taken against, and the paper's headline k values.
BASE_K = 32
#: The paper's technology, for sentences.
PAPER_TECHNOLOGY = sweep.PAPER["technology"].replace(" (paper)", "")
#: Preferred bottom-to-top order of the breakdown parts; parts not listed (say, a
#: rescaler split into submodules later) keep a stable order: ``rescaler*`` parts
#: next to the rescaler, any other after the known ones, by name.
PART_ORDER = ("rescaler", "multipliers", "adder_tree", "accumulator", "top-level logic and registers")
PART_LABELS = {
    "rescaler": "rescaler (k-bit multiplier + shift/round/clamp)",
    "multipliers": "MAC multipliers (N x int8)",
    "adder_tree": "adder tree",
    "accumulator": "accumulator",
    "top-level logic and registers": "registers and top-level logic",
}


def validate_sweep(document, source="the sweep"):
    """Return ``document`` if it is a plottable sweep, else raise one clear ValueError."""
    if not isinstance(document, dict):
        raise ValueError(f"{source} is not a sweep document (a JSON object from 'python -m costmodel sweep')")
    missing = [key for key in REQUIRED_KEYS if key not in document]
    if missing:
        raise ValueError(f"{source} is not a sweep document: it lacks {', '.join(missing)} "
                         "(write one with 'make sweep')")
    if document["schema"] != synth.SCHEMA_VERSION:
        raise ValueError(f"{source} has schema version {document['schema']!r}, this tool reads version "
                         f"{synth.SCHEMA_VERSION}: re-run 'make sweep FLOW={document['flow']}'")
    points = document["points"]
    if not isinstance(points, list) or not points:
        raise ValueError(f"{source} holds no points: run 'make sweep FLOW={document['flow']}'")
    for i, point in enumerate(points):
        try:
            k, macs = point["config"]["k"], point["config"]["macs"]
            ok = (isinstance(k, int) and isinstance(macs, int) and all(
                isinstance(point[key], (int, float)) and point[key] > 0 for key in ("area", "delay"))
                and isinstance(point["breakdown"], dict))
        except (KeyError, TypeError):
            ok = False
        if not ok:
            raise ValueError(f"{source}: point {i} needs config.k, config.macs (engines), positive "
                             "area and delay, and a breakdown")
    return document


def load_sweep(path):
    """The validated sweep document at ``path`` (one clear ValueError for anything wrong)."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist: run 'make sweep' first") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}): re-run 'make sweep'") from None
    return validate_sweep(document, str(path))


def missing_points(path, ks, macs):
    """The ``(k, macs)`` pairs of the grid that the sweep at ``path`` lacks (all when it is absent)."""
    if not Path(path).exists():
        return [(k, n) for n in macs for k in ks]
    have = {(p["config"]["k"], p["config"]["macs"]) for p in load_sweep(path)["points"]}
    return [(k, n) for n in macs for k in ks if (k, n) not in have]


def rows_by_macs(document):
    """``{macs: [row, ...]}``, rows sorted by k: area, delay, ADP, point and ratios to k = 32."""
    points = {(p["config"]["macs"], p["config"]["k"]): p for p in document["points"]}
    table = {}
    for row in sweep._ratio_table(document["points"]):  # the very function that wrote the JSON
        if "adp_gain_vs_k32" in row:
            row["adp_vs_k32"] = 1 / row["adp_gain_vs_k32"]
        table.setdefault(row["macs"], []).append({**row, "point": points[(row["macs"], row["k"])]})
    return table


def flow_label(document):
    """What the numbers were measured with, for titles: flow, library, units."""
    if FLOWS[document["flow"]].liberty:
        library = document["library"] or {}
        name = Path(library.get("path", "?")).name
        cells = "OSU 0.18 um cells" if name == synth.DEFAULT_LIBERTY.name else f"cells of {name}"
        timing = "OpenSTA" if "sta" in document["tools"] else "logic levels"
        return f"liberty flow, {cells} ({name}), Yosys + {timing}"
    return (f"{document['flow']} flow (embedded Yosys, no liberty library): "
            f"area in {document['area_unit']}, delay in logic {document['delay_unit']}"
            if document["delay_unit"] == "levels" else
            f"{document['flow']} flow: area in {document['area_unit']}, delay in {document['delay_unit']}")


def load_model(document, path=None):
    """``(model, note)``: the fitted analytic model of the sweep's flow (or the one at
    ``path``), or ``(None, why)`` when there is none in the sweep's units; a broken
    coefficient file is a ValueError."""
    flow = document["flow"]
    path = Path(path) if path else analytic.coefficients_path(flow)
    if not path.exists():
        return None, f"no analytic model for the {flow} flow ({path} is absent: run 'make fit FLOW={flow}')"
    try:
        model = analytic.Model(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}): re-run 'make fit FLOW={flow}'") from None
    if (model.area_unit, model.delay_unit) != (document["area_unit"], document["delay_unit"]):
        return None, f"the analytic model in {path} is in other units than the sweep"
    return model, None


def model_points(document, model):
    """Per point ``(macs, k, measured area, predicted area, measured delay, predicted delay)``."""
    out = []
    for p in document["points"]:
        area, delay = model.estimate(DatapathConfig(**p["config"]))
        out.append((p["config"]["macs"], p["config"]["k"], p["area"], area, p["delay"], delay))
    return out


def ordered_parts(points):
    """The breakdown parts present in ``points``, bottom to top in a stable order."""
    def rank(part):
        if part in PART_ORDER:
            return (PART_ORDER.index(part), "")
        if part.startswith("rescaler"):
            return (0, part)
        return (len(PART_ORDER) - 1.5, part)  # after the known parts but the registers, by name
    return sorted({part for p in points for part in p["breakdown"]}, key=rank)


def sweep_date(path, document):
    """``(date, source)`` of the sweep: its ``date`` field when it has one, else the date
    of the git commit holding the file as it is, else the file's modification time."""
    if document.get("date"):
        return str(document["date"])[:10], "date field of the sweep"
    path = Path(path)
    try:
        cwd = path.resolve().parent
        unchanged = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", path.name], cwd=cwd,
                                   capture_output=True).returncode == 0
        date = subprocess.run(["git", "log", "-1", "--format=%cs", "--", path.name], cwd=cwd,
                              capture_output=True, text=True).stdout.strip()
        if unchanged and date:
            return date, f"date of the git commit of {path.name}; the sweep JSON carries no date"
    except OSError:
        pass
    mtime = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
    return mtime.date().isoformat(), f"modification time of {path.name}: not in git as it is"


# --- the report's text ------------------------------------------------------------------------

def _scale(values):
    """Power of ten that shows ``values`` with at most 4-5 integer digits."""
    top = max(values)
    return 10 ** (3 * max(0, int(math.log10(top) // 3) - 1)) if top >= 1e5 else 1


def _num(value, digits=0):
    return f"{value:,.{digits}f}"


def _pct(value):
    return f"{value:.1f} %"


def _unit(unit):
    return {"um^2": "um^2", "transistors": "transistors", "levels": "logic levels"}.get(unit, unit)


def proof_mark(proofs, k, macs):
    """The netlist = RTL verdict of point ``(k, macs)`` from ``proofs`` (rows of
    ``formal_netlist.json`` by ``(k, macs)``, :func:`costmodel.netlist_proofs.load_points`):
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
    lines = [f"| k | area ({area_u}) | area vs k=32 | delay ({delay_u}) | delay vs k=32 "
             f"| ADP ({adp_u}) | ADP gain vs k=32 |" + " netlist = RTL |" * proof,
             "|---:|---:|---:|---:|---:|---:|---:|" + "---|" * proof]
    for r in rows:
        ratio = ("area_vs_k32" in r)
        lines.append(" | ".join([
            f"| {r['k']}", _num(r["area"]), f"{r['area_vs_k32']:.3f}" if ratio else "-",
            _num(r["delay"], delay_digits), f"{r['delay_vs_k32']:.3f}" if ratio else "-",
            _num(r["adp"] / scale, 2 if scale > 1 else 0),
            f"{r['adp_gain_vs_k32']:.2f}x" if ratio else "-", *([proof_mark(proofs, r["k"], r["macs"])] if proof else [])])
            + " |")
    return lines


def _comparison_table(comparison, rows):
    lines = ["| MACS | area -% k=32->4 | paper | area -% k=32->8 | paper (\"approximately halved\") "
             "| delay -% k=32->4 | paper | ADP gain k=4 | paper | ADP gain k=8 | paper |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in comparison:
        k8 = next((r for r in rows[c["macs"]] if r["k"] == 8 and "area_vs_k32" in r), None)
        paper = c["paper_area_reduction_k4_pct"]
        lines.append(" | ".join([
            f"| {c['macs']}", _pct(c["area_reduction_k4_pct"]), "-" if paper is None else _pct(paper),
            "-" if k8 is None else _pct(100 * (1 - k8["area_vs_k32"])),
            "-" if paper is None else f"~{paper / 2:.0f} %",
            _pct(c["delay_reduction_k4_pct"]), f"~{c['paper_delay_reduction_k4_pct']:.0f} %",
            f"{c['adp_gain_k4']:.2f}x", f"> {c['paper_adp_gain_k4_min']:.0f}x",
            "-" if c["adp_gain_k8"] is None else f"{c['adp_gain_k8']:.2f}x",
            f"> {c['paper_adp_gain_k8_min']:.0f}x"]) + " |")
    return lines


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
    technology = PAPER_TECHNOLOGY
    if FLOWS[document["flow"]].liberty:
        out.append(f"- **Technology.** Measured with the {flow_label(document)}: a 0.18 um open library "
                   f"with no wire-load model, against the paper's {technology}. Absolute areas and "
                   "delays are not comparable; ratios to k=32 are. The paper synthesizes a commercial "
                   "NPU's systolic array; this is one engine of the open generator.")
    else:
        out.append(f"- **Units.** The {document['flow']} flow counts area in {document['area_unit']} "
                   f"(Yosys' CMOS estimate) and delay in {_unit(document['delay_unit'])}, not um^2 and ns: "
                   f"only the ratios to k=32 compare with the paper's {technology}. Install the OSU 0.18 um "
                   "cells (`apt-get install qflow-tech-osu018 opensta`) for the liberty flow.")
    return out


def _model_section(document, model, note):
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


#: The figures of :mod:`costmodel.plots`, with the report's caption for each.
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


#: Captions of the figures of :mod:`costmodel.silicon_plots` (which imports matplotlib).
SILICON_CAPTIONS = {
    "energy_vs_k": "Energy per output against k (gate-level activity of the same layer for every k, OSU "
                   "0.18 um), absolute and relative to k=32; dashed: the synthesized area relative to "
                   "k=32, same colour per MACS.",
    "delay_pre_post_route": "Critical path per k of the placed-and-routed engines: synthesized, after "
                            "qflow's buffering (pre-route), with the routed wires' parasitics (post-route), "
                            "and with the clock tree propagated.",
}


def trend(document):
    """One sentence: do the k=32 -> 4 area reductions follow the paper's trend over MACS?"""
    return _trend(sweep.compare_to_paper(document["points"]))


def area_ratios(document):
    """``{(macs, k): area_vs_k32}`` of a validated sweep (points whose MACS has k = 32)."""
    return {(r["macs"], r["k"]): r["area_vs_k32"] for macs_rows in rows_by_macs(document).values()
            for r in macs_rows if "area_vs_k32" in r}


def render(document, *, sweep_path, figures, figures_dir, commands, model=None, model_note=None, date=None,
           appendix=(), silicon=None, silicon_label=None, silicon_figures=(), proofs=None):
    """The text of REPORT.md for ``document`` (a validated sweep).

    ``proofs`` (rows of ``formal_netlist.json`` by ``(k, macs)``) adds a column
    "netlist = RTL" to the tables (:func:`proof_mark`) and a line saying how many
    points are proven; None leaves both out.

    ``figures`` lists the figure names drawn (PNG and SVG in ``figures_dir``, given
    relative to the report), ``commands`` the equivalent commands that produced it;
    ``date`` overrides :func:`sweep_date` (for tests); ``appendix`` (lines) goes
    before the figures: the FPGA sections (:func:`costmodel.fpga_report.section`).
    ``silicon`` (the :class:`costmodel.silicon_report.Points` of the published energy
    and layout reports, cited as ``silicon_label``) adds their section after the
    figures, with the figures ``silicon_figures`` of :mod:`costmodel.silicon_plots`
    from ``figures_dir``.
    """
    rows = rows_by_macs(document)
    comparison = sweep.compare_to_paper(document["points"])
    date, date_source = (date, "given") if date else sweep_date(sweep_path, document)
    tools = document["tools"]
    library = document["library"]
    ks = sorted({r["k"] for macs_rows in rows.values() for r in macs_rows})
    lines = [
        f"# Cost of a k-bit rescaler against the paper: {document['flow']} flow",
        "",
        "Generated by " + " (".join(f"`{c}`" for c in commands) + ")" * (len(commands) - 1)
        + f" from `{Path(sweep_path).as_posix()}`"
        + (f" and `costmodel/coefficients_{document['flow']}.json`" if model is not None else "")
        + "; do not edit by hand, re-run the command.",
        "",
        "## How it was produced",
        "",
        f"- Flow: {flow_label(document)}; clock period {document.get('clock_ns', '?')} ns for timing.",
        f"- Sweep: {len(document['points'])} points, k in {{{', '.join(map(str, ks))}}} x MACS in "
        f"{{{', '.join(map(str, rows))}}}; `make sweep` (`python -m costmodel sweep`), "
        f"{document.get('synthesis_runtime_s', '?')} s of synthesis summed over the points; the "
        f"sweep's last run took {document.get('runtime_s', '?')} s wall-clock (cached points are instant).",
        f"- Sweep date: {date} ({date_source}).",
    ]
    lines += [f"- {name}: {tool['name']}, {tool['version']}" for name, tool in tools.items()]
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
              + ", ".join(f"{pct} % for {m} MACS" for m, pct in sweep.PAPER["area_reduction_k4_pct"].items())
              + f"; ~{sweep.PAPER['delay_reduction_k4_pct']:.0f} % shorter critical path; ADP gain > "
              f"{sweep.PAPER['adp_ratio_k4_min']:.0f}x at k=4 and > {sweep.PAPER['adp_ratio_k8_min']:.0f}x at k=8."]
    for macs, macs_rows in rows.items():
        lines += ["", f"### {macs} MACS", ""] + _macs_table(macs_rows, document, proofs)
    lines += ["", "## Against the paper", ""] + _comparison_table(comparison, rows)
    lines += ["", "## Discussion", ""] + _discussion(document, rows, comparison)
    lines += ["", "## Analytic model", ""] + _model_section(document, model, model_note)
    lines += list(appendix)
    lines += ["", "## Figures", "", f"PNG and SVG in `{Path(figures_dir).as_posix()}/`.", ""]
    for name in figures:
        lines += [f"![{name}]({Path(figures_dir).as_posix()}/{name}.png)", "", f"*{CAPTIONS[name]}*", ""]
    if silicon is not None:
        lines += [""] + silicon_report.render(
            silicon, label=silicon_label or Path(silicon.directory).as_posix(), area_ratios=area_ratios(document),
            figures=silicon_figures, figures_dir=figures_dir, captions=SILICON_CAPTIONS)
    return "\n".join(lines).rstrip() + "\n"
