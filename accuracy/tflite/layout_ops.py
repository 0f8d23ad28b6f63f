"""Layout and shape ops of real int8 models, bit-exact with LiteRT's reference kernels
(``BUILTIN_REF``).

**Data movement** (TRANSPOSE, PAD, PADV2, MIRROR_PAD, RESHAPE, SQUEEZE, EXPAND_DIMS, TILE,
RESIZE_NEAREST_NEIGHBOR, SPLIT, SPLIT_V, UNPACK, PACK, GATHER, STRIDED_SLICE) only copies
elements, so each op is written once, for one sample as the model describes it (batch
dimension 1, the model's own shapes and axes). At run time the op moves a map of element
numbers instead of values, and every sample of the batch is gathered through that map:
the batch axis never has to be threaded through the op's axes, and an op that would mix
samples (its output's first dimension is not 1) is refused by name. The same functions
evaluate **the constant shape path** when the model is loaded (:func:`fold_constants`):
Keras ``Flatten`` with a dynamic batch computes RESHAPE's target with SHAPE ->
STRIDED_SLICE -> PACK; folding them (and UNPACK, GATHER, CONCATENATION of int32) leaves
RESHAPE a constant, as LiteRT's ``Prepare`` does.

**RESIZE_BILINEAR** interpolates int8 with LiteRT's integer-only reference path
(``ResizeBilinearInteger``: 10-bit fixed-point coordinates, one rounding away from zero).

None of these ops has a multiplier: ``k`` does not change them. Each function names the
LiteRT source it follows (``tflite/kernels/<op>.cc`` and
``tflite/kernels/internal/reference/*.h``).
"""

import dataclasses

import numpy as np

from .quant import Unsupported, constant_ints, same_quantization
from .writer import MIRROR_PAD_MODE, TYPES

__all__ = ["KERNELS", "OPTIONS", "fold_constants"]

# In a map of element numbers, the element a PAD inserts: the last column of the gathered
# table, where the pad value sits (a numpy index of -1).
_PAD_MARK = -1


def _axis(axis, rank, what):
    """``axis`` (negative counts from the end) checked against ``rank``."""
    a = int(axis) + rank if axis < 0 else int(axis)
    if not 0 <= a < rank:
        raise Unsupported(f"{what} {int(axis)} is outside a rank-{rank} tensor")
    return a


# --- data movement, for one sample (tflite/kernels/<op>.cc, reference_ops) --------------------

def _transpose(model, op, args, pad):
    """transpose.cc: ``perm`` a permutation of the axes, negative entries allowed."""
    x, perm = args[0], constant_ints(model, op, 1, args, "permutation")
    if perm.shape != (x.ndim,) or sorted(p % x.ndim for p in perm) != list(range(x.ndim)) \
            or np.any(perm < -x.ndim) or np.any(perm >= x.ndim):
        raise Unsupported(f"permutation {perm.tolist()} is not a permutation of {x.ndim} axes")
    return [np.transpose(x, perm % x.ndim)]


def _paddings(model, op, args, x):
    p = constant_ints(model, op, 1, args, "paddings")
    if p.shape != (x.ndim, 2):
        raise Unsupported(f"paddings of shape {list(p.shape)}, a rank-{x.ndim} input needs [{x.ndim}, 2]")
    if np.any(p < 0):
        raise Unsupported("Pad value has to be greater than equal to 0.")
    return p


def _pad(model, op, args, pad):
    """pad.cc (PAD and PADV2): the inserted elements hold ``pad`` (see :func:`_pad_value`)."""
    return [np.pad(args[0], _paddings(model, op, args, args[0]), constant_values=pad)]


def _pad_value(model, op, args):
    """What pad.cc's ``EvalInt`` inserts (None for an op other than PAD and PADV2): for a
    quantized input, the output's zero point (PAD) or PADV2's constant, which must share
    the output's scale and zero point; for plain integers the constant or 0."""
    if op.name not in ("PAD", "PADV2"):
        return None
    t_in, t_out = model.tensors[op.inputs[0]], model.tensors[op.outputs[0]]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = np.asarray(args[2]).reshape(-1)
        if model.tensors[op.inputs[2]].data is None:
            raise Unsupported("the constant_values input must be a constant")
        if value.size != 1:
            raise Unsupported(f"the constant_values input holds {value.size} values, not one")
        if t_in.scale is not None:
            same_quantization(model, op, model.tensors[op.inputs[2]], t_out)
        return value[0]
    return int(t_out.zero_point[0]) if t_in.scale is not None and t_out.scale is not None else 0


