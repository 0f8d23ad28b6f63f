"""Exact integer dot products in floating point: the fast path's GEMMs.

:mod:`accuracy.tflite.fast` computes CONV_2D and FULLY_CONNECTED with BLAS in float32
instead of int64, and gets the same integers as :func:`sim.golden.accumulate` by
construction: every value it forms is an integer small enough for the float type to
hold exactly, so no operation ever rounds. The bound is checked when a layer is
prepared (:class:`Gemm`); the bias is added, and the result rescaled, in integer
arithmetic (:mod:`accuracy.tflite.kernels`).

A float32 holds every integer of magnitude at most ``2^24`` exactly, so a sum of
products of integers whose partial sums all stay within ``2^24`` is computed exactly,
in any order and with or without fused multiply-adds: each addition's exact result is
representable, so IEEE rounding leaves it unchanged. With int8 activations
(``|x| <= 128``) every partial sum of output channel ``c`` is bounded by
``128 * sum_i |w[c, i]|``. The columns are split into chunks whose bound is at most
``2^24`` (one chunk for nearly every layer: ``K`` up to 1024 at worst), each chunk's
float32 product summed in float64, exact below ``2^53``.
"""

import numpy as np

__all__ = ["F32_EXACT", "X_MAX", "Gemm"]

#: Largest magnitude up to which float32 holds every integer.
F32_EXACT = 1 << 24
#: Largest ``|x|`` of an int8 activation: bounds a partial sum by ``128 * sum |w|``.
X_MAX = 128


def chunks(bounds, limit=F32_EXACT):
    """Consecutive column ranges ``[(start, stop)]`` of a ``(C, K)`` array of per-term
    bounds (each at most ``limit``) whose per-row sums stay within ``limit``."""
    out, start, reach = [], 0, np.zeros(len(bounds), np.int64)
    for i in range(bounds.shape[1]):
        reach += bounds[:, i]
        if np.any(reach > limit):
            out.append((start, i))
            start, reach = i, bounds[:, i].copy()
    if start < bounds.shape[1]:
        out.append((start, bounds.shape[1]))
    return out


class Gemm:
    """``x @ w.T`` of int8 rows ``x``, given as float32 rows of ``K`` values, and an
    int8 ``(C, K)`` weight matrix, exact (module docstring). :attr:`reach` bounds
    ``|x @ w.T|`` per channel."""

    def __init__(self, w):
        w = np.asarray(w)
        terms = X_MAX * np.abs(w.astype(np.int64))  # each at most 2^14
        self.chunks = chunks(terms)
        self.weights = [np.ascontiguousarray(w[:, a:b].T, dtype=np.float32) for a, b in self.chunks]
        self.reach = terms.sum(axis=1)
        self.width = w.shape[1]
        assert all((terms[:, a:b].sum(axis=1) <= F32_EXACT).all() for a, b in self.chunks)

    def __call__(self, x):
        """The dot products of the rows ``x`` (module docstring): float32 for one chunk,
        else float64, exact integers."""
        if len(self.chunks) == 1:
            return np.matmul(x, self.weights[0])
        total = np.matmul(x[..., self.chunks[0][0]:self.chunks[0][1]], self.weights[0]).astype(np.float64)
        for (a, b), w in zip(self.chunks[1:], self.weights[1:]):
            total += np.matmul(x[..., a:b], w)
        return total
