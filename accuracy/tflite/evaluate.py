"""``python -m accuracy evaluate``: any int8 .tflite model on a data set, against ``k``.

The model runs integer-only through :mod:`accuracy.tflite.fast` (the same integers as
:mod:`accuracy.tflite.interpreter`, batched on both cores): once in TFLite mode (the arithmetic of LiteRT's reference kernels) and once per requested ``k`` with
the paper's ``k``-bit rescaler in the narrowed ops (by default the dot-product
engine's layers; ``narrow`` adds others), with the multiplier truncated or rounded
and optionally bias-compensated. Each ``k`` is compared with TFLite mode on the same
samples: predictions that change, output LSBs that change, and -- when the data has
labels -- accuracy with a 95 % Wilson interval and McNemar's exact test of the
paired change. Predictions are the largest element of the model's first output.

The data file is an ``.npz`` with ``x`` (the input batch, first axis the sample:
integers for an int8 or uint8 input, floats for a float input), or ``x0``, ``x1``, ...
for a model with several inputs (in the model's input order), and optionally ``y``
(integer labels).
"""

import io
from pathlib import Path

import numpy as np

from toolkit.files import write_atomically
from toolkit.validate import read_npz

from .. import stats
from . import fast, interpreter, support
from .quant import DTYPE_RANGE
from .reader import ModelError

__all__ = ["load_data", "evaluate", "format_report"]


def _input_keys(model):
    return ["x"] if len(model.inputs) == 1 else [f"x{i}" for i in range(len(model.inputs))]


