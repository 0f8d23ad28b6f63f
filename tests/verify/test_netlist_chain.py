"""Netlist = RTL in links small enough for ABC (:mod:`verify.netlist_chain`).

Here: the textbook multiplier the lemmas compare against is the product (simulated
against Python integers); the combinational rescaler's liberty netlist is proved
equal to its RTL with Yosys' default and with its Booth multipliers, and the same
netlist with one gate changed is caught by the mapping check; a check that runs
out of its budget is a timeout that names the budget and its knob, never a pass.
"""

import random
import re
import shutil
import subprocess

import pytest

from eda.liberty import DEFAULT_LIBERTY
from eda.abc import find_abc
from eda.yosys import find_yosys
from hw.variants import variant_config
from verify import netlist_chain
from verify.rtlil import MulCell

needs_tools = pytest.mark.skipif(
    not DEFAULT_LIBERTY.is_file() or shutil.which("yosys-abc") is None,
    reason="needs the OSU 0.18 um liberty file and Debian's yosys-abc (make test installs both when root)")


def _signed(value, width, signed):
    return value - (1 << width) if signed and value >> (width - 1) else value


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs Icarus Verilog")
@pytest.mark.parametrize("cell", [MulCell(True, 8, True, 8, 16), MulCell(False, 32, False, 5, 37),
                                  MulCell(True, 6, True, 4, 7), MulCell(False, 4, False, 6, 12)])
def test_textbook_multiplier_is_the_product(cell, tmp_path):
    rng = random.Random(cell.y_width)
    vectors = [(rng.getrandbits(cell.a_width), rng.getrandbits(cell.b_width)) for _ in range(200)]
    bench = [f"module tb; reg [{cell.a_width - 1}:0] A; reg [{cell.b_width - 1}:0] B; wire [{cell.y_width - 1}:0] Y;",
             "  top dut(.A(A), .B(B), .Y(Y));", "  initial begin"]
    bench += [f'    A = {a}; B = {b}; #1 $display("%0d", Y);' for a, b in vectors]
    bench += ["  end", "endmodule"]
    (tmp_path / "t.v").write_text(netlist_chain.textbook_multiplier_verilog(cell) + "\n".join(bench) + "\n")
    subprocess.run(["iverilog", "-o", "t.vvp", "t.v"], cwd=tmp_path, check=True)
    got = subprocess.run(["vvp", "-n", "t.vvp"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    expected = [(_signed(a, cell.a_width, cell.a_signed) * _signed(b, cell.b_width, cell.b_signed))
                % (1 << cell.y_width) for a, b in vectors]
    assert list(map(int, got)) == expected


def test_textbook_multiplier_uses_no_arithmetic_operators():
    text = netlist_chain.textbook_multiplier_verilog(MulCell(False, 32, False, 4, 36))
    body = re.sub(r"\[[^\]]*\]|\{\d+\{", "", text)  # bit ranges and replication counts
    assert "*" not in body and "+" not in body and "-" not in body


def _flip(text):  # one NAND2X1 becomes a NOR2X1, same pins
    gate = re.search(r"^\s*NAND2X1\s", text, re.M)
    return text[:gate.start()] + text[gate.start():].replace("NAND2X1", "NOR2X1", 1)


def _prove(tmp_path, config, **options):
    yosys, abc = find_yosys(), find_abc()
    lemmas = netlist_chain.MultiplierLemmas(tmp_path / "lemmas", yosys, abc, budget_s=300)
    steps, muls, synth, cells = netlist_chain.prove_design(config, liberty=DEFAULT_LIBERTY, yosys=yosys, sta=None, abc=abc,
                                                     budget_s=300, lemmas=lemmas, workdir=tmp_path / "design",
                                                     **options)
    return netlist_chain.verdict([s.as_dict() for s in steps], [m.as_dict() for m in muls]), steps, muls, synth


@needs_tools
@pytest.mark.parametrize("booth", [False, True], ids=["default", "booth"])
def test_rescaler_netlist_equals_rtl_and_a_changed_gate_is_caught(tmp_path, booth):
    config = variant_config("trim_fast", k=4, rescaler_pipeline=0, booth=booth)
    verdict, steps, muls, synth = _prove(tmp_path / "good", config)
    assert verdict["status"] == "proven", verdict
    assert synth["area"] > 0
    assert [m.name for m in muls] == ["multiplier u32xu4->36" + " booth" * booth]
    verdict, steps, muls, _ = _prove(tmp_path / "bad", config, mutate=_flip)
    assert verdict["status"] == "FAILED" and not muls
    assert (steps[0].name, steps[0].status) == ("mapping", "failed")


@needs_tools
def test_a_check_out_of_budget_is_a_timeout_naming_its_knob(tmp_path):
    cell = MulCell(False, 32, False, 16, 48)  # the lemma that does not finish in seconds
    result = netlist_chain.prove_multiplier(cell, work=tmp_path, yosys=find_yosys(), abc=find_abc(), timeout_s=3,
                                      knob="MY_BUDGET=")
    assert result.status == "timeout" and result.seconds < 30
    assert result.detail == "not proven: budget of 3 s (raise it with MY_BUDGET=)"
    lemma = result.as_dict()
    verdict = netlist_chain.verdict([{**lemma, "name": "mapping", "status": "proven"}], [lemma])
    assert verdict["status"] == netlist_chain.MUL_OPEN and "MY_BUDGET=" in verdict["reason"]
