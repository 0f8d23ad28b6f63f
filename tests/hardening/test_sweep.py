"""`python -m costmodel sweep`: its result set, its workers, its bounds."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costmodel.sweep import cap_jobs, parse_int_list

REPO = Path(__file__).resolve().parents[2]


def test_sweep_json_and_csv_agree(tmp_path, run):
    proc = run(tmp_path, "costmodel", "sweep", "--k", "4", "--flow", "generic", "--macs", "4", "-j", "1",
               "--out", "s")
    assert proc.returncode == 0, proc.stderr
    document = json.loads((tmp_path / "s" / "sweep_generic.json").read_text())
    csv_text = (tmp_path / "s" / "sweep_generic.csv").read_text()
    assert document["csv_sha256"] == hashlib.sha256(csv_text.encode()).hexdigest()
    assert not [p for p in (tmp_path / "s").iterdir() if p.name.startswith(".")]  # no temporary left


# --- sweep workers die with their parent -------------------------------------------------

def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _children(pid):
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_sweep_parent_ends_its_workers(tmp_path, fake_tool):
    pids = tmp_path / "pids"
    pids.mkdir()
    slow = fake_tool(tmp_path, "slow-yosys", f"echo $$ > {pids}/$$\nexec sleep 120")
    parent = subprocess.Popen([sys.executable, "-m", "costmodel", "sweep", "--k", "4,5,6,8", "--macs", "4",
                               "-j", "2", "--flow", "generic", "--yosys", str(slow)], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    workers = []
    try:
        deadline = time.monotonic() + 120
        while len(list(pids.iterdir())) < 2:
            assert time.monotonic() < deadline and parent.poll() is None, "the workers never started a tool"
            time.sleep(0.2)
        workers = _children(parent.pid)
        tools = [int(p.name) for p in pids.iterdir()]
        assert len(workers) >= 2
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 20
        while any(map(_alive, workers + tools)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in workers + tools if _alive(p)]
        assert len(list(pids.iterdir())) == 2  # no further point was started
    finally:
        for pid in [parent.pid] + workers + [int(p.name) for p in pids.iterdir()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- -j capped, ranges and knobs bounded before anything is expanded ----------------

def test_jobs_capped_at_points_and_cores(tmp_path, run, one_line_error, fake_tool):
    assert cap_jobs(1000, 1) == 1
    assert cap_jobs(1000, 27) == min(27, os.cpu_count())
    failing = fake_tool(tmp_path, "failing-yosys", "echo 'ERROR: fake failure'; exit 1")
    proc = run(tmp_path, "costmodel", "sweep", "--k", "4", "--macs", "4", "-j", "1000", "--flow", "generic",
               "--yosys", failing)
    assert "-j 1000 capped at 1" in proc.stdout and "1 local process\n" in proc.stdout
    one_line_error(proc, 2, "fake failure")


def test_ranges_are_bounded_before_expansion():
    with pytest.raises(ValueError, match="must be in 2..32"):
        parse_int_list("3..99999999999", "k", 2, 32)
    with pytest.raises(ValueError, match="more than"):
        parse_int_list("0..99999999999", "x")
    assert parse_int_list("3..5,8", "k", 2, 32) == [3, 4, 5, 8]


def test_a_disk_full_between_csv_and_json_leaves_the_old_set(tmp_path, monkeypatch):
    """Was: a disk that filled between a sweep's CSV and its JSON left a new
    CSV beside the old JSON; the set is now written as one unit."""
    import errno

    from toolkit import files
    csv, document = tmp_path / "sweep.csv", tmp_path / "sweep.json"
    csv.write_text("old csv")
    document.write_text("old json")
    stage, calls = files._stage, []

    def full_on_the_second(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return stage(path, data)
    monkeypatch.setattr(files, "_stage", full_on_the_second)
    with pytest.raises(OSError, match="No space"):
        files.write_together({csv: "new csv", document: "new json"})
    assert (csv.read_text(), document.read_text()) == ("old csv", "old json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.csv", "sweep.json"]  # no temporary left
