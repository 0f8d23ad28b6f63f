"""Unit and property tests of the golden model ``sim/golden.py`` (Eq. (1), docs/semantics.md).

Every expected value here comes either from a hand computation or from an
independent plain-Python reference (``ref_*``) written from the definitions:
exact rationals (:class:`fractions.Fraction`) for the roundings, the float32 bit
pattern read through :mod:`struct` or ``Fraction`` for the quantizers, and a
line-by-line transcription of TFLite's C++ for its quantizer and its double
rounding. None of them calls the golden model's internals.
"""

import math
import struct
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from sim import golden
from sim.golden import dot_product, accumulate, legal_operands, quantize_multiplier, rescale, s_max

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
MODES = ("half_up", "tflite_double", "tflite_single", "half_away", "half_even", "floor")
EXACT_MODES = ("half_up", "half_away", "half_even", "floor")  # single roundings of acc*m/2^s
HALF = Fraction(1, 2)

# --------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------


def ref_smax(k):
    return 32 + k - 8


def ref_underflow(m, s, k):
    """Shifts beyond s_max drop low bits of m instead (gradual underflow)."""
    if s > ref_smax(k):
        m >>= s - ref_smax(k)
        s = ref_smax(k)
    return m, s


def f32_bits(M):
    return struct.unpack(">I", struct.pack(">f", M))[0]


def ref_quantize_truncate(M, k, nearest=False):
    """The paper's derivation from the exact value of float32(M), with Fractions."""
    x = Fraction(float(np.float32(M)))
    if x == 0:
        return 0, 0
    e = math.frexp(float(x))[1] - 1  # x = 1.f * 2^e exactly (subnormals too)
    s = (k - 1) - e
    scaled = x * 2**s  # in [2^(k-1), 2^k)
    assert 2 ** (k - 1) <= scaled < 2**k
    m = math.floor(scaled + HALF) if nearest else math.floor(scaled)
    if m == 2**k:  # carry of round-to-nearest: renormalize
        m, s = 2 ** (k - 1), s - 1
    return ref_underflow(m, s, k)


def ref_tflite_quantize_multiplier(d):
    """TFLite's QuantizeMultiplier (tensorflow/lite/kernels/internal/quantization_util.cc)."""
    if d == 0.0:
        return 0, 0
    q, shift = math.frexp(d)
    x = q * (1 << 31)  # exact: a power-of-two scaling of a double
    fl = math.floor(x)
    q_fixed = fl + 1 if x - fl >= 0.5 else fl  # TfLiteRound = std::round: half away from 0
    assert q_fixed <= (1 << 31)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    assert q_fixed <= INT32_MAX
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def ref_tflite_ms(d, k):
    """TFLite's (multiplier, shift) in the golden model's convention: s = 31 - shift.

    TFLite's whole shift range is kept (s up to 62): its kernels use it, so there is no
    gradual underflow to a rescaler's s_max here (``k`` only selects 31 or 32 bits)."""
    assert k in (31, 32)
    q, shift = ref_tflite_quantize_multiplier(d)
    if q == 0:
        return 0, 0
    return q, 31 - shift


def ref_round(p, s, mode):
    """Round the exact rational p / 2^s to an integer in ``mode``."""
    x = Fraction(p, 2**s)
    fl = math.floor(x)
    if mode == "floor":
        return fl
    if mode == "half_up":
        return math.floor(x + HALF)
    if mode == "half_away":
        return math.floor(x + HALF) if x >= 0 else -math.floor(-x + HALF)
    if mode == "half_even":
        if x - fl == HALF:
            return fl if fl % 2 == 0 else fl + 1
        return math.floor(x + HALF)
    raise AssertionError(mode)


def c_div(a, b):
    """C integer division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def ref_srdhm(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul (int32 a, b)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return c_div(ab + nudge, 1 << 31)


def ref_rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def ref_multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLite MultiplyByQuantizedMultiplier (the non-single-rounding build)."""
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return ref_rounding_divide_by_pot(ref_srdhm(x * (1 << left), multiplier), right)


def ref_tflite_double(acc, m, s):
    return ref_multiply_by_quantized_multiplier(acc, m, 31 - s)


def ref_rescale(acc, m, s, mode="half_up", zero_point=0, act_min=-128, act_max=127):
    if mode == "tflite_double":
        y = ref_tflite_double(acc, m, s)
    else:  # tflite_single: TFLite's single rounding is half_away (on TFLite's shift range)
        y = ref_round(acc * m, s, "half_away" if mode == "tflite_single" else mode)
    return min(max(y + zero_point, act_min), act_max)


def wrap32(v):
    return ((v + (1 << 31)) % (1 << 32)) - (1 << 31)


def ref_layer(x, w, bias):
    """Plain triple loop: int32 accumulators with two's complement wrap-around."""
    x, w, bias = np.asarray(x).tolist(), np.asarray(w).tolist(), np.asarray(bias).tolist()
    return [[wrap32(bias[c] + sum(xi * wi for xi, wi in zip(row, w[c]))) for c in range(len(w))]
            for row in x]


# Sanity of the references themselves on hand values.
def test_references_sanity():
    assert ref_round(5, 1, "half_up") == 3 and ref_round(-5, 1, "half_up") == -2
    assert ref_round(-5, 1, "half_away") == -3 and ref_round(5, 1, "half_even") == 2
    assert ref_round(7, 1, "half_even") == 4 and ref_round(-5, 1, "floor") == -3
    assert ref_srdhm(1 << 30, 1 << 30) == 1 << 29  # 0.5 * 0.5 in Q31
    assert ref_rounding_divide_by_pot(-5, 1) == -3 and ref_rounding_divide_by_pot(5, 1) == 3
    assert ref_tflite_quantize_multiplier(1.0) == (1 << 30, 1)
    assert ref_tflite_quantize_multiplier(0.75) == (3 << 29, 0)
    assert ref_quantize_truncate(0.3, 8) == (153, 9)
    assert wrap32(1 << 31) == INT32_MIN and wrap32(-(1 << 31) - 1) == INT32_MAX


# --------------------------------------------------------------------------------------
# quantize_multiplier: hand cases
# --------------------------------------------------------------------------------------

ALL_K = range(2, 33)


@pytest.mark.parametrize("k", ALL_K)
def test_quantize_one(k):
    assert quantize_multiplier(1.0, k) == (2 ** (k - 1), k - 1)
    assert quantize_multiplier(1, k) == (2 ** (k - 1), k - 1)


@pytest.mark.parametrize("k", ALL_K)
def test_quantize_half_and_quarter(k):
    assert quantize_multiplier(0.5, k) == (2 ** (k - 1), k)
    assert quantize_multiplier(0.25, k) == (2 ** (k - 1), k + 1)


@pytest.mark.parametrize("k", range(2, 25))
def test_quantize_just_below_one(k):
    M = np.nextafter(np.float32(1), np.float32(0))  # 1 - 2^-24
    assert quantize_multiplier(M, k) == (2**k - 1, k)


@pytest.mark.parametrize("k", range(25, 33))
def test_quantize_wide_k_low_bits_zero(k):
    """k > 24: the float32 significand runs out; the low k-24 bits of m are zeros."""
    M = np.nextafter(np.float32(1), np.float32(0))
    m, s = quantize_multiplier(M, k)
    assert (m, s) == ((2**24 - 1) << (k - 24), k)
    assert m & ((1 << (k - 24)) - 1) == 0
    m, s = quantize_multiplier(0.3, k)
    assert m == 0x99999A << (k - 24) and s == k + 1  # float32(0.3) = 0x3E99999A


