"""Fast batched inference, exact by construction: the same integers as
:mod:`accuracy.tflite.interpreter`, in a fraction of its time.

:class:`Plan` prepares a model once for one mode (TFLite mode or a ``k``-bit run, with
the interpreter's ``narrow``, ``multiplier`` and ``bias_compensation``) and then runs
batches through one step per op:

* CONV_2D and FULLY_CONNECTED: im2col and BLAS in float32 (exact integer sums,
  :class:`accuracy.tflite.exact.Gemm`), then the compiled integer rescale
  (:func:`accuracy.tflite.kernels.requantize`); DEPTHWISE_CONV_2D: a compiled int32
  loop with the same rescale fused (:func:`accuracy.tflite.kernels.depthwise`). The
  rescale takes the operands the interpreter rescales with
  (:func:`accuracy.tflite.interpreter.rescale_operands`) and computes golden's integer
  arithmetic, so it is exact for every accumulator; a layer whose accumulator could
  wrap, or in another configuration (depth multiplier, ``M = 1`` exactly in TFLite
  mode) keeps the reference kernel.
* element-wise ops of one int8/uint8 input (LOGISTIC, TANH, HARD_SWISH, the ReLUs,
  LEAKY_RELU, QUANTIZE, DEQUANTIZE) and of two (ADD, SUB, MUL): a lookup table of
  every possible input (256, or 65,536 pairs) filled by the interpreter's own kernel,
  so each entry is what the kernel computes.
* every other op: the interpreter's kernel.

:func:`run` runs a batch in steps on ``jobs`` forked processes (each with one BLAS
thread; the first sample runs before the fork, so that the compiled kernels are
loaded once), the results concatenated in sample order; every value is exact, so the
result does not depend on the split. The reference path stays
:func:`accuracy.tflite.interpreter.run`, which the tests compare with this one.
"""

import multiprocessing
import os
import signal

import numpy as np

from sim import golden

from . import interpreter as ref
from . import kernels
from .exact import X_MAX, Gemm
from .quant import DTYPE_RANGE, Unsupported
from .quant import scalar_q
from .reader import ModelError

__all__ = ["Plan", "run", "BATCH", "JOBS"]

#: Samples per step of :func:`run`.
BATCH = 16
#: Elements of a layer's output computed at a time, so that the GEMM's float temporaries stay in cache.
BLOCK = 1 << 16
# Shortest row of outputs a rescale runs along (several pixels when the channels are few).
_ROW = 256
#: Worker processes of :func:`run` by default: one per core (at most 2).
JOBS = min(2, os.cpu_count() or 1)
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_UNARY = ("LOGISTIC", "TANH", "HARD_SWISH", "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "QUANTIZE",
          "DEQUANTIZE")
_BINARY = ("ADD", "SUB", "MUL")


class Plan:
    """``model`` prepared for one mode; the keywords are
    :func:`accuracy.tflite.interpreter.run`'s. :meth:`run` gives what ``ref.run`` gives."""

    def __init__(self, model, *, k=None, narrow=None, multiplier="truncate", bias_compensation=None):
        self.model = model
        narrowing = ref.make_narrowing(k, multiplier, bias_compensation)
        narrow = ref.check_narrow(narrow)
        self.steps = []
        for op in model.ops:
            nk = narrowing if narrowing is not None and op.name in narrow else None
            self.steps.append(_step(model, op, nk))

    def run(self, x, *, keep=False):
        """The outputs for the batch ``x``, or with ``keep`` ``{tensor index: array}`` for
        every tensor computed (as :func:`accuracy.tflite.interpreter.run`)."""
        model = self.model
        values = ref.input_values(model, x)
        for op, step in zip(model.ops, self.steps):
            values.update(zip(op.outputs, step(ref.op_args(model, op, values))))
        if keep:
            return values
        outs = tuple(values[i] for i in model.outputs)
        return outs[0] if len(outs) == 1 else outs


