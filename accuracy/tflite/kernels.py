"""Compiled integer kernels of the fast path: the rescale and the depthwise convolution.

:mod:`accuracy.tflite.fast` leaves the dot products of CONV_2D and FULLY_CONNECTED to
BLAS (:class:`accuracy.tflite.exact.Gemm`, exact integers held in floats) and does the
rest here, compiled by numba, in the integer arithmetic of :func:`sim.golden.rescale`
itself: the 64-bit product ``acc * m`` (``|acc| <= 2^31``, ``m < 2^32``: it fits),
rounded by shifts and masks exactly as golden's rounders do, the zero point added and
the result clamped. Nothing is approximated, so no bound but int64's is needed.

* :func:`requantize`: int8 outputs of a block of dot products (float32/float64
  holding exact integers, or int32), per output channel the bias added (in int32:
  the accumulator) and ``(m, s)``.
* :func:`depthwise`: a DEPTHWISE_CONV_2D (depth multiplier 1) as a direct loop along
  output rows, the products summed in int32 (the caller checks that no partial sum
  leaves int32), each row rescaled by :func:`requantize`'s arithmetic as it is finished.

The functions are compiled on their first call for each argument type and cached on
disk beside this module (``__pycache__``, ignored by git), so that a later process
loads them instead of compiling them again (``make bench-evaluate`` prints the time).
"""

import numba
import numpy as np

from sim import golden

__all__ = ["operands", "requantize", "depthwise"]

# The rounding modes of sim.golden.rescale that the kernels compute, by the code they take.
# (_HALF_UP_31: half up with every m < 2^31, computed faster.)
_HALF_UP, _TFLITE_DOUBLE, _HALF_AWAY, _HALF_UP_31 = 0, 1, 2, 3
_MODES = {"half_up": _HALF_UP, "tflite_double": _TFLITE_DOUBLE, "tflite_single": _HALF_AWAY}
_TFLITE_BITS = 31

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


def operands(m, s, rounding, channels):
    """``(m, s, mode)`` for the kernels: golden's per-channel ``(m, s)`` (broadcast to
    ``channels``, int64) and ``rounding`` as the kernels take them, with the same
    results for every int32 accumulator. The kernels assume ``s >= 1`` (and ``s >= 31``
    for TFLite's double rounding), so that no loop branches on ``s``; golden's other
    cases are rewritten:

    * ``s = 0`` (``y = a m``, no rounding) as ``(2m, 1)``: ``a 2m / 2`` is that integer
      and no mode changes it.
    * TFLite's ``s < 31``, rounded once half up, ``floor((a m + 2^(s-1)) / 2^s)``, as
      ``(m 2^(31-s), 31)``: the double rounding's first step is then
      ``floor((a m 2^(31-s) + 2^30) / 2^31)``, that same value, and its second step
      (a shift by ``s - 31 = 0``) keeps it.

    Raises ValueError where the rewritten operands leave the kernels' ranges: TFLite's
    ``m < 2^31`` (as its int32 multiplier; ``M = 1`` exactly, ``(2^30, 30)``, would
    need ``2^31``) and ``s <= 62``, the others' ``2m < 2^32`` (``|a m| < 2^63``); the
    caller then keeps golden's rescale."""
    m, s = (np.ascontiguousarray(np.broadcast_to(np.asarray(v, np.int64), (channels,))) for v in (m, s))
    mode = _MODES[rounding]
    if mode == _TFLITE_DOUBLE:
        low = s < _TFLITE_BITS
        if np.any(m[low] >= np.left_shift(1, s[low])):
            raise ValueError("a multiplier of 2^s or more with s < 31 (M = 1) has no double-rounding form "
                             "with m < 2^31")
        m, s = np.where(low, m << np.maximum(_TFLITE_BITS - s, 0), m), np.maximum(s, _TFLITE_BITS)
        if np.any(m >= 1 << _TFLITE_BITS) or np.any(s > golden.TFLITE_S_MAX):
            raise ValueError("TFLite's double rounding takes m < 2^31 and s <= 62")
    else:
        zero = s == 0
        if np.any(m[zero] >= 1 << 31):
            raise ValueError("a multiplier of 2^31 or more with s = 0 has no s = 1 form")
        m, s = np.where(zero, 2 * m, m), np.maximum(s, 1)
        if mode == _HALF_UP and np.all(m < 1 << 31) and np.all(s <= 62):
            mode = _HALF_UP_31
    return m, s, mode


