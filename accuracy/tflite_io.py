"""Interop with a real runtime: .tflite export, LiteRT parity, per-channel scale import.

* :func:`export` writes a :class:`accuracy.network.QNet` as an int8 ``.tflite``
  flatbuffer (CONV_2D, DEPTHWISE_CONV_2D, RESHAPE, FULLY_CONNECTED; per-channel
  int8 weights, int32 biases, fused RELU6) with
  :class:`accuracy.tflite_write.ModelBuilder` (no TensorFlow needed).
* :func:`run_litert` runs such a file in LiteRT (``ai-edge-litert``) with its
  reference kernels, keeping every intermediate tensor.
* :func:`parity` compares LiteRT, op by op, with :func:`accuracy.network.run_int8` in
  TFLite mode: ``quantize_multiplier(M, 31, method="tflite")`` on the float64
  ``M`` (as LiteRT computes it from the float32 scales) and the rounding of
  LiteRT's kernel (:data:`LITERT_ROUNDING`: ``tflite_double`` for convolutions,
  a single rounding with ties away from zero, ``tflite_single``, for the
  fully-connected kernel). Parity holds for LiteRT's *reference* kernels
  (``BUILTIN_REF``) only: its default (XNNPACK) kernels round differently.
* :func:`scales_report` reads the per-channel scales of *any* int8 ``.tflite``
  (with the ``tflite`` package's flatbuffer readers) and gives, per layer, the
  ``(m, s)`` of a ``k``-bit rescaler and the predicted output change (Eq. (5)).

The optional packages are in the ``litert`` extra: ``pip install -e '.[litert]'``.
"""

import json
import struct
from pathlib import Path

import numpy as np

from sim import golden
from toolkit.cli import write_atomically

from . import network
from .tflite_write import TYPES, ModelBuilder

__all__ = [
    "LITERT_ROUNDING",
    "export",
    "format_scales",
    "litert_available",
    "parity",
    "parity_report",
    "run_litert",
    "scales_report",
]

def litert_available():
    """``None`` if LiteRT, flatbuffers and tflite import, else the reason they do not."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
        import flatbuffers  # noqa: F401
        import tflite  # noqa: F401
    except ImportError as exc:
        return f"{exc} (pip install -e '.[litert]')"
    return None


# --- writing -------------------------------------------------------------------------------

def export(net, path):
    """Write ``net`` as an int8 .tflite flatbuffer (batch 1, NHWC) to ``path``."""
    mb = ModelBuilder("narrow-rescaler digits int8 network")
    x = mb.tensor("input", [1, *network.INPUT_SHAPE], scale=net.input_scale, zero_point=net.input_zero_point)
    for ql, (shape, geom) in zip(net.layers, network.layer_shapes()):
        c = ql.channels
        bias_scale = (np.float64(ql.x_scale) * ql.w_scale.astype(np.float64)).astype(np.float32)
        if ql.kind == "dense":
            flat = mb.tensor(f"{ql.name}/flatten", [1, shape[0]], scale=ql.x_scale, zero_point=ql.x_zero_point)
            new_shape = mb.tensor(f"{ql.name}/flatten/shape", [2], "int32", data=[1, shape[0]])
            mb.op("RESHAPE", [x, new_shape], [flat], new_shape=[1, shape[0]])
            x, out_shape, wdata, axis = flat, [1, c], ql.w, 0
        else:
            out_shape = [1, *geom.out_hw, c]
            wdata = ql.w if ql.kind == "conv" else np.moveaxis(ql.w, 0, -1)[None]  # (1, kh, kw, C)
            axis = 0 if ql.kind == "conv" else 3
        wt = mb.tensor(f"{ql.name}/weights", wdata.shape, data=wdata, scale=ql.w_scale, zero_point=np.zeros(c),
                       axis=axis)
        bt = mb.tensor(f"{ql.name}/bias", [c], "int32", data=ql.bias, scale=bias_scale, zero_point=np.zeros(c))
        yt = mb.tensor(ql.name, out_shape, scale=ql.y_scale, zero_point=ql.y_zero_point)
        if ql.kind == "dense":
            mb.op("FULLY_CONNECTED", [x, wt, bt], [yt], activation=ql.act)
        else:
            kernel = ql.w.shape[1]
            if ql.padding == 0:
                pad = "valid"
            elif ql.stride == 1 and ql.padding == (kernel - 1) // 2:
                pad = "same"  # equals symmetric padding only for stride 1 and an odd kernel
            else:
                raise ValueError(f"{ql.name}: padding {ql.padding} with stride {ql.stride} has no TFLite equivalent")
            common = {"padding": pad, "stride_w": ql.stride, "stride_h": ql.stride, "activation": ql.act}
            if ql.kind == "conv":
                mb.op("CONV_2D", [x, wt, bt], [yt], **common)
            else:
                mb.op("DEPTHWISE_CONV_2D", [x, wt, bt], [yt], depth_multiplier=1, **common)
        x = yt
    return mb.save(path, inputs=[0], outputs=[x])


# --- running in LiteRT and comparing -------------------------------------------------------

def run_litert(path, xq):
    """Run the batch ``xq`` one sample at a time through LiteRT's reference kernels
    (``BUILTIN_REF``); returns ``{tensor name: (N, ...) array}`` for every op output.
    ``xq`` is cast to the model input's element type (int8 or float32)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    interp = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]["index"]
    details = {d["name"]: d["index"] for d in interp.get_tensor_details()}
    outs = [op["outputs"][0] for op in interp._get_ops_details()]
    names = {idx: name for name, idx in details.items()}
    result = {names[i]: [] for i in outs}
    for img in np.asarray(xq, dtype=interp.get_input_details()[0]["dtype"]):
        interp.set_tensor(inp, img[None])
        interp.invoke()
        for i in outs:
            result[names[i]].append(interp.get_tensor(i)[0].copy())
    return {name: np.stack(v) for name, v in result.items()}


