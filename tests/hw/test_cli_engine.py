"""``python -m hw verilog --macs N [--engines E]``: the engine and the array exported
as a user runs it (a subprocess), ports and widths of the Verilog, one-line errors."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hw.config import DatapathConfig

ROOT = Path(__file__).resolve().parents[2]


def run_hw(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "hw", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def ports(verilog, top):
    """``{name: width}`` of the top module's ports."""
    header = re.search(rf"^module {top}\(([^)]*)\);", verilog, re.MULTILINE)
    assert header, f"no `module {top}(`"
    names = [p.strip() for p in header.group(1).split(",")]
    body = verilog[header.end():verilog.index("endmodule", header.end())]
    widths = {}
    for name in names:
        decl = re.search(rf"^\s*(?:input|output)\s+(?:\[(\d+):0\]\s+)?{name};", body, re.MULTILINE)
        assert decl, f"no declaration of port {name}"
        widths[name] = int(decl.group(1)) + 1 if decl.group(1) else 1
    return widths


@pytest.mark.parametrize("k,macs,engines", [(4, 8, 1), (4, 8, 4), (32, 16, 2), (8, 4, None)])
def test_export(tmp_path, k, macs, engines):
    out = tmp_path / "d.v"
    args = ["verilog", "--k", k, "--macs", macs, "-o", out] + (["--engines", engines] if engines else [])
    result = run_hw(*args)
    assert result.returncode == 0, result.stderr
    e = engines or 1
    top = "engine" if e == 1 else "array"
    latency = DatapathConfig(k=k, macs=macs, engines=e).latency
    (summary,) = result.stderr.splitlines()
    assert f"module {top} to {out}" in summary and f"macs={macs}, engines={e}" in summary
    assert f"latency {latency} cycles" in summary
    assert ports(out.read_text(), top) == {
        "x": 8 * macs, "w": 8 * macs * e, "bias": 32 * e, "m": k * e, "s": (32 + k - 8).bit_length() * e,
        "zero_point": 8 * e, "act_min": 8 * e, "act_max": 8 * e, "valid": 1, "first": 1, "last": 1,
        "y": 8 * e, "y_valid": 1, "clk": 1, "rst": 1}


def test_help_documents_engine_ports():
    result = run_hw("verilog", "--help")
    assert result.returncode == 0
    for word in ("--macs", "--engines", "--mac-pipeline", "first", "last", "bias", "engine", "array"):
        assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", result.stdout), word


@pytest.mark.parametrize("args,message", [
    (("--macs", "12"), "error: macs must be a power of two in 1..64 (presets 4, 8, 16), not 12"),
    (("--macs", "x"), "error: macs must be a power of two in 1..64 (presets 4, 8, 16), not 'x'"),
    (("--macs", "8", "--engines", "0"), "error: engines must be an integer in 1..64, not 0"),
    (("--engines", "4"), "error: engines = 4 needs macs"),
    (("--mac-pipeline", "2"), "error: mac_pipeline = 2 needs macs"),
    (("--macs", "4", "--mac-pipeline", "4"), "error: mac_pipeline must be an integer in 0..3 for macs = 4"),
])
def test_bad_engine_arguments(tmp_path, args, message):
    result = run_hw("verilog", "--k", "4", *args, "-o", tmp_path / "d.v")
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(message), line
    assert list(tmp_path.iterdir()) == []


def test_export_a_pre_skewed_array(tmp_path):
    """--pre-skew exports an array without operand delay registers and says so."""
    out = tmp_path / "array.v"
    proc = run_hw("verilog", "--k", "4", "--macs", "4", "--engines", "2", "--pre-skew", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "engines=2 (pre-skewed)" in proc.stderr and "latency 4 cycles" in proc.stderr
    text = out.read_text()
    assert "y_e0_d1" in text and "w_e1_d1" not in text and "bias_e1_d1" not in text
