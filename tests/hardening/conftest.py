"""Fixtures of the hardening tests: each command run as a user would, in a
temporary working directory (so ``build/`` and the result cache start empty),
and what a user sees checked: a result, or one ``error: ...`` line and a
non-zero exit status, never a traceback, never a stale or partial file."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_sweep():
    """A small liberty-flow sweep document, as ``make sweep`` writes it."""
    return REPO / "tests" / "data" / "sweep_small_liberty.json"


def _run(tmp_path, module, *args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


@pytest.fixture
def run():
    """``run(tmp_path, module, *args, env=None)``: ``python -m module args`` in
    ``tmp_path``; the CompletedProcess."""
    return _run


def _one_line_error(proc, status=None, match=None):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0, proc.stdout
    assert status is None or proc.returncode == status, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert match is None or match in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def one_line_error():
    """``one_line_error(proc, status=None, match=None)``: assert ``proc`` failed with
    exactly one ``error:`` line on stderr (containing ``match``); returns the line."""
    return _one_line_error


def _fake_tool(tmp_path, name, body, version="Yosys 0.70 (fake)"):
    path = tmp_path / name
    path.write_text(f'#!/bin/sh\nif [ "$1" = "-V" ] || [ "$1" = "-version" ]; then echo "{version}"; exit 0; fi\n'
                    f"{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def fake_tool():
    """``fake_tool(tmp_path, name, body, version=...)``: a shell script that answers
    ``-V``/``-version`` like a real tool and then runs ``body``."""
    return _fake_tool


def _only_report(directory):
    reports = sorted(Path(directory).glob("*.json"))
    assert len(reports) == 1, reports
    return json.loads(reports[0].read_text())


@pytest.fixture
def only_report():
    """``only_report(directory)``: the one JSON report in ``directory``, parsed."""
    return _only_report


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


@pytest.fixture
def unwritable_outputs(tmp_path, locked_dir):
    """``unwritable_outputs(leaf)``: (label, --out value) pairs a user might give: an
    immutable folder, a file in place of the folder (a folder in place of the file
    ``leaf``), a path below a file, ``/dev/full`` as a folder."""
    def outputs(leaf):
        a_file = tmp_path / "a_file"
        a_file.write_text("x")
        return [("immutable", locked_dir / leaf if leaf else locked_dir),
                ("file", a_file) if not leaf else ("folder", tmp_path),
                ("below-a-file", a_file / "sub" / (leaf or "")), ("dev-full", Path("/dev/full") / (leaf or ""))]
    return outputs
