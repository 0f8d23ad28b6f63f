"""Run an int8 .tflite model with integer arithmetic: TFLite mode or a k-bit rescaler.

:func:`run` interprets a :class:`accuracy.tflite.reader.Model` op by op on a batch
(the first dimension of every activation is the batch). Every rescale goes through
:mod:`sim.golden`; convolutions and fully-connected layers accumulate with
:func:`sim.golden.accumulate`.

Two modes:

* ``k=None`` -- **TFLite mode**, bit-exact with LiteRT's *reference* kernels
  (``OpResolverType.BUILTIN_REF``): TFLite's 31-bit ``(m, s)`` from the float64
  scales (``quantize_multiplier(M, 31, method="tflite")``), double rounding
  (``tflite_double``) for CONV_2D, DEPTHWISE_CONV_2D, ADD and re-quantization,
  a single rounding with ties away from zero (``tflite_single``) for
  FULLY_CONNECTED, round-half-away integer division for AVERAGE_POOL_2D, and for MEAN one double
  rounding with the division by the element count folded into the multiplier.
  LiteRT's default (XNNPACK) and optimized kernels round differently; no claim is
  made about them. One documented difference: ``M = 1`` with ``|acc| >= 2^30``
  (LiteRT's int32 left shift overflows; see :func:`sim.golden.rescale`).
* ``k`` an integer -- the **paper's rescaler**: CONV_2D, DEPTHWISE_CONV_2D,
  FULLY_CONNECTED, TRANSPOSE_CONV and BATCH_MATMUL (the dot-product engine's layers)
  rescale with the ``k``-bit ``quantize_multiplier(M32, k)`` (float32 ``M``,
  truncation) and one half-up rounding; every other op keeps TFLite's arithmetic, so a
  change of ``k`` changes only what the engine computes.

Only QUANTIZE (float input) and DEQUANTIZE (float output) touch floats, at the
model's edges. The layout and shape ops (TRANSPOSE, PAD, RESHAPE, STRIDED_SLICE, ...)
are :mod:`accuracy.tflite.layout_ops`'s kernels.
"""

import numpy as np

from sim import golden

from .layout_ops import KERNELS as _LAYOUT_KERNELS
from .quant import Unsupported as _Unsupported, constant_ints, same_quantization as _same_quantization
from .reader import ModelError

__all__ = ["run", "run_batched", "run_op", "quantize_input", "activation_range"]

#: Samples per :func:`run_batched` step: small enough that a layer's int64
#: temporaries stay in cache (larger batches run slower, not faster).
BATCH = 256

# ADD's inputs are shifted left by 20 bits before their rescale (TFLite, int8).
_ADD_LEFT_SHIFT = 20


def _round_away(v):
    """``std::round`` (half away from zero) of float64 values."""
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def quantize_input(x, tensor):
    """Float values to ``tensor``'s int8 quantization as TFLite's QUANTIZE does
    (``round(x / scale)`` in double precision, half away from zero, plus zero point)."""
    scale = np.float64(tensor.scale[0])
    q = _round_away(np.asarray(x, np.float32).astype(np.float64) / scale) + int(tensor.zero_point[0])
    return np.clip(q, golden.INT8_MIN, golden.INT8_MAX).astype(np.int8)


def activation_range(activation, tensor):
    """TFLite's ``CalculateActivationRangeQuantized`` for an int8 output tensor."""
    scale, zp = np.float32(tensor.scale[0]), int(tensor.zero_point[0])

    def q(f):  # zero_point + round(f / scale), the division in float32 as TFLite does
        return zp + int(_round_away(np.float64(np.float32(f) / scale)))

    lo, hi = golden.INT8_MIN, golden.INT8_MAX
    if activation in (None, "none"):
        return lo, hi
    if activation == "relu":
        return max(lo, q(0.0)), hi
    if activation == "relu6":
        return max(lo, q(0.0)), min(hi, q(6.0))
    if activation == "relu_n1_to_1":
        return max(lo, q(-1.0)), min(hi, q(1.0))
    raise ValueError(f"fused activation {activation!r} is not supported")


