"""The accuracy-vs-cost Pareto view (:mod:`accuracy.pareto`)."""

import json

import pytest

from accuracy import pareto


def _summary(a):
    """A report's statistics of an accuracy ``a`` (the CI and the difference to k = 32 = 90 %)."""
    return {"accuracy": a, "ci95": [a - 1, a + 1]}, {"diff_points": a - 90.0, "diff_ci95": [a - 90.5, a - 89.5],
                                                     "mcnemar_p": 0.5}


def _reports(tmp_path):
    acc = {"int8_k32_accuracy": 90.0, "test_images": 100, "rows": [
        {"k": k, "truncate": {"accuracy": a, "summary": _summary(a)[0], "vs_k32": _summary(a)[1]}}
        for k, a in ((32, 90.0), (8, 90.0), (4, 88.0), (3, 70.0))]}
    sweep = {"schema": 1, "flow": "generic", "area_unit": "cmos", "delay_unit": "levels", "tools": {},
             "library": None, "points": [
        {"config": {"k": k, "macs": macs, "engines": 1}, "area": area * macs, "delay": delay,
         "breakdown": {"rescaler": area}}
        for macs in (4, 8) for k, area, delay in ((32, 100.0, 20.0), (8, 60.0, 15.0), (4, 50.0, 14.0),
                                                  (3, 48.0, 16.0), (6, 55.0, 15.0))]}
    summary, vs = _summary(90.0)
    ft = {"test_images": 100, "runs": [{"k": 4, "retrained": 90.0, "retrained_summary": summary,
                                        "retrained_vs_k32": vs}]}
    paths = {}
    for name, data in (("accuracy", acc), ("sweep", sweep), ("finetune", ft)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(data))
    return paths


def test_pareto_report(tmp_path):
    paths = _reports(tmp_path)
    r = pareto.pareto_report(out=tmp_path / "out", log=lambda *_: None, **paths)
    labels = [(p["macs"], p["label"]) for p in r["points"]]
    assert (4, "4+RAT") in labels and (4, "6") not in labels  # no accuracy for k = 6
    assert r["pareto"]["4"]["area"] == ["4+RAT", "3"]  # k=8 and 4 are dominated by 4+RAT
    assert r["pareto"]["4"]["adp"] == ["4+RAT"]  # k=3 is slower than k=4: ADP 768 > 700
    p8 = next(p for p in r["points"] if p["macs"] == 4 and p["label"] == "8")
    assert p8["area_rel"] == pytest.approx(0.6) and p8["adp_rel"] == pytest.approx(0.45)
    for name in ("pareto.json", "pareto.md", "pareto.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    md = (tmp_path / "out" / "pareto.md").read_text()
    assert "| 4 | 4 | 88.00 (87.00..89.00) | -2.00 (-2.50..-1.50) | 0.5 |" in md  # every accuracy with its CIs
    assert "| 4 | 32 | 90.00 (89.00..91.00) | (reference) |" in md


def test_pareto_front_ties():
    pts = [{"label": "a", "area": 1, "accuracy": 5}, {"label": "b", "area": 1, "accuracy": 5},
           {"label": "c", "area": 2, "accuracy": 5}, {"label": "d", "area": 3, "accuracy": 6}]
    assert pareto.pareto_front(pts, "area") == ["a", "b", "d"]


def test_missing_reports(tmp_path):
    paths = _reports(tmp_path)
    with pytest.raises(ValueError, match="run make accuracy first"):
        pareto.pareto_report(accuracy=tmp_path / "nope.json", sweep=paths["sweep"], out=tmp_path)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        pareto.pareto_report(accuracy=paths["accuracy"], sweep=tmp_path / "broken.json", out=tmp_path)


def _mnist1d_reports(tmp_path, finetune_samples=500):
    paths = _reports(tmp_path)
    acc = {"test_samples": 500, "seeds": [0, 1], "rows": [{"k": None, "mode": "TFLite", "accuracy": 91.0}] + [
        {"k": k, "mode": f"k={k}", **_summary(a)[0], **({"vs_k32": _summary(a)[1]} if k != 32 else {})}
        for k, a in ((32, 90.0), (8, 90.0), (4, 88.0), (3, 70.0))]}
    summary, vs = _summary(90.0)
    ft = {"test_samples": finetune_samples, "seeds": [0, 1], "rows": [{"k": 4, "rat": summary, "rat_vs_ptq_k32": vs}]}
    paths["accuracy"].write_text(json.dumps(acc))
    paths["finetune"].write_text(json.dumps(ft))
    return paths


def test_pareto_report_mnist1d_workload(tmp_path):
    """The MNIST-1D reports (rows with mean accuracies, RAT rows) feed the same view."""
    paths = _mnist1d_reports(tmp_path)
    r = pareto.pareto_report(out=tmp_path / "out", log=lambda *_: None, workload="mnist1d", **paths)
    assert r["pareto"]["4"]["area"] == ["4+RAT", "3"] and r["int8_k32_accuracy"] == 90.0
    assert (tmp_path / "out" / "pareto_mnist1d.md").read_text().startswith("# Accuracy vs cost per rescaler "
                                                                           "width k: MNIST-1D")
    rat = next(p for p in r["points"] if p["label"] == "4+RAT" and p["macs"] == 4)
    assert rat["ci95"] == [89.0, 91.0] and rat["diff_ci95"] == [-0.5, 0.5]
    with pytest.raises(ValueError, match="workload must be one of digits, mnist1d"):
        pareto.pareto_report(workload="cifar", **paths)


def test_pareto_needs_one_evaluation_set_and_intervals(tmp_path):
    """RAT points from another test set, or reports without intervals, are refused."""
    paths = _mnist1d_reports(tmp_path, finetune_samples=250)
    with pytest.raises(ValueError, match="different test sets"):
        pareto.pareto_report(out=tmp_path / "out", workload="mnist1d", **paths)
    paths = _reports(tmp_path)
    paths["accuracy"].write_text(json.dumps({"test_images": 100, "rows": [{"k": 32, "truncate": {"accuracy": 90.0}}]}))
    with pytest.raises(ValueError, match="no confidence intervals"):
        pareto.pareto_report(out=tmp_path / "out", **paths)
