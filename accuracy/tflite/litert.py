"""LiteRT, the reference runtime: whether it is installed, and a model run through its
reference kernels (``OpResolverType.BUILTIN_REF``) with every intermediate tensor kept.

Parity claims of this project are made against these kernels, with one exception:
LiteRT's reference SUM of int8 gives wrong results, so SUM is checked against the
builtin optimized kernels (``BUILTIN_WITHOUT_DEFAULT_DELEGATES``), which LiteRT runs
by default when XNNPACK does not take the op. LiteRT's default (XNNPACK) kernels round
differently. The optional packages are in the ``litert`` extra:
``pip install -e '.[litert]'``.
"""

import numpy as np

__all__ = ["KERNELS", "litert_available", "run_litert"]

#: ``run_litert(kernels=...)`` choices and the ``OpResolverType`` member of each.
KERNELS = {"reference": "BUILTIN_REF", "optimized": "BUILTIN_WITHOUT_DEFAULT_DELEGATES"}


def litert_available():
    """``None`` if LiteRT, flatbuffers and tflite import, else the reason they do not."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
        import flatbuffers  # noqa: F401
        import tflite  # noqa: F401
    except ImportError as exc:
        return f"{exc} (pip install -e '.[litert]')"
    return None


def run_litert(path, xq, *, kernels="reference"):
    """Run the batch ``xq`` (a list of batches, one per input in the model's order, for a
    model with several inputs) one sample at a time through LiteRT's ``kernels``
    (a key of :data:`KERNELS`); returns ``{tensor name: (N, ...) array}`` for every
    output of every op. Each batch is cast to its input's element type."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    if kernels not in KERNELS:
        raise ValueError(f"kernels must be one of {', '.join(KERNELS)}, not {kernels!r}")
    interp = Interpreter(model_path=str(path), experimental_op_resolver_type=getattr(OpResolverType, KERNELS[kernels]),
                         experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    inputs = interp.get_input_details()
    xs = list(xq) if isinstance(xq, (list, tuple)) else [xq]
    xs = [np.asarray(x, dtype=d["dtype"]) for x, d in zip(xs, inputs)]
    details = {d["name"]: d["index"] for d in interp.get_tensor_details()}
    names = {idx: name for name, idx in details.items()}
    outs = [i for op in interp._get_ops_details() for i in op["outputs"]]
    result = {names[i]: [] for i in outs}
    for n in range(len(xs[0])):
        for x, d in zip(xs, inputs):
            interp.set_tensor(d["index"], x[n][None])
        interp.invoke()
        for i in outs:
            t = interp.get_tensor(i)
            result[names[i]].append(t[0].copy() if t.ndim else t.copy())  # scalars: shape arithmetic
    return {name: np.stack(v) for name, v in result.items()}