def test_quantize_hand_values():
    # float32(0.3) = 1.0011001100110011001101 * 2^-2 (bits 0x3E99999A)
    assert quantize_multiplier(0.3, 8) == (0b10011001, 9)
    assert quantize_multiplier(0.3, 8, method="nearest") == (0b10011010, 9)
    assert quantize_multiplier(0.75, 2) == (3, 2)
    assert quantize_multiplier(0.7, 2) == (2, 2)  # 0.7 = 1.0110...b * 2^-1: m = 0b10, s = 1 + 1
    assert quantize_multiplier(0.7, 2) == ref_quantize_truncate(0.7, 2)
    # Truncation never rounds up: M_q <= M.
    m, s = quantize_multiplier(0.3, 4)
    assert m / 2**s <= float(np.float32(0.3))


def test_quantize_gradual_underflow():
    k, smax = 8, 32
    assert s_max(k) == smax
    assert quantize_multiplier(2.0**-25, k) == (128, smax)  # s = 7 + 25 = 32: fits exactly
    assert quantize_multiplier(2.0**-26, k) == (64, smax)  # s = 33: one bit dropped
    assert quantize_multiplier(1.5 * 2.0**-26, k) == (96, smax)  # m = 192 >> 1
    assert quantize_multiplier(2.0**-30, k) == (4, smax)  # 128 >> 5
    assert quantize_multiplier(2.0**-32, k) == (1, smax)  # 128 >> 7
    assert quantize_multiplier(2.0**-33, k) == (0, smax)  # m became 0
    assert quantize_multiplier(2.0**-100, k) == (0, smax)
    assert quantize_multiplier(2.0**-126, k) == (0, smax)  # smallest float32 normal
    assert quantize_multiplier(2.0**-30, 32) == (1 << 26, 56)  # 2^31 >> (61 - 56)
    # The gradual underflow is exactly M_q = floor(M * 2^s_max) / 2^s_max.
    for M in (3e-9, 7.7e-10, 1.234e-8):
        m, s = quantize_multiplier(M, 8)
        assert s == smax and m == math.floor(Fraction(float(np.float32(M))) * 2**smax)


@pytest.mark.parametrize("k", [2, 8, 24, 32])
def test_quantize_zero(k):
    assert quantize_multiplier(0.0, k) == (0, 0)
    assert quantize_multiplier(0, k) == (0, 0)
    assert quantize_multiplier(-0.0, k) == (0, 0)  # -0.0 == 0 is a valid M = 0
    assert quantize_multiplier(1e-50, k) == (0, 0)  # rounds to float32 zero
    for method in ("nearest",) + (("tflite",) if k >= 31 else ()):
        assert quantize_multiplier(0.0, k, method=method) == (0, 0)
        assert quantize_multiplier(-0.0, k, method=method) == (0, 0)


@pytest.mark.parametrize("k", [2, 8, 32])
def test_quantize_float32_subnormals(k):
    """Float32 subnormals (< 2^-126) lie far below 2^-s_max: m underflows to 0, s = s_max."""
    tiny = np.finfo(np.float32).smallest_subnormal
    largest_sub = np.nextafter(np.finfo(np.float32).tiny, np.float32(0))
    for M in (tiny, largest_sub, np.float32(1e-40)):
        assert quantize_multiplier(M, k) == (0, s_max(k))
        assert quantize_multiplier(M, k, method="nearest") == (0, s_max(k))
        assert quantize_multiplier(M, k) == ref_quantize_truncate(M, k)
    m, s = quantize_multiplier(np.array([tiny, 0.5, 0.0], dtype=np.float32), k)
    assert m.tolist() == [0, 2 ** (k - 1), 0] and s.tolist() == [s_max(k), k, 0]


def test_quantize_arrays_shape_and_dtype():
    M = np.array([[1.0, 0.5, 0.3], [0.25, 0.0, 2.0**-40]])
    m, s = quantize_multiplier(M, 8)
    assert isinstance(m, np.ndarray) and isinstance(s, np.ndarray)
    assert m.dtype == np.int64 and s.dtype == np.int64
    assert m.shape == M.shape and s.shape == M.shape
    for idx in np.ndindex(M.shape):
        assert (m[idx], s[idx]) == quantize_multiplier(float(M[idx]), 8)
    # lists, 1-element arrays and empty arrays
    m, s = quantize_multiplier([0.5], 4)
    assert m.shape == (1,) and m.tolist() == [8] and s.tolist() == [4]
    m, s = quantize_multiplier(np.zeros((0, 3)), 4)
    assert m.shape == (0, 3) and m.dtype == np.int64
    # scalars give Python ints
    m, s = quantize_multiplier(np.float32(0.5), 4)
    assert type(m) is int and type(s) is int


@pytest.mark.parametrize("k", ALL_K)
def test_quantize_nearest_carry(k):
    """Round-to-nearest carries to 2^k for M just below 1 and renormalizes to (2^(k-1), s-1)."""
    M = np.nextafter(np.float32(1), np.float32(0))
    if k < 24:
        assert quantize_multiplier(M, k, method="nearest") == (2 ** (k - 1), k - 1)
    else:  # 24 bits or more hold the float32 exactly: nothing to round
        assert quantize_multiplier(M, k, method="nearest") == quantize_multiplier(M, k)
    assert quantize_multiplier(1.0, k, method="nearest") == (2 ** (k - 1), k - 1)
    # 0.75 on k = 2 is exact; 0.875 = 1.11b * 2^-1 rounds up to 2^2 on k=2 and renormalizes
    if k == 2:
        assert quantize_multiplier(0.875, 2, method="nearest") == (2, 1)
        assert quantize_multiplier(0.875, 2) == (3, 2)


@settings(max_examples=400, deadline=None)
@given(M=st.floats(0, 1, width=32), k=st.integers(2, 32))
@example(M=float(np.nextafter(np.float32(1), np.float32(0))), k=8)
@example(M=2.0**-126, k=32)
@example(M=1.4e-45, k=2)
def test_quantize_matches_reference(M, k):
    assert quantize_multiplier(M, k) == ref_quantize_truncate(M, k)
    assert quantize_multiplier(M, k, method="nearest") == ref_quantize_truncate(M, k, nearest=True)


@pytest.mark.parametrize("k", [2, 5, 8, 16, 24, 25, 32])
def test_quantize_array_matches_reference(k):
    rng = np.random.default_rng(1234 + k)
    M = np.concatenate([rng.random(300), np.exp2(-rng.uniform(0, 140, 300)), [0.0, 1.0]])
    M32 = M.astype(np.float32)
    for method in ("truncate", "nearest"):
        m, s = quantize_multiplier(M32, k, method=method)
        ref = [ref_quantize_truncate(v, k, nearest=method == "nearest") for v in M32.tolist()]
        assert list(zip(m.tolist(), s.tolist())) == ref
        # invariants: normalized m unless underflowed, s in range
        assert np.all((s >= 0) & (s <= s_max(k))) and np.all((m >= 0) & (m < 2**k))


# --------------------------------------------------------------------------------------
# quantize_multiplier(method="tflite")
# --------------------------------------------------------------------------------------


def test_tflite_quantizer_hand_values():
    assert quantize_multiplier(1.0, 31, method="tflite") == (1 << 30, 30)
    assert quantize_multiplier(0.5, 31, method="tflite") == (1 << 30, 31)
    assert quantize_multiplier(0.75, 32, method="tflite") == (3 << 29, 31)
    assert quantize_multiplier(0.3, 31, method="tflite") == (1288490189, 32)  # round(0.6 * 2^31)
    # Exactly half way on Q31: TFLite's std::round goes away from zero (not to even).
    M = (2**30 + 0.5) / 2**31  # q * 2^31 = 2^30 + 0.5 exactly
    assert quantize_multiplier(M, 31, method="tflite") == (2**30 + 1, 31)
    M = (2**30 + 2.5) / 2**32
    assert quantize_multiplier(M, 31, method="tflite") == (2**30 + 3, 32)
    # Q31 carry: q rounds to 2^31 -> halved, shift + 1
    M = 1 - 2.0**-40
    assert quantize_multiplier(M, 32, method="tflite") == (1 << 30, 30)


