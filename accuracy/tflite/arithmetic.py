"""Element-wise arithmetic, MEAN, SUM, concatenation and (de)quantization kernels,
bit-exact with LiteRT's reference kernels (``BUILTIN_REF``) -- SUM with its optimized
kernel, the reference one being wrong for int8.

Each kernel names the LiteRT source it follows (int8/uint8 paths of the reference
kernel type). Binary ops broadcast as numpy does, which is TFLite's rule (trailing
axes aligned, size-1 axes stretched). Every rescale goes through
:func:`accuracy.tflite.quant.requantize`, so an op named in ``--narrow`` gets the
``k``-bit multiplier in each of its rescales (:data:`NARROWABLE`).
"""

import numpy as np

from .quant import (DTYPE_RANGE, Unsupported, activation_range, multiply, quantize_input, quantized, requantize,
                    round_away, scalar_q, tflite_multiplier)

__all__ = ["KERNELS", "NARROWABLE"]

# ADD's and SUB's inputs are shifted left by 20 bits before their rescale (8-bit types).
_LEFT_SHIFT = 20
_INT32 = {"zero_point": 0, "lo": -(1 << 31), "hi": (1 << 31) - 1, "dtype": np.int64}


def _binary(model, op):
    t1, t2, ty = quantized(model, op, 0), quantized(model, op, 1), quantized(model, op, 0, out=True)
    if not t1.dtype is t2.dtype is ty.dtype:
        raise Unsupported("both inputs and the output must have one type")
    return scalar_q(t1), scalar_q(t2), ty


def _add_sub(sign):
    """ADD (add.cc, ``reference_integer_ops::Add`` / ``BroadcastAdd6DSlow``) and SUB
    (sub.cc, ``reference_ops::Sub`` / ``BroadcastQuantSubSlow``): each input minus its
    zero point, shifted left 20 bits and rescaled by ``S_i / (2 max(S1, S2))``, the sum
    (difference) rescaled by ``2 max(S1, S2) / (2^20 Sy)``, all with
    ``MultiplyByQuantizedMultiplierSmallerThanOneExp``."""
    def kernel(model, op, args, k):
        (s1, z1), (s2, z2), ty = _binary(model, op)
        sy, zy = scalar_q(ty)
        twice_max = 2 * np.float64(max(np.float32(s1), np.float32(s2)))
        M_out = twice_max / ((1 << _LEFT_SHIFT) * sy)
        if M_out >= 1:
            raise Unsupported(f"output rescale {M_out:.4g} >= 1 (an output scale this small is rejected by TFLite)")
        a = requantize((np.asarray(args[0], np.int64) - z1) << _LEFT_SHIFT, s1 / twice_max, k, **_INT32)
        b = requantize((np.asarray(args[1], np.int64) - z2) << _LEFT_SHIFT, s2 / twice_max, k, **_INT32)
        lo, hi = activation_range(op.options.get("activation"), ty)
        return requantize(a + sign * b, M_out, k, zero_point=zy, lo=lo, hi=hi, dtype=ty.dtype)
    return kernel


def _mul(model, op, args, k):
    """MUL (mul.cc, ``reference_integer_ops::Mul`` / ``BroadcastMul6DSlow``):
    ``(a - Za)(b - Zb)`` rescaled by ``Sa*Sb/Sy`` -- computed in float32, as the
    kernel's ``Prepare`` multiplies the float scales -- plus ``Zy``, clamped."""
    (s1, z1), (s2, z2), ty = _binary(model, op)
    sy, zy = scalar_q(ty)
    M = np.float64(np.float32(s1) * np.float32(s2) / np.float32(sy))
    acc = (np.asarray(args[0], np.int64) - z1) * (np.asarray(args[1], np.int64) - z2)
    lo, hi = activation_range(op.options.get("activation"), ty)
    return requantize(acc, M, k, zero_point=zy, lo=lo, hi=hi, dtype=ty.dtype)


def _reduction(model, op, args):
    """What MEAN and SUM share: the input as int64, the reduced axes (sorted, never the
    batch axis), their element count ``n`` and both tensors' ``(scale, zero point)``."""
    x, tx, ty = np.asarray(args[0], np.int64), quantized(model, op, 0), quantized(model, op, 0, out=True)
    axes = model.tensors[op.inputs[1]].data
    if axes is None:
        raise Unsupported("the axes must be a constant tensor")
    axes = tuple(sorted({int(a) % x.ndim for a in np.atleast_1d(axes)}))
    if 0 in axes:
        raise Unsupported("reducing over the batch axis is not supported")
    count = int(np.prod([x.shape[a] for a in axes]))
    return x, axes, count, scalar_q(tx), scalar_q(ty), ty


def _keep_dims(op, y, axes):
    return np.expand_dims(y, axes) if op.options.get("keep_dims") else y


