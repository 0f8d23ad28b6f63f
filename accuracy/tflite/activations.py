"""Activation kernels, bit-exact with LiteRT's reference kernels (``BUILTIN_REF``).

Each kernel names the LiteRT source it follows (``tflite/kernels/activations.cc``
and ``kernels/internal/reference/*.h``, the int8/uint8 paths of the reference
kernel type). SOFTMAX and HARD_SWISH compute in gemmlowp's fixed point
(:mod:`accuracy.tflite.fixedpoint`); LOGISTIC and TANH through the float32 lookup
table LiteRT fills at ``Prepare`` (``LUTPopulate``); the ReLU family, LEAKY_RELU and
PRELU rescale with ``MultiplyByQuantizedMultiplier`` -- those rescales are the ones
``--narrow`` can give a ``k``-bit multiplier (:data:`NARROWABLE`).
"""

import numpy as np

from . import fixedpoint as fp
from .quant import (DTYPE_RANGE, Unsupported, activation_range, quantized, requantize, round_away, scalar_q,
                    tflite_multiplier)

__all__ = ["KERNELS", "NARROWABLE"]


def _same_type(model, op):
    tx, ty = quantized(model, op, 0), quantized(model, op, 0, out=True)
    if tx.dtype is not ty.dtype:
        raise Unsupported(f"input {tx.dtype.__name__} and output {ty.dtype.__name__} must have one type")
    return tx, ty


