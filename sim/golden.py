"""Golden model of the integer rescale of Eq. (1): the single source of truth.

    y = Sat_int8( floor( M_q * acc + b_eff ) ),   M_q = m * 2^-s,  m a k-bit integer

Everything else in this project (the Amaranth RTL, the cocotb and Amaranth
testbenches, the cost model, the documentation) derives its behaviour from the
functions here. ``docs/semantics.md`` states the semantics in prose; this module
is that text made executable, vectorized with numpy so that whole layers and
millions of random vectors can be checked quickly.

Three public functions:

* :func:`quantize_multiplier` turns float scales ``M`` into integer pairs ``(m, s)``.
* :func:`rescale` applies ``(m, s)`` to 32-bit accumulators, with rounding,
  zero point and saturation, in the paper's mode or another runtime's.
* :func:`dot_product` runs a whole int8 layer (matrix product, bias, per-channel
  rescale), so tests can push real layers through the model.

Every argument is validated and a bad one raises a single :class:`ValueError`
that names the argument, the offending value and, for arrays, its index.
"""

import numpy as np

__all__ = [
    "ACC_BITS", "OUT_BITS", "K_MIN", "K_MAX", "INT8_MIN", "INT8_MAX",
    "QUANTIZERS", "HIDDEN_QUANTIZER", "ROUNDINGS", "TFLITE_ROUNDINGS", "TFLITE_S_MAX",
    "s_max", "shift_bits", "check_k",
    "quantize_multiplier", "rescale", "rescale_unclamped", "rounded_product", "accumulate", "accumulate_depthwise",
    "dot_product",
    "legal_operands",
]

#: Width of the signed accumulator that feeds the rescaler.
ACC_BITS = 32
#: Width of the signed output.
OUT_BITS = 8
#: Supported range of the multiplier width ``k`` (every bit of ``m``, leading 1 included).
K_MIN, K_MAX = 2, 32
INT8_MIN, INT8_MAX = -(1 << (OUT_BITS - 1)), (1 << (OUT_BITS - 1)) - 1
INT32_MIN, INT32_MAX = -(1 << (ACC_BITS - 1)), (1 << (ACC_BITS - 1)) - 1

#: Derivations of ``(m, s)`` from ``M`` offered by :func:`quantize_multiplier`.
QUANTIZERS = ("truncate", "nearest", "tflite")
#: The quantizer of a hidden-bit rescaler (``quantize_multiplier(method="hidden")``), kept
#: out of :data:`QUANTIZERS`: it rejects scales the others accept (zero, underflow).
HIDDEN_QUANTIZER = "hidden"
#: Rounding modes offered by :func:`rescale`.
ROUNDINGS = ("half_up", "tflite_double", "tflite_single", "half_away", "half_even", "floor")
#: The modes that model TFLite's kernels rather than a k-bit rescaler: they accept
#: TFLite's whole shift range, ``s`` up to :data:`TFLITE_S_MAX`.
TFLITE_ROUNDINGS = ("tflite_double", "tflite_single")
#: Largest shift TFLite's ``QuantizeMultiplier`` produces: it keeps scales down to
#: ``2^-32`` (``shift = -31``, ``s = 31 - shift = 62``) and flushes smaller ones to 0.
TFLITE_S_MAX = 62

# Bits of an IEEE-754 float32 significand, hidden bit included.
_F32_SIG_BITS = 24
# TFLite's QuantizeMultiplier produces a Q31 fixed-point multiplier.
_TFLITE_BITS = 31


