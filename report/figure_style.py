"""What every figure of the report shares: style, colours per MACS, the k axis, one legend.

Figures are drawn with matplotlib's non-interactive Agg backend
(:func:`toolkit.figures.pyplot`), sized for a two-column paper (7 in wide,
8-9 pt text), and written as PNG and SVG without a date
(:func:`toolkit.figures.save`), so that re-drawing unchanged data leaves the
files byte for byte the same.
"""

import os
from pathlib import Path

from matplotlib.ticker import FixedLocator, NullLocator

from toolkit.figures import pyplot

plt = pyplot()  # the file-only backend, before anything draws

__all__ = ["plt", "STYLE", "WIDTH", "macs_style", "unit_label", "k_axis", "lines_per_macs", "legend",
           "figure_link"]

STYLE = {
    "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "legend.fontsize": 7.5,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.titlesize": 9.5,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6, "lines.linewidth": 1.4,
    "lines.markersize": 4.5, "legend.framealpha": 0.9, "savefig.dpi": 200,
}
#: Figure width, inches.
WIDTH = 7.0
#: One colour and marker per MACS (others cycle through the extras).
MACS_STYLE = {4: ("#1f5fa8", "o"), 8: ("#c23b22", "s"), 16: ("#2a8a3e", "^")}
EXTRA_STYLE = [("#7b4ea3", "D"), ("#b07d12", "v"), ("#333333", "P")]
UNIT_LABELS = {"um^2": r"$\mu$m$^2$", "ns": "ns", "transistors": "transistors (estimate)",
               "levels": "logic levels"}


def macs_style(macs, index):
    """``(colour, marker)`` of the ``index``-th MACS value, ``macs``."""
    return MACS_STYLE.get(macs, EXTRA_STYLE[index % len(EXTRA_STYLE)])


def unit_label(unit):
    """An axis label's unit (``um^2`` -> µm², ``levels`` -> logic levels)."""
    return UNIT_LABELS.get(unit, unit)


def k_axis(ax, ks):
    """Log2 k axis with a tick at every swept k."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(ks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_xlabel("rescaler multiplier width k (bits)")


def lines_per_macs(ax, rows, key, ks):
    """One line per MACS of ``row[key]`` against k (rows without the key are skipped)."""
    for i, (macs, macs_rows) in enumerate(rows.items()):
        colour, marker = macs_style(macs, i)
        data = [(r["k"], r[key]) for r in macs_rows if r.get(key) is not None]
        if data:
            ax.plot(*zip(*data), color=colour, marker=marker, label=f"{macs} MACS")
    k_axis(ax, ks)


def legend(fig):
    """One legend under the panels, each label once, so that no curve hides behind it."""
    entries = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    fig.legend(entries.values(), entries.keys(), loc="outside lower center", ncols=min(len(entries), 4))


def figure_link(figures_dir, report_dir):
    """``figures_dir`` as a report in ``report_dir`` links to it (POSIX, relative)."""
    return Path(os.path.relpath(figures_dir, report_dir)).as_posix()
