"""Hostile and edge-case inputs of every command, through the command line.

Each test runs ``python -m ...`` in a temporary working directory (so ``build/``
and the result cache start empty) and checks what a user sees: a result, or one
``error: ...`` line and a non-zero exit status, never a traceback, never a stale
or partial file. Real processes where it matters: concurrent syntheses, a sweep
whose parent is killed with ``kill -9``, folders that cannot be written even by
root (``chattr +i``, a file in place of a folder, ``/dev/full``).
"""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costmodel import synth
from costmodel.sweep import cap_jobs, parse_int_list
from hw.config import DatapathConfig

REPO = Path(__file__).resolve().parents[1]
SMALL_SWEEP = REPO / "tests" / "data" / "sweep_small_liberty.json"


def run(tmp_path, module, *args, env=None, timeout=300):
    """``python -m module args`` in ``tmp_path``; the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def one_line_error(proc, status=None, match=None):
    """Assert ``proc`` failed with exactly one ``error:`` line on stderr."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0, proc.stdout
    assert status is None or proc.returncode == status, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert match is None or match in lines[0], lines[0]
    return lines[0]


def fake_tool(tmp_path, name, body, version="Yosys 0.70 (fake)"):
    """A shell script that answers ``-V``/``-version`` like a real tool and then runs ``body``."""
    path = tmp_path / name
    path.write_text(f'#!/bin/sh\nif [ "$1" = "-V" ] || [ "$1" = "-version" ]; then echo "{version}"; exit 0; fi\n'
                    f"{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def locked_dir(tmp_path):
    """A folder nobody can write into, root included (``chattr +i``); skipped when
    neither the immutable flag nor mode bits can stop this user."""
    path = tmp_path / "locked"
    path.mkdir()
    immutable = shutil.which("chattr") and subprocess.run(
        ["chattr", "+i", str(path)], capture_output=True).returncode == 0
    if not immutable:
        path.chmod(0o555)
        if os.geteuid() == 0:
            path.chmod(0o755)
            pytest.skip("root, and chattr +i does not work here")
    try:
        yield path
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o755)


def _only_report(directory):
    reports = sorted(Path(directory).glob("*.json"))
    assert len(reports) == 1, reports
    return json.loads(reports[0].read_text())


# --- row 1: no stale results; a tool is accepted only if it looks like that tool -----------

def test_echo_is_not_yosys(tmp_path):
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--yosys", "/bin/echo")
    one_line_error(proc, 2, "does not look like Yosys")


def test_sta_that_is_not_opensta(tmp_path):
    if not synth.DEFAULT_LIBERTY.is_file():
        pytest.skip("the liberty flow needs qflow-tech-osu018")
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "liberty", env={"STA": "/bin/echo"})
    one_line_error(proc, 2, "does not look like OpenSTA")


def test_a_silent_yosys_never_yields_the_previous_result(tmp_path):
    """After a real synthesis, a 'Yosys' that writes nothing must fail, not report the old numbers."""
    assert run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic").returncode == 0
    silent = fake_tool(tmp_path, "silent-yosys", "exit 0")
    for _ in range(2):  # and again: nothing of the failed run is reused either
        proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic", "--fresh", "--yosys", silent)
        one_line_error(proc, 2, "wrote no")
    # a never-built configuration: the same line, no FileNotFoundError
    proc = run(tmp_path, "costmodel", "synth", "--k", "5", "--flow", "generic", "--yosys", silent)
    one_line_error(proc, 2, "wrote no")


# --- row 2: concurrent runs never share scratch space ----------------------------------------

@pytest.mark.parametrize("configs", [(("--k", "4", "--macs", "4"),) * 2,
                                     (("--k", "4"), ("--k", "5"))], ids=["same", "different"])
