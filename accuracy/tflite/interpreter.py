"""Run an int8 .tflite model with integer arithmetic: TFLite mode or a k-bit rescaler.

:func:`run` interprets a :class:`accuracy.tflite.reader.Model` op by op on a batch
(the first dimension of every activation is the batch). Every rescale goes through
:mod:`sim.golden`; convolutions and fully-connected layers accumulate with
:func:`sim.golden.accumulate`. The kernels live in a dispatch table,
:data:`KERNELS` (``name -> f(model, op, args, k)``, see :mod:`accuracy.tflite.quant`):
the dot-product layers, pooling and RESHAPE here, the rest in
:mod:`accuracy.tflite.activations` and :mod:`accuracy.tflite.arithmetic`, each
module's ``KERNELS`` merged in with one line.

Two modes:

* ``k=None`` -- **TFLite mode**, bit-exact with LiteRT's *reference* kernels
  (``OpResolverType.BUILTIN_REF``): TFLite's 31-bit ``(m, s)`` from the float64
  scales (``quantize_multiplier(M, 31, method="tflite")``), double rounding
  (``tflite_double``) for CONV_2D, DEPTHWISE_CONV_2D and the element-wise ops,
  a single rounding with ties away from zero (``tflite_single``) for
  FULLY_CONNECTED, round-half-away integer division for AVERAGE_POOL_2D; each other
  kernel names the LiteRT source it follows. LiteRT's default (XNNPACK) and
  optimized kernels round differently; no claim is made about them, except for SUM,
  which follows the optimized kernel (LiteRT's reference SUM of int8 is wrong). One
  documented difference: ``M = 1`` with ``|acc| >= 2^30`` (LiteRT's int32 left shift
  overflows; see :func:`sim.golden.rescale`).
* ``k`` an integer -- the **paper's rescaler** in the ops of ``narrow`` (by default
  :data:`DEFAULT_NARROW`, the dot-product engine's layers): their rescales use the
  ``k``-bit ``quantize_multiplier(M32, k)`` (float32 ``M``; truncation, or
  round-to-nearest with ``multiplier="round"``) and one half-up rounding; every
  other op keeps TFLite's arithmetic, so a change of ``k`` changes only what the
  narrowed ops compute. :func:`calibrate` and ``bias_compensation`` fold the
  expected truncation error into the dot-product layers' biases (:func:`rescale_operands`).

Only QUANTIZE (float input) and DEQUANTIZE (float output) touch floats, at the
model's edges (and LOGISTIC/TANH tables, as LiteRT builds them).

The steps of :func:`run` are public for :mod:`accuracy.tflite.fast`, which runs the
same ops its own way: :func:`make_narrowing`, :func:`input_values`, :func:`op_args`
and :func:`call_kernel` (one op's kernel), and the dot-product layers' operands
:func:`int8_tensor`, :func:`constant_weights`, :func:`effective_bias`,
:func:`rescale_factor`, :func:`window_padding` and :func:`rescale_operands`.
"""

import numpy as np

from sim import golden

from . import activations, arithmetic, layout_ops
from .quant import Narrowing, Unsupported as _Unsupported, activation_range, quantize_input, quantized
from .quant import constant_ints, scalar_q as _scalar_q
from .reader import ModelError

__all__ = ["KERNELS", "DEFAULT_NARROW", "NARROWABLE", "check_narrow", "run", "run_batched", "run_op", "calibrate",
           "quantize_input", "activation_range", "rescale_operands", "make_narrowing", "input_values", "op_args",
           "call_kernel", "int8_tensor", "constant_weights", "effective_bias", "rescale_factor", "window_padding"]

#: Samples per :func:`run_batched` step: small enough that a layer's int64
#: temporaries stay in cache (larger batches run slower, not faster).
BATCH = 256
#: The ops whose multipliers a ``k``-bit run narrows unless told otherwise: the layers
#: the dot-product engine computes.
DEFAULT_NARROW = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL")


def make_narrowing(k, multiplier, bias_compensation):
    """The ``k`` that kernels take for :func:`run`'s keywords: None for TFLite mode."""
    return None if k is None else Narrowing(golden.check_k(k), multiplier, bias_compensation)


