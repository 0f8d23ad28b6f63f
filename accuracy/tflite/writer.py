"""Write TFLite flatbuffers from a list of tensors and ops, without TensorFlow.

:class:`ModelBuilder` collects tensors (shape, type, constant data, per-tensor or
per-channel quantization) and builtin ops (inputs, outputs, options) and serializes
them with ``flatbuffers`` into the TFLite schema's field slots. It is what
:func:`accuracy.digits.litert.export` writes the digits network with, and what the tests
build single-op models with (exact-tie vectors run through LiteRT's reference kernels).

The ops :mod:`accuracy.tflite.interpreter` interprets (and EXP, FLOOR and NEG, which
it does not, for tests of that error) are known here; their option tables are given
as ``{field name: value}`` and mapped to the schema slots below.
"""

from pathlib import Path

import numpy as np

from toolkit.files import write_atomically

__all__ = ["OPS", "TYPES", "PADDING", "ACTIVATION", "MIRROR_PAD_MODE", "ModelBuilder"]

#: Builtin operator codes (schema.fbs ``BuiltinOperator``).
OPS = {"ADD": 0, "AVERAGE_POOL_2D": 1, "CONCATENATION": 2, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4,
       "DEQUANTIZE": 6, "FLOOR": 8, "FULLY_CONNECTED": 9, "LOGISTIC": 14, "MAX_POOL_2D": 17, "MUL": 18,
       "RELU": 19, "RELU_N1_TO_1": 20, "RELU6": 21, "RESHAPE": 22, "SOFTMAX": 25, "TANH": 28, "MEAN": 40,
       "SUB": 41, "EXP": 47, "PRELU": 54, "NEG": 59, "SUM": 74, "LEAKY_RELU": 98, "QUANTIZE": 114,
       "HARD_SWISH": 117}
#: Tensor element types (``TensorType``).
TYPES = {"float32": 0, "int32": 2, "uint8": 3, "int16": 7, "int8": 9}
#: ``Padding`` and ``ActivationFunctionType`` enums.
PADDING = {"same": 0, "valid": 1}
ACTIVATION = {"none": 0, "relu": 1, "relu_n1_to_1": 2, "relu6": 3}

# Per op: operator version, BuiltinOptions union tag, and options fields (slot, kind).
_OPTIONS = {
    "CONV_2D": (3, 1, {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
                       "activation": (3, "i8"), "dilation_w": (4, "i32"), "dilation_h": (5, "i32")}),
    "DEPTHWISE_CONV_2D": (3, 2, {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
                                 "depth_multiplier": (3, "i32"), "activation": (4, "i8"),
                                 "dilation_w": (5, "i32"), "dilation_h": (6, "i32")}),
    "AVERAGE_POOL_2D": (2, 5, {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
                               "filter_w": (3, "i32"), "filter_h": (4, "i32"), "activation": (5, "i8")}),
    "MAX_POOL_2D": (2, 5, {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
                           "filter_w": (3, "i32"), "filter_h": (4, "i32"), "activation": (5, "i8")}),
    "FULLY_CONNECTED": (4, 8, {"activation": (0, "i8"), "keep_num_dims": (2, "bool")}),
    "CONCATENATION": (2, 10, {"axis": (0, "i32"), "activation": (1, "i8")}),
    "ADD": (2, 11, {"activation": (0, "i8")}),
    "RESHAPE": (1, 17, {"new_shape": (0, "vec_i32")}),
    **{name: (2, 27, {"keep_dims": (0, "bool")}) for name in ("MEAN", "SUM")},
    "DEQUANTIZE": (2, 38, {}),
    "QUANTIZE": (1, 89, {}),
    "SUB": (1, 28, {"activation": (0, "i8")}),
    "MUL": (1, 21, {"activation": (0, "i8")}),
    "SOFTMAX": (1, 9, {"beta": (0, "f32")}),
    "LEAKY_RELU": (1, 75, {"alpha": (0, "f32")}),
    **{name: (1, 0, {}) for name in ("LOGISTIC", "TANH", "HARD_SWISH", "RELU", "RELU6", "RELU_N1_TO_1", "PRELU",
                                     "EXP", "FLOOR", "NEG")},
}
_ENUMS = {"padding": PADDING, "activation": ACTIVATION}
_PREPEND = {"i32": "PrependInt32Slot", "u32": "PrependUint32Slot", "u8": "PrependUint8Slot",
            "i8": "PrependInt8Slot", "bool": "PrependBoolSlot", "f32": "PrependFloat32Slot"}

