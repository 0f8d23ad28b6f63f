"""``python -m verify``: the proofs' own command line, one ``error:`` line per bad input."""

import json

import pytest

from verify.__main__ import main


def test_formal_runs_the_proofs(capsys):
    assert main(["formal", "--k", "3", "--variants", "paper,trim_fast", "--pipelines", "none", "--no-netlist", "--no-skew"]) == 0
    out = capsys.readouterr().out
    assert "formal: 2 proofs (2 variants x k in {3}, pipeline depths 0)" in out
    assert out.rstrip().endswith("all proofs passed")


def test_both_commands_are_listed(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "formal" in out and "formal-netlist" in out


@pytest.mark.parametrize("argv,message", [
    (["formal", "--k", "40"], "--k values must be in 2..32"),
    (["formal", "--variants", "plain"], "unknown variant 'plain': one of paper, "),
    (["formal", "--pipelines", "4"], "--pipelines values must be in 1..3"),
    (["formal", "--netlist-budget", "0"], "--netlist-budget must be a positive number of seconds"),
    (["formal", "-j", "0", "--no-netlist"], "-j must be an integer >= 1, not 0"),
    (["formal", "--lib", "/nonexistent.lib"], "liberty file /nonexistent.lib does not exist"),
    (["formal-netlist", "--k", "3"], "no liberty sweep (sweep_liberty.json) to take the points from"),
    (["formal-netlist", "--k", "3", "--macs", "4"], "no liberty sweep (sweep_liberty.json) names a library"),
])
def test_bad_input_is_one_error_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)  # no sweep here
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "build").exists()


@pytest.mark.parametrize("text", ["{", "[]", '{"points": [{"config": {"k": "3"}}], "library": {"path": "x"}}'])
def test_a_damaged_sweep_is_one_error_line(tmp_path, monkeypatch, capsys, text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "sweep_liberty.json").write_text(text)
    assert main(["formal-netlist"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: reports/sweep_liberty.json is not a readable liberty sweep") and err.count("\n") == 1


def test_formal_netlist_takes_its_points_and_library_from_the_sweep(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    sweep = {"library": {"path": str(tmp_path / "cells.lib")},
             "points": [{"config": {"k": k, "macs": m}} for k in (3, 4) for m in (4, 8)]}
    (tmp_path / "reports" / "sweep_liberty.json").write_text(json.dumps(sweep))
    (tmp_path / "cells.lib").write_text("library (x) { cell (a) { } }\n")
    seen = {}

    def fake_run(ks, macs, **kwargs):
        seen.update(ks=ks, macs=macs, liberty=kwargs["liberty"], sweep_path=kwargs["sweep_path"])
        return {"points": []}

    monkeypatch.setattr("verify.sweep_netlists.run", fake_run)
    assert main(["formal-netlist"]) == 0
    assert (seen["ks"], seen["macs"], seen["liberty"]) == ([3, 4], [4, 8], tmp_path / "cells.lib")
    assert seen["sweep_path"].resolve() == tmp_path / "reports" / "sweep_liberty.json"
