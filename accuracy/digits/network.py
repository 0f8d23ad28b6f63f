"""A small int8 CNN on scikit-learn's 8x8 handwritten digits, run integer-only.

The network (:data:`ARCH`) is MobileNet-shaped and tiny enough to train on two
CPU cores in seconds, with numpy only::

    input 8x8x1 (pixel / 16, int8 scale 1/255, zero point -128)
    conv1  3x3,  1 -> 16, stride 1, pad 1, ReLU6     -> 8x8x16
    dw2    3x3 depthwise, stride 1, pad 1, ReLU6      -> 8x8x16
    pw3    1x1, 16 -> 16, ReLU6                       -> 8x8x16
    dw4    3x3 depthwise, stride 2, pad 0, ReLU6      -> 3x3x16
    pw5    1x1, 16 -> 32, ReLU6                       -> 3x3x32
    fc6    dense 288 -> 10 (logits, no activation)

Quantization follows ``docs/semantics.md`` (and LiteRT): per-output-channel
symmetric int8 weights (:func:`sim.layers.quantize_weights`), affine int8
activations with scales and zero points calibrated on the training set
(:func:`sim.layers.activation_params`), int32 biases at scale ``Sx*Sw``, float32
scales, ReLU6 fused into the clamp ``[Zy, Zy + round(6/Sy)]``.

Three ways to run it, all in this module:

* :func:`forward` with ``quant=None``: the float network (training, calibration);
* :func:`forward` with ``quant=emulation(net, k)``: float64 emulation of the
  integer path with fake-quantized weights (rescale-aware fine-tuning,
  :mod:`accuracy.digits.finetune`), bit-exact with the integer path for ``rounding="half_up"``;
* :func:`run_int8`: the integer-only path through :func:`sim.golden.accumulate`
  and :func:`sim.golden.rescale` (the RTL-checked golden functions) with any ``k``,
  rounding mode and multiplier derivation.

The quantized network is stored as an ``.npz`` file (:func:`save`, :func:`load`;
format described in ``models/README.md``).
"""

import io
import itertools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sim import golden, layers
from toolkit.files import write_atomically
from toolkit.validate import read_npz
from sim.golden import INT8_MAX, INT8_MIN, INT32_MAX, INT32_MIN

__all__ = [
    "ARCH",
    "DEFAULT_MODEL",
    "FORMAT",
    "VERSION",
    "Geometry",
    "ModelFileError",
    "QLayer",
    "QNet",
    "accuracy",
    "backward",
    "emulation",
    "forward",
    "gather",
    "geometry",
    "init_params",
    "layer_shapes",
    "load",
    "SPLIT", "load_digits_split",
    "predict_int8",
    "quantize",
    "run_int8",
    "save",
    "scatter",
    "softmax_xent",
    "train_float",
]

FORMAT = "narrow-rescaler/int8-net"
VERSION = 1
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "digits_int8.npz"

#: Layers of the network: kind ``conv`` (kernel, cin -> cout), ``dwconv`` (depthwise,
#: ``c`` channels) or ``dense``; activation ``relu6`` or ``none``.
ARCH = (
    {"name": "conv1", "kind": "conv", "cin": 1, "cout": 16, "kernel": 3, "stride": 1, "padding": 1, "act": "relu6"},
    {"name": "dw2", "kind": "dwconv", "cin": 16, "cout": 16, "kernel": 3, "stride": 1, "padding": 1, "act": "relu6"},
    {"name": "pw3", "kind": "conv", "cin": 16, "cout": 16, "kernel": 1, "stride": 1, "padding": 0, "act": "relu6"},
    {"name": "dw4", "kind": "dwconv", "cin": 16, "cout": 16, "kernel": 3, "stride": 2, "padding": 0, "act": "relu6"},
    {"name": "pw5", "kind": "conv", "cin": 16, "cout": 32, "kernel": 1, "stride": 1, "padding": 0, "act": "relu6"},
    {"name": "fc6", "kind": "dense", "cin": 288, "cout": 10, "kernel": 1, "stride": 1, "padding": 0, "act": "none"},
)
INPUT_SHAPE = (8, 8, 1)
RELU6 = 6.0


