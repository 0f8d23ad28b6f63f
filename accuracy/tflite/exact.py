"""Exact integer arithmetic in floating point: the fast path's dot products and rescales.

:mod:`accuracy.tflite.fast` computes the dot-product layers with BLAS and numpy
floating point instead of int64, and gets the same integers as
:func:`sim.golden.accumulate` and :func:`sim.golden.rescale` by construction: every
value it forms is an integer (or a multiple of a power of two) small enough for the
float type to hold exactly, so no operation ever rounds. The bounds are checked when
a layer is prepared (:class:`Gemm`, :class:`Requantizer`); what falls outside them
is computed by the reference code instead.

**Dot products** (:class:`Gemm`). A float32 holds every integer of magnitude at most
``2^24`` exactly, so a sum of products of integers whose partial sums all stay within
``2^24`` is computed exactly, in any order and with or without fused multiply-adds:
each addition's exact result is representable, so IEEE rounding leaves it unchanged.
With int8 activations (``|x| <= 128``) and the bias ``b`` as one more column of
``x`` holding 1, every partial sum of output channel ``c`` is bounded by
``|b[c]| + 128 * sum_i |w[c, i]|``. The columns are split into chunks whose bound is
at most ``2^24`` (one chunk for nearly every layer), each chunk's float32 product
summed in float64, exact below ``2^53``; a bias beyond ``2^24`` is a float64 chunk of
its own.

**Rescales** (:class:`Requantizer`), of the accumulator ``a`` (bias included).
TFLite's double rounding with ``(m, s)``, ``s = 31 + e``, ``2^30 <= m < 2^31``, is
``y = RDBPOT(floor((a m + 2^30) / 2^31), e)``, ``RDBPOT`` rounding ``h / 2^e`` half
away from zero, i.e. ``floor((h + 2^(e-1) - [h < 0]) / 2^e)`` for ``e >= 1`` and
``h`` for ``e = 0``. Since ``floor((floor(u) + n) / 2^e) = floor((u + n) / 2^e)`` for
an integer ``n``, and ``floor(u) < 0`` exactly when ``u < 0``, this is
``y = floor(T + 1/2 - 2D [T < 0])`` with ``T = (a m + 2^30) / 2^s`` and
``D = 2^-(e+1)``, that is ``floor(a m 2^-s + copysign(D, a) + 2^(30-s) + 1/2 - D)``
(``e = 0``: ``floor(T)``, ``D = 0``). The sign of ``a`` stands for that of ``T``:
for ``m > 2^30``, ``T < 0`` exactly when the integer ``a <= -1``; where they differ
(``m = 2^30`` and ``a = -1``, so ``T = 0``; or ``a = -0.0``, ``T = 2^(30-s)``) the
correction subtracts ``2D <= 1/2`` from ``T + 1/2 < 1``: the floor is 0 either way.
The paper's half-up rounding is ``y = floor(a m 2^-s + 1/2)`` (``a m`` for ``s = 0``).
Both then add the zero point and clamp:
``clamp(y + zp, lo, hi) = lo + trunc(clamp(v, 0, hi - lo))`` with ``v`` the argument
of the floor plus ``zp - lo``, since ``floor`` commutes with a clamp to integers and
equals ``trunc`` on ``v >= 0``.

In float64 every term, partial result and correction is a multiple of ``2^-s``, exact
while its magnitude in units of ``2^-s`` stays below ``2^53``:
``A m + 2^30 + 2^s (1 + 256) < 2^53`` with ``A`` bounding ``|a|``. :class:`Requantizer`
checks it per channel with ``A`` the :class:`Gemm` bound; where that worst case fails,
it checks every block with ``A = max |a|`` of the block and hands a block that fails
to :func:`sim.golden.rescale`. Scaling by a power of two, ``trunc`` and the clamp
are exact; ``D`` is a power of two, exact in float32.
"""

import numpy as np

from sim import golden

__all__ = ["F32_EXACT", "F64_EXACT", "X_MAX", "Gemm", "Requantizer"]

try:  # the ufunc itself: np.clip's Python wrapper costs more than a small block
    from numpy._core.umath import clip as _clip
except ImportError:  # numpy 1.x
    from numpy.core.umath import clip as _clip

#: Largest magnitude up to which float32 (float64) holds every integer.
F32_EXACT, F64_EXACT = 1 << 24, 1 << 53
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


