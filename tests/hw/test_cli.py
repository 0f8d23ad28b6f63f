"""``python -m hw`` as a user runs it: a subprocess, exit codes, stderr, output files."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

INPUTS = ("acc", "m", "s", "zero_point", "act_min", "act_max", "valid")
OUTPUTS = ("y", "y_valid")
CLOCK = ("clk", "rst")


def run_hw(*args, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "hw", *map(str, args)], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def module_ports(verilog):
    match = re.search(r"^module rescaler\(([^)]*)\);", verilog, re.MULTILINE)
    assert match, "no `module rescaler(` in the output"
    return {port.strip() for port in match.group(1).split(",")}


def port_width(verilog, name):
    match = re.search(rf"^\s*(?:input|output)\s+(?:\[(\d+):0\]\s+)?{name};", verilog, re.MULTILINE)
    assert match, f"no declaration of port {name}"
    return int(match.group(1)) + 1 if match.group(1) else 1


def assert_one_error_line(result):
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert result.stdout == ""
    return lines[0]


def leftovers(directory):
    return sorted(p.name for p in Path(directory).iterdir())


# --------------------------------------------------------------------------- success

@pytest.mark.parametrize("k, pipeline", [(4, 0), (4, 1), (8, 3), (32, 2)])
def test_verilog_file(tmp_path, k, pipeline):
    out = tmp_path / "r.v"
    result = run_hw("verilog", "--k", k, "--rescaler-pipeline", pipeline, "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    summary = result.stderr.splitlines()
    assert len(summary) == 1 and not summary[0].startswith("error")
    assert f"k={k}" in summary[0] and f"rescaler_pipeline={pipeline}" in summary[0]
    assert f"latency {pipeline} cycle" in summary[0] and str(out) in summary[0]
    assert leftovers(tmp_path) == ["r.v"]  # no temporary file left behind
    verilog = out.read_text()
    expected = set(INPUTS + OUTPUTS) | (set(CLOCK) if pipeline else set())
    assert module_ports(verilog) == expected
    assert port_width(verilog, "acc") == 32
    assert port_width(verilog, "m") == k
    assert port_width(verilog, "s") == (32 + k - 8).bit_length()
    assert port_width(verilog, "y") == 8
    assert verilog.count("endmodule") == 1


def test_default_pipeline_and_stdout():
    result = run_hw("verilog", "--k", 8)  # no -o: stdout
    assert result.returncode == 0, result.stderr
    assert module_ports(result.stdout) == set(INPUTS + OUTPUTS + CLOCK)  # default pipeline 1
    assert "rescaler_pipeline=1" in result.stderr and "stdout" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    dash = run_hw("verilog", "--k", 8, "-o", "-")
    assert dash.returncode == 0 and dash.stdout == result.stdout


def test_rtlil(tmp_path):
    out = tmp_path / "r.il"
    result = run_hw("rtlil", "--k", 4, "--rescaler-pipeline", 0, "-o", out)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert re.search(r"^module \\rescaler$", text, re.MULTILINE)
    assert re.search(r"wire width 4 input \d+\s+\\m$", text, re.MULTILINE)
    assert "\\clk" not in text


def test_replaces_existing_file(tmp_path):
    out = tmp_path / "r.v"
    out.write_text("old contents\n")
    out.chmod(0o640)
    result = run_hw("verilog", "--k", 5, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "module rescaler(" in out.read_text()
    assert out.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == ["r.v"]


def test_help_documents_ports():
    result = run_hw("verilog", "--help")
    assert result.returncode == 0 and result.stderr == ""
    for word in INPUTS + OUTPUTS + CLOCK + ("--k", "--rescaler-pipeline", "-o"):
        assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", result.stdout), word
    top = run_hw("--help")
    assert top.returncode == 0 and "verilog" in top.stdout and "rtlil" in top.stdout


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("args, message", [
    (("--k", "40"), "error: k must be an integer in 2..32, not 40"),
    (("--k", "1"), "error: k must be an integer in 2..32, not 1"),
    (("--k", "abc"), "error: k must be an integer in 2..32, not 'abc'"),
    (("--k", "4.5"), "error: k must be an integer in 2..32, not '4.5'"),
    (("--k", "8", "--rescaler-pipeline", "7"), "error: rescaler_pipeline must be an integer in 0..3"),
    (("--k", "8", "--rescaler-pipeline", "x"), "error: rescaler_pipeline must be an integer in 0..3"),
    ((), "error: the following arguments are required: --k"),
    (("--k", "8", "--bogus"), "error: unrecognized arguments: --bogus"),
])
def test_bad_arguments(tmp_path, args, message):
    out = tmp_path / "r.v"
    result = run_hw("verilog", *args, "-o", out)
    line = assert_one_error_line(result)
    assert line.startswith(message), line
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("argv", [(), ("vhdl", "--k", "8")])
def test_bad_command(argv):
    line = assert_one_error_line(run_hw(*argv))
    assert "COMMAND" in line or "vhdl" in line


def test_bad_input_keeps_existing_file(tmp_path):
    out = tmp_path / "r.v"
    out.write_text("precious\n")
    assert_one_error_line(run_hw("verilog", "--k", 40, "-o", out))
    assert out.read_text() == "precious\n"
    assert leftovers(tmp_path) == ["r.v"]


def test_missing_directory(tmp_path):
    out = tmp_path / "nope" / "r.v"
    line = assert_one_error_line(run_hw("verilog", "--k", 8, "-o", out))
    assert line == f"error: cannot write {out}: directory {out.parent} does not exist"
    assert leftovers(tmp_path) == []


def test_output_is_directory_or_under_a_file(tmp_path):
    line = assert_one_error_line(run_hw("verilog", "--k", 8, "-o", tmp_path))
    assert line == f"error: cannot write {tmp_path}: it is a directory"
    (tmp_path / "f").write_text("")
    line = assert_one_error_line(run_hw("verilog", "--k", 8, "-o", tmp_path / "f" / "r.v"))
    assert "is not a directory" in line
    assert leftovers(tmp_path) == ["f"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can write into a read-only directory")
def test_unwritable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        line = assert_one_error_line(run_hw("verilog", "--k", 8, "-o", locked / "r.v"))
        assert "is not writable" in line
        assert leftovers(locked) == []
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_unwritable_location():
    """/proc takes no new files, not even from root: the write itself fails."""
    line = assert_one_error_line(run_hw("verilog", "--k", 8, "-o", "/proc/self/rescaler.v"))
    assert line.startswith("error: cannot write /proc/self/rescaler.v")


@pytest.mark.parametrize("flags, m_port", [
    ([], "m:u4"),
    (["--hidden-bit"], "m:u3"),                       # the leading 1 is implicit
    (["--trim-shift", "--no-fast-clamp"], "m:u4"),
])
def test_architecture_options_reach_the_rescaler(tmp_path, flags, m_port):
    out = tmp_path / "r.v"
    proc = run_hw("verilog", "--k", "4", *flags, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert f" {m_port} " in proc.stderr


def test_booth_is_a_flag_not_a_value():
    proc = run_hw("verilog", "--k", "4", "--booth=yes")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
