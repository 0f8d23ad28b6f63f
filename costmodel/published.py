"""What the study's published documents hold, for the code that writes them and the code that reads them.

The cost model writes the documents under ``reports/`` (:mod:`costmodel.synth`,
:mod:`costmodel.sweep`, :mod:`costmodel.variants`); the study's report
(:mod:`report`) reads them and never runs a tool. Both take from here what the
documents mean, so the two sides cannot drift apart: the schema version, the
paper's reference figures, the default grid, the ratios to k = 32 and the
comparison with the paper, the FPGA columns, and one validated loader per kind
of document the report reads:

==========================  ==================================================
loader                      document
==========================  ==================================================
:func:`load_sweep`          ``sweep_<flow>.json`` (``make sweep``)
:func:`load_point_report`   ``synth/<name>.json`` (``make synth``, ``make energy``)
:func:`load_energy_beats`   ``energy_beats[_isolated].json`` (``make energy-beats``)
:func:`load_netlist_proofs` ``formal_netlist.json`` (``make formal-netlist``)
:func:`load_energy_model`   ``energy_model.json`` (``make energy-model``)
==========================  ==================================================

and the arithmetic the energy model is for (:func:`energy_line`,
:func:`energy_per_inference`), so that its readers (the accuracy side's
``advise``) and its writer agree on what a line means.

Each raises one ``ValueError`` that names the file, the field and the command
that rewrites it. This module imports no tool runner (the import-graph test
checks it), so reading the study never needs Yosys, OpenSTA or nextpnr.
"""

import json
from pathlib import Path

from eda.flows import FLOWS
from eda.liberty import DEFAULT_LIBERTY
from hw.config import ENGINES_MAX, MACS_MAX
from sim.golden import K_MAX, K_MIN
from toolkit.validate import field_error, is_integer, is_number, read_json

__all__ = ["SCHEMA_VERSION", "DEFAULT_LIBERTY", "default_flow", "DEFAULT_K", "DEFAULT_MACS", "BASE_K", "PAPER",
           "FPGA_COLUMNS", "FPGA_DSP_TILES", "is_fpga", "header", "ratio_table", "compare_to_paper",
           "PLAUSIBLE", "nonnegative_number", "SWEEP_KEYS", "MAX_SWEEP_POINTS", "validate_sweep", "load_sweep",
           "load_point_report", "BEATS_FILES", "load_energy_beats",
           "load_netlist_proofs", "ENERGY_MODEL", "LINE_KINDS", "validate_energy_model", "load_energy_model",
           "energy_line", "beats_per_output", "energy_per_inference"]

#: Version of the report layout; bump it when a field changes meaning.
SCHEMA_VERSION = 1
#: The default grid of ``make sweep``.
DEFAULT_K = (3, 4, 5, 6, 8, 12, 16, 24, 32)
DEFAULT_MACS = (4, 8, 16)
#: The k every ratio is taken against.
BASE_K = 32

#: The paper's figures (Section III.D, 16 nm commercial library): whole-engine area
#: reduction from k = 32 to k = 4 per MACS, critical-path reduction, ADP ratios.
PAPER = {
    "area_reduction_k4_pct": {4: 58.5, 8: 47.5, 16: 34.8},
    "delay_reduction_k4_pct": 50.0,
    "adp_ratio_k4_min": 4.0,
    "adp_ratio_k8_min": 2.0,
    "technology": "16 nm commercial standard cells (paper)",
}

#: The fields of an FPGA point's ``fpga`` record that its sweep's CSV and the
#: explorer's table carry.
FPGA_COLUMNS = ("luts", "ffs", "dsps", "brams", "fmax_mhz")
#: The FPGA flows, in report order, and the DSP tile each maps multipliers onto, as
#: nextpnr names it (the ``dsp`` resource of the flow records; a test keeps them equal).
FPGA_DSP_TILES = {"ecp5": "MULT18X18D", "ice40": "ICESTORM_DSP"}


