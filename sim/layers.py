"""Layer-level golden model: whole int8 layers lowered onto the engine's beat schedule.

:mod:`sim.golden` defines one output; this module runs whole layers the way the
dot-product engine and the systolic array see them, so that every output of a
layer is predicted bit-exactly, and pushes real (float) layers through the int8
flow:

* :func:`matmul_schedule` lowers a matrix product ``x @ w.T`` (``P`` positions,
  ``C`` output channels, dot products of length ``L``) to the stream of beats of
  an array of ``engines`` engines with ``macs`` lanes: ``L`` is zero-padded to a
  whole number of beats, ``C`` to whole groups of ``engines`` channels.
* :func:`run_stream` is the bit-exact model of that stream (accumulate the beats
  between ``first`` and ``last`` from the bias, wrap to 32 bits, rescale with
  :func:`sim.golden.rescale`); :func:`unschedule` maps its outputs back to the
  layer's ``(P, C)`` matrix.
* :func:`im2col` / :func:`conv2d` lower 1x1 and 3x3 (any size) convolutions to
  matrix products; :func:`quantize_conv2d` quantizes a float convolution (int8
  weights with per-channel scales, affine int8 activations, ``(m, s)`` from
  :func:`sim.golden.quantize_multiplier`) and :func:`conv2d_float` is its float
  reference.

Schedule (one output-channel group at a time, output-stationary)::

    for p in positions:                 # rows of x (pixels of a convolution)
        for g in groups:                # channels g*E .. g*E+E-1, one per engine
            for b in beats:             # L/N slices of the dot product
                x[p, bN:bN+N]   -> shared by all engines
                w[gE+e, bN:bN+N] -> engine e
"""

from dataclasses import dataclass

import numpy as np

from . import golden
from .golden import INT8_MAX, INT8_MIN, INT32_MIN
from .ports import ENGINE_OPERANDS, RESCALE_OPERANDS, engine_lanes, engine_operand_bits

__all__ = [
    "Schedule", "beats_per_channel", "matmul_schedule", "run_stream", "run_schedule", "unschedule",
    "stream_operands", "schedule_operands", "pre_skew",
    "EDGE_LAYERS", "random_layer", "edge_layer", "layer_schedule", "describe_output",
    "wrap32", "pack_lanes", "unpack_lanes", "stream_words",
    "im2col", "conv_weights_matrix", "conv2d", "conv2d_float",
    "quantize_weights", "activation_params", "quantize_activations", "QuantizedConv",
    "quantize_conv2d",
]



def wrap32(value):
    """``value`` reduced modulo 2^32 into the signed 32-bit range (two's complement)."""
    value = np.asarray(value, dtype=np.int64)
    return ((value - INT32_MIN) & 0xFFFFFFFF) + INT32_MIN


