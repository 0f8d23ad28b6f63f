"""Markdown tables and number formats of the generated reports (toolkit.markdown)."""

import pytest

from toolkit.markdown import num, pct, saving, share, table


def test_table_writes_the_separator_once_per_column():
    assert table(["k", "area", "status"], [[4, "1,234", "proven"], [32, "5,678", "-"]], align="rrl") == [
        "| k | area | status |", "|---:|---:|---|", "| 4 | 1,234 | proven |", "| 32 | 5,678 | - |"]
    assert table(("a", "b"), [], align="l") == ["| a | b |", "|---|---|"]
    assert table(("a", "b"), iter([("x", None)]))[2] == "| x | None |"


@pytest.mark.parametrize("header, rows, align", [
    (["a", "b"], [["1"]], "r"),          # a row of the wrong width
    (["a", "b"], [], "rrr"),              # one letter too many
    (["a", "b"], [], "rc"),               # not l or r
])
def test_a_malformed_table_is_refused(header, rows, align):
    with pytest.raises(ValueError):
        table(header, rows, align=align)


def test_each_number_format_has_one_meaning():
    assert num(151933) == "151,933" and num(2246.0876, 2) == "2,246.09"
    assert pct(47.5) == "47.5 %" and pct(None) == "-" and pct(1 / 3, 3) == "0.333 %"
    assert share(1, 8) == "12.5 %" and share(3, 0) == "-"
    assert saving(960, 1520) == "36.8 %" and saving(10, 10) == "0.0 %"
