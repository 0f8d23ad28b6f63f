"""Read an int8 .tflite file into plain records, refusing what cannot be run.

:func:`load` parses the flatbuffer with the ``tflite`` package's readers into a
:class:`Model` (tensors with their constant data and quantization, ops with their
options by name) and checks it: a missing file, a folder, an empty, truncated or
corrupt file, several subgraphs, or an op outside :data:`SUPPORTED` each raise one
:class:`ModelError` whose message names the file (and the op and its output tensor).
:mod:`accuracy.tflite.interpreter` runs the result with integer arithmetic.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .layout_ops import KERNELS as _LAYOUT_KERNELS, OPTIONS as _LAYOUT_OPTIONS, fold_constants
from .writer import ACTIVATION, OPS, PADDING, TYPES

__all__ = ["SUPPORTED", "ModelError", "Tensor", "Op", "Model", "load"]

#: Ops :mod:`accuracy.tflite.interpreter` interprets.
SUPPORTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL", "ADD",
             "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "CONCATENATION", "QUANTIZE",
             "DEQUANTIZE") + tuple(_LAYOUT_KERNELS)
_DTYPES = {TYPES["float32"]: np.float32, TYPES["int32"]: np.int32, TYPES["int8"]: np.int8}
_NAMES = {v: k for k, v in OPS.items()}
_PADDING = {v: k for k, v in PADDING.items()}
_ACTIVATION = {v: k for k, v in ACTIVATION.items()}
# Option getters of the tflite package, per op: (options class, {our name: getter}).
_GETTERS = {
    "CONV_2D": ("Conv2DOptions", {"padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH",
                                  "activation": "FusedActivationFunction", "dilation_w": "DilationWFactor",
                                  "dilation_h": "DilationHFactor"}),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", {
        "padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH", "depth_multiplier": "DepthMultiplier",
        "activation": "FusedActivationFunction", "dilation_w": "DilationWFactor", "dilation_h": "DilationHFactor"}),
    "AVERAGE_POOL_2D": ("Pool2DOptions", {"padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH",
                                          "filter_w": "FilterWidth", "filter_h": "FilterHeight",
                                          "activation": "FusedActivationFunction"}),
    "FULLY_CONNECTED": ("FullyConnectedOptions", {"activation": "FusedActivationFunction",
                                                  "keep_num_dims": "KeepNumDims", "weights_format": "WeightsFormat"}),
    "CONCATENATION": ("ConcatenationOptions", {"axis": "Axis", "activation": "FusedActivationFunction"}),
    "ADD": ("AddOptions", {"activation": "FusedActivationFunction"}),
    "MEAN": ("ReducerOptions", {"keep_dims": "KeepDims"}),
    "TRANSPOSE_CONV": ("TransposeConvOptions", {"padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH",
                                                "activation": "FusedActivationFunction"}),
    "BATCH_MATMUL": ("BatchMatMulOptions", {"adj_x": "AdjX", "adj_y": "AdjY"}),
}
_GETTERS["MAX_POOL_2D"] = _GETTERS["AVERAGE_POOL_2D"]
_GETTERS.update(_LAYOUT_OPTIONS)


class ModelError(ValueError):
    """A .tflite file that cannot be read or run; the message is one line."""


@dataclass
class Tensor:
    name: str
    shape: tuple
    dtype: type
    data: np.ndarray = None           # constant data, shaped, or None for activations
    scale: np.ndarray = None          # float32, one or one per channel; None if not quantized
    zero_point: np.ndarray = None     # int64, same size as scale
    axis: int = 0                     # quantized dimension of per-channel scales

    @property
    def per_channel(self):
        return self.scale is not None and self.scale.size > 1


@dataclass
class Op:
    index: int
    name: str
    inputs: list                      # tensor indices (-1: optional input left out)
    outputs: list
    options: dict = field(default_factory=dict)


@dataclass
class Model:
    path: Path
    tensors: list
    ops: list
    inputs: list
    outputs: list

    def describe(self, op):
        """``"op 3 (ADD, output 'block1/add')"``: how error messages name an op."""
        out = self.tensors[op.outputs[0]].name if op.outputs else "?"
        return f"op {op.index} ({op.name}, output {out!r})"


def load(path):
    """Parse and check the .tflite file at ``path``; raises :class:`ModelError`."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder, not a .tflite file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not raw:
        raise ModelError(f"{path}: empty file, not a .tflite model")
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise ModelError(f"{path}: not a TFLite flatbuffer (no 'TFL3' identifier)")
    try:
        import tflite
    except ImportError as exc:
        raise ModelError(f"reading .tflite files needs the tflite package: {exc} "
                         f"(pip install -e '.[litert]')") from None
    try:
        model = _parse(tflite, raw, path)
    except ModelError:
        raise
    except Exception as exc:  # the flatbuffer readers fail in many ways on bad offsets
        raise ModelError(f"{path}: truncated or corrupt .tflite file ({type(exc).__name__} "
                         f"while reading it)") from None
    model = fold_constants(model)
    for op in model.ops:
        if op.name not in SUPPORTED:
            raise ModelError(f"{path}: {model.describe(op)} is not supported "
                             f"(supported: {', '.join(SUPPORTED)})")
    return model


