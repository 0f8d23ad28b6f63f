"""Accuracy vs cost: the joint view of the trade-off (``make pareto``).

Joins the network's accuracy per rescaler width ``k`` (``reports/accuracy.json``
from ``make accuracy``; the rescale-aware fine-tuned accuracies of
``reports/finetune.json`` when present) with the synthesized area and delay of
the dot-product engine per ``(k, MACS)`` (``reports/sweep_<flow>.json`` from
``make sweep``), and marks, per MACS, the Pareto-optimal widths: no other width
is at most as large (area, or area-delay product) and at least as accurate, with
one of the two strictly better. Writes ``reports/pareto.json``, ``pareto.md`` and
``pareto.png``; with ``workload="mnist1d"`` the same view of the MNIST-1D network
(``reports/mnist1d_accuracy.json``, ``mnist1d_finetune.json``; mean over seeds) in
``reports/pareto_mnist1d.*``.
"""

import json
from pathlib import Path

from toolkit.cli import write_atomically
from toolkit.figures import pyplot, save

__all__ = ["WORKLOADS", "load_points", "pareto_front", "pareto_report"]

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def _read(path, what):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run {what} first")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def _mnist1d_as_digits(accuracy, finetune):
    """The MNIST-1D reports (mean accuracy over seeds) in the digits reports' shape."""
    rows = [{"k": row["k"], "truncate": {"accuracy": row["accuracy"]}} for row in accuracy["rows"] if row["k"]]
    k32 = next((row["accuracy"] for row in accuracy["rows"] if row["k"] == 32), None)
    runs = [{"k": row["k"], "retrained": row["rat"]["accuracy"]} for row in (finetune or {}).get("rows", [])]
    return {"rows": rows, "int8_k32_accuracy": k32}, ({"runs": runs} if finetune else None)


#: Per workload: default report paths (relative to reports/), the output stem, the title.
WORKLOADS = {
    "digits": ("accuracy.json", "finetune.json", "pareto", "Digits CNN"),
    "mnist1d": ("mnist1d_accuracy.json", "mnist1d_finetune.json", "pareto_mnist1d",
                "MNIST-1D network (mean of seeds)"),
}


def load_points(accuracy, sweep, finetune=None):
    """One point per ``(MACS, k)`` present in both reports (plus ``k+RAT`` points for the
    fine-tuned widths): ``macs``, ``k``, ``label``, ``accuracy``, ``area``, ``delay``,
    ``adp``, and ``area_rel`` / ``adp_rel`` to the same MACS at k = 32."""
    acc = {row["k"]: row["truncate"]["accuracy"] for row in accuracy["rows"]}
    rat = {run["k"]: run["retrained"] for run in (finetune or {}).get("runs", [])}
    cost = {}
    for p in sweep["points"]:
        c = p["config"]
        if c.get("engines", 1) == 1:
            cost[(c["macs"], c["k"])] = (p["area"], p["delay"])
    points = []
    for macs in sorted({m for m, _ in cost}):
        ref = cost.get((macs, 32))
        for k in sorted({k for m, k in cost if m == macs}, reverse=True):
            variants = [(str(k), acc.get(k), False)] + ([(f"{k}+RAT", rat[k], True)] if k in rat else [])
            for label, a, tuned in variants:
                if a is None:
                    continue
                area, delay = cost[(macs, k)]
                points.append({"macs": macs, "k": k, "label": label, "finetuned": tuned, "accuracy": a,
                               "area": area, "delay": delay, "adp": area * delay,
                               "area_rel": area / ref[0] if ref else None,
                               "adp_rel": area * delay / (ref[0] * ref[1]) if ref else None})
    if not points:
        raise ValueError("no width k is in both the accuracy report and the sweep")
    return points


def pareto_front(points, cost):
    """Labels of the points not dominated in (``cost`` lower, accuracy higher)."""
    front = []
    for p in points:
        dominated = any(q[cost] <= p[cost] and q["accuracy"] >= p["accuracy"]
                        and (q[cost] < p[cost] or q["accuracy"] > p["accuracy"]) for q in points)
        if not dominated:
            front.append(p["label"])
    return front