def check_narrow(narrow):
    """``narrow`` as a frozenset of op names, each one whose rescales can be narrowed."""
    narrow = frozenset(DEFAULT_NARROW if narrow is None else narrow)
    bad = sorted(narrow - set(NARROWABLE))
    if bad:
        raise ValueError(f"cannot narrow {', '.join(bad)}: the ops with a rescale to narrow are "
                         f"{', '.join(NARROWABLE)}")
    return narrow


def input_values(model, x):
    """``{input tensor index: array}`` from one array (one input) or a sequence (in order)."""
    xs = [x] if len(model.inputs) == 1 and not isinstance(x, (list, tuple)) else list(x)
    if len(xs) != len(model.inputs):
        raise ModelError(f"{model.path}: the model has {len(model.inputs)} inputs, {len(xs)} given")
    return {i: np.asarray(v) for i, v in zip(model.inputs, xs)}


def call_kernel(model, op, args, k):
    """Run one op's kernel; its outputs as a tuple."""
    if op.name not in KERNELS:
        raise ModelError(f"{model.path}: {model.describe(op)} is not supported")
    try:
        out = KERNELS[op.name](model, op, args, k)
    except _Unsupported as exc:
        raise ModelError(f"{model.path}: {model.describe(op)}: {exc}") from None
    return out if isinstance(out, tuple) else (out,)


def op_args(model, op, values):
    """``op``'s input arrays, from ``values`` (``{tensor index: array}``) or the model's
    constants (None for an omitted optional input); ModelError for a tensor no op wrote."""
    args = [None if i < 0 else (values[i] if i in values else model.tensors[i].data) for i in op.inputs]
    missing = [i for a, i in zip(args, op.inputs) if a is None and i >= 0]
    if missing:
        raise ModelError(f"{model.path}: {model.describe(op)} reads tensor {model.tensors[missing[0]].name!r} "
                         f"before any op writes it")
    return args


def _execute(model, x, narrowing, narrow):
    values = input_values(model, x)
    for op in model.ops:
        k = narrowing if narrowing is not None and op.name in narrow else None
        values.update(zip(op.outputs, call_kernel(model, op, op_args(model, op, values), k)))
    return values


def run(model, x, *, k=None, narrow=None, multiplier="truncate", bias_compensation=None, keep=False):
    """Run ``model`` on the batch ``x``; returns the output array (a tuple of arrays,
    in the model's order, for a model with several outputs), or with ``keep``
    ``{tensor index: array}`` for every tensor computed.

    ``x`` is the input batch (a list of batches, in the model's input order, for a
    model with several inputs): integers for a quantized input, floats for a float
    one. ``k=None`` is TFLite mode, an int the paper's ``k``-bit rescaler in the ops of
    ``narrow`` (default :data:`DEFAULT_NARROW`) with ``multiplier`` ``"truncate"`` or
    ``"round"``; ``bias_compensation`` is :func:`calibrate`'s result or None. Raises
    :class:`ModelError` for an op configuration outside what is interpreted (naming
    the op).
    """
    values = _execute(model, x, make_narrowing(k, multiplier, bias_compensation), check_narrow(narrow))
    if keep:
        return values
    outs = tuple(values[i] for i in model.outputs)
    return outs[0] if len(outs) == 1 else outs


def run_batched(model, x, *, batch=BATCH, **kw):
    """:func:`run` on ``x`` in steps of ``batch`` samples (keywords as :func:`run`)."""
    xs = x if isinstance(x, (list, tuple)) else [x]
    steps = [run(model, [v[i:i + batch] for v in xs] if len(xs) > 1 else xs[0][i:i + batch], **kw)
             for i in range(0, len(xs[0]), batch)]
    if len(model.outputs) == 1:
        return np.concatenate(steps)
    return tuple(np.concatenate([s[j] for s in steps]) for j in range(len(model.outputs)))


def calibrate(model, x, *, narrow=None, batch=BATCH):
    """Mean accumulator per output channel of every narrowed dot-product layer over
    the outputs its activation clamp lets through, in TFLite mode over the batch
    ``x``: ``{op index: float64 array}`` (0 for a channel always clamped), what
    ``run(..., bias_compensation=)`` folds into the biases (:func:`rescale_operands`)."""
    narrow = check_narrow(narrow)
    sums = {}
    xs = x if isinstance(x, (list, tuple)) else [x]
    for i in range(0, len(xs[0]), batch):
        _execute(model, [v[i:i + batch] for v in xs] if len(xs) > 1 else xs[0][i:i + batch],
                 Narrowing(record=sums), narrow)
    return {index: np.divide(total, count, out=np.zeros_like(total), where=count > 0)
            for index, (total, count) in sums.items()}