@settings(max_examples=500, deadline=None)
@given(M=st.one_of(st.floats(0, 1),
                   st.builds(lambda a, e: a * 2.0**-e, st.floats(0.5, 1), st.integers(0, 40)),
                   st.builds(lambda j, e: (2**30 + j + 0.5) / 2**(31 + e),
                             st.integers(0, 2**30 - 1), st.integers(0, 30))),
       k=st.sampled_from([31, 32]))
@example(M=1.0, k=31)
@example(M=2.0**-32, k=31)
@example(M=2.0**-31, k=32)
def test_tflite_quantizer_matches_transcription(M, k):
    assert quantize_multiplier(M, k, method="tflite") == ref_tflite_ms(M, k)


def test_tflite_quantizer_many_random_doubles():
    rng = np.random.default_rng(99)
    M = np.concatenate([rng.random(2000), np.exp2(-rng.uniform(0, 40, 2000)),
                        (2.0**30 + rng.integers(0, 2**30, 500) + 0.5) / 2.0**31])
    for k in (31, 32):
        m, s = quantize_multiplier(M, k, method="tflite")
        assert list(zip(m.tolist(), s.tolist())) == [ref_tflite_ms(v, k) for v in M.tolist()]


@pytest.mark.parametrize("k", [2, 8, 24, 30])
def test_tflite_quantizer_needs_k_31(k):
    with pytest.raises(ValueError, match=rf"method='tflite'.*k must be 31 or 32, not {k}"):
        quantize_multiplier(0.5, k, method="tflite")


# --------------------------------------------------------------------------------------
# quantize_multiplier: errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, shown", [
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
    (-0.5, "-0.5"), (-1e-30, "-1e-30"), (1.5, "1.5"), (1.0000001, "1.0000001"), (2, "2.0"),
])
@pytest.mark.parametrize("method", ["truncate", "nearest", "tflite"])
def test_quantize_bad_M(bad, shown, method):
    with pytest.raises(ValueError, match=rf"^M = {shown} is not a valid rescale factor"):
        quantize_multiplier(bad, 32, method=method)


def test_quantize_bad_M_array_names_channel():
    with pytest.raises(ValueError, match=r"^M\[2\] = nan \(channel 2\) is not a valid"):
        quantize_multiplier([0.5, 0.25, float("nan"), 3.0], 8)
    with pytest.raises(ValueError, match=r"^M\[1, 0\] = -0.25 \(channel 1, 0\)"):
        quantize_multiplier(np.array([[0.5, 0.5], [-0.25, 0.5]]), 8)
    with pytest.raises(ValueError, match=r"^M\[3\] = inf"):
        quantize_multiplier(np.array([0, 0, 1, np.inf], dtype=np.float32), 8)


@pytest.mark.parametrize("bad", ["x", None, [0.5, "a"]])
def test_quantize_non_float_M(bad):
    with pytest.raises(ValueError, match=r"M must be a float or an array of floats"):
        quantize_multiplier(bad, 8)


@pytest.mark.parametrize("k, shown", [(40, "40"), (1, "1"), (0, "0"), (-8, "-8"), (33, "33"),
                                      (8.0, "8.0"), (True, "True"), ("8", "'8'"), (None, "None")])
def test_bad_k(k, shown):
    msg = rf"^k must be an integer in 2\.\.32, not {shown}$"
    with pytest.raises(ValueError, match=msg):
        quantize_multiplier(0.5, k)
    with pytest.raises(ValueError, match=msg):
        rescale(1, 1, 1, k=k)
    with pytest.raises(ValueError, match=msg):
        s_max(k)


def test_k_accepts_numpy_integers():
    assert quantize_multiplier(0.5, np.int64(8)) == (128, 8)
    assert s_max(np.uint8(8)) == 32 and golden.shift_bits(8) == 6 and golden.shift_bits(32) == 6


def test_bad_method():
    with pytest.raises(ValueError, match=r"method must be one of truncate, nearest, tflite, not 'round'"):
        quantize_multiplier(0.5, 8, method="round")


# --------------------------------------------------------------------------------------
# rescale: hand cases
# --------------------------------------------------------------------------------------


def r(*args, **kw):
    """rescale as a Python int (scalar operands)."""
    y = rescale(*args, **kw)
    assert y.dtype == np.int8 and y.shape == ()
    return int(y)


@pytest.mark.parametrize("k", [2, 8, 32])
@pytest.mark.parametrize("mode", MODES)
def test_rescale_M_one(k, mode):
    m, s = quantize_multiplier(1.0, k)
    for acc in (-128, -127, -1, 0, 1, 5, 100, 127):
        assert r(acc, m, s, k=k, rounding=mode) == acc
    assert r(128, m, s, k=k, rounding=mode) == 127
    assert r(-129, m, s, k=k, rounding=mode) == -128
    assert r(INT32_MAX, m, s, k=k, rounding=mode) == 127
    assert r(INT32_MIN, m, s, k=k, rounding=mode) == -128


def test_rescale_M_half():
    m, s = quantize_multiplier(0.5, 8)  # (128, 8)
    assert r(4, m, s) == 2 and r(-4, m, s) == -2 and r(3, m, s) == 2 and r(-3, m, s) == -1


@pytest.mark.parametrize("acc, expected", [
    # acc * 0.5: ties at exactly .5
    (5, dict(half_up=3, half_away=3, half_even=2, floor=2)),  # 2.5
    (-5, dict(half_up=-2, half_away=-3, half_even=-2, floor=-3)),  # -2.5
    (7, dict(half_up=4, half_away=4, half_even=4, floor=3)),  # 3.5
    (-7, dict(half_up=-3, half_away=-4, half_even=-4, floor=-4)),  # -3.5
    (1, dict(half_up=1, half_away=1, half_even=0, floor=0)),  # 0.5
    (-1, dict(half_up=0, half_away=-1, half_even=0, floor=-1)),  # -0.5
    (6, dict(half_up=3, half_away=3, half_even=3, floor=3)),  # 3 exactly
    (-6, dict(half_up=-3, half_away=-3, half_even=-3, floor=-3)),
])
@pytest.mark.parametrize("k", [2, 8, 31, 32])
def test_rescale_ties(acc, expected, k):
    # M = 0.5 as the paper's pair (2^(k-1), k)
    for mode, y in expected.items():
        assert r(acc, 2 ** (k - 1), k, rounding=mode, k=k) == y, mode
    # TFLite's pair for 0.5 is (2^30, 31): SaturatingRoundingDoublingHighMul alone rounds
    # at bit 31 with ties toward +inf, then RoundingDivideByPOT(., 0) is exact: half up.
    if k >= 31:
        assert r(acc, 1 << 30, 31, rounding="tflite_double", k=k) == expected["half_up"]
        assert ref_tflite_double(acc, 1 << 30, 31) == expected["half_up"]


@pytest.mark.parametrize("acc, y", [(5, 3), (-5, -3), (7, 4), (-7, -4), (1, 1), (-1, -1), (6, 3)])
def test_rescale_tflite_double_second_rounding_ties_away(acc, y):
    """Ties in TFLite's second rounding go away from zero.

    With TFLite's pair for M = 0.25, (2^30, 32), on 2*acc: 2*acc*2^30 / 2^31 = acc
    exactly (the first rounding is exact), then RoundingDivideByPOT(acc, 1) rounds
    acc/2 half away from zero.
    """
    assert r(2 * acc, 1 << 30, 32, rounding="tflite_double", k=31) == y
    assert ref_tflite_double(2 * acc, 1 << 30, 32) == y


