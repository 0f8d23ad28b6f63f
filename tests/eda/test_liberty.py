"""eda.liberty: checking a liberty file, reading its cells, and the zero-delay
Verilog models gate-level simulation runs on."""

import pytest

from eda import liberty
from toolkit.run import ToolError

_LIB = """\
/* a two-cell library */
library (tiny) {
  cell (NAND2) {
    area : 1;
    pin (A) { direction : input; }
    pin (B) { direction : input; }
    pin (Y) { direction : output; function : "(!(A B))"; }
  }
  cell (DFFR) {
    ff (IQ, IQN) { next_state : "D"; clocked_on : "CLK"; clear : "(!R)"; }
    pin (CLK) { direction : input; }
    pin (D) { direction : input; }
    pin (R) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; }
  }
}
"""


@pytest.mark.parametrize("function, env, want", [
    ("(!(A B))", {"A": 1, "B": 1}, 0),
    ("(!((A B)+C))", {"A": 1, "B": 0, "C": 0}, 1),
    ("(!((S A) + (!S B)))", {"S": 0, "A": 1, "B": 0}, 1),
    ("((A^B)^C)", {"A": 1, "B": 1, "C": 1}, 1),
    ("A'", {"A": 0}, 1),
    ("(A*B)|C", {"A": 1, "B": 0, "C": 0}, 0),
])
def test_function_to_verilog(function, env, want):
    expr = liberty.function_to_verilog(function).replace("1'b", "")
    assert eval(expr, {}, dict(env)) & 1 == want


def test_unparsable_function_is_a_value_error():
    with pytest.raises(ValueError, match="unbalanced parentheses"):
        liberty.function_to_verilog("(A B")


def test_read_cells_and_their_models(tmp_path):
    path = tmp_path / "tiny.lib"
    path.write_text(_LIB)
    cells = liberty.read_cells(liberty.check_liberty(path))
    assert cells["NAND2"] == {"inputs": ["A", "B"], "outputs": {"Y": "(!(A B))"}, "ff": None, "latch": None}
    assert cells["DFFR"]["ff"]["vars"] == ["IQ", "IQN"] and cells["DFFR"]["ff"]["clear"] == "(!R)"
    models = liberty.cell_models(cells)
    assert "module NAND2(A, B, Y);" in models and "  assign Y = (~((A & B)));" in models
    assert "  always @(posedge CLK or negedge R) if ((~R)) IQ <= 1'b0; else IQ <= D;" in models
    assert "module NAND2" not in liberty.cell_models(cells, used={"DFFR"})


def test_bad_liberty_files_are_one_clear_error(tmp_path):
    with pytest.raises(ToolError, match="is a directory: give the .lib file in it"):
        liberty.check_liberty(tmp_path)
    with pytest.raises(ToolError, match=r"does not exist$"):
        liberty.check_liberty(tmp_path / "none.lib")
    (tmp_path / "x.lib").write_text("not a library\n")
    with pytest.raises(ToolError, match="is not a liberty"):
        liberty.check_liberty(tmp_path / "x.lib")
    (tmp_path / "empty.lib").write_text("library (e) { }\n")
    with pytest.raises(ToolError, match="defines no cells"):
        liberty.read_cells(tmp_path / "empty.lib")


def test_a_cell_without_function_cannot_be_modelled():
    cells = {"BLACKBOX": {"inputs": ["A"], "outputs": {"Y": ""}, "ff": None, "latch": None}}
    with pytest.raises(ToolError, match="liberty cell BLACKBOX has no function for output Y"):
        liberty.cell_models(cells)