def load_data(path, model):
    """``(xs, y)`` from the .npz at ``path``: one array per model input, checked against
    it (``y`` is None without labels); raises :class:`ModelError` with one line."""
    path = Path(path)
    keys = _input_keys(model)
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"PK":
                raise ModelError(f"{path}: not an .npz file (numpy.savez writes one)")
        z = read_npz(path)
    except IsADirectoryError:
        raise ModelError(f"{path}: is a folder, not an .npz data file") from None
    except OSError as exc:
        raise ModelError(f"{path}: not a readable .npz file ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ModelError(str(exc)) from None
    missing = [key for key in keys if key not in z]
    if missing:
        raise ModelError(f"{path}: no array {missing[0]!r} (it has {', '.join(z) or 'none'}; "
                         f"the model has {len(keys)} input(s): {', '.join(keys)})")
    xs, y = [z[key] for key in keys], z.get("y")
    xs = [_check_input(path, key, x, model.tensors[i]) for key, x, i in zip(keys, xs, model.inputs)]
    if len({len(x) for x in xs}) != 1:
        raise ModelError(f"{path}: the inputs hold different numbers of samples ({[len(x) for x in xs]})")
    if y is not None:
        if y.shape != (len(xs[0]),) or y.dtype.kind not in "iu":
            raise ModelError(f"{path}: 'y' must be {len(xs[0])} integer labels, not {y.dtype} {list(y.shape)}")
        # accuracy is the argmax of the first output against y: a label beyond its classes never matches
        classes = int(np.prod(model.tensors[model.outputs[0]].shape[1:]))
        if y.min() < 0 or y.max() >= classes:
            raise ModelError(f"{path}: 'y' holds labels {int(y.min())}..{int(y.max())}, the model's output "
                             f"has classes 0..{classes - 1}")
    return xs, y


def _check_input(path, key, x, t_in):
    if x.ndim == 0 or tuple(x.shape[1:]) != tuple(t_in.shape[1:]) or len(x) == 0:
        raise ModelError(f"{path}: {key!r} has shape {list(x.shape)}; the model takes N samples of "
                         f"{list(t_in.shape[1:])}")
    if t_in.dtype in DTYPE_RANGE:
        lo, hi = DTYPE_RANGE[t_in.dtype]
        if x.dtype.kind not in "iu" or x.min() < lo or x.max() > hi:
            raise ModelError(f"{path}: the model's input is {t_in.dtype.__name__}: {key!r} must hold values in "
                             f"{lo}..{hi} (quantize it with scale {float(t_in.scale[0]):.6g}, zero point "
                             f"{int(t_in.zero_point[0])})")
        return x.astype(t_in.dtype)
    if x.dtype.kind not in "fiu":
        raise ModelError(f"{path}: {key!r} must be numbers, not {x.dtype}")
    return x


def _outputs(out):
    return list(out) if isinstance(out, tuple) else [out]


def evaluate(model_path, data_path, *, ks=(), narrow=None, multiplier="truncate", bias_compensation=False,
             calibration=None, save_outputs=None, log=None):
    """Run the model in TFLite mode and at each ``k``; returns a JSON-ready dict.

    ``bias_compensation`` folds the expected truncation error into the narrowed
    dot-product layers' biases, from mean accumulators measured in TFLite mode on
    ``calibration`` (an .npz like the data; default: the evaluated data itself).
    ``save_outputs`` writes every mode's raw outputs (``tflite_out<i>``,
    ``k<K>_out<i>``) to that .npz, atomically."""
    model = support.load(model_path)
    xs, y = load_data(data_path, model)
    narrow = sorted(interpreter.check_narrow(narrow))
    means = None
    if bias_compensation and ks:
        cal_path = calibration or data_path
        means = interpreter.calibrate(model, load_data(cal_path, model)[0], narrow=narrow)
    runs = {"tflite": _outputs(fast.run(model, xs))}
    for k in ks:
        if log:
            log(f"  k = {k} ...")
        runs[k] = _outputs(fast.run(model, xs, k=k, narrow=narrow, multiplier=multiplier, bias_compensation=means))
    n = len(xs[0])
    ref = runs["tflite"]
    ref_flat = np.concatenate([o.reshape(n, -1) for o in ref], axis=1).astype(np.float64)
    ref_pred = ref[0].reshape(n, -1).argmax(axis=1)
    rows = []
    for mode, outs in runs.items():
        flat = np.concatenate([o.reshape(n, -1) for o in outs], axis=1).astype(np.float64)
        pred = outs[0].reshape(n, -1).argmax(axis=1)
        row = {"mode": "TFLite" if mode == "tflite" else f"k={mode}", "k": None if mode == "tflite" else mode,
               "predictions": pred.tolist(),
               "agree_with_tflite": float((pred == ref_pred).mean()),
               "outputs_changed": float((flat != ref_flat).mean()),
               "mean_abs_output_change": float(np.abs(flat - ref_flat).mean())}
        if y is not None:
            correct = pred == y
            lo, hi = stats.wilson(int(correct.sum()), len(y))
            gained, lost, p = stats.mcnemar(ref_pred == y, correct)
            row.update({"accuracy": float(correct.mean()), "ci95": [lo, hi], "gained": gained, "lost": lost,
                        "mcnemar_p": p})
        rows.append(row)
    if save_outputs is not None:
        arrays = {f"{'tflite' if mode == 'tflite' else f'k{mode}'}_out{i}": o
                  for mode, outs in runs.items() for i, o in enumerate(outs)}
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        write_atomically(Path(save_outputs), buf.getvalue())
    return {"model": str(model_path), "data": str(data_path), "samples": n, "labels": y is not None,
            "ops": [op.name for op in model.ops], "outputs": len(model.outputs), "narrow": narrow,
            "multiplier": multiplier,
            "bias_compensation": (str(calibration or data_path) if bias_compensation else None), "rows": rows}


def format_report(r, *, labels=False):
    """The report as printable text; ``labels`` adds every sample's predicted label."""
    ops = {}
    for name in r["ops"]:
        ops[name] = ops.get(name, 0) + 1
    lines = [f"{r['model']}: {len(r['ops'])} ops ({', '.join(f'{n} x{c}' for n, c in ops.items())}); "
             f"{r['samples']} samples from {r['data']}",
             "TFLite mode follows LiteRT's reference kernels (BUILTIN_REF) arithmetic"
             + (" (SUM: its optimized kernel, the reference SUM of int8 being wrong)" if "SUM" in ops else "")
             + "; this run did not compare with LiteRT."]
    if any(row["k"] is not None for row in r["rows"]):
        comp = (f", bias-compensated from mean accumulators of {r['bias_compensation']}"
                if r["bias_compensation"] else "")
        lines.append(f"k-bit multipliers ({r['multiplier']}{comp}) in: {', '.join(r['narrow'])}; every other op "
                     f"keeps TFLite's arithmetic")
    if r["outputs"] > 1:
        lines.append(f"{r['outputs']} outputs: top-1 from output 0, output changes over all outputs")
    head = f"{'mode':8s} {'same top-1':>10s} {'outputs changed':>15s} {'mean |dy| LSB':>13s}"
    if r["labels"]:
        head += f" {'accuracy (95% CI)':>26s} {'gained/lost vs TFLite':>21s} {'McNemar p':>9s}"
    lines.append(head)
    for row in r["rows"]:
        line = (f"{row['mode']:8s} {100 * row['agree_with_tflite']:9.2f}% {100 * row['outputs_changed']:14.2f}% "
                f"{row['mean_abs_output_change']:13.3f}")
        if r["labels"]:
            lo, hi = row["ci95"]
            line += (f" {100 * row['accuracy']:8.2f}% ({100 * lo:6.2f}..{100 * hi:6.2f})"
                     f" {row['gained']:>10d}/{row['lost']:<10d} {row['mcnemar_p']:9.3g}")
        lines.append(line)
    if labels:
        for row in r["rows"]:
            lines.append(f"labels {row['mode']}: {' '.join(str(v) for v in row['predictions'])}")
    return "\n".join(lines)