@pytest.mark.parametrize("mode", MODES)
def test_rescale_s_zero(mode):
    """s = 0: no rounding term at all, y = acc * m."""
    for acc in (-128, -3, 0, 3, 127):
        assert r(acc, 1, 0, rounding=mode) == acc
    assert r(-3, 3, 0, rounding=mode) == -9
    assert r(2, 63, 0, rounding=mode) == 126
    assert r(2, 64, 0, rounding=mode) == 127
    assert r(-2, 65, 0, rounding=mode) == -128
    assert r(0, 0, 0, rounding=mode) == 0


def test_rescale_s_zero_array():
    y = rescale(np.array([1, -1, 7]), np.array([100, 100, 1]), np.array([0, 0, 0]))
    assert y.tolist() == [100, -100, 7]


@pytest.mark.parametrize("mode", MODES)
def test_rescale_int64_extremes(mode):
    """acc = -2^31 and 2^31 - 1 with m = 2^32 - 1, k = 32: products near +-2^63 stay exact."""
    m, k = 2**32 - 1, 32
    for acc in (INT32_MIN, INT32_MAX, INT32_MIN + 1, -1, 1):
        for s in (0, 1, 30, 31, 32, 48, 55, 56):
            for zp, lo, hi in ((0, -128, 127), (-128, -128, 127), (127, -128, 127), (0, 0, 6)):
                if mode == "tflite_double" and s < 31:
                    continue  # TFLite's left shift path: only defined when acc << (31-s) fits
                got = r(acc, m, s, rounding=mode, k=k, zero_point=zp, act_min=lo, act_max=hi)
                assert got == ref_rescale(acc, m, s, mode, zp, lo, hi), (acc, s, zp)
    # hand values at s = s_max(32) = 56:
    # (2^31-1)(2^32-1)/2^56 = 128 - 2^-24 - 2^-25 + 2^-56: half_up -> 128, floor -> 127
    assert r(INT32_MAX, m, 56, k=k, zero_point=-128) == 0
    assert r(INT32_MAX, m, 56, k=k, zero_point=-128, rounding="floor") == -1
    # -2^31 (2^32-1) / 2^56 = -128 + 2^-25: half_up -> -128, floor -> -128, zero point 127 -> -1
    assert r(INT32_MIN, m, 56, k=k, zero_point=127) == -1
    assert r(INT32_MIN, m, 56, k=k, zero_point=127, rounding="floor") == -1
    assert r(INT32_MIN, m, 56, k=k, zero_point=127, rounding="half_even") == -1


def test_rescale_saturation():
    m, s = quantize_multiplier(1.0, 8)
    assert r(1000, m, s) == 127 and r(-1000, m, s) == -128
    assert r(127, m, s) == 127 and r(-128, m, s) == -128
    m, s = quantize_multiplier(0.5, 8)
    assert r(255, m, s) == 127  # 127.5 -> 128 -> saturates
    assert r(-257, m, s) == -128  # -128.5 -> -128 (half up)
    assert r(-257, m, s, rounding="half_away") == -128  # -129 -> saturates
    assert r(253, m, s) == 127 and r(-256, m, s) == -128


def test_rescale_fused_relu_and_relu6():
    m, s = quantize_multiplier(1.0, 8)
    assert r(-50, m, s, act_min=0) == 0
    assert r(50, m, s, act_min=0) == 50
    assert r(500, m, s, act_min=0) == 127
    # ReLU6 with output scale 6/60: q(6) = 60 (zero point -10: clamp range [-10, 50])
    assert r(100, m, s, act_min=0, act_max=60) == 60
    assert r(-5, m, s, act_min=0, act_max=60) == 0
    assert r(33, m, s, act_min=0, act_max=60) == 33
    assert r(100, m, s, zero_point=-10, act_min=-10, act_max=50) == 50
    assert r(-100, m, s, zero_point=-10, act_min=-10, act_max=50) == -10
    assert r(7, m, s, act_min=7, act_max=7) == 7 and r(-7, m, s, act_min=7, act_max=7) == 7


def test_rescale_zero_point_after_rounding():
    m, s = quantize_multiplier(0.5, 8)
    # 5 * 0.5 = 2.5 -> 3, + 10 = 13 (not round((5 + 2*10) * 0.5) or the like)
    assert r(5, m, s, zero_point=10) == 13
    assert r(-5, m, s, zero_point=10) == 8
    assert r(-5, m, s, zero_point=-10, rounding="half_away") == -13
    # saturation happens after the zero point is added
    assert r(1000, 128, 7, zero_point=-10) == 127
    assert r(137, 128, 7, zero_point=-10) == 127
    assert r(130, 128, 7, zero_point=-10) == 120
    assert r(-200, 128, 7, zero_point=100) == -100


def test_rescale_broadcast_per_channel():
    rng = np.random.default_rng(7)
    acc = rng.integers(-5000, 5000, size=(6, 4))
    M = np.array([0.01, 0.3, 1.0, 0.0])
    m, s = quantize_multiplier(M, 8)
    zp = np.array([0, -5, 10, 3])
    lo = np.array([-128, 0, -20, -128])
    hi = np.array([127, 60, 20, 127])
    for mode in MODES:
        y = rescale(acc, m, s, zero_point=zp, act_min=lo, act_max=hi, rounding=mode)
        assert y.shape == (6, 4) and y.dtype == np.int8
        for i, c in np.ndindex(acc.shape):
            assert y[i, c] == r(int(acc[i, c]), int(m[c]), int(s[c]), zero_point=int(zp[c]),
                                act_min=int(lo[c]), act_max=int(hi[c]), rounding=mode)
    # a scalar (m, s) broadcast over an array of accumulators, and per-row m of shape (6, 1)
    assert rescale(acc, 128, 8).tolist() == [[ref_rescale(int(a), 128, 8) for a in row] for row in acc]
    y = rescale(acc, np.full((6, 1), 128), 8)
    assert y.shape == (6, 4)
    # a scalar accumulator broadcast over per-channel (m, s)
    y = rescale(100, m, s)
    assert y.shape == (4,) and y.tolist() == [ref_rescale(100, int(a), int(b)) for a, b in zip(m, s)]


def test_rescale_scalar_and_list_inputs():
    y = rescale(5, 128, 8)
    assert isinstance(y, np.ndarray) and y.shape == () and y.dtype == np.int8 and y == 3
    y = rescale(np.int32(5), np.uint32(128), np.uint8(8))
    assert y == 3
    assert rescale([5, -5], [128], [8]).tolist() == [3, -2]
    assert rescale(np.array([], dtype=np.int32), 128, 8).shape == (0,)


def test_rescale_unsigned_dtypes():
    acc = np.array([5, 7], dtype=np.uint32)
    m = np.array([2**32 - 1, 2**31], dtype=np.uint64)
    s = np.array([33, 32], dtype=np.uint8)
    assert rescale(acc, m, s, k=32).tolist() == [ref_rescale(5, 2**32 - 1, 33), ref_rescale(7, 2**31, 32)]


# --------------------------------------------------------------------------------------
# rescale: errors
# --------------------------------------------------------------------------------------