def default_flow(liberty=None):
    """The flow used when none is asked for: ``liberty`` when a liberty file is given
    or :data:`DEFAULT_LIBERTY` is installed, else the pip-only ``generic`` flow."""
    return "liberty" if liberty is not None or DEFAULT_LIBERTY.is_file() else "generic"


def is_fpga(document):
    """Whether a sweep document comes from an FPGA flow."""
    return document["flow"] in FPGA_DSP_TILES


def header(flow, report):
    """What a campaign's document says about how all its points were measured: the
    flow, and the units, tools and library of its first point report."""
    return {"flow": flow, **{key: report[key] for key in ("area_unit", "delay_unit", "tools", "library")}}


def ratio_table(reports):
    """One row per ``(macs, k)`` of point reports, sorted: area, delay, ADP and, when
    the same MACS has k = 32, the ratios to it (``area_vs_k32``, ``delay_vs_k32``,
    ``adp_gain_vs_k32``)."""
    by = {(r["config"]["macs"], r["config"]["k"]): r for r in reports}
    rows = []
    for (macs, k), r in sorted(by.items()):
        base = by.get((macs, BASE_K))
        adp = r["area"] * r["delay"]
        row = {"macs": macs, "k": k, "area": r["area"], "delay": r["delay"], "adp": adp}
        if base is not None:
            row.update(area_vs_k32=r["area"] / base["area"], delay_vs_k32=r["delay"] / base["delay"],
                       adp_gain_vs_k32=base["area"] * base["delay"] / adp)
        rows.append(row)
    return rows


def compare_to_paper(reports):
    """Our k=32 -> 4 (and 8) reductions next to the paper's, per MACS."""
    rows = {(row["macs"], row["k"]): row for row in ratio_table(reports)}
    comparison = []
    for macs in sorted({m for m, _ in rows}):
        k4, k8 = rows.get((macs, 4)), rows.get((macs, 8))
        if k4 is None or "area_vs_k32" not in k4:
            continue
        comparison.append({
            "macs": macs,
            "area_reduction_k4_pct": round(100 * (1 - k4["area_vs_k32"]), 1),
            "paper_area_reduction_k4_pct": PAPER["area_reduction_k4_pct"].get(macs),
            "delay_reduction_k4_pct": round(100 * (1 - k4["delay_vs_k32"]), 1),
            "paper_delay_reduction_k4_pct": PAPER["delay_reduction_k4_pct"],
            "adp_gain_k4": round(k4["adp_gain_vs_k32"], 2),
            "paper_adp_gain_k4_min": PAPER["adp_ratio_k4_min"],
            "adp_gain_k8": None if k8 is None else round(k8["adp_gain_vs_k32"], 2),
            "paper_adp_gain_k8_min": PAPER["adp_ratio_k8_min"],
        })
    return comparison


# --- loaders -------------------------------------------------------------------------------------

#: Every measured number of the study (areas, delays, energies, counts, times) is 0
#: or within these bounds; outside them a file is damaged, and would print as
#: ``inf`` or hundreds of digits in a report.
PLAUSIBLE = (1e-12, 1e15)


def nonnegative_number(value):
    """A real number (not a bool) that is 0 or within :data:`PLAUSIBLE`."""
    return is_number(value, lo=0, hi=PLAUSIBLE[1]) and (value == 0 or value >= PLAUSIBLE[0])


def _read(path, remedy, *, absent=None):
    """The JSON at ``path`` (:func:`toolkit.validate.read_json`: bounded, every number
    finite); when the file is absent, ``absent`` (a message) is raised, or None is
    returned without one. A damaged file is one ValueError."""
    return read_json(path, remedy=remedy, absent=absent)


#: Keys a sweep document must hold to be plotted or reported.
SWEEP_KEYS = ("schema", "flow", "area_unit", "delay_unit", "tools", "library", "points")
#: Most points a sweep may hold (the default grid has 27; a full k x MACS grid 2,000).
MAX_SWEEP_POINTS = 10_000