def _mirror_pad(model, op, args, pad):
    """mirror_pad.cc: REFLECT repeats no edge element (pads up to size - 1), SYMMETRIC
    repeats it (pads up to size); int8 input and output share one quantization."""
    x = args[0]
    p = _paddings(model, op, args, x)
    modes = {v: k for k, v in MIRROR_PAD_MODE.items()}
    mode = modes.get(op.options.get("mode", 0))
    if mode is None:
        raise Unsupported(f"mirror padding mode {op.options['mode']} is not REFLECT or SYMMETRIC")
    limit = np.array(x.shape)[:, None] - (mode == "reflect")
    if np.any(p > limit):
        raise Unsupported(f"{mode.upper()} padding {p.tolist()} is larger than the input {list(x.shape)} allows")
    t_in = model.tensors[op.inputs[0]]
    if t_in.scale is not None:
        same_quantization(model, op, t_in, model.tensors[op.outputs[0]])
    return [np.pad(x, p, mode=mode)]


def _reshape(model, op, args, pad):
    """reshape.cc: the shape input when it is an int32 vector, else the options'
    ``new_shape`` (``[0]`` meaning a scalar); one -1 takes the remaining size."""
    x = args[0]
    t = model.tensors[op.inputs[1]] if len(op.inputs) == 2 and op.inputs[1] >= 0 else None
    if t is not None and t.dtype is np.int32 and len(t.shape if t.data is None else t.data.shape) == 1:
        shape = constant_ints(model, op, 1, args, "shape").tolist()
    else:
        shape = op.options.get("new_shape")
        if not isinstance(shape, np.ndarray):
            raise Unsupported("neither a shape input nor new_shape in the options")
        shape = [] if shape.tolist() == [0] else shape.astype(np.int64).tolist()
    if shape.count(-1) > 1:
        raise Unsupported(f"shape {shape} has more than one -1")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d not in (-1, 0)], dtype=np.int64))
        shape[shape.index(-1)] = int(np.prod([d for d in x.shape if d], dtype=np.int64)) // known if known else 0
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise Unsupported(f"cannot reshape {list(x.shape)} ({x.size} elements) to {shape}")
    return [x.reshape(shape)]


def _squeeze(model, op, args, pad):
    """squeeze.cc: the listed axes (all axes of size 1 when none is), each of size 1."""
    x = args[0]
    dims = op.options.get("squeeze_dims")
    if not isinstance(dims, np.ndarray) or dims.size == 0:
        return [x.reshape([d for d in x.shape if d != 1])]
    axes = {_axis(d, x.ndim, "squeeze axis") for d in dims}
    if any(x.shape[a] != 1 for a in axes):
        raise Unsupported(f"squeeze axes {sorted(axes)} of {list(x.shape)} are not all of size 1")
    return [x.reshape([d for a, d in enumerate(x.shape) if a not in axes])]


def _expand_dims(model, op, args, pad):
    """expand_dims.cc: one axis, ``axis < 0`` counting from rank + 1."""
    x, axis = args[0], constant_ints(model, op, 1, args, "axis").reshape(-1)
    if axis.size != 1:
        raise Unsupported(f"the axis input holds {axis.size} values, not one")
    return [np.expand_dims(x, _axis(axis[0], x.ndim + 1, "axis"))]


def _tile(model, op, args, pad):
    """tile.cc: one multiple per axis."""
    x, reps = args[0], constant_ints(model, op, 1, args, "multiples")
    if reps.shape != (x.ndim,) or np.any(reps < 0):
        raise Unsupported(f"multiples {reps.tolist()} do not fit a rank-{x.ndim} input")
    return [np.tile(x, reps)]