class Requantizer:
    """The rescale of accumulators ``a`` (bias included) by per-channel ``(m, s)``,
    exact in float64 (module docstring); ``rounding`` is ``"tflite_double"``
    (TFLite's) or ``"half_up"`` (the paper's), ``reach`` bounds ``|a|`` per channel.
    :meth:`__call__` gives what :func:`sim.golden.rescale` gives with these operands
    (``k`` the width ``width``)."""

    def __init__(self, reach, m, s, *, zero_point, lo, hi, rounding, width):
        if rounding not in ("tflite_double", "half_up"):
            raise ValueError(f"rounding {rounding!r} has no float64 path")
        shape = np.shape(reach)
        self.m, self.s = (np.broadcast_to(np.asarray(v, np.int64), shape) for v in (m, s))
        self.golden = {"zero_point": zero_point, "act_min": lo, "act_max": hi, "rounding": rounding, "k": width}
        self.lo, self.span = lo, float(hi - lo)
        tflite = rounding == "tflite_double"
        # TFLite's s < 31 is M = 1 (golden's single rounding) or a flushed scale (m = 0)
        self.float_ok = not (tflite and (np.any(self.s < 31) or np.any(self.m < 1 << 30)))
        e = np.maximum(self.s - 31, 0) if tflite else np.zeros(shape, np.int64)
        self.step = np.where(tflite & (e >= 1), np.ldexp(1.0, -e - 1), 0.0)  # D
        self.scale = np.ldexp(self.m.astype(np.float64), -self.s)  # m 2^-s, exact
        if tflite:
            nudge = np.ldexp(1.0, 30 - self.s) + np.where(e >= 1, 0.5, 0.0) - self.step
        else:
            nudge = np.where(self.s > 0, 0.5, 0.0)
        self.after = nudge + (zero_point - lo)  # exact: multiples of 2^-s, far below 2^53 units
        self.correct = bool(np.any(self.step))
        # per channel: the largest |a| for which every value stays below 2^53 units of 2^-s
        slack = float(F64_EXACT) - (1 << 30) - 257 * np.ldexp(1.0, self.s)
        self.a_max = np.where(self.m > 0, np.floor(slack / np.maximum(self.m, 1)), np.inf)
        self.static = self.float_ok and bool(np.all(np.asarray(reach) < self.a_max))
        self._tiled, self._scratch = {}, {}

    def _buffers(self, shape, dtype):
        """Scratch arrays ``(float64, dtype)`` of ``shape``, kept between calls (no
        allocation, hence no page faults, per block)."""
        key = (shape, np.dtype(dtype))
        if key not in self._scratch:
            self._scratch.clear()
            self._scratch[key] = (np.empty(shape, np.float64), np.empty(shape, dtype))
        return self._scratch[key]

    def _constants(self, width):
        """``(scale, step, after)`` repeated along rows of ``width`` elements (a
        multiple of the channel count: ``width / C`` pixels of ``C`` channels)."""
        if width not in self._tiled:
            reps = width // len(self.scale)
            self._tiled[width] = (np.tile(self.scale, reps), np.tile(self.step, reps).astype(np.float32),
                                  np.tile(self.after, reps))
        return self._tiled[width]

    def __call__(self, a, out):
        """Write the int8 outputs of the accumulators ``a`` (float, exact integers;
        rows of ``r * C`` elements, ``r`` whole pixels) into ``out`` (``a``'s shape)."""
        if not self.static:
            peak = max(float(a.max(initial=0)), -float(a.min(initial=0)))
            if not (self.float_ok and np.all(peak < self.a_max)):
                channels = len(self.scale)
                out.reshape(-1, channels)[...] = golden.rescale(a.reshape(-1, channels).astype(np.int64),
                                                                self.m, self.s, **self.golden)
                return
        scale, step, after = self._constants(a.shape[-1])
        t, c = self._buffers(a.shape, a.dtype)
        np.multiply(a, scale, out=t)
        if self.correct:
            t += np.copysign(step, a, out=c)
        t += after
        u = out.view(np.uint8)
        _clip(t, 0.0, self.span, out=u, casting="unsafe")  # trunc of values >= 0
        u += np.uint8(self.lo & 0xFF)  # lo + value, modulo 256: the int8 result
