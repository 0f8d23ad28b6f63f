"""The pre-skewed array against the aligned one (report.skew_section): fabricated
array points (``tests/report/conftest.py``) whose every figure is known in advance."""

from report import silicon_numbers
from report.silicon_section import SiliconSection


def _text(root):
    return "\n".join(SiliconSection(silicon_numbers.load(root), label="reports").render())


def test_arrays_side_by_side(tmp_path, silicon):
    text = _text(silicon.publish_arrays(silicon.publish(tmp_path)))
    assert "### Pre-skewed array: the operand skew registers taken out" in text
    rows = {(r[0], r[1]): r for r in silicon.table(text, "| k | E | flip-flops removed")}
    assert set(rows) == {("4", "2"), ("4", "4"), ("32", "2"), ("32", "4")}
    # k = 4, E = 4: 774 bits; engine 8,400 um^2 and 5,000 cells (the template's) x 4, energy 840 pJ.
    engine = silicon.liberty_point(4, 8)
    aligned_area, skewed_area = 4 * engine["area"] + 77_400, 4 * engine["area"]
    aligned_pj, skewed_pj = 840.0 + 7_740, 840.0
    assert rows[("4", "4")][2] == "774"
    assert rows[("4", "4")][3:5] == [f"{4 * engine['cells'] + 774:,}", f"{4 * engine['cells']:,}"]
    assert rows[("4", "4")][5:] == [f"{aligned_area:,.0f}", f"{skewed_area:,.0f}",
                                    f"{100 * (1 - skewed_area / aligned_area):.1f} %", f"{aligned_pj:,.1f}",
                                    f"{skewed_pj:,.1f}", f"{100 * (1 - skewed_pj / aligned_pj):.1f} %"]
    assert "Array points not published" not in text


def test_missing_arrays_name_their_commands(tmp_path, silicon):
    text = _text(silicon.publish_arrays(silicon.publish(tmp_path), ks=(4,)))
    assert [r[:2] for r in silicon.table(text, "| k | E | flip-flops removed")] == [["4", "2"], ["4", "4"]]
    assert "`make energy K=32 MACS=8 ENGINES=4 PRE_SKEW=1 PUBLISH=1`" in text
    assert "`make energy K=32 MACS=8 ENGINES=2 PUBLISH=1`" in text