def run(model, x, *, k=None, keep=False):
    """Run ``model`` on the batch ``x``; returns the output array (or, with ``keep``,
    ``{tensor index: array}`` for every tensor computed).

    ``x`` is the model input's batch: int8 values for an int8 input, floats for a
    float input (a model starting with QUANTIZE). ``k=None`` is TFLite mode, an int
    the paper's ``k``-bit rescaler (module docstring). Raises :class:`ModelError`
    for an op configuration outside what is interpreted (naming the op).
    """
    if k is not None:
        k = golden.check_k(k)
    values = {model.inputs[0]: np.asarray(x)}
    for op in model.ops:
        args = [None if i < 0 else (values[i] if i in values else model.tensors[i].data) for i in op.inputs]
        if any(a is None for a, i in zip(args, op.inputs) if i >= 0):
            missing = next(i for a, i in zip(args, op.inputs) if a is None and i >= 0)
            raise ModelError(f"{model.path}: {model.describe(op)} reads tensor {model.tensors[missing].name!r} "
                             f"before any op writes it")
        try:
            outs = _KERNELS[op.name](model, op, args, k)
        except _Unsupported as exc:
            raise ModelError(f"{model.path}: {model.describe(op)}: {exc}") from None
        values.update(zip(op.outputs, outs if isinstance(outs, tuple) else (outs,)))
    return values if keep else values[model.outputs[0]]


def run_batched(model, x, *, k=None, batch=BATCH):
    """:func:`run` on ``x`` in steps of ``batch`` samples; the output array."""
    return np.concatenate([run(model, x[i:i + batch], k=k) for i in range(0, len(x), batch)])


def run_op(model, op, values, *, k=None):
    """Run the single ``op`` of ``model`` on the tensors in ``values`` (``{tensor index:
    array}``, e.g. from ``run(..., keep=True)``); returns its output. Used to feed one
    layer the inputs of another run (the isolated per-layer error of a ``k``)."""
    args = [None if i < 0 else (values[i] if i in values else model.tensors[i].data) for i in op.inputs]
    try:
        return _KERNELS[op.name](model, op, args, None if k is None else golden.check_k(k))
    except _Unsupported as exc:
        raise ModelError(f"{model.path}: {model.describe(op)}: {exc}") from None


def _q(model, op, j, *, out=False):
    """The (int8, quantized) tensor of input ``j`` (or output ``j``) of ``op``."""
    t = model.tensors[(op.outputs if out else op.inputs)[j]]
    if t.scale is None or t.dtype is not np.int8:
        raise _Unsupported(f"tensor {t.name!r} is not int8-quantized ({t.dtype.__name__})")
    return t


def _scalar_q(t):
    if t.scale.size != 1:
        raise _Unsupported(f"tensor {t.name!r} has per-channel scales where one is expected")
    return np.float64(t.scale[0]), int(t.zero_point[0])


# --- dot-product layers ----------------------------------------------------------------------

def _padding(size, kernel, stride, dilation, padding):
    """Output size and leading pad of one spatial dimension (TFLite's SAME/VALID)."""
    eff = (kernel - 1) * dilation + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + eff - size, 0)
        return out, total // 2
    if padding == "valid":
        return (size - eff) // stride + 1, 0
    raise _Unsupported(f"padding {padding!r} is not supported")