def test_rescale_acc_out_of_int32():
    with pytest.raises(ValueError, match=r"^acc = 2147483648 is out of range: .*signed 32-bit"):
        rescale(2**31, 1, 1)
    with pytest.raises(ValueError, match=r"^acc\[1\] = -2147483649 is out of range"):
        rescale([0, -(2**31) - 1, 2**40], 1, 1)
    with pytest.raises(ValueError, match=r"^acc\[0, 1\] = 4294967295 is out of range"):
        rescale(np.array([[0, 2**32 - 1]], dtype=np.uint32), 1, 1)
    with pytest.raises(ValueError, match=r"acc must be integers that fit in 64 bits"):
        rescale(2**70, 1, 1)


def test_rescale_m_out_of_range():
    with pytest.raises(ValueError, match=r"^m = 256 is out of range: m is an unsigned 8-bit multiplier \(0\.\.255\)"):
        rescale(0, 256, 8, k=8)
    with pytest.raises(ValueError, match=r"^m\[2\] = 4294967296 is out of range"):
        rescale(0, [1, 2, 2**32], 8)
    with pytest.raises(ValueError, match=r"^m = -1 is out of range"):
        rescale(0, -1, 8)
    rescale(0, 255, 8, k=8)  # the largest 8-bit m is fine


def test_rescale_s_out_of_range():
    with pytest.raises(ValueError, match=r"^s = 33 is out of range: .*k = 8 \(0\.\.32\)"):
        rescale(0, 1, 33, k=8)
    with pytest.raises(ValueError, match=r"^s = 57 is out of range"):
        rescale(0, 1, 57)
    with pytest.raises(ValueError, match=r"^s\[1\] = -1 is out of range"):
        rescale(0, 1, [3, -1])
    rescale(0, 1, 56) and rescale(0, 1, 32, k=8)  # s_max itself is fine


@pytest.mark.parametrize("name", ["acc", "m", "s", "zero_point", "act_min", "act_max"])
def test_rescale_float_operands(name):
    args = dict(acc=5, m=128, s=8, zero_point=0, act_min=-128, act_max=127)
    args[name] = 2.5
    with pytest.raises(ValueError, match=rf"^{name} = 2\.5.*{name} must be integers"):
        rescale(**args)
    args[name] = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=rf"^{name}\[0\] = 1\.0.*{name} must be integers.*float64"):
        rescale(**args)
    args[name] = True
    with pytest.raises(ValueError, match=rf"^{name} = True.*{name} must be integers"):
        rescale(**args)


def test_rescale_act_min_above_act_max():
    with pytest.raises(ValueError, match=r"^act_min = 10 is greater than act_max = 0"):
        rescale(5, 128, 8, act_min=10, act_max=0)
    with pytest.raises(ValueError, match=r"^act_min\[1\] = 5 is greater than act_max = 4"):
        rescale([5, 5], 128, 8, act_min=[0, 5], act_max=4)


@pytest.mark.parametrize("bad", ["nearest", "HALF_UP", "", None])
def test_rescale_bad_rounding(bad):
    with pytest.raises(ValueError, match=rf"^rounding must be one of half_up, tflite_double, "
                                         rf"tflite_single, half_away, half_even, floor, not {bad!r}$"):
        rescale(5, 128, 8, rounding=bad)


@pytest.mark.parametrize("name", ["zero_point", "act_min", "act_max"])
@pytest.mark.parametrize("value", [128, -129, 1000])
def test_rescale_int8_parameters_out_of_range(name, value):
    with pytest.raises(ValueError, match=rf"^{name} = {value} is out of range: an int8 output parameter"):
        rescale(5, 128, 8, **{name: value})
    with pytest.raises(ValueError, match=rf"^{name}\[2\] = {value} is out of range"):
        rescale(5, 128, 8, **{name: [0, 0, value]})


# --------------------------------------------------------------------------------------
# rescale: properties against exact rationals and TFLite's C++
# --------------------------------------------------------------------------------------


@st.composite
def rescale_case(draw):
    """An (acc, m, s, k) with s often near the product's magnitude, so outputs do not all saturate."""
    k = draw(st.integers(2, 32))
    acc = draw(st.one_of(st.integers(INT32_MIN, INT32_MAX), st.integers(-300, 300),
                         st.builds(lambda a, t: max(INT32_MIN, min(INT32_MAX, a << t)),
                                   st.integers(-(2**12), 2**12), st.integers(0, 20)),
                         st.sampled_from([INT32_MIN, INT32_MAX, -1, 0, 1])))
    m = draw(st.one_of(st.integers(0, 2**k - 1), st.integers(2 ** (k - 1), 2**k - 1),
                       st.builds(lambda t: 1 << t, st.integers(0, k - 1)),
                       st.sampled_from([0, 2**k - 1])))
    mag = abs(acc * m).bit_length()
    s = draw(st.one_of(st.integers(0, s_max(k)),
                       st.integers(max(0, mag - 10), max(0, mag + 1)).map(lambda v: min(v, s_max(k)))))
    return acc, m, s, k


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=rescale_case(), zp=st.integers(-128, 127),
       clamp=st.one_of(st.just((-128, 127)), st.tuples(st.integers(-128, 127), st.integers(-128, 127))))
@example(case=(5, 1 << 7, 8, 8), zp=0, clamp=(-128, 127))
@example(case=(INT32_MIN, 2**32 - 1, 56, 32), zp=127, clamp=(-128, 127))
def test_rescale_exact_rational_property(case, zp, clamp):
    acc, m, s, k = case
    lo, hi = min(clamp), max(clamp)
    for mode in EXACT_MODES:
        assert r(acc, m, s, rounding=mode, k=k, zero_point=zp, act_min=lo, act_max=hi) == \
            ref_rescale(acc, m, s, mode, zp, lo, hi), mode


@pytest.mark.parametrize("k", ALL_K)
def test_rescale_exact_rational_vectorized(k):
    """Every k in 2..32, every single-rounding mode, a few hundred vectors at once."""
    rng = np.random.default_rng(2024 + k)
    n = 400
    acc = rng.integers(INT32_MIN, INT32_MAX, n, endpoint=True)
    acc[: n // 4] = rng.integers(-300, 300, n // 4)
    acc[n // 4: n // 2] = np.clip(rng.integers(-(2**12), 2**12, n // 4) << rng.integers(0, 20, n // 4),
                                  INT32_MIN, INT32_MAX)
    acc[:4] = [INT32_MIN, INT32_MAX, -1, 0]
    m = rng.integers(0, 2**k, n)
    m[::3] = 1 << rng.integers(0, k, len(m[::3]))  # powers of two make exact ties common
    m[:4] = 2**k - 1
    mag = np.array([abs(int(a) * int(b)).bit_length() for a, b in zip(acc, m)])
    s = np.clip(mag - rng.integers(-1, 10, n), 0, s_max(k))
    s[::5] = rng.integers(0, s_max(k) + 1, len(s[::5]))
    zp = rng.integers(-128, 128, n)
    zp[::2] = 0
    for mode in EXACT_MODES:
        y = rescale(acc, m, s, zero_point=zp, rounding=mode, k=k)
        ref = [ref_rescale(int(a), int(b), int(c), mode, int(z)) for a, b, c, z in zip(acc, m, s, zp)]
        assert y.tolist() == ref, mode
    # every s >= 1 (the common case, a faster path) and a scalar clamp range
    s1 = np.maximum(s, 1)
    y = rescale(acc, m, s1, zero_point=zp, act_min=-100, act_max=90, k=k)
    assert y.tolist() == [ref_rescale(int(a), int(b), int(c), "half_up", int(z), -100, 90)
                          for a, b, c, z in zip(acc, m, s1, zp)]
    # ties really were exercised
    ties = sum(1 for a, b, c in zip(acc, m, s) if c > 0 and (int(a) * int(b)) % (1 << int(c)) == 1 << (int(c) - 1))
    assert ties > 0 or k == 2


@st.composite
def tflite_case(draw):
    """acc and (m, s) from TFLite's quantizer with s >= 31 (M < 1)."""
    k = draw(st.sampled_from([31, 32]))
    M = draw(st.one_of(st.floats(2.0**-24, 1, exclude_max=True),
                       st.builds(lambda a, e: a * 2.0**-e, st.floats(0.5, 1, exclude_max=True),
                                 st.integers(1, 24)),
                       st.sampled_from([0.5, 0.25, 0.75, 2.0**-24])))
    m, s = quantize_multiplier(M, k, method="tflite")
    assume(s >= 31)  # M within 2^-32 of 1 rounds to TFLite's pair for 1, (2^30, 30)
    acc = draw(st.one_of(st.integers(INT32_MIN, INT32_MAX), st.integers(-5000, 5000),
                         st.builds(lambda a, t: max(INT32_MIN, min(INT32_MAX, a << t)),
                                   st.integers(-(2**12), 2**12), st.integers(0, 20))))
    return acc, m, s, k


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=tflite_case(), zp=st.integers(-128, 127))
@example(case=(1, 1 << 30, 32, 31), zp=0)
@example(case=(-5, 1 << 30, 32, 31), zp=0)
@example(case=(INT32_MIN, 2**31 - 1, 31, 32), zp=0)
def test_tflite_double_matches_transcription(case, zp):
    acc, m, s, k = case
    assert s >= 31
    # without saturation: the raw 32-bit result of MultiplyByQuantizedMultiplier
    raw = ref_multiply_by_quantized_multiplier(acc, m, 31 - s)
    assert r(acc, m, s, rounding="tflite_double", k=k, zero_point=zp) == min(max(raw + zp, -128), 127)
    # and through a wide output window, to see raw values themselves
    if -128 <= raw - zp + zp <= 127:
        assert r(acc, m, s, rounding="tflite_double", k=k) == raw


