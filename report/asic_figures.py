"""Area-delay figures of a sweep, with the paper's numbers marked.

=======================  ==========================================================
figure                   what it shows
=======================  ==========================================================
``area_vs_k``            area against k per MACS, absolute and relative to k=32,
                         the paper's k=4 reductions as stars
``delay_vs_k``           critical-path delay against k, absolute and relative
``adp_vs_k``             area-delay product (log scale), the paper's > 4x / > 2x
``area_breakdown``       stacked area per part and k, one panel per MACS
``model_vs_synthesis``   analytic model against synthesis, per point
=======================  ==========================================================

Drawn from a validated sweep (:func:`costmodel.published.load_sweep`) in the
style of :mod:`report.figure_style`; the report's captions are
:data:`report.asic_section.CAPTIONS`.
"""

from pathlib import Path

from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from costmodel.published import PAPER
from toolkit.figures import save

from .figure_style import STYLE, WIDTH, legend, lines_per_macs, macs_style, plt, unit_label
from .sweep_rows import PART_LABELS, flow_label, model_points, ordered_parts, rows_by_macs, swept_ks

__all__ = ["FIGURES", "names", "figure", "draw"]

#: The figures, in the order the report shows them.
FIGURES = ("area_vs_k", "delay_vs_k", "adp_vs_k", "area_breakdown", "model_vs_synthesis")

PART_COLOURS = {"rescaler": "#e8872b", "multipliers": "#3d6fb6", "adder_tree": "#8fb3e0",
                "accumulator": "#5aa39a", "top-level logic and registers": "#b5b5b5"}
EXTRA_COLOURS = ["#f2c14e", "#c45a8b", "#8c6d4f", "#6a9f3a", "#9e9ac8"]


def _area_label(ax, document, prefix="area", axis="y"):
    """Label an area axis in thousands of the area unit (no offset text to collide with titles)."""
    getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}"))
    getattr(ax, f"set_{axis}label")(f"{prefix} ($10^3$ {unit_label(document['area_unit'])})")


def _figure(document, title, ncols=2, height=3.2):
    fig, axes = plt.subplots(1, ncols, figsize=(WIDTH, height), layout="constrained")
    fig.suptitle(f"{title}\n{flow_label(document)}")
    return fig, axes


def _paper_star(ax, x, y, colour, label=None):
    ax.plot([x], [y], linestyle="none", marker="*", markersize=11, markerfacecolor="white",
            markeredgecolor=colour, markeredgewidth=1.3, label=label, zorder=5)


def _pair(document, rows, ks, title, key, log=False):
    """A figure of ``key`` against k, absolute (left) and relative to k = 32 (right)."""
    fig, (absolute, relative) = _figure(document, title)
    scale = " (log scale)" if log else ""
    for ax, what, name in ((absolute, key, "absolute"), (relative, f"{key}_vs_k32", "relative to k = 32")):
        lines_per_macs(ax, rows, what, ks)
        ax.set_title(name + scale)
        if log:
            ax.set_yscale("log", base=2 if ax is relative else 10)
        else:
            ax.set_ylim(0, 1.08 if ax is relative else None)
    relative.set_ylabel(f"{key.split('_')[0]} / {key.split('_')[0]} at k = 32")
    return fig, absolute, relative


def _area(document, rows, ks, model):
    fig, absolute, relative = _pair(document, rows, ks, "Dot-product engine area against rescaler width k", "area")
    _area_label(absolute, document)
    lines = ["k=32 -> 4 area reduction", "MACS    ours    paper"]
    for i, (macs, macs_rows) in enumerate(rows.items()):
        paper = PAPER["area_reduction_k4_pct"].get(macs)
        ours = next((r for r in macs_rows if r["k"] == 4 and "area_vs_k32" in r), None)
        if paper is not None:
            _paper_star(relative, 4, 1 - paper / 100, macs_style(macs, i)[0],
                        "paper, 16 nm, k = 4 (one per MACS)" if i == 0 else None)
        if ours is not None:
            lines.append(f"{macs:>4}   {100 * (1 - ours['area_vs_k32']):5.1f} %  "
                         + ("  -" if paper is None else f"{paper:5.1f} %"))
    relative.text(0.97, 0.04, "\n".join(lines), transform=relative.transAxes, ha="right", va="bottom",
                  family="monospace", fontsize=7, bbox=dict(boxstyle="round", fc="white", ec="0.7"))
    legend(fig)
    return fig


def _delay(document, rows, ks, model):
    fig, absolute, relative = _pair(document, rows, ks, "Critical-path delay against rescaler width k", "delay")
    absolute.set_ylabel(f"critical path ({unit_label(document['delay_unit'])})")
    _paper_star(relative, 4, 1 - PAPER["delay_reduction_k4_pct"] / 100, "black",
                f"paper, 16 nm: ~{PAPER['delay_reduction_k4_pct']:.0f} % shorter at k = 4")
    legend(fig)
    return fig