def validate_sweep(document, source="the sweep"):
    """Return ``document`` if it is a plottable sweep, else raise one ValueError naming
    ``source`` and the field: typed header fields, a known flow, at most
    :data:`MAX_SWEEP_POINTS` points, each with a configuration in range, positive
    finite area and delay, a non-empty breakdown of finite areas, no two for one
    configuration."""
    if not isinstance(document, dict):
        raise ValueError(f"{source} is not a sweep document (a JSON object from 'python -m costmodel sweep')")
    missing = [key for key in SWEEP_KEYS if key not in document]
    if missing:
        raise ValueError(f"{source} is not a sweep document: it lacks {', '.join(missing)} "
                         "(write one with 'make sweep')")
    remedy = "re-run 'make sweep'"
    flow = document["flow"]
    if not isinstance(flow, str) or flow not in FLOWS:
        raise field_error(source, "flow", f"one of {', '.join(FLOWS)}", flow, remedy)
    remedy = f"re-run 'make sweep FLOW={flow}'"
    if document["schema"] != SCHEMA_VERSION:
        raise ValueError(f"{source} has schema version {json.dumps(document['schema'])[:20]}, this tool reads "
                         f"version {SCHEMA_VERSION}: {remedy}")
    for key in ("area_unit", "delay_unit"):
        if not isinstance(document[key], str) or not document[key]:
            raise field_error(source, key, "a unit name (a string)", document[key], remedy)
    if not isinstance(document["tools"], dict):
        raise field_error(source, "tools", "an object of tool versions", document["tools"], remedy)
    if not (document["library"] is None or isinstance(document["library"], dict)):
        raise field_error(source, "library", "an object (path, sha256) or null", document["library"], remedy)
    points = document["points"]
    if not isinstance(points, list) or not points:
        raise ValueError(f"{source} holds no points: run 'make sweep FLOW={flow}'")
    if len(points) > MAX_SWEEP_POINTS:
        raise ValueError(f"{source} holds {len(points)} points, more than {MAX_SWEEP_POINTS}: {remedy}")
    seen = set()
    for i, point in enumerate(points):
        _check_point(point, f"points[{i}]", source, remedy)
        config = point["config"]
        key = (config["k"], config["macs"], config.get("engines", 1))
        if key in seen:
            raise ValueError(f"{source}: points[{i}] repeats k={key[0]} macs={key[1]} engines={key[2]}: {remedy}")
        seen.add(key)
        if is_fpga(document):
            record = point.get("fpga")
            counts = FPGA_COLUMNS[:-1]
            if not isinstance(record, dict) or not all(nonnegative_number(record.get(key)) for key in counts) \
                    or not (record.get("fmax_mhz") is None or nonnegative_number(record["fmax_mhz"])):
                raise ValueError(f"{source}: point {i} of an FPGA sweep needs an fpga record with "
                                 f"non-negative {', '.join(counts)} and fmax_mhz (a number or null): {remedy}")
    return document


def _check_point(point, where, source, remedy):
    """One point of a sweep: its configuration in range, positive area and delay, a breakdown."""
    if not isinstance(point, dict) or not isinstance(point.get("config"), dict):
        raise field_error(source, f"{where}.config", "an object", point.get("config") if isinstance(point, dict)
                          else point, remedy)
    config = point["config"]
    for field, lo, hi in (("k", K_MIN, K_MAX), ("macs", 1, MACS_MAX), ("engines", 1, ENGINES_MAX)):
        if field == "engines" and field not in config:
            continue
        if not is_integer(config.get(field), lo=lo, hi=hi):
            raise field_error(source, f"{where}.config.{field}", f"an integer in {lo}..{hi}", config.get(field),
                              remedy)
    for field in ("area", "delay"):
        if not nonnegative_number(point.get(field)) or not point[field] > 0:
            raise field_error(source, f"{where}.{field}", "a positive number of a plausible size",
                              point.get(field), remedy)
    breakdown = point.get("breakdown")
    if not isinstance(breakdown, dict) or not breakdown or not all(
            isinstance(part, str) and nonnegative_number(area) for part, area in breakdown.items()):
        raise field_error(source, f"{where}.breakdown", "a non-empty object of non-negative areas", breakdown,
                          remedy)


