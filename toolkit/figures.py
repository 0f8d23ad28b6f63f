"""Figures: matplotlib on its file-only backend, saved atomically and reproducibly.

Every figure of the project goes through :func:`pyplot` and :func:`save`, so no
command needs a display, a killed run never leaves half a PNG, and the same data
gives the same SVG bytes (no date, fixed hash salt).
"""

import io
from pathlib import Path

from .files import write_atomically

__all__ = ["pyplot", "save"]

#: rcParams that make the SVG output byte-reproducible.
REPRODUCIBLE = {"svg.hashsalt": "narrow-rescaler", "svg.fonttype": "path"}


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, path, *, formats=None, dpi=None):
    """Write ``fig`` to ``path`` (its suffix gives the format), or to ``path`` with
    each suffix of ``formats`` (e.g. ``("png", "svg")``), each atomically; then
    close the figure. Returns the paths written."""
    plt = pyplot()
    path = Path(path)
    targets = [path] if formats is None else [path.with_suffix(f".{ext}") for ext in formats]
    try:
        with plt.rc_context(REPRODUCIBLE):
            for target in targets:
                fmt = target.suffix.lstrip(".")
                buffer = io.BytesIO()
                fig.savefig(buffer, format=fmt, dpi=dpi,
                            metadata={"Date": None} if fmt == "svg" else {})
                write_atomically(target, buffer.getvalue())
    finally:
        plt.close(fig)
    return targets