def _adp(document, rows, ks, model):
    fig, absolute, relative = _pair(document, rows, ks, "Area-delay product (ADP) against rescaler width k",
                                    "adp", log=True)
    absolute.set_ylabel(f"ADP ({unit_label(document['area_unit'])} x {unit_label(document['delay_unit'])})")
    relative.set_ylim(0.125, 1.4)
    relative.yaxis.set_major_locator(FixedLocator([1 / 8, 1 / 4, 1 / 2, 1]))
    relative.yaxis.set_minor_locator(NullLocator())
    relative.set_yticklabels(["1/8 (8x)", "1/4 (4x)", "1/2 (2x)", "1"])
    relative.set_ylabel("ADP / ADP at k = 32 (gain)")
    for k, gain in ((4, PAPER["adp_ratio_k4_min"]), (8, PAPER["adp_ratio_k8_min"])):
        relative.plot([k], [1 / gain], linestyle="none", marker="v", markersize=9, markerfacecolor="white",
                      markeredgecolor="black", markeredgewidth=1.3, zorder=5,
                      label="paper, 16 nm: gain > 4x at k=4, > 2x at k=8" if k == 4 else None)
        above = k == 8  # clear of the lines: below the k=4 mark, above the k=8 one
        relative.annotate(f"paper: > {gain:.0f}x", (k, 1 / gain), xytext=(0, 9 if above else -9),
                          textcoords="offset points", ha="center", va="bottom" if above else "top",
                          fontsize=7)
    legend(fig)
    return fig


def _breakdown(document, rows, ks, model):
    parts = ordered_parts(document["points"])
    extra = iter(EXTRA_COLOURS * 4)
    colours = {part: PART_COLOURS.get(part) or next(extra) for part in parts}
    fig, axes = plt.subplots(1, len(rows), figsize=(WIDTH, 3.9), sharey=True, layout="constrained",
                             squeeze=False)
    fig.suptitle("Where the area goes: breakdown per part (hierarchy kept) against k\n"
                 + flow_label(document))
    for ax, (macs, macs_rows) in zip(axes[0], rows.items()):
        x = range(len(macs_rows))
        bottom = [0.0] * len(macs_rows)
        for part in parts:
            values = [r["point"]["breakdown"].get(part, 0.0) for r in macs_rows]
            ax.bar(x, values, bottom=bottom, width=0.75, color=colours[part], edgecolor="white",
                   linewidth=0.4, label=PART_LABELS.get(part, part.replace("_", " ")))
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.plot(x, [r["area"] for r in macs_rows], linestyle="none", marker="_", markersize=9,
                markeredgewidth=1.5, color="black", label="total area (flattened synthesis)")
        ax.set_xticks(list(x), [str(r["k"]) for r in macs_rows], fontsize=7)
        ax.set_xlabel("k (bits)")
        ax.grid(axis="x", visible=False)
        k4 = next((r for r in macs_rows if r["k"] == 4 and "area_vs_k32" in r), None)
        ax.set_title(f"{macs} MACS" + (f"\nk=32 -> 4: -{100 * (1 - k4['area_vs_k32']):.1f} % area"
                                       if k4 else ""))
    _area_label(axes[0][0], document)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    return fig


def _model(document, rows, ks, model):
    fig, axes = _figure(document, "Analytic model against synthesis, per point")
    points = model_points(document, model)
    order = list(rows)
    for ax, (measured, predicted, what, unit) in zip(axes, ((2, 3, "area", document["area_unit"]),
                                                            (4, 5, "delay", document["delay_unit"]))):
        values = [v for p in points for v in (p[measured], p[predicted])]
        lo, hi = min(values) * 0.92, max(values) * 1.05
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8, label="model = synthesis")
        ax.fill_between([lo, hi], [lo * 0.95, hi * 0.95], [lo * 1.05, hi * 1.05], color="0.85",
                        linewidth=0, label="±5 %")
        for macs in order:
            colour, marker = macs_style(macs, order.index(macs))
            mine = [p for p in points if p[0] == macs]
            ax.plot([p[measured] for p in mine], [p[predicted] for p in mine], linestyle="none",
                    marker=marker, color=colour, markerfacecolor="none", label=f"{macs} MACS")
        worst = max(abs(p[predicted] / p[measured] - 1) for p in points)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        if what == "area":
            _area_label(ax, document, "synthesized area", "x")
            _area_label(ax, document, "model area", "y")
        else:
            ax.set_xlabel(f"synthesized {what} ({unit_label(unit)})")
            ax.set_ylabel(f"model {what} ({unit_label(unit)})")
        ax.set_title(f"{what}: worst error {100 * worst:.1f} %")
    legend(fig)
    return fig


_DRAWERS = {"area_vs_k": _area, "delay_vs_k": _delay, "adp_vs_k": _adp, "area_breakdown": _breakdown,
            "model_vs_synthesis": _model}


def names(model):
    """The figures drawn: :data:`FIGURES`, the model comparison only with a ``model``."""
    return [name for name in FIGURES if model is not None or name != "model_vs_synthesis"]


def figure(name, document, *, model=None):
    """The matplotlib figure ``name`` of :data:`FIGURES` for a
    validated sweep (``model_vs_synthesis`` needs ``model``, an
    :class:`costmodel.analytic.Model`); the caller closes it."""
    rows = rows_by_macs(document)
    with plt.rc_context(STYLE):
        return _DRAWERS[name](document, rows, swept_ks(rows), model)


def draw(document, out_dir, *, model=None):
    """Draw every figure of a validated sweep into ``out_dir`` as PNG and SVG.

    The model comparison is drawn only when ``model`` is given. Returns the names
    drawn (:func:`names`), in :data:`FIGURES` order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = names(model)
    with plt.rc_context(STYLE):
        for name in drawn:
            save(figure(name, document, model=model), out_dir / name, formats=("png", "svg"))
    return drawn
