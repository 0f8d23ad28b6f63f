"""Every rescaler architecture variant through the same sweep, side by side.

``python -m costmodel variants`` synthesizes the engine for each variant of
:data:`VARIANTS` over a k x MACS grid (through the synthesis cache, in one run so
every ratio compares points of the same flow and tools), and writes
``reports/variants_<flow>.json`` and ``reports/VARIANTS.md``: area, delay and ADP
per point, the best variant per (k, MACS), and the check of issue #8: a k = 4
engine with a critical path at least 50 % shorter than the k = 32 baseline engine
(default configuration) and an area reduction at least the paper's, per MACS.
"""

import json
import time

from toolkit.files import write_atomically
from toolkit.markdown import table

from . import sweep as sweep_mod
from .published import PAPER, header

__all__ = ["VARIANTS", "BASELINE", "run", "analyse", "to_markdown", "main"]

#: Variant name -> DatapathConfig overrides (everything else default; ``fast_clamp`` is
#: always explicit since it is on by default). ``baseline`` is the paper's datapath.
#: ``p2`` is ``rescaler_pipeline=2``: a register after the round-and-shift stage (one
#: cycle more latency); ``p3`` adds one after the multiplier.
VARIANTS = {
    "baseline": {"fast_clamp": False},
    "fast_clamp": {"fast_clamp": True},
    "trim_fast": {"trim_shift": True, "fast_clamp": True},
    "trim_fast_hidden": {"trim_shift": True, "fast_clamp": True, "hidden_bit": True},
    "booth": {"booth": True, "fast_clamp": False},
    "p2": {"rescaler_pipeline": 2, "fast_clamp": False},
    "p2_fast_clamp": {"rescaler_pipeline": 2, "fast_clamp": True},
    "p2_trim_fast": {"rescaler_pipeline": 2, "trim_shift": True, "fast_clamp": True},
    "p2_trim_fast_hidden": {"rescaler_pipeline": 2, "trim_shift": True, "fast_clamp": True,
                            "hidden_bit": True},
    "p2_trim_fast_booth": {"rescaler_pipeline": 2, "trim_shift": True, "fast_clamp": True, "booth": True},
    "p3_trim_fast": {"rescaler_pipeline": 3, "trim_shift": True, "fast_clamp": True},
}
#: The reference every ratio is taken against: the default engine at k = 32.
BASELINE = "baseline"
#: Which formal proof covers each variant's RTL (``costmodel.formal.VARIANTS``).
PROOF = {"baseline": "plain", "fast_clamp": "fast_clamp", "trim_fast": "trim_fast",
         "trim_fast_hidden": "all", "booth": "plain (+ booth netlist proof)", "p2": "plain",
         "p2_fast_clamp": "fast_clamp", "p2_trim_fast": "trim_fast", "p2_trim_fast_hidden": "all",
         "p2_trim_fast_booth": "trim_fast (+ booth netlist proof)", "p3_trim_fast": "trim_fast"}


def run(ks, macs, request, *, jobs=2, yosys=None, progress=None):
    """Synthesize every variant; returns ``{variant: [report, ...]}`` and the runtime."""
    start = time.monotonic()
    results = {}
    for name, overrides in VARIANTS.items():
        grid = sweep_mod.Sweep.grid(ks, macs, request, yosys=yosys, **overrides)
        if progress is not None:
            print(f"variant {name}: {len(grid.configs)} configurations", file=progress, flush=True)
        results[name] = sweep_mod.run_sweep(grid, jobs=jobs, **({"progress": progress} if progress else {}))
    return results, time.monotonic() - start


