"""``python -m report plot | report``: figures and REPORT.md from stored sweeps (no tool runs), and bad inputs."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from costmodel import published
from report import __main__ as cli
from report import asic_figures, fpga_figures, silicon_figures, silicon_numbers, sweep_rows

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "data" / "sweep_small_liberty.json"


def _write(tmp_path, document, name="sweep.json"):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def _error(capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_every_figure_is_drawn_as_png_and_svg_and_redrawn_byte_for_byte(tmp_path, capsys, small, figures):
    assert cli.main(["plot", "--sweep", str(SMALL), "--figures", str(tmp_path / "fig")]) == 0
    assert "liberty flow, OSU 0.18 um cells" in capsys.readouterr().out
    model = sweep_rows.load_model(small)[0]
    for name in asic_figures.FIGURES:
        figures.assert_files_show(asic_figures.figure(name, small, model=model), tmp_path / "fig" / name)
    # No date or random id in the files: an unchanged sweep leaves git clean.
    asic_figures.draw(small, tmp_path / "again", model=model)
    for name in asic_figures.FIGURES:
        for ext in ("png", "svg"):
            first, second = (tmp_path / d / f"{name}.{ext}" for d in ("fig", "again"))
            assert first.read_bytes() == second.read_bytes(), f"{name}.{ext}"


def test_default_flow_without_the_liberty_library_draws_the_generic_sweep(tmp_path, monkeypatch, capsys):
    """As in a fresh clone without the OSU cells: the committed generic sweep, no synthesis."""
    (tmp_path / "reports").mkdir()
    shutil.copy(REPO / "reports" / "sweep_generic.json", tmp_path / "reports")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(published, "DEFAULT_LIBERTY", tmp_path / "absent.lib")
    assert cli.main(["plot"]) == 0
    assert "no liberty library" in capsys.readouterr().out
    figures = tmp_path / "build" / "reports" / "figures" / "generic"  # a user's run: not the study
    assert all((figures / f"{n}.png").stat().st_size for n in asic_figures.FIGURES)
    assert not (tmp_path / "reports" / "figures").exists()
    assert not (tmp_path / "build" / "cache").exists()  # nothing was synthesized


def test_missing_points_are_listed_with_the_command_that_makes_them(tmp_path, monkeypatch, capsys):
    full = json.loads((REPO / "reports" / "sweep_liberty.json").read_text())
    path = _write(tmp_path / "reports", dict(full, points=full["points"][:-1]), "sweep_liberty.json")
    assert sweep_rows.missing_points(published.load_sweep(path), (3, 32), (4, 16)) == [(32, 16)]
    monkeypatch.chdir(tmp_path)
    assert cli.main(["plot", "--flow", "liberty", "--publish"]) == 0
    note = "`reports/sweep_liberty.json` lacks 1 point of the default grid (k=32/MACS=16): " \
           "`make sweep FLOW=liberty PUBLISH=1` makes it"
    assert note in capsys.readouterr().out
    assert cli.main(["report", "--flow", "liberty", "--publish", "--points", str(tmp_path)]) == 0
    assert f"**Missing points.** {note}" in (tmp_path / "reports" / "REPORT.md").read_text()
    assert not (tmp_path / "build").exists()  # nothing was synthesized
    # Complete again (as 'make sweep' leaves it): the next report lists nothing.
    _write(tmp_path / "reports", full, "sweep_liberty.json")
    assert cli.main(["report", "--flow", "liberty", "--publish", "--points", str(tmp_path)]) == 0
    assert "**Missing points.** `reports/sweep" not in (tmp_path / "reports" / "REPORT.md").read_text()


def test_make_report_and_plots_only_read():
    """The make targets run the report's command alone: no sweep step, no tool installed."""
    # --no-print-directory: under `make test` this make is a sub-make, which would
    # otherwise add "Entering directory" lines to its output.
    dry = subprocess.run(["make", "-n", "--no-print-directory", "-o", ".venv/.installed-stamp",
                          "report", "plots", "FLOW=ecp5"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in dry] == ["-m report report --flow ecp5 --publish",
                                                       "-m report plot --flow ecp5 "]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(schema=published.SCHEMA_VERSION + 1), "schema version"),
    (lambda d: d.update(schema=0), "schema version 0, this tool reads version"),
    (lambda d: d.update(points=[]), "holds no points"),
    (lambda d: d.pop("area_unit"), "lacks area_unit"),
    (lambda d: d["points"][2].pop("delay"), "delay must be a positive number of a plausible size, not null"),
    (lambda d: d["points"][0].update(area=-1), "area must be a positive number of a plausible size, not -1"),
])
def test_bad_sweeps_end_in_one_clear_error(tmp_path, capsys, small, change, message):
    change(small)
    path = _write(tmp_path, small)
    assert message in _error(capsys, ["plot", "--sweep", str(path), "--figures", str(tmp_path / "f")])
    assert not (tmp_path / "f").exists()
    with pytest.raises(ValueError, match=message):
        published.load_sweep(path)


