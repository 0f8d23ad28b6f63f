"""The FPGA section's figure: LUT4s, DSP tiles, flip-flops and post-route fmax against k.

``fpga_vs_k`` has one panel per resource and one line per MACS, drawn from
:func:`report.fpga_rows.rows_by_macs` in the style of :mod:`report.figure_style`.
"""

from pathlib import Path

from toolkit.figures import save

from .figure_style import STYLE, WIDTH, legend, lines_per_macs, plt
from .fpga_rows import rows_by_macs
from .sweep_rows import flow_label, swept_ks

__all__ = ["FIGURES", "PANELS", "figure", "draw"]

#: The FPGA section's figures.
FIGURES = ("fpga_vs_k",)

#: ``(row key, panel title, y label)`` of each panel, row by row.
PANELS = (("luts", "LUT4 logic cells", "LUT4 (after packing)"), ("dsps", "DSP tiles", "DSP tiles"),
          ("ffs", "flip-flops", "flip-flops"), ("fmax_mhz", "post-route fmax", "fmax (MHz)"))


def figure(document):
    """The ``fpga_vs_k`` figure of a validated FPGA sweep; the caller closes it."""
    rows = rows_by_macs(document)
    ks = swept_ks(rows)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 2, figsize=(WIDTH, 5.6), layout="constrained")
        fig.suptitle("FPGA resources and post-route fmax against rescaler width k\n" + flow_label(document))
        for ax, (key, title, label) in zip(axes.flat, PANELS):
            lines_per_macs(ax, rows, key, ks)
            ax.set_title(title)
            ax.set_ylabel(label)
            if key == "dsps":
                ax.yaxis.get_major_locator().set_params(integer=True)
            ax.set_ylim(0, None)
        legend(fig)
    return fig


def draw(document, out_dir):
    """Draw the FPGA figure of a validated FPGA sweep into ``out_dir`` as PNG and SVG;
    returns the names drawn."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(STYLE):
        save(figure(document), out_dir / FIGURES[0], formats=("png", "svg"))
    return list(FIGURES)