def load_sweep(path):
    """The validated sweep document at ``path`` (one clear ValueError for anything wrong)."""
    return validate_sweep(_read(path, "make sweep", absent="run 'make sweep' first"), str(path))


_ENERGY_FIELDS = ("energy_pj_per_output", "internal_pj_per_output", "switching_pj_per_output",
                  "leakage_pj_per_output", "clock_ns", "cycles", "cycles_per_output")
_LAYOUT_POSITIVE = ("die_area_um2", "core_area_um2", "cell_area_um2", "synthesized_cell_area_um2",
                    "utilization", "target_utilization", "wire_length_um", "synthesized_delay_ns")
_LAYOUT_COUNTS = ("drc_errors", "unrouted_nets", "buffers_added", "cells")
_BEATS_FIELDS = ("k", "macs", "beats_per_output", "total_pj", "rescaler_pj", "macs_pj")


def load_point_report(path, *, k, macs, flow, remedy, engines=1, pre_skew=False):
    """The point report at ``path``, checked to be the report of ``(k, macs)`` in
    ``flow`` (one engine unless ``engines`` and ``pre_skew`` say which array); None
    when the file is absent.

    Its ``energy`` object, when it has one, and in the layout flow its ``layout``
    object are checked too. Anything wrong is a ValueError naming the file, the
    field and ``remedy``, the command that rewrites it.
    """
    report = _read(path, remedy)
    if report is None:
        return None

    def fail(why):
        raise ValueError(f"{path} {why}: re-run '{remedy}'")
    if not isinstance(report, dict) or not isinstance(report.get("config"), dict):
        fail("is not a synth report (a JSON object from 'python -m costmodel synth')")
    config = report["config"]
    def point(k, macs, engines, pre_skew, flow):
        return (f"k={k} macs={macs}" + (f" engines={engines}" if engines != 1 else "")
                + (" pre-skewed" if pre_skew else "") + f" ({flow} flow)")
    held = (config.get("k"), config.get("macs"), config.get("engines", 1), config.get("pre_skew", False),
            report.get("flow"))
    if held != (k, macs, engines, pre_skew, flow):
        fail(f"holds {point(*held)}, not {point(k, macs, engines, pre_skew, flow)}")
    if not all(nonnegative_number(report.get(key)) for key in ("area", "delay", "runtime_s", "cells")):
        fail("lacks a non-negative area, delay, cells or runtime_s")
    if "energy" in report:
        _check_energy(path, report["energy"], remedy)
    if flow == "layout":
        _check_layout(path, report.get("layout"), remedy)
    return report


def _check_energy(path, energy, remedy):
    if not isinstance(energy, dict) or not all(nonnegative_number(energy.get(key)) for key in _ENERGY_FIELDS) \
            or not energy["energy_pj_per_output"] > 0 or not isinstance(energy.get("stimulus"), str):
        raise ValueError(f"{path}: its energy object needs a stimulus, a positive energy_pj_per_output and "
                         f"non-negative {', '.join(_ENERGY_FIELDS[1:])}: re-run '{remedy}'")
    groups = energy.get("groups", {})
    if not isinstance(groups, dict) or not all(
            isinstance(g, dict) and nonnegative_number(g.get("energy_pj_per_output")) for g in groups.values()):
        raise ValueError(f"{path}: its energy groups need energy_pj_per_output: re-run '{remedy}'")
    if energy.get("outputs_match_golden") is not True:
        raise ValueError(f"{path}: the gate-level outputs are not recorded as matching the golden "
                         f"model: re-run '{remedy}'")


def _check_layout(path, layout, remedy):
    stages = ("pre_route", "post_route")
    ok = isinstance(layout, dict) and all(isinstance(layout.get(stage), dict) for stage in stages) \
        and all(nonnegative_number(v) and v > 0 for v in [layout.get(key) for key in _LAYOUT_POSITIVE]
                + [layout[stage].get("delay_ns") for stage in stages]) \
        and all(nonnegative_number(layout.get(key)) for key in _LAYOUT_COUNTS) \
        and isinstance(layout.get("wall_s"), dict)
    if not ok:
        raise ValueError(f"{path}: its layout object needs positive pre_route/post_route delay_ns, "
                         f"{', '.join(_LAYOUT_POSITIVE)}, non-negative {', '.join(_LAYOUT_COUNTS)} "
                         f"and wall_s: re-run '{remedy}'")