#: The rounding of LiteRT's int8 reference kernels (``BUILTIN_REF``), per layer kind:
#: CONV_2D and DEPTHWISE_CONV_2D use TFLite's double rounding
#: (``MultiplyByQuantizedMultiplier``: SaturatingRoundingDoublingHighMul, then
#: RoundingDivideByPOT); FULLY_CONNECTED rounds once on ``acc * m``, ties away from
#: zero, with the same 31-bit ``(m, s)`` (``rounding="tflite_single"``): at M = 0.5,
#: acc = -1 it gives -1 where double rounding and half up give 0. The exact-tie tests
#: of tests/test_tflite.py run these vectors through LiteRT itself.
LITERT_ROUNDING = {"conv": "tflite_double", "dwconv": "tflite_double", "dense": "tflite_single"}


def parity(net, xq, path):
    """Compare LiteRT with the golden model in TFLite mode, layer by layer.

    Every layer runs on its own golden input (the previous golden output), with
    TFLite's 31-bit ``(m, s)`` and :data:`LITERT_ROUNDING`. Returns one row per layer:
    ``layer``, ``kind``, ``rounding``, ``outputs``, ``mismatches``, ``max_abs_diff``,
    and ``mismatches_if_double_rounding`` (the same with ``tflite_double`` everywhere).
    """
    lite = run_litert(path, xq)
    traces = {
        "litert": network.run_int8(net, xq, 31, method="tflite", rounding=LITERT_ROUNDING, keep=True),
        "double": network.run_int8(net, xq, 31, method="tflite", rounding="tflite_double", keep=True)}
    rows = []
    for i, ql in enumerate(net.layers):
        theirs = lite[ql.name].reshape(len(xq), -1).astype(np.int64)
        diff = np.abs(traces["litert"][i]["y"].reshape(len(xq), -1) - theirs)
        double = traces["double"][i]["y"].reshape(len(xq), -1) != theirs
        rows.append({"layer": ql.name, "kind": ql.kind, "rounding": LITERT_ROUNDING[ql.kind],
                     "outputs": int(diff.size), "mismatches": int((diff != 0).sum()),
                     "max_abs_diff": int(diff.max()), "mismatches_if_double_rounding": int(double.sum())})
    return rows


def parity_report(model_path=network.DEFAULT_MODEL, *, limit=None, out=None, log=print):
    """Export the stored network, run the test digits through LiteRT and the golden model
    in TFLite mode, print (and optionally write as JSON) the per-layer comparison."""
    reason = litert_available()
    if reason:
        raise ImportError(f"LiteRT parity needs ai-edge-litert, flatbuffers and tflite: {reason}")
    import ai_edge_litert

    net = network.load(model_path)
    x_test = network.load_digits_split()[2][:limit]
    xq = net.quantize_input(x_test)
    path = Path("build") / (Path(model_path).stem + ".tflite")
    export(net, path)
    rows = parity(net, xq, path)
    for r in rows:
        verdict = "bit-exact" if r["mismatches"] == 0 else f"{r['mismatches']} outputs differ (max {r['max_abs_diff']})"
        log(f"  {r['layer']:6s} {r['kind']:7s} {r['outputs']:7d} outputs, rounding {r['rounding']:13s}: {verdict}"
            f" ({r['mismatches_if_double_rounding']} would differ with TFLite's double rounding)")
    result = {"litert_version": getattr(ai_edge_litert, "__version__", "unknown"), "op_resolver": "BUILTIN_REF",
              "images": len(xq), "tflite_file": str(path), "layers": rows,
              "bit_exact": all(r["mismatches"] == 0 for r in rows)}
    log(f"LiteRT {result['litert_version']} (reference kernels) vs sim.golden TFLite mode on {len(xq)} images: "
        + ("bit-exact at every layer" if result["bit_exact"] else "DIFFERENCES, see above"))
    if out:
        write_atomically(out, json.dumps(result, indent=1) + "\n")
    return result


# --- importing scales from any .tflite ------------------------------------------------------

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