def _step(model, op, k):
    """The fastest exact way to run ``op``: ``f(args) -> tuple of outputs``."""
    def reference(args):
        return ref.call_kernel(model, op, args, k)
    build = _BUILDERS.get(op.name)
    if build is None:
        return reference
    try:
        fast = build(model, op, k)
    except (Unsupported, ModelError, ValueError, IndexError, TypeError):
        fast = None  # the kernel refuses it: the reference step raises the same error at run time
    return fast or reference


# --- dot-product layers -----------------------------------------------------------------------

def _layer(model, op, k, w2, tw, ty, rounding, *, per_tensor_float32=False):
    """The arguments of :func:`accuracy.tflite.kernels.requantize` after the dot
    products of a layer with ``(C, K)`` weights ``w2``: ``(bias, m, s, mode,
    zero_point, lo, hi)``, ``bias`` the int32 per-channel term of the accumulator (the
    interpreter's ``b_eff``, plus the bias compensation); None when the accumulator
    could wrap (the reference kernel runs)."""
    sx, zx = scalar_q(ref.int8_tensor(model, op, 0))
    b_eff = ref.effective_bias(model, op, len(w2), w2.astype(np.int64).sum(1), zx)
    M = ref.rescale_factor(sx, tw, scalar_q(ty)[0], per_tensor_float32=per_tensor_float32)
    r = ref.rescale_operands(M, op, ty, k, rounding)
    bias = b_eff if r["d"] is None else b_eff + r["d"]
    reach = X_MAX * np.abs(w2.astype(np.int64)).sum(axis=1)
    for b in (b_eff, bias):  # the reference accumulator never wraps, nor after compensation
        if np.any(b + reach > _INT32_MAX) or np.any(b - reach < _INT32_MIN):
            return None
    channels = len(w2)
    # golden's operand checks, once: a ValueError here is the reference path's at run time
    golden.rescale(np.zeros(channels, np.int64), r["m"], r["s"], zero_point=r["zero_point"], act_min=r["lo"],
                   act_max=r["hi"], rounding=r["rounding"], k=r["k"])
    m, s, mode = kernels.operands(r["m"], r["s"], r["rounding"], channels)
    return bias.astype(np.int32), m, s, mode, r["zero_point"], r["lo"], r["hi"]


