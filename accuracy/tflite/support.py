"""Which ops of a model run, and why the others do not: the supported-ops report
(``evaluate --supported-ops``, after Arm Vela's) and the one-line refusal.

:func:`op_support` judges every op of a :class:`accuracy.tflite.reader.Model`: no
kernel for it, a resource-variable op, int16 activations, float tensors in an
integer op, or -- run once on zeros of its tensors' shapes -- a configuration its
kernel refuses (the kernel's own reason, which for a configuration LiteRT refuses
is LiteRT's). :func:`load` reads a model and refuses it in ONE :class:`ModelError`
line that lists every op and feature that cannot run, by name with its count.
"""

from collections import Counter

import numpy as np

from . import interpreter, reader
from .quant import Unsupported
from .reader import ModelError

__all__ = ["op_support", "features", "load", "format_support"]

#: The ops a streaming (stateful) model's second subgraph and variables use.
_RESOURCE_OPS = ("CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE")
#: The ops allowed to have float tensors: the model's float edges.
_FLOAT_EDGES = ("QUANTIZE", "DEQUANTIZE")


def op_support(model):
    """``[(op, reason or None)]`` for every op of ``model``, in order."""
    return [(op, _why_not(model, op)) for op in model.ops]


def _why_not(model, op):
    if op.name in _RESOURCE_OPS:
        return "resource variable (a stateful streaming model)"
    if op.name not in interpreter.KERNELS:
        return "no kernel for this op"
    tensors = [model.tensors[i] for i in op.inputs + op.outputs if i >= 0]
    if any(t.dtype is np.int16 for t in tensors):
        return "int16 activations (16x8 quantization)"
    if op.name not in _FLOAT_EDGES and any(t.dtype is np.float32 for t in tensors):
        weights = any(t.dtype is np.float32 and t.data is not None for t in tensors)
        return "float weights: not an integer op" if weights else "float tensors: not an integer op"
    unknown = sorted({t.dtype for t in tensors if isinstance(t.dtype, str)})
    if unknown:
        return f"{', '.join(unknown)} tensors"
    args = [None if i < 0 else (model.tensors[i].data if model.tensors[i].data is not None
                                else np.zeros((1,) + tuple(model.tensors[i].shape[1:]), model.tensors[i].dtype))
            for i in op.inputs]
    try:
        interpreter.KERNELS[op.name](model, op, args, None)
    except Unsupported as exc:
        return str(exc)
    return None


def features(model):
    """Model-level features that cannot run (``["2 subgraphs", ...]``)."""
    found = []
    if model.subgraphs > 1:
        found.append(f"{model.subgraphs} subgraphs (control flow or a stateful model)")
    return found


def _refusals(rows, model):
    """``"NAME xCOUNT (reason)"`` per kind of op that cannot run, then the features."""
    counts = Counter((op.name, reason) for op, reason in rows if reason is not None)
    return [f"{name} x{n} ({reason})" for (name, reason), n in counts.items()] + features(model)


def load(path):
    """Read the model at ``path`` and check that every op runs; raises one
    :class:`ModelError` line naming each op and feature that does not."""
    model = reader.load(path)
    problems = _refusals(op_support(model), model)
    if problems:
        raise ModelError(f"{model.path}: cannot run {len(problems)} op(s)/feature(s): {'; '.join(problems)} "
                         f"(--supported-ops lists every op)")
    return model


def format_support(model):
    """The supported-ops report: every kind of op with its count, whether it runs, and why not."""
    rows = op_support(model)
    counts = Counter((op.name, reason) for op, reason in rows)
    runs = sum(n for (_, reason), n in counts.items() if reason is None)
    lines = [f"{model.path}: {len(rows)} ops of {len({op.name for op, _ in rows})} kinds; {runs} run, "
             f"{len(rows) - runs} do not",
             f"{'op':28s} {'count':>5s}  {'runs':4s}  why not"]
    for (name, reason), n in counts.items():
        lines.append(f"{name:28s} {n:5d}  {'yes' if reason is None else 'no':4s}  {reason or ''}".rstrip())
    lines += [f"{'(model)':28s} {'':5s}  {'no':4s}  {f}" for f in features(model)]
    narrowable = sorted({op.name for op, reason in rows if reason is None} & set(interpreter.NARROWABLE))
    lines.append(f"ops with a rescale --narrow can give k bits: {', '.join(narrowable) or 'none'}")
    return "\n".join(lines)