def _mean(model, op, args, k):
    """MEAN (reduce.cc, ``reference_ops::QuantizedMeanOrSum``): the sum of ``x - Zx``
    over the axes rescaled by ``Sx/Sy`` with ``MultiplyByQuantizedMultiplier``, the
    division by the element count ``n`` folded into the multiplier (``m' = (m << j) // n``,
    ``s' = s + j``, ``j = min(floor(log2 n), 32, 31 + shift)``)."""
    x, axes, count, (sx, zx), (sy, zy), ty = _reduction(model, op, args)
    acc = (x - zx).sum(axis=axes)
    lo, hi = DTYPE_RANGE[ty.dtype]
    if k is None or k.k is None:
        m, s = tflite_multiplier(sx / sy)
        j = min(count.bit_length() - 1, 32, 62 - s)
        y = np.clip(multiply(acc, (m << j) // count, s + j) + zy, lo, hi).astype(ty.dtype)
    else:
        y = requantize(acc, sx / sy / count, k, zero_point=zy, lo=lo, hi=hi, dtype=ty.dtype)
    return _keep_dims(op, y, axes)


def _sum(model, op, args, k):
    """SUM (reduce.cc ``EvalSum``, ``optimized_ops::QuantizedMeanOrSum`` with
    ``compute_sum``), in float32 as that kernel computes it: ``scale = Sx / Sy``,
    ``bias = -Zx * scale * n``, ``clamp(round(float(sum of x) * scale + bias) + Zy)``,
    ties away from zero, the same formula whatever the two quantizations. It follows
    LiteRT's optimized kernel, not its reference one, whose int8 SUM gives wrong
    results (docs/tflite.md). Narrowed, the sum of ``x - Zx`` gets the ``k``-bit
    rescale by ``Sx / Sy``."""
    x, axes, count, (sx, zx), (sy, zy), ty = _reduction(model, op, args)
    lo, hi = DTYPE_RANGE[ty.dtype]
    if k is None or k.k is None:
        scale = np.float32(sx) / np.float32(sy)
        bias = np.float32(-zx) * scale * np.float32(count)
        v = round_away(x.sum(axis=axes).astype(np.float32) * scale + bias)
        y = np.clip(v.astype(np.int64) + zy, lo, hi).astype(ty.dtype)
    else:
        y = requantize((x - zx).sum(axis=axes), sx / sy, k, zero_point=zy, lo=lo, hi=hi, dtype=ty.dtype)
    return _keep_dims(op, y, axes)


def _concat(model, op, args, k):
    """CONCATENATION (concatenation.cc): int8 inputs must share the output's scale and
    zero point (LiteRT's ``Prepare`` refuses others); uint8 inputs that differ are
    requantized in float32 as ``ConcatenationWithScaling`` does:
    ``round(q * (S_i * (1/Sy)) - Z_i * that) + Zy``."""
    ty = quantized(model, op, 0, out=True)
    if op.options.get("activation", "none") not in ("none", None):
        raise Unsupported("a fused activation on CONCATENATION is refused by LiteRT")
    axis = op.options.get("axis", 0) % len(ty.shape)
    if axis == 0:
        raise Unsupported("concatenation along the batch axis is not supported")
    sy, zy = scalar_q(ty)
    parts = []
    for j, arg in enumerate(args):
        t = quantized(model, op, j)
        s, z = scalar_q(t)
        if t.dtype is not ty.dtype:
            raise Unsupported("every input must have the output's type")
        if np.float32(s) == np.float32(sy) and z == zy:
            parts.append(np.asarray(arg))
            continue
        if ty.dtype is np.int8:
            raise Unsupported(f"int8 input {t.name!r} has another scale or zero point than the output "
                              f"(LiteRT refuses int8 CONCATENATION that would requantize)")
        if k is None or k.k is None:
            scale = np.float32(s) * (np.float32(1) / np.float32(sy))
            bias = np.float32(-z) * scale
            v = round_away(np.asarray(arg).astype(np.float32) * scale + bias).astype(np.int64) + zy
            parts.append(np.clip(v, 0, 255).astype(np.uint8))
        else:
            parts.append(requantize(np.asarray(arg, np.int64) - z, s / sy, k, zero_point=zy, lo=0, hi=255,
                                    dtype=np.uint8))
    return np.concatenate(parts, axis=axis)


def _quantize(model, op, args, k):
    """QUANTIZE (quantize.cc): float -> int8/uint8 with ``reference_ops::AffineQuantize``
    (``round(x / scale)`` in double, ties away from zero); int8/uint8 -> int8/uint8 with
    ``reference_ops::Requantize`` (``MultiplyByQuantizedMultiplier`` by ``Sx/Sy``)."""
    t_in, ty = model.tensors[op.inputs[0]], quantized(model, op, 0, out=True)
    if t_in.dtype is np.float32:
        return quantize_input(args[0], ty)
    (sx, zx), (sy, zy) = scalar_q(quantized(model, op, 0)), scalar_q(ty)
    lo, hi = DTYPE_RANGE[ty.dtype]
    return requantize(np.asarray(args[0], np.int64) - zx, sx / sy, k, zero_point=zy, lo=lo, hi=hi, dtype=ty.dtype)


def _dequantize(model, op, args, k):
    """DEQUANTIZE (``reference_ops::Dequantize``): ``float(scale * (q - zp))``, the
    product in double."""
    sx, zx = scalar_q(quantized(model, op, 0))
    return (sx * (np.asarray(args[0], np.int64) - zx)).astype(np.float32)


KERNELS = {"ADD": _add_sub(1), "SUB": _add_sub(-1), "MUL": _mul, "MEAN": _mean, "SUM": _sum,
           "CONCATENATION": _concat, "QUANTIZE": _quantize, "DEQUANTIZE": _dequantize}
#: The ops here whose rescales ``--narrow`` can give a ``k``-bit multiplier.
NARROWABLE = ("ADD", "SUB", "MUL", "MEAN", "SUM", "CONCATENATION", "QUANTIZE")
