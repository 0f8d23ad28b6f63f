"""Area-delay figures of a sweep, with the paper's numbers marked (``make plots``).

Every figure is drawn from a validated sweep document (:func:`costmodel.report.load_sweep`)
with matplotlib's non-interactive Agg backend, sized for a two-column paper
(7 in wide, 8-9 pt text), and written as PNG and SVG without a date, so that
re-drawing an unchanged sweep leaves the files byte for byte the same.

=======================  ==========================================================
figure                   what it shows
=======================  ==========================================================
``area_vs_k``            area against k per MACS, absolute and relative to k=32,
                         the paper's k=4 reductions as stars
``delay_vs_k``           critical-path delay against k, absolute and relative
``adp_vs_k``             area-delay product (log scale), the paper's > 4x / > 2x
``area_breakdown``       stacked area per part and k, one panel per MACS
``model_vs_synthesis``   analytic model against synthesis, per point
``fpga_vs_k``            FPGA sweeps: LUT4s, DSP tiles, flip-flops and post-route
                         fmax against k per MACS (:func:`draw_fpga`)
=======================  ==========================================================
"""

from pathlib import Path

from toolkit.figures import pyplot, save

from . import fpga_report, report
from .sweep import PAPER

plt = pyplot()
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402  (after the backend)

__all__ = ["FIGURES", "draw_all", "draw_fpga"]

FIGURES = ("area_vs_k", "delay_vs_k", "adp_vs_k", "area_breakdown", "model_vs_synthesis")

STYLE = {
    "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "legend.fontsize": 7.5,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.titlesize": 9.5,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6, "lines.linewidth": 1.4,
    "lines.markersize": 4.5, "legend.framealpha": 0.9, "savefig.dpi": 200,
}
#: One colour and marker per MACS (others cycle through the extras).
MACS_STYLE = {4: ("#1f5fa8", "o"), 8: ("#c23b22", "s"), 16: ("#2a8a3e", "^")}
EXTRA_STYLE = [("#7b4ea3", "D"), ("#b07d12", "v"), ("#333333", "P")]
PART_COLOURS = {"rescaler": "#e8872b", "multipliers": "#3d6fb6", "adder_tree": "#8fb3e0",
                "accumulator": "#5aa39a", "top-level logic and registers": "#b5b5b5"}
EXTRA_COLOURS = ["#f2c14e", "#c45a8b", "#8c6d4f", "#6a9f3a", "#9e9ac8"]
UNIT_LABELS = {"um^2": r"$\mu$m$^2$", "ns": "ns", "transistors": "transistors (estimate)",
               "levels": "logic levels"}
WIDTH = 7.0


def _macs_style(macs, index):
    return MACS_STYLE.get(macs, EXTRA_STYLE[index % len(EXTRA_STYLE)])


def _unit(unit):
    return UNIT_LABELS.get(unit, unit)


