"""Accuracy vs cost: the joint view of the trade-off (``make pareto``).

Joins a network's accuracy per rescaler width ``k`` with the synthesized area and
delay of the dot-product engine per ``(k, MACS)`` (``reports/sweep_<flow>.json``
from ``make sweep``), and marks, per MACS, the Pareto-optimal widths: no other width
is at most as large (area, or area-delay product) and at least as accurate (mean),
with one of the two strictly better.

Every accuracy comes with its statistics, all on one evaluation set per workload:
the mean over seeds (one model for the digits CNN) with a bootstrap 95 % CI over
test samples, and the paired difference against the same network at ``k = 32``
(paired-bootstrap 95 % CI, McNemar's p). The rescale-aware fine-tuned points
(``k+RAT``) are evaluated on exactly the samples (and seeds) of the plain widths,
which is checked.

* ``workload="digits"``: ``reports/accuracy.json`` (``make accuracy``) and
  ``reports/finetune.json`` (``make finetune``) -> ``reports/pareto.*``.
* ``workload="mnist1d"``: ``reports/mnist1d_accuracy.json`` and
  ``mnist1d_finetune.json`` -> ``reports/pareto_mnist1d.*``.
"""

import json
from pathlib import Path

from costmodel.published import load_sweep
from sim.golden import K_MAX, K_MIN
from toolkit.files import write_atomically
from toolkit.validate import field_error, is_integer, is_number, read_json
from toolkit.figures import pyplot, save

__all__ = ["WORKLOADS", "load_points", "pareto_front", "pareto_report"]

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def _read(path, what):
    """The JSON at ``path`` (:func:`toolkit.validate.read_json`: bounded; ``NaN`` marks
    the per-channel statistics of an empty channel, and the fields read here are
    checked finite)."""
    return read_json(path, remedy=what, absent=f"run {what} first", nan=True)


def _rows(document, name, field, *, k_optional=False):
    """``document[field]``, checked to be a non-empty list of objects, each with a
    width ``k`` in range (or None where ``k_optional``: a float reference row)."""
    if not isinstance(document, dict):
        raise ValueError(f"{name} is not an accuracy report (a JSON object with {field}): regenerate it")
    rows = document.get(field)
    if not isinstance(rows, list) or not rows:
        raise field_error(name, field, "a non-empty list of rows", rows, "regenerate it")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise field_error(name, f"{field}[{i}]", "an object", row, "regenerate it")
        k = row.get("k")
        if not (is_integer(k, lo=K_MIN, hi=K_MAX) or (k_optional and k is None)):
            raise field_error(name, f"{field}[{i}].k", f"an integer in {K_MIN}..{K_MAX}", k, "regenerate it")
    return rows


def _count(document, name, field):
    """Check that ``document[field]`` (an accuracy report's sample count) is a positive integer."""
    if not isinstance(document, dict) or not is_integer(document.get(field), lo=1):
        raise field_error(name, field, "a positive integer",
                          document.get(field) if isinstance(document, dict) else document, "regenerate it")


def _stats(summary, vs_k32, where):
    """One point's statistics from a report's ``summary`` (accuracy, ci95) and
    ``vs_k32`` (None for k = 32 itself: the reference); percentages in 0..100 (the
    difference in -100..100), a p-value in 0..1."""
    def interval(value, lo):
        return isinstance(value, list) and len(value) == 2 and all(is_number(v, lo=lo, hi=100) for v in value)
    if not isinstance(summary, dict) or not (isinstance(vs_k32, dict) or vs_k32 is None):
        raise ValueError(f"{where}: no confidence intervals (a report from an older version): "
                         "regenerate it (make accuracy, make finetune)")
    if not is_number(summary.get("accuracy"), lo=0, hi=100) or not interval(summary.get("ci95"), 0):
        raise ValueError(f"{where}: accuracy must be a percentage with its ci95 [low, high]: regenerate it "
                         "(make accuracy, make finetune)")
    point = {"accuracy": float(summary["accuracy"]), "ci95": [float(v) for v in summary["ci95"]]}
    if vs_k32 is None:
        return {**point, "diff_points": 0.0, "diff_ci95": [0.0, 0.0], "mcnemar_p": 1.0}
    if not is_number(vs_k32.get("diff_points"), lo=-100, hi=100) or not interval(vs_k32.get("diff_ci95"), -100) \
            or not is_number(vs_k32.get("mcnemar_p"), lo=0, hi=1):
        raise ValueError(f"{where}: the difference to k = 32 needs diff_points, diff_ci95 and mcnemar_p: "
                         "regenerate it (make accuracy, make finetune)")
    return {**point, "diff_points": float(vs_k32["diff_points"]),
            "diff_ci95": [float(v) for v in vs_k32["diff_ci95"]], "mcnemar_p": float(vs_k32["mcnemar_p"])}


