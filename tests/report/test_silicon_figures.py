"""The energy and layout figures: what each draws from fabricated published points."""

import pytest

from report import silicon_figures, silicon_numbers


def test_energy_figure_draws_each_macs_and_the_area_next_to_it(tmp_path, silicon, figures):
    points = silicon_numbers.load(silicon.publish(tmp_path))
    ratios = {(m, k): (1000.0 * m + 100.0 * k) / (1000.0 * m + 3200.0) for m in (4, 8, 16)
              for k in silicon_numbers.ENERGY_K}
    fig = silicon_figures.figure("energy_vs_k", points, area_ratios=ratios)
    absolute, relative = fig.axes
    ks = list(silicon_numbers.ENERGY_K)
    assert absolute.get_ylabel() == "energy per output (pJ)" and relative.get_ylabel() == "value / value at k = 32"
    assert figures.line(absolute, "8 MACS") == (ks, [800.0 + 10.0 * k for k in ks])
    assert figures.line(relative, "8 MACS")[1] == pytest.approx([(800.0 + 10.0 * k) / 1120.0 for k in ks])
    dashed = [line for line in relative.get_lines() if line.get_linestyle() == "--" and line.get_label()[0] == "_"]
    assert [list(line.get_ydata()) for line in dashed] == [[ratios[(m, k)] for k in ks] for m in (4, 8, 16)]
    assert figures.legend(fig) == ["4 MACS", "8 MACS", "16 MACS", "synthesized area, same colour"]


def test_delay_figure_draws_the_four_delays_per_layout(tmp_path, silicon, figures):
    points = silicon_numbers.load(silicon.publish(tmp_path))
    fig = silicon_figures.figure("delay_pre_post_route", points)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"k = {k}\n8 MACS" for k in (4, 8, 32)]
    assert figures.legend(fig) == [label for _, label, _ in silicon_figures.DELAYS]
    heights = [round(bar.get_height(), 6) for bar in ax.patches]
    assert heights == [d for delays in ([10.0 + k / 8 for k in (4, 8, 32)], [9.5 + k / 8 for k in (4, 8, 32)],
                                        [10.5 + k / 4 for k in (4, 8, 32)], [10.6 + k / 4 for k in (4, 8, 32)])
                       for d in delays]  # synthesized, pre-route, post-route (labelled), clock tree
    assert {f"{10.5 + k / 4:.2f}" for k in (4, 8, 32)} <= figures.texts(fig)


def test_only_what_is_published_is_drawn(tmp_path, silicon, figures):
    points = silicon_numbers.load(silicon.publish(tmp_path / "reports", layout=()))
    assert silicon_figures.drawable(points) == ["energy_vs_k"]
    assert silicon_figures.draw(points, tmp_path / "fig") == ["energy_vs_k"]
    figures.assert_files_show(silicon_figures.figure("energy_vs_k", points), tmp_path / "fig" / "energy_vs_k")
    assert sorted(p.name for p in (tmp_path / "fig").iterdir()) == ["energy_vs_k.png", "energy_vs_k.svg"]
