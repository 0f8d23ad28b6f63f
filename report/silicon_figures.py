"""Figures of the energy and layout section (:mod:`report.silicon_section`).

=========================  ======================================================
figure                     what it shows
=========================  ======================================================
``energy_vs_k``            energy per output against k, one line per MACS;
                           relative to k = 32 next to the synthesized area
``delay_pre_post_route``   critical path per k of the layout points: synthesized,
                           before wires, after routing, with the clock tree
``rescaler_share_``        the rescaler's share of the energy per output against
``isolation``              the beats per output, as built and with operand
                           isolation, one colour per k
=========================  ======================================================

Drawn only from the points that are published (:func:`drawable`), in the style of
:mod:`report.figure_style`; the report's captions are :data:`report.silicon_section.CAPTIONS`.
"""

from pathlib import Path

from toolkit.figures import save

from matplotlib.ticker import FixedLocator, NullLocator

from .figure_style import EXTRA_STYLE, STYLE, WIDTH, k_axis, legend, macs_style, plt
from .silicon_numbers import delays, energy_rows
from .sweep_rows import swept_ks

__all__ = ["FIGURES", "DELAYS", "drawable", "figure", "draw"]

#: The figures, in the order the report shows them.
FIGURES = ("energy_vs_k", "delay_pre_post_route", "rescaler_share_isolation")

_SOURCE = "OSU 0.18 um cells; Yosys, Icarus, OpenSTA"
#: The bars of ``delay_pre_post_route``: ``(key of delays(), legend label, colour)``.
DELAYS = (("synthesized", "synthesized (liberty flow)", "#b5b5b5"),
          ("pre_route", "pre-route (after buffering)", "#8fb3e0"),
          ("post_route", "post-route (wire RC, ideal clock)", "#c23b22"),
          ("propagated", "post-route, clock tree propagated", "#7b2a1a"))


def _energy(points, area_ratios):
    rows = energy_rows(points, area_ratios)
    fig, (absolute, relative) = plt.subplots(1, 2, figsize=(WIDTH, 3.2), layout="constrained")
    fig.suptitle(f"Energy per output against rescaler width k\n{_SOURCE}")
    ks = swept_ks(rows)
    for i, (macs, macs_rows) in enumerate(rows.items()):
        colour, marker = macs_style(macs, i)
        absolute.plot([r["k"] for r in macs_rows], [r["pj"] for r in macs_rows], color=colour, marker=marker,
                      label=f"{macs} MACS")
        ratio = [(r["k"], r["energy_vs_k32"]) for r in macs_rows if "energy_vs_k32" in r]
        if ratio:
            relative.plot(*zip(*ratio), color=colour, marker=marker, label=f"{macs} MACS")
        area = [(r["k"], r["area_vs_k32"]) for r in macs_rows if "area_vs_k32" in r]
        if area:
            relative.plot(*zip(*area), color=colour, linestyle="--", linewidth=1.0)
    relative.plot([], [], color="0.3", linestyle="--", linewidth=1.0, label="synthesized area, same colour")
    for ax in (absolute, relative):
        k_axis(ax, ks)
    absolute.set_ylabel("energy per output (pJ)")
    absolute.set_ylim(0, None)
    absolute.set_title("absolute")
    relative.set_ylabel("value / value at k = 32")
    relative.set_ylim(0, 1.08)
    relative.set_title("relative to k = 32")
    legend(fig)
    return fig


def _delays(points, area_ratios):
    items = sorted(points.layout.items(), key=lambda item: (item[0][1], item[0][0]))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2), layout="constrained")
    fig.suptitle("Critical path before and after place and route\nqflow (graywolf, qrouter) on OSU 0.18 um, "
                 "OpenSTA")
    width = 0.8 / len(DELAYS)
    for j, (key, label, colour) in enumerate(DELAYS):
        values = [delays(report)[key] for _, report in items]
        xs = [i + (j - (len(DELAYS) - 1) / 2) * width for i in range(len(items))]
        data = [(x, v) for x, v in zip(xs, values) if v is not None]
        if data:
            bars = ax.bar(*zip(*data), width=width, color=colour, label=label)
            if key == "post_route":
                ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(range(len(items)), [f"k = {k}\n{macs} MACS" for (k, macs), _ in items])
    ax.set_ylabel("critical path (ns)")
    ax.grid(axis="x", visible=False)
    fig.legend(loc="outside lower center", ncols=2)
    return fig


def _isolation(points, area_ratios):
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4), layout="constrained")
    fig.suptitle(f"The rescaler's share of the energy per output, as built and with operand isolation\n{_SOURCE}")
    beats = set()
    keys = sorted({(r["k"], r["macs"]) for r in points.beats_isolated})
    for i, key in enumerate(keys):
        colour, marker = EXTRA_STYLE[i % len(EXTRA_STYLE)]
        for rows, style, design in ((points.beats, "-", "as built"), (points.beats_isolated, "--", "isolated")):
            mine = sorted((r for r in rows if (r["k"], r["macs"]) == key), key=lambda r: r["beats_per_output"])
            if not mine:
                continue
            beats |= {r["beats_per_output"] for r in mine}
            ax.plot([r["beats_per_output"] for r in mine], [100 * r["rescaler_pj"] / r["total_pj"] for r in mine],
                    linestyle=style, color=colour, marker=marker, label=f"k = {key[0]}, {key[1]} MACS, {design}")
    ax.axhline(10, color="0.6", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(sorted(beats)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(b) for b in sorted(beats)])
    ax.set_xlabel("beats per output B (channel length L = B x MACS)")
    ax.set_ylabel("rescaler share of the energy per output (%)")
    ax.set_ylim(0, None)
    legend(fig)
    return fig


_DRAWERS = {"energy_vs_k": _energy, "delay_pre_post_route": _delays, "rescaler_share_isolation": _isolation}


def drawable(points):
    """The names of :data:`FIGURES` that ``points`` has data for, in order: a figure
    without any data is not drawn."""
    have = {"energy_vs_k": bool(points.energy), "delay_pre_post_route": bool(points.layout),
            "rescaler_share_isolation": bool(points.beats) and bool(points.beats_isolated)}
    return [name for name in FIGURES if have[name]]


def figure(name, points, *, area_ratios=None):
    """The matplotlib figure ``name`` of :data:`FIGURES` for the
    published ``points`` (``area_ratios``: the liberty sweep's, for the dashed lines);
    the caller closes it."""
    with plt.rc_context(STYLE):
        return _DRAWERS[name](points, area_ratios)


def draw(points, out_dir, *, area_ratios=None):
    """Draw the figures of :func:`drawable` into ``out_dir``
    (PNG and SVG). Returns the names drawn, in order."""
    out_dir = Path(out_dir)
    names = drawable(points)
    with plt.rc_context(STYLE):
        for name in names:
            out_dir.mkdir(parents=True, exist_ok=True)
            save(figure(name, points, area_ratios=area_ratios), out_dir / name, formats=("png", "svg"))
    return names