def _resize_size(model, op, args, x):
    """The output height and width of a 4-D resize, and the options (both resize kernels'
    ``Prepare``: align_corners and half_pixel_centers exclude each other)."""
    if x.ndim != 4:
        raise Unsupported(f"the input must be 4-D (NHWC), not {list(x.shape)}")
    size = constant_ints(model, op, 1, args, "size")
    if size.shape != (2,) or np.any(size <= 0):
        raise Unsupported(f"size {size.tolist()} is not two positive numbers")
    align, half = bool(op.options.get("align_corners")), bool(op.options.get("half_pixel_centers"))
    if align and half:
        raise Unsupported("If half_pixel_centers is True, align_corners must be False.")
    return int(size[0]), int(size[1]), align, half


def _nearest(out_size, in_size, align, half):
    """reference/resize_nearest_neighbor.h ``GetNearestNeighbor``, in float32."""
    f32 = np.float32
    scale = (f32(in_size - 1) / f32(out_size - 1)) if align and out_size > 1 else f32(in_size) / f32(out_size)
    v = (np.arange(out_size, dtype=f32) + f32(0.5 if half else 0.0)) * scale
    v = np.sign(v) * np.floor(np.abs(v) + f32(0.5)) if align else np.floor(v)  # TfLiteRound: half away
    idx = np.minimum(v.astype(np.int64), in_size - 1)
    return np.maximum(idx, 0) if half else idx


def _resize_nearest(model, op, args, pad):
    """resize_nearest_neighbor.cc, reference path."""
    x = args[0]
    oh, ow, align, half = _resize_size(model, op, args, x)
    return [x[:, _nearest(oh, x.shape[1], align, half)][:, :, _nearest(ow, x.shape[2], align, half)]]


def _split(model, op, args, pad):
    """split.cc: the axis is input 0, the data input 1; ``num_splits`` equal parts."""
    x, axis = args[1], constant_ints(model, op, 0, args, "axis").reshape(-1)
    num = op.options.get("num_splits", 0)
    a = _axis(axis[0], x.ndim, "split axis")
    if num < 1 or x.shape[a] % num or len(op.outputs) != num:
        raise Unsupported(f"cannot split {x.shape[a]} elements into {num} equal parts for {len(op.outputs)} outputs")
    return np.split(x, num, axis=a)


def _split_v(model, op, args, pad):
    """split_v.cc: ``size_splits`` along the axis (input 2), one of them -1 at most."""
    x, sizes = args[0], constant_ints(model, op, 1, args, "size_splits").reshape(-1)
    a = _axis(constant_ints(model, op, 2, args, "axis").reshape(-1)[0], x.ndim, "split axis")
    if len(op.outputs) != sizes.size or np.sum(sizes == -1) > 1 or np.any(sizes < -1):
        raise Unsupported(f"size_splits {sizes.tolist()} do not fit {len(op.outputs)} outputs")
    rest = x.shape[a] - sizes[sizes != -1].sum()
    if rest < 0 or (rest and -1 not in sizes):
        raise Unsupported(f"size_splits {sizes.tolist()} do not add up to {x.shape[a]}")
    sizes = np.where(sizes == -1, rest, sizes)
    return np.split(x, np.cumsum(sizes)[:-1], axis=a)


def _unpack(model, op, args, pad):
    """unpack.cc: ``num`` outputs along ``axis``, each with the input's quantization."""
    x = args[0]
    a = _axis(op.options.get("axis", 0), x.ndim, "unpack axis")
    if op.options.get("num", 0) != x.shape[a] or len(op.outputs) != x.shape[a]:
        raise Unsupported(f"num = {op.options.get('num', 0)} for an axis of {x.shape[a]}")
    for o in op.outputs:
        same_quantization(model, op, model.tensors[op.inputs[0]], model.tensors[o])
    return [np.take(x, i, axis=a) for i in range(x.shape[a])]


def _pack(model, op, args, pad):
    """pack.cc: ``values_count`` inputs of one shape stacked on a new ``axis``; every
    input shares the output's quantization."""
    if op.options.get("values_count", 0) != len(op.inputs) or len({np.shape(a) for a in args}) != 1:
        raise Unsupported(f"values_count = {op.options.get('values_count', 0)} for {len(op.inputs)} inputs "
                          f"of shapes {[list(np.shape(a)) for a in args]}")
    for i in op.inputs:
        same_quantization(model, op, model.tensors[i], model.tensors[op.outputs[0]])
    return [np.stack(args, axis=_axis(op.options.get("axis", 0), np.ndim(args[0]) + 1, "pack axis"))]