class ModelFileError(ValueError):
    """A model file that is missing, not an npz, of another format/version, or inconsistent."""


# --- data ---------------------------------------------------------------------------------

#: The data split of the digits (seed and test fraction of scikit-learn's 1797 images).
SPLIT = {"seed": 0, "test_fraction": 1 / 3}


def load_digits_split(*, seed=SPLIT["seed"], test_fraction=SPLIT["test_fraction"]):
    """scikit-learn's 8x8 digits (shipped with the package, no download), split at random.

    Returns ``(x_train, y_train, x_test, y_test)``; images are ``(N, 8, 8, 1)`` floats
    ``pixel / 16`` in ``[0, 1]``, labels int64. The split is fixed by ``seed``.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        raise RuntimeError("the digits data set needs scikit-learn: pip install scikit-learn") from None
    digits = load_digits()
    x = (digits.data / 16.0).reshape(-1, *INPUT_SHAPE)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = round(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


# --- convolution geometry: one im2col for float, emulated and integer paths --------------

@dataclass(frozen=True)
class Geometry:
    """Where each patch element of a convolution comes from.

    ``idx[p, t]`` is the flat input pixel (``y*W + x``) of tap ``t`` of output
    position ``p``, or ``H*W`` for a padding tap; the order of taps is that of
    :func:`sim.layers.im2col` (row-major ``dy, dx``).
    """

    idx: np.ndarray
    in_hw: tuple
    out_hw: tuple

    @property
    def taps(self):
        return self.idx.shape[1]


def geometry(in_hw, kernel, *, stride=1, padding=0):
    """The :class:`Geometry` of a ``kernel`` x ``kernel`` convolution, from :func:`sim.layers.im2col`."""
    h, w = in_hw
    index_image = np.arange(h * w, dtype=np.int64).reshape(h, w, 1)
    idx, out_hw = layers.im2col(index_image, kernel, stride=stride, padding=padding, pad_value=h * w)
    return Geometry(idx=idx, in_hw=(h, w), out_hw=out_hw)


def gather(x, geom, pad_value=0):
    """Patches of a batch ``x`` of ``(N, H, W, C)`` images: ``(N, P, taps, C)``."""
    n, h, w, c = x.shape
    flat = np.concatenate([x.reshape(n, h * w, c), np.full((n, 1, c), pad_value, dtype=x.dtype)], axis=1)
    return flat[:, geom.idx, :]


def scatter(g, geom, channels):
    """Adjoint of :func:`gather` (sum of the patch gradients per pixel): ``(N, H, W, C)``."""
    n = g.shape[0]
    h, w = geom.in_hw
    out = np.zeros((n, h * w + 1, channels))
    for t in range(geom.taps):  # within one tap every position reads a different pixel
        np.add.at(out, (slice(None), geom.idx[:, t]), g[:, :, t, :])
    return out[:, :h * w].reshape(n, h, w, channels)


_SHAPES = {}


def layer_shapes(arch=ARCH):
    """Input ``(H, W, C)`` (or ``(L,)`` for dense) and :class:`Geometry` (or None) per layer."""
    key = json.dumps(arch, sort_keys=True)
    if key not in _SHAPES:
        _SHAPES[key] = _layer_shapes(arch)
    return _SHAPES[key]


def _layer_shapes(arch):
    shape, out = INPUT_SHAPE, []
    for spec in arch:
        if spec["kind"] == "dense":
            out.append(((int(np.prod(shape)),), None))
            shape = (spec["cout"],)
            continue
        geom = geometry(shape[:2], spec["kernel"], stride=spec["stride"], padding=spec["padding"])
        out.append((shape, geom))
        shape = (*geom.out_hw, spec["cout"])
    return out


# --- differentiable forward / backward (float and float64 emulation of the integer path) --

def init_params(seed=0, arch=ARCH):
    """He-initialized float weights and zero biases, one ``(w, b)`` per layer.

    Shapes: conv ``(Cout, k, k, Cin)``, depthwise ``(C, k, k)``, dense ``(Cout, Cin)``.
    """
    rng = np.random.default_rng(seed)
    params = []
    for spec in arch:
        k = spec["kernel"]
        shape = {"conv": (spec["cout"], k, k, spec["cin"]), "dwconv": (spec["cout"], k, k),
                 "dense": (spec["cout"], spec["cin"])}[spec["kind"]]
        fan_in = int(np.prod(shape[1:]))
        params.append((rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape), np.zeros(spec["cout"])))
    return params


def _linear(spec, cols, w):
    """``z = x * w`` of one layer on its gathered input (no bias)."""
    if spec["kind"] == "conv":
        n, p = cols.shape[:2]
        return cols.reshape(n, p, -1) @ w.reshape(len(w), -1).T
    if spec["kind"] == "dwconv":
        return np.einsum("nptc,ct->npc", cols, w.reshape(len(w), -1))
    return cols @ w.T


def _linear_grads(spec, cols, w, dz):
    """``(dL/dw, dL/dcols)`` of :func:`_linear`."""
    if spec["kind"] == "conv":
        n, p = cols.shape[:2]
        flat = cols.reshape(n * p, -1)
        dzf = dz.reshape(n * p, -1)
        wm = w.reshape(len(w), -1)
        return (dzf.T @ flat).reshape(w.shape), (dzf @ wm).reshape(cols.shape)
    if spec["kind"] == "dwconv":
        wm = w.reshape(len(w), -1)
        return (np.einsum("npc,nptc->ct", dz, cols).reshape(w.shape),
                np.einsum("npc,ct->nptc", dz, wm))
    return dz.T @ cols, dz @ w


def _fake_quant(w, b):
    """Integer weights and biases as the integer path sees them (STE in :func:`backward`)."""
    return np.clip(np.round(w), -INT8_MAX, INT8_MAX), np.clip(np.round(b), INT32_MIN, INT32_MAX)


def forward(params, x, *, quant=None, arch=ARCH):
    """Run the network on a batch, keeping what :func:`backward` needs.

    ``quant=None``: the float network on float images ``x``; returns float logits.
    ``quant`` from :func:`emulation`: the integer path in float64 on int8-valued
    images (``params`` hold integer-valued weights and biases, rounded and
    clipped here): ``z = sum (x - Zx) w + b``, ``y = clamp(floor(z*M_q + 1/2) + Zy)``.
    Returns ``(out, cache)``; ``out`` is the last layer's output (int8 values in
    emulation mode).
    """
    cache = []
    for i, (spec, (shape, geom)) in enumerate(zip(arch, layer_shapes(arch))):
        w, b = params[i]
        q = None if quant is None else quant[i]
        if q is not None:
            w, b = _fake_quant(w, b)
            x = x - q["x_zp"]  # padding below is then the real 0, as padding with Zx
        cols = x.reshape(len(x), -1) if geom is None else gather(x, geom)
        z = _linear(spec, cols, w) + b
        if q is None:
            pre = z
            lo, hi = (0.0, RELU6) if spec["act"] == "relu6" else (-np.inf, np.inf)
        else:
            pre = np.floor(z * q["g"] + 0.5) + q["zp"]
            lo, hi = q["lo"], q["hi"]
        y = np.clip(pre, lo, hi)
        cache.append({"cols": cols, "w": w, "pass": (pre >= lo) & (pre <= hi), "geom": geom,
                      "g": 1.0 if q is None else q["g"], "in_shape": x.shape})
        x = y if geom is None else y.reshape(len(y), *geom.out_hw, -1)
    return x.reshape(len(x), -1), cache


def backward(cache, dout, *, arch=ARCH):
    """Gradients ``[(dw, db), ...]`` of a scalar loss given ``dout = dL/dout``.

    Every rounding (weights, biases, the rescale) passes the gradient straight
    through (STE); the clamps (ReLU6, int8 saturation) pass it where they did not
    clamp.
    """
    grads = [None] * len(arch)
    d = dout
    for i in reversed(range(len(arch))):
        spec, c = arch[i], cache[i]
        d = d.reshape(c["pass"].shape)
        dz = d * c["pass"] * c["g"]
        db = dz.reshape(-1, dz.shape[-1]).sum(axis=0)
        dw, dcols = _linear_grads(spec, c["cols"], c["w"], dz)
        grads[i] = (dw, db)
        if i:
            shape, geom = c["in_shape"], c["geom"]
            d = dcols.reshape(shape) if geom is None else scatter(dcols, geom, shape[-1])
    return grads


def softmax_xent(logits, labels):
    """Mean cross-entropy and its gradient with respect to ``logits``."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.mean(np.log(p[np.arange(n), labels] + 1e-300))
    p[np.arange(n), labels] -= 1
    return loss, p / n


