"""The energy and layout section of REPORT.md (report.silicon_section).

Fast and tool-free: the point reports are fabricated in ``tmp_path``
(``tests/report/conftest.py``) with the shape of the committed
``reports/synth/k4_macs8_layout.json`` and of the ``energy`` object that
``synth --energy`` adds, with numbers chosen so that every ratio is known in advance.
"""

import pytest

from costmodel.published import PAPER
from report import silicon_figures, silicon_numbers, silicon_section
from report.silicon_section import SiliconSection


def _section(points, area_ratios=None):
    return "\n".join(SiliconSection(points, label="reports", area_ratios=area_ratios).render())


def test_energy_table_and_ratios(tmp_path, silicon):
    points = silicon_numbers.load(silicon.publish(tmp_path))
    assert not points.missing_energy and not points.missing_layout and points.beats
    areas = {(m, k): (1000.0 * m + 100.0 * k) / (1000.0 * m + 3200.0) for m in (4, 8, 16)
             for k in silicon_numbers.ENERGY_K}
    text = _section(points, areas)
    assert "Missing points" not in text and "18 of 18 points published" in text
    rows = silicon.table(text, "| k | pJ/output")  # the 4 MACS table comes first
    assert [int(r[0]) for r in rows] == list(silicon_numbers.ENERGY_K)
    for row in rows:
        k = int(row[0])
        total = 400.0 + 10.0 * k
        assert float(row[1].replace(",", "")) == pytest.approx(total, abs=0.05)
        assert float(row[2].replace(",", "")) == pytest.approx(0.6 * total, abs=0.05)
        assert float(row[4]) == pytest.approx(0.001 * total, abs=5e-4)
        assert float(row[5]) == pytest.approx(10.0 * k, abs=0.05)
        assert float(row[6].rstrip(" %")) == pytest.approx(100 * 10.0 * k / total, abs=0.05)
        assert float(row[7]) == pytest.approx(total / 720.0, abs=5e-4)
        assert float(row[8]) == pytest.approx(areas[(4, k)], abs=5e-4)
    ratios = silicon.table(text, "| MACS | energy -% k=32->4")
    assert [int(r[0]) for r in ratios] == [4, 8, 16]
    for row in ratios:
        macs = int(row[0])
        e32 = 100.0 * macs + 320.0
        assert float(row[1].rstrip(" %")) == pytest.approx(100 * (1 - (100.0 * macs + 40) / e32), abs=0.05)
        assert float(row[2].rstrip(" %")) == pytest.approx(float(row[1].rstrip(" %")), abs=0.05)  # vectorless = 2x
        assert float(row[3].rstrip(" %")) == pytest.approx(100 * (1 - areas[(macs, 4)]), abs=0.05)
        assert row[4] == f"{PAPER['area_reduction_k4_pct'][macs]:.1f} %"
        assert float(row[5].rstrip(" %")) == pytest.approx(100 * (1 - (100.0 * macs + 80) / e32), abs=0.05)
    assert "Control.** The vectorless figure" in text and "within 0.0 percentage points" in text
    assert "the ratio comes mostly from the cells that k removes" in text
    assert "Leakage** is at most 0.100 %" in text
    assert "At k=4 an output costs 440 / 840 / 1,640 pJ with 4 / 8 / 16 MACS" in text
    assert "take 18 / 9 / 5 beats per output" in text
    assert "16-16 s per point, 5 min over the 18 points" in text
    assert "20 ns" in text and "conv3x3 relu 6x6x8->8 (seed 0, quantize_conv2d k=<k>)" in text


