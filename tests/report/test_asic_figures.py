"""The area-delay figures: what each draws, from the small stored sweep (no synthesis)."""

import pytest

from costmodel.published import PAPER
from report import asic_figures, sweep_rows


def test_area_figure_draws_the_sweep_and_the_papers_stars(small, figures):
    fig = asic_figures.figure("area_vs_k", small)
    absolute, relative = fig.axes
    rows = sweep_rows.rows_by_macs(small)
    assert fig.get_suptitle().splitlines() == ["Dot-product engine area against rescaler width k",
                                               sweep_rows.flow_label(small)]
    assert absolute.get_ylabel() == "area ($10^3$ $\\mu$m$^2$)" and absolute.get_title() == "absolute"
    assert relative.get_ylabel() == "area / area at k = 32" and relative.get_title() == "relative to k = 32"
    assert absolute.get_xlabel() == "rescaler multiplier width k (bits)"
    assert [t.get_text() for t in absolute.get_xticklabels()] == ["4", "8", "32"]
    for macs, macs_rows in rows.items():
        assert figures.line(absolute, f"{macs} MACS") == ([r["k"] for r in macs_rows], [r["area"] for r in macs_rows])
        assert figures.line(relative, f"{macs} MACS")[1] == [r["area_vs_k32"] for r in macs_rows]
    star = figures.line(relative, "paper, 16 nm, k = 4 (one per MACS)")
    assert star[0] == [4] and star[1] == pytest.approx([1 - PAPER["area_reduction_k4_pct"][4] / 100])
    k4 = next(r for r in rows[4] if r["k"] == 4)
    assert f"   4   {100 * (1 - k4['area_vs_k32']):5.1f} %   58.5 %" in figures.texts(fig) | {
        line for t in relative.texts for line in t.get_text().splitlines()}
    assert figures.legend(fig) == ["4 MACS", "8 MACS", "16 MACS", "paper, 16 nm, k = 4 (one per MACS)"]


def test_delay_and_adp_figures_mark_the_papers_bounds(small, figures):
    delay = asic_figures.figure("delay_vs_k", small)
    assert delay.axes[0].get_ylabel() == "critical path (ns)"
    assert figures.line(delay.axes[1], "paper, 16 nm: ~50 % shorter at k = 4") == ([4], [0.5])
    adp = asic_figures.figure("adp_vs_k", small)
    absolute, relative = adp.axes
    assert absolute.get_yscale() == "log" and relative.get_ylabel() == "ADP / ADP at k = 32 (gain)"
    assert [t.get_text() for t in relative.get_yticklabels()] == ["1/8 (8x)", "1/4 (4x)", "1/2 (2x)", "1"]
    assert figures.line(relative, "paper, 16 nm: gain > 4x at k=4, > 2x at k=8") == ([4], [0.25])
    assert {"paper: > 4x", "paper: > 2x"} <= figures.texts(adp)
    assert figures.line(relative, "8 MACS")[1] == [r["adp_vs_k32"] for r in sweep_rows.rows_by_macs(small)[8]]


def test_model_figure_compares_every_point(small, figures):
    model = sweep_rows.load_model(small)[0]
    fig = asic_figures.figure("model_vs_synthesis", small, model=model)
    points = sweep_rows.model_points(small, model)
    for ax, (measured, predicted, what) in zip(fig.axes, ((2, 3, "area"), (4, 5, "delay"))):
        worst = max(abs(p[predicted] / p[measured] - 1) for p in points)
        assert ax.get_title() == f"{what}: worst error {100 * worst:.1f} %"
        xs, ys = figures.line(ax, "4 MACS")
        assert (xs, ys) == ([p[measured] for p in points if p[0] == 4], [p[predicted] for p in points if p[0] == 4])
    assert fig.axes[1].get_xlabel() == "synthesized delay (ns)" and fig.axes[1].get_ylabel() == "model delay (ns)"
    assert figures.legend(fig)[:2] == ["model = synthesis", "±5 %"]


def test_without_a_model_the_model_figure_is_left_out(tmp_path, small):
    assert asic_figures.draw(small, tmp_path, model=None) == [n for n in asic_figures.FIGURES
                                                               if n != "model_vs_synthesis"]
    assert not (tmp_path / "model_vs_synthesis.png").exists()
    missing = sweep_rows.load_model(small, tmp_path / "absent.json")
    assert missing[0] is None and "make fit" in missing[1]


def test_breakdown_stacks_whatever_parts_it_holds_in_a_stable_order(tmp_path, small, figures):
    for point in small["points"]:  # a rescaler split into submodules, as it may be one day
        rescaler = point["breakdown"].pop("rescaler")
        point["breakdown"].update(rescaler_shift=rescaler / 3, rescaler_multiplier=2 * rescaler / 3, zz_misc=1.0)
    assert sweep_rows.ordered_parts(small["points"]) == [
        "rescaler_multiplier", "rescaler_shift", "multipliers", "adder_tree", "accumulator", "zz_misc",
        "top-level logic and registers"]
    assert "area_breakdown" in asic_figures.draw(small, tmp_path)
    fig = asic_figures.figure("area_breakdown", small)
    assert figures.legend(fig) == ["total area (flattened synthesis)", "rescaler multiplier", "rescaler shift",
                                   "MAC multipliers (N x int8)", "adder tree", "accumulator", "zz misc",
                                   "registers and top-level logic"]  # the stack's parts bottom to top
    four = fig.axes[0]
    rows = sweep_rows.rows_by_macs(small)[4]
    assert four.get_title().splitlines() == ["4 MACS", f"k=32 -> 4: -{100 * (1 - rows[0]['area_vs_k32']):.1f} % area"]
    stacked = [sum(bar.get_height() for bar in four.patches[i::len(rows)]) for i in range(len(rows))]
    assert stacked == pytest.approx([sum(r["point"]["breakdown"].values()) for r in rows])


def test_a_macs_without_k32_is_drawn_without_ratios(tmp_path, small, figures):
    small["points"] = [p for p in small["points"] if not (p["config"]["macs"] == 16 and p["config"]["k"] == 32)]
    assert len(asic_figures.draw(small, tmp_path)) == 4
    absolute, relative = asic_figures.figure("area_vs_k", small).axes
    assert "16 MACS" in [line.get_label() for line in absolute.get_lines()]
    assert "16 MACS" not in [line.get_label() for line in relative.get_lines()]