def check_k(k):
    """Return ``k`` as an int, or raise the one error message for a bad ``k``.

    Shared by the golden model, the hardware config and the command line so that a
    bad width reads the same wherever the user typed it.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not K_MIN <= k <= K_MAX:
        raise ValueError(f"k must be an integer in {K_MIN}..{K_MAX}, not {k!r}")
    return int(k)


def s_max(k):
    """Largest shift the rescaler supports for a ``k``-bit multiplier.

    The product ``acc * m`` has ``32 + k`` bits; shifting it right by more than
    ``32 + k - 8`` leaves nothing of the int8 range, so the paper sizes the shift
    port for ``s <= 32 + k - 8``.
    """
    return ACC_BITS + check_k(k) - OUT_BITS


def shift_bits(k):
    """Width in bits of the unsigned shift port: ``bit_length(s_max(k))``."""
    return s_max(k).bit_length()


def _where(mask):
    """Index of the first True element of ``mask``, formatted for messages (``"[2, 0]"``)."""
    idx = np.argwhere(mask)[0]
    return "" if idx.size == 0 else "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _integers(name, value):
    """``value`` as an integer numpy array, or a ValueError saying why it is not one."""
    try:
        arr = np.asarray(value)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"{name} must be integers that fit in 64 bits ({exc})") from None
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "O":
            raise ValueError(f"{name} must be integers that fit in 64 bits")
        # Name the first element (every element of a non-integer array is suspect).
        shown = f"{name}{_where(np.ones(arr.shape, bool))} = {arr.flat[0].item()!r}: " if arr.size else ""
        raise ValueError(f"{shown}{name} must be integers, got an array of {arr.dtype}")
    return arr


def _check_range(name, arr, lo, hi, what):
    """Raise a ValueError naming the first element of ``arr`` outside ``[lo, hi]``.

    Returns a lower bound of ``arr``'s elements (its minimum, or ``lo`` when the
    dtype alone proves the range, or the array is empty).
    """
    info = np.iinfo(arr.dtype)
    if arr.size == 0 or (info.min >= lo and info.max <= hi):  # e.g. an int32 acc: nothing to scan
        return lo
    arr_min = arr.min()
    if arr_min < lo or arr.max() > hi:
        bad = (arr < lo) | (arr > hi)
        where = _where(bad)
        value = arr[tuple(np.argwhere(bad)[0])] if arr.ndim else arr
        raise ValueError(f"{name}{where} = {int(value)} is out of range: {what} ({lo}..{hi})")
    return arr_min


def _scales(M, as_dtype):
    """Validate float scales ``M`` (finite, 0 <= M <= 1) and return them as ``as_dtype``."""
    try:
        arr = np.asarray(M)
        if arr.dtype.kind not in "iuf":  # bools, None, strings, objects: not silently 1.0, NaN or parsed
            raise TypeError
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"M must be a float or an array of floats, not {M!r}") from None
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > 1)
    if bad.any():
        value = arr[tuple(np.argwhere(bad)[0])] if arr.ndim else arr
        channel = f" (channel {_where(bad)[1:-1]})" if arr.ndim else ""
        raise ValueError(
            f"M{_where(bad)} = {float(value)!r}{channel} is not a valid rescale factor: "
            f"M = Sx*Sw/Sy must be a finite float with 0 <= M <= 1")
    return arr.astype(as_dtype)


def quantize_multiplier(M, k, *, method="truncate"):
    """Quantize rescale factors ``M`` into integer multipliers ``m`` and shifts ``s``.

    ``M_q = m * 2^-s`` approximates ``M`` with a ``k``-bit ``m``. The paper's
    derivation (``method="truncate"``, the default) needs no arithmetic: ``M`` is
    taken as an IEEE-754 float32 ``1.f * 2^e``; ``m`` is the hidden 1 followed by the
    top ``k-1`` bits of ``f`` and ``s = (k-1) - e``. Hence ``2^(k-1) <= m < 2^k`` and
    ``s >= k-1``. Shifts beyond :func:`s_max` underflow gradually (``m`` loses its
    low bits, possibly down to 0, and ``s = s_max``); ``M = 0`` gives ``(0, 0)``.

    Parameters
    ----------
    M : float or array_like of float
        Rescale factors ``Sx*Sw/Sy``, one per output channel, in ``[0, 1]``.
    k : int
        Multiplier width in bits, leading 1 included (``2..32``).
    method : {"truncate", "nearest", "tflite", "hidden"}
        ``"truncate"``: the paper's bit selection (default).
        ``"nearest"``: round ``M`` to nearest on ``k`` bits (ties up); a carry to
        ``2^k`` renormalizes to ``2^(k-1)`` with ``s - 1``.
        ``"tflite"``: TFLite's ``QuantizeMultiplier`` on the float64 value of ``M``
        (``frexp``, round half away from zero to Q31): a 31-bit ``m``, so ``k`` must
        be 31 or 32. TFLite's whole shift range is kept (``s`` up to
        :data:`TFLITE_S_MAX` = 62, beyond a rescaler's ``s_max(k)``: no gradual
        underflow), as its kernels use it; :func:`rescale` accepts such shifts with
        the TFLite rounding modes (:data:`TFLITE_ROUNDINGS`).
        ``"hidden"``: ``"truncate"`` for a hidden-bit rescaler, whose ``m`` always
        has its leading 1 (``2^(k-1) <= m < 2^k``, stored as ``m - 2^(k-1)`` on
        ``k-1`` bits): the same ``(m, s)`` as ``"truncate"``, but a scale that would
        underflow (``M < 2^(k-1-s_max(k))``, zero included) cannot be represented
        and raises ValueError.

    Returns
    -------
    m, s : int or numpy.ndarray of int64
        Python ints for a scalar ``M``, int64 arrays of ``M``'s shape otherwise.

    Raises
    ------
    ValueError
        For a bad ``k`` or ``method``, or an ``M`` that is NaN, infinite, negative or
        greater than 1 (the message names the value and its channel index).
    """
    k = check_k(k)
    if method not in QUANTIZERS + (HIDDEN_QUANTIZER,):
        raise ValueError(f"method must be one of {', '.join(QUANTIZERS)}, not {method!r} "
                         f"(or {HIDDEN_QUANTIZER!r} for a hidden-bit rescaler)")
    scalar = np.ndim(M) == 0
    if method == "tflite":
        if k < _TFLITE_BITS:
            raise ValueError(f"method='tflite' yields TFLite's 31-bit multiplier: k must be 31 or 32, not {k}")
        m, s = _quantize_tflite(_scales(M, np.float64))
        return (int(m), int(s)) if scalar else (m, s)
    elif method == HIDDEN_QUANTIZER:
        M32 = _scales(M, np.float32)
        m, s = _quantize_float32(M32, k, nearest=False)
        bad = np.atleast_1d((s > s_max(k)) | (m < (1 << (k - 1))))
        if bad.any():
            value = float(np.atleast_1d(M32)[bad][0])
            where = _where(bad.reshape(np.shape(M32))) if np.ndim(M32) else ""
            raise ValueError(f"M{where} = {value!r} is below 2^{k - 1 - s_max(k)}: a hidden-bit multiplier "
                             f"(m >= 2^{k - 1}, s <= s_max = {s_max(k)}) cannot represent it")
    else:
        m, s = _quantize_float32(_scales(M, np.float32), k, nearest=method == "nearest")
    m, s = _underflow(m, s, s_max(k))
    if scalar:
        return int(m), int(s)
    return m, s


def _quantize_float32(M32, k, *, nearest):
    """The paper's bit selection from a float32 (optionally rounded to nearest)."""
    bits = np.atleast_1d(M32).view(np.uint32).astype(np.int64)
    exp_field = (bits >> 23) & 0xFF
    significand = (1 << 23) | (bits & 0x7FFFFF)  # hidden 1 + 23 fraction bits
    drop = _F32_SIG_BITS - k
    if drop > 0:
        if nearest:
            significand = significand + (1 << (drop - 1))
        m = significand >> drop
    else:  # k > 24: the float32 fraction runs out, low bits of m are zeros
        m = significand << -drop
    s = (k - 1) - (exp_field - 127)
    carry = m >> k  # only possible when rounding to nearest: renormalize
    m = m >> carry
    s = s - carry
    # Zero and float32 subnormals (< 2^-126) are zero or far below 2^-s_max: m = 0.
    zero = (bits & 0x7FFFFFFF) == 0  # +0.0 and -0.0
    m = np.where(exp_field == 0, 0, m)
    s = np.where(zero, 0, s)
    return m.reshape(np.shape(M32)), s.reshape(np.shape(M32))