#: The published energy-beats document of each design, by ``operand_isolation``.
BEATS_FILES = {False: "energy_beats.json", True: "energy_beats_isolated.json"}


def load_energy_beats(path):
    """The rows of an energy-beats document (:data:`BEATS_FILES`) at ``path`` (None
    when absent), each with non-negative numbers for its point and energies and at
    least one beat per output."""
    path = Path(path)
    remedy = "make energy-beats" + (" OPERAND_ISOLATION=1" if path.name == BEATS_FILES[True] else "") + " PUBLISH=1"
    rows = _read(path, remedy)
    if rows is None:
        return None
    if not isinstance(rows, list) or not rows or not all(
            isinstance(r, dict) and all(nonnegative_number(r.get(key)) for key in _BEATS_FIELDS)
            and r["beats_per_output"] >= 1 for r in rows):
        raise ValueError(f"{path} is not a list of energy-beats rows with non-negative "
                         f"{', '.join(_BEATS_FIELDS)}: re-run '{remedy}'")
    return rows


def load_netlist_proofs(path):
    """The rows of the netlist = RTL table at ``path`` by ``(k, macs)``.

    Each row needs an integer ``k`` and ``macs``, a ``status`` and ``same_as_sweep``
    (true, false or null). A table that is there but damaged is a ValueError naming
    the file: a report must not silently show it as "no proofs".
    """
    remedy = "make formal-netlist PUBLISH=1"

    def fail(why):
        raise ValueError(f"{path} is not a readable netlist = RTL table ({why}): re-create it with '{remedy}'")
    try:
        document = _read(path, remedy, absent=f"run '{remedy}'")
    except ValueError as exc:
        fail(exc)
    points = document.get("points") if isinstance(document, dict) else None
    if not isinstance(points, list):
        fail("no list of points")
    rows = {}
    for i, row in enumerate(points):
        if not isinstance(row, dict):
            fail(f"point {i} is not an object")
        for field, ok in (("k", lambda v: isinstance(v, int)), ("macs", lambda v: isinstance(v, int)),
                          ("status", lambda v: isinstance(v, str)),
                          ("same_as_sweep", lambda v: v is None or isinstance(v, bool))):
            if field not in row or not ok(row[field]):
                fail(f"point {i} needs {field}")
        rows[(row["k"], row["macs"])] = row
    return rows


# --- the energy-per-output model -------------------------------------------------------------------

#: What every line of ``energy_model.json`` means: the engine's energy per output of
#: a dot product of ``beats`` beats (``ceil(length / macs)`` cycles of ``macs`` MACs).
ENERGY_MODEL = "energy per output (pJ) = fixed_pj + per_beat_pj * beats_per_output"
#: How a line was obtained: fitted to points measured at several beat counts, or
#: derived from fewer measurements plus a stated assumption (the line's ``how``).
LINE_KINDS = ("measured", "derived")
_LINE_NUMBERS = ("fixed_pj", "per_beat_pj")
_POINT_NUMBERS = ("beats", "energy_pj", "fitted_pj")