def beats_per_channel(length, macs):
    """Beats of a dot product of ``length`` on ``macs`` lanes: ``ceil(length / macs)``,
    at least 1 (an empty dot product is one beat of zeros: the output is the bias)."""
    return max(1, -(-int(length) // int(macs)))


@dataclass(frozen=True)
class Schedule:
    """The beats of a layer on an array of ``engines`` engines of ``macs`` lanes.

    Members
    -------
    macs, engines : int
        Lanes per beat and engines (channels computed side by side).
    x : numpy.ndarray, shape (T, macs)
        Activations of each beat, shared by the engines.
    w : numpy.ndarray, shape (T, engines, macs)
        Weights of each beat, per engine.
    bias, m, s, zero_point, act_min, act_max : numpy.ndarray, shape (T, engines)
        Each engine's channel operands, repeated on every beat of the channel
        (the engine samples ``bias`` on ``first`` and the others on ``last``).
    first, last : numpy.ndarray of bool, shape (T,)
        First and last beat of an output-channel group.
    position, channel : numpy.ndarray, shape (G, engines)
        For every output group (in stream order) and engine: the row of ``x`` and
        the output channel; channel ``-1`` is padding (its output is dropped).
    shape : tuple of int
        ``(P, C)``, the shape of the layer's output.
    """

    macs: int
    engines: int
    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray
    m: np.ndarray
    s: np.ndarray
    zero_point: np.ndarray
    act_min: np.ndarray
    act_max: np.ndarray
    first: np.ndarray
    last: np.ndarray
    position: np.ndarray
    channel: np.ndarray
    shape: tuple

    @property
    def beats(self):
        """Number of beats ``T``."""
        return len(self.first)

    @property
    def groups(self):
        """Number of output groups ``G`` (one ``y`` vector of ``engines`` lanes each)."""
        return len(self.position)

    def channel_operands(self):
        """``dict`` of the per-channel operand arrays, keyed by port name."""
        return {name: getattr(self, name) for name in ("bias", *RESCALE_OPERANDS)}


def _per_channel(value, channels):
    return np.broadcast_to(np.asarray(value, dtype=np.int64), (channels,))


def matmul_schedule(x, w, bias, m, s, *, zero_point=0, act_min=INT8_MIN, act_max=INT8_MAX,
                    macs, engines=1):
    """Lower the layer ``rescale(x @ w.T + bias)`` to the beats of an engine array.

    Parameters
    ----------
    x : array_like of int, shape (P, L)
        Int8 activations, one row per output position.
    w : array_like of int, shape (C, L)
        Int8 weights, one row per output channel.
    bias : array_like of int, shape (C,)
        Int32 effective biases.
    m, s, zero_point, act_min, act_max : int or array_like of int, shape (C,)
        Per-channel rescale operands (see :func:`sim.golden.rescale`).
    macs : int
        Lanes per beat; ``L`` is zero-padded to a multiple of it (at least one beat).
    engines : int
        Channels computed side by side; ``C`` is padded to a multiple of it with
        zero channels whose outputs are dropped.

    Returns
    -------
    Schedule
    """
    x, w = np.asarray(x, dtype=np.int64), np.asarray(w, dtype=np.int64)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"shapes do not match: x {x.shape} must be (P, L) and w {w.shape} (C, L)")
    (positions, length), channels = x.shape, w.shape[0]
    golden.accumulate(x, w, bias)  # validates the int8/int32 ranges and the shape of bias
    ops = {"bias": _per_channel(bias, channels)}
    for name, value in zip(RESCALE_OPERANDS, (m, s, zero_point, act_min, act_max)):
        ops[name] = _per_channel(value, channels)

    beats = beats_per_channel(length, macs)
    groups = -(-channels // engines)
    padded_c = groups * engines
    xp = np.zeros((positions, beats * macs), dtype=np.int64)
    xp[:, :length] = x
    wp = np.zeros((padded_c, beats * macs), dtype=np.int64)
    wp[:channels, :length] = w

    # x[p, g, b, :] = xp[p, b]; w[p, g, b, e, :] = wp[g*E + e, b]
    shape4 = (positions, groups, beats)
    xs = np.broadcast_to(xp.reshape(positions, 1, beats, macs), (*shape4, macs))
    ws = wp.reshape(groups, engines, beats, macs).transpose(0, 2, 1, 3)
    ws = np.broadcast_to(ws[None], (*shape4, engines, macs))
    per_beat = {}
    for name, value in ops.items():
        padded = np.zeros(padded_c, dtype=np.int64)
        padded[:channels] = value
        if name == "act_max":
            padded[channels:] = INT8_MAX
        elif name == "act_min":
            padded[channels:] = INT8_MIN
        per_beat[name] = np.broadcast_to(padded.reshape(1, groups, 1, engines),
                                         (*shape4, engines)).reshape(-1, engines)
    beat = np.broadcast_to(np.arange(beats), shape4).reshape(-1)
    channel = np.arange(padded_c).reshape(groups, engines)
    channel = np.where(channel < channels, channel, -1)
    return Schedule(
        macs=int(macs), engines=int(engines),
        x=xs.reshape(-1, macs), w=ws.reshape(-1, engines, macs),
        first=beat == 0, last=beat == beats - 1,
        position=np.repeat(np.arange(positions), groups)[:, None].repeat(engines, axis=1),
        channel=np.tile(channel, (positions, 1)),
        shape=(positions, channels), **per_beat)


def run_stream(x, w, bias, m, s, zero_point, act_min, act_max, first, last, *, k):
    """The bit-exact output of an engine array for a stream of beats.

    Each output group accumulates, per engine, the dot products of its beats (from
    a ``first`` beat to the next ``last`` beat) onto the ``bias`` of its first beat,
    wrapping to 32 bits, and is rescaled with the operands of its last beat.

    Parameters
    ----------
    x : array_like, shape (T, macs)
    w : array_like, shape (T, engines, macs)
    bias, m, s, zero_point, act_min, act_max : array_like, shape (T, engines)
    first, last : array_like of bool, shape (T,)
        Must delimit whole groups: ``first`` on beat 0, and every ``last`` followed
        by a ``first`` (the stream ends with a ``last``).
    k : int
        Rescale multiplier width.

    Returns
    -------
    numpy.ndarray of int8, shape (G, engines)
        One row per ``last`` beat, in stream order.
    """
    ops = stream_operands(x, w, bias, m, s, zero_point, act_min, act_max, first, last)
    return golden.rescale(ops["acc"], ops["m"], ops["s"], zero_point=ops["zero_point"],
                          act_min=ops["act_min"], act_max=ops["act_max"], k=k)


def stream_operands(x, w, bias, m, s, zero_point, act_min, act_max, first, last):
    """The rescale operands of every output of a stream (arguments as :func:`run_stream`).

    Returns
    -------
    dict of numpy.ndarray, shape (G, engines)
        ``acc`` (the 32-bit accumulator, wrapped like the hardware), ``m``, ``s``,
        ``zero_point``, ``act_min``, ``act_max`` (of each group's last beat), and
        ``wrapped`` (bool: the exact sum left the int32 range).
    """
    first, last = np.asarray(first, dtype=bool), np.asarray(last, dtype=bool)
    starts, ends = np.flatnonzero(first), np.flatnonzero(last)
    following = np.append(starts[1:], len(first))
    if len(starts) != len(ends) or len(first) == 0 or starts[0] != 0 or np.any(ends < starts) \
            or np.any(ends + 1 != following):
        raise ValueError("first/last must delimit whole output groups: first on beat 0, "
                         "each first followed by one last, each last by a first or the end")
    dots = np.einsum("tn,ten->te", np.asarray(x, dtype=np.int64), np.asarray(w, dtype=np.int64))
    exact = np.asarray(bias, dtype=np.int64)[starts] + np.add.reduceat(dots, starts, axis=0)
    ops = {name: np.asarray(v)[ends] for name, v in zip(RESCALE_OPERANDS, (m, s, zero_point, act_min, act_max))}
    acc = wrap32(exact)
    return {"acc": acc, **ops, "wrapped": acc != exact}


def schedule_operands(schedule):
    """:func:`stream_operands` of a :class:`Schedule`."""
    sch = schedule
    return stream_operands(sch.x, sch.w, sch.bias, sch.m, sch.s, sch.zero_point, sch.act_min,
                           sch.act_max, sch.first, sch.last)


def run_schedule(schedule, *, k):
    """:func:`run_stream` of a :class:`Schedule`: ``(G, engines)`` int8 outputs."""
    sch = schedule
    return run_stream(sch.x, sch.w, sch.bias, sch.m, sch.s, sch.zero_point, sch.act_min,
                      sch.act_max, sch.first, sch.last, k=k)


def unschedule(schedule, y):
    """Map a stream's ``(G, engines)`` outputs back to the layer's ``(P, C)`` matrix."""
    out = np.zeros(schedule.shape, dtype=np.int8)
    keep = schedule.channel >= 0
    out[schedule.position[keep], schedule.channel[keep]] = np.asarray(y)[keep]
    return out


def describe_output(layer, schedule, group, engine, *, beat_offset=0):
    """Where output ``(group, engine)`` of ``schedule`` comes from, for failure messages:
    position, channel, its beats (plus ``beat_offset``) and, for a real channel, its
    accumulator and rescale operands (``layer`` as from :func:`random_layer`)."""
    position, channel = int(schedule.position[group, engine]), int(schedule.channel[group, engine])
    beats = beats_per_channel(layer["x"].shape[1], schedule.macs)
    first = beat_offset + group * beats
    where = (f"position {position}, channel {channel} (output group {group}, engine {engine}), "
             f"beats {first}..{first + beats - 1}")
    if channel < 0:
        return f"{where}: a padding channel (all zero operands)"
    acc = golden.accumulate(layer["x"][position], layer["w"][channel:channel + 1],
                            layer["bias"][channel:channel + 1])[0]
    operands = ", ".join(f"{name}={int(layer[name][channel])}" for name in RESCALE_OPERANDS)
    return f"{where}: acc={int(acc)}, {operands}"


def pack_lanes(values, bits):
    """Pack integers (two's complement, lane 0 in the low bits) into one int per row.

    ``values`` of shape ``(..., lanes)`` gives Python ints of shape ``(...)``
    (an object array, or an int for 1-d input), e.g. for a Verilog port made of
    ``lanes`` fields of ``bits`` bits.
    """
    values = np.asarray(values, dtype=np.int64)
    mask = (1 << bits) - 1
    flat = values.reshape(-1, values.shape[-1]) & mask
    packed = [sum(int(v) << (bits * i) for i, v in enumerate(row)) for row in flat]
    if values.ndim == 1:
        return packed[0]
    return np.array(packed, dtype=object).reshape(values.shape[:-1])


def stream_words(schedule, k, *, hidden_bit=False):
    """The schedule as the words a testbench drives onto the packed ports.

    Returns a ``dict`` of lists of Python ints, one per beat: ``x`` (``macs``
    lanes), ``w`` (``engines * macs`` lanes, engine-major), ``bias``, ``m``, ``s``,
    ``zero_point``, ``act_min``, ``act_max`` (``engines`` lanes each), and
    ``first``, ``last`` (0 or 1). Lane 0 sits in the low bits, negative values in
    two's complement, as in the Verilog of :class:`hw.array.Array` (and of
    :class:`hw.engine.Engine` for one engine). With ``hidden_bit`` the ``m`` lanes
    hold ``m - 2^(k-1)`` (:func:`sim.ports.rescale_operands`).
    """
    widths = {name: port.width for name, port in engine_lanes(k, hidden_bit=hidden_bit).items()}
    beats = schedule.beats
    words = {"x": pack_lanes(schedule.x, widths["x"]).tolist(),
             "w": pack_lanes(schedule.w.reshape(beats, -1), widths["w"]).tolist()}
    for name, value in schedule.channel_operands().items():
        words[name] = pack_lanes(value, widths[name]).tolist()
    words["first"] = schedule.first.astype(int).tolist()
    words["last"] = schedule.last.astype(int).tolist()
    return words


def pre_skew(words, *, engines, macs, k, hidden_bit=False):
    """Per-cycle port words of an aligned array as a pre-skewed one takes them.

    ``words`` maps port names to one packed int per cycle (bubbles included, as an
    aligned :class:`hw.array.Array` is driven). In the result, lane ``e`` of every
    :data:`sim.ports.ENGINE_OPERANDS` port holds in cycle ``t`` its value of cycle ``t - e`` (0
    before the first cycle); every list is ``engines - 1`` cycles longer, the other
    ports (``x``, the flags, ``valid`` if given) 0 in those cycles.
    """
    widths = engine_operand_bits(k, macs, hidden_bit=hidden_bit)
    extra = [0] * (engines - 1)
    skewed = {}
    for name, column in words.items():
        if name not in ENGINE_OPERANDS:
            skewed[name] = list(column) + extra
            continue
        masks = [((1 << widths[name]) - 1) << (widths[name] * e) for e in range(engines)]
        skewed[name] = [sum(column[t - e] & mask for e, mask in enumerate(masks) if 0 <= t - e < len(column))
                        for t in range(len(column) + engines - 1)]
    return skewed


def unpack_lanes(value, bits, lanes, *, signed=True):
    """Inverse of :func:`pack_lanes` for one packed int: a list of ``lanes`` ints."""
    out = []
    for i in range(lanes):
        v = (int(value) >> (bits * i)) & ((1 << bits) - 1)
        if signed and v >> (bits - 1):
            v -= 1 << bits
        out.append(v)
    return out


# --- convolutions ------------------------------------------------------------------------

def im2col(x, kernel, *, stride=1, padding=0, pad_value=0):
    """Patches of an ``(H, W, Cin)`` image as rows: ``(Ho*Wo, kh*kw*Cin)``.

    Element ``(dy, dx, c)`` of a patch is column ``(dy*kw + dx)*Cin + c``, matching
    :func:`conv_weights_matrix`. The border is filled with ``pad_value`` (for int8
    activations: their zero point, the quantized real 0).
    """
    x = np.asarray(x)
    kh, kw = (kernel, kernel) if np.ndim(kernel) == 0 else kernel
    if x.ndim != 3:
        raise ValueError(f"x must be an (H, W, Cin) image, not shape {x.shape}")
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)), constant_values=pad_value)
    h, w, cin = xp.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"a {kh}x{kw} kernel does not fit an image of {x.shape[:2]} with padding {padding}")
    cols = np.empty((ho, wo, kh, kw, cin), dtype=x.dtype)
    for dy in range(kh):
        for dx in range(kw):
            cols[:, :, dy, dx, :] = xp[dy:dy + stride * ho:stride, dx:dx + stride * wo:stride, :]
    return cols.reshape(ho * wo, kh * kw * cin), (ho, wo)


