"""costmodel.synth: the report's per-part breakdown from the hierarchical ``stat``."""

from pathlib import Path

import pytest

from costmodel.synth import _breakdown
from eda.yosys import parse_stat

DATA = Path(__file__).resolve().parents[1] / "data" / "yosys"


def test_breakdown_adds_up_instances_of_one_kind():
    folder = DATA / "yosys-liberty-array"
    stat = parse_stat((folder / "hier.json").read_text(), "area", (folder / "hier.txt").read_text())
    parts = _breakdown(stat["modules"])
    assert set(parts) == {"top-level logic and registers", "engine", "multipliers", "adder_tree",
                          "accumulator", "rescaler"}
    assert parts["rescaler"] == pytest.approx(2 * stat["modules"]["top.engine0.rescaler"]["area"])
    assert sum(parts.values()) == pytest.approx(stat["design"]["area"])
