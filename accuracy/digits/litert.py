"""The digits network in a real runtime: .tflite export and LiteRT parity.

* :func:`export` writes a :class:`accuracy.digits.network.QNet` as an int8 ``.tflite``
  flatbuffer (CONV_2D, DEPTHWISE_CONV_2D, RESHAPE, FULLY_CONNECTED; per-channel
  int8 weights, int32 biases, fused RELU6) with
  :class:`accuracy.tflite.writer.ModelBuilder` (no TensorFlow needed).
* :func:`parity` compares LiteRT, op by op, with :func:`accuracy.digits.network.run_int8` in
  TFLite mode: ``quantize_multiplier(M, 31, method="tflite")`` on the float64
  ``M`` (as LiteRT computes it from the float32 scales) and the rounding of
  LiteRT's kernel (:data:`LITERT_ROUNDING`: ``tflite_double`` for convolutions,
  a single rounding with ties away from zero, ``tflite_single``, for the
  fully-connected kernel). Parity holds for LiteRT's *reference* kernels
  (``BUILTIN_REF``) only: its default (XNNPACK) kernels round differently.
"""

import json
from pathlib import Path

import numpy as np

from toolkit.files import write_atomically

from ..tflite.litert import litert_available, run_litert
from ..tflite.writer import ModelBuilder
from . import network

__all__ = ["LITERT_ROUNDING", "export", "parity", "parity_report"]


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


#: The rounding of LiteRT's int8 reference kernels (``BUILTIN_REF``), per layer kind:
#: CONV_2D and DEPTHWISE_CONV_2D use TFLite's double rounding
#: (``MultiplyByQuantizedMultiplier``: SaturatingRoundingDoublingHighMul, then
#: RoundingDivideByPOT); FULLY_CONNECTED rounds once on ``acc * m``, ties away from
#: zero, with the same 31-bit ``(m, s)`` (``rounding="tflite_single"``): at M = 0.5,
#: acc = -1 it gives -1 where double rounding and half up give 0. The exact-tie tests
#: of tests/accuracy/tflite/test_interpreter.py run these vectors through LiteRT itself.
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