def conv_weights_matrix(w):
    """``(Cout, kh, kw, Cin)`` convolution weights as the ``(Cout, kh*kw*Cin)`` matrix
    that multiplies :func:`im2col` rows."""
    w = np.asarray(w)
    if w.ndim != 4:
        raise ValueError(f"w must be (Cout, kh, kw, Cin), not shape {w.shape}")
    return w.reshape(w.shape[0], -1)


def conv2d(x, w, bias, M, k, *, stride=1, padding=0, input_zero_point=0, zero_point=0,
           act_min=INT8_MIN, act_max=INT8_MAX):
    """Golden int8 convolution, lowered to :func:`sim.golden.dot_product`.

    ``x`` is an ``(H, W, Cin)`` int8 image with zero point ``input_zero_point``
    (the padding value), ``w`` ``(Cout, kh, kw, Cin)`` int8 weights and ``bias``
    the int32 ``b_eff`` (input zero-point correction folded in, see
    :class:`QuantizedConv`). Returns ``(Ho, Wo, Cout)`` int8.
    """
    wm = conv_weights_matrix(w)
    cols, (ho, wo) = im2col(x, w.shape[1:3], stride=stride, padding=padding,
                            pad_value=input_zero_point)
    y = golden.dot_product(cols, wm, bias, M, k, zero_point=zero_point, act_min=act_min,
                           act_max=act_max)
    return y.reshape(ho, wo, -1)


