"""Exact integer arithmetic in floating point: the fast path's dot products and rescales.

:mod:`accuracy.tflite.fast` computes the dot-product layers with BLAS and numpy
floating point instead of int64, and gets the same integers as
:func:`sim.golden.accumulate` and :func:`sim.golden.rescale` by construction: every
value it forms is an integer (or a multiple of a power of two) small enough for the
float type to hold exactly, so no operation ever rounds. The bounds are checked when
a layer is prepared (:class:`Gemm`, :func:`requantizer`); a layer outside them is
computed by the reference interpreter instead.

**Dot products** (:class:`Gemm`). A float32 holds every integer of magnitude at most
``2^24`` exactly, so a sum of products of integers whose partial sums all stay within
``2^24`` is computed exactly, in any order and with or without fused multiply-adds:
each addition's exact result is representable, so IEEE rounding leaves it unchanged.
With int8 activations (``|x| <= 128``) every partial sum of output channel ``c`` is
bounded by ``128 * sum_i |w[c, i]|``. The weights' columns are split into chunks
whose bound is at most ``2^24`` (one chunk for nearly every layer) and each chunk's
float32 product is summed in float64, exact below ``2^53``.

**Rescales** (:func:`requantizer`). TFLite's double rounding of an accumulator
``a`` (bias included) with ``(m, s)``, ``s = 31 + e``, is
``y = RDBPOT(floor((a m + 2^30) / 2^31), e)``, ``RDBPOT`` rounding ``h / 2^e`` half
away from zero, i.e. ``floor((h + 2^(e-1) - [h < 0]) / 2^e)`` for ``e >= 1`` and
``h`` for ``e = 0``. Since ``floor((floor(u) + n) / 2^e) = floor((u + n) / 2^e)`` for
an integer ``n``, and ``floor(u) < 0`` exactly when ``u < 0``, this is
``y = floor(t + o - 2^-e [t < 0])`` with ``t = (a m + 2^30) / 2^s`` and ``o = 1/2``
(``o = 0`` and no correction for ``e = 0``). The paper's half-up rounding is
``y = floor(t + 1/2)`` with ``t = a m / 2^s``. In float64, ``t`` is formed as
``x * (m 2^-s) + c`` with ``x`` the accumulator without the bias and the per-channel
constant ``c = (b m + 2^30) 2^-s + o`` (``b m 2^-s + 1/2`` for half-up): every term,
partial result and correction is a multiple of ``2^-s``, and each is exact while its
magnitude in units of ``2^-s`` stays below ``2^53``; that is
``A m + 2^30 + 2^(s-1) + 2^31 < 2^53`` with ``A = |b| + 128 sum |w|`` the bound on
``|a|``, checked per channel. Scaling by a power of two and ``floor`` are exact.
"""

import numpy as np

__all__ = ["F32_EXACT", "F64_EXACT", "Gemm", "requantizer"]

#: Largest magnitude up to which float32 (float64) holds every integer.
F32_EXACT, F64_EXACT = 1 << 24, 1 << 53
# Largest |int8| activation: bounds a partial sum by 128 * sum |w|.
_X_MAX = 128