def _quantize_tflite(M64):
    """TFLite's ``QuantizeMultiplier``: ``M = q * 2^shift``, ``m = round(q * 2^31)``."""
    q, shift = np.frexp(M64)
    # std::round: half away from zero (np.round would go to even). q * 2^31 >= 0 has
    # at most 22 fraction bits, so adding 0.5 is exact and floor() rounds half up.
    m = np.floor(np.ldexp(q, _TFLITE_BITS) + 0.5).astype(np.int64)
    renorm = m == (1 << _TFLITE_BITS)
    m = np.where(renorm, m >> 1, m)
    shift = shift.astype(np.int64) + renorm
    tiny = shift < -_TFLITE_BITS  # TFLite flushes these to zero
    m = np.where(tiny | (M64 == 0), 0, m)
    s = np.where(tiny | (M64 == 0), 0, _TFLITE_BITS - shift)
    return m, s


def _underflow(m, s, smax):
    """Gradual underflow: shifts beyond ``smax`` drop low bits of ``m`` instead."""
    excess = np.clip(s - smax, 0, 63)
    return (m >> excess).astype(np.int64), np.minimum(s, smax).astype(np.int64)


def legal_operands(m, s, k, *, trim_shift=False, hidden_bit=False):
    """Which ``(m, s)`` a rescaler architecture computes exactly (broadcast boolean array).

    Every architecture needs ``0 <= m < 2^k`` and ``0 <= s <= s_max(k)``. The
    optimized ones of :class:`hw.config.DatapathConfig` narrow this further to what
    the quantizer produces:

    * ``trim_shift``: ``m == 0 or s >= k-1`` (the truncating and rounding
      quantizers always give ``s >= k-1``, gradual underflow ``s = s_max``, and
      ``M = 0`` gives ``m = 0``);
    * ``hidden_bit``: ``m >= 2^(k-1)`` (``quantize_multiplier(method="hidden")``).

    Testbenches drive only these operands to such variants; the formal proofs
    assume exactly these conditions.
    """
    k = check_k(k)
    m, s = np.asarray(m, dtype=np.int64), np.asarray(s, dtype=np.int64)
    ok = (m >= 0) & (m < (1 << k)) & (s >= 0) & (s <= s_max(k))
    if trim_shift:
        ok &= (m == 0) | (s >= k - 1)
    if hidden_bit:
        ok &= m >= (1 << (k - 1))
    return ok