def test_unreadable_sweeps_end_in_one_clear_error(tmp_path, capsys):
    assert "does not exist" in _error(capsys, ["plot", "--sweep", str(tmp_path / "none.json")])
    (tmp_path / "bad.json").write_text("{not json")
    assert "is not valid JSON" in _error(capsys, ["plot", "--sweep", str(tmp_path / "bad.json")])
    (tmp_path / "list.json").write_text("[]")
    assert "not a sweep document" in _error(capsys, ["report", "--sweep", str(tmp_path / "list.json")])


def test_an_absent_sweep_names_the_command_that_makes_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert "reports/sweep_ice40.json does not exist: run 'make sweep FLOW=ice40 PUBLISH=1' first" in _error(
        capsys, ["report", "--flow", "ice40", "--publish"])


def test_flow_must_match_the_sweep(tmp_path, capsys):
    assert "is a liberty sweep, not generic" in _error(
        capsys, ["plot", "--sweep", str(SMALL), "--flow", "generic", "--figures", str(tmp_path)])


def test_report_command_writes_report_and_figures_it_links(tmp_path, capsys):
    out = tmp_path / "docs" / "R.md"
    out.parent.mkdir()
    argv = ["report", "--sweep", str(SMALL), "--figures", str(tmp_path / "fig"), "--out", str(out),
            "--points", str(tmp_path)]  # no published points here; the section: test_silicon_section.py
    assert cli.main(argv) == 0
    assert "follow the paper's trend" in capsys.readouterr().out
    text = out.read_text()
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(links) == len(asic_figures.FIGURES)
    assert all((out.parent / link).stat().st_size > 0 for link in links)
    assert f"--sweep {SMALL}" in text and "| 4 | 151,933 |" in text
    assert text.startswith("# Cost of a k-bit rescaler against the paper: liberty flow\n\nGenerated by "
                           f"`python -m report report --flow liberty --sweep {SMALL}` from `{SMALL.as_posix()}`")


def test_a_damaged_netlist_table_stops_the_report(tmp_path, capsys):
    shutil.copy(SMALL, tmp_path / "sweep_liberty.json")
    (tmp_path / "formal_netlist.json").write_text('{"points": [{"k": 3}]}')
    err = _error(capsys, ["report", "--sweep", str(tmp_path / "sweep_liberty.json"), "--figures",
                          str(tmp_path / "fig"), "--out", str(tmp_path / "R.md"), "--points", str(tmp_path)])
    assert "formal_netlist.json is not a readable netlist = RTL table" in err and "make formal-netlist" in err
    assert not (tmp_path / "fig").exists() and not (tmp_path / "R.md").exists()  # read before drawing


@pytest.mark.parametrize("damage, message", [
    (lambda s: "{not json", "is not valid JSON"),
    (lambda s: json.dumps(s.liberty_point(6, 8)), "holds k=6 macs=8 (liberty flow), not k=4 macs=8"),
    (lambda s: json.dumps({**s.liberty_point(4, 8), "energy": {"stimulus": "x"}}), "its energy object needs"),
    (lambda s: json.dumps([1, 2]), "is not a synth report"),
])
def test_a_damaged_point_is_one_error_line(tmp_path, capsys, silicon, damage, message):
    root = silicon.publish(tmp_path / "reports")
    (root / "synth" / "k4_macs8.json").write_text(damage(silicon))
    argv = ["report", "--sweep", str(SMALL), "--figures", str(tmp_path / "fig"), "--out", str(tmp_path / "R.md"),
            "--points", str(root)]
    err = _error(capsys, argv)
    assert message in err and "k4_macs8.json" in err and "make energy K=4 MACS=8 PUBLISH=1" in err
    assert not (tmp_path / "R.md").exists() and not (tmp_path / "fig").exists()  # checked before drawing


