"""``python -m costmodel plot``: every figure from a small stored sweep (no synthesis), and bad inputs."""

import json
import shutil
from pathlib import Path

import pytest

from costmodel import __main__ as cli
from costmodel import plots, report, synth

DATA = Path(__file__).resolve().parents[1] / "data"
SMALL = DATA / "sweep_small_liberty.json"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small():
    return json.loads(SMALL.read_text())


def _write(tmp_path, document, name="sweep.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def _error(capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_every_figure_is_drawn_as_png_and_svg_and_redrawn_byte_for_byte(tmp_path, capsys, small):
    assert cli.main(["plot", "--sweep", str(SMALL), "--figures", str(tmp_path / "fig")]) == 0
    assert "liberty flow, OSU 0.18 um cells" in capsys.readouterr().out
    for name in plots.FIGURES:
        png, svg = (tmp_path / "fig" / f"{name}.{ext}" for ext in ("png", "svg"))
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000, name
        assert svg.read_text().lstrip().startswith("<?xml") and svg.stat().st_size > 10_000, name
    # No date or random id in the files: an unchanged sweep leaves git clean.
    plots.draw_all(small, tmp_path / "again", model=report.load_model(small)[0])
    for name in plots.FIGURES:
        for ext in ("png", "svg"):
            first, second = (tmp_path / d / f"{name}.{ext}" for d in ("fig", "again"))
            assert first.read_bytes() == second.read_bytes(), f"{name}.{ext}"


def test_without_a_model_the_model_figure_is_left_out(tmp_path, small):
    assert plots.draw_all(small, tmp_path, model=None) == [n for n in plots.FIGURES if n != "model_vs_synthesis"]
    missing = report.load_model(small, tmp_path / "absent.json")
    assert missing[0] is None and "make fit" in missing[1]


def test_breakdown_stacks_whatever_parts_it_holds_in_a_stable_order(tmp_path, small):
    for point in small["points"]:  # a rescaler split into submodules, as it may be one day
        rescaler = point["breakdown"].pop("rescaler")
        point["breakdown"].update(rescaler_shift=rescaler / 3, rescaler_multiplier=2 * rescaler / 3, zz_misc=1.0)
    assert report.ordered_parts(small["points"]) == [
        "rescaler_multiplier", "rescaler_shift", "multipliers", "adder_tree", "accumulator", "zz_misc",
        "top-level logic and registers"]
    assert "area_breakdown" in plots.draw_all(small, tmp_path)


def test_a_macs_without_k32_is_drawn_without_ratios(tmp_path, small):
    small["points"] = [p for p in small["points"] if not (p["config"]["macs"] == 16 and p["config"]["k"] == 32)]
    assert len(plots.draw_all(small, tmp_path)) == 4


def test_generic_flow_says_so_in_the_titles(small):
    small.update(flow="generic", library=None, area_unit="transistors", delay_unit="levels", tools={})
    label = report.flow_label(small)
    assert label.startswith("generic flow") and "no liberty library" in label and "logic levels" in label


def test_default_flow_without_the_liberty_library_draws_the_generic_sweep(tmp_path, monkeypatch, capsys):
    """As in a fresh clone without the OSU cells: the committed generic sweep, no synthesis."""
    (tmp_path / "reports").mkdir()
    shutil.copy(REPO / "reports" / "sweep_generic.json", tmp_path / "reports")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(synth, "DEFAULT_LIBERTY", tmp_path / "absent.lib")
    monkeypatch.setattr(cli, "run_sweep", lambda args: pytest.fail("nothing should be synthesized"))
    assert cli.main(["plot"]) == 0
    assert "no liberty library" in capsys.readouterr().out
    figures = tmp_path / "build" / "reports" / "figures" / "generic"  # a user's run: not the study
    assert all((figures / f"{n}.png").stat().st_size for n in plots.FIGURES)
    assert not (tmp_path / "reports" / "figures").exists()


def test_missing_points_are_swept_first(tmp_path, monkeypatch):
    full = json.loads((REPO / "reports" / "sweep_liberty.json").read_text())
    (tmp_path / "reports").mkdir()
    path = _write(tmp_path / "reports", dict(full, points=full["points"][:-1]), "sweep_liberty.json")
    assert report.missing_points(path, (3, 32), (4, 16)) == [(32, 16)]
    monkeypatch.chdir(tmp_path)
    calls = []

    def fake_sweep(args):  # stands for the cached sweep: writes the whole document
        calls.append(args)
        _write(tmp_path / "reports", full, "sweep_liberty.json")

    monkeypatch.setattr(cli, "run_sweep", fake_sweep)
    assert cli.main(["plot", "--flow", "liberty", "-j", "1", "--publish"]) == 0
    assert len(calls) == 1 and (calls[0].flow, calls[0].jobs, calls[0].out) == ("liberty", 1, Path("reports"))
    assert (calls[0].k, calls[0].macs) == ("3,4,5,6,8,12,16,24,32", "4,8,16")
    assert report.missing_points(path, (3, 32), (4, 16)) == []  # complete now: the next plot sweeps nothing


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(schema=synth.SCHEMA_VERSION + 1), "schema version"),
    (lambda d: d.update(schema=0), "schema version 0, this tool reads version"),
    (lambda d: d.update(points=[]), "holds no points"),
    (lambda d: d.pop("area_unit"), "lacks area_unit"),
    (lambda d: d["points"][2].pop("delay"), "point 2 needs"),
    (lambda d: d["points"][0].update(area=-1), "point 0 needs"),
])
def test_bad_sweeps_end_in_one_clear_error(tmp_path, capsys, small, change, message):
    change(small)
    path = _write(tmp_path, small)
    assert message in _error(capsys, ["plot", "--sweep", str(path), "--figures", str(tmp_path / "f")])
    assert not (tmp_path / "f").exists()
    with pytest.raises(ValueError, match=message):
        report.load_sweep(path)


def test_unreadable_sweeps_end_in_one_clear_error(tmp_path, capsys):
    assert "does not exist" in _error(capsys, ["plot", "--sweep", str(tmp_path / "none.json")])
    (tmp_path / "bad.json").write_text("{not json")
    assert "is not valid JSON" in _error(capsys, ["plot", "--sweep", str(tmp_path / "bad.json")])
    (tmp_path / "list.json").write_text("[]")
    assert "not a sweep document" in _error(capsys, ["report", "--sweep", str(tmp_path / "list.json")])


def test_flow_must_match_the_sweep(tmp_path, capsys):
    assert "is a liberty sweep, not generic" in _error(
        capsys, ["plot", "--sweep", str(SMALL), "--flow", "generic", "--figures", str(tmp_path)])
