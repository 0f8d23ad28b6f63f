"""Exact integer dot products in floating point: the fast path's GEMMs.

:mod:`accuracy.tflite.fast` computes CONV_2D and FULLY_CONNECTED with BLAS in float32
instead of int64, and gets the same integers as :func:`sim.golden.accumulate` by
construction: every value it forms is an integer small enough for the float type to
hold exactly, so no operation ever rounds. The bound is checked when a layer is
prepared (:class:`Gemm`); the rescale that follows is integer arithmetic
(:mod:`accuracy.tflite.kernels`).

A float32 holds every integer of magnitude at most ``2^24`` exactly, so a sum of
products of integers whose partial sums all stay within ``2^24`` is computed exactly,
in any order and with or without fused multiply-adds: each addition's exact result is
representable, so IEEE rounding leaves it unchanged. With int8 activations
(``|x| <= 128``) and the bias ``b`` as one more column of ``x`` holding 1, every
partial sum of output channel ``c`` is bounded by ``|b[c]| + 128 * sum_i |w[c, i]|``.
The columns are split into chunks whose bound is at most ``2^24`` (one chunk for
nearly every layer), each chunk's float32 product summed in float64, exact below
``2^53``; a bias beyond ``2^24`` is a float64 chunk of its own.
"""

import numpy as np

__all__ = ["F32_EXACT", "X_MAX", "Gemm"]

#: Largest magnitude up to which float32 holds every integer.
F32_EXACT = 1 << 24
#: Largest ``|x|`` of an int8 activation: bounds a partial sum by ``128 * sum |w|``.
X_MAX = 128


def chunks(bounds, limit=F32_EXACT):
    """Consecutive column ranges ``[(start, stop)]`` of a ``(C, K)`` array of per-term
    bounds whose per-row sums stay within ``limit``; a column whose term alone exceeds
    it is a range of its own."""
    out, start, reach = [], 0, np.zeros(len(bounds), np.int64)
    for i in range(bounds.shape[1]):
        if np.any(bounds[:, i] > limit):
            out += [(start, i)] if i > start else []
            out.append((i, i + 1))
            start, reach = i + 1, np.zeros(len(bounds), np.int64)
            continue
        reach += bounds[:, i]
        if np.any(reach > limit):
            out.append((start, i))
            start, reach = i, bounds[:, i].copy()
    if start < bounds.shape[1]:
        out.append((start, bounds.shape[1]))
    return out


class Gemm:
    """``x @ w.T + bias`` of int8 rows ``x``, an int8 ``(C, K)`` weight matrix and an
    integer bias, exact (module docstring).

    ``x`` is given as float32 rows of ``K + 1`` values, the last one 1 (the bias
    column; :meth:`rows` makes such a buffer). :attr:`reach` bounds ``|x @ w.T + bias|``
    per channel.
    """

    def __init__(self, w, bias):
        w, bias = np.asarray(w), np.asarray(bias, np.int64)
        terms = np.concatenate([X_MAX * np.abs(w.astype(np.int64)), np.abs(bias)[:, None]], axis=1)
        if np.any(np.abs(bias) > 1 << 31):
            raise ValueError("the bias leaves int32")
        self.chunks = chunks(terms)
        full = np.concatenate([w.astype(np.float64), bias[:, None].astype(np.float64)], axis=1)
        # float32 where the chunk's sums stay within 2^24; float64 for a bias beyond it alone
        # (|x * b| <= 2^31: one exact product)
        self.weights = [np.ascontiguousarray(full[:, a:b].T, dtype=np.float32 if (terms[:, a:b].sum(axis=1)
                                                                                  <= F32_EXACT).all() else np.float64)
                        for a, b in self.chunks]
        self.reach = terms.sum(axis=1)
        self.width = w.shape[1] + 1
        assert all(f.dtype == np.float64 and b - a == 1 or (terms[:, a:b].sum(axis=1) <= F32_EXACT).all()
                   for f, (a, b) in zip(self.weights, self.chunks))
        assert all(np.array_equal(f.astype(np.float64), full[:, a:b].T) for f, (a, b) in zip(self.weights, self.chunks))

    @staticmethod
    def rows(n, width):
        """A float32 ``(n, width)`` buffer whose last column holds 1."""
        buf = np.empty((n, width), np.float32)
        buf[:, -1] = 1
        return buf

    def __call__(self, x):
        """The accumulators of the rows ``x`` (module docstring): float32 for one chunk,
        else float64, exact integers."""
        if len(self.chunks) == 1:
            return np.matmul(x, self.weights[0])
        total = np.matmul(x[..., self.chunks[0][0]:self.chunks[0][1]], self.weights[0]).astype(np.float64)
        for (a, b), w in zip(self.chunks[1:], self.weights[1:]):
            total += np.matmul(x[..., a:b], w)
        return total