# --- layout and shape ops (accuracy.tflite.layout_ops), TRANSPOSE_CONV and BATCH_MATMUL ---
#: ``MirrorPadMode`` enum.
MIRROR_PAD_MODE = {"reflect": 0, "symmetric": 1}
OPS.update({"TRANSPOSE": 39, "PAD": 34, "PADV2": 60, "MIRROR_PAD": 100, "SQUEEZE": 43, "EXPAND_DIMS": 70,
            "TILE": 69, "RESIZE_BILINEAR": 23, "RESIZE_NEAREST_NEIGHBOR": 97, "SPLIT": 49, "SPLIT_V": 102,
            "UNPACK": 88, "PACK": 83, "GATHER": 36, "SHAPE": 77, "STRIDED_SLICE": 45, "TRANSPOSE_CONV": 67,
            "BATCH_MATMUL": 126})
# Versions LiteRT 2.3.0's reference resolver registers for int8 (it has no TILE version 3).
_OPTIONS.update({
    "TRANSPOSE": (2, 26, {}),
    "PAD": (2, 22, {}),
    "PADV2": (2, 43, {}),
    "MIRROR_PAD": (2, 77, {"mode": (0, "i8")}),
    "SQUEEZE": (1, 30, {"squeeze_dims": (0, "vec_i32")}),
    "EXPAND_DIMS": (1, 52, {}),
    "TILE": (2, 51, {}),
    "RESIZE_BILINEAR": (3, 15, {"align_corners": (2, "bool"), "half_pixel_centers": (3, "bool")}),
    "RESIZE_NEAREST_NEIGHBOR": (3, 74, {"align_corners": (0, "bool"), "half_pixel_centers": (1, "bool")}),
    "SPLIT": (2, 35, {"num_splits": (0, "i32")}),
    "SPLIT_V": (2, 79, {"num_splits": (0, "i32")}),
    "UNPACK": (2, 64, {"num": (0, "i32"), "axis": (1, "i32")}),
    "PACK": (2, 59, {"values_count": (0, "i32"), "axis": (1, "i32")}),
    "GATHER": (2, 23, {"axis": (0, "i32"), "batch_dims": (1, "i32")}),
    "SHAPE": (1, 55, {"out_type": (0, "i8")}),
    "STRIDED_SLICE": (2, 32, {"begin_mask": (0, "i32"), "end_mask": (1, "i32"), "ellipsis_mask": (2, "i32"),
                              "new_axis_mask": (3, "i32"), "shrink_axis_mask": (4, "i32"), "offset": (5, "bool")}),
    "TRANSPOSE_CONV": (3, 49, {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
                               "activation": (3, "i8")}),
    "BATCH_MATMUL": (2, 101, {"adj_x": (0, "bool"), "adj_y": (1, "bool")}),
})
_ENUMS.update({"mode": MIRROR_PAD_MODE, "out_type": TYPES})


