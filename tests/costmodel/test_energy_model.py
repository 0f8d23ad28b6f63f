"""The energy-per-output model: fitted from published energy JSON (costmodel.energy_model),
its document validated and evaluated (costmodel.published)."""

import copy
import json
from pathlib import Path

import pytest

from costmodel import energy_model, published
from costmodel.__main__ import main

REPO = Path(__file__).resolve().parents[2]


def _beats(k, fixed, per_beat, macs=8, beats=(1, 2, 4, 8)):
    return [{"k": k, "macs": macs, "beats_per_output": b, "total_pj": fixed + per_beat * b, "rescaler_pj": 1.0,
             "macs_pj": 1.0, "stimulus": "1x1"} for b in beats]


def _point(k, macs, pj, beats):
    return {"config": {"k": k, "macs": macs}, "energy": {"cycles_per_output": beats, "energy_pj_per_output": pj,
                                                         "clock_ns": 20.0, "stimulus": "3x3", "method": "sim"}}


def test_measured_lines_derived_lines_and_checks():
    rows = _beats(4, 30.0, 400.0) + _beats(32, 200.0, 600.0)
    points = {"synth/k4_macs8.json": _point(4, 8, (30.0 + 400.0 * 9) * 1.02, 9.0),   # 2 % above the line
              "synth/k18_macs8.json": _point(18, 8, 5000.0, 9.0),
              "synth/k4_macs16.json": _point(4, 16, 5000.0, 5.0)}
    doc = energy_model.fit(rows, points)
    lines = {(line["k"], line["macs"]): line for line in doc["lines"]}
    k4 = lines[(4, 8)]
    assert k4["kind"] == "measured" and k4["fixed_pj"] == pytest.approx(30.0) and k4["per_beat_pj"] == pytest.approx(400.0)
    assert k4["max_abs_residual_pct"] == pytest.approx(0.0, abs=1e-6) and len(k4["points"]) == 4
    assert k4["checks"][0]["residual_pct"] == pytest.approx(2.0, abs=0.01)
    k18 = lines[(18, 8)]  # fixed halfway between the measured lines' 30 and 200
    assert k18["kind"] == "derived" and k18["fixed_pj"] == pytest.approx(115.0)
    assert k18["per_beat_pj"] == pytest.approx((5000.0 - 115.0) / 9.0) and "synth/k18_macs8.json" in k18["how"]
    assert lines[(4, 16)]["fixed_pj"] == pytest.approx(30.0)  # the fixed part does not depend on MACS
    assert doc["provenance"]["derivation"] == energy_model.DERIVATION and doc["clock_ns"] == 20.0
    with pytest.raises(ValueError, match="no measured line"):
        energy_model.fit(_beats(4, 1.0, 2.0, beats=(8,)), points)


def test_the_committed_model_is_what_the_published_measurements_give():
    committed = published.load_energy_model(REPO / "reports" / "energy_model.json")
    fitted = energy_model.fit_published(REPO / "reports")
    strip = lambda d: {**d, "provenance": {**d["provenance"], "date": None, "directory": None}}  # noqa: E731
    assert strip(json.loads(json.dumps(fitted))) == strip(committed)
    kinds = {(line["k"], line["macs"]): line["kind"] for line in committed["lines"]}
    assert kinds[(4, 8)] == kinds[(32, 8)] == "measured" and kinds[(6, 16)] == "derived"


def _document():
    return energy_model.fit(_beats(4, 30.0, 400.0) + _beats(32, 200.0, 600.0), {})


@pytest.mark.parametrize("damage, message", [
    (lambda d: d.update(schema=2), "schema version 2"),
    (lambda d: d.pop("activity"), "lacks activity"),
    (lambda d: d.update(lines=[]), "holds no lines"),
    (lambda d: d["lines"][0].update(per_beat_pj=0), "positive per_beat_pj"),
    (lambda d: d["lines"][0].update(kind="guessed"), "kind"),
    (lambda d: d["lines"][0].update(points=[]), "the points it was fitted from"),
    (lambda d: d["lines"].append(copy.deepcopy(d["lines"][0])), "two lines for k=4 macs=8"),
])
def test_a_damaged_model_is_one_error_naming_the_remedy(tmp_path, damage, message):
    document = _document()
    damage(document)
    path = tmp_path / "energy_model.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=message) as info:
        published.load_energy_model(path)
    assert str(path) in str(info.value) and "make energy-model PUBLISH=1" in str(info.value)
    assert published.load_energy_model(tmp_path / "absent.json") is None


def test_lines_are_interpolated_in_k_never_extrapolated():
    document = _document()
    assert published.energy_line(document, 4, 8) == pytest.approx((30.0, 400.0, "measured"))
    fixed, per_beat, basis = published.energy_line(document, 18, 8)
    assert (fixed, per_beat) == pytest.approx((115.0, 500.0)) and basis.startswith("interpolated in k between k=4")
    assert published.energy_line(document, 3, 8) is None and published.energy_line(document, 4, 16) is None
    assert published.energy_line(document, 4, 8, operand_isolation=True) is None
    result = published.energy_per_inference(document, [(10, 16), (2, 9)], k=4, macs=8)
    assert result["layers_pj"] == [10 * (30 + 400 * 2), 2 * (30 + 400 * 2)] and result["total_pj"] == 9960


def test_cli_writes_the_model(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["energy-model", "--points", str(REPO / "reports"), "--out", str(out)]) == 0
    assert published.load_energy_model(out)["lines"] and "measured" in capsys.readouterr().out
    assert main(["energy-model", "--points", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "energy_beats.json does not exist" in err and err.count("\n") == 1