def train_float(x, y, *, epochs=60, batch=32, lr=3e-3, seed=0, log=print):
    """Train the float network with Adam (deterministic for a given seed)."""
    params = init_params(seed)
    rng = np.random.default_rng(seed + 1)
    flat = [a for wb in params for a in wb]
    m1 = [np.zeros_like(a) for a in flat]
    m2 = [np.zeros_like(a) for a in flat]
    beta1, beta2, step = 0.9, 0.999, 0
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        total = 0.0
        for start in range(0, len(y), batch):
            sel = order[start:start + batch]
            out, cache = forward(params, x[sel])
            loss, dout = softmax_xent(out, y[sel])
            total += loss * len(sel)
            grads = [a for wb in backward(cache, dout) for a in wb]
            step += 1
            for j, g in enumerate(grads):
                m1[j] = beta1 * m1[j] + (1 - beta1) * g
                m2[j] = beta2 * m2[j] + (1 - beta2) * g * g
                flat[j] = flat[j] - lr * (m1[j] / (1 - beta1 ** step)) / (np.sqrt(m2[j] / (1 - beta2 ** step)) + 1e-8)
            params = [(flat[2 * i], flat[2 * i + 1]) for i in range(len(params))]
        if log and (epoch + 1) % 10 == 0:
            acc = np.mean(forward(params, x)[0].argmax(axis=1) == y)
            log(f"epoch {epoch + 1}/{epochs}: loss {total / len(y):.4f}, train accuracy {100 * acc:.2f} %")
    return params