def _record(record, index, acc, seen):
    """Add the accumulators ``acc`` of the outputs ``seen`` (unclamped) to ``record[index]``,
    per output channel (the last axis): ``(sum, count)``."""
    acc, seen = acc.reshape(-1, acc.shape[-1]), seen.reshape(-1, acc.shape[-1])
    total, count = record.get(index, (0.0, 0))
    record[index] = (total + np.where(seen, acc, 0).sum(axis=0, dtype=np.float64), count + seen.sum(axis=0))


def run_op(model, op, values, *, k=None, narrow=None, multiplier="truncate", bias_compensation=None):
    """Run the single ``op`` of ``model`` on the tensors in ``values`` (``{tensor index:
    array}``, e.g. from ``run(..., keep=True)``); returns its (first) output. Used to
    feed one layer the inputs of another run (the isolated per-layer error of a ``k``);
    the keywords are :func:`run`'s."""
    narrowing = make_narrowing(k, multiplier, bias_compensation)
    narrowed = narrowing if narrowing is not None and op.name in check_narrow(narrow) else None
    return call_kernel(model, op, op_args(model, op, values), narrowed)[0]


def int8_tensor(model, op, j, *, out=False):
    """The int8-quantized tensor of input ``j`` (or output ``j``) of a dot-product op."""
    t = quantized(model, op, j, out=out)
    if t.dtype is not np.int8:
        raise _Unsupported(f"tensor {t.name!r} is {t.dtype.__name__}: the dot-product layers run int8 only")
    return t


# --- dot-product layers ----------------------------------------------------------------------

def window_padding(size, kernel, stride, dilation, padding):
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
    ho, ph = window_padding(h, kh, sh, dh, o.get("padding", "same"))
    wo, pw = window_padding(w, kw, sw, dw, o.get("padding", "same"))
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


def rescale_factor(sx, t_w, sy, *, per_tensor_float32):
    """Per-channel ``M = Sx*Sw/Sy`` as LiteRT computes it: in float64 from the float32
    scales, except the per-tensor FULLY_CONNECTED path, which multiplies ``Sx*Sw`` in
    float32 first (``GetQuantizedConvolutionMultipler``)."""
    sw = t_w.scale
    if per_tensor_float32 and sw.size == 1:
        return (np.float32(sx) * sw).astype(np.float64) / np.float64(sy)
    return np.float64(sx) * sw.astype(np.float64) / np.float64(sy)


