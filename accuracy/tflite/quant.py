"""What the kernel modules of :mod:`accuracy.tflite.interpreter` share without importing
the run loop: the :class:`Unsupported` error, and checks of the tensors kernels read.

A kernel is ``f(model, op, args, k) -> array`` (a tuple of arrays for an op with several
outputs, one per output in order). It raises :class:`Unsupported` (one line, without the
op's name: the run loop adds it) for a configuration it cannot run.
"""

import numpy as np

__all__ = ["Unsupported", "same_quantization", "constant_ints"]


class Unsupported(Exception):
    """An op configuration a kernel cannot run; the message is one line."""


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
