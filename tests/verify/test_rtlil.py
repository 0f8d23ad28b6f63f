"""The RTLIL edits the proofs make (:mod:`verify.rtlil`), on the real rescaler's RTLIL."""

import pytest

from hw.export import to_rtlil
from hw.rescaler import Rescaler
from toolkit.run import ToolError, run_tool
from verify import rtlil
from verify.rescaler_proof import default_yosys


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    """The k = 4 rescaler (two pipeline registers) after ``proc``, module ``impl``."""
    work = tmp_path_factory.mktemp("rtlil")
    (work / "impl.il").write_text(to_rtlil(Rescaler(k=4, rescaler_pipeline=2), name="impl"))
    (work / "n.ys").write_text("read_rtlil impl.il\nproc\nopt_clean\nwrite_rtlil n.il\n")
    run_tool(default_yosys(), ["-q", "n.ys"], cwd=work)
    return (work / "n.il").read_text()


def test_mul_cells_lists_each_shape_once(design):
    assert rtlil.mul_cells(design + design) == [rtlil.MulCell(False, 32, False, 4, 36)]


def test_cut_multiplier_turns_the_product_into_ports(design):
    text, cell = rtlil.cut_multiplier(design, "impl")
    assert cell == rtlil.MulCell(False, 32, False, 4, 36)
    assert rtlil.mul_cells(text) == [] and "\\mul_y" in text and "\\mul_a" in text
    with pytest.raises(ToolError, match="module impl has 0 \\$mul cells; the split proof needs exactly one"):
        rtlil.cut_multiplier(text, "impl")
    with pytest.raises(ToolError, match="module nope not found"):
        rtlil.cut_multiplier(design, "nope")


def test_evert_registers_makes_one_cycle_of_ports(design):
    text, widths = rtlil.evert_registers(design, "impl")
    assert widths and "$dff" not in rtlil.module_span(text, "impl").group(0)
    assert all(f"\\q_{i}" in text and f"\\d_{i}" in text for i in range(len(widths)))
    assert rtlil.wire_width(design, "impl", "rounded") == 10  # fast_clamp: SAT_BITS
    with pytest.raises(ToolError, match="module impl has no wire nope"):
        rtlil.wire_width(text, "impl", "nope")