def test_points_folder_that_is_not_there_is_an_error(tmp_path, capsys):
    argv = ["report", "--sweep", str(SMALL), "--figures", str(tmp_path / "fig"), "--out", str(tmp_path / "R.md"),
            "--points", str(tmp_path / "typo")]
    assert "is not a directory" in _error(capsys, argv) and not (tmp_path / "fig").exists()


def test_report_command_writes_the_silicon_section_and_its_figures_atomically(tmp_path, monkeypatch, capsys,
                                                                             figures, silicon):
    from toolkit import figures as toolkit_figures
    written = []
    real = toolkit_figures.write_atomically
    monkeypatch.setattr(toolkit_figures, "write_atomically", lambda path, data: written.append(Path(path))
                        or real(path, data))
    root = silicon.publish(tmp_path / "reports", isolated=silicon_numbers.ISOLATED_K)
    out, fig = tmp_path / "R.md", tmp_path / "fig"
    assert cli.main(["report", "--sweep", str(SMALL), "--figures", str(fig), "--out", str(out),
                     "--points", str(root)]) == 0
    assert "18 energy and 3 layout points" in capsys.readouterr().out
    text = out.read_text()
    assert "## Energy per output and placed-and-routed silicon" in text
    points = silicon_numbers.load(root)
    ratios = sweep_rows.area_ratios(published.load_sweep(SMALL))
    for name in silicon_figures.FIGURES:
        assert f"![{name}](fig/{name}.png)" in text
        assert fig / f"{name}.png" in written and fig / f"{name}.svg" in written
        figures.assert_files_show(silicon_figures.figure(name, points, area_ratios=ratios), fig / name)
    assert sorted(p.name for p in fig.iterdir()) == sorted(p.name for p in written if p.parent == fig)
    # The section compares with the sweep's synthesized area ratios (the small sweep holds k = 4, 8, 32).
    rows = [line.strip("|").split("|") for line in text.split("#### Energy per output, 4 MACS")[1].splitlines()
            if re.match(r"\| \d", line)]
    k4 = next(r for r in sweep_rows.rows_by_macs(published.load_sweep(SMALL))[4] if r["k"] == 4)
    assert next(r for r in rows if r[0].strip() == "4")[8].strip() == f"{k4['area_vs_k32']:.3f}"


def test_asic_report_adds_the_fpga_sweep_next_to_it_without_place_and_route(tmp_path, figures, fabricated):
    sweeps = tmp_path / "sweeps"
    shutil.copy(SMALL, _write(sweeps, fabricated(), "sweep_ecp5.json").with_name("sweep_liberty.json"))
    out = tmp_path / "out" / "REPORT.md"
    assert cli.main(["report", "--sweep", str(sweeps / "sweep_liberty.json"), "--figures",
                     str(tmp_path / "out" / "figures" / "liberty"), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.index("## Analytic model") < text.index("## On an FPGA: the ecp5 flow") < text.index("## Figures")
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert "figures/ecp5/fpga_vs_k.png" in links and all((out.parent / link).stat().st_size for link in links)
    assert "of the area for 4 / 8 MACS" in text  # the liberty sweep's saving, for contrast
    figures.assert_files_show(fpga_figures.figure(fabricated()), tmp_path / "out" / "figures" / "ecp5" / "fpga_vs_k")


def test_fpga_report_alone_and_its_figure(tmp_path, monkeypatch, fabricated):
    path = _write(tmp_path, fabricated(), "sweep_ecp5.json")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", "--sweep", str(path), "--figures", str(tmp_path / "fig")]) == 0
    text = (tmp_path / "build" / "reports" / "REPORT_ecp5.md").read_text()  # not REPORT.md
    assert not (tmp_path / "build" / "reports" / "REPORT.md").exists()
    assert text.startswith("# Cost of a k-bit rescaler on an FPGA: ecp5 flow")
    assert "between k = 16 and k = 24" in text and "![fpga_vs_k](" in text
    assert [p.name for p in sorted((tmp_path / "fig").iterdir())] == ["fpga_vs_k.png", "fpga_vs_k.svg"]
    first = (tmp_path / "fig" / "fpga_vs_k.svg").read_bytes()
    fpga_figures.draw(fabricated(), tmp_path / "fig")
    assert (tmp_path / "fig" / "fpga_vs_k.svg").read_bytes() == first
