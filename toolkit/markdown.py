"""Markdown for the generated reports: one table writer and the number formats they share.

Every table of a generated ``.md`` goes through :func:`table`, so the separator
row (``|---:|`` right, ``|---|`` left) is written in one place. The formatters
give each way of printing a number one name:

* :func:`num`: a number with thousands separators (``151,933``, ``2,246.09``);
* :func:`pct`: a value that already is a percentage (``47.5 %``; None as ``-``);
* :func:`share`: ``part`` as a percentage of ``whole`` (``-`` when ``whole`` is 0);
* :func:`saving`: how much smaller ``new`` is than ``old``, as a percentage.
"""

__all__ = ["table", "num", "pct", "share", "saving"]

_SEPARATORS = {"l": "---", "r": "---:"}


def table(header, rows, align="r"):
    """The lines of a Markdown table.

    ``header`` and each row of ``rows`` are sequences of cells (strings, or any
    value, written with ``str``); ``align`` is one letter for every column or one
    per column: ``r`` (right, for numbers) or ``l`` (left, for text).
    """
    header = [str(cell) for cell in header]
    if len(align) == 1:
        align *= len(header)
    if len(align) != len(header) or set(align) - set(_SEPARATORS):
        raise ValueError(f"align must be 'l'/'r' for one or all of the {len(header)} columns, not {align!r}")
    lines = [_row(header), "|" + "".join(f"{_SEPARATORS[a]}|" for a in align)]
    for row in rows:
        row = [str(cell) for cell in row]
        if len(row) != len(header):
            raise ValueError(f"a table row has {len(row)} cells, its header {len(header)}: {row}")
        lines.append(_row(row))
    return lines


def _row(cells):
    return "| " + " | ".join(cells) + " |"


def num(value, digits=0):
    """``value`` with thousands separators and ``digits`` decimals."""
    return f"{value:,.{digits}f}"


def pct(value, digits=1):
    """A percentage value as ``"47.5 %"``; None as ``"-"``."""
    return "-" if value is None else f"{value:.{digits}f} %"


def share(part, whole, digits=1):
    """``part`` as a percentage of ``whole`` (``"12.5 %"``); ``"-"`` when ``whole`` is 0."""
    return pct(100 * part / whole, digits) if whole else "-"


def saving(new, old, digits=1):
    """How much smaller ``new`` is than ``old``, as a percentage (``100 * (1 - new / old)``)."""
    return pct(100.0 * (1 - new / old), digits)
