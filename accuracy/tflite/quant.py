"""What every kernel of :mod:`accuracy.tflite.interpreter` shares: quantized tensors,
TFLite's multipliers and activation ranges, and the one choice between TFLite's
arithmetic and the paper's ``k``-bit rescaler.

A kernel is ``f(model, op, args, k) -> array`` (or a tuple of arrays, one per output
of the op). ``k`` is ``None`` for TFLite's arithmetic, bit-exact with LiteRT's
reference kernels, or a :class:`Narrowing` when the op is one whose multipliers the
run narrows to ``k`` bits; the run loop decides which ops those are, so a kernel
never has to. A kernel raises :class:`Unsupported` (one line, no op name: the run
loop adds it) for a configuration it cannot run.
"""

from dataclasses import dataclass

import numpy as np

from sim import golden

__all__ = ["Unsupported", "Narrowing", "MULTIPLIERS", "DTYPE_RANGE", "quantized", "scalar_q", "round_away",
           "quantize_input", "activation_range", "tflite_multiplier", "multiply", "requantize", "same_quantization",
           "constant_ints"]

#: ``--multiplier`` choices and the :func:`sim.golden.quantize_multiplier` method of each.
MULTIPLIERS = {"truncate": "truncate", "round": "nearest"}
#: Value range of each quantized element type.
DTYPE_RANGE = {np.int8: (-128, 127), np.uint8: (0, 255)}


class Unsupported(Exception):
    """An op configuration a kernel cannot run; the message is one line."""


@dataclass(frozen=True)
class Narrowing:
    """How a narrowed op rescales: the paper's ``k``-bit multiplier.

    ``multiplier`` is ``"truncate"`` (the paper's bit selection, bit-exact with the
    RTL) or ``"round"`` (round-to-nearest ``m``). ``mean_acc`` (``{op index: mean
    accumulator per output channel}``, from :func:`accuracy.tflite.interpreter.calibrate`)
    turns on bias compensation in the dot-product ops. ``k=None`` with a dict in
    ``record`` is the calibration run: TFLite's arithmetic, recording accumulators.
    """
    k: int = None
    multiplier: str = "truncate"
    mean_acc: dict = None
    record: dict = None

    def __post_init__(self):
        if self.k is not None:
            golden.check_k(self.k)
        if self.multiplier not in MULTIPLIERS:
            raise ValueError(f"multiplier must be one of {', '.join(MULTIPLIERS)}, not {self.multiplier!r}")

    def quantize(self, M):
        """``(m, s)`` of the ``k``-bit rescaler for float scales ``M`` in ``[0, 1]``."""
        if np.any(np.asarray(M) > 1):
            raise Unsupported(f"rescale factor {float(np.max(M)):.4g} > 1 cannot be narrowed to a k-bit "
                              f"multiplier (M must be at most 1)")
        return golden.quantize_multiplier(np.asarray(M, np.float32), self.k, method=MULTIPLIERS[self.multiplier])


def quantized(model, op, j, *, out=False):
    """The quantized (int8 or uint8) tensor of input ``j`` (or output ``j``) of ``op``."""
    t = model.tensors[(op.outputs if out else op.inputs)[j]]
    if t.scale is None or t.dtype not in DTYPE_RANGE:
        kind = getattr(t.dtype, "__name__", t.dtype)
        raise Unsupported(f"tensor {t.name!r} is not int8- or uint8-quantized ({kind})")
    return t


def scalar_q(t):
    """``(scale as float64, zero point)`` of a per-tensor quantized tensor."""
    if t.scale.size != 1:
        raise Unsupported(f"tensor {t.name!r} has per-channel scales where one is expected")
    return np.float64(t.scale[0]), int(t.zero_point[0])


def round_away(v):
    """``std::round`` (half away from zero) of float values, in their own precision,
    exact for every value: ``floor(|v| + 0.5)`` is not (in float32, 0.49999997 + 0.5
    rounds to 1), while taking the integer part and comparing the exact remainder with
    one half is."""
    t = np.trunc(v)
    return t + np.where(np.abs(v - t) >= 0.5, np.sign(v), 0)