def test_layout_table_ratios_and_explanation(tmp_path, silicon):
    text = _section(silicon_numbers.load(silicon.publish(tmp_path)))
    rows = silicon.table(text, "| k | MACS | core area")
    assert [int(r[0]) for r in rows] == [4, 8, 32]
    k4 = rows[0]
    assert k4[2] == f"{2.2 * 1400 / 1e3:,.1f}" and k4[4] == "1.4 -> 1.5" and k4[5] == "6,119 -> 6,393"
    assert k4[6] == "40" and (k4[9], k4[10], k4[11], k4[12]) == ("10.50", "10.00", "11.50", "11.60")
    assert k4[14] == "0" and k4[15].startswith("240 (place 506, route 609)")
    ratios = silicon.table(text, "| MACS | k=32 ->")
    by_k = {int(r[1]): r for r in ratios}
    saving = 100 * (1 - 1400 / 4200)  # synthesized cells; placed cells and core scale with them here
    for cell in by_k[4][2:5]:
        assert float(cell.rstrip(" %")) == pytest.approx(saving, abs=0.05)
    assert float(by_k[4][6].rstrip(" %")) == pytest.approx(100 * (1 - 10.5 / 14.0), abs=0.05)
    assert float(by_k[4][7].rstrip(" %")) == pytest.approx(100 * (1 - 11.5 / 18.5), abs=0.05)
    assert by_k[4][5] == "47.5 %" and by_k[8][5] == "~half of k=4's"
    # The explanation states the measured numbers: utilization, buffering, wire RC, clock tree.
    assert "2.20x the synthesized cell area" in text and "1/utilization = 2.00x" in text
    assert "resizing (40, 80, 320 gates) add +274 cells / +10.0 % cell area" in text
    assert "the routed wires' RC add 1.50 ns (+15.0 %, 4.0 mm of wire)" in text
    assert "changes it by +0.10 ns" in text
    assert "the wires add 5.00 ns at k=32 (32.0 mm of wire, die 10 10^3 um^2) and 1.50 ns at k=4" in text
    assert "so layout widens the saving" in text and "(-0.0 points)" not in text
    assert "Unrouted nets: 0; DRC errors: 0 over the 3 layouts (0 at k=4, 0 at k=8, 0 at k=32;" in text


def test_summary_at_8_macs_quotes_k_4_8_32(tmp_path, silicon):
    text = _section(silicon_numbers.load(silicon.publish(tmp_path)))
    assert ("**At 8 MACS:** energy per output 840.0 pJ at k=4 (0.750 of k=32), 880.0 pJ at k=8 (0.786 of k=32), "
            "1,120.0 pJ at k=32; post-route core area 3.1 10^3 um^2 at k=4 (0.333 of k=32)") in text
    assert "post-route critical path 11.50 ns at k=4 (0.622 of k=32)" in text
    assert "Wall time: energy 16 s at k=4, 16 s at k=8, 16 s at k=32; layout 4 min at k=4" in text
    empty = silicon_numbers.load(tmp_path / "nothing")
    assert silicon_section.summary(empty, {}) == []


def test_beats_share_thresholds(tmp_path, silicon):
    text = _section(silicon_numbers.load(silicon.publish(tmp_path)))
    row = next(r for r in silicon.table(text, "| k | MACS | rescaler per output") if r[0] == "4")
    assert row[8:] == ["9 (L = 72)", "never", "6 (L = 48)", "58 (L = 464)"]
    assert "its share tends to 34.5 %" in text and "it never falls below 10 % or 1 %" in text
    # A depthwise 3x3 layer (L = 9) takes 2 beats on 8 lanes: (50 + 10) / (60 + 10 + 190); held 55 / (55 + 200).
    row = next(r for r in silicon.table(text, "| layer | L |") if r[0] == "depthwise 3x3")
    assert row[1:5] == ["9", "2", f"{100 * 60 / 260:.1f} %", f"{100 * 55 / 255:.1f} %"]
    beats = next(r for r in silicon.table(text, "| k | MACS | beats B |") if r[:3] == ["4", "8", "16"])
    assert beats[3] == "128" and beats[7] == f"{100 * 130 / 1660:.1f} %"  # rescaler 130 of 1,660 pJ at B = 16


def test_missing_points_are_listed_with_their_commands(tmp_path, silicon):
    text = _section(silicon_numbers.load(silicon.publish_some(tmp_path)))  # which are missing: test_silicon_numbers
    assert "6 of 18 points published" in text and "1 of 3 published" in text
    assert "- energy: k=3/MACS=4, k=6/MACS=4, k=8/MACS=4, k=16/MACS=4" in text
    assert "`make energy-sweep PUBLISH=1`" in text and "`make layout-sweep PUBLISH=1`" in text
    assert "- layout: k=8/MACS=8, k=32/MACS=8;" in text and "`make energy-beats PUBLISH=1`" in text
    assert "| MACS | k=32 ->" not in text  # no ratio without k = 32's layout


def test_no_published_point_draws_no_figure(tmp_path):
    points = silicon_numbers.load(tmp_path)
    assert silicon_figures.draw(points, tmp_path / "fig") == [] and not (tmp_path / "fig").exists()
    assert SiliconSection(points).figures == () and "### Figures" not in _section(points)
    text = _section(points)
    assert "No energy point is published yet." in text and "No layout point is published yet." in text
