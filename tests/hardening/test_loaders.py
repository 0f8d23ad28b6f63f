"""Damaged input files, one loader per kind: every one is one ``error:`` line naming
the file and the field, never a traceback, a hang or a wrong number written."""

import json
import subprocess
from pathlib import Path

import pytest

from costmodel import analytic

REPO = Path(__file__).resolve().parents[2]

DAMAGED_SWEEPS = {
    "unknown flow": (lambda d: d.update(flow="magic"), "flow must be one of"),
    "list flow": (lambda d: d.update(flow=["liberty"]), "flow must be one of"),
    "library of the wrong type": (lambda d: d.update(library="osu"), "library must be"),
    "tools of the wrong type": (lambda d: d.update(tools=[1]), "tools must be"),
    "string breakdown": (lambda d: d["points"][1].update(breakdown="x"), "points[1].breakdown must be"),
    "empty breakdown": (lambda d: d["points"][1].update(breakdown={}), "points[1].breakdown must be"),
    "infinite area": (lambda d: d["points"][0].update(area="INF"), "holds Infinity"),
    "huge area": (lambda d: d["points"][0].update(area="HUGE"), "too large for a float"),
    "bool area": (lambda d: d["points"][0].update(area=True), "points[0].area must be"),
    "bool k": (lambda d: d["points"][0]["config"].update(k=True), "points[0].config.k must be"),
    "negative macs": (lambda d: d["points"][0]["config"].update(macs=-4), "points[0].config.macs must be"),
    "zero macs": (lambda d: d["points"][0]["config"].update(macs=0), "points[0].config.macs must be"),
    "k 1e30": (lambda d: d["points"][0]["config"].update(k=1e30), "points[0].config.k must be"),
    "numeric area_unit": (lambda d: d.update(area_unit=1), "area_unit must be"),
    "duplicate point": (lambda d: d["points"].append(d["points"][0]), "repeats k="),
    "deeply nested": (lambda d: d.update(points="NEST"), "nested deeper than"),
}


def _damaged(tmp_path, small_sweep, damage):
    document = json.loads(small_sweep.read_text())
    damage(document)
    text = json.dumps(document).replace('"INF"', "Infinity").replace('"HUGE"', "1e999")
    text = text.replace('"NEST"', "[" * 100_000 + "]" * 100_000)
    path = tmp_path / "sweep.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", DAMAGED_SWEEPS)
def test_damaged_sweeps_are_one_line_in_report_plot_and_fit(tmp_path, monkeypatch, capsys, small_sweep,
                                                            one_line_error, name):
    """A damaged sweep is one error line, never a traceback or a written file; run in-process
    through each package's main (the code of python -m)."""
    from costmodel.__main__ import main as costmodel_main
    from report.__main__ import main as report_main
    damage, message = DAMAGED_SWEEPS[name]
    path = _damaged(tmp_path, small_sweep, damage)
    monkeypatch.chdir(tmp_path)
    published = analytic.coefficients_path("liberty").read_bytes()
    for main, argv in ((report_main, ["report", "--sweep", path, "--out", "R.md", "--figures", "f"]),
                       (report_main, ["plot", "--sweep", path, "--figures", "f"]),
                       (costmodel_main, ["fit", "--flow", "liberty", "--sweep", path]),
                       (costmodel_main, ["fit", "--flow", "liberty", "--sweep", path, "--publish"])):
        status = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        line = one_line_error(subprocess.CompletedProcess(argv, status, out, err), 2, message)
        assert str(path) in line, line
    assert not (tmp_path / "f").exists() and not (tmp_path / "R.md").exists() and not (tmp_path / "build").exists()
    assert analytic.coefficients_path("liberty").read_bytes() == published
    assert not analytic.coefficients_path("magic").exists()


