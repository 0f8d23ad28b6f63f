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
