"""An FPGA sweep arranged for the FPGA section and its figure: resources per point,
rows per MACS, the DSP tiles' steps, the seed controls' spread.

Reads FPGA sweeps validated by :func:`costmodel.published.load_sweep`: every point
carries its ``fpga`` record (LUT4s, flip-flops, DSP tiles, block RAMs, fmax), the
numbers read here.
"""

from pathlib import Path

from costmodel.published import FPGA_DSP_TILES

from . import sweep_rows

__all__ = ["fpga_sweeps", "controls", "resources", "rows_by_macs", "tiles_per_mac", "dsp_steps", "seed_spread"]


def fpga_sweeps(*roots):
    """``[(flow, path)]`` of the FPGA sweeps present in the reports roots, in flow
    order: each flow's from the first root that has one."""
    found = []
    for name in FPGA_DSP_TILES:
        path = next((p for p in (Path(root) / f"sweep_{name}.json" for root in roots) if p.exists()), None)
        if path is not None:
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


def resources(point):
    """``{"luts", "ffs", "dsps", "brams", "fmax_mhz"}`` of one FPGA sweep point, from its
    ``fpga`` record (fmax is None for a design without a register-to-register path)."""
    return {key: point["fpga"][key] for key in ("luts", "ffs", "dsps", "brams", "fmax_mhz")}


def rows_by_macs(document):
    """``{macs: [row, ...]}``, rows sorted by k: the resources, delay, LUT4 x ns and
    the ratios to k = 32 (LUT4s, DSP tiles, LUT4 x ns gain) where k = 32 is swept."""
    by_macs = {}
    for macs, macs_rows in sweep_rows.rows_by_macs(document).items():
        rows = []
        for r in macs_rows:
            row = {"k": r["k"], "delay": r["delay"], "lut_delay": r["adp"], **resources(r["point"])}
            if "area_vs_k32" in r:
                row.update(luts_vs_k32=r["area_vs_k32"], lut_delay_gain_vs_k32=r["adp_gain_vs_k32"])
            rows.append(row)
        by_macs[macs] = rows
    return by_macs


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


def seed_spread(document, control_documents):
    """Place-and-route noise from seed controls: ``(seeds, [(macs, k, luts, fmaxes, dsps)], luts_pct,
    fmax_pct)`` over the points the controls share with ``document``, each list in
    seed order, and the largest range over mean (%) of LUT4s and of fmax; None
    without a shared point."""
    def seed(doc):
        return next((p["fpga"].get("seed") for p in doc["points"] if p.get("fpga")), None)

    docs = [document] + list(control_documents)
    by_doc = [{(p["config"]["macs"], p["config"]["k"]): resources(p) for p in doc["points"]}
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
