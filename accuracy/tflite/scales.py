"""The per-channel scales of any int8 .tflite, as a ``k``-bit rescaler would hold them.

:func:`scales_report` reads the per-channel scales of every rescaled op (with the
``tflite`` package's flatbuffer readers) and gives, per layer, the ``(m, s)`` of a
``k``-bit rescaler and the predicted output change (Eq. (5) of the paper).
"""

import struct
from pathlib import Path

import numpy as np

from sim import golden

from .writer import TYPES

__all__ = ["scales_report", "format_scales"]


_RESCALED_OPS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 4, "FULLY_CONNECTED": 9, "TRANSPOSE_CONV": 67,
                 "BATCH_MATMUL": 126}


def scales_report(path, k, *, method="truncate"):
    """Per rescaled layer of an int8 .tflite: ``M = Sx*Sw/Sy`` per channel, its ``(m, s)``
    at width ``k`` and the predicted output change.

    The prediction is Eq. (5)'s multiplier part, bounded by
    ``|M_q - M| / M * max |y - Zy|`` output LSBs (``max |y - Zy|`` the largest value
    the int8 output can hold), plus at most 1/2 LSB of rounding.

    Returns a list of dicts (one per layer); raises ``ValueError`` for a file that is
    not a TFLite flatbuffer.
    """
    try:
        import tflite
    except ImportError as exc:
        raise ImportError(f"reading .tflite files needs the tflite package: {exc} (pip install -e '.[litert]')") from None
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a .tflite file")
    raw = path.read_bytes()
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise ValueError(f"{path}: not a TFLite flatbuffer (no 'TFL3' identifier)")
    try:
        model = tflite.Model.GetRootAsModel(raw, 0)
        subgraphs = model.SubgraphsLength()
        rows = _scales(model, k, method)
    except (struct.error, TypeError, IndexError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: a damaged or truncated TFLite flatbuffer ({type(exc).__name__}: "
                         f"{str(exc)[:80]})") from None
    if subgraphs == 0:
        raise ValueError(f"{path}: the model has no subgraphs: nothing to rescale")
    return rows


def _scales(model, k, method):
    """The rows of :func:`scales_report` for a parsed ``tflite.Model``."""
    names = {v: n for n, v in _RESCALED_OPS.items()}
    rows = []
    for g in range(model.SubgraphsLength()):
        sg = model.Subgraphs(g)
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            code = model.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            if builtin not in names or op.InputsLength() < 2:
                continue
            x, wt, y = sg.Tensors(op.Inputs(0)), sg.Tensors(op.Inputs(1)), sg.Tensors(op.Outputs(0))
            row = {"subgraph": g, "op": i, "type": names[builtin], "name": y.Name().decode(errors="replace")}
            quant = [t.Quantization() for t in (x, wt, y)]
            if any(q is None or q.ScaleLength() == 0 for q in quant) or x.Type() != TYPES["int8"] or y.Type() != TYPES["int8"]:
                rows.append({**row, "note": "not an int8-quantized op (float or unquantized): skipped"})
                continue
            sx, sw, sy = (q.ScaleAsNumpy().astype(np.float32).astype(np.float64) for q in quant)
            zy = int(quant[2].ZeroPointAsNumpy()[0]) if quant[2].ZeroPointLength() else 0
            M = sx[0] * sw / sy[0]
            row.update({"channels": int(M.size), "M_min": float(M.min()), "M_max": float(M.max())})
            if np.any(M > 1) or np.any(M <= 0):
                rows.append({**row, "note": "M outside (0, 1]: this rescaler cannot represent it"})
                continue
            m, s = golden.quantize_multiplier(M.astype(np.float32), k, method=method)
            Mq = np.ldexp(m.astype(np.float64), -s)
            rel = np.abs(Mq - M) / M
            span = max(golden.INT8_MAX - zy, zy - golden.INT8_MIN)
            row.update({"k": k, "m": m.tolist(), "s": s.tolist(), "max_rel_error": float(rel.max()),
                        "mean_rel_error": float(rel.mean()), "max_output_change_lsb": float(rel.max() * span + 0.5),
                        "mean_output_change_lsb": float(rel.mean() * span / 2)})
            rows.append(row)
    return rows


def format_scales(rows, *, show=6):
    """A printable table of :func:`scales_report` rows."""
    lines = []
    for r in rows:
        head = f"{r['op']:3d} {r['type']:17s} {r['name'][:40]:40s}"
        if "note" in r:
            lines.append(f"{head} {r['note']}")
            continue
        more = " ..." if r["channels"] > show else ""
        ms = ", ".join(f"({m},{s})" for m, s in zip(r["m"][:show], r["s"][:show])) + more
        lines.append(f"{head} C={r['channels']:4d} M {r['M_min']:.3g}..{r['M_max']:.3g}  k={r['k']}: "
                     f"max |Mq-M|/M {r['max_rel_error']:.4f}, output change <= {r['max_output_change_lsb']:.1f} LSB "
                     f"(mean ~{r['mean_output_change_lsb']:.2f})  (m,s) {ms}")
    return "\n".join(lines)