@numba.njit(cache=True, nogil=True, inline="always")
def _half_up(p, s):
    """``floor((p + 2^(s-1)) / 2^s)``, ``s >= 1`` (golden's ``_round_half_up``)."""
    return ((p >> (s - 1)) + 1) >> 1


@numba.njit(cache=True, nogil=True, inline="always")
def _half_up_31(a, m, s):
    """:func:`_half_up` of ``a m`` for an int32 ``a``, ``0 <= m < 2^31`` and
    ``1 <= s <= 62``, with a product of two int32 and shifts of a non-negative value
    (cheaper machine code than the int64 form): ``|a m| < 2^62``, so ``u = a m + 2^62`` lies in
    ``[0, 2^63)``; ``floor(u / 2^(s-1)) = floor(a m / 2^(s-1)) + 2^(63-s)``, an even
    offset, so the final halving leaves ``2^(62-s)`` to take off."""
    u = np.int64(np.int32(a)) * np.int64(np.int32(m)) + (np.int64(1) << 62)
    return (((u >> (s - 1)) + 1) >> 1) - (np.int64(1) << (62 - s))


@numba.njit(cache=True, nogil=True, inline="always")
def _tflite_double(a, m, s):
    """``SaturatingRoundingDoublingHighMul(a, m)`` then ``RoundingDivideByPOT`` by
    ``e = s - 31`` (ties away from zero), for an int32 ``a``, ``0 <= m < 2^31`` and
    ``31 <= s <= 62`` (golden's ``_round_tflite_double``). As in TFLite, the product is
    64-bit and the rest 32-bit: ``|a m| <= 2^31 (2^31 - 1)``, so the high half
    ``floor((a m + 2^30) / 2^31)`` lies in ``(-2^31, 2^31)`` and is held in int32
    (cheaper machine code than the int64 form)."""
    high = np.int32((np.int64(np.int32(a)) * np.int64(np.int32(m)) + (1 << 30)) >> 31)
    e = np.int32(s - _TFLITE_BITS)
    mask = ~(np.int32(-1) << e)  # 2^e - 1, without overflow for e = 31
    threshold = (mask >> np.int32(1)) - (high >> np.int32(31))  # + 1 where high < 0
    return (high >> e) + np.int32((high & mask) > threshold)


@numba.njit(cache=True, nogil=True, inline="always")
def _half_away(p, s):
    """``p / 2^s`` rounded half away from zero, ``s >= 1`` (golden's ``_round_half_away``)."""
    q = p >> s
    rem = p - (q << s)
    half = np.int64(1) << (s - 1)
    return q + np.int64(rem > half) + (np.int64(rem == half) & np.int64(p >= 0))


@numba.njit(cache=True, nogil=True, inline="always")
def _rescale_row(acc, bias, m, s, mode, zero_point, lo, hi, out):
    """``out[c]`` = ``a = acc[c] + bias[c]`` (an int32: ``acc`` holds exact integers)
    times ``m[c]``, rounded at ``s[c]`` by ``mode``, plus the zero point, clamped to
    ``[lo, hi]`` (golden's ``rescale``, element by element; operands from
    :func:`operands`). One loop per mode, so that none branches on the mode per
    element; comparisons enter as 0/1 integers, so that none branches on the data."""
    if mode == _TFLITE_DOUBLE:
        for c in range(len(out)):
            y = _tflite_double(np.int32(acc[c]) + bias[c], m[c], s[c])
            out[c] = min(max(y + np.int32(zero_point), np.int32(lo)), np.int32(hi))
    elif mode == _HALF_UP_31:
        for c in range(len(out)):
            out[c] = min(max(_half_up_31(np.int32(acc[c]) + bias[c], m[c], s[c]) + zero_point, lo), hi)
    elif mode == _HALF_AWAY:
        for c in range(len(out)):
            out[c] = min(max(_half_away((np.int64(acc[c]) + bias[c]) * m[c], s[c]) + zero_point, lo), hi)
    else:
        for c in range(len(out)):
            out[c] = min(max(_half_up((np.int64(acc[c]) + bias[c]) * m[c], s[c]) + zero_point, lo), hi)


