"""The dot-product layers of a model as the engine sees them, and what each k stores per channel.

An output of a dot-product layer is one dot product of ``length`` int8 terms; on an
engine of ``macs`` MACs it takes ``ceil(length / macs)`` beats
(:func:`costmodel.published.beats_per_output`), then one rescale with its channel's
``(m, s)`` and ``b_eff``. :func:`dot_product_layers` reads those shapes from the
model's weights and from the tensors of one TFLite-mode run (so dynamic shapes need
no special case); :func:`storage_bits` counts the per-channel parameters at ``k``.
"""

from dataclasses import dataclass

import numpy as np

from sim.ports import engine_lanes

__all__ = ["PRICED_OPS", "ETHOS_U55_BITS_PER_CHANNEL", "Layer", "dot_product_layers", "channel_bits", "storage_bits"]

#: The dot-product ops whose shapes are read here (weights layout per op).
PRICED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
#: Arm Ethos-U55's per-output-channel parameters: a 40-bit bias, a 32-bit scale and a
#: 6-bit shift, packed into 10 bytes.
ETHOS_U55_BITS_PER_CHANNEL = 80
#: The per-channel operands of the engine that are stored per output channel.
CHANNEL_OPERANDS = ("bias", "m", "s")


@dataclass(frozen=True)
class Layer:
    """One narrowed dot-product op: ``index`` in the model, its output ``tensor``
    (index) and that tensor's ``name``, ``op``, ``outputs`` per inference, output
    ``channels``, ``length`` of each output's dot product (None for a narrowed op
    whose shape is not read here: it is listed, not priced)."""
    index: int
    tensor: int
    name: str
    op: str
    outputs: int
    channels: int
    length: int = None


def _length_and_channels(model, op):
    w = model.tensors[op.inputs[1]].data
    if op.name == "CONV_2D":      # (Cout, kh, kw, Cin)
        return int(np.prod(w.shape[1:])), int(w.shape[0])
    if op.name == "DEPTHWISE_CONV_2D":  # (1, kh, kw, Cout)
        return int(w.shape[1] * w.shape[2]), int(w.shape[3])
    return int(w.shape[1]), int(w.shape[0])  # FULLY_CONNECTED (C, L)


def dot_product_layers(model, values, samples, narrow):
    """The :class:`Layer` of every op of ``model`` in ``narrow`` (op names), with
    ``outputs`` from ``values`` (``{tensor index: array}`` of a run on ``samples``
    samples, e.g. ``run(..., keep=True)``)."""
    layers = []
    for op in model.ops:
        if op.name not in narrow:
            continue
        out = op.outputs[0]
        outputs = values[out].size // samples
        length, channels = _length_and_channels(model, op) if op.name in PRICED_OPS else (None, values[out].shape[-1])
        layers.append(Layer(op.index, out, model.tensors[out].name, op.name, int(outputs), int(channels), length))
    return layers


def channel_bits(k):
    """``{operand: bits}`` of one output channel's stored parameters at ``k`` (the
    engine's ``bias``, ``m`` and ``s`` ports, :func:`sim.ports.engine_lanes`)."""
    lanes = engine_lanes(k)
    return {name: lanes[name].width for name in CHANNEL_OPERANDS}


def storage_bits(layers, k):
    """Bits of per-channel parameters (bias + m + s) over ``layers`` at ``k``."""
    return sum(layer.channels for layer in layers) * sum(channel_bits(k).values())
