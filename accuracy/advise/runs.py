"""One pass over the data: TFLite mode and every k, the outputs and every narrowed layer compared.

For each batch the model runs once in TFLite mode and once per ``k`` (every tensor
kept), through the fast path's plans (:class:`accuracy.tflite.fast.Plan`: the
interpreter's integers, by construction), and what ``advise`` reports is accumulated: the top-1 prediction of every
mode, each sample's share of changed output elements and its mean ``|dy|`` against
TFLite mode, and per narrowed layer the changed share, mean ``|dy|`` and mean signed
``dy`` of its outputs when the whole network runs at ``k`` (*propagated*: the error
the layer receives plus its own). Progress is reported after every batch.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from ..tflite import fast
from .layers import dot_product_layers

__all__ = ["BATCH", "Measurements", "measure"]

#: Samples per batch: every tensor of a batch is kept for the layer comparison.
BATCH = 64


@dataclass
class Measurements:
    """What :func:`measure` found. ``preds``: ``{"tflite" or k: (N,) top-1}``;
    ``changed`` / ``mean_abs``: ``{k: (N,) per-sample share of changed output elements /
    mean |dy| in LSB}``; ``layer_*``: ``{k: [per layer]}`` over all samples."""
    samples: int
    layers: list
    preds: dict = field(default_factory=dict)
    changed: dict = field(default_factory=dict)
    mean_abs: dict = field(default_factory=dict)
    layer_changed: dict = field(default_factory=dict)
    layer_mean_abs: dict = field(default_factory=dict)
    layer_mean_signed: dict = field(default_factory=dict)
    seconds: float = 0.0


def _flat(model, values, n):
    return np.concatenate([values[i].reshape(n, -1) for i in model.outputs], axis=1).astype(np.int64)


def measure(model, xs, ks, *, narrow, multiplier="truncate", bias_compensation=None, batch=BATCH, progress=None):
    """Run ``model`` on the inputs ``xs`` (one array per model input) in TFLite mode
    and at each of ``ks``; returns :class:`Measurements`. ``progress(done, total,
    seconds)`` is called after every batch."""
    n, t0 = len(xs[0]), time.time()
    preds = {mode: [] for mode in ("tflite",) + tuple(ks)}
    changed, mean_abs = {k: [] for k in ks}, {k: [] for k in ks}
    sums, layers = None, None
    plans = {"tflite": fast.Plan(model)}
    plans.update({k: fast.Plan(model, k=k, narrow=narrow, multiplier=multiplier,
                               bias_compensation=bias_compensation) for k in ks})
    for start in range(0, n, batch):
        part = [x[start:start + batch] for x in xs]
        nb = len(part[0])
        arg = part if len(part) > 1 else part[0]
        ref = plans["tflite"].run(arg, keep=True)
        if layers is None:
            layers = dot_product_layers(model, ref, nb, narrow)
            sums = {k: np.zeros((len(layers), 4)) for k in ks}  # changed, |dy|, dy, count
        ref_flat = _flat(model, ref, nb)
        preds["tflite"].append(ref[model.outputs[0]].reshape(nb, -1).argmax(axis=1))
        for k in ks:
            got = plans[k].run(arg, keep=True)
            diff = _flat(model, got, nb) - ref_flat
            changed[k].append((diff != 0).mean(axis=1))
            mean_abs[k].append(np.abs(diff).mean(axis=1))
            preds[k].append(got[model.outputs[0]].reshape(nb, -1).argmax(axis=1))
            for i, layer in enumerate(layers):
                d = got[layer.tensor].astype(np.int64) - ref[layer.tensor]
                sums[k][i] += (np.count_nonzero(d), np.abs(d).sum(), d.sum(), d.size)
        if progress:
            progress(start + nb, n, time.time() - t0)
    m = Measurements(samples=n, layers=layers, seconds=time.time() - t0)
    m.preds = {mode: np.concatenate(v) for mode, v in preds.items()}
    for k in ks:
        m.changed[k], m.mean_abs[k] = np.concatenate(changed[k]), np.concatenate(mean_abs[k])
        count = np.maximum(sums[k][:, 3], 1)
        m.layer_changed[k], m.layer_mean_abs[k], m.layer_mean_signed[k] = (
            (sums[k][:, j] / count).tolist() for j in range(3))
    return m
