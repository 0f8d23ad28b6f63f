"""Every rescaler architecture variant through the same sweep, side by side.

``python -m costmodel variants`` synthesizes the engine for each variant of
:data:`VARIANTS` over a k x MACS grid (through the synthesis cache, in one run so
every ratio compares points of the same flow and tools), and writes
``reports/variants_<flow>.json`` and ``reports/VARIANTS.md``: area, delay and ADP
per point, the best variant per (k, MACS), and the target check: a k = 4 engine
with a critical path at least 50 % shorter than the k = 32 engine of the paper's
datapath and an area reduction at least the paper's, per MACS.

A synthesized variant is an RTL variant of :data:`hw.variants.VARIANTS` times a
rescaler pipeline depth times the synthesis option ``booth``
(:data:`COMPARED`); its name and options are derived from those three, and its
proof is the RTL variant's (``make formal`` proves every RTL variant at every
depth).
"""

import json
import time

from hw.config import ARCH_FIELDS, DatapathConfig
from hw.variants import PAPER_VARIANT, variant_of
from hw.variants import VARIANTS as RTL_VARIANTS
from toolkit.files import write_atomically
from toolkit.markdown import table

from . import sweep as sweep_mod
from .published import PAPER, header

__all__ = ["COMPARED", "VARIANTS", "BASELINE", "variant_name", "run", "analyse", "to_markdown", "main"]

_DEFAULT_PIPELINE = DatapathConfig().rescaler_pipeline


def variant_name(rtl, rescaler_pipeline=_DEFAULT_PIPELINE, booth=False):
    """``[p<depth>_]<rtl>[_booth]``: the name of a synthesized variant (the depth
    only when it is not the default)."""
    depth = "" if rescaler_pipeline == _DEFAULT_PIPELINE else f"p{rescaler_pipeline}_"
    return f"{depth}{rtl}{'_booth' * booth}"


#: The synthesized variants: (RTL variant, rescaler_pipeline, booth). ``p2`` puts a
#: register after the round-and-shift stage (one cycle more latency); ``p3`` adds
#: one after the multiplier.
COMPARED = (
    ("paper", 1, False), ("fast_clamp", 1, False), ("trim_fast", 1, False), ("trim_fast_hidden", 1, False),
    ("paper", 1, True),
    ("paper", 2, False), ("fast_clamp", 2, False), ("trim_fast", 2, False), ("trim_fast_hidden", 2, False),
    ("trim_fast", 2, True),
    ("trim_fast", 3, False),
)
#: Variant name -> DatapathConfig fields (every RTL option, the depth and ``booth``).
VARIANTS = {variant_name(rtl, depth, booth): {**RTL_VARIANTS[rtl], "rescaler_pipeline": depth, "booth": booth}
            for rtl, depth, booth in COMPARED}
#: The reference every ratio is taken against (at k = 32): the paper's datapath.
BASELINE = variant_name(PAPER_VARIANT)


def _options(fields):
    """The options a variant turns on, e.g. ``trim_shift, fast_clamp, rescaler_pipeline=2``."""
    on = [field for field in ARCH_FIELDS if fields.get(field)]
    if fields.get("rescaler_pipeline", _DEFAULT_PIPELINE) != _DEFAULT_PIPELINE:
        on.append(f"rescaler_pipeline={fields['rescaler_pipeline']}")
    return ", ".join(on) or "none"


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
                     DatapathConfig(**c).latency, "area": r["area"],
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
        "variants": {name: {"overrides": VARIANTS[name], "proof": variant_of(VARIANTS[name])} for name in results},
        "baseline": f"paper's datapath (variant {BASELINE}: no architecture option, mac_pipeline=1, "
                    "rescaler_pipeline=1) at k = 32, same run",
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
        (name, _options(v["overrides"]),
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