def _digits(accuracy, finetune, names):
    """Per-k statistics of the digits reports: ``(plain, rat, evaluation)``."""
    rows = _rows(accuracy, names[0], "rows")
    _count(accuracy, names[0], "test_images")
    plain = {row["k"]: _stats(*(row["truncate"].get(key) if isinstance(row.get("truncate"), dict) else None
                                for key in ("summary", "vs_k32")), f"{names[0]} k={row['k']}")
             for row in rows}
    rat = {}
    if finetune:
        if finetune.get("test_images") != accuracy.get("test_images"):
            raise ValueError(f"{names[1]} evaluates {finetune.get('test_images')} test images, {names[0]} "
                             f"{accuracy.get('test_images')}: regenerate both")
        rat = {run["k"]: _stats(run.get("retrained_summary"), run.get("retrained_vs_k32"),
                                f"{names[1]} k={run['k']}") for run in _rows(finetune, names[1], "runs")}
    evaluation = (f"{accuracy['test_images']} test digits, one trained model (no seeds); 95 % CIs by bootstrap over "
                  "the test images")
    return plain, rat, evaluation


def _mnist1d(accuracy, finetune, names):
    """Per-k statistics of the MNIST-1D reports: ``(plain, rat, evaluation)``."""
    _count(accuracy, names[0], "test_samples")
    if not isinstance(accuracy.get("seeds"), list) or not accuracy["seeds"]:
        raise field_error(names[0], "seeds", "a non-empty list", accuracy.get("seeds"), "regenerate it")
    plain = {row["k"]: _stats(row, row.get("vs_k32"), f"{names[0]} {row.get('mode')}")
             for row in _rows(accuracy, names[0], "rows", k_optional=True) if row["k"] is not None}
    rat = {}
    if finetune:
        for key in ("test_samples", "seeds"):
            if finetune.get(key) != accuracy.get(key):
                raise ValueError(f"{names[1]} and {names[0]} were evaluated on different test sets "
                                 f"({key}: {finetune.get(key)} vs {accuracy.get(key)}): regenerate both")
        rat = {row["k"]: _stats(row.get("rat"), row.get("rat_vs_ptq_k32"), f"{names[1]} k={row['k']}")
               for row in _rows(finetune, names[1], "rows")}
    evaluation = (f"{accuracy['test_samples']} generated test samples per seed, {len(accuracy['seeds'])} seeds, "
                  "the same samples for every point; accuracy is the mean over seeds, its 95 % CI by bootstrap "
                  "over test samples")
    return plain, rat, evaluation


#: Per workload: default report paths (relative to reports/), the output stem, the title, the reader.
WORKLOADS = {
    "digits": ("accuracy.json", "finetune.json", "pareto", "Digits CNN", _digits),
    "mnist1d": ("mnist1d_accuracy.json", "mnist1d_finetune.json", "pareto_mnist1d",
                "MNIST-1D network (mean of seeds)", _mnist1d),
}