def validate_energy_model(document, source="the energy model"):
    """Return ``document`` if it is an energy model (:data:`ENERGY_MODEL`), else raise
    one ValueError naming ``source`` and the field."""
    remedy = "make energy-model PUBLISH=1"

    def fail(why):
        raise ValueError(f"{source} {why}: re-run '{remedy}'")
    if not isinstance(document, dict):
        fail("is not an energy model (a JSON object)")
    if document.get("schema") != SCHEMA_VERSION:
        fail(f"has schema version {document.get('schema')!r}, this tool reads version {SCHEMA_VERSION}")
    for key in ("model", "flow", "unit", "activity", "provenance"):
        if key not in document:
            fail(f"lacks {key}")
    lines = document.get("lines")
    if not isinstance(lines, list) or not lines:
        fail("holds no lines")
    seen = set()
    for i, line in enumerate(lines):
        ok = isinstance(line, dict) and all(isinstance(line.get(key), int) and not isinstance(line.get(key), bool)
                                            for key in ("k", "macs")) \
            and isinstance(line.get("operand_isolation"), bool) and line.get("kind") in LINE_KINDS \
            and isinstance(line.get("how"), str) and all(is_number(line.get(key)) for key in _LINE_NUMBERS) \
            and line["per_beat_pj"] > 0 and line["fixed_pj"] + line["per_beat_pj"] > 0
        if not ok:
            fail(f"line {i} needs integer k and macs, a boolean operand_isolation, kind ({' or '.join(LINE_KINDS)}), "
                 f"how, a finite fixed_pj and a positive per_beat_pj")
        points = line.get("points")
        if not isinstance(points, list) or not points or not all(
                isinstance(p, dict) and all(is_number(p.get(key)) for key in _POINT_NUMBERS) and p["beats"] >= 1
                and isinstance(p.get("source"), str) for p in points):
            fail(f"line {i} needs the points it was fitted from (beats >= 1, energy_pj, fitted_pj, source)")
        key = (line["k"], line["macs"], line["operand_isolation"])
        if key in seen:
            fail(f"has two lines for k={key[0]} macs={key[1]} operand_isolation={key[2]}")
        seen.add(key)
    return document


def load_energy_model(path):
    """The validated energy model at ``path`` (None when the file is absent)."""
    document = _read(path, "make energy-model PUBLISH=1")
    return None if document is None else validate_energy_model(document, str(path))


def energy_line(document, k, macs, *, operand_isolation=False):
    """``(fixed_pj, per_beat_pj, basis)`` of ``(k, macs)`` from a validated energy model,
    or None when it holds nothing for it.

    ``basis`` says where the numbers come from: the line's own kind (``"measured"`` or
    ``"derived"``), or ``"interpolated in k between k=a (kind) and k=b (kind)"`` for a
    ``k`` between two lines of the same MACS and isolation (linear in ``k``, the way
    the rescaler's multiplier grows). Never extrapolated.
    """
    lines = {line["k"]: line for line in document["lines"]
             if line["macs"] == macs and line["operand_isolation"] == operand_isolation}
    if k in lines:
        line = lines[k]
        return line["fixed_pj"], line["per_beat_pj"], line["kind"]
    below = [j for j in lines if j < k]
    above = [j for j in lines if j > k]
    if not below or not above:
        return None
    a, b = lines[max(below)], lines[min(above)]
    t = (k - a["k"]) / (b["k"] - a["k"])
    fixed, per_beat = ((1 - t) * a[key] + t * b[key] for key in _LINE_NUMBERS)
    return fixed, per_beat, f"interpolated in k between k={a['k']} ({a['kind']}) and k={b['k']} ({b['kind']})"


def beats_per_output(length, macs):
    """Cycles one output of a ``length``-term dot product takes on ``macs`` MACs."""
    return -(-int(length) // int(macs))


def energy_per_inference(document, layers, *, k, macs, operand_isolation=False):
    """Energy of one inference on one engine, from a validated energy model.

    ``layers`` is a sequence of ``(outputs, length)``: per dot-product layer, the
    outputs one inference computes and the length of each output's dot product.
    Returns ``{"total_pj", "layers_pj": [...], "basis"}`` (:func:`energy_line`), or
    None when the model holds nothing for ``(k, macs)``. Only the engine's energy:
    no memory traffic, no other op.
    """
    line = energy_line(document, k, macs, operand_isolation=operand_isolation)
    if line is None:
        return None
    fixed, per_beat, basis = line
    layers_pj = [outputs * (fixed + per_beat * beats_per_output(length, macs)) for outputs, length in layers]
    return {"total_pj": float(sum(layers_pj)), "layers_pj": [float(v) for v in layers_pj], "basis": basis}
