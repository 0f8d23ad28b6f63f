"""Netlist = RTL per sweep point (:mod:`verify.netlist`, :mod:`costmodel.netlist_proofs`).

Here: the textbook multiplier the lemmas compare against is the product (simulated
against Python integers); the rescaler's liberty netlist at k = 3 is proved equal
to its RTL through every check of the chain, multiplier lemma included; and the
engine's netlist at k = 3, MACS = 4 with one gate changed fails the mapping check,
the table and the printed summary naming the point. ``make formal-netlist`` runs
the whole sweep grid.
"""

import json
import random
import re
import shutil
import subprocess

import pytest

from costmodel import netlist_proofs
from costmodel.synth import DEFAULT_LIBERTY
from hw.config import DatapathConfig
from eda.sta import find_sta
from eda.yosys import find_yosys
from verify import netlist
from verify.formal import MulCell, find_abc

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
    (tmp_path / "t.v").write_text(netlist.textbook_multiplier_verilog(cell) + "\n".join(bench) + "\n")
    subprocess.run(["iverilog", "-o", "t.vvp", "t.v"], cwd=tmp_path, check=True)
    got = subprocess.run(["vvp", "-n", "t.vvp"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    expected = [(_signed(a, cell.a_width, cell.a_signed) * _signed(b, cell.b_width, cell.b_signed))
                % (1 << cell.y_width) for a, b in vectors]
    assert list(map(int, got)) == expected


def test_textbook_multiplier_uses_no_arithmetic_operators():
    text = netlist.textbook_multiplier_verilog(MulCell(False, 32, False, 4, 36))
    body = re.sub(r"\[[^\]]*\]|\{\d+\{", "", text)  # bit ranges and replication counts
    assert "*" not in body and "+" not in body and "-" not in body


@needs_tools
def test_rescaler_netlist_proven_through_every_check(tmp_path):
    yosys, abc = find_yosys(), find_abc()
    lemmas = netlist_proofs.MultiplierLemmas(tmp_path, yosys, abc, budget_s=300)
    row = netlist_proofs.prove_point(DatapathConfig(k=3), liberty=DEFAULT_LIBERTY, yosys=yosys, sta=find_sta(),
                                     abc=abc, budget_s=600, lemmas=lemmas, workdir=tmp_path / "k3")
    assert row["status"] == "proven", row
    assert [s["name"] for s in row["steps"]] == ["mapping", "synthesis", "adder merge"]
    assert row["multipliers"] == ["u32xu3->35"]
    assert [m.status for m in lemmas.all().values()] == ["proven"]


@needs_tools
def test_changed_gate_fails_and_names_the_point(tmp_path):
    def flip(text):  # one NAND2X1 becomes a NOR2X1, same pins
        gate = re.search(r"^\s*NAND2X1\s", text, re.M)
        return text[:gate.start()] + text[gate.start():].replace("NAND2X1", "NOR2X1", 1)

    lines = []
    document = netlist_proofs.run([3], [4], budget_s=600, mul_budget_s=300, out_dir=tmp_path / "out",
                                  workdir=tmp_path / "work", mutate=flip, echo=lambda *a, **k: lines.append(a[0]))
    (row,) = document["points"]
    assert row["status"] == "FAILED" and row["point"] == "k3_macs4"
    assert row["steps"][0]["name"] == "mapping" and row["steps"][0]["status"] == "failed"
    assert "mapping check: NOT equivalent" in row["reason"]
    assert any("FAILED: k=3 MACS=4 (k3_macs4)" in line for line in lines), lines
    written = json.loads((tmp_path / "out" / "formal_netlist.json").read_text())
    assert written["points"][0]["status"] == "FAILED" and written["complete"]
    assert "| k3_macs4 | 3 | 4 |" in (tmp_path / "out" / "formal_netlist.md").read_text()