def quantize_input(x, tensor):
    """Float values to ``tensor``'s quantization as TFLite's QUANTIZE does
    (``round(x / scale)`` in double precision, half away from zero, plus zero point)."""
    scale = np.float64(tensor.scale[0])
    q = round_away(np.asarray(x, np.float32).astype(np.float64) / scale) + int(tensor.zero_point[0])
    lo, hi = DTYPE_RANGE[tensor.dtype]
    return np.clip(q, lo, hi).astype(tensor.dtype)


def activation_range(activation, tensor):
    """TFLite's ``CalculateActivationRangeQuantized`` for an int8 or uint8 output tensor
    (``zero_point + round(f / scale)``, the division in float32, clamped to the type)."""
    scale, zp = np.float32(tensor.scale[0]), int(tensor.zero_point[0])

    def q(f):
        return zp + int(round_away(np.float32(f) / scale))

    lo, hi = DTYPE_RANGE[tensor.dtype]
    if activation in (None, "none"):
        return lo, hi
    if activation == "relu":
        return max(lo, q(0.0)), hi
    if activation == "relu6":
        return max(lo, q(0.0)), min(hi, q(6.0))
    if activation == "relu_n1_to_1":
        return max(lo, q(-1.0)), min(hi, q(1.0))
    raise Unsupported(f"fused activation {activation!r} is not supported")


def tflite_multiplier(M):
    """TFLite's ``QuantizeMultiplier`` of any positive double ``M`` as ``(m, s)``,
    ``M ~ m * 2^-s`` with a 31-bit ``m``; ``s < 31`` is TFLite's left shift."""
    M = np.float64(M)
    e = max(int(np.frexp(M)[1]), 0)  # M >= 1: quantize M / 2^e, then shift e less
    m, s = golden.quantize_multiplier(M / 2.0**e, 31, method="tflite")
    if m and s - e < 0:
        raise Unsupported(f"rescale factor {M:.4g} is too large (at least 2^31)")
    return m, (s - e if m else 0)


def multiply(acc, m, s):
    """TFLite's ``MultiplyByQuantizedMultiplier`` (double rounding) of int32 values."""
    return golden.rounded_product(np.asarray(acc, np.int64), m, s, rounding="tflite_double", k=31)


def requantize(acc, M, k, *, zero_point, lo, hi, dtype):
    """``clamp(round(M * acc) + zero_point, lo, hi)`` as ``dtype``: TFLite's
    ``MultiplyByQuantizedMultiplier`` when ``k`` is None, else the ``k``-bit rescaler
    (``k.quantize``) with the paper's one half-up rounding."""
    if k is None or k.k is None:
        y = multiply(acc, *tflite_multiplier(M))
    else:
        m, s = k.quantize(M)
        y = golden.rounded_product(np.asarray(acc, np.int64), m, s, rounding="half_up", k=k.k)
    return np.clip(y + zero_point, lo, hi).astype(dtype)


def same_quantization(model, op, t_in, t_out):
    """Refuse two tensors whose scales (as float32) or zero points differ (TFLite's
    ``TF_LITE_ENSURE_EQ`` on ``params.scale`` and ``params.zero_point``)."""
    if t_in.scale is None and t_out.scale is None:
        return
    if (t_in.scale is None or t_out.scale is None or t_in.scale.size != 1 or t_out.scale.size != 1
            or np.float32(t_in.scale[0]) != np.float32(t_out.scale[0]) or t_in.zero_point[0] != t_out.zero_point[0]):
        raise Unsupported(f"input {t_in.name!r} and output {t_out.name!r} must share one scale and zero point")


def constant_ints(model, op, j, args, what):
    """Input ``j`` of ``op`` as int64 values: a constant integer tensor (axes, shapes,
    paddings, indices), given in the file or folded when the model was loaded; ``what``
    names it in errors."""
    if j >= len(op.inputs) or op.inputs[j] < 0:
        raise Unsupported(f"the {what} input is missing")
    t = model.tensors[op.inputs[j]]
    if t.dtype not in (np.int32, np.int64):
        raise Unsupported(f"the {what} must be an int32 tensor")
    if t.data is None:
        raise Unsupported(f"the {what} ({t.name!r}) must be a constant (or computable when the model is loaded)")
    return np.asarray(args[j]).astype(np.int64)