def _softmax(model, op, args, k):
    """``reference_ops::Softmax<In, Out>`` (reference/softmax.h) with ``SoftmaxPrepare``'s
    kReference parameters: ``PreprocessSoftmaxScaling`` (5 integer bits) and
    ``diff_min = -CalculateInputRadius(5, left_shift)``; int8 -> int8 or uint8 -> uint8."""
    tx, ty = _same_type(model, op)
    (sx, _), (sy, zy) = scalar_q(tx), scalar_q(ty)
    if ty.dtype is np.int8 and (zy != -128 or abs(np.float32(sy) - np.float32(1 / 256)) > np.float32(0.001 / 256)):
        raise Unsupported("an int8 SOFTMAX output needs scale 1/256 and zero point -128 (LiteRT refuses others)")
    integer_bits = 5
    real = min(np.float64(np.float32(op.options.get("beta", 1.0))) * sx * (1 << (31 - integer_bits)),
               (1 << 31) - 1.0)
    if real <= 1:
        raise Unsupported(f"beta * input scale = {real / (1 << 26):.3g} is too small (LiteRT needs > 2^-26)")
    m, s = tflite_multiplier(real)
    left_shift = 31 - s
    diff_min = -int(np.floor(((1 << integer_bits) - 1) * 2.0**(31 - integer_bits) / 2.0**left_shift))
    x = np.asarray(args[0], np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    valid = diff >= diff_min
    exp = fp.exp_on_negative_values(fp.srdhm(np.where(valid, diff, 0) << left_shift, m), integer_bits)
    total = np.where(valid, fp.rdbpot(exp, 12), 0).sum(axis=-1, keepdims=True)  # Rescale<12>, accumulated
    scale, bits_over_unit = fp.reciprocal(total, 12)
    lo, hi = DTYPE_RANGE[ty.dtype]
    out = fp.rdbpot(fp.srdhm(scale, exp), bits_over_unit + 31 - 8) + lo
    return np.where(valid, np.clip(out, lo, hi), lo).astype(ty.dtype)


def _lookup(fn):
    """LOGISTIC / TANH: ``LUTPopulate<T>`` (kernels/internal/common.h) fills a 256-entry
    table in float32 -- ``dequantized = scale * (q - zp)``, ``fn``, ``round(v / out_scale)``
    (``TfLiteRound``: half away from zero) ``+ zp``, clamped -- and Eval looks it up."""
    def kernel(model, op, args, k):
        tx, ty = _same_type(model, op)
        (sx, zx), (sy, zy) = scalar_q(tx), scalar_q(ty)
        if fn is _sigmoid and np.float32(sy) != np.float32(1 / 256):
            raise Unsupported("a LOGISTIC output needs scale 1/256 (LiteRT refuses others)")
        lo, hi = DTYPE_RANGE[tx.dtype]
        q = np.arange(lo, hi + 1)
        dequantized = np.float32(sx) * (q - zx).astype(np.float32)
        rescaled = round_away(fn(dequantized) * (np.float32(1) / np.float32(sy)))
        table = np.clip(rescaled.astype(np.int64) + zy, lo, hi).astype(ty.dtype)
        return table[np.asarray(args[0], np.int64) - lo]
    return kernel


def _sigmoid(v):
    """``1.0f / (1.0f + std::exp(-v))`` in float32 (``exp`` correctly rounded from float64)."""
    return np.float32(1) / (np.float32(1) + np.exp(-v.astype(np.float64)).astype(np.float32))


def _tanh(v):
    """``std::tanh(v)`` of a float32 (correctly rounded from float64)."""
    return np.tanh(v.astype(np.float64)).astype(np.float32)


def _f32(*factors, over):
    """``a * b / c`` of float32 scales in float32, as the kernels' ``Prepare`` computes
    ``double m = input->params.scale * ... / output->params.scale`` (float operands)."""
    v = np.float32(1)
    for f in factors:
        v = v * np.float32(f)
    return np.float64(v / np.float32(over))


def _int16_multiplier(M):
    """``QuantizeMultiplier`` then ``DownScaleInt32ToInt16Multiplier``: (m16, exponent)."""
    m, s = tflite_multiplier(M)
    m16 = (1 << 15) - 1 if m >= (1 << 31) - 1 - (1 << 15) else (m + (1 << 15)) >> 16
    return m16, 31 - s


def _saturate16(v):
    return np.clip(v, -(1 << 15), (1 << 15) - 1)


def _hard_swish(model, op, args, k):
    """``reference_ops::HardSwish<T>(params, ...)`` (reference/hard_swish.h) with
    ``HardSwishPrepare``'s 16-bit multipliers (float32 scale arithmetic)."""
    tx, ty = _same_type(model, op)
    (sx, zx), (sy, zy) = scalar_q(tx), scalar_q(ty)
    hires_scale = np.float32(1 / 128) * np.float32(sx)
    out_m, out_exp = _int16_multiplier(np.float64(hires_scale / np.float32(sy)))
    if out_exp > 0:
        raise Unsupported("HARD_SWISH output scale below input scale / 128 (LiteRT refuses it)")
    rel_m, rel_exp = _int16_multiplier(np.float64(hires_scale / np.float32(3 / 32768)))
    hires = (np.asarray(args[0], np.int64) - zx) * 128
    preshift = fp.srdhm(hires, out_m, bits=16)
    reluish = hires
    if rel_exp > 0:
        reluish = _saturate16(reluish << (rel_exp - 1))
    reluish = fp.srdhm(reluish, rel_m, bits=16)
    if rel_exp > 0:
        reluish = _saturate16(reluish << 1)
    if rel_exp < 0:
        reluish = fp.rdbpot(reluish, -rel_exp)
    reluish = (reluish + (1 << 15)) >> 1
    product = reluish * preshift
    product = np.where(product >= 0, product >> 15, -((-product) >> 15))  # SaturatingDoublingHighMul
    lo, hi = DTYPE_RANGE[ty.dtype]
    return np.clip(fp.rdbpot(product, -out_exp) + zy, lo, hi).astype(ty.dtype)


def _relu(activation):
    """RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1 as ops: ``optimized_ops::ReluX`` (the one
    LiteRT's reference resolver also runs): rescale by ``Sx/Sy`` with
    ``MultiplyByQuantizedMultiplier`` (``Sx/Sy`` divided in float32), zero point, clamp
    to the activation's range."""
    def kernel(model, op, args, k):
        tx, ty = _same_type(model, op)
        (sx, zx), (sy, zy) = scalar_q(tx), scalar_q(ty)
        lo, hi = activation_range(activation, ty)
        return requantize(np.asarray(args[0], np.int64) - zx, _f32(sx, over=sy), k, zero_point=zy, lo=lo,
                          hi=hi, dtype=ty.dtype)
    return kernel


def _leaky_relu(model, op, args, k):
    """``reference_ops::QuantizeLeakyRelu`` (reference/leaky_relu.h): ``x - Zx >= 0``
    rescaled by ``Sx/Sy``, else by ``alpha*Sx/Sy`` (a negative alpha by its magnitude,
    then negated), plus ``Zy``, clamped."""
    tx, ty = _same_type(model, op)
    (sx, zx), (sy, zy) = scalar_q(tx), scalar_q(ty)
    alpha = np.float32(op.options.get("alpha", 0.2))
    x = np.asarray(args[0], np.int64) - zx
    lo, hi = DTYPE_RANGE[ty.dtype]
    ident = requantize(x, _f32(sx, over=sy), k, zero_point=0, lo=-(1 << 31), hi=(1 << 31) - 1, dtype=np.int64)
    a = _f32(sx, alpha, over=sy)
    scaled = requantize(x, abs(a), k, zero_point=0, lo=-(1 << 31), hi=(1 << 31) - 1, dtype=np.int64)
    return np.clip(np.where(x >= 0, ident, -scaled if a < 0 else scaled) + zy, lo, hi).astype(ty.dtype)


def _prelu(model, op, args, k):
    """``reference_ops::Prelu`` / ``BroadcastPrelu4DSlow`` (reference/prelu.h): ``x - Zx
    >= 0`` rescaled by ``Sx/Sy``, else ``(x - Zx)(alpha - Za)`` by ``Sx*Sa/Sy``; alpha
    broadcasts against the input."""
    tx, ty = _same_type(model, op)
    ta = quantized(model, op, 1)
    if ta.dtype is not tx.dtype:
        raise Unsupported("alpha must have the input's type")
    (sx, zx), (sa, za), (sy, zy) = scalar_q(tx), scalar_q(ta), scalar_q(ty)
    x = np.asarray(args[0], np.int64) - zx
    alpha = np.asarray(args[1], np.int64) - za  # numpy's broadcasting is TFLite's (trailing axes)
    lo, hi = DTYPE_RANGE[ty.dtype]
    wide = {"zero_point": 0, "lo": -(1 << 31), "hi": (1 << 31) - 1, "dtype": np.int64}
    pos = requantize(x, _f32(sx, over=sy), k, **wide)
    neg = requantize(x * alpha, _f32(sx, sa, over=sy), k, **wide)
    return np.clip(np.where(x >= 0, pos, neg) + zy, lo, hi).astype(ty.dtype)


KERNELS = {"SOFTMAX": _softmax, "LOGISTIC": _lookup(_sigmoid), "TANH": _lookup(_tanh),
           "HARD_SWISH": _hard_swish, "RELU": _relu("relu"), "RELU6": _relu("relu6"),
           "RELU_N1_TO_1": _relu("relu_n1_to_1"), "LEAKY_RELU": _leaky_relu, "PRELU": _prelu}
#: The ops here whose rescale ``--narrow`` can give a ``k``-bit multiplier.
NARROWABLE = ("RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "PRELU")
