"""`python -m report`: outputs checked before anything is drawn."""

import pytest

@pytest.mark.parametrize("flag", ["--out", "--figures"])
def test_report_checks_its_outputs_before_drawing(tmp_path, flag, run, one_line_error, small_sweep,
                                                  unwritable_outputs):
    for label, out in unwritable_outputs("REPORT.md" if flag == "--out" else ""):
        other = ["--figures", tmp_path / "figs"] if flag == "--out" else ["--out", tmp_path / "R.md"]
        proc = run(tmp_path, "report", "report", "--sweep", small_sweep, flag, out, *other)
        one_line_error(proc, 2, "cannot ")
        assert not (tmp_path / "figs").exists() and not (tmp_path / "R.md").exists(), label


def test_report_never_overwrites_its_sweep(tmp_path, run, one_line_error, small_sweep):
    """Was: 'report --sweep X --out X' replaced the sweep with Markdown."""
    import shutil
    sweep = tmp_path / "sweep.json"
    shutil.copyfile(small_sweep, sweep)
    proc = run(tmp_path, "report", "report", "--sweep", sweep, "--out", sweep, "--figures", tmp_path / "f")
    one_line_error(proc, 2, "it is the input")
    assert sweep.read_bytes() == small_sweep.read_bytes() and not (tmp_path / "f").exists()