def _parse(tflite, raw, path):
    root = int.from_bytes(raw[:4], "little")
    if root + 4 > len(raw):
        raise ModelError(f"{path}: truncated or corrupt .tflite file (root table at byte {root} "
                         f"of {len(raw)})")
    m = tflite.Model.GetRootAsModel(raw, 0)
    if m.SubgraphsLength() != 1:
        raise ModelError(f"{path}: {m.SubgraphsLength()} subgraphs; only single-subgraph models are supported")
    sg = m.Subgraphs(0)
    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        name = t.Name().decode(errors="replace") if t.Name() else f"tensor{i}"
        if t.Type() not in _DTYPES:
            raise ModelError(f"{path}: tensor {i} ({name!r}) has element type {t.Type()}; "
                             f"only float32, int32 and int8 are supported")
        dtype = _DTYPES[t.Type()]
        data = None
        buf = m.Buffers(t.Buffer()) if t.Buffer() < m.BuffersLength() else None
        if buf is not None and buf.DataLength():
            data = buf.DataAsNumpy().view(np.uint8)
            expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            if data.size != expected:
                raise ModelError(f"{path}: truncated or corrupt .tflite file (tensor {name!r} holds "
                                 f"{data.size} bytes, its shape {list(shape)} needs {expected})")
            data = np.frombuffer(data.tobytes(), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
            data = data.reshape(shape)
        q = t.Quantization()
        scale = zp = None
        axis = 0
        if q is not None and q.ScaleLength():
            scale = q.ScaleAsNumpy().astype(np.float32)
            zp = (q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength()
                  else np.zeros(scale.size, np.int64))
            axis = int(q.QuantizedDimension())
        tensors.append(Tensor(name, shape, dtype, data, scale, zp, axis))
    ops = []
    for i in range(sg.OperatorsLength()):
        o = sg.Operators(i)
        code = m.OperatorCodes(o.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = _NAMES.get(builtin, f"builtin operator {builtin}")
        inputs = [int(v) for v in o.InputsAsNumpy()] if o.InputsLength() else []
        outputs = [int(v) for v in o.OutputsAsNumpy()] if o.OutputsLength() else []
        for idx in inputs + outputs:
            if not -1 <= idx < len(tensors):
                raise ModelError(f"{path}: truncated or corrupt .tflite file (op {i} refers to tensor {idx} "
                                 f"of {len(tensors)})")
        ops.append(Op(i, name, inputs, outputs, _options(tflite, name, o)))
    inputs = [int(v) for v in sg.InputsAsNumpy()] if sg.InputsLength() else []
    outputs = [int(v) for v in sg.OutputsAsNumpy()] if sg.OutputsLength() else []
    if len(inputs) != 1 or len(outputs) != 1 or not ops:
        raise ModelError(f"{path}: {len(inputs)} inputs, {len(outputs)} outputs and {len(ops)} ops; "
                         f"only models with one input and one output are supported")
    return Model(path, tensors, ops, inputs, outputs)


def _options(tflite, name, o):
    if name not in _GETTERS:
        return {}
    cls_name, getters = _GETTERS[name]
    table = o.BuiltinOptions()
    opts = getattr(tflite, cls_name)()
    if table is not None:
        opts.Init(table.Bytes, table.Pos)
    else:  # no options table: the schema's defaults
        opts.Init(bytearray(8), 0)
    values = {}
    for key, getter in getters.items():
        try:
            values[key] = getattr(opts, getter)() if table is not None else None
        except AttributeError:
            values[key] = None
    values = {k: v for k, v in values.items() if v is not None}
    if "padding" in values:
        values["padding"] = _PADDING.get(values["padding"], values["padding"])
    if "activation" in values:
        values["activation"] = _ACTIVATION.get(values["activation"], values["activation"])
    return values