def rescale(acc, m, s, *, zero_point=0, act_min=INT8_MIN, act_max=INT8_MAX,
            rounding="half_up", k=K_MAX):
    """Rescale 32-bit accumulators to int8: Algorithm 1 of the paper plus saturation.

    With the default ``rounding="half_up"`` (the paper, and TOSA ``SINGLE_ROUND``)::

        y = clamp( floor((acc*m + 2^(s-1)) / 2^s) + zero_point, act_min, act_max )

    with no rounding term when ``s = 0``. Arithmetic is exact for every int32
    ``acc``, every ``m < 2^32`` and every ``s <= s_max(32)``: the rounding is done
    on the bits of the 64-bit product, never by adding to it.

    Parameters
    ----------
    acc : int or array_like of int
        Signed 32-bit accumulators (``acc = sum x*w + b_eff``).
    m, s : int or array_like of int
        Multipliers (``0 <= m < 2^k``) and right shifts (``0 <= s <= s_max(k)``,
        or ``0 <= s <= TFLITE_S_MAX`` with a mode of :data:`TFLITE_ROUNDINGS`), e.g.
        from :func:`quantize_multiplier`; broadcast against ``acc``.
    zero_point : int or array_like of int
        Output zero point ``Zy`` (int8), added after rounding.
    act_min, act_max : int or array_like of int
        Saturation bounds, ``-128 <= act_min <= act_max <= 127``; ``(0, 127)`` is a
        fused ReLU, ``(0, q(6))`` a fused ReLU6.
    rounding : {"half_up", "tflite_double", "tflite_single", "half_away", "half_even", "floor"}
        ``"half_up"``: round half toward +inf, one rounding (paper, default).
        ``"tflite_double"``: TFLite's ``MultiplyByQuantizedMultiplier``, bit for bit
        (LiteRT's CONV_2D and DEPTHWISE_CONV_2D reference kernels):
        ``SaturatingRoundingDoublingHighMul`` (rounds at bit 31, ties toward +inf),
        then ``RoundingDivideByPOT`` by ``s - 31`` (ties away from zero). For
        ``s < 31`` (only ``M = 1`` with TFLite's multiplier) a single half-up
        rounding: TFLite's ``acc << (31 - s)`` is an int32 shift, and both agree
        whenever it fits. When it does not (``M = 1`` and ``|acc| >= 2^30``) LiteRT's
        shift overflows and wraps (``acc = 2^30`` gives -128): that int32 overflow
        is deliberately not reproduced (this mode saturates the exact value).
        ``"tflite_single"``: TFLite's single-rounding path (LiteRT's
        FULLY_CONNECTED reference kernel): one rounding of ``acc * m`` at bit ``s``,
        ties away from zero, in 64 bits (no wrap at ``M = 1``); ``"half_away"`` on
        TFLite's shift range.
        ``"half_away"``: ties away from zero. ``"half_even"``: ties to even.
        ``"floor"``: truncation toward -inf (an arithmetic shift).
    k : int
        Multiplier width the operands must fit (default 32, the widest).

    Returns
    -------
    numpy.ndarray of int8
        The broadcast shape of the operands (0-d for scalars).

    Raises
    ------
    ValueError
        For non-integer operands, ``acc`` outside int32, ``m >= 2^k``, ``s`` outside
        ``0..s_max(k)``, int8 parameters out of range, ``act_min > act_max`` or an
        unknown rounding mode, naming the first bad value and its index.
    """
    k = check_k(k)
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {', '.join(ROUNDINGS)}, not {rounding!r}")
    acc, m, s = (_integers(n, v) for n, v in (("acc", acc), ("m", m), ("s", s)))
    zero_point, act_min, act_max = (
        _integers(n, v) for n, v in (("zero_point", zero_point), ("act_min", act_min), ("act_max", act_max)))
    _check_shapes(acc=acc, m=m, s=s, zero_point=zero_point, act_min=act_min, act_max=act_max)
    s_min = _check_operands(acc, m, s, rounding, k)
    for name, value in (("zero_point", zero_point), ("act_min", act_min), ("act_max", act_max)):
        _check_range(name, value, INT8_MIN, INT8_MAX, "an int8 output parameter")
    if np.any(act_min > act_max):
        lo, hi = np.broadcast_arrays(act_min, act_max)
        bad = lo > hi
        raise ValueError(f"act_min{_where(bad)} = {int(lo[bad].flat[0])} is greater than "
                         f"act_max = {int(hi[bad].flat[0])}: the clamp range would be empty")

    y = _rounded(acc, m, s, s_min, zero_point, rounding)
    if act_min.ndim == 0 and act_max.ndim == 0:
        np.minimum(y, act_max, out=y)  # y is a fresh array of the final shape: clamp in place
        np.maximum(y, act_min, out=y)
    else:
        y = np.clip(y, act_min, act_max)
    return y.astype(np.int8)


