"""The truncation-bias study on a tiny configuration (accuracy.truncation_bias): its statistics,
the per-layer bias it measures, and the files it writes."""

import json

import numpy as np
import pytest

from accuracy import truncation_bias
from accuracy.mnist1d import network

from .advise.conftest import needs_tflite, tiny_model


@pytest.fixture
def small_mnist1d(monkeypatch):
    """MNIST-1D-shaped random data instead of the generated splits (nothing generated or downloaded)."""
    rng = np.random.default_rng(0)

    def make_data(**_):
        return {split: (rng.normal(0, 1, (n, 40)).astype(np.float32), rng.integers(0, 10, n))
                for split, n in (("train", 300), ("val", 10), ("test", 200))}
    monkeypatch.setattr(network, "make_data", make_data)


@needs_tflite
def test_the_deep_study_sees_the_bias_and_its_removal(tmp_path):
    model = tiny_model(tmp_path / "tiny.tflite")
    d = truncation_bias.deep_study(model, ks=(3,), samples=48, calibration=48, batch=16,
                                   inputs_out=tmp_path / "x.npz")
    assert [layer["op"] for layer in d["layers"]] == ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"]
    res = {x["method"]: x for x in d["results"]}
    assert set(res) == set(truncation_bias.METHODS)
    # the ReLU convolution, fed TFLite-mode inputs: truncation pulls its outputs down; compensation removes it
    assert res["truncate"]["isolated_mean_signed"][0] < -0.05
    assert abs(res["truncate+comp"]["isolated_mean_signed"][0]) < abs(res["truncate"]["isolated_mean_signed"][0]) / 3
    assert res["truncate"]["propagated_magnitude_ratio"][0] < 1.0
    ratio, lo, hi = res["truncate"]["end_to_end_magnitude_ratio"]
    assert lo <= ratio <= hi
    with np.load(tmp_path / "x.npz") as z:
        assert z["x"].shape == (48, 6, 6, 2) and z["x"].dtype == np.int8


@needs_tflite
def test_the_study_writes_its_report(tmp_path, small_mnist1d):
    model = tiny_model(tmp_path / "tiny.tflite")
    result = truncation_bias.report(out_dir=tmp_path, deep_model=model, ks=(4,), deep_samples=16, jobs=1,
                                    log=lambda *_: None)
    m = result["mnist1d"]
    assert m["test_samples"] == 200 and m["calibration_samples"] == 300 and len(m["seeds"]) == 5
    rows = {(r["k"], r["method"]): r for r in m["rows"]}
    assert set(rows) == {(None, "TFLite mode"), (32, "truncate")} | {(4, name) for name in truncation_bias.METHODS}
    assert "vs_k32" not in rows[(32, "truncate")] and "vs_truncate" not in rows[(4, "truncate")]
    for (k, method), row in rows.items():
        assert row["ci95"][0] <= row["accuracy"] <= row["ci95"][1]
        if "vs_k32" in row:
            v = row["vs_k32"]
            assert v["diff_ci95"][0] <= v["diff_points"] <= v["diff_ci95"][1] and 0 <= v["mcnemar_p"] <= 1
            assert len(v["mcnemar_p_per_seed"]) == 5
        assert ("vs_truncate" in row) == (k == 4 and method != "truncate")
    saved = json.loads((tmp_path / "truncation_bias.json").read_text())
    assert saved["rtl"] == truncation_bias.RTL and "Neither remedy needs new hardware" in saved["rtl"]
    text = (tmp_path / "truncation_bias.md").read_text()
    assert "## What the RTL needs" in text and "| 4 | round+comp |" in text and "### Per layer at k = 4" in text
    assert (tmp_path / "truncation_bias.png").is_file()


def test_cli_refuses_a_bad_model_before_any_work(tmp_path, capsys):
    from accuracy.__main__ import main
    assert main(["truncation-bias", "--deep-model", str(tmp_path / "absent.tflite"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "absent.tflite" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())