def test_tflite_double_end_to_end_vs_tflite_pairs():
    """The whole TFLite path: its quantizer then MultiplyByQuantizedMultiplier, for real M."""
    rng = np.random.default_rng(5)
    M = np.concatenate([rng.random(500), np.exp2(-rng.uniform(0, 24, 500))])
    acc = rng.integers(-(2**20), 2**20, M.size)
    for k in (31, 32):
        m, s = quantize_multiplier(M, k, method="tflite")
        y = rescale(acc, m, s, rounding="tflite_double", k=k)
        for i in range(M.size):
            q, shift = ref_tflite_quantize_multiplier(float(M[i]))
            raw = ref_multiply_by_quantized_multiplier(int(acc[i]), q, shift)
            assert y[i] == min(max(raw, -128), 127)


def test_tflite_double_small_shift_is_single_rounding():
    """s < 31 (TFLite's pair for M = 1): TFLite shifts acc left first; defined when it fits int32."""
    m, s = quantize_multiplier(1.0, 31, method="tflite")
    assert (m, s) == (1 << 30, 30)
    for acc in (-129, -128, -5, -1, 0, 1, 5, 127, 128, 2**29, -(2**30)):
        raw = ref_multiply_by_quantized_multiplier(acc, m, 31 - s)
        assert raw == acc
        assert r(acc, m, s, rounding="tflite_double", k=31) == min(max(acc, -128), 127)
    # other small shifts with arbitrary m agree with the transcription whenever acc << (31-s) fits
    rng = np.random.default_rng(3)
    for _ in range(300):
        s = int(rng.integers(0, 31))
        m = int(rng.integers(0, 2**31))
        lim = 2 ** (31 - (31 - s)) // 2
        acc = int(rng.integers(-lim, lim)) if lim > 1 else 0
        raw = ref_multiply_by_quantized_multiplier(acc, m, 31 - s)
        assert r(acc, m, s, rounding="tflite_double", k=31) == min(max(raw, -128), 127)


def double_rounding_slack(acc, m, s):
    """Distance of acc*m/2^s from the nearest half-integer (the only places double rounding can differ)."""
    x = Fraction(acc * m, 2**s)
    return abs(x - math.floor(x) - HALF)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=tflite_case())
@example(case=(1, 1 << 30, 32, 31))
@example(case=(5, 1 << 30, 32, 31))
@example(case=(-10, 1 << 30, 32, 31))
def test_half_up_vs_tflite_double(case):
    """TFLite's double rounding equals the paper's single half-up rounding except near ties.

    Documented differences: the first rounding (at bit 31) can push a value that lies
    within 2^(30-s) of a half-integer onto or across it, and the second rounding breaks
    exact ties away from zero where half_up goes to +inf. Either way by at most 1, and
    never when s = 31 (a single rounding, ties toward +inf in both).
    """
    acc, m, s, k = case
    wide = dict(k=k, act_min=-128, act_max=127)
    up = ref_round(acc * m, s, "half_up")
    tfl = ref_tflite_double(acc, m, s)
    assert r(acc, m, s, rounding="half_up", **wide) == min(max(up, -128), 127)
    assert r(acc, m, s, rounding="tflite_double", **wide) == min(max(tfl, -128), 127)
    assert abs(up - tfl) <= 1
    if up != tfl:
        assert s > 31
        assert double_rounding_slack(acc, m, s) <= Fraction(1, 2 ** (s - 30))


def test_half_up_vs_tflite_double_documented_examples():
    # M = 0.25 with TFLite's pair (2^30, 32): acc = 1 -> exact 0.25.
    # half_up: 0. TFLite: SRDHM(1, 2^30) = round(0.5) = 1, then RDBPOT(1, 1) = round(0.5) = 1.
    assert r(1, 1 << 30, 32, rounding="half_up", k=31) == 0
    assert r(1, 1 << 30, 32, rounding="tflite_double", k=31) == 1
    assert ref_tflite_double(1, 1 << 30, 32) == 1
    # acc = 5: exact 1.25 -> half_up 1; TFLite 2.5 -> 3, then 1.5 -> 2.
    assert r(5, 1 << 30, 32, rounding="half_up", k=31) == 1
    assert r(5, 1 << 30, 32, rounding="tflite_double", k=31) == 2
    # exact negative tie: acc = -10 -> -2.5: half_up -2, TFLite (no first rounding) -3.
    assert r(-10, 1 << 30, 32, rounding="half_up", k=31) == -2
    assert r(-10, 1 << 30, 32, rounding="tflite_double", k=31) == -3
    # a random search finds many more such differences, all within one step and near ties
    rng = np.random.default_rng(11)
    M = np.exp2(-rng.uniform(1, 10, 20000))
    m, s = quantize_multiplier(M, 31, method="tflite")
    acc = rng.integers(-3000, 3000, M.size)
    up = rescale(acc, m, s, rounding="half_up", k=31).astype(int)
    tfl = rescale(acc, m, s, rounding="tflite_double", k=31).astype(int)
    diff = np.flatnonzero(up != tfl)
    assert diff.size > 0
    assert np.all(np.abs(up - tfl) <= 1)
    for i in diff[:200]:
        assert double_rounding_slack(int(acc[i]), int(m[i]), int(s[i])) <= Fraction(1, 2 ** (int(s[i]) - 30))


