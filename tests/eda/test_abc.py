"""ABC as an equivalence checker (:mod:`eda.abc`): one verdict parser for every
command's words, a time limit that ends in "open" (never a pass), a missing ABC in
one clear error."""

import pytest

from eda import abc
from toolkit.run import Tool, ToolError


@pytest.mark.parametrize("text,status,cycle", [
    ("Networks are equivalent.  Time =     0.03 sec", "proven", None),
    ("Networks are NOT EQUIVALENT. Output 0 was asserted in frame 7.", "failed", 7),
    ("Networks are not equivalent.", "failed", None),
    ("UNSATISFIABLE  Time =     0.42 sec", "proven", None),
    ("SATISFIABLE  Time =     0.02 sec", "failed", None),
    ("Nodes = 12. Levels = 3.\nabc: something else", "open", None),
    ("", "open", None),
])
def test_verdict_reads_every_command(text, status, cycle):
    found = abc.verdict(text)
    assert (found.status, found.cycle) == (status, cycle)
    assert found.status in abc.VERDICTS and not found.timed_out


def test_a_check_past_its_limit_is_open_and_names_the_knob(tmp_path):
    slow = Tool("slow-abc", ("sh", "-c", "sleep 30", "slow-abc"), "test")  # ABC's arguments land in $1...
    found = abc.check_miter(slow, "m.aig", "dprove", cwd=tmp_path, timeout=0.5, log_name="abc.log", knob="X=")
    assert (found.status, found.timed_out) == ("open", True)
    assert found.detail == "not proven: time limit of 0.5 s (raise it with X=)"


def test_a_failing_abc_is_one_tool_error(tmp_path):
    broken = Tool("broken-abc", ("sh", "-c", "echo 'Error: cannot read m.aig'; exit 3", "broken-abc"), "test")
    with pytest.raises(ToolError, match=r"broken-abc failed: Error: cannot read m.aig"):
        abc.check_miter(broken, "m.aig", "dprove", cwd=tmp_path, timeout=10, log_name="abc.log")


def test_missing_abc_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(abc.shutil, "which", lambda name: None)
    with pytest.raises(ToolError, match=r"yosys-abc not found: .*apt-get install yosys"):
        abc.find_abc()