# --- the quantized network -----------------------------------------------------------------

@dataclass(frozen=True)
class QLayer:
    """One int8 layer.

    Members
    -------
    name, kind, stride, padding, act
        As in :data:`ARCH`.
    w : numpy.ndarray of int8
        Weights, conv ``(Cout, k, k, Cin)``, depthwise ``(C, k, k)``, dense ``(Cout, Cin)``.
    w_scale : numpy.ndarray of float32, shape (Cout,)
        Per-output-channel weight scales ``Sw``.
    bias : numpy.ndarray of int32, shape (Cout,)
        ``round(b / (Sx*Sw))`` (the input zero-point term is folded in by :attr:`b_eff`).
    x_scale, x_zero_point, y_scale, y_zero_point : float32, int
        Input and output activation quantization.
    act_min, act_max : int
        Output clamp (fused ReLU6: ``[Zy, min(127, Zy + round(6/Sy))]``).
    """

    name: str
    kind: str
    stride: int
    padding: int
    act: str
    w: np.ndarray
    w_scale: np.ndarray
    bias: np.ndarray
    x_scale: np.float32
    x_zero_point: int
    y_scale: np.float32
    y_zero_point: int
    act_min: int
    act_max: int

    @property
    def channels(self):
        return len(self.w)

    @property
    def w_matrix(self):
        """Weights as ``(Cout, taps*Cin)`` (``(C, taps)`` for depthwise), int64."""
        return self.w.reshape(len(self.w), -1).astype(np.int64)

    @property
    def b_eff(self):
        """Int32 accumulator bias ``bias - Zx * sum(w)`` (``docs/semantics.md``), int64."""
        return self.bias.astype(np.int64) - self.x_zero_point * self.w_matrix.sum(axis=1)

    def M(self, method="truncate"):
        """Per-channel ``M = Sx*Sw/Sy``: computed in float64 from the float32 scales (as
        LiteRT does), and taken as float32 (as model files store it) unless ``method="tflite"``."""
        m64 = np.float64(self.x_scale) * self.w_scale.astype(np.float64) / np.float64(self.y_scale)
        return m64 if method == "tflite" else m64.astype(np.float32)