def _patches(x, kh, kw, op, fill):
    """``(N, Ho, Wo, kh*kw, C)`` windows of NHWC ``x`` padded with ``fill``."""
    o = op.options
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    dh, dw = o.get("dilation_h", 1) or 1, o.get("dilation_w", 1) or 1
    if min(sh, sw) < 1:
        raise _Unsupported(f"strides ({sh}, {sw}) must be positive")
    n, h, w, c = x.shape
    ho, ph = _padding(h, kh, sh, dh, o.get("padding", "same"))
    wo, pw = _padding(w, kw, sw, dw, o.get("padding", "same"))
    if ho < 1 or wo < 1:
        raise _Unsupported(f"a {kh}x{kw} window does not fit the {h}x{w} input")
    need_h, need_w = (ho - 1) * sh + (kh - 1) * dh + 1, (wo - 1) * sw + (kw - 1) * dw + 1
    padded = np.full((n, max(need_h, h + ph), max(need_w, w + pw), c), fill, dtype=x.dtype)
    padded[:, ph:ph + h, pw:pw + w] = x
    out = np.empty((n, ho, wo, kh * kw, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, :, i * kw + j] = padded[:, i * dh:i * dh + (ho - 1) * sh + 1:sh,
                                              j * dw:j * dw + (wo - 1) * sw + 1:sw]
    return out


def _multiplier(sx, t_w, sy, *, per_tensor_float32):
    """Per-channel ``M = Sx*Sw/Sy`` as LiteRT computes it: in float64 from the float32
    scales, except the per-tensor FULLY_CONNECTED and BATCH_MATMUL paths, which multiply
    ``Sx*Sw`` in float32 first (``GetQuantizedConvolutionMultipler``)."""
    sw = t_w.scale
    if per_tensor_float32 and sw.size == 1:
        return (np.float32(sx) * sw).astype(np.float64) / np.float64(sy)
    return np.float64(sx) * sw.astype(np.float64) / np.float64(sy)


def _rescale(acc, M, op, y, k, tflite_rounding):
    """The layer's rescale: TFLite's (m, s) and rounding, or the k-bit rescaler."""
    if np.any(M > 1) or np.any(M < 0):
        raise _Unsupported(f"rescale factor M = Sx*Sw/Sy = {float(M.max()):.4g} is outside [0, 1]")
    lo, hi = activation_range(op.options.get("activation"), y)
    if k is None:
        m, s = golden.quantize_multiplier(M, 31, method="tflite")
        return golden.rescale(acc, m, s, zero_point=int(y.zero_point[0]), act_min=lo, act_max=hi,
                              rounding=tflite_rounding, k=31)
    m, s = golden.quantize_multiplier(M.astype(np.float32), k)
    return golden.rescale(acc, m, s, zero_point=int(y.zero_point[0]), act_min=lo, act_max=hi, k=k)


def _bias(model, op, c, w_sum, zx, *, index=2):
    """``b_eff = bias - Zx * sum(w)``: the input zero point folded into the bias (input
    ``index`` of ``op``), so that :func:`sim.golden.accumulate` sees raw int8 activations
    (padding holds ``Zx``)."""
    bias = np.zeros(c, np.int64)
    if len(op.inputs) > index and op.inputs[index] >= 0:
        b = model.tensors[op.inputs[index]]
        if b.data is None or b.dtype is not np.int32:
            raise _Unsupported("the bias must be a constant int32 tensor")
        bias = b.data.astype(np.int64).reshape(c)
    b_eff = bias - zx * w_sum
    if np.any(b_eff < np.iinfo(np.int32).min) or np.any(b_eff > np.iinfo(np.int32).max):
        raise _Unsupported("bias - Zx * sum(w) leaves int32")
    return b_eff


def _weights(model, op):
    t = _q(model, op, 1)
    if t.data is None:
        raise _Unsupported("the weights must be a constant tensor")
    if np.any(t.zero_point != 0):
        raise _Unsupported("weights with a nonzero zero point are not supported")
    return t


def _conv(model, op, args, k):
    x, (sx, zx) = args[0], _scalar_q(_q(model, op, 0))
    tw, ty = _weights(model, op), _q(model, op, 0, out=True)
    w = tw.data  # (Cout, kh, kw, Cin)
    cout, kh, kw, cin = w.shape
    if x.shape[-1] != cin:
        raise _Unsupported(f"{x.shape[-1]} input channels, weights expect {cin}")
    p = _patches(x, kh, kw, op, zx)
    n, ho, wo = p.shape[:3]
    w2 = w.reshape(cout, kh * kw * cin)
    acc = golden.accumulate(p.reshape(n, ho, wo, -1), w2,
                            _bias(model, op, cout, w2.astype(np.int64).sum(1), zx))
    M = _multiplier(sx, tw, _scalar_q(ty)[0], per_tensor_float32=False)
    return _rescale(acc, M, op, ty, k, "tflite_double")


def _dwconv(model, op, args, k):
    x, (sx, zx) = args[0], _scalar_q(_q(model, op, 0))
    tw, ty = _weights(model, op), _q(model, op, 0, out=True)
    w = tw.data  # (1, kh, kw, Cout), Cout = Cin * depth_multiplier
    _, kh, kw, cout = w.shape
    cin = x.shape[-1]
    if cout % cin:
        raise _Unsupported(f"{cout} output channels are not a multiple of {cin} input channels")
    p = _patches(x, kh, kw, op, zx)  # (N, Ho, Wo, kh*kw, Cin)
    if cout != cin:
        p = np.repeat(p, cout // cin, axis=-1)  # output channel c reads input channel c // dm
    w2 = w.reshape(kh * kw, cout).T  # (Cout, kh*kw)
    b_eff = _bias(model, op, cout, w2.astype(np.int64).sum(1), zx)
    acc = golden.accumulate_depthwise(np.swapaxes(p, -1, -2), w2, b_eff)  # taps of channel c: p[..., c]
    M = _multiplier(sx, tw, _scalar_q(ty)[0], per_tensor_float32=False)
    return _rescale(acc, M, op, ty, k, "tflite_double")


def _fc(model, op, args, k):
    x, (sx, zx) = args[0], _scalar_q(_q(model, op, 0))
    tw, ty = _weights(model, op), _q(model, op, 0, out=True)
    if op.options.get("weights_format", 0) != 0:
        raise _Unsupported("only the DEFAULT weights format is supported")
    w = tw.data  # (C, L)
    c, length = w.shape
    if x.size % (len(x) * length):
        raise _Unsupported(f"the input {list(x.shape[1:])} does not flatten to rows of {length}")
    rows = x.reshape(-1, length)
    acc = golden.accumulate(rows, w, _bias(model, op, c, w.astype(np.int64).sum(1), zx))
    M = _multiplier(sx, tw, _scalar_q(ty)[0], per_tensor_float32=True)
    y = _rescale(acc, M, op, ty, k, "tflite_single")
    return y.reshape(x.shape[:-1] + (c,)) if op.options.get("keep_num_dims") else y


def _transpose_conv(model, op, args, k):
    """transpose_conv.cc (inputs: output shape, OHWI weights, input, optional bias) with
    reference_integer_ops::TransposeConv: every input element scatters ``(x - Zx) * w``
    onto the output, padding from ``ComputePaddingHeightWidth`` on the output size;
    per-channel ``MultiplyByQuantizedMultiplier`` and the fused activation.

    Computed as the equivalent correlation: the input spread out by the strides (gaps
    holding ``Zx``, which add nothing once the bias folds ``-Zx * sum(w)`` in), padded,
    and the kernel flipped; so :func:`sim.golden.accumulate` sums it like CONV_2D."""
    x, (sx, zx) = args[2], _scalar_q(_q(model, op, 2))
    tw, ty = _weights(model, op), _q(model, op, 0, out=True)
    w = tw.data
    if w.ndim != 4 or x.ndim != 4 or x.shape[-1] != w.shape[3]:
        raise _Unsupported(f"input {list(x.shape[1:])} and weights {list(w.shape)} (OHWI) do not fit")
    cout, kh, kw, cin = w.shape
    if tw.scale.size not in (1, cout):
        raise _Unsupported(f"{tw.scale.size} weight scales for {cout} output channels")
    shape = constant_ints(model, op, 0, args, "output shape")
    if shape.shape != (4,) or shape[0] != 1 or shape[3] != cout:
        raise _Unsupported(f"output shape {shape.tolist()} is not [1, H, W, {cout}]")
    sh, sw = op.options.get("stride_h", 0), op.options.get("stride_w", 0)
    if min(sh, sw) < 1:
        raise _Unsupported(f"strides ({sh}, {sw}) must be positive")
    out_h, out_w = int(shape[1]), int(shape[2])
    pads = [_padding(size, kernel, stride, 1, op.options.get("padding", "same"))[1]
            for size, kernel, stride in ((out_h, kh, sh), (out_w, kw, sw))]
    n, h, wd = x.shape[:3]
    grid = np.full((n, out_h + kh - 1, out_w + kw - 1, cin), zx, dtype=np.int8)
    rows = np.arange(h) * sh + kh - 1 - pads[0]  # where input row i lands in the padded grid
    cols = np.arange(wd) * sw + kw - 1 - pads[1]
    keep_r, keep_c = (rows >= 0) & (rows < grid.shape[1]), (cols >= 0) & (cols < grid.shape[2])
    grid[:, rows[keep_r][:, None], cols[keep_c][None, :]] = x[:, keep_r][:, :, keep_c]
    windows = np.lib.stride_tricks.sliding_window_view(grid, (kh, kw), axis=(1, 2))  # (N, H, W, Cin, kh, kw)
    patches = np.moveaxis(windows, 3, 5).reshape(n, out_h, out_w, kh * kw * cin)
    w2 = w[:, ::-1, ::-1, :].reshape(cout, kh * kw * cin)
    acc = golden.accumulate(patches, w2, _bias(model, op, cout, w2.astype(np.int64).sum(1), zx, index=3))
    M = _multiplier(sx, tw, _scalar_q(ty)[0], per_tensor_float32=False)
    return _rescale(acc, M, op, ty, k, "tflite_double")


def _batch_matmul(model, op, args, k):
    """batch_matmul.cc ``EvalInt8Int8`` with reference_ops::BatchMatMul: ``sum (lhs - Zl)
    * (rhs - Zr)`` in int32 over broadcast batch dimensions (``adj_x`` / ``adj_y``
    transpose the last two axes), one per-tensor multiplier (``Sl*Sr`` in float32), no
    activation. Either operand may be a constant. Each sample is multiplied as the model
    describes it (its first dimension 1), samples along a new leading axis."""
    tl, tr, ty = _q(model, op, 0), _q(model, op, 1), _q(model, op, 0, out=True)
    (sl, zl), (sr, zr) = _scalar_q(tl), _scalar_q(tr)
    batched = [t.data is None for t in (tl, tr)]
    if not any(batched):
        raise _Unsupported("both operands are constants: the output is not computed per sample")
    n = len(args[batched.index(True)])
    shapes = [(1,) + a.shape[1:] if b else a.shape for a, b in zip(args, batched)]
    if not all(2 <= len(s) <= 5 for s in shapes):
        raise _Unsupported(f"operands {[list(s) for s in shapes]}: BATCH_MATMUL takes ranks 2 to 5")
    rank = max(len(s) for s in shapes)  # broadcasting aligns the shapes on the right
    lhs, rhs = (a.reshape((n if b else 1,) + (1,) * (rank - len(s)) + s).astype(np.int64) - z
                for a, b, s, z in zip(args, batched, shapes, (zl, zr)))
    if op.options.get("adj_x"):
        lhs = np.swapaxes(lhs, -1, -2)
    if op.options.get("adj_y"):
        rhs = np.swapaxes(rhs, -1, -2)
    try:
        # exact: |products| <= 255^2, so float64 sums of fewer than 2^37 terms are integers
        acc = np.matmul(lhs.astype(np.float64), rhs.astype(np.float64)).astype(np.int64)
    except ValueError:
        raise _Unsupported(f"operands {list(lhs.shape[1:])} and {list(rhs.shape[1:])} do not multiply") from None
    if acc.shape[1] != 1:
        raise _Unsupported(f"the output of one sample has shape {list(acc.shape[1:])}: its first dimension is not "
                          f"a batch of 1, so samples cannot run together")
    lo = np.iinfo(np.int32).min
    acc = (acc.reshape((n,) + acc.shape[2:]) - lo) % (1 << 32) + lo  # the int32 accumulator wraps
    M = _multiplier(sl, tr, _scalar_q(ty)[0], per_tensor_float32=True)
    return _rescale(acc, M, op, ty, k, "tflite_double")


# --- element-wise and data-movement ops -------------------------------------------------------

def _add(model, op, args, k):
    (s1, z1), (s2, z2) = _scalar_q(_q(model, op, 0)), _scalar_q(_q(model, op, 1))
    ty = _q(model, op, 0, out=True)
    sy, zy = _scalar_q(ty)
    twice_max = 2 * np.float64(max(np.float32(s1), np.float32(s2)))
    Ms = (s1 / twice_max, s2 / twice_max, twice_max / ((1 << _ADD_LEFT_SHIFT) * sy))
    if Ms[2] >= 1:
        raise _Unsupported(f"output rescale {Ms[2]:.4g} >= 1 (an output scale this small is rejected by TFLite)")
    (m1, sh1), (m2, sh2), (mo, sho) = (golden.quantize_multiplier(M, 31, method="tflite") for M in Ms)
    a, b = (np.asarray(v, np.int64) for v in args[:2])
    a1 = golden.rounded_product((a - z1) << _ADD_LEFT_SHIFT, m1, sh1, rounding="tflite_double", k=31)
    b1 = golden.rounded_product((b - z2) << _ADD_LEFT_SHIFT, m2, sh2, rounding="tflite_double", k=31)
    lo, hi = activation_range(op.options.get("activation"), ty)
    return golden.rescale(a1 + b1, mo, sho, zero_point=zy, act_min=lo, act_max=hi, rounding="tflite_double", k=31)


def _pool(model, op, args, k):
    x, t_in, ty = args[0], _q(model, op, 0), _q(model, op, 0, out=True)
    _same_quantization(model, op, t_in, ty)
    kh, kw = op.options.get("filter_h", 1), op.options.get("filter_w", 1)
    p = _patches(x, kh, kw, op, 0).astype(np.int64)
    valid = _patches(np.ones(x.shape[:3] + (1,), np.int8), kh, kw, op, 0)[..., 0].astype(bool)  # in-bounds taps
    lo, hi = activation_range(op.options.get("activation"), ty)
    if op.name == "MAX_POOL_2D":
        y = np.where(valid[..., None], p, np.iinfo(np.int64).min).max(axis=3)
    else:
        count = valid.sum(axis=3)[..., None]
        y = _div_round_away(p.sum(axis=3), count)
    return np.clip(y, lo, hi).astype(np.int8)


def _div_round_away(acc, count):
    """TFLite's ``acc > 0 ? (acc + n/2) / n : (acc - n/2) / n`` in C's truncating division."""
    q = (np.abs(acc) + count // 2) // count
    return np.where(acc > 0, q, -q)


def _mean(model, op, args, k):
    x, t_in, ty = args[0], _q(model, op, 0), _q(model, op, 0, out=True)
    axes = model.tensors[op.inputs[1]].data
    if axes is None:
        raise _Unsupported("the axes must be a constant tensor")
    axes = sorted({int(a) % x.ndim for a in np.atleast_1d(axes)})
    if x.ndim != 4 or axes != [1, 2]:
        raise _Unsupported(f"only the spatial mean of a 4-D tensor (axes 1, 2) is supported, not axes {axes}")
    (sx, zx), (sy, zy) = _scalar_q(t_in), _scalar_q(ty)
    count = x.shape[1] * x.shape[2]
    acc = (x.astype(np.int64) - zx).sum(axis=(1, 2))
    m, s = _mean_multiplier(sx / sy, count)
    acc = golden.rounded_product(acc, m, s, rounding="tflite_double", k=31) + zy
    y = np.clip(acc, golden.INT8_MIN, golden.INT8_MAX).astype(np.int8)
    return y[:, None, None, :] if op.options.get("keep_dims") else y


def _mean_multiplier(M, count):
    """TFLite's integer MEAN: ``(m, s)`` of ``M = Sx/Sy`` with the division by the
    element count folded in (``m' = (m << j) // count``, ``s' = s + j``,
    ``j = min(floor(log2 count), 32, s)``), so one double rounding does both."""
    e = max(int(np.frexp(M)[1]), 0)  # M > 1: quantize M / 2^e, then shift e less
    m, s = golden.quantize_multiplier(M / 2.0**e, 31, method="tflite")
    s -= e
    j = min(count.bit_length() - 1, 32, s)
    return (m << j) // count, s + j


def _concat(model, op, args, k):
    ty = model.tensors[op.outputs[0]]
    for i in op.inputs:
        _same_quantization(model, op, model.tensors[i], ty)
    axis = op.options.get("axis", 0) % len(ty.shape)
    if axis == 0:
        raise _Unsupported("concatenation along the batch axis is not supported")
    if op.options.get("activation", "none") != "none":
        raise _Unsupported("a fused activation on CONCATENATION is not supported")
    return np.concatenate(args, axis=axis)


def _quantize(model, op, args, k):
    t_in, ty = model.tensors[op.inputs[0]], _q(model, op, 0, out=True)
    if t_in.dtype is np.float32:
        return quantize_input(args[0], ty)
    (sx, zx), (sy, zy) = _scalar_q(_q(model, op, 0)), _scalar_q(ty)
    M = sx / sy
    if M > 1:
        raise _Unsupported(f"re-quantization by {M:.4g} > 1 is not supported")
    m, s = golden.quantize_multiplier(M, 31, method="tflite")
    return golden.rescale(np.asarray(args[0], np.int64) - zx, m, s, zero_point=zy, rounding="tflite_double", k=31)


def _dequantize(model, op, args, k):
    sx, zx = _scalar_q(_q(model, op, 0))
    return (sx * (np.asarray(args[0], np.int64) - zx)).astype(np.float32)


_KERNELS = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _dwconv, "FULLY_CONNECTED": _fc, "ADD": _add,
            "TRANSPOSE_CONV": _transpose_conv, "BATCH_MATMUL": _batch_matmul,
            "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "MEAN": _mean,
            "CONCATENATION": _concat, "QUANTIZE": _quantize, "DEQUANTIZE": _dequantize, **_LAYOUT_KERNELS}