def test_concurrent_syntheses(tmp_path, configs):
    for _ in range(1):  # rounds: make bench-concurrency runs 5 of each
        procs = [subprocess.Popen([sys.executable, "-m", "costmodel", "synth", *args, "--flow", "generic",
                                   "--fresh", "--out", f"out{i}"], cwd=tmp_path, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
                 for i, args in enumerate(configs)]
        for proc, args in zip(procs, configs):
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            report = synth.check_report(_only_report(tmp_path / f"out{procs.index(proc)}"))
            assert report["config"]["k"] == int(args[1])
    assert not list((tmp_path / "build" / "synth").iterdir())  # every scratch folder removed


# --- row 3: report names never collide ----------------------------------------------------------

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


def test_lib_that_is_a_folder_without_liberty_files(tmp_path):
    """A folder stands for its liberty files; one without any is one error line."""
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "liberty", "--lib", tmp_path)
    one_line_error(proc, 2, "has no liberty files (*.lib, *.lib.gz)")


# --- row 4 (and 13): outputs checked before any work, one line, no partial file -------------

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
def test_unwritable_out_folder_fails_before_any_synthesis(tmp_path, locked_dir, command):
    for label, out in _unwritable_outputs(tmp_path, locked_dir, ""):
        if command[1] == "variants":  # it has no --out: its reports root is made unwritable instead
            (tmp_path / "build").mkdir(exist_ok=True)
            shutil.rmtree(tmp_path / "build" / "reports", ignore_errors=True)
            (tmp_path / "build" / "reports").write_text("in the way")
            proc = run(tmp_path, *command)
        else:
            proc = run(tmp_path, *command, "--out", out)
        one_line_error(proc, 2, "cannot ")
        assert not (tmp_path / "build" / "cache").exists(), label  # nothing was synthesized


@pytest.mark.parametrize("flag", ["--out", "--figures"])
def test_report_checks_its_outputs_before_drawing(tmp_path, locked_dir, flag):
    for label, out in _unwritable_outputs(tmp_path, locked_dir, "REPORT.md" if flag == "--out" else ""):
        other = ["--figures", tmp_path / "figs"] if flag == "--out" else ["--out", tmp_path / "R.md"]
        proc = run(tmp_path, "report", "report", "--sweep", SMALL_SWEEP, flag, out, *other)
        one_line_error(proc, 2, "cannot ")
        assert not (tmp_path / "figs").exists() and not (tmp_path / "R.md").exists(), label


def test_user_runs_write_outside_the_study(tmp_path):
    """Item 8: without --publish, synth and sweep write under build/reports/, never reports/."""
    assert run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic").returncode == 0
    proc = run(tmp_path, "report", "report", "--sweep", SMALL_SWEEP)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "reports").exists()
    written = {p.relative_to(tmp_path).as_posix() for p in (tmp_path / "build" / "reports").rglob("*.*")}
    assert "build/reports/synth/k4_generic.json" in written and "build/reports/REPORT.md" in written
    proc = run(tmp_path, "costmodel", "synth", "--k", "4", "--flow", "generic", "--publish")
    assert proc.returncode == 0 and (tmp_path / "reports" / "synth" / "k4_generic.json").is_file()


def test_sweep_json_and_csv_agree(tmp_path):
    proc = run(tmp_path, "costmodel", "sweep", "--k", "4", "--flow", "generic", "--macs", "4", "-j", "1",
               "--out", "s")
    assert proc.returncode == 0, proc.stderr
    import hashlib
    document = json.loads((tmp_path / "s" / "sweep_generic.json").read_text())
    csv_text = (tmp_path / "s" / "sweep_generic.csv").read_text()
    assert document["csv_sha256"] == hashlib.sha256(csv_text.encode()).hexdigest()
    assert not [p for p in (tmp_path / "s").iterdir() if p.name.startswith(".")]  # no temporary left


# --- row 5: cache entries validated field by field ---------------------------------------------

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