class ModelBuilder:
    """A one-subgraph TFLite model, built tensor by tensor and op by op.

    Tensors and ops are kept as plain Python records until :meth:`save`, which
    serializes everything bottom-up (a flatbuffer table must be built after the
    tables it refers to).
    """

    def __init__(self, description="narrow-rescaler int8 model"):
        self.description = description
        self.buffers = [b""]  # buffer 0 is the empty buffer, by convention
        self.tensors = []     # (name, shape, type, buffer, quantization)
        self.ops = []         # (op, inputs, outputs, options)
        self.inputs, self.outputs = [], []

    def tensor(self, name, shape, dtype="int8", *, data=None, scale=None, zero_point=None, axis=0):
        """Add a tensor and return its index.

        ``data`` makes it a constant (stored little-endian as ``dtype``); ``scale`` and
        ``zero_point`` (scalars, or one per channel along ``axis``) quantize it.
        """
        if dtype not in TYPES:
            raise ValueError(f"dtype must be one of {', '.join(TYPES)}, not {dtype!r}")
        buf = 0
        if data is not None:
            self.buffers.append(np.ascontiguousarray(np.asarray(data, dtype=dtype)).tobytes())
            buf = len(self.buffers) - 1
        quant = None
        if scale is not None:
            scale = np.atleast_1d(np.asarray(scale, np.float32))
            zp = np.zeros(scale.size, np.int64) if zero_point is None else np.asarray(zero_point, np.int64)
            quant = (scale, np.broadcast_to(np.atleast_1d(zp), scale.shape), int(axis))
        self.tensors.append((name, [int(d) for d in shape], TYPES[dtype], buf, quant))
        return len(self.tensors) - 1

    def op(self, name, inputs, outputs, **options):
        """Add a builtin op ``name`` (a key of :data:`OPS`) with its options by field name."""
        if name not in OPS:
            raise ValueError(f"op must be one of {', '.join(OPS)}, not {name!r}")
        fields = _OPTIONS[name][2]
        unknown = set(options) - set(fields)
        if unknown:
            raise ValueError(f"{name} has no option {sorted(unknown)[0]!r} (it has {', '.join(fields) or 'none'})")
        self.ops.append((name, list(inputs), list(outputs), options))

    def save(self, path, *, inputs=None, outputs=None):
        """Serialize to ``path`` (atomically). Inputs/outputs default to the first
        tensor and the last op's output."""
        inputs = [0] if inputs is None else list(inputs)
        outputs = [self.ops[-1][2][0]] if outputs is None else list(outputs)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, self.to_bytes(inputs, outputs))
        return path

    def to_bytes(self, inputs, outputs):
        import flatbuffers
        b = flatbuffers.Builder(4096)
        b.ForceDefaults(True)  # write every field given, even if it equals the default
        codes = sorted({op[0] for op in self.ops}, key=list(OPS).index)
        code_offs = [_table(b, [(0, "i8", min(OPS[n], 127)), (2, "i32", _OPTIONS[n][0]), (3, "i32", OPS[n])])
                     for n in codes]
        buffer_offs = [_table(b, [(0, "off", _data(b, raw))]) if raw else _table(b, [])
                       for raw in self.buffers]
        tensor_offs = []
        for name, shape, ttype, buf, quant in self.tensors:
            q_off = None
            if quant is not None:
                q_off = _table(b, [(2, "off", _vector(b, quant[0], np.float32)),
                                   (3, "off", _vector(b, quant[1], np.int64)), (6, "i32", quant[2] or None)])
            name_off = b.CreateString(name)
            shape_off = _vector(b, shape, np.int32)
            tensor_offs.append(_table(b, [(0, "off", shape_off), (1, "i8", ttype), (2, "u32", buf),
                                          (3, "off", name_off), (4, "off", q_off)]))
        op_offs = []
        for name, ins, outs, options in self.ops:
            _, union, slots = _OPTIONS[name]
            fields = []
            for field, value in options.items():
                slot, kind = slots[field]
                if kind == "vec_i32":
                    fields.append((slot, "off", _vector(b, value, np.int32)))
                else:
                    fields.append((slot, kind, _ENUMS[field][value] if field in _ENUMS else value))
            opt_off = _table(b, fields)
            ins_off, outs_off = _vector(b, ins, np.int32), _vector(b, outs, np.int32)
            op_offs.append(_table(b, [(0, "u32", codes.index(name)), (1, "off", ins_off), (2, "off", outs_off),
                                      (3, "u8", union), (4, "off", opt_off)]))
        sg_name = b.CreateString("main")
        sg = _table(b, [(0, "off", _offsets(b, tensor_offs)), (1, "off", _vector(b, inputs, np.int32)),
                        (2, "off", _vector(b, outputs, np.int32)), (3, "off", _offsets(b, op_offs)),
                        (4, "off", sg_name)])
        desc = b.CreateString(self.description)
        model = _table(b, [(0, "u32", 3), (1, "off", _offsets(b, code_offs)), (2, "off", _offsets(b, [sg])),
                           (3, "off", desc), (4, "off", _offsets(b, buffer_offs))])
        b.Finish(model, file_identifier=b"TFL3")
        return bytes(b.Output())


def _table(b, fields):
    """A table from ``(slot, kind, value)``; kind ``off`` (an offset), ``i32``, ``u32``,
    ``u8``, ``i8`` or ``bool``; ``None`` values are left out."""
    fields = [f for f in fields if f[2] is not None]
    b.StartObject(max((f[0] for f in fields), default=0) + 1)
    for slot, kind, value in fields:
        if kind == "off":
            b.PrependUOffsetTRelativeSlot(slot, value, 0)
        else:
            getattr(b, _PREPEND[kind])(slot, value, False if kind == "bool" else 0)
    return b.EndObject()


def _vector(b, values, dtype):
    return b.CreateNumpyVector(np.asarray(values, dtype=dtype))


def _offsets(b, offs):
    b.StartVector(4, len(offs), 4)
    for off in reversed(offs):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _data(b, raw):
    """A byte vector aligned to 16 bytes (weights are read in place as int32/int8)."""
    b.StartVector(1, len(raw), 16)
    b.head -= len(raw)
    b.Bytes[b.head:b.head + len(raw)] = raw
    return b.EndVector()