def _rounded(acc, m, s, s_min, zero_point, rounding):
    """The rounded value plus the zero point, before saturation (checked operands)."""
    y = _round(acc, m, s, s_min, rounding)
    if zero_point.ndim or zero_point != 0:
        y = y + zero_point
    return np.asarray(y)  # 0-d inputs give numpy scalars


def rescale_unclamped(acc, m, s, *, zero_point=0, rounding="half_up", k=K_MAX):
    """What :func:`rescale` saturates: ``floor((acc*m + 2^(s-1)) / 2^s) + zero_point``
    (or another ``rounding``) as int64, unclamped, so that a caller can tell which
    outputs sit inside the clamp range and which saturate. Same operand checks as
    :func:`rescale`."""
    k = check_k(k)
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {', '.join(ROUNDINGS)}, not {rounding!r}")
    acc, m, s, zero_point = (_integers(n, v) for n, v in (("acc", acc), ("m", m), ("s", s),
                                                             ("zero_point", zero_point)))
    _check_shapes(acc=acc, m=m, s=s, zero_point=zero_point)
    s_min = _check_operands(acc, m, s, rounding, k)
    _check_range("zero_point", zero_point, INT8_MIN, INT8_MAX, "an int8 output parameter")
    return _rounded(acc, m, s, s_min, zero_point, rounding).astype(np.int64)


