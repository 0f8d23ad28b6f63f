"""The accuracy-vs-cost Pareto view (:mod:`accuracy.pareto`)."""

import json

import pytest

from accuracy import pareto


def _reports(tmp_path):
    acc = {"int8_k32_accuracy": 90.0, "rows": [
        {"k": k, "truncate": {"accuracy": a}} for k, a in ((32, 90.0), (8, 90.0), (4, 88.0), (3, 70.0))]}
    sweep = {"flow": "generic", "area_unit": "cmos", "delay_unit": "levels", "points": [
        {"config": {"k": k, "macs": macs, "engines": 1}, "area": area * macs, "delay": delay}
        for macs in (4, 8) for k, area, delay in ((32, 100.0, 20.0), (8, 60.0, 15.0), (4, 50.0, 14.0),
                                                  (3, 48.0, 16.0), (6, 55.0, 15.0))]}
    ft = {"runs": [{"k": 4, "retrained": 90.0}]}
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


def test_pareto_front_ties():
    pts = [{"label": "a", "area": 1, "accuracy": 5}, {"label": "b", "area": 1, "accuracy": 5},
           {"label": "c", "area": 2, "accuracy": 5}, {"label": "d", "area": 3, "accuracy": 6}]
    assert pareto.pareto_front(pts, "area") == ["a", "b", "d"]


def test_missing_reports(tmp_path):
    paths = _reports(tmp_path)
    with pytest.raises(FileNotFoundError, match="run make accuracy first"):
        pareto.pareto_report(accuracy=tmp_path / "nope.json", sweep=paths["sweep"], out=tmp_path)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        pareto.pareto_report(accuracy=paths["accuracy"], sweep=tmp_path / "broken.json", out=tmp_path)


def test_pareto_report_mnist1d_workload(tmp_path):
    """The MNIST-1D reports (rows with mean accuracies, RAT rows) feed the same view."""
    paths = _reports(tmp_path)
    acc = {"rows": [{"k": None, "accuracy": 91.0}] + [{"k": k, "accuracy": a}
                                                      for k, a in ((32, 90.0), (8, 90.0), (4, 88.0), (3, 70.0))]}
    ft = {"rows": [{"k": 4, "rat": {"accuracy": 90.0}}]}
    paths["accuracy"].write_text(json.dumps(acc))
    paths["finetune"].write_text(json.dumps(ft))
    r = pareto.pareto_report(out=tmp_path / "out", log=lambda *_: None, workload="mnist1d", **paths)
    assert r["pareto"]["4"]["area"] == ["4+RAT", "3"] and r["int8_k32_accuracy"] == 90.0
    assert (tmp_path / "out" / "pareto_mnist1d.md").read_text().startswith("# Accuracy vs cost per rescaler "
                                                                           "width k: MNIST-1D")
    with pytest.raises(ValueError, match="workload must be one of digits, mnist1d"):
        pareto.pareto_report(workload="cifar", **paths)