def analyse(results, request, runtime_s):
    """The variants document: points, ratios to the k = 32 baseline, best per point, check."""
    base = {r["config"]["macs"]: r for r in results[BASELINE] if r["config"]["k"] == 32}
    points = []
    for name, reports in results.items():
        for r in reports:
            c = r["config"]
            b = base.get(c["macs"])
            point = {"variant": name, "k": c["k"], "macs": c["macs"], "latency_cycles":
                     c["mac_pipeline"] + 1 + c["rescaler_pipeline"], "area": r["area"],
                     "delay": r["delay"], "adp": round(r["area"] * r["delay"], 1),
                     "breakdown": r["breakdown"]}
            if b is not None:
                point.update(area_reduction_pct=round(100 * (1 - r["area"] / b["area"]), 2),
                             delay_reduction_pct=round(100 * (1 - r["delay"] / b["delay"]), 2),
                             adp_gain=round(b["area"] * b["delay"] / (r["area"] * r["delay"]), 3))
            points.append(point)
    best = []
    for k, macs in sorted({(p["k"], p["macs"]) for p in points}):
        here = [p for p in points if (p["k"], p["macs"]) == (k, macs)]
        best.append({"k": k, "macs": macs,
                     "best_adp": min(here, key=lambda p: p["adp"])["variant"],
                     "best_delay": min(here, key=lambda p: p["delay"])["variant"],
                     "best_area": min(here, key=lambda p: p["area"])["variant"]})
    checks = []
    for name in results:
        k4 = {p["macs"]: p for p in points if p["variant"] == name and p["k"] == 4}
        rows = []
        for macs, p in sorted(k4.items()):
            paper = PAPER["area_reduction_k4_pct"].get(macs)
            rows.append({"macs": macs, "delay_reduction_pct": p.get("delay_reduction_pct"),
                         "area_reduction_pct": p.get("area_reduction_pct"), "paper_area_reduction_pct": paper,
                         "delay_ok": p.get("delay_reduction_pct", 0) >= 50.0,
                         "area_ok": paper is not None and p.get("area_reduction_pct", 0) >= paper})
        checks.append({"variant": name, "rows": rows,
                       "passes": bool(rows) and all(r["delay_ok"] and r["area_ok"] for r in rows)})
    return {
        **header(request.flow, results[BASELINE][0]),
        "runtime_s": round(runtime_s, 1),
        "variants": {name: {"overrides": VARIANTS[name], "proof": PROOF[name]} for name in results},
        "baseline": "paper's datapath (mac_pipeline=1, rescaler_pipeline=1, fast_clamp=False, no "
                    "other option; the default before issue #8) at k = 32, same run",
        "points": points,
        "best": best,
        "must_show": {"criterion": "k = 4: critical path >= 50 % shorter than the k = 32 baseline engine "
                                   "and area reduction >= the paper's, for every MACS",
                      "checks": checks,
                      "passing_variants": [c["variant"] for c in checks if c["passes"]]},
    }


def to_markdown(doc):
    """``reports/VARIANTS.md``: the document as tables."""
    unit, dunit = doc["area_unit"], doc["delay_unit"]
    lines = ["# Rescaler architecture variants (generated by `python -m costmodel variants`)", "",
             f"Flow: {doc['flow']} ({doc['tools']['yosys']['version']}; "
             f"{(doc['library'] or {}).get('path', 'no library')}), all points in one run "
             f"({doc['runtime_s']} s). Ratios are against the {doc['baseline']}.", ""]
    lines += table(("variant", "options", "latency (cycles, engine)", "formal proof"), (
        (name, ", ".join(f"{k}={v2}" for k, v2 in v["overrides"].items()) or "defaults",
         next(p["latency_cycles"] for p in doc["points"] if p["variant"] == name), v["proof"])
        for name, v in doc["variants"].items()), align="l")
    lines += ["", "## Must-show: k = 4 engine vs the k = 32 baseline", ""]
    lines += table(("variant", "MACS", "delay -% (>= 50)", "area -%", "paper area -%", "pass"), (
        (c["variant"], r["macs"], r["delay_reduction_pct"], r["area_reduction_pct"], r["paper_area_reduction_pct"],
         "yes" if r["delay_ok"] and r["area_ok"] else "no")
        for c in doc["must_show"]["checks"] for r in c["rows"]), align="l")
    lines += ["", "Variants passing for every MACS: " + (", ".join(doc["must_show"]["passing_variants"]) or "none"),
              "", "## Best variant per k and MACS", ""]
    lines += table(("k", "MACS", "best ADP", "best delay", "best area"), (
        (b["k"], b["macs"], b["best_adp"], b["best_delay"], b["best_area"]) for b in doc["best"]), align="l")
    lines += ["", f"## Every point (area {unit}, delay {dunit}, ADP gain vs the k = 32 baseline)", ""]
    lines += table(("variant", "k", "MACS", "area", "delay", "ADP gain", "area -%", "delay -%"), (
        (p["variant"], p["k"], p["macs"], f"{p['area']:,.0f}", f"{p['delay']:.2f}", p.get("adp_gain"),
         p.get("area_reduction_pct"), p.get("delay_reduction_pct"))
        for p in sorted(doc["points"], key=lambda p: (p["k"], p["macs"], p["variant"]))), align="l")
    return "\n".join(lines) + "\n"


def main(ks, macs, request, *, jobs=2, yosys=None, out_dir="reports", progress=None):
    import sys
    from pathlib import Path

    if 32 not in ks or 4 not in ks:
        ks = sorted(set(ks) | {4, 32})
    results, runtime = run(ks, macs, request, jobs=jobs, yosys=yosys, progress=progress or sys.stdout)
    doc = analyse(results, request, runtime)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / f"variants_{request.flow}.json", json.dumps(doc, indent=2) + "\n")
    write_atomically(out / "VARIANTS.md", to_markdown(doc))
    print(f"passing the k = 4 check: {', '.join(doc['must_show']['passing_variants']) or 'none'}")
    print(f"report    {out / f'variants_{request.flow}.json'}, {out / 'VARIANTS.md'}")
    return 0