class Gemm:
    """``x @ w.T`` of int8 rows ``x`` and an int8 ``(C, K)`` weight matrix, exact.

    The columns of ``w`` are cut into consecutive chunks whose partial sums stay within
    :data:`F32_EXACT` for any int8 ``x`` (see the module docstring); :meth:`__call__`
    multiplies each in float32 BLAS and sums the chunks in float64 (also exact: the
    whole sum is below ``128 * K * 128 < 2^53``).
    """

    def __init__(self, w):
        w = np.asarray(w)
        absw = np.abs(w.astype(np.int64))
        if _X_MAX * absw.max(initial=0) > F32_EXACT:
            raise ValueError("a weight beyond int8: no exact float32 product")
        self.chunks, start, reach = [], 0, np.zeros(len(w), np.int64)
        for i in range(w.shape[1]):
            reach += _X_MAX * absw[:, i]
            if np.any(reach > F32_EXACT):
                self.chunks.append((start, i))
                start, reach = i, _X_MAX * absw[:, i]
        self.chunks.append((start, w.shape[1]))
        self.weights = [np.ascontiguousarray(w[:, a:b].T, dtype=np.float32) for a, b in self.chunks]
        self.reach = _X_MAX * absw.sum(axis=1)  # per channel: a bound on |x @ w.T|
        assert all((_X_MAX * absw[:, a:b].sum(axis=1) <= F32_EXACT).all() for a, b in self.chunks)

    def __call__(self, x):
        """``x`` (float32 rows of int8 values, ``(..., K)``) times ``w.T``: exact
        integers, float32 for one chunk, else float64."""
        if len(self.chunks) == 1:
            return np.matmul(x, self.weights[0])
        total = np.matmul(x[..., self.chunks[0][0]:self.chunks[0][1]], self.weights[0]).astype(np.float64)
        for (a, b), w in zip(self.chunks[1:], self.weights[1:]):
            total += np.matmul(x[..., a:b], w)
        return total


def requantizer(reach, bias, m, s, *, zero_point, lo, hi, rounding):
    """The rescale of accumulators ``x + bias`` by ``(m, s)`` in float64, or None when a
    channel's bound fails (the caller then uses :func:`sim.golden.rescale`).

    ``reach`` bounds ``|x|`` per channel (:attr:`Gemm.reach`), ``bias``, ``m``, ``s``
    are per channel; ``rounding`` is ``"tflite_double"`` (TFLite's, ``s >= 31``) or
    ``"half_up"`` (the paper's). Returns ``f(x) -> int8 array``, ``x`` the float
    accumulators without the bias (channels on the last axis), which computes
    ``clamp(y + zero_point, lo, hi)`` exactly as :func:`sim.golden.rescale` (module
    docstring).
    """
    bias, m, s = (np.broadcast_to(np.asarray(v, np.int64), np.shape(reach)) for v in (bias, m, s))
    if rounding == "tflite_double" and np.any(s < 31):
        return None  # M = 1 (s = 30) or a flushed scale: golden's other branch
    rows = []
    for r, b, mc, sc in zip(reach.tolist(), bias.tolist(), m.tolist(), s.tolist()):
        if (r + abs(b)) * mc + (1 << 30) + (1 << max(sc - 1, 0)) + (1 << 31) >= F64_EXACT:
            return None
        if rounding == "tflite_double":
            e = sc - 31
            half = 1 << (sc - 1) if e >= 1 else 0
            rows.append((b * mc + (1 << 30) + half, 0.5 if e >= 1 else 0.0, 2.0**-e if e >= 1 else 0.0))
        elif rounding == "half_up":
            rows.append((b * mc + (1 << max(sc - 1, 0)) if sc else b * mc, None, 0.0))
        else:
            raise ValueError(f"rounding {rounding!r} has no float64 path")
    scale = np.ldexp(m.astype(np.float64), -s)  # m 2^-s, exact
    const = np.array([np.ldexp(float(c), -sc) for (c, _, _), sc in zip(rows, s.tolist())])  # exact: c < 2^53
    thresh = np.array([o if o is not None else 0.0 for _, o, _ in rows])
    step = np.array([d for _, _, d in rows])
    correct = bool(np.any(step))
    low, high = float(lo - zero_point), float(hi - zero_point)

    def apply(x):
        t = np.multiply(x, scale, dtype=np.float64)
        t += const
        if correct:
            np.subtract(t, step, out=t, where=t < thresh)
        np.floor(t, out=t)
        np.clip(t, low, high, out=t)
        out = np.empty(t.shape, np.int8)
        np.add(t, zero_point, out=out, casting="unsafe")
        return out
    return apply
