"""Synthetic int8 CNNs shaped like real ones, written with :mod:`accuracy.tflite.writer`.

The speed benchmark (``benchmarks/evaluate_speed.py``) and the fast path's tests run
them next to the converter-made MobileNetV2 of ``models/converted/``:

* :func:`person_detect`: TFLite Micro's person_detect network (MobileNetV1 with
  ``alpha = 0.25`` on a 96x96 grey image: 13 depthwise/pointwise pairs, ReLU6, average
  pool, 1x1 classifier, SOFTMAX), with random weights;
* :func:`residual_cnn`: a ResNet-style CNN (32x32x3 input, 3x3 convolutions in three
  stages of two residual blocks joined by ADD, MEAN, FULLY_CONNECTED).

Weights are random int8 (per-channel scales), each layer's output scale chosen from the
expected spread of its accumulators so that outputs use the int8 range without
saturating much. Deterministic for a seed.
"""

import numpy as np

from .writer import ModelBuilder

__all__ = ["person_detect", "residual_cnn", "MODELS"]

# Spread of int8 activations and weights, in LSBs, that the output scales assume.
_SIGMA_X, _SIGMA_W = 40.0, 40.0


class _Net:
    """A ModelBuilder with a current activation (tensor index, shape, scale, zero point)."""

    def __init__(self, seed, shape, description):
        self.rng = np.random.default_rng(seed)
        self.mb = ModelBuilder(description)
        self.count = 0
        self.current = (self.mb.tensor("input", [1, *shape], scale=np.float32(1 / 64), zero_point=0),
                        list(shape), np.float32(1 / 64), 0)

    def _name(self, kind):
        self.count += 1
        return f"{kind}{self.count}"

    def _output(self, name, shape, sigma, activation):
        """An output tensor for values of float spread ``sigma`` behind ``activation``."""
        scale, zp = np.float32(sigma / _SIGMA_X), (-128 if activation in ("relu", "relu6") else 0)
        return self.mb.tensor(name, [1, *shape], scale=scale, zero_point=zp), scale, zp

    def conv(self, cout, kernel=3, stride=1, *, depthwise=False, activation="relu6"):
        x, (h, w, cin), sx, _ = self.current
        name = self._name("dw" if depthwise else "conv")
        if depthwise:
            cout, taps, shape, axis = cin, kernel * kernel, (1, kernel, kernel, cin), 3
        else:
            taps, shape, axis = kernel * kernel * cin, (cout, kernel, kernel, cin), 0
        weights = np.clip(np.rint(self.rng.normal(0, _SIGMA_W, shape)), -127, 127).astype(np.int8)
        sw = (self.rng.uniform(0.5, 1.5, cout) / (_SIGMA_W * np.sqrt(taps))).astype(np.float32)  # keeps the spread
        wt = self.mb.tensor(f"{name}/w", shape, data=weights, scale=sw, zero_point=np.zeros(cout), axis=axis)
        bias = self.rng.integers(-2000, 2000, cout)
        bt = self.mb.tensor(f"{name}/b", [cout], "int32", data=bias, scale=(np.float64(sx) * sw).astype(np.float32),
                            zero_point=np.zeros(cout))
        out_hw = [-(-h // stride), -(-w // stride)]
        sigma = np.sqrt(taps) * _SIGMA_X * _SIGMA_W * float(sx) * float(sw.mean())
        y, sy, zy = self._output(name, out_hw + [cout], sigma, activation)
        options = dict(padding="same", stride_w=stride, stride_h=stride, activation=activation)
        if depthwise:
            options["depth_multiplier"] = 1
        self.mb.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [x, wt, bt], [y], **options)
        self.current = (y, out_hw + [cout], sy, zy)
        return self.current

    def add(self, other):
        """ADD of the current activation and ``other`` (a former one), with a ReLU."""
        (a, shape, sa, _), (b, _, sb, _) = self.current, other
        y, sy, zy = self._output(self._name("add"), shape, 1.5 * _SIGMA_X * max(float(sa), float(sb)), "relu")
        self.mb.op("ADD", [a, b], [y], activation="relu")
        self.current = (y, shape, sy, zy)

    def head(self, classes):
        """MEAN over the image, FULLY_CONNECTED to ``classes`` logits."""
        x, (h, w, c), sx, zx = self.current
        axes = self.mb.tensor("mean/axes", [2], "int32", data=[1, 2])
        pooled = self.mb.tensor("mean", [1, c], scale=sx, zero_point=zx)
        self.mb.op("MEAN", [x, axes], [pooled], keep_dims=False)
        weights = np.clip(np.rint(self.rng.normal(0, _SIGMA_W, (classes, c))), -127, 127).astype(np.int8)
        sw = (self.rng.uniform(0.5, 1.5, classes) / (_SIGMA_W * np.sqrt(c))).astype(np.float32)
        wt = self.mb.tensor("fc/w", weights.shape, data=weights, scale=sw, zero_point=np.zeros(classes), axis=0)
        bt = self.mb.tensor("fc/b", [classes], "int32", data=self.rng.integers(-500, 500, classes),
                            scale=(np.float64(sx) * sw).astype(np.float32), zero_point=np.zeros(classes))
        sigma = np.sqrt(c) * _SIGMA_X * _SIGMA_W * float(sx) * float(sw.mean())
        y, _, _ = self._output("logits", [classes], sigma, "none")
        self.mb.op("FULLY_CONNECTED", [pooled, wt, bt], [y], activation="none")

    def save(self, path):
        return self.mb.save(path)


def person_detect(path, *, seed=0):
    """Write the person_detect-shaped network (96x96x1 int8 in, 2 int8 scores out) to ``path``."""
    net = _Net(seed, (96, 96, 1), "person_detect-shaped MobileNetV1-0.25, random weights")
    net.conv(8, 3, 2)
    for cout, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1), (128, 1),
                         (128, 1), (128, 1), (256, 2), (256, 1)):
        net.conv(None, 3, stride, depthwise=True)
        net.conv(cout, 1, 1)
    x, (h, w, c), sx, zx = net.current
    pooled = net.mb.tensor("pool", [1, 1, 1, c], scale=sx, zero_point=zx)
    net.mb.op("AVERAGE_POOL_2D", [x], [pooled], padding="valid", stride_w=1, stride_h=1, filter_w=w, filter_h=h,
              activation="none")
    net.current = (pooled, [1, 1, c], sx, zx)
    net.conv(2, 1, 1, activation="none")
    logits, _, sy, zy = net.current
    shape = net.mb.tensor("reshape/shape", [2], "int32", data=[1, 2])
    flat = net.mb.tensor("flat", [1, 2], scale=sy, zero_point=zy)
    net.mb.op("RESHAPE", [logits, shape], [flat], new_shape=[1, 2])
    probs = net.mb.tensor("probs", [1, 2], scale=np.float32(1 / 256), zero_point=-128)
    net.mb.op("SOFTMAX", [flat], [probs], beta=1.0)
    return net.save(path)


def residual_cnn(path, *, seed=0):
    """Write the residual CNN (32x32x3 int8 in, 10 int8 logits out) to ``path``."""
    net = _Net(seed, (32, 32, 3), "ResNet-style CNN, random weights")
    net.conv(16, 3, 1, activation="relu")
    for stage, width in enumerate((16, 32, 64)):
        if stage:
            net.conv(width, 3, 2, activation="relu")
        for _ in range(2):
            skip = net.current
            net.conv(width, 3, 1, activation="relu")
            net.conv(width, 3, 1, activation="none")
            net.add(skip)
    net.head(10)
    return net.save(path)


#: The synthetic networks by name: ``name -> writer(path, *, seed)``.
MODELS = {"person_detect": person_detect, "residual_cnn": residual_cnn}
