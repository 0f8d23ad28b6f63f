"""The analytic model against the committed sweep it was fitted to."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel import analytic
from hw.config import DatapathConfig

REPO = Path(__file__).resolve().parents[2]
SWEEP = REPO / "reports" / "sweep_liberty.json"


@pytest.fixture(scope="module")
def sweep_document():
    return json.loads(SWEEP.read_text())


def test_model_within_ten_percent_of_every_swept_point(sweep_document):
    document = analytic.fit(sweep_document)
    assert len(document["errors"]) == len(sweep_document["points"]) >= 27
    assert document["max_area_error_pct"] <= 10
    assert document["max_delay_error_pct"] <= 10


def test_stored_coefficients_come_from_the_committed_sweep(sweep_document):
    stored = json.loads(analytic.coefficients_path("liberty").read_text())
    fresh = analytic.fit(sweep_document)
    for part in ("area", "delay"):
        for term, value in fresh[part].items():
            assert stored[part][term] == pytest.approx(value, rel=1e-9)


def test_estimate_matches_synthesis_where_it_was_measured(sweep_document):
    model = analytic.Model.load("liberty")
    for point in sweep_document["points"]:
        area, delay = model.estimate(DatapathConfig(**point["config"]))
        assert area == pytest.approx(point["area"], rel=0.10)
        assert delay == pytest.approx(point["delay"], rel=0.10)


def test_engines_scale_area():
    model = analytic.Model.load("liberty")
    one, _ = model.estimate(DatapathConfig(k=8, macs=8))
    four, _ = model.estimate(DatapathConfig(k=8, macs=8, engines=4))
    assert four == pytest.approx(4 * one)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="fitting needs at least"):
        analytic.fit({"flow": "liberty", "points": []})
    with pytest.raises(ValueError, match="not an analytic-model coefficient file"):
        analytic.Model({"area": {}})
    with pytest.raises(ValueError, match="give macs"):
        analytic.Model.load("liberty").estimate(DatapathConfig(k=8))


def test_estimate_command_is_instant_and_one_line():
    proc = subprocess.run([sys.executable, "-m", "costmodel", "estimate", "--k", "6", "--macs", "8"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("k=6 macs=8 engines=1 (liberty model): area ")
    bad = subprocess.run([sys.executable, "-m", "costmodel", "estimate", "--k", "40", "--macs", "8"],
                         cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: k must be") and bad.stderr.count("\n") == 1
