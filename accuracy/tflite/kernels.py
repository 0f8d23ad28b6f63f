"""Compiled integer kernels of the fast path: the rescale and the depthwise convolution.

:mod:`accuracy.tflite.fast` leaves the dot products of CONV_2D and FULLY_CONNECTED to
BLAS (:class:`accuracy.tflite.exact.Gemm`, exact integers held in floats) and does the
rest here, compiled by numba, in the integer arithmetic of :func:`sim.golden.rescale`
itself: the 64-bit product ``acc * m`` (``|acc| <= 2^31``, ``m < 2^32``: it fits),
rounded by shifts and masks exactly as golden's rounders do, the zero point added and
the result clamped. Nothing is approximated, so no bound but int64's is needed.

* :func:`requantize`: int8 outputs of a block of accumulators (float32/float64
  holding exact integers, or int32), per output channel ``(m, s)``.
* :func:`depthwise`: a DEPTHWISE_CONV_2D (depth multiplier 1) as a direct loop, the
  products summed in int32 (the caller checks that no partial sum leaves int32), each
  pixel's channels rescaled by :func:`requantize`'s arithmetic as they are finished.

The functions are compiled on their first call for each argument type (a second or
so) and cached on disk beside this module (``__pycache__``, ignored by git), so a
later process loads them instead.
"""

import numba
import numpy as np

__all__ = ["ROUNDINGS", "requantize", "depthwise"]

#: The rounding modes of :func:`sim.golden.rescale` these kernels compute, by the
#: integer code they take.
ROUNDINGS = {"half_up": 0, "tflite_double": 1, "tflite_single": 2}
_HALF_UP, _TFLITE_DOUBLE, _HALF_AWAY = 0, 1, 2
_TFLITE_BITS = 31

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@numba.njit(cache=True, nogil=True, inline="always")
def _half_up(p, s):
    """``floor((p + 2^(s-1)) / 2^s)``, ``p`` for ``s = 0`` (golden's ``_round_half_up``)."""
    if s == 0:
        return p
    return ((p >> (s - 1)) + 1) >> 1


@numba.njit(cache=True, nogil=True, inline="always")
def _rescale(acc, m, s, mode, zero_point, lo, hi):
    """One output: ``acc * m`` rounded at ``s`` by ``mode``, plus the zero point,
    clamped to ``[lo, hi]`` (golden's ``_round`` and ``rescale``, element by element)."""
    p = acc * m
    if mode == _HALF_UP:
        y = _half_up(p, s)
    elif mode == _TFLITE_DOUBLE:
        if s >= _TFLITE_BITS:
            # SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT (ties away from zero)
            high = (p + (1 << (_TFLITE_BITS - 1))) >> _TFLITE_BITS
            e = s - _TFLITE_BITS
            mask = (np.int64(1) << e) - 1
            threshold = (mask >> 1) + (1 if high < 0 else 0)
            y = (high >> e) + (1 if (high & mask) > threshold else 0)
        else:
            y = _half_up(p, s)
    else:  # half away from zero
        q = p >> s
        rem = p - (q << s)
        half = (np.int64(1) << (s - 1)) if s > 0 else np.int64(1)
        y = q + (1 if rem > half or (rem == half and s > 0 and p >= 0) else 0)
    y += zero_point
    return min(max(y, lo), hi)


@_jit
def requantize(acc, m, s, mode, zero_point, lo, hi, out):
    """Write the int8 outputs of the ``(rows, C)`` accumulators ``acc`` into ``out``
    (``(rows, C)``): channel ``c`` by ``(m[c], s[c])`` (int64) with the rounding
    ``mode`` (:data:`ROUNDINGS`), as :func:`sim.golden.rescale` does."""
    rows, channels = acc.shape
    for r in range(rows):
        for c in range(channels):
            out[r, c] = _rescale(np.int64(acc[r, c]), m[c], s[c], mode, zero_point, lo, hi)


@_jit
def depthwise(x, w, bias, fill, geometry, m, s, mode, zero_point, lo, hi, out):
    """DEPTHWISE_CONV_2D of the NHWC int8 ``x`` into the int8 ``out`` (``(N, Ho, Wo,
    C)``): ``w`` the ``(kh, kw, C)`` int32 taps, ``bias`` the int32 accumulator start,
    ``fill`` the value of a tap outside ``x`` (the input zero point), ``geometry`` the
    int64 ``(stride h, stride w, dilation h, dilation w, pad top, pad left)``; every
    partial sum must fit int32. Rescaled as :func:`requantize`."""
    n, h, wd, channels = x.shape
    kh, kw = w.shape[0], w.shape[1]
    sh, sw, dh, dw, ph, pw = geometry[0], geometry[1], geometry[2], geometry[3], geometry[4], geometry[5]
    ho, wo = out.shape[1], out.shape[2]
    padded = np.empty((kh, kw, channels), np.int32)  # what a tap outside x adds
    for i in range(kh):
        for j in range(kw):
            for c in range(channels):
                padded[i, j, c] = fill * w[i, j, c]
    acc = np.empty(channels, np.int32)
    for b in range(n):
        for oy in range(ho):
            for ox in range(wo):
                acc[:] = bias
                for i in range(kh):
                    iy = oy * sh - ph + i * dh
                    for j in range(kw):
                        ix = ox * sw - pw + j * dw
                        if 0 <= iy < h and 0 <= ix < wd:
                            for c in range(channels):
                                acc[c] += np.int32(x[b, iy, ix, c]) * w[i, j, c]
                        else:
                            for c in range(channels):
                                acc[c] += padded[i, j, c]
                for c in range(channels):
                    out[b, oy, ox, c] = _rescale(np.int64(acc[c]), m[c], s[c], mode, zero_point, lo, hi)
