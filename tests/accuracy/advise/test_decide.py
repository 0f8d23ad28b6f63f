"""The recommendation, the statistics behind it and the Pareto front (accuracy.advise.decide)."""

import numpy as np
import pytest

from accuracy.advise import decide
from accuracy.advise.runs import Measurements


def _row(k, drop, upper):
    return {"k": k, "mode": f"k={k}", "drop": drop, "drop_upper": upper}


def test_the_smallest_k_whose_upper_bound_is_within_the_limit():
    rows = [_row(32, 0, 0), _row(8, 0.0, 0.2), _row(6, 0.1, 0.45), _row(4, 2.0, 2.5)]
    rec = decide.recommend(rows, 0.5)
    assert rec["k"] == 6 and rec["status"] == "narrower" and rec["unresolved"] == []


def test_a_narrower_k_the_data_cannot_resolve_is_named():
    rows = [_row(32, 0, 0), _row(8, 0.0, 0.3), _row(6, 0.3, 0.9), _row(4, 1.5, 2.0)]
    rec = decide.recommend(rows, 0.5)
    assert rec["k"] == 8 and [r["k"] for r in rec["unresolved"]] == [6]


def test_when_nothing_narrower_is_resolved_keep_k32():
    unresolved = decide.recommend([_row(32, 0, 0), _row(16, 0.1, 1.2), _row(8, 0.2, 1.4)], 0.5)
    assert unresolved["k"] == 32 and unresolved["status"] == "keep" and [r["k"] for r in unresolved["unresolved"]] == [16, 8]
    too_big = decide.recommend([_row(32, 0, 0), _row(16, 3.0, 4.0)], 0.5)
    assert too_big["k"] == 32 and too_big["unresolved"] == []


def _measurements(preds, n):
    m = Measurements(samples=n, layers=[])
    m.preds = preds
    m.changed = {k: np.full(n, 0.1 * (32 - k) / 32) for k in preds if k != "tflite"}
    m.mean_abs = {k: np.full(n, 0.5) for k in preds if k != "tflite"}
    return m


def test_accuracy_rows_with_labels_are_paired_against_k32():
    n = 400
    y = np.arange(n) % 4
    base = y.copy()
    base[:20] = (base[:20] + 1) % 4            # k = 32 wrong on 20
    k4 = base.copy()
    k4[20:40] = (k4[20:40] + 1) % 4            # k = 4 loses 20 more
    rows = decide.accuracy_rows(_measurements({"tflite": base, 32: base, 4: k4}, n), y, (32, 4))
    by = {r["mode"]: r for r in rows}
    assert by["k=32"]["accuracy"] == 95.0 and by["k=4"]["accuracy"] == 90.0
    assert by["k=4"]["lost"] == 20 and by["k=4"]["gained"] == 0 and by["k=4"]["mcnemar_p"] < 1e-5
    assert by["k=4"]["diff_points"] == pytest.approx(-5.0) and by["k=4"]["diff_ci95"][0] < -5.01
    assert -4.99 < by["k=4"]["diff_ci95"][1] < 0
    assert by["k=4"]["drop"] == pytest.approx(5.0) and by["k=4"]["drop_upper"] > 5.01
    assert by["k=32"]["drop_upper"] == 0.0 and by["TFLite"]["diff_points"] == 0.0


def test_without_labels_the_top1_change_bounds_the_drop():
    n = 200
    base = np.arange(n) % 3
    k4 = base.copy()
    k4[:10] = (k4[:10] + 1) % 3
    rows = decide.accuracy_rows(_measurements({"tflite": base, 32: base, 4: k4}, n), None, (32, 4))
    by = {r["k"]: r for r in rows}
    assert by[4]["agreement"] == 95.0 and by[4]["top1_changed_vs_k32"] == 5.0
    assert by[4]["drop"] == 5.0 and by[4]["drop_upper"] == by[4]["top1_changed_vs_k32_ci95"][1] > 5.0
    assert by[4]["outputs_changed_ci95"][0] <= by[4]["outputs_changed"] <= by[4]["outputs_changed_ci95"][1]
    assert by[32]["drop_upper"] == 0.0


def test_pareto_front_per_macs():
    rows = [{"k": 32, "accuracy": 95.0}, {"k": 8, "accuracy": 95.0}, {"k": 4, "accuracy": 90.0},
            {"k": 6, "accuracy": 89.0}]
    costs = {(32, 8): {"area": 100.0}, (8, 8): {"area": 60.0}, (6, 8): {"area": 55.0}, (4, 8): {"area": 50.0}}
    energies = {(32, 8): {"total_pj": 10.0}, (8, 8): {"total_pj": 7.0}, (6, 8): None, (4, 8): {"total_pj": 6.0}}
    front = decide.pareto(rows, costs, energies, (8,), True)[8]
    assert front["front_area"] == [8, 4] and front["front_energy"] == [8, 4]
    assert {p["k"]: p["area_rel"] for p in front["points"]} == {32: 1.0, 8: 0.6, 6: 0.55, 4: 0.5}
