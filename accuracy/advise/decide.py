"""From measurements and costs to statistics, a Pareto front and one recommendation.

Accuracy is always compared with the same network at ``k = 32`` on the same samples
(paired). With labels: top-1 accuracy (Wilson 95 % CI), the paired difference to
``k = 32`` with Newcombe's score interval (:func:`accuracy.stats.paired_score_interval`,
which stays honest when few samples change) and McNemar's exact p. Without labels:
top-1 agreement with TFLite mode (Wilson), the share of changed output elements and
their mean ``|dy|`` (bootstrap CIs over samples), and the share of samples whose
top-1 changes against ``k = 32``: whatever the labels, accuracy cannot drop by more
than that share, so its Wilson upper bound bounds the drop.

The recommendation is the smallest ``k`` whose drop's 95 % upper bound is within
``max_drop`` points; a narrower ``k`` whose estimate is within ``max_drop`` but whose
interval is not is named as unresolved by the data (more samples would decide it).
"""

from costmodel.published import BASE_K

from .. import stats
from ..pareto import pareto_front

__all__ = ["accuracy_rows", "cost_rows", "recommend", "pareto"]


def accuracy_rows(m, y, ks):
    """One row per mode (TFLite mode with labels, then each ``k``): the statistics above
    and, for the decision, ``drop`` and ``drop_upper`` (points, 0 at ``k = 32``)."""
    base = m.preds[BASE_K]
    n = m.samples
    rows = []
    if y is not None:
        base_correct = base == y
        for mode in ("tflite",) + tuple(ks):
            correct = m.preds[mode] == y
            lo, hi = stats.wilson(int(correct.sum()), n)
            row = {"mode": "TFLite" if mode == "tflite" else f"k={mode}", "k": None if mode == "tflite" else mode,
                   "accuracy": 100 * float(correct.mean()), "ci95": [100 * lo, 100 * hi]}
            if mode != BASE_K:
                d, dlo, dhi = stats.paired_score_interval(base_correct, correct)
                gained, lost, p = stats.mcnemar(base_correct, correct)
                row.update(diff_points=100 * d, diff_ci95=[100 * dlo, 100 * dhi], gained=gained, lost=lost,
                           mcnemar_p=p)
            row["drop"], row["drop_upper"] = ((0.0, 0.0) if mode == BASE_K
                                              else (-row["diff_points"], -row["diff_ci95"][0]))
            rows.append(row)
        return rows
    tfl = m.preds["tflite"]
    for k in ks:
        agree = m.preds[k] == tfl
        lo, hi = stats.wilson(int(agree.sum()), n)
        flips = int((m.preds[k] != base).sum())
        flo, fhi = stats.wilson(flips, n)
        changed, clo, chi = stats.bootstrap_mean(m.changed[k])
        dy, dlo, dhi = stats.bootstrap_mean(m.mean_abs[k])
        rows.append({"mode": f"k={k}", "k": k, "agreement": 100 * float(agree.mean()), "ci95": [100 * lo, 100 * hi],
                     "outputs_changed": 100 * changed, "outputs_changed_ci95": [100 * clo, 100 * chi],
                     "mean_abs_dy": dy, "mean_abs_dy_ci95": [dlo, dhi],
                     "top1_changed_vs_k32": 100 * flips / n, "top1_changed_vs_k32_ci95": [100 * flo, 100 * fhi],
                     "drop": 0.0 if k == BASE_K else 100 * flips / n, "drop_upper": 0.0 if k == BASE_K else 100 * fhi})
    return rows


def _ratio(values, k, macs, key):
    mine, base = values.get((k, macs)), values.get((BASE_K, macs))
    if mine is None or base is None or not base[key]:
        return None
    return mine[key] / base[key]


def cost_rows(costs, energies, ks, macs_list):
    """One row per ``(macs, k)``: area and delay with their source, energy per inference
    with its basis, and their ratios to ``k = 32`` at the same MACS."""
    rows = []
    for macs in macs_list:
        for k in ks:
            cost, energy = costs.get((k, macs)), energies.get((k, macs))
            row = {"macs": macs, "k": k}
            if cost is not None:
                row.update(cost, area_vs_k32=_ratio(costs, k, macs, "area"),
                           delay_vs_k32=_ratio(costs, k, macs, "delay"))
            if energy is not None:
                row.update(energy_pj=energy["total_pj"], energy_basis=energy["basis"],
                           energy_vs_k32=_ratio(energies, k, macs, "total_pj"))
            rows.append(row)
    return rows


def recommend(rows, max_drop):
    """``{"k", "status", "row", "unresolved"}``: the smallest ``k`` whose drop's upper
    bound is within ``max_drop`` (``status`` ``"narrower"``, or ``"keep"`` when only
    ``k = 32`` is), and the narrower rows the data cannot resolve, widest first."""
    ranked = sorted((r for r in rows if r["k"] is not None), key=lambda r: r["k"])
    chosen = next(r for r in ranked if r["drop_upper"] <= max_drop or r["k"] == BASE_K)
    unresolved = [r for r in reversed(ranked) if r["k"] < chosen["k"] and r["drop"] <= max_drop < r["drop_upper"]]
    return {"k": chosen["k"], "status": "narrower" if chosen["k"] < BASE_K else "keep", "row": chosen,
            "unresolved": unresolved}


def pareto(rows, costs, energies, macs_list, labels):
    """Per MACS, the points (``k``, the accuracy measure -- accuracy with labels, else
    agreement with TFLite mode --, area and energy per inference relative to ``k = 32``)
    and the Pareto-optimal labels against area and against energy."""
    metric = "accuracy" if labels else "agreement"
    by_k = {r["k"]: r for r in rows if r["k"] is not None}
    result = {}
    for macs in macs_list:
        points = []
        for k, row in sorted(by_k.items(), reverse=True):
            points.append({"label": str(k), "k": k, "accuracy": row[metric],
                           "area_rel": _ratio(costs, k, macs, "area"),
                           "energy_rel": _ratio(energies, k, macs, "total_pj")})
        fronts = {}
        for cost in ("area_rel", "energy_rel"):
            known = [p for p in points if p[cost] is not None]
            fronts[cost] = [int(label) for label in pareto_front(known, cost)] if known else []
        result[macs] = {"points": points, "front_area": fronts["area_rel"], "front_energy": fronts["energy_rel"]}
    return result