def test_cache_entries_are_validated(tmp_path):
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
    assert _only_report(tmp_path / "build" / "reports" / "synth")["area"] == good["area"]


# --- row 6: sweep workers die with their parent -------------------------------------------------

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
def test_kill_9_of_the_sweep_parent_ends_its_workers(tmp_path):
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


# --- rows 7-9: -j capped, ranges and knobs bounded before anything is expanded ----------------

def test_jobs_capped_at_points_and_cores(tmp_path):
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


BAD_COMMANDS = [
    ("costmodel", "sweep", "--k", "3..99999999999"),
    ("costmodel", "sweep", "--k", "1..4"),
    ("costmodel", "sweep", "--k", "4..3"),
    ("costmodel", "sweep", "--k", "a..b"),
    ("costmodel", "sweep", "--macs", "0..99999999999"),
    ("costmodel", "sweep", "--macs", "3"),
    ("costmodel", "sweep", "-j", "0"),
    ("costmodel", "sweep", "-j", "-5"),
    ("costmodel", "sweep", "--engines", "1000"),
    ("costmodel", "sweep", "--set", "k=4"),
    ("verify", "formal", "--k", "3..99999999999"),
    ("costmodel", "variants", "--macs", "1..99999999999"),
    ("costmodel", "synth", "--k", "4", "--clock-ns", "nan"),
    ("costmodel", "synth", "--k", "4", "--clock-ns", "-1"),
    ("costmodel", "synth", "--k", "4", "--engines", "1000000"),
    ("costmodel", "synth", "--k", "4", "--macs", "64", "--engines", "1000"),
    ("costmodel", "synth", "--k", "4", "--lib", "/nonexistent.lib", "--flow", "liberty"),
    ("hw", "verilog", "--k", "4", "--macs", "4", "--engines", "1000000"),
    ("hw", "verilog", "--k", "4", "--macs", "4", "--engines", "0"),
    ("hw", "verilog", "--k", "4", "--macs", "128"),
    ("hw", "verilog", "--k", "99999999999"),
    # row 11: estimate outside what the model was fitted to
    ("costmodel", "estimate", "--k", "2", "--macs", "8"),
    ("costmodel", "estimate", "--k", "6", "--macs", "1"),
    ("costmodel", "estimate", "--k", "6", "--macs", "64"),
    ("costmodel", "estimate", "--k", "6", "--macs", "8", "--engines", "1000"),
    ("costmodel", "estimate", "--k", "6", "--macs", "8", "--engines", "4"),
    ("costmodel", "estimate", "--k", "6", "--macs", "8", "--rescaler-pipeline", "3", "--trim-shift"),
    ("costmodel", "estimate", "--k", "6", "--macs", "8", "--no-fast-clamp"),
    ("costmodel", "estimate", "--k", "6"),
    # row 14
    ("accuracy", "finetune", "--lr", "nan"),
    ("accuracy", "finetune", "--lr", "inf"),
    ("accuracy", "finetune", "--epochs", "-1"),
    ("accuracy", "finetune", "--epochs", "0"),
    ("accuracy", "accuracy", "--limit", "-5"),
    ("accuracy", "accuracy", "--limit", "x"),
    ("accuracy", "tflite-parity", "--limit", "0"),
]


@pytest.mark.parametrize("command", BAD_COMMANDS, ids=" ".join)
def test_bad_command_is_one_line(tmp_path, monkeypatch, capsys, command):
    """In-process through each package's ``main`` (the same code as ``python -m``, without
    the start-up cost): exit status 2, one ``error:`` line, nothing written."""
    import importlib
    main = importlib.import_module({"hw": "hw.cli"}.get(command[0], f"{command[0]}.__main__")).main
    monkeypatch.chdir(tmp_path)
    status = main(list(command[1:]))
    out, err = capsys.readouterr()
    one_line_error(subprocess.CompletedProcess(command, status, out, err), 2)
    assert not (tmp_path / "build").exists()  # nothing ran