def _check_shapes(**operands):
    """Raise a ValueError naming the operands whose shapes do not broadcast together
    (numpy's own message names none of them)."""
    try:
        np.broadcast_shapes(*(np.shape(v) for v in operands.values()))
    except ValueError:
        shaped = [f"{name} {np.shape(v)}" for name, v in operands.items() if np.ndim(v)]
        raise ValueError(f"operand shapes do not broadcast together: {', '.join(shaped)}") from None


def rounded_product(acc, m, s, *, rounding="half_up", k=K_MAX):
    """``acc * m / 2^s`` rounded as :func:`rescale` rounds it, without zero point or clamp.

    The intermediate scalings of TFLite's element-wise kernels (ADD's input and
    output rescales, MEAN, re-quantization) round like the rescaler but keep the full
    int32 result; this is that step alone. Arguments and errors as in :func:`rescale`.

    Returns
    -------
    numpy.ndarray of int64
    """
    k = check_k(k)
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {', '.join(ROUNDINGS)}, not {rounding!r}")
    acc, m, s = (_integers(n, v) for n, v in (("acc", acc), ("m", m), ("s", s)))
    _check_shapes(acc=acc, m=m, s=s)
    return np.asarray(_round(acc, m, s, _check_operands(acc, m, s, rounding, k), rounding), dtype=np.int64)


def _check_operands(acc, m, s, rounding, k):
    """Range checks of :func:`rescale`'s ``acc``, ``m``, ``s``; returns a lower bound of ``s``."""
    _check_range("acc", acc, INT32_MIN, INT32_MAX, "the accumulator is signed 32-bit")
    _check_range("m", m, 0, (1 << k) - 1, f"m is an unsigned {k}-bit multiplier")
    if rounding in TFLITE_ROUNDINGS:
        return _check_range("s", s, 0, TFLITE_S_MAX, "s is a right shift of at most TFLite's 62")
    return _check_range("s", s, 0, s_max(k), f"s is a right shift of at most 32 + k - 8 for k = {k}")


def _round(acc, m, s, s_min, rounding):
    # The values are checked: casting to int64 is exact, and the product is done in
    # int64 chunk by chunk, without a full-size int64 copy of acc or m.
    product = np.multiply(acc, m, dtype=np.int64)
    if rounding == "half_up" and s_min >= 1:
        return _round_half_up_no_zero_shift(product, s)
    return _ROUNDERS[rounding](product, s.astype(np.int64, copy=False))


def _bit(x, n):
    """Bit ``n`` of ``x`` (two's complement), 0 where ``n < 0``."""
    return np.where(n >= 0, (x >> np.maximum(n, 0)) & 1, 0)


def _round_half_up(p, s):
    # floor((p + 2^(s-1)) / 2^s) == floor(p / 2^s) + bit (s-1) of p: no overflow.
    return (p >> s) + _bit(p, s - 1)


