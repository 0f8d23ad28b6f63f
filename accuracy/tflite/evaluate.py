"""``python -m accuracy evaluate``: any int8 .tflite model on a data set, against ``k``.

The model runs integer-only through :mod:`accuracy.tflite.interpreter`: once in TFLite
mode (bit-exact with LiteRT's reference kernels) and once per requested ``k`` with
the paper's ``k``-bit rescaler in every CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED layer. Each ``k`` is compared with TFLite mode on the same samples:
predictions that change, output LSBs that change, and -- when the data has labels --
accuracy with a 95 % Wilson interval and McNemar's exact test of the paired change.

The data file is an ``.npz`` with ``x`` (the input batch: int8 values for an int8
input, floats for a float input; the first axis is the sample) and optionally ``y``
(integer labels, the index of the largest output).
"""

from pathlib import Path

import numpy as np

from .. import stats
from . import interpreter, reader
from .reader import ModelError

__all__ = ["load_data", "evaluate", "format_report"]


def load_data(path, model):
    """``(x, y)`` from the .npz at ``path``, checked against ``model``'s input
    (``y`` is None without labels); raises :class:`ModelError` with one line."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder, not an .npz data file")
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"PK":
                raise ModelError(f"{path}: not an .npz file (numpy.savez writes one)")
        with np.load(path, allow_pickle=False) as z:
            if "x" not in z.files:
                raise ModelError(f"{path}: no array 'x' (it has {', '.join(z.files) or 'none'})")
            x, y = z["x"], (z["y"] if "y" in z.files else None)
    except ModelError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise ModelError(f"{path}: not a readable .npz file ({exc})") from None
    t_in = model.tensors[model.inputs[0]]
    if tuple(x.shape[1:]) != tuple(t_in.shape[1:]) or len(x) == 0:
        raise ModelError(f"{path}: 'x' has shape {list(x.shape)}; the model takes N samples of "
                         f"{list(t_in.shape[1:])}")
    if t_in.dtype is np.int8:
        if x.dtype.kind not in "iu" or x.min() < -128 or x.max() > 127:
            raise ModelError(f"{path}: the model's input is int8: 'x' must hold int8 values "
                             f"(quantize it with scale {float(t_in.scale[0]):.6g}, zero point "
                             f"{int(t_in.zero_point[0])})")
        x = x.astype(np.int8)
    elif x.dtype.kind not in "fiu":
        raise ModelError(f"{path}: 'x' must be numbers, not {x.dtype}")
    if y is not None:
        if y.shape != (len(x),) or y.dtype.kind not in "iu":
            raise ModelError(f"{path}: 'y' must be {len(x)} integer labels, not {y.dtype} {list(y.shape)}")
    return x, y


def evaluate(model_path, data_path, *, ks=(), log=None):
    """Run the model in TFLite mode and at each ``k``; returns a JSON-ready dict."""
    model = reader.load(model_path)
    x, y = load_data(data_path, model)
    runs = {"tflite": interpreter.run_batched(model, x)}
    for k in ks:
        if log:
            log(f"  k = {k} ...")
        runs[k] = interpreter.run_batched(model, x, k=k)
    ref = runs["tflite"]
    ref_pred = ref.reshape(len(x), -1).argmax(axis=1)
    rows = []
    for mode, out in runs.items():
        flat = out.reshape(len(x), -1)
        pred = flat.argmax(axis=1)
        row = {"mode": "TFLite" if mode == "tflite" else f"k={mode}", "k": None if mode == "tflite" else mode,
               "predictions": pred.tolist(),
               "agree_with_tflite": float((pred == ref_pred).mean()),
               "outputs_changed": float((flat != ref.reshape(len(x), -1)).mean()),
               "mean_abs_output_change": float(np.abs(flat.astype(np.float64) - ref.reshape(len(x), -1)).mean())}
        if y is not None:
            correct = pred == y
            lo, hi = stats.wilson(int(correct.sum()), len(y))
            gained, lost, p = stats.mcnemar(ref_pred == y, correct)
            row.update({"accuracy": float(correct.mean()), "ci95": [lo, hi], "gained": gained, "lost": lost,
                        "mcnemar_p": p})
        rows.append(row)
    return {"model": str(model_path), "data": str(data_path), "samples": len(x), "labels": y is not None,
            "ops": [op.name for op in model.ops], "rows": rows}


def format_report(r, *, labels=False):
    """The report as printable text; ``labels`` adds every sample's predicted label."""
    ops = {}
    for name in r["ops"]:
        ops[name] = ops.get(name, 0) + 1
    lines = [f"{r['model']}: {len(r['ops'])} ops ({', '.join(f'{n} x{c}' for n, c in ops.items())}); "
             f"{r['samples']} samples from {r['data']}",
             "TFLite mode is bit-exact with LiteRT's reference kernels (BUILTIN_REF), not its default kernels."]
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
