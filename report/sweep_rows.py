"""A sweep document arranged for tables and figures: rows per MACS, ratios, labels.

Reads a sweep validated by :func:`costmodel.published.load_sweep` (what
``make sweep`` wrote) and the analytic model's coefficients
(``costmodel/coefficients_<flow>.json``); the ratios to k = 32 are computed by
:func:`costmodel.published.ratio_table`, the very function that wrote them into
the sweep. Used by the ASIC and FPGA sections and by every figure.
"""

from pathlib import Path

from costmodel import analytic
from costmodel.published import DEFAULT_LIBERTY, ratio_table
from hw.config import DatapathConfig

__all__ = ["PART_ORDER", "PART_LABELS", "is_liberty", "swept_ks", "missing_points", "rows_by_macs",
           "area_ratios", "node_label", "flow_label", "load_model", "model_points", "ordered_parts", "sweep_date"]

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


def is_liberty(document):
    """Whether the sweep was mapped onto a liberty library (it records one)."""
    return document["library"] is not None


def swept_ks(rows):
    """The k values of :func:`rows_by_macs`-shaped rows, sorted."""
    return sorted({r["k"] for macs_rows in rows.values() for r in macs_rows})


def missing_points(document, ks, macs):
    """The ``(k, macs)`` pairs of the grid ``ks`` x ``macs`` that the sweep lacks."""
    have = {(p["config"]["k"], p["config"]["macs"]) for p in document["points"]}
    return [(k, n) for n in macs for k in ks if (k, n) not in have]


def rows_by_macs(document):
    """``{macs: [row, ...]}``, rows sorted by k: area, delay, ADP, point and ratios to k = 32."""
    points = {(p["config"]["macs"], p["config"]["k"]): p for p in document["points"]}
    table = {}
    for row in ratio_table(document["points"]):
        if "adp_gain_vs_k32" in row:
            row["adp_vs_k32"] = 1 / row["adp_gain_vs_k32"]
        table.setdefault(row["macs"], []).append({**row, "point": points[(row["macs"], row["k"])]})
    return table


def area_ratios(document):
    """``{(macs, k): area_vs_k32}`` of a validated sweep (points whose MACS has k = 32)."""
    return {(r["macs"], r["k"]): r["area_vs_k32"] for macs_rows in rows_by_macs(document).values()
            for r in macs_rows if "area_vs_k32" in r}


def _node(document):
    """The node a liberty sweep's report names; for a sweep published before reports
    named one, OSU 0.18 um for the default library; else None."""
    library = document["library"]
    if library.get("node"):
        return library["node"]
    return "OSU 0.18 um" if Path(library.get("path", "?")).name == DEFAULT_LIBERTY.name else None


def node_label(document):
    """The technology of a liberty sweep, for sentences: its node, else its library's name."""
    return _node(document) or f"cells of {Path(document['library'].get('path', '?')).name}"


def flow_label(document):
    """What the numbers were measured with, for titles: flow, library, units."""
    if is_liberty(document):
        name = Path(document["library"].get("path", "?")).name
        node = _node(document)
        timing = "OpenSTA" if "sta" in document["tools"] else "logic levels"
        return f"{document['flow']} flow, {f'{node} cells' if node else f'cells of {name}'} ({name}), Yosys + {timing}"
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
    model = analytic.Model.load(flow, path)
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


def sweep_date(document):
    """The sweep's date (``YYYY-MM-DD``) from its ``date`` field; None for a sweep
    written before sweeps carried one."""
    return str(document["date"])[:10] if document.get("date") else None