def test_estimate_inside_and_extrapolated(tmp_path):
    proc = run(tmp_path, "costmodel", "estimate", "--k", "6", "--macs", "8")
    assert proc.returncode == 0 and "fit error up to" in proc.stdout
    proc = run(tmp_path, "costmodel", "estimate", "--k", "2", "--macs", "8", "--extrapolate")
    assert proc.returncode == 0 and "fit error" not in proc.stdout and "no error bound" in proc.stdout
    assert proc.stderr.startswith("warning: extrapolating")


# --- row 10: unwritable stdout -------------------------------------------------------------------

def test_verilog_to_dev_full_and_closed_stdout(tmp_path):
    one_line_error(run(tmp_path, "hw", "verilog", "--k", "4", "-o", "/dev/full"), 1, "No space left")
    proc = subprocess.run(f"{sys.executable} -m hw verilog --k 4 >&-", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    one_line_error(proc, 2, "standard output is closed")


# --- rows 12, 13, 15: .tflite files -------------------------------------------------------------

def _litert_reason():
    from accuracy.tflite.litert import litert_available
    return litert_available()


needs_tflite = pytest.mark.skipif(_litert_reason() is not None, reason="the litert extra is not installed")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, net):
    from accuracy.digits.litert import export
    path = tmp_path_factory.mktemp("tfl") / "digits.tflite"
    export(net, path)
    return path


def _empty_model(path):
    """A valid .tflite flatbuffer with no subgraphs (version 3, nothing else)."""
    import flatbuffers
    b = flatbuffers.Builder(64)
    b.StartVector(4, 0, 4)
    empty = b.EndVector()
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(2, empty, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    path.write_bytes(bytes(b.Output()))
    return path


@needs_tflite
def test_bad_tflite_files_are_one_line(tmp_path, exported):
    raw = exported.read_bytes()
    cases = {
        "folder": tmp_path,
        "missing": tmp_path / "none.tflite",
        "garbage": tmp_path / "garbage.tflite",
        "header then garbage": tmp_path / "tfl3.tflite",
        "cut in half": tmp_path / "half.tflite",
        "no subgraphs": _empty_model(tmp_path / "empty.tflite"),
    }
    cases["garbage"].write_bytes(os.urandom(256))
    cases["header then garbage"].write_bytes(b"\x10\0\0\0TFL3" + bytes(range(256)) * 4)
    cases["cut in half"].write_bytes(raw[:len(raw) // 2])
    for name, path in cases.items():
        line = one_line_error(run(tmp_path, "accuracy", "tflite-scales", path), 2)
        assert str(path) in line or name == "folder", (name, line)
    line = one_line_error(run(tmp_path, "accuracy", "tflite-scales", cases["no subgraphs"]), 2)
    assert "nothing to rescale" in line


@needs_tflite
def test_tflite_export_to_unwritable_places(tmp_path, locked_dir):
    existing = tmp_path / "kept.tflite"
    existing.write_bytes(b"old")
    for out, status in ((Path("/dev/full"), 1), (locked_dir / "m.tflite", 2), (tmp_path, 2),
                        (tmp_path / "kept.tflite" / "m.tflite", 2)):
        one_line_error(run(tmp_path, "accuracy", "tflite-export", "-o", out), status)
    assert existing.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


# --- minor points -----------------------------------------------------------------------------

def test_quantize_multiplier_rejects_bools():
    from sim.golden import quantize_multiplier
    import numpy as np
    for value in (True, False, np.array([True, False])):
        with pytest.raises(ValueError, match="M must be a float"):
            quantize_multiplier(value, 8)


def test_shape_mismatch_names_the_operands():
    import numpy as np
    from sim.golden import rescale
    with pytest.raises(ValueError, match=r"acc \(3,\), m \(2,\)"):
        rescale(np.zeros(3, dtype=np.int64), np.array([1, 2]), 4)
