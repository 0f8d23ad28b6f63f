"""eda.gatesim: reading a mapped netlist, counting toggles, and a real gate-level
simulation with Icarus of a two-cell netlist on Debian's OSU 0.18 um cells
(skipped without Icarus Verilog or the cells)."""

import shutil
from pathlib import Path

import pytest

from eda import gatesim, liberty
from toolkit.run import ToolError

NETLIST = Path(__file__).resolve().parents[1] / "data" / "osu018" / "nand_dff.v"


def test_count_toggles():
    # 3 nets; states: 000 (before), 101, 100, 100, 011
    text = "\n".join(["0", "5", "4", "4", "3"]) + "\n"
    assert list(gatesim.count_toggles(text, 3, (0, 4))) == [2, 1, 3]
    assert list(gatesim.count_toggles(text, 3, (1, 3))) == [0, 0, 1]
    with pytest.raises(ToolError, match="the simulation wrote 4 cycles of activity, 6 expected"):
        gatesim.count_toggles(text, 3, (0, 6))


def test_read_netlist(tmp_path):
    v = tmp_path / "n.v"
    v.write_text("module top(a, y);\n input [1:0] a;\n output y;\n"
                 "  NAND2X1 _1_ ( .A(a[0]), .B(a[1]), .Y(y) );\nendmodule\n")
    n = gatesim.read_netlist(v, "top")
    assert n.ports == {"a": ("input", 2), "y": ("output", 1)}
    assert n.instances == [("_1_", "NAND2X1", {"A": "a[0]", "B": "a[1]", "Y": "y"})]
    with pytest.raises(ToolError, match="has no module 'other'"):
        gatesim.read_netlist(v, "other")


@pytest.mark.skipif(shutil.which("iverilog") is None or not liberty.DEFAULT_LIBERTY.is_file(),
                    reason="needs iverilog and qflow-tech-osu018 (make test installs them)")
def test_simulation_of_a_nand_into_a_flip_flop(tmp_path):
    """Each line of the probe is the state after one cycle: the NAND follows its
    inputs at once, the flip-flop one clock edge later."""
    a = [0, 3, 3, 1, 3, 2, 3]
    netlist = gatesim.read_netlist(NETLIST, "top")
    sim = gatesim.simulate(netlist, {"a": a}, window=(0, len(a)), reset_cycles=2,
                           cells=liberty.read_cells(liberty.DEFAULT_LIBERTY), netlist_path=NETLIST,
                           workdir=tmp_path, clock_ns=10.0)
    nand = [int(v != 3) for v in [0, *a]]  # line 0: the inputs at 0 during reset
    flop = [1, 1, *nand[1:-1]]             # reset held 0 at the inputs: the flop holds nand(0) = 1
    assert sim["nets"] == ["n1", "y"] and sim["drivers"] == {"n1": ["_1_"], "y": ["_2_"]}
    assert sim["outputs"]["y"].tolist() == flop
    assert sim["toggles"].tolist() == [sum(x != y for x, y in zip(s, s[1:])) for s in (nand, flop)]
    assert sim["cycles"] == len(a)
    with pytest.raises(ToolError, match="the stimulus has no words for input ports a"):
        gatesim.simulate(netlist, {"b": a}, window=(0, 1), reset_cycles=2, cells={}, netlist_path=NETLIST,
                         workdir=tmp_path, clock_ns=10.0)