# --------------------------------------------------------------------------------------
# accumulate / dot_product
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_dot_product_vs_triple_loop(seed):
    rng = np.random.default_rng(seed)
    B, C, L = int(rng.integers(1, 5)), int(rng.integers(1, 6)), int(rng.integers(1, 40))
    x = rng.integers(-128, 128, (B, L))
    w = rng.integers(-128, 128, (C, L))
    bias = rng.integers(-(2**20), 2**20, C)
    M = np.exp2(-rng.uniform(6, 14, C))  # keeps outputs mostly unsaturated
    k = int(rng.integers(2, 33))
    zp = rng.integers(-20, 20, C)
    acc_ref = ref_layer(x, w, bias)
    assert accumulate(x, w, bias).tolist() == acc_ref
    assert accumulate(x, w, bias).dtype == np.int64
    for mode in EXACT_MODES:
        y = dot_product(x, w, bias, M, k, zero_point=zp, rounding=mode)
        assert y.shape == (B, C) and y.dtype == np.int8
        for b in range(B):
            for c in range(C):
                mm, ss = ref_quantize_truncate(float(M[c]), k)
                assert y[b, c] == ref_rescale(acc_ref[b][c], mm, ss, mode, int(zp[c])), (b, c, mode)
    # method is passed through to the quantizer
    y = dot_product(x, w, bias, M, k, method="nearest")
    for b in range(B):
        for c in range(C):
            mm, ss = ref_quantize_truncate(float(M[c]), k, nearest=True)
            assert y[b, c] == ref_rescale(acc_ref[b][c], mm, ss)


def test_dot_product_tflite_method():
    rng = np.random.default_rng(8)
    x, w, bias = rng.integers(-128, 128, (3, 16)), rng.integers(-128, 128, (4, 16)), rng.integers(-999, 999, 4)
    M = rng.uniform(0.001, 0.01, 4)
    y = dot_product(x, w, bias, M, 31, method="tflite", rounding="tflite_double")
    acc = ref_layer(x, w, bias)
    for b in range(3):
        for c in range(4):
            q, shift = ref_tflite_quantize_multiplier(float(M[c]))
            assert y[b, c] == min(max(ref_multiply_by_quantized_multiplier(acc[b][c], q, shift), -128), 127)


def test_accumulate_wraps_like_int32():
    L = 140_000  # 16384 * L > 2^31: the exact sum overflows int32
    x = np.full((1, L), -128)
    w = np.full((2, L), -128)
    w[1, ::2] = 127
    bias = np.array([INT32_MAX, INT32_MIN])
    acc = accumulate(x, w, bias)
    exact0 = 16384 * L + INT32_MAX
    exact1 = INT32_MIN + (L // 2) * (-128 * 127) + (L // 2) * 16384
    assert acc.tolist() == [[wrap32(exact0), wrap32(exact1)]]
    assert acc.tolist() == ref_layer(x, w, bias)
    assert exact0 > INT32_MAX and INT32_MIN <= acc.min() and acc.max() <= INT32_MAX
    # and the wrapped value is what gets rescaled
    y = dot_product(x, w, bias, [1.0, 1.0], 8)
    assert y.tolist() == [[min(max(v, -128), 127) for v in ref_layer(x, w, bias)[0]]]


def test_accumulate_reaches_the_int32_edge_with_minus_128_activations():
    """-128 is the one int8 activation of magnitude 128: the weight bound that decides
    whether the 32-bit wrap can be skipped must count it. Each channel here can
    leave int32 by exactly one, and only through x = -128."""
    for w_row, bias, exact in (([-1], INT32_MAX - 127, INT32_MAX + 1),   # 128 - 127 above
                               ([1], INT32_MIN + 127, INT32_MIN - 1),    # -128 + 127 below
                               ([-1, 1], INT32_MAX - 255, None)):        # fits: 128 - 128
        x = np.array([[-128] * len(w_row)])
        expected = wrap32(exact) if exact is not None else bias
        assert accumulate(x, [w_row], [bias]).tolist() == [[expected]] == ref_layer(x, [w_row], [bias])
        assert golden.accumulate_depthwise(x[:, None, :], [w_row], [bias]).tolist() == [[expected]]
    assert accumulate([[-128], [127]], [[-1]], [INT32_MAX - 127]).tolist() == [[INT32_MIN], [INT32_MAX - 254]]


def test_accumulate_wrap_small_hand_case():
    # 2^31 - 1 + 1 wraps to -2^31; -2^31 - 16384 wraps to 2^31 - 16384
    assert accumulate([[1]], [[1]], [INT32_MAX]).tolist() == [[INT32_MIN]]
    assert accumulate([[-128]], [[127]], [INT32_MIN]).tolist() == [[INT32_MAX + 1 - 16256]]
    assert accumulate([1, 2, 3], [[1, 1, 1], [0, 0, -1]], [0, 5]).tolist() == [6, 2]  # 1-D x


@pytest.mark.parametrize("x_shape, w_shape, b_shape", [
    ((2, 5), (3, 4), (3,)),  # L mismatch
    ((2, 4), (3, 4), (4,)),  # bias length
    ((2, 4), (3, 4), (3, 1)),  # bias not 1-D
    ((2, 4), (4,), (1,)),  # w not 2-D
    ((), (3, 4), (3,)),  # x scalar
])
def test_accumulate_shape_mismatch(x_shape, w_shape, b_shape):
    with pytest.raises(ValueError, match=r"^shapes do not match"):
        accumulate(np.zeros(x_shape, int), np.zeros(w_shape, int), np.zeros(b_shape, int))
    with pytest.raises(ValueError, match=r"^shapes do not match"):
        dot_product(np.zeros(x_shape, int), np.zeros(w_shape, int), np.zeros(b_shape, int), 0.5, 8)


def test_accumulate_range_errors():
    with pytest.raises(ValueError, match=r"^x\[0, 1\] = 128 is out of range: activations are int8"):
        accumulate([[0, 128]], [[1, 1]], [0])
    with pytest.raises(ValueError, match=r"^w\[1, 0\] = -129 is out of range: weights are int8"):
        accumulate([[0, 1]], [[1, 1], [-129, 0]], [0, 0])
    with pytest.raises(ValueError, match=r"^bias\[0\] = 2147483648 is out of range"):
        accumulate([[0, 1]], [[1, 1]], [2**31])
    with pytest.raises(ValueError, match=r"^x = 1\.5.*x must be integers"):
        accumulate(1.5, [[1]], [0])


def test_accumulate_depthwise_is_accumulate_channel_by_channel():
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, (4, 3, 6, 9))  # (..., C, L): channel c reads x[..., c, :]
    w, bias = rng.integers(-128, 128, (6, 9)), rng.integers(INT32_MIN, INT32_MAX, 6, endpoint=True)
    x[0, 0, 0], w[0], bias[0] = -128, -128, INT32_MAX  # this channel wraps
    acc = golden.accumulate_depthwise(x, w, bias)
    assert acc.shape == (4, 3, 6) and acc.dtype == np.int64
    for c in range(6):
        assert np.array_equal(acc[..., c], accumulate(x[..., c, :], w[c:c + 1], bias[c:c + 1])[..., 0])
    assert acc[0, 0, 0] == wrap32(INT32_MAX + 9 * 16384)
    with pytest.raises(ValueError, match=r"^shapes do not match"):
        golden.accumulate_depthwise(x[..., :5, :], w, bias)
    with pytest.raises(ValueError, match=r"^x\[0, 0, 0, 0\] = 128 is out of range: activations are int8"):
        golden.accumulate_depthwise(np.full((1, 1, 1, 2), 128), [[1, 1]], [0])


def test_dot_product_scalar_M_broadcasts_over_channels():
    rng = np.random.default_rng(21)
    x, w, bias = rng.integers(-128, 128, (5, 12)), rng.integers(-128, 128, (7, 12)), rng.integers(-500, 500, 7)
    for M, k in ((0.01, 8), (0.3, 4), (1.0, 32), (0.0, 8)):
        y = dot_product(x, w, bias, M, k)
        assert y.shape == (5, 7)
        assert np.array_equal(y, dot_product(x, w, bias, np.full(7, M), k))