@dataclass(frozen=True)
class QNet:
    """A quantized network: its layers, input quantization, and optionally the float
    parameters it came from (``float_params``) and free-form metadata (``meta``)."""

    layers: tuple
    input_scale: np.float32
    input_zero_point: int
    float_params: list = None
    meta: dict = field(default_factory=dict)

    def quantize_input(self, x):
        """Float images -> int8 (``round(x / S) + Z``, clipped)."""
        return layers.quantize_activations(x, np.float64(self.input_scale), self.input_zero_point)

    def int_params(self):
        """``[(w, bias), ...]`` as float64 integer values (the start of fine-tuning)."""
        return [(ql.w.astype(np.float64), ql.bias.astype(np.float64)) for ql in self.layers]

    def with_int_params(self, params):
        """A copy with integer weights/biases replaced by ``round(params)`` (clipped)."""
        new = []
        for ql, (w, b) in zip(self.layers, params):
            wq, bq = _fake_quant(w, b)
            new.append(replace(ql, w=wq.astype(np.int8), bias=bq.astype(np.int32)))
        return replace(self, layers=tuple(new))


def _round_half_away(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def _relu6_range(y_scale, zp):
    """LiteRT's ``CalculateActivationRangeQuantized`` for RELU6 (float32 division, std::round)."""
    top = zp + int(_round_half_away(np.float32(RELU6) / np.float32(y_scale)))
    return max(INT8_MIN, zp), min(INT8_MAX, top)


def quantize(params, calib_x, *, arch=ARCH, meta=None):
    """Post-training quantization of float ``params`` with activation ranges from ``calib_x``.

    Each layer's output range is its min/max on the calibration images (clipped to
    ``[0, 6]`` after ReLU6); if a channel's ``M`` would exceed 1 the output range is
    widened until ``M <= 1`` (the rescaler requires it).
    """
    in_scale, in_zp = layers.activation_params(0.0, 1.0)
    in_scale = np.float32(in_scale)
    x_scale, x_zp = in_scale, in_zp
    qlayers = []
    for i, spec in enumerate(arch):
        w, b = params[i]
        out, _ = forward(params[:i + 1], calib_x, arch=arch[:i + 1])
        lo, hi = float(out.min()), float(out.max())
        wq, w_scale = layers.quantize_weights(w)
        w_scale = w_scale.astype(np.float32)
        acc_scale = np.float64(x_scale) * w_scale.astype(np.float64)
        y_scale, y_zp = layers.activation_params(lo, hi)
        if acc_scale.max() > np.float64(np.float32(y_scale)):  # M > 1: widen the output range
            widen = acc_scale.max() / y_scale * (1 + 1e-6)
            y_scale, y_zp = layers.activation_params(lo * widen, hi * widen)
        y_scale = np.float32(y_scale)
        bias = np.clip(np.round(b / acc_scale), INT32_MIN, INT32_MAX).astype(np.int32)
        act_min, act_max = _relu6_range(y_scale, y_zp) if spec["act"] == "relu6" else (INT8_MIN, INT8_MAX)
        qlayers.append(QLayer(
            name=spec["name"], kind=spec["kind"], stride=spec["stride"], padding=spec["padding"],
            act=spec["act"], w=wq.astype(np.int8), w_scale=w_scale, bias=bias, x_scale=np.float32(x_scale),
            x_zero_point=int(x_zp), y_scale=y_scale, y_zero_point=int(y_zp),
            act_min=int(act_min), act_max=int(act_max)))
        x_scale, x_zp = y_scale, y_zp
    return QNet(layers=tuple(qlayers), input_scale=in_scale, input_zero_point=int(in_zp),
                float_params=[(np.asarray(w), np.asarray(b)) for w, b in params], meta=dict(meta or {}))


def emulation(net, k, *, method="truncate"):
    """Per-layer constants of the float64 emulation of :func:`run_int8` (``half_up``)
    for :func:`forward`: input zero point, ``M_q = m 2^-s`` (fixed), zero point, clamp."""
    quant = []
    for ql in net.layers:
        m, s = golden.quantize_multiplier(ql.M(method), k, method=method)
        quant.append({"x_zp": ql.x_zero_point, "g": np.ldexp(m.astype(np.float64), -s),
                      "zp": ql.y_zero_point, "lo": ql.act_min, "hi": ql.act_max})
    return quant


def run_int8(net, xq, k, *, rounding="half_up", method="truncate", keep=False):
    """Integer-only inference through :func:`sim.golden.accumulate` and :func:`sim.golden.rescale`.

    ``xq`` is a batch of int8 images ``(N, 8, 8, 1)``. Each layer gathers its
    patches (padding with the input zero point), accumulates in 32 bits with
    ``b_eff`` (a depthwise layer one channel at a time, as a dot product of length
    ``k*k``), and rescales per channel with ``(m, s) = quantize_multiplier(M, k,
    method=method)``, the output zero point and the fused clamp. ``rounding`` is a
    mode of :func:`sim.golden.rescale`, or a ``dict`` from layer kind (``conv``,
    ``dwconv``, ``dense``) to mode (e.g. :data:`accuracy.digits.litert.LITERT_ROUNDING`).

    Returns the int8 logits ``(N, 10)``, or with ``keep=True`` a list with, per
    layer, ``{"x", "acc", "y", "m", "s"}`` (``x`` the layer's input patches as
    ``(rows, L)`` or ``(rows, taps, C)``, ``acc`` ``(rows, C)`` int64).
    """
    x = np.asarray(xq, dtype=np.int64)
    trace = []
    for ql, (shape, geom) in zip(net.layers, layer_shapes()):
        n = len(x)
        if geom is None:
            cols = x.reshape(n, -1)
            acc = golden.accumulate(cols, ql.w_matrix, ql.b_eff)
        else:
            patches = gather(x, geom, pad_value=ql.x_zero_point)  # (N, P, taps, C)
            if ql.kind == "dwconv":
                cols = patches.reshape(-1, geom.taps, shape[-1])
                acc = golden.accumulate_depthwise(np.swapaxes(cols, 1, 2), ql.w_matrix, ql.b_eff)
            else:
                cols = patches.reshape(n * len(geom.idx), -1)
                acc = golden.accumulate(cols, ql.w_matrix, ql.b_eff)
        m, s = golden.quantize_multiplier(ql.M(method), k, method=method)
        mode = rounding if isinstance(rounding, str) else rounding[ql.kind]
        y = golden.rescale(acc, m, s, zero_point=ql.y_zero_point, act_min=ql.act_min,
                           act_max=ql.act_max, rounding=mode, k=k).astype(np.int64)
        if keep:
            trace.append({"x": cols, "acc": acc, "y": y, "m": m, "s": s})
        x = y.reshape(n, -1) if geom is None else y.reshape(n, *geom.out_hw, -1)
    return trace if keep else x.reshape(len(x), -1)


def predict_int8(net, xq, k, **kw):
    """Class predictions of :func:`run_int8` (argmax of the int8 logits, first on ties)."""
    return run_int8(net, xq, k, **kw).argmax(axis=1)


def accuracy(pred, labels):
    """Accuracy in percent."""
    return 100.0 * float(np.mean(np.asarray(pred) == np.asarray(labels)))


# --- file format ---------------------------------------------------------------------------

_LAYER_SCALARS = ("stride", "padding", "x_zero_point", "y_zero_point", "act_min", "act_max")


def save(net, path):
    """Write ``net`` to ``path`` (.npz, no pickles; format in ``models/README.md``)."""
    data = {"format": np.array(FORMAT), "version": np.array(VERSION, dtype=np.int64),
            "layer_names": np.array([ql.name for ql in net.layers]),
            "input_scale": np.float32(net.input_scale), "input_zero_point": np.int64(net.input_zero_point),
            "meta_json": np.array(json.dumps(net.meta, sort_keys=True))}
    for i, ql in enumerate(net.layers):
        p = f"l{i}_"
        data[p + "kind"], data[p + "act"] = np.array(ql.kind), np.array(ql.act)
        data[p + "w"], data[p + "w_scale"], data[p + "bias"] = ql.w, ql.w_scale, ql.bias
        data[p + "x_scale"], data[p + "y_scale"] = np.float32(ql.x_scale), np.float32(ql.y_scale)
        for name in _LAYER_SCALARS:
            data[p + name] = np.int64(getattr(ql, name))
        if net.float_params is not None:
            data[p + "float_w"] = np.asarray(net.float_params[i][0], dtype=np.float32)
            data[p + "float_b"] = np.asarray(net.float_params[i][1], dtype=np.float32)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **data)
    write_atomically(path, buffer.getvalue())


