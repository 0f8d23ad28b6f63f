"""Read a .tflite file into plain records, refusing only what cannot be read.

:func:`load` parses the flatbuffer with the ``tflite`` package's readers into a
:class:`Model` (tensors with their constant data and quantization, ops by name with
their options) and raises one :class:`ModelError` line for a missing file, a folder,
an empty, truncated or corrupt file, or a model LiteRT itself refuses to load
(e.g. a ``quantized_dimension`` outside the tensor's rank, with LiteRT's own words).
What it cannot *run* -- ops without a kernel, int16 activations, several subgraphs,
resource variables, float weights -- it records, and
:mod:`accuracy.tflite.support` reports all of it at once. Op option getters live in
:data:`OPTIONS`; a kernel module adds its own with one ``OPTIONS.update(...)`` line.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .layout_ops import OPTIONS as _LAYOUT_OPTIONS, fold_constants
from .writer import ACTIVATION, PADDING

__all__ = ["OPTIONS", "ModelError", "Tensor", "Op", "Model", "load"]

#: numpy element type of each TensorType name; the others (STRING, RESOURCE, VARIANT,
#: INT4, ...) are kept by name and never computed on.
_NUMPY = {"FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64, "INT8": np.int8,
          "UINT8": np.uint8, "INT16": np.int16, "UINT16": np.uint16, "INT32": np.int32, "UINT32": np.uint32,
          "INT64": np.int64, "UINT64": np.uint64, "BOOL": np.bool_}
_PADDING = {v: k for k, v in PADDING.items()}
_ACTIVATION = {v: k for k, v in ACTIVATION.items()}
_POOL = ("Pool2DOptions", {"padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH",
                           "filter_w": "FilterWidth", "filter_h": "FilterHeight",
                           "activation": "FusedActivationFunction"})
_ACT_ONLY = {"activation": "FusedActivationFunction"}
_REDUCER = ("ReducerOptions", {"keep_dims": "KeepDims"})
#: Option getters of the tflite package, per op: (options class, {our name: getter}).
OPTIONS = {
    "CONV_2D": ("Conv2DOptions", {"padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH",
                                  "activation": "FusedActivationFunction", "dilation_w": "DilationWFactor",
                                  "dilation_h": "DilationHFactor"}),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", {
        "padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH", "depth_multiplier": "DepthMultiplier",
        "activation": "FusedActivationFunction", "dilation_w": "DilationWFactor", "dilation_h": "DilationHFactor"}),
    "AVERAGE_POOL_2D": _POOL, "MAX_POOL_2D": _POOL,
    "FULLY_CONNECTED": ("FullyConnectedOptions", {"activation": "FusedActivationFunction",
                                                  "keep_num_dims": "KeepNumDims", "weights_format": "WeightsFormat"}),
    "CONCATENATION": ("ConcatenationOptions", {"axis": "Axis", "activation": "FusedActivationFunction"}),
    "ADD": ("AddOptions", _ACT_ONLY), "SUB": ("SubOptions", _ACT_ONLY), "MUL": ("MulOptions", _ACT_ONLY),
    "MEAN": _REDUCER, "SUM": _REDUCER,
    "SOFTMAX": ("SoftmaxOptions", {"beta": "Beta"}),
    "LEAKY_RELU": ("LeakyReluOptions", {"alpha": "Alpha"}),
    "TRANSPOSE_CONV": ("TransposeConvOptions", {"padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH",
                                                "activation": "FusedActivationFunction"}),
    "BATCH_MATMUL": ("BatchMatMulOptions", {"adj_x": "AdjX", "adj_y": "AdjY"}),
}
OPTIONS.update(_LAYOUT_OPTIONS)


class ModelError(ValueError):
    """A .tflite file that cannot be read or run; the message is one line."""


@dataclass
class Tensor:
    name: str
    shape: tuple
    dtype: object                     # a numpy type, or the TensorType name (e.g. "RESOURCE")
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
    subgraphs: int = 1                # subgraphs in the file; only the first is read

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
    return fold_constants(model)


def _parse(tflite, raw, path):
    root = int.from_bytes(raw[:4], "little")
    if root + 4 > len(raw):
        raise ModelError(f"{path}: truncated or corrupt .tflite file (root table at byte {root} "
                         f"of {len(raw)})")
    m = tflite.Model.GetRootAsModel(raw, 0)
    if m.SubgraphsLength() < 1:
        raise ModelError(f"{path}: the model has no subgraph")
    types = {v: k for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
    builtins = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    sg = m.Subgraphs(0)
    tensors = [_tensor(m, sg.Tensors(i), i, types, path) for i in range(sg.TensorsLength())]
    ops = []
    for i in range(sg.OperatorsLength()):
        o = sg.Operators(i)
        code = m.OperatorCodes(o.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = builtins.get(builtin, f"builtin operator {builtin}")
        if name == "CUSTOM":
            name = f"CUSTOM {(code.CustomCode() or b'?').decode(errors='replace')!r}"
        inputs = [int(v) for v in o.InputsAsNumpy()] if o.InputsLength() else []
        outputs = [int(v) for v in o.OutputsAsNumpy()] if o.OutputsLength() else []
        for idx in inputs + outputs:
            if not -1 <= idx < len(tensors):
                raise ModelError(f"{path}: truncated or corrupt .tflite file (op {i} refers to tensor {idx} "
                                 f"of {len(tensors)})")
        ops.append(Op(i, name, inputs, outputs, _options(tflite, name, o)))
    inputs = [int(v) for v in sg.InputsAsNumpy()] if sg.InputsLength() else []
    outputs = [int(v) for v in sg.OutputsAsNumpy()] if sg.OutputsLength() else []
    if not inputs or not outputs or not ops:
        raise ModelError(f"{path}: {len(inputs)} inputs, {len(outputs)} outputs and {len(ops)} ops: "
                         f"nothing to run")
    return Model(path, tensors, ops, inputs, outputs, m.SubgraphsLength())


def _tensor(m, t, i, types, path):
    """One tensor's record; LiteRT's own quantization checks (``ParseQuantization``)
    refuse the file with LiteRT's message."""
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    name = t.Name().decode(errors="replace") if t.Name() else f"tensor{i}"
    type_name = types.get(t.Type(), f"type {t.Type()}")
    dtype = _NUMPY.get(type_name, type_name)
    data = None
    buf = m.Buffers(t.Buffer()) if t.Buffer() < m.BuffersLength() else None
    if buf is not None and buf.DataLength() and type_name in _NUMPY:
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
        if axis < 0 or (shape and axis >= len(shape)):
            raise ModelError(f"{path}: LiteRT refuses this model: tensor {name!r}: quantized_dimension must be "
                             f"in range [0, {len(shape)}). Was {axis}.")
        if scale.size != 1 and shape and scale.size != shape[axis]:
            raise ModelError(f"{path}: LiteRT refuses this model: tensor {name!r}: num_scales must be 1 for "
                             f"per-layer quantization, or {shape[axis]} for per-axis quantization, "
                             f"but got {scale.size}.")
    return Tensor(name, shape, dtype, data, scale, zp, axis)


def _options(tflite, name, o):
    if name not in OPTIONS:
        return {}
    cls_name, getters = OPTIONS[name]
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