def load_points(plain, sweep, rat=None):
    """One point per ``(MACS, k)`` present in both the accuracy statistics ``plain``
    (``{k: {"accuracy", "ci95", "diff_points", "diff_ci95", "mcnemar_p"}}``) and the
    sweep (plus ``k+RAT`` points for the fine-tuned widths of ``rat``, same form):
    ``macs``, ``k``, ``label``, the statistics, ``area``, ``delay``, ``adp``, and
    ``area_rel`` / ``adp_rel`` to the same MACS at k = 32."""
    rat = rat or {}
    cost = {}
    for p in sweep["points"]:
        c = p["config"]
        if c.get("engines", 1) == 1:
            cost[(c["macs"], c["k"])] = (p["area"], p["delay"])
    points = []
    for macs in sorted({m for m, _ in cost}):
        ref = cost.get((macs, 32))
        for k in sorted({k for m, k in cost if m == macs}, reverse=True):
            variants = [(str(k), plain.get(k), False)] + ([(f"{k}+RAT", rat[k], True)] if k in rat else [])
            for label, st, tuned in variants:
                if st is None:
                    continue
                area, delay = cost[(macs, k)]
                points.append({"macs": macs, "k": k, "label": label, "finetuned": tuned, **st,
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
    acc_name, ft_name, stem, title, reader = WORKLOADS[workload]
    accuracy = REPORTS / acc_name if accuracy is None else accuracy
    finetune = REPORTS / ft_name if finetune is None else finetune
    acc = _read(accuracy, "make accuracy")
    sw = load_sweep(sweep)
    ft = _read(finetune, "make finetune") if Path(finetune).is_file() else None
    plain, rat, evaluation = reader(acc, ft, (Path(accuracy).name, Path(finetune).name))
    points = load_points(plain, sw, rat)
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
              "int8_k32_accuracy": plain[32]["accuracy"] if 32 in plain else None, "evaluation": evaluation,
              "points": points, "title": title,
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
    k32 = "n/a" if r["int8_k32_accuracy"] is None else f"{r['int8_k32_accuracy']:.2f} %"
    lines = [f"# Accuracy vs cost per rescaler width k: {r.get('title', 'Digits CNN')} ({r['flow']} flow)", "",
             (f"Accuracy: {r['accuracy_report']}{ft} (test set, truncation); cost: {r['sweep']}. "
              f"Evaluation: {r['evaluation']}. The difference against k = 32 (int8 accuracy there: {k32}) is "
              "paired (the same test samples, and the same seeds), with a paired-bootstrap 95 % CI and "
              "McNemar's p; `+RAT`: after "
              "rescale-aware fine-tuning at that k, compared with the untuned network at k = 32. Pareto: not "
              "dominated within the same MACS, on the mean accuracy; two points whose intervals overlap are not "
              "resolved by this workload."), "",
             f"| MACS | k | accuracy % (95 % CI) | vs k=32, points (95 % CI) | McNemar p | area ({au}) | "
             f"area vs k=32 | delay ({du}) | ADP vs k=32 | Pareto (area) | Pareto (ADP) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in r["points"]:
        rel = lambda v: "n/a" if v is None else f"{v:.3f}"
        ref = p["k"] == 32 and not p["finetuned"]
        diff = "(reference)" if ref else (f"{p['diff_points']:+.2f} ({p['diff_ci95'][0]:+.2f}.."
                                          f"{p['diff_ci95'][1]:+.2f})")
        pval = "" if ref else ("< 1e-300" if p["mcnemar_p"] < 1e-300 else f"{p['mcnemar_p']:.3g}")
        lines.append(f"| {p['macs']} | {p['label']} | {p['accuracy']:.2f} ({p['ci95'][0]:.2f}..{p['ci95'][1]:.2f}) | "
                     f"{diff} | {pval} | {p['area']:,.0f} | {rel(p['area_rel'])} | "
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
                err = [[p["accuracy"] - p["ci95"][0]], [p["ci95"][1] - p["accuracy"]]]
                ax.errorbar(p[cost], p["accuracy"], yerr=err, fmt=marker, color=c, ms=11 if p["finetuned"] else 6,
                            mfc=c if p[flag] else "white", capsize=2, elinewidth=0.8)
                ax.annotate(p["label"], (p[cost], p["accuracy"]), textcoords="offset points",
                            xytext=(3, 4 if p["finetuned"] else -10), fontsize=7, color=c)
        ax.set_xlabel(f"{name} relative to k = 32 (same MACS)")
        ax.set_ylabel("test accuracy, % (95 % CI)")
        ax.grid(alpha=0.3)
        ax.set_title(f"accuracy vs {name} (filled: Pareto-optimal, *: fine-tuned)", fontsize=9)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{r.get('title', 'Digits CNN')} accuracy vs dot-product engine cost ({r['flow']} flow)")
    fig.tight_layout()
    save(fig, path, dpi=110)