def pareto_report(accuracy=None, sweep=REPORTS / "sweep_liberty.json", finetune=None, out=REPORTS, log=print,
                  workload="digits"):
    """Build the joint table and plot for ``workload`` (a key of :data:`WORKLOADS`);
    returns the report dict."""
    if workload not in WORKLOADS:
        raise ValueError(f"workload must be one of {', '.join(WORKLOADS)}, not {workload!r}")
    acc_name, ft_name, stem, title = WORKLOADS[workload]
    accuracy = REPORTS / acc_name if accuracy is None else accuracy
    finetune = REPORTS / ft_name if finetune is None else finetune
    acc = _read(accuracy, "make accuracy")
    sw = _read(sweep, "make sweep")
    ft = _read(finetune, "make finetune") if Path(finetune).is_file() else None
    if workload == "mnist1d":
        acc, ft = _mnist1d_as_digits(acc, ft)
    points = load_points(acc, sw, ft)
    fronts = {}
    for macs in sorted({p["macs"] for p in points}):
        mine = [p for p in points if p["macs"] == macs]
        fronts[macs] = {"area": pareto_front(mine, "area"), "adp": pareto_front(mine, "adp")}
        for p in mine:
            p["pareto_area"] = p["label"] in fronts[macs]["area"]
            p["pareto_adp"] = p["label"] in fronts[macs]["adp"]
    result = {"accuracy_report": Path(accuracy).name, "sweep": Path(sweep).name,
              "finetune_report": Path(finetune).name if ft else None,
              "flow": sw.get("flow"), "area_unit": sw.get("area_unit"), "delay_unit": sw.get("delay_unit"),
              "int8_k32_accuracy": acc.get("int8_k32_accuracy"), "points": points, "title": title,
              "pareto": {str(m): f for m, f in fronts.items()}}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / f"{stem}.json", json.dumps(result, indent=1) + "\n")
    write_atomically(out / f"{stem}.md", _markdown(result))
    _plot(result, out / f"{stem}.png")
    for macs, f in fronts.items():
        log(f"MACS={macs}: Pareto-optimal k (accuracy vs area): {', '.join(f['area'])}; "
            f"(accuracy vs ADP): {', '.join(f['adp'])}")
    log(f"wrote {out}/{stem}.json, {stem}.md, {stem}.png")
    return result


def _markdown(r):
    au, du = r["area_unit"], r["delay_unit"]
    ft = f", {r['finetune_report']}" if r["finetune_report"] else ""
    lines = [f"# Accuracy vs cost per rescaler width k: {r.get('title', 'Digits CNN')} ({r['flow']} flow)", "",
             (f"Accuracy: {r['accuracy_report']} (test set, truncation){ft}; cost: {r['sweep']}. "
              f"int8 accuracy at k = 32: {r['int8_k32_accuracy']:.2f} %. `+RAT`: after rescale-aware "
              "fine-tuning. Pareto: not dominated within the same MACS."), "",
             f"| MACS | k | accuracy (%) | area ({au}) | area vs k=32 | delay ({du}) | ADP vs k=32 | Pareto (area) | Pareto (ADP) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in r["points"]:
        rel = lambda v: "n/a" if v is None else f"{v:.3f}"
        lines.append(f"| {p['macs']} | {p['label']} | {p['accuracy']:.2f} | {p['area']:,.0f} | {rel(p['area_rel'])} | "
                     f"{p['delay']:.2f} | {rel(p['adp_rel'])} | {'yes' if p['pareto_area'] else ''} | "
                     f"{'yes' if p['pareto_adp'] else ''} |")
    return "\n".join(lines) + "\n"


def _plot(r, path):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, cost, flag, name in ((axes[0], "area_rel", "pareto_area", "area"),
                                 (axes[1], "adp_rel", "pareto_adp", "area-delay product")):
        for i, macs in enumerate(sorted({p["macs"] for p in r["points"]})):
            c = colors[i % len(colors)]
            plain = [p for p in r["points"] if p["macs"] == macs and not p["finetuned"]]
            ax.plot([p[cost] for p in plain], [p["accuracy"] for p in plain], "-", color=c, alpha=0.5,
                    label=f"{macs} MACs")
            for p in r["points"]:
                if p["macs"] != macs:
                    continue
                marker = "*" if p["finetuned"] else "o"
                ax.plot(p[cost], p["accuracy"], marker, color=c, ms=11 if p["finetuned"] else 6,
                        mfc=c if p[flag] else "white")
                ax.annotate(p["label"], (p[cost], p["accuracy"]), textcoords="offset points",
                            xytext=(3, 4 if p["finetuned"] else -10), fontsize=7, color=c)
        ax.set_xlabel(f"{name} relative to k = 32 (same MACS)")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.set_title(f"accuracy vs {name} (filled: Pareto-optimal, *: fine-tuned)", fontsize=9)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{r.get('title', 'Digits CNN')} accuracy vs dot-product engine cost ({r['flow']} flow)")
    fig.tight_layout()
    save(fig, path, dpi=110)