def test_fit_writes_to_build_unless_published(tmp_path, monkeypatch, small_sweep):
    """Was: make fit changed tracked files by default."""
    from costmodel.__main__ import main
    monkeypatch.chdir(tmp_path)
    published = analytic.coefficients_path("liberty").read_bytes()
    assert main(["fit", "--flow", "liberty", "--sweep", str(small_sweep)]) == 0
    written = tmp_path / "build" / "costmodel" / "coefficients_liberty.json"
    assert analytic.load_coefficients(written, "liberty")
    assert analytic.coefficients_path("liberty").read_bytes() == published
    assert main(["estimate", "--k", "6", "--macs", "8", "--flow", "liberty", "--coefficients", str(written),
                 "--extrapolate"]) == 0


DAMAGED_COEFFICIENTS = {
    "NaN term": (lambda d: d["area"].update(k="NAN"), "holds NaN"),
    "string term": (lambda d: d["delay"].update(k="1"), "delay.k must be a finite number"),
    "errors a string": (lambda d: d.update(errors="none"), "errors must be a list"),
    "error row without k": (lambda d: d["errors"][0].pop("k"), "errors[0].k must be"),
    "numeric unit": (lambda d: d.update(area_unit=2), "area_unit must be"),
    "another flow": (lambda d: d.update(flow="generic"), "flow must be 'liberty'"),
}


@pytest.mark.parametrize("name", DAMAGED_COEFFICIENTS)
def test_damaged_coefficients_are_one_line(tmp_path, monkeypatch, capsys, one_line_error, name):
    """a NaN term printed 'area nan' with exit 0; a string errors field crashed."""
    from costmodel.__main__ import main
    damage, message = DAMAGED_COEFFICIENTS[name]
    document = json.loads(analytic.coefficients_path("liberty").read_text())
    damage(document)
    path = tmp_path / "coefficients_liberty.json"
    path.write_text(json.dumps(document).replace('"NAN"', "NaN"))
    monkeypatch.chdir(tmp_path)
    argv = ["estimate", "--k", "6", "--macs", "8", "--flow", "liberty", "--coefficients", str(path)]
    status = main(argv)
    out, err = capsys.readouterr()
    line = one_line_error(subprocess.CompletedProcess(argv, status, out, err), 2, message)
    assert str(path) in line and "nan" not in out
    # the published file itself, damaged in a copy of the package, is refused the same way
    monkeypatch.setattr(analytic, "coefficients_path", lambda flow: path)
    with pytest.raises(ValueError, match="must be|holds NaN"):
        analytic.Model.load("liberty")


def _report_points(tmp_path, monkeypatch, capsys, small_sweep, points):
    from report.__main__ import main
    monkeypatch.chdir(tmp_path)
    argv = ["report", "--sweep", str(small_sweep), "--points", str(points), "--out", "R.md", "--figures", "f"]
    status = main(argv)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(argv, status, out, err)


def test_deeply_nested_energy_beats_is_one_line(tmp_path, monkeypatch, capsys, small_sweep, one_line_error):
    """RecursionError under report --points."""
    points = tmp_path / "points"
    (points / "synth").mkdir(parents=True)
    (points / "energy_beats.json").write_text("[" * 100_000 + "]" * 100_000)
    line = one_line_error(_report_points(tmp_path, monkeypatch, capsys, small_sweep, points), 2, "nested deeper")
    assert "energy_beats.json" in line and not (tmp_path / "R.md").exists()


@pytest.mark.parametrize("value", ["1e308", "5e-324"])
def test_absurd_energies_are_refused(tmp_path, monkeypatch, capsys, small_sweep, one_line_error, value):
    """Was: 1e308 or 5e-324 printed as 'inf' or 300 digits in REPORT.md."""
    rows = json.loads((REPO / "reports" / "energy_beats.json").read_text())
    rows[0]["total_pj"] = "VALUE"
    points = tmp_path / "points"
    (points / "synth").mkdir(parents=True)
    (points / "energy_beats.json").write_text(json.dumps(rows).replace('"VALUE"', value))
    line = one_line_error(_report_points(tmp_path, monkeypatch, capsys, small_sweep, points), 2, "energy_beats.json")
    assert "total_pj" in line and not (tmp_path / "R.md").exists()