def _gather(model, op, args, pad):
    """gather.cc: indices along ``axis``, none negative or past the end; the first
    ``batch_dims`` axes of input and indices pair up."""
    x, idx = args[0], constant_ints(model, op, 1, args, "indices")
    a = _axis(op.options.get("axis", 0), x.ndim, "gather axis")
    bd = op.options.get("batch_dims", 0)
    bd = bd + idx.ndim if bd < 0 else bd
    if not (0 <= bd <= a and bd <= idx.ndim and x.shape[:bd] == idx.shape[:bd]):
        raise Unsupported(f"batch_dims = {op.options.get('batch_dims', 0)} does not fit input {list(x.shape)} "
                          f"and indices {list(idx.shape)}")
    if np.any(idx < 0) or np.any(idx >= x.shape[a]):
        raise Unsupported(f"gather index out of bounds: {idx.min()}..{idx.max()} for an axis of {x.shape[a]}")
    lead = x.shape[:bd]
    xs, ids = x.reshape((-1,) + x.shape[bd:]), idx.reshape((-1,) + idx.shape[bd:])
    out = np.stack([np.take(xb, ib, axis=a - bd) for xb, ib in zip(xs, ids)])
    return [out.reshape(lead + out.shape[1:])]


def _strided_slice(model, op, args, pad):
    """strided_slice.cc ``BuildStridedSliceParams`` (ellipsis and new axes expanded into
    an effective input shape) and ``StartForAxis`` / ``EndForAxis`` of
    reference/strided_slice.h (``DynamicStridedSliceParams``)."""
    x = args[0]
    begin, end, strides = (constant_ints(model, op, j, args, w) for j, w in ((1, "begin"), (2, "end"), (3, "strides")))
    o = op.options
    if o.get("offset"):
        raise Unsupported("STRIDED_SLICE with offset = true is not supported")
    count = begin.size
    if not (begin.shape == end.shape == strides.shape == (count,)) or count > 31:
        raise Unsupported(f"begin, end and strides of shapes {list(begin.shape)}, {list(end.shape)}, "
                          f"{list(strides.shape)}: one vector of at most 31 indices each")
    if np.any(strides == 0):
        raise Unsupported("stride value has to be non-zero")

    def bit(mask, i):
        return i >= 0 and bool((o.get(mask, 0) >> i) & 1)

    added = sum(1 for i in range(count) if not bit("ellipsis_mask", i) and bit("new_axis_mask", i))
    dims = x.ndim + added
    ellipsis, new_axes, ellipsis_start, expanded, i = set(), set(), dims, 0, 0
    while i < dims:
        if bit("ellipsis_mask", i):
            ellipsis_start = i
            stop = max(i + 1, min(i + 1 + added + x.ndim - count, dims))
            expanded = stop - ellipsis_start - 1
            ellipsis.update(range(i, stop))
            i = stop
            continue
        if bit("new_axis_mask", i - expanded):
            new_axes.add(i)
        i += 1
    shape, picks, shrink = [], [], []
    added_ellipsis = added_axes = 0
    for i in range(dims):
        if i in new_axes:
            shape.append(1)
            picks.append(np.arange(1))
            added_axes += 1
            continue
        size = x.shape[i - added_axes]
        shape.append(size)
        if i in ellipsis or i >= count + expanded:
            added_ellipsis = max(0, i - ellipsis_start) if i in ellipsis else added_ellipsis
            picks.append(np.arange(size))
            continue
        j = i - added_ellipsis
        step = int(strides[j])
        lo, hi = (0, size) if step > 0 else (-1, size - 1)
        start = int(begin[j]) + (size if begin[j] < 0 else 0)
        start = (0 if step > 0 else size - 1) if bit("begin_mask", j) else min(max(start, lo), hi)
        if bit("shrink_axis_mask", j):
            stop = start if start >= size else start + 1
            shrink.append(i)
        elif bit("end_mask", j):
            stop = size if step > 0 else -1
        else:
            stop = min(max(int(end[j]) + (size if end[j] < 0 else 0), lo), hi)
        picks.append(np.arange(start, stop, step))
    y = x.reshape(shape)[np.ix_(*picks)]
    return [y.reshape([d for i, d in enumerate(y.shape) if i not in shrink])]


