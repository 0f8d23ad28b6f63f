"""What a regression exercised: the corners of Eq. (1) its rescale operations hit.

A bit-exact regression says nothing about the cases it never drove. :class:`Coverage`
counts, over the operands and golden results of every checked output:

* the shift values ``s`` hit (of ``0..s_max``);
* exact ties (``acc*m`` exactly halfway between two multiples of ``2^s``), per
  shift and sign: the cases where round half up differs from the other modes;
* saturation at the lower and at the upper bound (the unclamped value outside
  ``[act_min, act_max]``);
* ``m = 0`` (a multiplier that underflowed away: the output is the zero point);
* accumulator wrap (engines only: the 32-bit sum overflowed);
* in-range outputs per lane: neither bound reached and ``m != 0``, the outputs
  whose value comes from the multiply-round path rather than a constant.

Counts come from the operands (:func:`sim.golden.rescale_unclamped` tells saturation
apart), never from the design under test, so they describe the stimulus.
"""

import numpy as np

from sim.golden import rescale_unclamped, s_max
from toolkit.markdown import share

__all__ = ["Coverage", "COLUMNS", "summary_row", "format_table"]

#: Header of :func:`format_table` (one row per :meth:`Coverage.row`).
COLUMNS = ("run", "outputs", "s hit", "ties (shifts, +/-)", "sat. low", "sat. high", "m = 0",
           "acc wraps", "in range", "in range per lane")


class Coverage:
    """Running counts of a regression's outputs.

    Parameters
    ----------
    k : int
        Multiplier width (gives ``s_max``).
    lanes : int
        Parallel lanes (rescalers or engines) whose in-range share is reported.
    wraps : bool
        Whether accumulator wraps can occur (engines); else that column says "n/a".
    """

    def __init__(self, *, k, lanes=1, wraps=False):
        self.k, self.lanes, self.wraps = k, lanes, wraps
        self.smax = s_max(k)
        self.outputs = 0
        self.s_hits = np.zeros(self.smax + 1, dtype=np.int64)
        self.ties = np.zeros((2, self.smax + 1), dtype=np.int64)  # [positive, negative] x s
        self.sat_low = self.sat_high = self.m_zero = self.wrapped = 0
        self.lane_outputs = np.zeros(lanes, dtype=np.int64)
        self.lane_in_range = np.zeros(lanes, dtype=np.int64)

    def add(self, table, *, lane=None, wrapped=None):
        """Count an ``(N, 6)`` operand table (``acc, m, s, zero_point, act_min, act_max``).

        ``lane`` gives each row's lane (default 0); ``wrapped`` flags rows whose
        accumulator wrapped (engines)."""
        acc, m, s, zp, lo, hi = np.asarray(table, dtype=np.int64).reshape(-1, 6).T
        n = len(acc)
        lane = np.zeros(n, dtype=np.int64) if lane is None else np.asarray(lane, dtype=np.int64)
        self.outputs += n
        self.s_hits += np.bincount(s, minlength=self.smax + 1)[: self.smax + 1]
        product = acc * m  # |acc| <= 2^31, m < 2^32: fits int64
        shifted = s >= 1
        half = np.left_shift(1, np.maximum(s - 1, 0))
        tie = shifted & ((product & ((half << 1) - 1)) == half)
        for sign, rows in enumerate((tie & (product >= 0), tie & (product < 0))):
            self.ties[sign] += np.bincount(s[rows], minlength=self.smax + 1)[: self.smax + 1]
        value = rescale_unclamped(acc, m, s, zero_point=zp, k=self.k)
        low, high = value < lo, value > hi
        self.sat_low += int(low.sum())
        self.sat_high += int(high.sum())
        zero = m == 0
        self.m_zero += int(zero.sum())
        inside = ~(low | high | zero)
        self.lane_outputs += np.bincount(lane, minlength=self.lanes)[: self.lanes]
        self.lane_in_range += np.bincount(lane[inside], minlength=self.lanes)[: self.lanes]
        if wrapped is not None:
            self.wrapped += int(np.count_nonzero(wrapped))

    @property
    def in_range(self):
        """Fraction of outputs in range (see the module docstring)."""
        return float(self.lane_in_range.sum() / self.outputs) if self.outputs else 0.0

    def summary(self):
        """A JSON-ready dict of the counts."""
        tie_shifts = int(((self.ties[0] > 0) & (self.ties[1] > 0)).sum())
        per_lane = self.lane_in_range / np.maximum(self.lane_outputs, 1)
        used = self.lane_outputs > 0
        return {
            "k": self.k, "outputs": int(self.outputs), "s_max": self.smax,
            "s_hit": int((self.s_hits > 0).sum()),
            "s_missed": [int(v) for v in np.flatnonzero(self.s_hits == 0)],
            "ties_positive": int(self.ties[0].sum()), "ties_negative": int(self.ties[1].sum()),
            "tie_shifts_both_signs": tie_shifts,
            "sat_low": int(self.sat_low), "sat_high": int(self.sat_high), "m_zero": int(self.m_zero),
            "acc_wraps": int(self.wrapped) if self.wraps else None,
            "in_range": round(self.in_range, 4),
            "in_range_lane_min": round(float(per_lane[used].min()), 4) if used.any() else 0.0,
            "in_range_lane_max": round(float(per_lane[used].max()), 4) if used.any() else 0.0,
            "lanes": int(used.sum()),
        }

    def row(self, run):
        """One row of :func:`format_table` for this coverage, labelled ``run``."""
        return summary_row(run, self.summary())


def summary_row(run, summary):
    """A :func:`format_table` row from a :meth:`Coverage.summary` dict."""
    n = summary["outputs"]
    wraps = summary["acc_wraps"]
    return (run, f"{n:,}", f"{summary['s_hit']}/{summary['s_max'] + 1}",
            f"{summary['tie_shifts_both_signs']}/{summary['s_max']}: "
            f"{summary['ties_positive']:,}/{summary['ties_negative']:,}",
            share(summary["sat_low"], n), share(summary["sat_high"], n), share(summary["m_zero"], n),
            "n/a" if wraps is None else f"{wraps:,}",
            f"{100 * summary['in_range']:.1f} %",
            f"{100 * summary['in_range_lane_min']:.1f}..{100 * summary['in_range_lane_max']:.1f} % "
            f"({summary['lanes']} lanes)")


def format_table(rows):
    """A Markdown table of :data:`COLUMNS` and ``rows``."""
    rows = [tuple(str(cell) for cell in row) for row in rows]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