def conv2d_float(x, w, bias, *, stride=1, padding=0):
    """Float reference convolution (``(H, W, Cin)`` image, ``(Cout, kh, kw, Cin)`` weights)."""
    cols, (ho, wo) = im2col(np.asarray(x, dtype=np.float64), w.shape[1:3], stride=stride,
                            padding=padding, pad_value=0.0)
    return (cols @ conv_weights_matrix(w).astype(np.float64).T + bias).reshape(ho, wo, -1)


def quantize_weights(w):
    """Symmetric int8 per-output-channel quantization: ``(w_q, scales)``.

    ``scales[c] = max|w[c]| / 127`` (1 for an all-zero channel) and
    ``w_q = clip(round(w / scale), -127, 127)``; axis 0 is the output channel.
    """
    w = np.asarray(w, dtype=np.float64)
    amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scales = np.where(amax > 0, amax / INT8_MAX, 1.0)
    shape = (-1,) + (1,) * (w.ndim - 1)
    return np.clip(np.round(w / scales.reshape(shape)), -INT8_MAX, INT8_MAX).astype(np.int64), scales


def activation_params(lo, hi):
    """Affine int8 ``(scale, zero_point)`` covering the float range ``[lo, hi]`` (0 included)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / (INT8_MAX - INT8_MIN) or 1.0
    zero_point = int(np.clip(round(INT8_MIN - lo / scale), INT8_MIN, INT8_MAX))
    return scale, zero_point


def quantize_activations(x, scale, zero_point):
    """``clip(round(x / scale) + zero_point, -128, 127)`` as int64."""
    q = np.round(np.asarray(x, dtype=np.float64) / scale) + zero_point
    return np.clip(q, INT8_MIN, INT8_MAX).astype(np.int64)


@dataclass(frozen=True)
class QuantizedConv:
    """An int8 convolution ready for the engine, from :func:`quantize_conv2d`.

    Members
    -------
    x : numpy.ndarray, shape (H, W, Cin)
        Int8 input image (zero point ``x_zero_point``, scale ``x_scale``).
    w : numpy.ndarray, shape (Cout, kh, kw, Cin)
        Int8 weights (per-channel scales ``w_scales``).
    bias : numpy.ndarray, shape (Cout,)
        Int32 ``b_eff = round(b / (Sx*Sw)) - Zx * sum(w)``.
    M : numpy.ndarray, shape (Cout,)
        Float rescale factors ``Sx*Sw/Sy``.
    m, s : numpy.ndarray, shape (Cout,)
        ``quantize_multiplier(M, k)``.
    y_scale, y_zero_point : float, int
        Output quantization.
    act_min, act_max : int
        Saturation bounds (a fused ReLU when ``act_min = y_zero_point``).
    k, stride, padding : int
    """

    x: np.ndarray
    x_scale: float
    x_zero_point: int
    w: np.ndarray
    w_scales: np.ndarray
    bias: np.ndarray
    M: np.ndarray
    m: np.ndarray
    s: np.ndarray
    y_scale: float
    y_zero_point: int
    act_min: int
    act_max: int
    k: int
    stride: int
    padding: int

    def lowered(self):
        """``(cols, w_matrix, (Ho, Wo))``: the matrix product the engine runs."""
        cols, out_hw = im2col(self.x, self.w.shape[1:3], stride=self.stride,
                              padding=self.padding, pad_value=self.x_zero_point)
        return cols, conv_weights_matrix(self.w), out_hw

    def golden(self):
        """Int8 output ``(Ho, Wo, Cout)`` by :func:`conv2d` (the golden model)."""
        return conv2d(self.x, self.w, self.bias, self.M, self.k, stride=self.stride,
                      padding=self.padding, input_zero_point=self.x_zero_point,
                      zero_point=self.y_zero_point, act_min=self.act_min, act_max=self.act_max)

    def dequantize(self, y):
        """Float value of int8 outputs ``y``."""
        return self.y_scale * (np.asarray(y, dtype=np.float64) - self.y_zero_point)


def quantize_conv2d(x, w, bias, k, *, stride=1, padding=0, relu=False):
    """Quantize a float convolution for the int8 engine with a ``k``-bit rescaler.

    Per-channel symmetric int8 weights (:func:`quantize_weights`), affine int8
    activations over the input's range, the output scale and zero point from the
    float output's range, an int32 bias at scale ``Sx*Sw`` with the input
    zero-point correction folded in, and ``(m, s)`` from
    :func:`sim.golden.quantize_multiplier`. ``relu`` fuses a ReLU into the clamp.

    Parameters
    ----------
    x : array_like of float, shape (H, W, Cin)
    w : array_like of float, shape (Cout, kh, kw, Cin)
    bias : array_like of float, shape (Cout,)
    k : int

    Returns
    -------
    QuantizedConv
    """
    x, w, bias = (np.asarray(a, dtype=np.float64) for a in (x, w, bias))
    x_scale, x_zp = activation_params(x.min(), x.max())
    xq = quantize_activations(x, x_scale, x_zp)
    wq, w_scales = quantize_weights(w)
    ref = conv2d_float(x, w, bias, stride=stride, padding=padding)
    if relu:
        ref = np.maximum(ref, 0)
    y_scale, y_zp = activation_params(ref.min(), ref.max())
    acc_scales = x_scale * w_scales
    b_eff = np.round(bias / acc_scales).astype(np.int64) - x_zp * wq.reshape(len(wq), -1).sum(axis=1)
    M = (acc_scales / y_scale).astype(np.float32)
    m, s = golden.quantize_multiplier(M, k)
    return QuantizedConv(
        x=xq, x_scale=x_scale, x_zero_point=x_zp, w=wq, w_scales=w_scales,
        bias=np.clip(b_eff, INT32_MIN, -INT32_MIN - 1), M=M, m=m, s=s,
        y_scale=y_scale, y_zero_point=y_zp, act_min=y_zp if relu else INT8_MIN,
        act_max=INT8_MAX, k=k, stride=stride, padding=padding)


# --- test layers ---------------------------------------------------------------------------

#: Names of the edge layers of :func:`edge_layer`.
EDGE_LAYERS = ("saturate_high", "saturate_low", "wrap_high", "wrap_low", "m_one", "underflow")


def _layer(x, w, bias, M, k, zero_point, act_min, act_max):
    channels = len(w)
    M = np.broadcast_to(np.asarray(M, dtype=np.float64), (channels,)).copy()
    m, s = golden.quantize_multiplier(M, k)
    bc = lambda v: np.broadcast_to(np.asarray(v, dtype=np.int64), (channels,)).copy()
    return {"x": np.asarray(x, dtype=np.int64), "w": np.asarray(w, dtype=np.int64),
            "bias": bc(bias), "M": M,
            "m": m, "s": s, "zero_point": bc(zero_point), "act_min": bc(act_min),
            "act_max": bc(act_max)}


def layer_schedule(layer, *, macs, engines=1):
    """:func:`matmul_schedule` of a layer ``dict`` from :func:`random_layer` / :func:`edge_layer`."""
    return matmul_schedule(layer["x"], layer["w"], layer["bias"], layer["m"], layer["s"],
                           zero_point=layer["zero_point"], act_min=layer["act_min"],
                           act_max=layer["act_max"], macs=macs, engines=engines)


def random_layer(rng, *, k, positions, channels, length):
    """A random int8 layer as a ``dict`` (``x``, ``w``, ``bias``, ``M``, ``m``, ``s``,
    ``zero_point``, ``act_min``, ``act_max``).

    Shaped like a quantized network's layer, so that most outputs exercise the
    multiply-and-round path rather than a clamp: operands span the whole int8 range,
    or (one layer in two) a small range so that accumulators stay small and ``M``
    near 1 exposes their last bits. Per channel, most often (85 %) a bias of the
    order of the dot product's spread and ``M`` chosen from the accumulator's spread
    (``spread * M`` between 2^3 and 2^6 output steps, as calibration would choose);
    the corners remain, less often: ``M`` log-uniform in ``[2^-24, 1]`` (10 %) or
    exactly 1 (5 %), a bias within +-2^20 or anywhere in int32 (10 %). Clamps: none
    with a small zero point (half the channels), ReLU (``act_min = zero_point``, a
    zero point in the lower half) or a ReLU6-like upper bound.
    """
    bound = INT8_MAX if rng.random() < 0.5 else int(rng.integers(1, 4))
    x = rng.integers(-bound - 1, bound + 1, size=(positions, length))
    w = rng.integers(-bound - 1, bound + 1, size=(channels, length))
    spread = (bound + 1) ** 2 / 3 * np.sqrt(max(length, 1))  # std of a dot product
    pick = rng.random(channels)
    bias = np.where(pick < 0.9, np.round(rng.uniform(-1, 1, size=channels) * spread).astype(np.int64),
                    np.where(pick < 0.95, rng.integers(-(1 << 20), 1 << 20, size=channels),
                             rng.integers(INT32_MIN, -INT32_MIN, size=channels)))
    acc_spread = np.sqrt(spread ** 2 + (bias.astype(np.float64) / np.sqrt(3)) ** 2)
    aimed = np.minimum(1.0, np.exp2(rng.uniform(3, 6, size=channels)) / (3 * acc_spread))
    corner = rng.random(channels)
    M = np.where(corner < 0.85, aimed, np.exp2(-rng.uniform(0, 24, size=channels)))
    M[corner >= 0.95] = 1.0
    kind = rng.choice(3, size=channels, p=[0.5, 0.3, 0.2])  # 0: none, 1: ReLU, 2: ReLU6-like
    zero_point = np.where(kind == 0, rng.integers(-32, 33, size=channels),
                          rng.integers(INT8_MIN, 1, size=channels))
    act_min = np.where(kind == 0, INT8_MIN, zero_point)
    act_max = np.where(kind == 2, rng.integers(zero_point, INT8_MAX + 1), INT8_MAX)
    return _layer(x, w, bias, M.astype(np.float32), k, zero_point, act_min, act_max)


def edge_layer(name, *, k, macs, positions=2, channels=3):
    """A deterministic layer at an edge of the datapath (``name`` in :data:`EDGE_LAYERS`).

    ``saturate_high`` / ``saturate_low``: all activations -128 and weights -128
    (resp. +127) over 64 beats, so the accumulator is far beyond the int8 range
    (``+-2^20`` for 8 MACs) and the output saturates at 127 (resp. -128).
    ``wrap_high`` / ``wrap_low``: the bias at ``+-(2^31 - 1)`` and products that
    push the accumulator past it: it wraps around (two's complement).
    ``m_one``: ``M = 1`` (``m = 2^(k-1)``, ``s = k-1``) with small accumulators.
    ``underflow``: four channels of tiny ``M`` (below ``2^(k-1-s_max)``, down to a
    float32 subnormal) with ``acc = 2^31 - 1``: the shift is clipped to ``s_max``
    and ``m`` loses 1, ``k-1`` and all its bits.
    """
    length = 64 * macs
    full = lambda v: np.full((positions, length), v)
    if name == "saturate_high":
        return _layer(full(INT8_MIN), np.full((channels, length), INT8_MIN), 0, 2.0 ** -10, k, 0, INT8_MIN, INT8_MAX)
    if name == "saturate_low":
        return _layer(full(INT8_MIN), np.full((channels, length), INT8_MAX), 0, 2.0 ** -10, k, 0, INT8_MIN, INT8_MAX)
    if name in ("wrap_high", "wrap_low"):
        sign = 1 if name == "wrap_high" else -1
        x = np.zeros((positions, macs), dtype=np.int64)
        x[:, 0] = np.arange(1, positions + 1)  # acc = bias + sign * position * (1 + c)
        w = np.zeros((channels, macs), dtype=np.int64)
        w[:, 0] = sign * np.arange(1, channels + 1)
        bias = sign * ((1 << 31) - 1)
        return _layer(x, w, bias, [1.0, 2.0 ** -31, 2.0 ** -24][:channels] + [1.0] * (channels - 3),
                      k, 0, INT8_MIN, INT8_MAX)
    if name == "m_one":
        rng = np.random.default_rng(1)
        return _layer(rng.integers(-4, 5, size=(positions, 3 * macs)),
                      rng.integers(-4, 5, size=(channels, 3 * macs)), rng.integers(-30, 30, size=channels),
                      1.0, k, rng.integers(-10, 10, size=channels), INT8_MIN, INT8_MAX)
    if name == "underflow":
        # M = 2^(k-1-s_max-j): s clipped to s_max, m = 2^(k-1-j) for j = 1, k-1, then 0.
        base = k - 1 - golden.s_max(k)
        tiny = np.array([2.0 ** (base - 1), 2.0 ** (base - k + 1), 2.0 ** (base - k), 1e-45],
                        dtype=np.float32)
        x = full(INT8_MIN)
        w = np.full((len(tiny), length), INT8_MIN)
        return _layer(x, w, (1 << 31) - 1 - length * (1 << 14), tiny, k, 0, INT8_MIN, INT8_MAX)
    raise ValueError(f"edge layer must be one of {', '.join(EDGE_LAYERS)}, not {name!r}")