def _get(z, key, path):
    if key not in z:
        raise ModelFileError(f"{path}: missing field {key!r} (not a complete {FORMAT} v{VERSION} file)")
    return z[key]


#: What a scalar field of each kind must hold (numpy dtype kinds) and how it is read.
_SCALARS = {"int": ("iu", int), "float": ("fiu", float), "str": ("US", str)}


def _scalar(z, key, path, kind):
    """Field ``key`` as one Python value of ``kind`` (:data:`_SCALARS`): a 0-d array
    of that kind, else a :class:`ModelFileError` naming the field."""
    value = _get(z, key, path)
    kinds, convert = _SCALARS[kind]
    if value.shape != () or value.dtype.kind not in kinds:
        raise ModelFileError(f"{path}: field {key!r} must be one {kind}, not {value.dtype} of shape "
                             f"{list(value.shape)}")
    return convert(value[()])


def load(path=DEFAULT_MODEL):
    """Read a network written by :func:`save`; any problem is a :class:`ModelFileError`
    naming the file and the field (the arrays are read by :func:`toolkit.validate.read_npz`:
    no pickles, declared sizes bounded before reading)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file (make train writes {DEFAULT_MODEL.name})")
    try:
        z = read_npz(path)
    except ValueError as exc:
        raise ModelFileError(f"{path}: not a model file (.npz): {str(exc).removeprefix(f'{path}: ')}") from None
    if "format" not in z or _scalar(z, "format", path, "str") != FORMAT:
        raise ModelFileError(f"{path}: not a {FORMAT} file (field 'format' missing or different)")
    version = _scalar(z, "version", path, "int")
    if version != VERSION:
        raise ModelFileError(f"{path}: format version {version} is not supported (this tool reads {VERSION})")
    names = _get(z, "layer_names", path)
    if names.ndim != 1 or names.dtype.kind not in "US":
        raise ModelFileError(f"{path}: field 'layer_names' must be a list of names, not {names.dtype} of shape "
                             f"{list(names.shape)}")
    names = [str(n) for n in names]
    if names != [spec["name"] for spec in ARCH]:
        raise ModelFileError(f"{path}: layers {names} do not match the network {[s['name'] for s in ARCH]}")
    qlayers, float_params = [], []
    for i, (spec, name) in enumerate(zip(ARCH, names)):
        p = f"l{i}_"
        w, w_scale, bias = (_get(z, p + f, path) for f in ("w", "w_scale", "bias"))
        expect = init_params(0, ARCH[i:i + 1])[0][0].shape
        if w.dtype != np.int8 or w.shape != expect:
            raise ModelFileError(f"{path}: {name}.w must be int8 of shape {expect}, not {w.dtype} {w.shape}")
        if w_scale.dtype != np.float32 or w_scale.shape != (len(w),) or not np.all(w_scale > 0) \
                or not np.all(np.isfinite(w_scale)):
            raise ModelFileError(f"{path}: {name}.w_scale must be {len(w)} positive finite float32 scales")
        if bias.dtype != np.int32 or bias.shape != (len(w),):
            raise ModelFileError(f"{path}: {name}.bias must be int32 of shape ({len(w)},)")
        scal = {f: _scalar(z, p + f, path, "int") for f in _LAYER_SCALARS}
        for f in ("x_zero_point", "y_zero_point", "act_min", "act_max"):
            if not INT8_MIN <= scal[f] <= INT8_MAX:
                raise ModelFileError(f"{path}: {name}.{f} = {scal[f]} is not an int8")
        if scal["act_min"] > scal["act_max"]:
            raise ModelFileError(f"{path}: {name}.act_min > act_max")
        x_scale, y_scale = (np.float32(_scalar(z, p + f, path, "float")) for f in ("x_scale", "y_scale"))
        ql = QLayer(name=name, kind=_scalar(z, p + "kind", path, "str"), act=_scalar(z, p + "act", path, "str"),
                    w=w, w_scale=w_scale, bias=bias, x_scale=x_scale, y_scale=y_scale, **scal)
        if (ql.kind, ql.act, ql.stride, ql.padding) != (spec["kind"], spec["act"], spec["stride"], spec["padding"]):
            raise ModelFileError(f"{path}: layer {name} is not a {spec['kind']} layer as in the network")
        M = ql.M("tflite")
        if not (np.all(np.isfinite(M)) and np.all(M > 0) and np.all(M <= 1)):
            raise ModelFileError(f"{path}: {name}: M = Sx*Sw/Sy must be in (0, 1], got {M.min()}..{M.max()}")
        qlayers.append(ql)
        float_params += _float_params(z, p, name, w, path)
    for a, b in itertools.pairwise(qlayers):
        if (a.y_scale, a.y_zero_point) != (b.x_scale, b.x_zero_point):
            raise ModelFileError(f"{path}: {b.name}'s input quantization differs from {a.name}'s output")
    in_scale = np.float32(_scalar(z, "input_scale", path, "float"))
    in_zp = _scalar(z, "input_zero_point", path, "int")
    if (in_scale, in_zp) != (qlayers[0].x_scale, qlayers[0].x_zero_point):
        raise ModelFileError(f"{path}: the input quantization differs from {qlayers[0].name}'s")
    try:
        meta = json.loads(_scalar(z, "meta_json", path, "str"))
    except ValueError as exc:
        raise ModelFileError(f"{path}: field 'meta_json' is not JSON ({exc})") from None
    return QNet(layers=tuple(qlayers), input_scale=in_scale, input_zero_point=in_zp,
                float_params=float_params if len(float_params) == len(ARCH) else None, meta=meta)


def _float_params(z, p, name, w, path):
    """``[(weights, biases)]`` of a layer's float copy (both fields or neither, finite
    floats shaped like its int8 weights and biases), ``[]`` without one."""
    present = [f"{p}float_{f}" in z for f in "wb"]
    if not any(present):
        return []
    if not all(present):
        raise ModelFileError(f"{path}: {name} has only one of float_w and float_b (both or neither)")
    fw, fb = z[p + "float_w"], z[p + "float_b"]
    if fw.dtype.kind != "f" or fb.dtype.kind != "f" or fw.shape != w.shape or fb.shape != (len(w),) \
            or not (np.all(np.isfinite(fw)) and np.all(np.isfinite(fb))):
        raise ModelFileError(f"{path}: {name}.float_w/float_b must be finite floats of shapes {list(w.shape)} "
                             f"and [{len(w)}]")
    return [(fw.astype(np.float64), fb.astype(np.float64))]