#: Data-movement ops: (which inputs carry data, the function). The others are constant
#: parameters (axes, shapes, paddings...), read as values.
_MOVERS = {
    "TRANSPOSE": ((0,), _transpose), "PAD": ((0,), _pad), "PADV2": ((0,), _pad), "MIRROR_PAD": ((0,), _mirror_pad),
    "RESHAPE": ((0,), _reshape), "SQUEEZE": ((0,), _squeeze), "EXPAND_DIMS": ((0,), _expand_dims),
    "TILE": ((0,), _tile), "RESIZE_NEAREST_NEIGHBOR": ((0,), _resize_nearest), "SPLIT": ((1,), _split),
    "SPLIT_V": ((0,), _split_v), "UNPACK": ((0,), _unpack), "PACK": (None, _pack), "GATHER": ((0,), _gather),
    "STRIDED_SLICE": ((0,), _strided_slice),
}


def _moved(model, op, args, k):
    """Run a data-movement op on a batch: the op moves each sample's element numbers,
    then every sample is gathered through the result."""
    positions, move = _MOVERS[op.name]
    data = range(len(op.inputs)) if positions is None else positions
    pad = _pad_value(model, op, args)
    batched = [j for j in data if model.tensors[op.inputs[j]].data is None]
    if not batched:  # not folded: either the op's error, or a constant model output
        move(model, op, args, pad)
        raise Unsupported("every input is a constant: the model's output does not depend on its input")
    n = len(args[batched[0]])
    maps, table, start = list(args), [], 0
    for j in data:
        shape = (1,) + args[j].shape[1:] if j in batched else np.shape(args[j])
        size = int(np.prod(shape, dtype=np.int64))
        maps[j] = np.arange(start, start + size).reshape(shape)
        table.append(args[j].reshape(n, -1) if j in batched else np.broadcast_to(np.reshape(args[j], (1, -1)),
                                                                                 (n, size)))
        start += size
    outs = move(model, op, maps, _PAD_MARK)
    if pad is not None:
        table.append(np.full((n, 1), pad, dtype=table[0].dtype))
    table = np.concatenate(table, axis=1) if len(table) > 1 else table[0]
    results = []
    for m in outs:
        if m.ndim == 0 or m.shape[0] != 1:
            raise Unsupported(f"the output of one sample has shape {list(m.shape)}: its first dimension is "
                              f"not a batch of 1, so samples cannot run together")
        results.append(np.take(table, m.reshape(-1), axis=1).reshape((n,) + m.shape[1:]))
    return tuple(results) if len(results) > 1 else results[0]


# --- the constant shape path, folded when the model is loaded ---------------------------------

def _shape(model, op, args, pad):
    """shape.cc: the input's shape (its static shape in the file, batch dimension 1)."""
    if op.options.get("out_type", TYPES["int32"]) != TYPES["int32"]:
        raise Unsupported("only an int32 SHAPE output is supported")
    return [np.array(model.tensors[op.inputs[0]].shape, dtype=np.int32)]


def _concat_int32(model, op, args, pad):
    """concatenation.cc for int32 (no requantization)."""
    if any(model.tensors[i].dtype is not np.int32 for i in op.inputs):
        raise Unsupported("only int32 constants are concatenated when the model is loaded")
    if op.options.get("activation", "none") != "none":
        raise Unsupported("a fused activation on CONCATENATION is not supported")
    return [np.concatenate(args, axis=_axis(op.options.get("axis", 0), np.ndim(args[0]), "axis"))]


_FOLDERS = {**{name: move for name, (_, move) in _MOVERS.items()}, "SHAPE": _shape,
            "CONCATENATION": _concat_int32}


def fold_constants(model):
    """``model`` with the ops computable when it is loaded evaluated and removed: the data
    movement ops whose inputs are all constants, SHAPE (the static shape of its input,
    batch dimension 1) and CONCATENATION of int32 constants. Their outputs become constant
    tensors, in order, so a chain SHAPE -> STRIDED_SLICE -> PACK folds into RESHAPE's
    shape. An op that cannot be folded stays (its kernel reports the problem when it
    runs); model outputs are never folded."""
    kept = []
    for op in model.ops:
        reads_data = op.inputs[1:] if op.name == "SHAPE" else op.inputs
        if (op.name not in _FOLDERS or any(model.tensors[i].data is None for i in reads_data if i >= 0)
                or set(op.outputs) & set(model.outputs)):
            kept.append(op)
            continue
        args = [None if i < 0 else model.tensors[i].data for i in op.inputs]
        try:
            outs = _FOLDERS[op.name](model, op, args, _pad_value(model, op, args))
        except Unsupported:
            kept.append(op)
            continue
        for i, value in zip(op.outputs, outs):
            model.tensors[i].data = np.asarray(value).astype(model.tensors[i].dtype)
    return dataclasses.replace(model, ops=kept)