def test_dot_product_bad_M_names_channel():
    x, w, bias = np.zeros((1, 3), int), np.zeros((3, 3), int), np.zeros(3, int)
    with pytest.raises(ValueError, match=r"^M\[1\] = 1\.5 \(channel 1\)"):
        dot_product(x, w, bias, [0.5, 1.5, 0.2], 8)


# --------------------------------------------------------------------------------------
# TFLite's whole shift range and its single-rounding kernels
# --------------------------------------------------------------------------------------

def test_tflite_quantizer_keeps_tflites_shift_range():
    """TFLite keeps scales down to 2^-32 as (2^30, s = 62), beyond a rescaler's s_max(32) = 56."""
    assert quantize_multiplier(2.0**-32, 32, method="tflite") == (1 << 30, 62)
    assert quantize_multiplier(2.0**-32, 31, method="tflite") == (1 << 30, 62)
    assert quantize_multiplier(2.0**-27, 32, method="tflite") == (1 << 30, 57)
    assert quantize_multiplier(2.0**-33, 32, method="tflite") == (0, 0)  # TFLite flushes to zero
    m, s = quantize_multiplier(np.array([2.0**-32, 0.75 * 2.0**-26, 0.5]), 32, method="tflite")
    assert m.tolist() == [1 << 30, 3 << 29, 1 << 30] and s.tolist() == [62, 57, 31]


@pytest.mark.parametrize("mode", ["tflite_double", "tflite_single"])
def test_tflite_roundings_accept_tflites_shifts(mode):
    # acc * 2^30 / 2^58 = acc / 2^28
    assert r(3 << 27, 1 << 30, 58, rounding=mode) == 2  # 1.5 -> 2 (ties away, positive)
    assert r(-(3 << 27), 1 << 30, 58, rounding=mode) == -2
    assert r(INT32_MAX, (1 << 31) - 1, 62, rounding=mode) == 1  # (2^31-1)^2 / 2^62 ~ 1
    for bad in (63, -1):
        with pytest.raises(ValueError, match=rf"^s = {bad} is out of range: s is a right shift of at most "
                                             rf"TFLite's 62 \(0\.\.62\)$"):
            r(1, 1, bad, rounding=mode)
    # the rescaler's own modes keep the hardware's s_max
    with pytest.raises(ValueError, match=r"^s = 58 is out of range"):
        r(1, 1, 58, rounding="half_away")


def test_tflite_pairs_round_trip_through_rescale():
    """Every (m, s) of TFLite's quantizer is accepted by rescale in both TFLite modes."""
    M = np.exp2(-np.linspace(0, 32, 400))
    m, s = quantize_multiplier(M, 32, method="tflite")
    assert s.max() == 62
    acc = np.full(M.size, 1 << 30)
    for mode in ("tflite_double", "tflite_single"):
        y = rescale(acc, m, s, rounding=mode).astype(int)
        expected = [min(max(ref_rescale(int(a), int(mm), int(ss), mode), -128), 127)
                    for a, mm, ss in zip(acc, m, s)]
        assert y.tolist() == expected


# Exact ties: the single rounding of LiteRT's FULLY_CONNECTED kernel (ties away from zero),
# the double rounding of its convolutions, and the paper's half up, side by side.
# (M, acc): exact value, half_up, tflite_single, tflite_double
TIE_VECTORS = [
    (0.5, -1, -0.5, 0, -1, 0),          # LiteRT's FC gives -1, half up 0
    (0.125, -948, -118.5, -118, -119, -119),
    (0.25, -2, -0.5, 0, -1, -1),        # double rounding: -2 * 2^30 / 2^31 = -1 exactly, then ties away
    (0.5, 1, 0.5, 1, 1, 1),
    (0.5, 3, 1.5, 2, 2, 2),
    (0.5, -3, -1.5, -1, -2, -1),        # SRDHM rounds -1.5 toward +inf: -1
    (0.25, 6, 1.5, 2, 2, 2),
    (0.25, -6, -1.5, -1, -2, -2),
]


@pytest.mark.parametrize("M, acc, exact, half_up, single, double", TIE_VECTORS)
def test_exact_tie_vectors(M, acc, exact, half_up, single, double):
    assert acc * M == exact
    m, s = quantize_multiplier(M, 32, method="tflite")
    assert r(acc, m, s, rounding="half_up") == half_up
    assert r(acc, m, s, rounding="tflite_single") == single
    assert r(acc, m, s, rounding="tflite_double") == double
    assert ref_tflite_double(acc, m, s) == double


def test_tflite_double_m_one_overflow_is_documented_not_reproduced():
    """M = 1 and |acc| >= 2^30: LiteRT's int32 left shift wraps (measured: acc = 2^30 gives
    -128); the golden model saturates the exact value instead, as its docstring says."""
    m, s = quantize_multiplier(1.0, 32, method="tflite")
    assert r(1 << 30, m, s, rounding="tflite_double") == 127
    assert r(-(1 << 30) - 1, m, s, rounding="tflite_double") == -128
    assert "wraps" in rescale.__doc__ and "not reproduced" in rescale.__doc__


def test_rounded_product_is_rescale_without_clamp():
    rng = np.random.default_rng(12)
    acc = rng.integers(INT32_MIN, INT32_MAX, 2000, endpoint=True)
    m = rng.integers(0, 2**31, 2000)
    s = rng.integers(31, 63, 2000)
    for mode in ("tflite_double", "tflite_single"):
        raw = golden.rounded_product(acc, m, s, rounding=mode)
        assert raw.dtype == np.int64
        assert raw.tolist() == [ref_rescale(int(a), int(b), int(c), mode, 0, -(2**62), 2**62)
                                for a, b, c in zip(acc, m, s)]
        assert np.array_equal(np.clip(raw, -128, 127), rescale(acc, m, s, rounding=mode))
    with pytest.raises(ValueError, match=r"^s = 57 is out of range"):
        golden.rounded_product(1, 1, 57, k=32)


# --------------------------------------------------------------------------------------
# operand contracts of the rescaler variants
# --------------------------------------------------------------------------------------


def test_legal_operands():
    k = 4
    assert legal_operands([0, 8, 3, 8, 15], [0, 3, s_max(k), 2, 3], k, trim_shift=True).tolist() == \
        [True, True, True, False, True]
    assert legal_operands([0, 7, 8], [3, 3, 3], k, hidden_bit=True).tolist() == [False, False, True]
    assert legal_operands([16, 8], [3, s_max(k) + 1], k).tolist() == [False, False]


def test_quantizers_give_legal_operands():
    rng = np.random.default_rng(1)
    M = np.concatenate([np.exp2(-rng.uniform(0, 40, 2000)), [0.0, 1.0]])
    for k in (2, 4, 8, 32):
        for method in ("truncate", "nearest"):
            m, s = quantize_multiplier(M, k, method=method)
            assert legal_operands(m, s, k, trim_shift=True).all()
        M_ok = M[(M >= 2.0 ** (k - 1 - s_max(k)))]
        m, s = quantize_multiplier(M_ok, k, method="hidden")
        m_t, s_t = quantize_multiplier(M_ok, k)
        assert np.array_equal(m, m_t) and np.array_equal(s, s_t)
        assert legal_operands(m, s, k, trim_shift=True, hidden_bit=True).all()


def test_hidden_quantizer_rejects_what_it_cannot_represent():
    with pytest.raises(ValueError, match=r"M\[1\] = 0.0 is below 2\^-25: a hidden-bit multiplier"):
        quantize_multiplier([0.5, 0.0], 4, method="hidden")
    with pytest.raises(ValueError, match=r"below 2\^-25"):
        quantize_multiplier(2.0 ** -26, 4, method="hidden")
    assert quantize_multiplier(2.0 ** -25, 4, method="hidden") == (8, s_max(4))
