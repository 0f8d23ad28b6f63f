"""``python -m costmodel synth``: real small syntheses and every user error.

Each run goes through the command line, in a temporary working directory, so
what is tested is what ``make synth`` does.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel.synth import DEFAULT_LIBERTY, SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]
REQUIRED = {"schema", "config", "flow", "area", "area_unit", "cells", "delay", "delay_unit",
            "breakdown", "tools", "runtime_s", "library", "clock_ns"}


def synth(tmp_path, *args, env=None):
    """Run the synth command in ``tmp_path``; returns (exit code, stdout, stderr, reports)."""
    proc = subprocess.run(
        [sys.executable, "-m", "costmodel", "synth", *args, "--out", str(tmp_path / "reports")],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})
    reports = sorted((tmp_path / "reports").glob("*")) if (tmp_path / "reports").exists() else []
    return proc.returncode, proc.stdout, proc.stderr, reports


def _check_report(path, flow, unit):
    report = json.loads(path.read_text())
    assert REQUIRED <= set(report)
    assert report["schema"] == SCHEMA_VERSION
    assert report["flow"] == flow
    assert report["area"] > 0 and report["area_unit"] == unit
    assert report["delay"] > 0
    assert report["tools"]["yosys"]["version"].startswith("Yosys")
    # The breakdown comes from the hierarchical run and adds up to about the flat area.
    assert sum(report["breakdown"].values()) == pytest.approx(report["area"], rel=0.15)
    return report


def test_generic_flow_engine_k4_macs4(tmp_path):
    code, out, err, reports = synth(tmp_path, "--k", "4", "--macs", "4", "--flow", "generic")
    assert code == 0, err
    assert [p.name for p in reports] == ["k4_macs4_generic.json"]
    report = _check_report(reports[0], "generic", "transistors")
    assert report["delay_unit"] == "levels"
    assert report["config"]["k"] == 4 and report["config"]["macs"] == 4
    assert "rescaler" in report["breakdown"]
    assert "area" in out and "breakdown" in out


@pytest.mark.skipif(not DEFAULT_LIBERTY.is_file(), reason="qflow-tech-osu018 is not installed")
def test_liberty_flow_rescaler_k4(tmp_path):
    code, out, err, reports = synth(tmp_path, "--k", "4", "--flow", "liberty")
    assert code == 0, err
    report = _check_report(reports[0], "liberty", "um^2")
    assert report["library"]["sha256"]
    if report["delay_unit"] == "ns":
        assert report["delay_ns"] == report["delay"] < report["clock_ns"]


@pytest.mark.skipif(shutil.which("sta") is None, reason="OpenSTA is not installed")
def test_asap7_flow_rescaler_k4_in_ns_and_um2(tmp_path):
    code, out, err, reports = synth(tmp_path, "--k", "4", "--flow", "asap7")
    assert code == 0, err
    assert [p.name for p in reports] == ["k4_asap7.json"]
    report = _check_report(reports[0], "asap7", "um^2")
    assert report["library"]["node"].startswith("ASAP7 7 nm") and len(report["library"]["files"]) == 5
    assert report["library"]["units"] == "time 1ps, capacitance 1fF, leakage 1pW"
    # ps read as ns would give a delay 1000 times too large (or a clock 1000 times too short).
    assert report["delay_unit"] == "ns" and 0.1 < report["delay"] < 5.0 and report["clock_ns"] == 10.0
    assert "ASAP7 7 nm" in out and "um^2" in out


def test_liberty_files_in_different_units_are_one_error(tmp_path):
    (tmp_path / "ns.lib").write_text('library (a) {\n  time_unit : "1ns";\n  cell (X) { }\n}\n')
    (tmp_path / "ps.lib").write_text('library (b) {\n  time_unit : "1ps";\n  cell (Y) { }\n}\n')
    code, out, err, reports = synth(tmp_path, "--k", "4", "--flow", "liberty", "--lib", "ns.lib", "--lib", "ps.lib")
    assert code == 2 and reports == []
    assert err.count("\n") == 1 and err.startswith("error: liberty files disagree on units: ns.lib has time 1ns")


@pytest.mark.parametrize("args, message", [
    (["--k", "40"], "k must be an integer in 2..32, not 40"),
    (["--k", "4", "--macs", "3"], "macs must be a power of two"),
    (["--k", "4", "--flow", "liberty", "--lib", "/nonexistent.lib"], "liberty file /nonexistent.lib does not exist"),
    (["--k", "4", "--flow", "liberty", "--lib", __file__], "is not a liberty"),
    (["--k", "4", "--yosys", "/nonexistent/yosys"], "Yosys not found"),
    (["--k", "4", "--clock-ns", "-1"], "clock period must be a positive number"),
    (["--k", "4", "--flow", "asic"], "invalid choice"),
])
def test_bad_input_is_one_line_and_no_report(tmp_path, args, message):
    code, out, err, reports = synth(tmp_path, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err
    assert "Traceback" not in err
    assert reports == []