# --- interpolation -------------------------------------------------------------------------------

def _resize_bilinear(model, op, args, k):
    """resize_bilinear.cc, reference path for int8: ``ResizeBilinearInteger``
    (reference/resize_bilinear.h): 10-bit fixed-point source coordinates
    (``ComputeInterpolationValuesInteger``, C's truncating division), four int64 weighted
    terms, rounded at bit 20 away from zero (the default double-rounding build)."""
    x = args[0]
    if model.tensors[op.inputs[0]].dtype is not np.int8:
        raise Unsupported("only int8 RESIZE_BILINEAR is supported")
    oh, ow, align, half = _resize_size(model, op, args, x)

    def coords(out_size, in_size):
        if align and out_size > 1:
            scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
        else:
            scale = ((1 << 10) * in_size + out_size // 2) // out_size
        v = np.arange(out_size, dtype=np.int64) * scale
        if half:
            v += scale // 2 - (1 << 9)
        lo = np.maximum(np.trunc(v / (1 << 10)).astype(np.int64), 0)
        hi = np.minimum(np.trunc((v + (1 << 10) - 1) / (1 << 10)).astype(np.int64), in_size - 1)
        frac = v - (lo << 10)
        return lo, hi, (1 << 10) - frac, frac

    y0, y1, wy0, wy1 = coords(oh, x.shape[1])
    x0, x1, wx0, wx1 = coords(ow, x.shape[2])
    xi = x.astype(np.int64)
    acc = sum(xi[:, ys][:, :, xs] * (wy[:, None] * wx[None, :])[None, :, :, None]
              for ys, wy in ((y0, wy0), (y1, wy1)) for xs, wx in ((x0, wx0), (x1, wx1)))
    q = (np.abs(acc) + (1 << 19)) >> 20
    return np.where(acc > 0, q, -q).astype(np.int8)


#: Kernels by op name, merged into the interpreter's dispatch table.
KERNELS = {**{name: _moved for name in _MOVERS}, "RESIZE_BILINEAR": _resize_bilinear}

_RESIZE = {"align_corners": "AlignCorners", "half_pixel_centers": "HalfPixelCenters"}
#: Option getters of the ``tflite`` package, per op: (options class, {our name: getter}).
OPTIONS = {
    "MIRROR_PAD": ("MirrorPadOptions", {"mode": "Mode"}),
    "RESHAPE": ("ReshapeOptions", {"new_shape": "NewShapeAsNumpy"}),
    "SQUEEZE": ("SqueezeOptions", {"squeeze_dims": "SqueezeDimsAsNumpy"}),
    "RESIZE_BILINEAR": ("ResizeBilinearOptions", _RESIZE),
    "RESIZE_NEAREST_NEIGHBOR": ("ResizeNearestNeighborOptions", _RESIZE),
    "SPLIT": ("SplitOptions", {"num_splits": "NumSplits"}),
    "SPLIT_V": ("SplitVOptions", {"num_splits": "NumSplits"}),
    "UNPACK": ("UnpackOptions", {"num": "Num", "axis": "Axis"}),
    "PACK": ("PackOptions", {"values_count": "ValuesCount", "axis": "Axis"}),
    "GATHER": ("GatherOptions", {"axis": "Axis", "batch_dims": "BatchDims"}),
    "SHAPE": ("ShapeOptions", {"out_type": "OutType"}),
    "STRIDED_SLICE": ("StridedSliceOptions", {
        "begin_mask": "BeginMask", "end_mask": "EndMask", "ellipsis_mask": "EllipsisMask",
        "new_axis_mask": "NewAxisMask", "shrink_axis_mask": "ShrinkAxisMask", "offset": "Offset"}),
}