@_jit
def requantize(acc, bias, m, s, mode, zero_point, lo, hi, out):
    """Write the int8 outputs of the C-contiguous ``(rows, C)`` dot products ``acc``
    (exact integers, float or int) into ``out`` (the same shape): channel ``c``'s
    accumulator ``acc + bias[c]`` (it must fit int32) rescaled by ``(m[c], s[c])`` with
    the rounding ``mode`` (:func:`operands`), as :func:`sim.golden.rescale` does.
    ``bias``, ``m`` and ``s`` may repeat the channels' operands along a row of several
    pixels (a length that is a multiple of ``C``): the loop then runs along such rows,
    long even when ``C`` is small."""
    flat, into = acc.reshape(-1), out.reshape(-1)
    row = len(m)
    for start in range(0, len(flat), row):
        stop = min(start + row, len(flat))
        _rescale_row(flat[start:stop], bias, m, s, mode, zero_point, lo, hi, into[start:stop])


@numba.njit(cache=True, nogil=True, inline="always")
def _tap(planes, b, y, j, geometry, length):
    """The ``length`` inputs that tap ``j`` of padded row ``y`` of sample ``b`` reads
    along an output row (:func:`depthwise`'s ``planes`` and ``geometry``)."""
    sw, channels, dw = planes.shape[0], planes.shape[4], geometry[2]
    start = (j * dw) // sw * channels
    return planes[(j * dw) % sw, b, y].reshape(-1)[start:start + length]


@_jit
def depthwise(planes, w, bias, geometry, m, s, mode, zero_point, lo, hi, out):
    """DEPTHWISE_CONV_2D (depth multiplier 1) into the int8 ``out`` (``(N, Ho, Wo, C)``),
    row by row: a tap of an output row reads ``Wo`` pixels at a stride of ``sw``, which
    in ``planes`` lie side by side. ``planes`` is the padded NHWC int8 input split by
    column phase: ``planes[p, n, y, q]`` is padded pixel ``(y, q sw + p)``
    (``(sw, N, Hp, ceil(Wp / sw), C)``). ``w`` ``(kh, kw, Wo C)`` (int16), ``bias`` (int32;
    every partial sum, with and without it, must fit int32), ``m`` and ``s`` (:func:`operands`) are
    per channel, repeated along a row of ``Wo`` pixels; ``geometry`` is the int64
    ``(stride h, dilation h, dilation w)``. Rescaled as :func:`requantize`."""
    kh, kw, length = w.shape
    sh, dh = geometry[0], geometry[1]
    acc = np.empty(length, np.int32)
    for b in range(planes.shape[1]):
        for oy in range(out.shape[1]):
            acc[:] = 0
            for i in range(kh):
                y = oy * sh + i * dh
                j = 0
                while j < kw:  # three taps per pass over the row where they are (3x3 kernels: one pass)
                    if j + 3 <= kw:
                        r0, r1 = _tap(planes, b, y, j, geometry, length), _tap(planes, b, y, j + 1, geometry, length)
                        r2 = _tap(planes, b, y, j + 2, geometry, length)
                        w0, w1, w2 = w[i, j], w[i, j + 1], w[i, j + 2]
                        for t in range(length):  # |x w| <= 2^14: int16 products
                            acc[t] += (np.int32(np.int16(r0[t]) * w0[t]) + np.int32(np.int16(r1[t]) * w1[t])
                                       + np.int32(np.int16(r2[t]) * w2[t]))
                        j += 3
                    else:
                        r0, w0 = _tap(planes, b, y, j, geometry, length), w[i, j]
                        for t in range(length):
                            acc[t] += np.int32(np.int16(r0[t]) * w0[t])
                        j += 1
            _rescale_row(acc, bias, m, s, mode, zero_point, lo, hi, out[b, oy].reshape(-1))