def _rescale(acc, M, op, y, k, tflite_rounding):
    """The layer's rescale: TFLite's (m, s) and rounding, or the k-bit rescaler
    (the operands of :func:`rescale_operands`)."""
    r = rescale_operands(M, op, y, k, tflite_rounding)
    if r["d"] is not None:
        acc = ((acc.astype(np.int64) + r["d"] + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    out = golden.rescale(acc, r["m"], r["s"], zero_point=r["zero_point"], act_min=r["lo"], act_max=r["hi"],
                         rounding=r["rounding"], k=r["k"])
    if k is not None and k.record is not None:
        _record(k.record, op.index, acc, (out > r["lo"]) & (out < r["hi"]))
    return out


def rescale_operands(M, op, y, k, tflite_rounding):
    """What :func:`_rescale` gives :func:`sim.golden.rescale` for a dot-product layer
    with per-channel factors ``M``, output tensor ``y`` and narrowing ``k``: a dict of
    ``m``, ``s``, ``rounding``, ``k`` (the width), ``zero_point``, ``lo``, ``hi`` and
    ``d``, the integer per-channel bias compensation added to the accumulator (wrapping
    in 32 bits) first, or None. The fast path (:mod:`accuracy.tflite.fast`) rescales
    with the same operands.

    Bias compensation (``k.mean_acc``, from :func:`calibrate`): the ``k``-bit
    ``M_q = m 2^-s`` misses ``M`` by ``e = M - M_q`` (``e >= 0`` when truncating), so an
    output whose accumulator is ``acc`` comes out ``M_q acc`` where TFLite gives
    ``M acc``: every output shrinks toward its zero point. The rescaler computes
    ``floor(M_q (acc + d) + 1/2)``; its half-up rounding is unbiased (the remainder of
    ``acc m`` below ``2^s`` is spread evenly) up to the last half LSB, so over the
    outputs that the clamp lets through, whose accumulators average ``a``, its mean
    error is ``M_q d - e a``. ``d = round(a e / M_q)`` makes that zero to within
    ``M_q / 2``. ``a`` is the mean over the *unclamped* outputs only: a clamped output
    shows no error, and behind a ReLU the mean over all accumulators (negative ones
    included) would miss the error of the outputs that are seen. ``d`` is an integer
    per output channel added to ``b_eff``, which the hardware already holds per
    channel, so it costs nothing; the accumulator wraps in 32 bits like any ``b_eff``.
    """
    if np.any(M > 1) or np.any(M < 0):
        raise _Unsupported(f"rescale factor M = Sx*Sw/Sy = {float(M.max()):.4g} is outside [0, 1]")
    lo, hi = activation_range(op.options.get("activation"), y)
    common = {"zero_point": int(y.zero_point[0]), "lo": lo, "hi": hi, "d": None}
    if k is None or k.k is None:
        m, s = golden.quantize_multiplier(M, 31, method="tflite")
        return {"m": m, "s": s, "rounding": tflite_rounding, "k": 31, **common}
    m, s = k.quantize(M)
    if k.mean_acc is not None and op.index in k.mean_acc:
        Mq = np.ldexp(np.asarray(m, np.float64), -np.asarray(s))
        d = np.where(Mq > 0, np.rint(k.mean_acc[op.index] * (M - Mq) / np.where(Mq > 0, Mq, 1)), 0)
        common["d"] = d.astype(np.int64)
    return {"m": m, "s": s, "rounding": "half_up", "k": k.k, **common}


def effective_bias(model, op, c, w_sum, zx, *, index=2):
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


def constant_weights(model, op):
    t = int8_tensor(model, op, 1)
    if t.data is None:
        raise _Unsupported("the weights must be a constant tensor")
    if np.any(t.zero_point != 0):
        raise _Unsupported("weights with a nonzero zero point are not supported")
    return t


def _conv(model, op, args, k):
    x, (sx, zx) = args[0], _scalar_q(int8_tensor(model, op, 0))
    tw, ty = constant_weights(model, op), int8_tensor(model, op, 0, out=True)
    w = tw.data  # (Cout, kh, kw, Cin)
    cout, kh, kw, cin = w.shape
    if x.shape[-1] != cin:
        raise _Unsupported(f"{x.shape[-1]} input channels, weights expect {cin}")
    p = _patches(x, kh, kw, op, zx)
    n, ho, wo = p.shape[:3]
    w2 = w.reshape(cout, kh * kw * cin)
    acc = golden.accumulate(p.reshape(n, ho, wo, -1), w2,
                            effective_bias(model, op, cout, w2.astype(np.int64).sum(1), zx))
    M = rescale_factor(sx, tw, _scalar_q(ty)[0], per_tensor_float32=False)
    return _rescale(acc, M, op, ty, k, "tflite_double")


def _dwconv(model, op, args, k):
    x, (sx, zx) = args[0], _scalar_q(int8_tensor(model, op, 0))
    tw, ty = constant_weights(model, op), int8_tensor(model, op, 0, out=True)
    w = tw.data  # (1, kh, kw, Cout), Cout = Cin * depth_multiplier
    _, kh, kw, cout = w.shape
    cin = x.shape[-1]
    if cout % cin:
        raise _Unsupported(f"{cout} output channels are not a multiple of {cin} input channels")
    p = _patches(x, kh, kw, op, zx)  # (N, Ho, Wo, kh*kw, Cin)
    if cout != cin:
        p = np.repeat(p, cout // cin, axis=-1)  # output channel c reads input channel c // dm
    w2 = w.reshape(kh * kw, cout).T  # (Cout, kh*kw)
    b_eff = effective_bias(model, op, cout, w2.astype(np.int64).sum(1), zx)
    acc = golden.accumulate_depthwise(np.swapaxes(p, -1, -2), w2, b_eff)  # taps of channel c: p[..., c]
    M = rescale_factor(sx, tw, _scalar_q(ty)[0], per_tensor_float32=False)
    return _rescale(acc, M, op, ty, k, "tflite_double")


def _fc(model, op, args, k):
    x, (sx, zx) = args[0], _scalar_q(int8_tensor(model, op, 0))
    tw, ty = constant_weights(model, op), int8_tensor(model, op, 0, out=True)
    if op.options.get("weights_format", 0) != 0:
        raise _Unsupported("only the DEFAULT weights format is supported")
    w = tw.data  # (C, L)
    c, length = w.shape
    if x.size % (len(x) * length):
        raise _Unsupported(f"the input {list(x.shape[1:])} does not flatten to rows of {length}")
    rows = x.reshape(-1, length)
    acc = golden.accumulate(rows, w, effective_bias(model, op, c, w.astype(np.int64).sum(1), zx))
    M = rescale_factor(sx, tw, _scalar_q(ty)[0], per_tensor_float32=True)
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
    x, (sx, zx) = args[2], _scalar_q(int8_tensor(model, op, 2))
    tw, ty = constant_weights(model, op), int8_tensor(model, op, 0, out=True)
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
    pads = [window_padding(size, kernel, stride, 1, op.options.get("padding", "same"))[1]
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
    acc = golden.accumulate(patches, w2, effective_bias(model, op, cout, w2.astype(np.int64).sum(1), zx, index=3))
    M = rescale_factor(sx, tw, _scalar_q(ty)[0], per_tensor_float32=False)
    return _rescale(acc, M, op, ty, k, "tflite_double")


def _batch_matmul(model, op, args, k):
    """batch_matmul.cc ``EvalInt8Int8`` with reference_ops::BatchMatMul: ``sum (lhs - Zl)
    * (rhs - Zr)`` in int32 over broadcast batch dimensions (``adj_x`` / ``adj_y``
    transpose the last two axes), one per-tensor multiplier (``Sl*Sr`` in float32), no
    activation. Either operand may be a constant. Each sample is multiplied as the model
    describes it (its first dimension 1), samples along a new leading axis."""
    tl, tr, ty = int8_tensor(model, op, 0), int8_tensor(model, op, 1), int8_tensor(model, op, 0, out=True)
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
    M = rescale_factor(sl, tr, _scalar_q(ty)[0], per_tensor_float32=True)
    return _rescale(acc, M, op, ty, k, "tflite_double")


# --- pooling and data movement ----------------------------------------------------------------

def _same_quantization(model, op, t_in, t_out):
    if t_in.scale is None and t_out.scale is None:
        return
    if (t_in.scale is None or t_out.scale is None or t_in.scale.size != 1 or t_out.scale.size != 1
            or np.float32(t_in.scale[0]) != np.float32(t_out.scale[0]) or t_in.zero_point[0] != t_out.zero_point[0]):
        raise _Unsupported(f"input {t_in.name!r} and output {t_out.name!r} must share one scale and zero point")


def _pool(model, op, args, k):
    """AVERAGE_POOL_2D / MAX_POOL_2D (``reference_integer_ops::AveragePool`` / ``MaxPool``,
    int8 and uint8): windows clipped to the input (SAME padding counts only in-bounds
    taps), the average rounded half away from zero, then the fused activation."""
    x, t_in, ty = args[0], quantized(model, op, 0), quantized(model, op, 0, out=True)
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
    return np.clip(y, lo, hi).astype(ty.dtype)


def _div_round_away(acc, count):
    """TFLite's ``acc > 0 ? (acc + n/2) / n : (acc - n/2) / n`` in C's truncating division."""
    q = (np.abs(acc) + count // 2) // count
    return np.where(acc > 0, q, -q)


KERNELS = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _dwconv, "FULLY_CONNECTED": _fc,
           "TRANSPOSE_CONV": _transpose_conv, "BATCH_MATMUL": _batch_matmul,
           "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool}
KERNELS.update(activations.KERNELS)
KERNELS.update(arithmetic.KERNELS)
KERNELS.update(layout_ops.KERNELS)
#: Every op whose rescales a ``k``-bit run can narrow (``run(narrow=...)``).
NARROWABLE = DEFAULT_NARROW + activations.NARROWABLE + arithmetic.NARROWABLE