def _round_half_up_no_zero_shift(p, s):
    # Fast path of _round_half_up when every s >= 1, in three passes:
    # floor((p + 2^(s-1)) / 2^s) == floor((floor(p / 2^(s-1)) + 1) / 2), no overflow.
    y = np.right_shift(p, s - 1, dtype=np.int64)
    y += 1
    y >>= 1
    return y


def _round_floor(p, s):
    return p >> s


def _ties(p, s):
    """Split ``p / 2^s`` into floor ``q``, and masks "above half" and "exactly half"."""
    q = p >> s
    rem = p - (q << s)
    half = np.where(s > 0, np.left_shift(1, np.maximum(s - 1, 0)), 1)  # s = 0: rem is 0, never half
    return q, rem > half, (rem == half) & (s > 0)


def _round_half_away(p, s):
    q, above, tie = _ties(p, s)
    return q + (above | (tie & (p >= 0)))


def _round_half_even(p, s):
    q, above, tie = _ties(p, s)
    return q + (above | (tie & (q & 1).astype(bool)))


def _round_tflite_double(p, s):
    # SaturatingRoundingDoublingHighMul: (p + nudge) / 2^31 with C's truncating
    # division, nudge = 2^30 or 1 - 2^30 by sign. (Its saturation needs
    # acc = m = INT32_MIN, impossible with an unsigned m.) That is floor((p + 2^30) / 2^31)
    # for either sign: a negative p + 1 - 2^30 is truncated as (p + 1 - 2^30 + 2^31 - 1) >> 31.
    high = p + (1 << (_TFLITE_BITS - 1))
    high >>= _TFLITE_BITS
    # RoundingDivideByPOT(high, s - 31): ties away from zero.
    exponent = np.maximum(s - _TFLITE_BITS, 0)
    mask = np.left_shift(1, exponent) - 1
    threshold = (mask >> 1) + (high < 0)
    double = (high >> exponent) + ((high & mask) > threshold)
    if np.all(s >= _TFLITE_BITS):  # the usual case (M < 1): skip the s < 31 path
        return double
    return np.where(s >= _TFLITE_BITS, double, _round_half_up(p, s))


def _wrap32(x):
    """``x`` reduced modulo 2^32 into the signed 32-bit range (two's complement)."""
    return ((x - INT32_MIN) & 0xFFFFFFFF) + INT32_MIN


_ROUNDERS = {
    "half_up": _round_half_up,
    "tflite_double": _round_tflite_double,
    "tflite_single": _round_half_away,
    "half_away": _round_half_away,
    "half_even": _round_half_even,
    "floor": _round_floor,
}


def accumulate(x, w, bias):
    """Int32 accumulators of a layer: ``x @ w.T + bias``, wrapping like 32-bit hardware.

    Parameters
    ----------
    x : array_like of int, shape (..., L)
        Int8 activations (already zero-point corrected through ``bias``, see
        ``docs/semantics.md``).
    w : array_like of int, shape (C, L)
        Int8 weights, one row per output channel.
    bias : array_like of int, shape (C,)
        Int32 effective biases ``b_eff``.

    Returns
    -------
    numpy.ndarray of int64, shape (..., C)
        The accumulator values, in ``[-2^31, 2^31)``: the exact sum reduced modulo
        2^32 into the signed range (two's complement wrap-around, as the 32-bit
        accumulator register does).
    """
    x, w, bias = _accumulate_operands(x, w, bias)
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"shapes do not match: x {x.shape} must end in L, w {w.shape} must be (C, L) "
                         f"and bias {bias.shape} must be (C,)")
    return _wrapped(_exact_dot(x, w, depthwise=False) + bias, w, bias)


