"""Operand isolation against the engine as built (report.isolation_section) and its
figure: fabricated documents (``tests/report/conftest.py``), the isolated engine's
among them, with numbers chosen so that every figure is known in advance."""

from report import silicon_figures, silicon_numbers
from report.silicon_section import SiliconSection


def _publish(root, silicon, *, isolated_k=silicon_numbers.ISOLATED_K):
    """The fabricated study with the isolated engine's documents (``tests/report/conftest.py``):
    2 % more area, the same delay, the rescaler's energy per output constant in B."""
    return silicon.publish(root, isolated=isolated_k)


def _text(root):
    return "\n".join(SiliconSection(silicon_numbers.load(root), label="reports").render())


def test_beats_side_by_side_and_the_shortest_channel_below_10_percent(tmp_path, silicon):
    text = _text(_publish(tmp_path, silicon))
    assert "### Operand isolation: the rescaler switches once per output" in text
    row = next(r for r in silicon.table(text, "| k | MACS | beats B | rescaler pJ as built") if r[:3] == ["4", "8", "16"])
    # As built: rescaler 50 + 5 x 16 = 130 of 1,660 pJ; isolated 60 of 60 + 12 + 1,520 = 1,592 pJ.
    assert row[3:] == ["130.0", "60.0", f"{100 * 130 / 1660:.1f} %", f"{100 * 60 / 1592:.1f} %", "1,660.0",
                       "1,592.0", f"{100 * (1 - 1592 / 1660):.1f} %"]
    fits = {(r[0], r[2]): r for r in silicon.table(text, "| k | MACS | design |")}
    # Isolated k = 4: 60 / (60 + 12 + 95 B) < 10 % from B = 6; measured at B = 8 first.
    assert fits[("4", "isolated")][3:7] == ["60.0", "0.0", "0.0 %", "8 (L = 64)"]
    # As built (50 + 5 B of 60 + 100 B): 10.5 % at B = 8, 7.8 % at 16; the fitted line crosses at B = 9.
    assert fits[("4", "as built")][6:8] == ["16 (L = 128)", "9"]
    assert "- **k = 4, 8 MACS.** Isolation takes the rescaler from 5.0 to 0.0 pJ per beat" in text
    assert "falls below 10 % from B = 8 (L = 64) as measured" in text
    layer = next(r for r in silicon.table(text, "| layer | L | B at 8 MACS | k=4 as built") if r[0] == "depthwise 3x3")
    assert layer[2:5] == ["2", f"{100 * 60 / 260:.1f} %", f"{100 * 60 / 262:.1f} %"]


def test_savings_and_cost_of_isolation(tmp_path, silicon):
    text = _text(_publish(tmp_path, silicon))
    cost = {(r[0], r[1]): r for r in silicon.table(text, "| k | MACS | area as built")}
    # k = 32, 8 MACS: area 11,200 -> 11,424 um^2 (+2 %), delay 14.00 ns both, energy 1,120 -> 960 pJ.
    assert cost[("32", "8")][2:] == ["11,200", "11,424", "2.0 %", "14.00", "14.00", "0.0 %", "1,120.0", "960.0",
                                     f"{100 * (1 - 960 / 1120):.1f} %"]
    savings = {r[0]: r for r in silicon.table(text, "| MACS | energy k=32->4 as built")}
    # 8 MACS: as built 840 / 1,120; isolated 820 / 960.
    assert savings["8"][1:3] == [f"{100 * (1 - 840 / 1120):.1f} %", f"{100 * (1 - 820 / 960):.1f} %"]


def test_missing_isolated_documents_name_their_commands(tmp_path, silicon):
    text = _text(silicon.publish(tmp_path / "plain"))
    assert "`reports/energy_beats_isolated.json` is not published: run `make energy-beats OPERAND_ISOLATION=1 " \
           "PUBLISH=1`." in text
    text = _text(_publish(tmp_path / "some", silicon, isolated_k=(4,)))
    assert "Isolated energy points not published: k=8/MACS=4, k=32/MACS=4" in text
    assert "`make energy-sweep ENERGY_K=4,8,32 OPERAND_ISOLATION=1 PUBLISH=1`" in text


def test_share_figure_draws_both_designs_per_k(tmp_path, silicon, figures):
    points = silicon_numbers.load(_publish(tmp_path / "reports", silicon))
    assert "rescaler_share_isolation" in silicon_figures.drawable(points)
    fig = silicon_figures.figure("rescaler_share_isolation", points)
    assert figures.legend(fig) == [f"k = {k}, 8 MACS, {d}" for k in (4, 32) for d in ("as built", "isolated")]
    xs, ys = figures.line(fig.axes[0], "k = 4, 8 MACS, isolated")
    assert xs == [1, 2, 4, 8, 16] and abs(ys[-1] - 100 * 60 / 1592) < 1e-9
    silicon_figures.draw(points, tmp_path / "fig")
    figures.assert_files_show(fig, tmp_path / "fig" / "rescaler_share_isolation")
    plain = silicon_numbers.load(silicon.publish(tmp_path / "plain"))
    assert "rescaler_share_isolation" not in silicon_figures.drawable(plain)