def _k_axis(ax, ks):
    """Log2 k axis with a tick at every swept k."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(ks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_xlabel("rescaler multiplier width k (bits)")


def _area_label(ax, document, prefix="area", axis="y"):
    """Label an area axis in thousands of the area unit (no offset text to collide with titles)."""
    getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}"))
    getattr(ax, f"set_{axis}label")(f"{prefix} ($10^3$ {_unit(document['area_unit'])})")


def _lines(ax, rows, key, ks):
    """One line per MACS of ``row[key]`` against k (rows without the key are skipped)."""
    for i, (macs, macs_rows) in enumerate(rows.items()):
        colour, marker = _macs_style(macs, i)
        data = [(r["k"], r[key]) for r in macs_rows if r.get(key) is not None]
        if data:
            ax.plot(*zip(*data), color=colour, marker=marker, label=f"{macs} MACS")
    _k_axis(ax, ks)


def _figure(document, title, ncols=2, height=3.2):
    fig, axes = plt.subplots(1, ncols, figsize=(WIDTH, height), layout="constrained")
    fig.suptitle(f"{title}\n{report.flow_label(document)}")
    return fig, axes


def _legend(fig):
    """One legend under the panels, each label once, so that no curve hides behind it."""
    entries = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    fig.legend(entries.values(), entries.keys(), loc="outside lower center", ncols=min(len(entries), 4))


def _paper_star(ax, x, y, colour, label=None):
    ax.plot([x], [y], linestyle="none", marker="*", markersize=11, markerfacecolor="white",
            markeredgecolor=colour, markeredgewidth=1.3, label=label, zorder=5)


def _pair(document, rows, ks, title, key, log=False):
    """A figure of ``key`` against k, absolute (left) and relative to k = 32 (right)."""
    fig, (absolute, relative) = _figure(document, title)
    scale = " (log scale)" if log else ""
    for ax, what, name in ((absolute, key, "absolute"), (relative, f"{key}_vs_k32", "relative to k = 32")):
        _lines(ax, rows, what, ks)
        ax.set_title(name + scale)
        if log:
            ax.set_yscale("log", base=2 if ax is relative else 10)
        else:
            ax.set_ylim(0, 1.08 if ax is relative else None)
    relative.set_ylabel(f"{key.split('_')[0]} / {key.split('_')[0]} at k = 32")
    return fig, absolute, relative


def _area(document, rows, ks):
    fig, absolute, relative = _pair(document, rows, ks, "Dot-product engine area against rescaler width k", "area")
    _area_label(absolute, document)
    lines = ["k=32 -> 4 area reduction", "MACS    ours    paper"]
    for i, (macs, macs_rows) in enumerate(rows.items()):
        paper = PAPER["area_reduction_k4_pct"].get(macs)
        ours = next((r for r in macs_rows if r["k"] == 4 and "area_vs_k32" in r), None)
        if paper is not None:
            _paper_star(relative, 4, 1 - paper / 100, _macs_style(macs, i)[0],
                        "paper, 16 nm, k = 4 (one per MACS)" if i == 0 else None)
        if ours is not None:
            lines.append(f"{macs:>4}   {100 * (1 - ours['area_vs_k32']):5.1f} %  "
                         + ("  -" if paper is None else f"{paper:5.1f} %"))
    relative.text(0.97, 0.04, "\n".join(lines), transform=relative.transAxes, ha="right", va="bottom",
                  family="monospace", fontsize=7, bbox=dict(boxstyle="round", fc="white", ec="0.7"))
    _legend(fig)
    return fig


def _delay(document, rows, ks):
    fig, absolute, relative = _pair(document, rows, ks, "Critical-path delay against rescaler width k", "delay")
    absolute.set_ylabel(f"critical path ({_unit(document['delay_unit'])})")
    _paper_star(relative, 4, 1 - PAPER["delay_reduction_k4_pct"] / 100, "black",
                f"paper, 16 nm: ~{PAPER['delay_reduction_k4_pct']:.0f} % shorter at k = 4")
    _legend(fig)
    return fig


def _adp(document, rows, ks):
    fig, absolute, relative = _pair(document, rows, ks, "Area-delay product (ADP) against rescaler width k",
                                    "adp", log=True)
    absolute.set_ylabel(f"ADP ({_unit(document['area_unit'])} x {_unit(document['delay_unit'])})")
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
    _legend(fig)
    return fig


def _breakdown(document, rows, ks):
    parts = report.ordered_parts(document["points"])
    extra = iter(EXTRA_COLOURS * 4)
    colours = {part: PART_COLOURS.get(part) or next(extra) for part in parts}
    fig, axes = plt.subplots(1, len(rows), figsize=(WIDTH, 3.9), sharey=True, layout="constrained",
                             squeeze=False)
    fig.suptitle("Where the area goes: breakdown per part (hierarchy kept) against k\n"
                 + report.flow_label(document))
    for ax, (macs, macs_rows) in zip(axes[0], rows.items()):
        x = range(len(macs_rows))
        bottom = [0.0] * len(macs_rows)
        for part in parts:
            values = [r["point"]["breakdown"].get(part, 0.0) for r in macs_rows]
            ax.bar(x, values, bottom=bottom, width=0.75, color=colours[part], edgecolor="white",
                   linewidth=0.4, label=report.PART_LABELS.get(part, part.replace("_", " ")))
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
    points = report.model_points(document, model)
    order = list(rows)
    for ax, (measured, predicted, what, unit) in zip(axes, ((2, 3, "area", document["area_unit"]),
                                                            (4, 5, "delay", document["delay_unit"]))):
        values = [v for p in points for v in (p[measured], p[predicted])]
        lo, hi = min(values) * 0.92, max(values) * 1.05
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8, label="model = synthesis")
        ax.fill_between([lo, hi], [lo * 0.95, hi * 0.95], [lo * 1.05, hi * 1.05], color="0.85",
                        linewidth=0, label="±5 %")
        for macs in order:
            colour, marker = _macs_style(macs, order.index(macs))
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
            ax.set_xlabel(f"synthesized {what} ({_unit(unit)})")
            ax.set_ylabel(f"model {what} ({_unit(unit)})")
        ax.set_title(f"{what}: worst error {100 * worst:.1f} %")
    _legend(fig)
    return fig


def draw_all(document, out_dir, *, model=None):
    """Draw every figure of a validated sweep into ``out_dir`` as PNG and SVG.

    The model comparison is drawn only when ``model`` (an :class:`costmodel.analytic.Model`)
    is given. Returns the names drawn, in :data:`FIGURES` order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = report.rows_by_macs(document)
    ks = sorted({r["k"] for macs_rows in rows.values() for r in macs_rows})
    drawers = {"area_vs_k": _area, "delay_vs_k": _delay, "adp_vs_k": _adp, "area_breakdown": _breakdown}
    if model is not None:
        drawers["model_vs_synthesis"] = lambda d, r, k: _model(d, r, k, model)
    drawn = []
    with plt.rc_context(STYLE):
        for name in FIGURES:
            if name not in drawers:
                continue
            save(drawers[name](document, rows, ks), out_dir / name, formats=("png", "svg"))
            drawn.append(name)
    return drawn


def _fpga(document, rows, ks):
    """LUT4s, DSP tiles, flip-flops and fmax against k, one line per MACS."""
    fig, axes = plt.subplots(2, 2, figsize=(WIDTH, 5.6), layout="constrained")
    fig.suptitle("FPGA resources and post-route fmax against rescaler width k\n" + report.flow_label(document))
    panels = (("luts", "LUT4 logic cells", "LUT4 (after packing)"), ("dsps", "DSP tiles", "DSP tiles"),
              ("ffs", "flip-flops", "flip-flops"), ("fmax_mhz", "post-route fmax", "fmax (MHz)"))
    for ax, (key, title, label) in zip(axes.flat, panels):
        _lines(ax, rows, key, ks)
        ax.set_title(title)
        ax.set_ylabel(label)
        if key == "dsps":
            ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylim(0, None)
    _legend(fig)
    return fig


def draw_fpga(document, out_dir):
    """Draw the FPGA figure (:data:`costmodel.fpga_report.FIGURES`) of a validated FPGA
    sweep into ``out_dir`` as PNG and SVG; returns the names drawn."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = fpga_report.rows_by_macs(document)
    ks = sorted({r["k"] for macs_rows in rows.values() for r in macs_rows})
    with plt.rc_context(STYLE):
        save(_fpga(document, rows, ks), out_dir / "fpga_vs_k", formats=("png", "svg"))
    return list(fpga_report.FIGURES)
