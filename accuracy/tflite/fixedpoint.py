"""gemmlowp's fixed-point arithmetic (``fixedpoint/fixedpoint.h``), vectorized.

LiteRT's reference SOFTMAX (int8/uint8) and HARD_SWISH kernels compute in these
formats, so the interpreter repeats them operation for operation. Values are int64
numpy arrays holding ``bits``-bit two's-complement raw values (32 or 16); a
``FixedPoint<int32, I>`` is its raw value with ``31 - I`` fraction bits.
"""

import numpy as np

__all__ = ["srdhm", "rdbpot", "saturating_shift", "exp_on_negative_values", "one_over_one_plus_x", "reciprocal"]


def _trunc_div_pow2(v, n):
    """C's truncating ``v / 2^n``."""
    return np.where(v >= 0, v >> n, -((-v) >> n))


def srdhm(a, b, bits=32):
    """``SaturatingRoundingDoublingHighMul``: ``(a*b + nudge) / 2^(bits-1)``, truncating,
    nudge ``2^(bits-2)`` or ``1 - 2^(bits-2)`` by the product's sign; ``min*min`` saturates."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << (bits - 2), 1 - (1 << (bits - 2)))
    out = _trunc_div_pow2(ab + nudge, bits - 1)
    lowest = -(1 << (bits - 1))
    return np.where((a == lowest) & (b == lowest), (1 << (bits - 1)) - 1, out)


def rdbpot(x, exponent):
    """``RoundingDivideByPOT``: ``x / 2^exponent`` rounded to nearest, ties away from zero."""
    x = np.asarray(x, np.int64)
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + ((x & mask) > threshold)


def saturating_shift(x, exponent, bits=32):
    """``SaturatingRoundingMultiplyByPOT`` with a positive exponent: ``x << exponent``, saturated."""
    threshold = (1 << (bits - 1 - exponent)) - 1
    x = np.asarray(x, np.int64)
    return np.where(x > threshold, (1 << (bits - 1)) - 1,
                    np.where(x < -threshold, -(1 << (bits - 1)), x << exponent))


def _rescale(x, src_bits, dst_bits):
    """``Rescale<dst>`` of a ``FixedPoint<int32, src>``."""
    e = src_bits - dst_bits
    return saturating_shift(x, e) if e > 0 else (rdbpot(x, -e) if e < 0 else x)


_ONE = (1 << 31) - 1  # FixedPoint<int32, 0>::One()


def _exp_quarter(a):
    """``exp_on_interval_between_negative_one_quarter_and_0_excl`` (Q0.31 in and out)."""
    constant_term, one_third = 1895147668, 715827883
    x = a + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    poly = rdbpot(srdhm(x4_over_4 + x3, one_third) + x2, 1)
    return constant_term + srdhm(constant_term, x + poly)


#: ``GEMMLOWP_EXP_BARREL_SHIFTER``: exp(-2^e) in Q0.31 for e = -2..4.
_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
           (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits):
    """``exp_on_negative_values`` of a ``FixedPoint<int32, integer_bits>`` (``a <= 0``); Q0.31."""
    a = np.asarray(a, np.int64)
    frac = 31 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = (a & (quarter - 1)) - quarter
    result = _exp_quarter(_rescale(a_mod, integer_bits, 0))
    remainder = a_mod - a
    for e, multiplier in _BARREL:
        if integer_bits > e:
            result = np.where(remainder & (1 << (frac + e)), srdhm(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, _ONE, result)


def one_over_one_plus_x(a):
    """``one_over_one_plus_x_for_x_in_0_1`` (Q0.31 in and out), Newton-Raphson as gemmlowp."""
    a = np.asarray(a, np.int64)
    s = a + _ONE
    half_denominator = _trunc_div_pow2(s + np.where(s >= 0, 1, -1), 1)  # RoundingHalfSum
    x = 1515870810 + srdhm(half_denominator, -1010580540)  # 48/17 - 32/17 d, Q2.29
    one_q2 = 1 << 29
    for _ in range(3):
        x = x + saturating_shift(srdhm(x, one_q2 - srdhm(half_denominator, x)), 2)
    return saturating_shift(x, 1)  # Rescale<0>(ExactMulByPot<-1>(x))


def reciprocal(x, integer_bits):
    """TFLite's ``GetReciprocal``: ``(1/x in Q0.31 scaled, num_bits_over_unit)`` for
    positive ``FixedPoint<int32, integer_bits>`` values ``x``."""
    x = np.asarray(x, np.int64)
    headroom_plus_one = 32 - np.frexp(x.astype(np.float64))[1]  # count of leading zeros of a uint32
    shifted_minus_one = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return one_over_one_plus_x(shifted_minus_one), integer_bits - headroom_plus_one