def accumulate_depthwise(x, w, bias):
    """Int32 accumulators of a depthwise layer: channel ``c`` dots its own inputs,
    ``acc[..., c] = x[..., c, :] @ w[c] + bias[c]``, wrapping like :func:`accumulate`.

    Parameters
    ----------
    x : array_like of int, shape (..., C, L)
        Int8 activations: the ``L`` taps that channel ``c`` reads, per channel.
    w, bias
        As in :func:`accumulate`: ``(C, L)`` int8 weights and ``(C,)`` int32 biases.

    Returns
    -------
    numpy.ndarray of int64, shape (..., C)
        Exactly what :func:`accumulate` gives channel by channel.
    """
    x, w, bias = _accumulate_operands(x, w, bias)
    if x.ndim < 2 or x.shape[-2:] != w.shape:
        raise ValueError(f"shapes do not match: x {x.shape} must end in (C, L), w {w.shape} must be (C, L) "
                         f"and bias {bias.shape} must be (C,)")
    return _wrapped(_exact_dot(x, w, depthwise=True) + bias, w, bias)


def _accumulate_operands(x, w, bias):
    """Checked integer operands of :func:`accumulate` (int8 ``x``, ``w``; int32 ``bias``;
    ``w`` of shape (C, L) and ``bias`` of shape (C,)); ``bias`` as int64."""
    x, w, bias = _integers("x", x), _integers("w", w), _integers("bias", bias)
    _check_range("x", x, INT8_MIN, INT8_MAX, "activations are int8")
    _check_range("w", w, INT8_MIN, INT8_MAX, "weights are int8")
    _check_range("bias", bias, INT32_MIN, INT32_MAX, "the bias is int32")
    if w.ndim != 2 or bias.shape != (w.shape[0],):
        raise ValueError(f"shapes do not match: x {x.shape} must end in L, w {w.shape} must be (C, L) "
                         f"and bias {bias.shape} must be (C,)")
    return x, w, bias.astype(np.int64)


def _wrapped(acc, w, bias):
    """``acc`` reduced modulo 2^32 into int32, skipped when no int8 input can leave
    int32: ``|bias| + 128 * sum |w|`` bounds every channel's exact sum."""
    reach = np.abs(w.astype(np.int64)).sum(axis=1) * -INT8_MIN
    if np.all(bias + reach <= INT32_MAX) and np.all(bias - reach >= INT32_MIN):
        return acc
    return _wrap32(acc)


def _exact_dot(x, w, *, depthwise):
    """``x @ w.T`` (or, ``depthwise``, ``(x * w).sum(-1)``) as exact int64 values for
    int8-range operands.

    The matrix product is computed in float64 (BLAS), which is exact: every product
    is at most 2^14 in magnitude, so every partial sum of a row shorter than 2^39
    terms (any row that fits in memory) is an integer below 2^53, whatever the order
    of summation. The depthwise sum runs over the few taps in int64.
    """
    if depthwise:
        acc = np.zeros(x.shape[:-1], np.int64)
        for t in range(w.shape[1]):
            acc += x[..., t] * w[:, t].astype(np.int64)
        return acc
    return np.matmul(x.astype(np.float64), w.astype(np.float64).T).astype(np.int64)


def dot_product(x, w, bias, M, k, *, zero_point=0, act_min=INT8_MIN, act_max=INT8_MAX,
                rounding="half_up", method="truncate"):
    """A whole int8 layer: int32 accumulation with bias, then per-channel rescale.

    Quantizes each output channel's ``M`` to ``k`` bits with
    :func:`quantize_multiplier`, accumulates with :func:`accumulate` and rescales
    with :func:`rescale`: exactly what the dot-product engine computes.

    Parameters
    ----------
    x, w, bias
        As in :func:`accumulate`.
    M : float or array_like of float, shape (C,)
        Per-output-channel rescale factors in ``[0, 1]``.
    k : int
        Multiplier width.
    zero_point, act_min, act_max, rounding
        As in :func:`rescale`; per-channel arrays broadcast over the last axis.
    method
        As in :func:`quantize_multiplier`.

    Returns
    -------
    numpy.ndarray of int8, shape (..., C)
    """
    m, s = quantize_multiplier(M, k, method=method)
    acc = accumulate(x, w, bias)
    return rescale(acc, m, s, zero_point=zero_point, act_min=act_min, act_max=act_max,
                   rounding=rounding, k=k)