def _along_rows(rescale, channels):
    """``rescale`` (:func:`_layer`'s) with the bias, ``m`` and ``s`` repeated along rows
    of at least :data:`_ROW` outputs, whole pixels (:func:`accuracy.tflite.kernels.requantize`)."""
    reps = -(-_ROW // channels)
    return (*(np.tile(v, reps) for v in rescale[:3]), *rescale[3:])


def _geometry(op, h, w, kh, kw):
    """``(ho, wo, ph, pw, padded h, padded w, strides, dilations)`` as the
    interpreter's ``_patches`` pads."""
    o = op.options
    sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
    dh, dw = o.get("dilation_h", 1) or 1, o.get("dilation_w", 1) or 1
    if min(sh, sw) < 1:
        raise Unsupported("strides must be positive")
    ho, ph = ref.window_padding(h, kh, sh, dh, o.get("padding", "same"))
    wo, pw = ref.window_padding(w, kw, sw, dw, o.get("padding", "same"))
    if ho < 1 or wo < 1:
        raise Unsupported("the window does not fit")
    need_h, need_w = (ho - 1) * sh + (kh - 1) * dh + 1, (wo - 1) * sw + (kw - 1) * dw + 1
    return ho, wo, ph, pw, max(need_h, h + ph), max(need_w, w + pw), (sh, sw), (dh, dw)


def _padded(x, geometry, fill, dtype=np.float32):
    """NHWC ``x`` as ``dtype``, padded with ``fill`` as the interpreter pads it."""
    ho, wo, ph, pw, hp, wp = geometry[:6]
    n, h, w, c = x.shape
    if (hp, wp) == (h, w):
        return x.astype(dtype)
    padded = np.full((n, hp, wp, c), fill, dtype)
    padded[:, ph:ph + h, pw:pw + w] = x
    return padded


def _taps(padded, kh, kw, geometry):
    """The window taps of ``padded``: per tap ``(i, j)`` an ``(N, Ho, Wo * C)`` view whose
    rows are contiguous (a stride reads one of ``sh * sw`` phase planes, each made
    contiguous once)."""
    ho, wo = geometry[:2]
    (sh, sw), (dh, dw) = geometry[6:]
    n, c = len(padded), padded.shape[-1]
    phases, views = {}, []
    for i in range(kh):
        for j in range(kw):
            (oi, pi), (oj, pj) = divmod(i * dh, sh), divmod(j * dw, sw)
            if (pi, pj) not in phases:
                plane = padded[:, pi::sh, pj::sw]
                phases[pi, pj] = plane if (sh, sw) == (1, 1) else np.ascontiguousarray(plane)
            views.append(phases[pi, pj][:, oi:oi + ho, oj:oj + wo].reshape(n, ho, wo * c))
    return views


def _im2col(padded, kh, kw, geometry, grid):
    """Write the windows of ``padded`` into ``grid`` (``(N, Ho, Wo, kh kw C)``), ordered
    as the weights ``(kh, kw, C)``: one copy per kernel row, whose
    ``kw * C`` values lie side by side in a padded row when the dilation is 1."""
    ho, wo = geometry[:2]
    (sh, sw), (dh, dw) = geometry[6:]
    n, c = len(padded), padded.shape[-1]
    if dw != 1:
        for t, v in enumerate(_taps(padded, kh, kw, geometry)):
            grid[..., t * c:(t + 1) * c] = v.reshape(n, ho, wo, c)
        return
    s0, s1, s2, s3 = padded.strides
    for i in range(kh):
        rows = np.lib.stride_tricks.as_strided(padded[:, i * dh:], (n, ho, wo, kw * c), (s0, sh * s1, sw * s2, s3),
                                               writeable=False)
        grid[..., i * kw * c:(i + 1) * kw * c] = rows


def _conv(model, op, k):
    zx = scalar_q(ref.int8_tensor(model, op, 0))[1]
    tw, ty = ref.constant_weights(model, op), ref.int8_tensor(model, op, 0, out=True)
    cout, kh, kw, cin = tw.data.shape
    w2 = tw.data.reshape(cout, -1)
    layer = _layer(model, op, k, w2, tw, ty, "tflite_double")
    if layer is None:
        return None
    gemm, rescale = Gemm(w2), _along_rows(layer, cout)
    shape = model.tensors[op.inputs[0]].shape
    if len(shape) != 4 or shape[-1] != cin:
        return None
    pointwise = (kh, kw) == (1, 1) and op.options.get("stride_h", 1) == op.options.get("stride_w", 1) == 1

    def step(args):
        x = args[0]
        if x.ndim != 4 or x.shape[-1] != cin or x.dtype != np.int8:
            return ref.call_kernel(model, op, args, k)
        n, h, w = x.shape[:3]
        rows = max(1, BLOCK // cout)
        if pointwise:
            pixels, ho, wo = x.reshape(-1, cin), h, w
            buf = np.empty((min(rows, len(pixels)), cin), np.float32)
        else:
            geometry = _geometry(op, h, w, kh, kw)
            ho, wo = geometry[:2]
            patches = np.empty((n * ho * wo, gemm.width), np.float32)
            _im2col(_padded(x, geometry, zx), kh, kw, geometry, patches.reshape(n, ho, wo, gemm.width))
        out = np.empty((n, ho, wo, cout), np.int8)
        flat = out.reshape(-1, cout)
        for a in range(0, len(flat), rows):
            b = min(a + rows, len(flat))
            if pointwise:
                buf[:b - a] = pixels[a:b]
                block = buf[:b - a]
            else:
                block = patches[a:b]
            kernels.requantize(gemm(block), *rescale, flat[a:b])
        return (out,)
    return step


def _dwconv(model, op, k):
    zx = scalar_q(ref.int8_tensor(model, op, 0))[1]
    tw, ty = ref.constant_weights(model, op), ref.int8_tensor(model, op, 0, out=True)
    _, kh, kw, cout = tw.data.shape
    shape = model.tensors[op.inputs[0]].shape
    if len(shape) != 4 or shape[-1] != cout:
        return None  # a depth multiplier: the reference kernel
    taps = tw.data.reshape(kh, kw, cout)
    layer = _layer(model, op, k, taps.reshape(-1, cout).T, tw, ty, "tflite_double")
    if layer is None:
        return None
    (bias, m, s, *rescale), rows = layer, {}  # every partial sum fits int32 (checked)

    def step(args):
        x = args[0]
        if x.ndim != 4 or x.shape[-1] != cout or x.dtype != np.int8:
            return ref.call_kernel(model, op, args, k)
        geometry = _geometry(op, x.shape[1], x.shape[2], kh, kw)
        ho, wo = geometry[:2]
        (sh, sw), (dh, dw) = geometry[6:]
        if wo not in rows:  # the per-channel operands along a row of Wo pixels
            rows[wo] = (np.tile(taps.astype(np.int16), (1, 1, wo)), np.tile(bias, wo),
                        np.tile(m, wo), np.tile(s, wo))
        row_taps, row_bias, row_m, row_s = rows[wo]
        padded = _padded(x, geometry, zx, np.int8)
        if sw == 1:  # one phase: the padded input itself
            planes = np.ascontiguousarray(padded)[np.newaxis]
        else:
            width = -(-padded.shape[2] // sw)
            planes = np.empty((sw,) + padded.shape[:2] + (width, cout), np.int8)
            for p in range(sw):
                phase = padded[:, :, p::sw]
                planes[p, :, :, :phase.shape[2]] = phase
                planes[p, :, :, phase.shape[2]:] = zx  # beyond the padded input: never read
        out = np.empty((len(x), ho, wo, cout), np.int8)
        kernels.depthwise(planes, row_taps, row_bias, np.array([sh, dh, dw], np.int64), row_m, row_s, *rescale, out)
        return (out,)
    return step


def _fc(model, op, k):
    tw, ty = ref.constant_weights(model, op), ref.int8_tensor(model, op, 0, out=True)
    if op.options.get("weights_format", 0) != 0:
        return None
    c, length = tw.data.shape
    layer = _layer(model, op, k, tw.data, tw, ty, "tflite_single", per_tensor_float32=True)
    if layer is None:
        return None
    gemm, rescale = Gemm(tw.data), _along_rows(layer, c)

    def step(args):
        x = args[0]
        if x.size % (len(x) * length) or x.dtype != np.int8:
            return ref.call_kernel(model, op, args, k)
        rows = x.reshape(-1, length)
        y = np.empty((len(rows), c), np.int8)
        kernels.requantize(gemm(rows.astype(np.float32)), *rescale, y)
        return (y.reshape(x.shape[:-1] + (c,)) if op.options.get("keep_num_dims") else y,)
    return step


# --- element-wise ops: lookup tables filled by the reference kernels --------------------------------

def _every_value(dtype):
    """Every value of an 8-bit type, ordered by its bit pattern (``x.view(np.uint8)``)."""
    return np.arange(256, dtype=np.uint8).view(dtype)


def _unary(model, op, k):
    t = model.tensors[op.inputs[0]]
    if t.data is not None or t.dtype not in DTYPE_RANGE or len(op.inputs) != 1 or len(op.outputs) != 1:
        return None
    table = np.asarray(ref.call_kernel(model, op, [_every_value(t.dtype)], k)[0])
    if table.shape != (256,):
        return None

    def step(args):
        return (table[np.asarray(args[0], t.dtype).view(np.uint8)],)
    return step


def _binary(model, op, k):
    ta, tb = (model.tensors[i] for i in op.inputs[:2])
    if len(op.inputs) != 2 or ta.dtype not in DTYPE_RANGE or tb.dtype not in DTYPE_RANGE:
        return None
    grid = np.arange(1 << 16, dtype=np.uint16)
    a, b = (grid >> 8).astype(np.uint8).view(ta.dtype), (grid & 0xFF).astype(np.uint8).view(tb.dtype)
    table = np.asarray(ref.call_kernel(model, op, [a, b], k)[0])
    if table.shape != (1 << 16,):
        return None

    def step(args):
        a, b = (np.asarray(v, t.dtype).view(np.uint8) for v, t in zip(args, (ta, tb)))
        index = np.left_shift(a, 8, dtype=np.uint16)
        index = index | b  # broadcasts as the kernel does
        return (table[index],)
    return step


_BUILDERS = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _dwconv, "FULLY_CONNECTED": _fc,
             **{name: _unary for name in _UNARY}, **{name: _binary for name in _BINARY}}


# --- batches on every core --------------------------------------------------------------------------

_WORK = {}  # what forked workers inherit: the plan and the input batches


def _worker_init():
    """Worker initializer: one BLAS thread (the cores are used by processes; BLAS
    threads would only wait for each other), and SIGTERM's default action back. The
    fork inherits the command line's handler (:func:`toolkit.cli.main`), which turns
    SIGTERM into an exception: a pool that terminates its workers could then find one
    that caught it while holding the task queue's lock, and wait for it forever."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from threadpoolctl import threadpool_limits
    _WORK["limits"] = threadpool_limits(1)


def _chunk(bounds):
    return _steps(_WORK["plan"], _WORK["xs"], *bounds)


def _steps(plan, xs, start, stop, batch):
    """The outputs of samples ``start:stop`` in steps of ``batch``."""
    outs = []
    for i in range(start, stop, batch):
        part = [v[i:min(i + batch, stop)] for v in xs]
        out = plan.run(part if len(part) > 1 else part[0])
        outs.append(out if isinstance(out, tuple) else (out,))
    return tuple(np.concatenate([o[j] for o in outs]) for j in range(len(outs[0])))


def run(model, x, *, jobs=None, batch=BATCH, plan=None, **kw):
    """:func:`accuracy.tflite.interpreter.run_batched`'s result, computed by a
    :class:`Plan` in steps of ``batch`` samples on ``jobs`` processes (default
    :data:`JOBS`); the other keywords as :func:`accuracy.tflite.interpreter.run`, or
    ``plan``, a :class:`Plan` of ``model`` made before (the keywords then unused)."""
    if batch < 1 or (jobs is not None and jobs < 1):
        raise ValueError(f"batch ({batch}) and jobs ({jobs}) must be at least 1")
    plan = plan or Plan(model, **kw)
    xs = [np.asarray(v) for v in (x if isinstance(x, (list, tuple)) else [x])]
    n = len(xs[0])
    jobs = max(1, min(JOBS if jobs is None else jobs, -(-n // batch)))
    if multiprocessing.current_process().daemon:
        jobs = 1  # a pool's worker may not fork workers of its own
    if n == 0:
        return plan.run(xs if len(xs) > 1 else xs[0])
    from threadpoolctl import threadpool_limits
    if jobs == 1:
        with threadpool_limits(1):
            outs = _steps(plan, xs, 0, n, batch)
    else:
        # the first sample here: numba compiles the kernels (or loads them from its cache)
        # once, in this process, and the forked workers inherit them
        with threadpool_limits(1):
            parts = [_steps(plan, xs, 0, 1, 1)]
        per = -(-(n - 1) // (2 * jobs))  # two pieces per worker, so that an uneven core evens out
        bounds = [(i, min(i + per, n), batch) for i in range(1, n, per)]
        _WORK.update(plan=plan, xs=xs)
        try:
            with multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_init) as pool:
                parts += pool.map(_chunk, bounds, chunksize=1)
                pool.close()  # the workers end on their own: no signal unless something failed
                pool.join()
        finally:
            _WORK.clear()
        outs = tuple(np.concatenate([p[j] for p in parts]) for j in range(len(parts[0])))
    return outs[0] if len(outs) == 1 else outs
