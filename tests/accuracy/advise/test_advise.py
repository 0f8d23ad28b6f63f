"""python -m accuracy advise end to end on a tiny model the project writes: the tables, the
recommendation, the files, and one error line per bad input."""

import csv
import json

import pytest

from accuracy import advise
from accuracy.__main__ import main

from .conftest import needs_tflite


def _advise(tiny, data, tmp_path, **kw):
    model, _, _, folder = tiny
    return advise.advise(model, data, ks=(8, 4, 3), macs=(8,), study_dir=folder, runs_dir=tmp_path / "runs",
                         cache_dir=tmp_path / "cache", out_dir=tmp_path / "out", **kw)


@needs_tflite
def test_with_labels(tiny, tmp_path):
    result, paths = _advise(tiny, tiny[1], tmp_path)
    assert [p.name for p in paths] == ["advise.json", "advise.md", "layers.csv", "layers.md", "pareto.png"]
    assert all(p.is_file() for p in paths)
    assert result["labels"] and result["ks"] == [32, 8, 4, 3] and result["samples"] == 120
    assert [r["mode"] for r in result["accuracy"]] == ["TFLite", "k=32", "k=8", "k=4", "k=3"]
    assert all("diff_ci95" in r and "mcnemar_p" in r for r in result["accuracy"] if r["k"] != 32)
    costs = {c["k"]: c for c in result["costs"]}
    assert costs[4]["area_vs_k32"] == 0.5 and costs[4]["kind"] == "sweep" and costs[4]["energy_basis"] == "measured"
    # energy by hand at 8 MACS: beats 3 (conv, 18 terms), 2 (depthwise, 9), 18 (fc, 144)
    assert costs[4]["energy_pj"] == 144 * (10 + 300) + 144 * (10 + 200) + 3 * (10 + 1800)
    assert costs[32]["energy_pj"] == 144 * (20 + 600) + 144 * (20 + 400) + 3 * (20 + 3600)
    storage = {s["k"]: s for s in result["storage"]}
    assert storage[4]["total_bits"] == 11 * (32 + 4 + 5) and storage[32]["ethos_u55_bits"] == 11 * 80
    assert sum(layer["energy_share_pct"] for layer in result["layers"]) == pytest.approx(100.0)
    line = result["recommendation"]["line"]
    assert line.startswith(f"k = {result['recommendation']['k']}") or line.startswith("keep k = 32")
    assert "at 8 MACS" in line or "keep" in line
    with open(tmp_path / "out" / "layers.csv") as f:
        header = next(csv.reader(f))
    assert header[:9] == ["#", "layer", "op", "outputs", "channels", "dot-product length", "beats @8 MACS",
                          "changed % k=32", "changed % k=8"]
    assert header[-1] == "mean dy k=3" and "energy share % (k=32, 8 MACS)" in header
    saved = json.loads((tmp_path / "out" / "advise.json").read_text())
    assert saved["recommendation"] == result["recommendation"] and "Pareto" in (tmp_path / "out" / "advise.md").read_text()


@needs_tflite
def test_without_labels(tiny, tmp_path):
    result, _ = _advise(tiny, tiny[2], tmp_path)
    assert not result["labels"] and [r["mode"] for r in result["accuracy"]] == ["k=32", "k=8", "k=4", "k=3"]
    row = result["accuracy"][-1]
    assert {"agreement", "ci95", "outputs_changed_ci95", "mean_abs_dy_ci95", "top1_changed_vs_k32_ci95"} <= set(row)
    assert "top-1" in result["recommendation"]["line"] or result["recommendation"]["status"] == "keep"


@needs_tflite
def test_few_samples_cannot_resolve(tiny, tmp_path):
    """Ten samples that k = 32 and every k agree on: no discordant pair, yet the interval
    is too wide for 0.5 pt, so k = 32 is kept and the line says the data cannot resolve it."""
    model, labelled, _, folder = tiny
    result, _ = advise.advise(model, labelled, ks=(16,), macs=(8,), limit=10, study_dir=folder,
                              runs_dir=tmp_path, cache_dir=tmp_path, out_dir=tmp_path / "out")
    row = result["accuracy"][-1]
    assert row["k"] == 16 and row["gained"] == row["lost"] == 0 and row["drop_upper"] > 0.5
    assert result["recommendation"]["status"] == "keep" and result["recommendation"]["unresolved"] == [16]
    assert "cannot resolve" in result["recommendation"]["line"] and "10 samples" in result["recommendation"]["line"]


@needs_tflite
def test_cli(tiny, tmp_path, capsys, monkeypatch):
    model, labelled, _, _ = tiny
    monkeypatch.chdir(tmp_path)  # no build/ of the user's: the committed study and the analytic model only
    out = tmp_path / "cli"
    assert main(["advise", str(model), "--data", str(labelled), "--k", "8,4", "--macs", "4,8", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "recommendation: " in captured.out and "| MACS | k | area" in captured.out
    assert "advise: 120/120 samples" in captured.err and (out / "advise.json").is_file()
    assert main(["advise", str(model), "--data", str(labelled), "--k", "4", "--limit", "20"]) == 0
    assert (tmp_path / "build" / "reports" / "advise" / "tiny" / "advise.md").is_file()
    isolated = tmp_path / "isolated"
    assert main(["advise", str(model), "--data", str(labelled), "--k", "8,4", "--macs", "4,8", "--out", str(isolated),
                 "--operand-isolation"]) == 0
    built, iso = (json.loads((d / "advise.json").read_text()) for d in (out, isolated))
    assert not built["operand_isolation"] and iso["operand_isolation"]
    assert "operand isolation" in (isolated / "advise.md").read_text()
    energy = {d["operand_isolation"]: {(c["macs"], c["k"]): c.get("energy_pj") for c in d["costs"]}
              for d in (built, iso)}
    assert energy[True][(8, 4)] and energy[True][(8, 4)] != energy[False][(8, 4)]


@needs_tflite
@pytest.mark.parametrize("argv, message", [
    (["--data", "absent.npz"], "absent.npz"),
    (["--macs", "3"], "--macs: macs must be a power of two"),
    (["--k", "40"], "--k: k must be an integer in 2..32"),
    (["--max-drop", "-1"], "--max-drop must be a positive float"),
    (["--flow", "generic"], "invalid choice"),
    (["--calibration", "x.npz"], "--calibration is only used with --bias-compensation"),
    (["--out", "FILE"], "cannot write into FILE"),
])
def test_every_bad_input_is_one_error_line(tiny, tmp_path, capsys, monkeypatch, argv, message):
    model, labelled, _, _ = tiny
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("in the way")
    args = ["advise", str(model)] + (argv if argv[0] == "--data" else ["--data", str(labelled)] + argv)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "build" / "reports" / "advise").exists()


@needs_tflite
def test_a_damaged_published_document_stops_before_the_run(tiny, tmp_path):
    model, labelled, _, folder = tiny
    (folder / "energy_model.json").write_text("[]")
    with pytest.raises(ValueError, match="energy_model.json is not an energy model"):
        advise.advise(model, labelled, study_dir=folder, runs_dir=tmp_path, cache_dir=tmp_path,
                      out_dir=tmp_path / "out", progress=lambda *a: pytest.fail("the run started"))
    assert not (tmp_path / "out").exists()
