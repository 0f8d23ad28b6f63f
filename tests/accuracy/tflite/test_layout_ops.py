"""The layout and shape ops (accuracy.tflite.layout_ops), TRANSPOSE_CONV, BATCH_MATMUL and
FULLY_CONNECTED with keep_num_dims against LiteRT's reference kernels (``BUILTIN_REF``).

Every op runs in a tiny model written by :class:`accuracy.tflite.writer.ModelBuilder`,
through LiteRT (one sample at a time) and through the integer interpreter (the whole
batch at once): every tensor named must be equal bit for bit. Edge cases: negative zero
points, odd sizes, masks, REFLECT against SYMMETRIC, align_corners and
half_pixel_centers, broadcast batch dimensions; the Keras ``Flatten`` shape subgraph
folds when the model is loaded. With ``k`` set, TRANSPOSE_CONV and BATCH_MATMUL rescale
their accumulators with the ``k``-bit multiplier, as CONV_2D does."""

import numpy as np
import pytest

from accuracy.tflite import interpreter, litert, reader
from accuracy.tflite.writer import ModelBuilder
from sim import golden

REASON = litert.litert_available()
needs_litert = pytest.mark.skipif(REASON is not None, reason=f"LiteRT cannot be used here: {REASON}")

SX, ZX = 0.05, -7  # the activations' quantization: a negative zero point


def check(mb, path, x, tensors):
    """Save ``mb`` (its output: the last of ``tensors``), run ``x`` through LiteRT and the
    interpreter, assert every one of ``tensors`` equal and not empty; returns the number
    of elements compared."""
    mb.save(path, outputs=tensors[-1:])
    model = reader.load(path)
    values = interpreter.run(model, x, keep=True)
    lite = litert.run_litert(path, x)
    compared = 0
    for i in tensors:
        name = model.tensors[i].name
        ours, ref = values[i], lite[name]
        assert ours.shape == ref.shape and ours.dtype == ref.dtype, (name, ours.shape, ref.shape, ours.dtype)
        diff = ours != ref
        assert not diff.any(), f"{name}: {int(diff.sum())} of {diff.size} differ: ours {ours[diff][:8]}, " \
                               f"LiteRT {ref[diff][:8]}"
        assert ref.size, name
        compared += ref.size
    return compared


def int8(rng, *shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


def act(mb, name, shape, *, scale=SX, zero_point=ZX):
    return mb.tensor(name, shape, scale=scale, zero_point=zero_point)


def const(mb, name, values):
    values = np.asarray(values, np.int32)
    return mb.tensor(name, values.shape, "int32", data=values)


def one_op(op, in_shape, out_shapes, params=(), **options):
    """A model ``x -> op(x, *params) -> y0, y1...``, outputs quantized as the input."""
    mb = ModelBuilder()
    x = act(mb, "x", in_shape)
    ins = [x] + [const(mb, f"p{j}", p) for j, p in enumerate(params)]
    outs = [act(mb, f"y{j}", s) for j, s in enumerate(out_shapes)]
    mb.op(op, ins, outs, **options)
    return mb, outs


# --- data movement -------------------------------------------------------------------------

@needs_litert
@pytest.mark.parametrize("in_shape, perm", [([1, 3, 5, 4], [0, 2, 3, 1]), ([1, 5, 4, 3], [0, 3, 1, 2]),
                                            ([1, 2, 7], [0, -1, 1]), ([1, 2, 3, 4, 5], [0, 4, 2, 3, 1])])
def test_transpose(in_shape, perm, tmp_path):
    out = [in_shape[p] for p in perm]
    mb, outs = one_op("TRANSPOSE", in_shape, [out], [perm])
    assert check(mb, tmp_path / "t.tflite", int8(np.random.default_rng(1), 4, *in_shape[1:]), outs)


@needs_litert
@pytest.mark.parametrize("op, pads, in_shape", [
    ("PAD", [[0, 0], [1, 2], [0, 3], [0, 0]], [1, 3, 5, 2]),     # image-style
    ("PAD", [[0, 0], [2, 1], [1, 1], [2, 0]], [1, 4, 3, 3]),     # channels padded too
    ("PAD", [[0, 0], [0, 3], [1, 0]], [1, 5, 2]),
    ("PADV2", [[0, 0], [1, 1], [2, 1], [0, 1]], [1, 3, 3, 2]),
])
def test_pad(op, pads, in_shape, tmp_path):
    out = [d + sum(p) for d, p in zip(in_shape, pads)]
    mb = ModelBuilder()
    x = act(mb, "x", in_shape)
    ins = [x, const(mb, "pads", pads)]
    if op == "PADV2":  # a constant in the output's quantization: 93 (not the zero point)
        ins.append(mb.tensor("value", [], data=93, scale=SX, zero_point=ZX))
    y = act(mb, "y", out)
    mb.op(op, ins, [y])
    xs = int8(np.random.default_rng(2), 3, *in_shape[1:])
    assert check(mb, tmp_path / "p.tflite", xs, [y])
    ours = interpreter.run(reader.load(tmp_path / "p.tflite"), xs)
    assert ours[0].flat[0] == (93 if op == "PADV2" else ZX)  # the first element is padding


@needs_litert
@pytest.mark.parametrize("mode, pads", [("reflect", [[0, 0], [2, 1], [1, 3], [0, 0]]),
                                        ("symmetric", [[0, 0], [3, 1], [4, 0], [0, 0]]),
                                        ("reflect", [[0, 0], [0, 0], [0, 0], [1, 1]]),
                                        ("symmetric", [[0, 0], [1, 2], [0, 0], [2, 1]])])
def test_mirror_pad(mode, pads, tmp_path):
    in_shape = [1, 3, 5, 2]
    out = [d + sum(p) for d, p in zip(in_shape, pads)]
    mb, outs = one_op("MIRROR_PAD", in_shape, [out], [pads], mode=mode)
    assert check(mb, tmp_path / "m.tflite", int8(np.random.default_rng(3), 3, *in_shape[1:]), outs)


@needs_litert
def test_reshape_squeeze_expand_dims(tmp_path):
    """RESHAPE from a shape input with -1 and from the options alone, SQUEEZE of listed
    axes, EXPAND_DIMS with a negative axis, chained."""
    mb = ModelBuilder()
    x = act(mb, "x", [1, 3, 1, 4])
    a = act(mb, "a", [1, 3, 4])
    mb.op("SQUEEZE", [x], [a], squeeze_dims=[-2])
    b = act(mb, "b", [1, 3, 4, 1])
    mb.op("EXPAND_DIMS", [a, const(mb, "axis", [-1])], [b])
    c = act(mb, "c", [1, 12])
    mb.op("RESHAPE", [b, const(mb, "shape", [1, -1])], [c], new_shape=[1, 12])
    d = act(mb, "d", [1, 2, 6])
    mb.op("RESHAPE", [c], [d], new_shape=[-1, 2, 6])
    e = act(mb, "e", [1, 1, 2, 6])
    mb.op("EXPAND_DIMS", [d, const(mb, "axis1", 1)], [e])
    assert check(mb, tmp_path / "r.tflite", int8(np.random.default_rng(4), 5, 3, 1, 4), [a, b, c, d, e])


@needs_litert
@pytest.mark.parametrize("reps", [[1, 2, 3, 1], [1, 1, 1, 3], [1, 3, 1, 2]])
def test_tile(reps, tmp_path):
    in_shape = [1, 2, 3, 2]
    mb, outs = one_op("TILE", in_shape, [[d * r for d, r in zip(in_shape, reps)]], [reps])
    assert check(mb, tmp_path / "t.tflite", int8(np.random.default_rng(5), 3, *in_shape[1:]), outs)


RESIZES = [((3, 5), (6, 10)), ((4, 4), (7, 5)), ((7, 6), (3, 4)), ((5, 5), (1, 1)), ((2, 3), (9, 8))]


@needs_litert
@pytest.mark.parametrize("op", ["RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"])
@pytest.mark.parametrize("align, half", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("sizes", range(len(RESIZES)))
def test_resize(op, align, half, sizes, tmp_path):
    (h, w), (oh, ow) = RESIZES[sizes]
    mb, outs = one_op(op, [1, h, w, 3], [[1, oh, ow, 3]], [[oh, ow]], align_corners=align,
                      half_pixel_centers=half)
    assert check(mb, tmp_path / "r.tflite", int8(np.random.default_rng(6 + sizes), 4, h, w, 3), outs)


@needs_litert
def test_split_split_v_unpack_pack(tmp_path):
    """SPLIT in three along the channels, SPLIT_V with a -1 size along a negative axis,
    UNPACK along the height, PACK two of its outputs back along a new axis."""
    mb = ModelBuilder()
    x = act(mb, "x", [1, 3, 4, 6])
    s = [act(mb, f"s{j}", [1, 3, 4, 2]) for j in range(3)]
    mb.op("SPLIT", [const(mb, "axis", 3), x], s, num_splits=3)
    v = [act(mb, f"v{j}", [1, 3, n, 6]) for j, n in enumerate([1, 2, 1])]
    mb.op("SPLIT_V", [x, const(mb, "sizes", [1, -1, 1]), const(mb, "axis_v", -2)], v, num_splits=3)
    u = [act(mb, f"u{j}", [1, 4, 6]) for j in range(3)]
    mb.op("UNPACK", [x], u, num=3, axis=1)
    p = act(mb, "p", [1, 4, 2, 6])
    mb.op("PACK", [u[2], u[0]], [p], values_count=2, axis=2)
    assert check(mb, tmp_path / "s.tflite", int8(np.random.default_rng(7), 4, 3, 4, 6), s + v + u + [p])


@needs_litert
@pytest.mark.parametrize("in_shape, indices, axis, batch_dims, out", [
    ([1, 3, 4], [2, 0, 2, 3], 2, 0, [1, 3, 4]),
    ([1, 5, 2], [[4, 1], [0, 0]], 1, 0, [1, 2, 2, 2]),
    ([1, 4, 3], [[3, 1]], 1, 1, [1, 2, 3]),
    ([1, 3, 4], [1], -2, 0, [1, 1, 4]),
])
def test_gather(in_shape, indices, axis, batch_dims, out, tmp_path):
    mb, outs = one_op("GATHER", in_shape, [out], [indices], axis=axis, batch_dims=batch_dims)
    assert check(mb, tmp_path / "g.tflite", int8(np.random.default_rng(8), 3, *in_shape[1:]), outs)


# begin, end, strides, masks, output shape of a [1, 5, 6, 4] input
SLICES = [
    ([0, 1, 0, 0], [1, 4, 6, 4], [1, 1, 2, 1], {}, [1, 3, 3, 4]),
    ([0, -1, 5, 3], [1, 0, -7, 0], [1, -1, -2, -1], {}, [1, 4, 3, 3]),
    ([0, -9, -2, 1], [1, 9, 3, 3], [1, 1, 1, 1], {"begin_mask": 0b0010, "end_mask": 0b0100}, [1, 5, 2, 2]),
    ([0, -9, 7, 0], [1, 9, -9, 4], [1, 2, -2, 3], {}, [1, 3, 3, 2]),
    ([0, 2, 0, 1], [1, 3, 6, 2], [1, 1, 1, 1], {"shrink_axis_mask": 0b1010}, [1, 6]),
    ([0, 0, 1], [1, 0, 5], [1, 1, 2], {"new_axis_mask": 0b010}, [1, 1, 5, 3, 4]),
    ([0, 0, 1], [1, 0, 3], [1, 1, 1], {"ellipsis_mask": 0b010}, [1, 5, 6, 2]),
    ([0, 2], [1, 1], [1, -1], {"ellipsis_mask": 0b01, "begin_mask": 0b01}, [1, 5, 6, 2]),
    ([0, 0, 1, 0], [1, 0, 5, 0], [1, 1, 3, 1], {"ellipsis_mask": 0b0010, "new_axis_mask": 0b1000,
                                                "shrink_axis_mask": 0b0100}, [1, 5, 6, 1]),
]


@needs_litert
@pytest.mark.parametrize("case", range(len(SLICES)))
def test_strided_slice_int8(case, tmp_path):
    begin, end, strides, masks, out = SLICES[case]
    mb, outs = one_op("STRIDED_SLICE", [1, 5, 6, 4], [out], [begin, end, strides], **masks)
    assert check(mb, tmp_path / "s.tflite", int8(np.random.default_rng(9 + case), 3, 5, 6, 4), outs)


@needs_litert
def test_strided_slice_random_specs(tmp_path):
    """Random begins, ends (out of range too), strides of either sign, begin/end/shrink
    masks on the non-batch axes: LiteRT, the interpreter and numpy's slicing agree."""
    rng = np.random.default_rng(19)
    shape = (1, 5, 4, 3)
    x = int8(rng, 3, *shape[1:])
    for trial in range(48):
        begin, end, strides, masks, picks = [0], [1], [1], {"begin_mask": 0, "end_mask": 0, "shrink_axis_mask": 0}, []
        for axis, size in enumerate(shape[1:], start=1):
            step = int(rng.choice([-3, -2, -1, 1, 2, 3]))
            b, e = (int(v) for v in rng.integers(-size - 2, size + 3, 2))
            kind = rng.choice(["plain", "begin", "end", "shrink"])
            if kind == "shrink":
                b, e, step = int(rng.integers(-size, size)), 0, 1
                picks.append(b)
            else:
                picks.append(slice(None if kind == "begin" else b, None if kind == "end" else e, step))
            mask = {"plain": None, "begin": "begin_mask", "end": "end_mask", "shrink": "shrink_axis_mask"}[kind]
            if mask:
                masks[mask] |= 1 << axis
            begin, end, strides = begin + [b], end + [e], strides + [step]
        out = np.zeros(shape, np.int8)[(slice(None),) + tuple(picks)].shape
        if 0 in out:
            continue
        mb, outs = one_op("STRIDED_SLICE", list(shape), [list(out)], [begin, end, strides], **masks)
        assert check(mb, tmp_path / f"s{trial}.tflite", x, outs), (begin, end, strides, masks)
        ours = interpreter.run(reader.load(tmp_path / f"s{trial}.tflite"), x)
        assert np.array_equal(ours, x[(slice(None),) + tuple(picks)])


# --- the constant shape path -----------------------------------------------------------------

def flatten_model(rng):
    """Keras ``Flatten`` with a dynamic batch, then a Dense layer: SHAPE -> STRIDED_SLICE
    (the batch size, shrunk to a scalar) -> PACK([batch, -1]) -> RESHAPE -> FULLY_CONNECTED."""
    mb = ModelBuilder()
    x = act(mb, "x", [1, 4, 3, 2])
    shape = mb.tensor("shape", [4], "int32")
    mb.op("SHAPE", [x], [shape], out_type="int32")
    batch = mb.tensor("batch", [], "int32")
    mb.op("STRIDED_SLICE", [shape, const(mb, "b", [0]), const(mb, "e", [1]), const(mb, "s", [1])], [batch],
          shrink_axis_mask=1)
    target = mb.tensor("target", [2], "int32")
    mb.op("PACK", [batch, const(mb, "minus_one", -1)], [target], values_count=2, axis=0)
    flat = act(mb, "flat", [1, 24])
    mb.op("RESHAPE", [x, target], [flat])
    w = int8(rng, 5, 24)
    wt = mb.tensor("w", w.shape, data=w, scale=np.full(5, 0.01), zero_point=np.zeros(5), axis=0)
    bt = mb.tensor("bias", [5], "int32", data=rng.integers(-500, 500, 5), scale=np.full(5, SX * 0.01),
                   zero_point=np.zeros(5))
    y = act(mb, "y", [1, 5], scale=0.3, zero_point=3)
    mb.op("FULLY_CONNECTED", [flat, wt, bt], [y], activation="none")
    return mb, [flat, y]


@needs_litert
def test_keras_flatten_shape_path_folds(tmp_path):
    rng = np.random.default_rng(10)
    mb, outs = flatten_model(rng)
    assert check(mb, tmp_path / "f.tflite", int8(rng, 6, 4, 3, 2), outs)
    model = reader.load(tmp_path / "f.tflite")
    assert [op.name for op in model.ops] == ["RESHAPE", "FULLY_CONNECTED"]
    folded = {t.name: t.data.tolist() for t in model.tensors if t.name in ("shape", "batch", "target")}
    assert folded == {"shape": [1, 4, 3, 2], "batch": 1, "target": [1, -1]}


@needs_litert
def test_int32_folds_unpack_gather_concatenation(tmp_path):
    """UNPACK, GATHER and CONCATENATION of int32 shape vectors fold too: a RESHAPE to
    [1, H*W... as H, W*C] built from the input's shape."""
    mb = ModelBuilder()
    x = act(mb, "x", [1, 4, 3, 2])
    shape = mb.tensor("shape", [4], "int32")
    mb.op("SHAPE", [x], [shape], out_type="int32")
    dims = [mb.tensor(f"d{j}", [], "int32") for j in range(4)]
    mb.op("UNPACK", [shape], dims, num=4, axis=0)
    hw = mb.tensor("hw", [2], "int32")
    mb.op("GATHER", [shape, const(mb, "idx", [0, 1])], [hw], axis=0)
    target = mb.tensor("target", [3], "int32")
    mb.op("CONCATENATION", [hw, const(mb, "rest", [-1])], [target], axis=0, activation="none")
    y = act(mb, "y", [1, 4, 6])
    mb.op("RESHAPE", [x, target], [y])
    assert check(mb, tmp_path / "u.tflite", int8(np.random.default_rng(11), 3, 4, 3, 2), [y])
    model = reader.load(tmp_path / "u.tflite")
    assert [op.name for op in model.ops] == ["RESHAPE"]


# --- dot products the engine computes ----------------------------------------------------------

def transpose_conv_model(rng, *, hw, cin, cout, kernel, stride, padding, bias=True, per_channel=True,
                         activation="none"):
    mb = ModelBuilder()
    x = act(mb, "x", [1, hw, hw, cin], scale=0.04, zero_point=-11)
    out_hw = hw * stride if padding == "same" else (hw - 1) * stride + kernel
    nsc = cout if per_channel else 1
    sw = np.exp(rng.uniform(np.log(0.002), np.log(0.03), nsc)).astype(np.float32)
    w = int8(rng, cout, kernel, kernel, cin)
    wt = mb.tensor("w", w.shape, data=w, scale=sw, zero_point=np.zeros(nsc), axis=0)
    ins = [const(mb, "out_shape", [1, out_hw, out_hw, cout]), wt, x]
    if bias:
        ins.append(mb.tensor("b", [cout], "int32", data=rng.integers(-3000, 3000, cout),
                             scale=(0.04 * sw.astype(np.float64)).astype(np.float32), zero_point=np.zeros(nsc)))
    y = act(mb, "y", [1, out_hw, out_hw, cout], scale=np.float32(0.04 * sw.max() * 30), zero_point=6)
    mb.op("TRANSPOSE_CONV", ins, [y], padding=padding, stride_w=stride, stride_h=stride, activation=activation)
    return mb, [y]


TCONV_CASES = [dict(hw=4, cin=3, cout=5, kernel=3, stride=2, padding="same"),
               dict(hw=5, cin=2, cout=4, kernel=2, stride=2, padding="valid", bias=False),
               dict(hw=3, cin=4, cout=3, kernel=3, stride=1, padding="same", activation="relu"),
               dict(hw=3, cin=2, cout=3, kernel=4, stride=3, padding="valid", per_channel=False),
               dict(hw=5, cin=3, cout=2, kernel=5, stride=2, padding="same", bias=False)]


@needs_litert
@pytest.mark.parametrize("case", range(len(TCONV_CASES)))
def test_transpose_conv(case, tmp_path):
    rng = np.random.default_rng(20 + case)
    cfg = TCONV_CASES[case]
    mb, outs = transpose_conv_model(rng, **cfg)
    assert check(mb, tmp_path / "t.tflite", int8(rng, 4, cfg["hw"], cfg["hw"], cfg["cin"]), outs)


def batch_matmul_model(rng, lhs_shape, rhs_shape, out_shape, *, adj_x=False, adj_y=False, rhs_const=True):
    mb = ModelBuilder()
    x = act(mb, "x", lhs_shape, scale=0.03, zero_point=-9)
    if rhs_const:
        rhs = mb.tensor("rhs", rhs_shape, data=int8(rng, *rhs_shape), scale=0.02, zero_point=5)
    else:  # the input itself, transposed: both operands change with the sample
        rhs = mb.tensor("rhs", rhs_shape, scale=0.03, zero_point=-9)
        mb.op("TRANSPOSE", [x, const(mb, "perm", [0, 2, 1])], [rhs])
    y = act(mb, "y", out_shape, scale=0.6, zero_point=-4)
    mb.op("BATCH_MATMUL", [x, rhs], [y], adj_x=adj_x, adj_y=adj_y)
    return mb, [y]


MATMULS = [dict(lhs_shape=[1, 3, 4], rhs_shape=[4, 5], out_shape=[1, 3, 5]),
           dict(lhs_shape=[1, 4, 3], rhs_shape=[5, 4], out_shape=[1, 3, 5], adj_x=True, adj_y=True),
           dict(lhs_shape=[1, 2, 3, 4], rhs_shape=[2, 4, 5], out_shape=[1, 2, 3, 5]),
           dict(lhs_shape=[1, 1, 3, 4], rhs_shape=[3, 4, 2], out_shape=[1, 3, 3, 2]),
           dict(lhs_shape=[1, 6], rhs_shape=[6, 4], out_shape=[1, 4]),
           dict(lhs_shape=[1, 3, 4], rhs_shape=[1, 4, 3], out_shape=[1, 3, 3], rhs_const=False),
           dict(lhs_shape=[1, 3, 4], rhs_shape=[1, 4, 3], out_shape=[1, 4, 4], adj_x=True, adj_y=True,
                rhs_const=False)]


@needs_litert
@pytest.mark.parametrize("case", range(len(MATMULS)))
def test_batch_matmul(case, tmp_path):
    rng = np.random.default_rng(30 + case)
    cfg = MATMULS[case]
    mb, outs = batch_matmul_model(rng, **cfg)
    assert check(mb, tmp_path / "b.tflite", int8(rng, 5, *cfg["lhs_shape"][1:]), outs)


@needs_litert
@pytest.mark.parametrize("in_shape", [[1, 3, 8], [1, 2, 3, 8]])
def test_fully_connected_keep_num_dims(in_shape, tmp_path):
    rng = np.random.default_rng(40)
    mb = ModelBuilder()
    x = act(mb, "x", in_shape)
    w = int8(rng, 5, 8)
    sw = np.exp(rng.uniform(np.log(0.005), np.log(0.02), 5)).astype(np.float32)
    wt = mb.tensor("w", w.shape, data=w, scale=sw, zero_point=np.zeros(5), axis=0)
    bt = mb.tensor("b", [5], "int32", data=rng.integers(-800, 800, 5), scale=(SX * sw.astype(np.float64)),
                   zero_point=np.zeros(5))
    y = act(mb, "y", in_shape[:-1] + [5], scale=0.2, zero_point=2)
    mb.op("FULLY_CONNECTED", [x, wt, bt], [y], activation="relu", keep_num_dims=True)
    assert check(mb, tmp_path / "f.tflite", int8(rng, 4, *in_shape[1:]), [y])


def test_k_bit_rescale_of_transpose_conv_and_batch_matmul(tmp_path):
    """With ``k``, the accumulators (summed here from their definitions) go through the
    k-bit ``quantize_multiplier(M32, k)`` and one half-up rounding."""
    rng = np.random.default_rng(50)
    cfg = dict(hw=3, cin=2, cout=3, kernel=3, stride=2, padding="same")
    model = reader.load(transpose_conv_model(rng, **cfg)[0].save(tmp_path / "t.tflite"))
    x = int8(rng, 3, 3, 3, 2)
    _, tw, tx, tb = (model.tensors[i] for i in model.ops[0].inputs)
    ty = model.tensors[model.outputs[0]]
    acc = np.zeros((3, 8, 8, 3), np.int64)  # scatter every input element, as LiteRT's loop does
    pad = 0  # SAME, output 6, kernel 3, stride 2: ((3 - 1) * 2 + 3 - 6) // 2
    for iy in range(3):
        for ix in range(3):
            for ky in range(3):
                for kx in range(3):
                    acc[:, 1 + iy * 2 - pad + ky, 1 + ix * 2 - pad + kx] += \
                        (x[:, iy, ix].astype(np.int64) - tx.zero_point[0]) @ tw.data[:, ky, kx].T.astype(np.int64)
    acc = acc[:, 1:7, 1:7] + tb.data
    M = (np.float64(tx.scale[0]) * tw.scale.astype(np.float64) / np.float64(ty.scale[0])).astype(np.float32)
    for k in (4, 8, 16):
        m, s = golden.quantize_multiplier(M, k)
        expected = golden.rescale(acc, m, s, zero_point=int(ty.zero_point[0]), k=k)
        assert np.array_equal(interpreter.run(model, x, k=k), expected)

    model = reader.load(batch_matmul_model(rng, [1, 3, 4], [4, 5], [1, 3, 5])[0].save(tmp_path / "b.tflite"))
    x = int8(rng, 4, 3, 4)
    tx, tr = (model.tensors[i] for i in model.ops[0].inputs)
    ty = model.tensors[model.outputs[0]]
    acc = np.einsum("nab,bc->nac", x.astype(np.int64) - tx.zero_point[0], tr.data.astype(np.int64) - tr.zero_point[0])
    M = np.float32(np.float32(tx.scale[0]) * tr.scale[0]) / np.float64(ty.scale[0])
    for k in (3, 8):
        m, s = golden.quantize_multiplier(np.float32([M]), k)
        expected = golden.rescale(acc, m, s, zero_point=int(ty.zero_point[0]), k=k)
        assert np.array_equal(interpreter.run(model, x, k=k), expected)


# --- what cannot run on a batch --------------------------------------------------------------

@pytest.mark.parametrize("op, params, options, out, message", [
    ("TRANSPOSE", [[1, 0, 2]], {}, [3, 1, 4], "first dimension is not a batch of 1"),
    ("PAD", [[[1, 0], [0, 0], [0, 0]]], {}, [2, 3, 4], "first dimension is not a batch of 1"),
    ("RESHAPE", [[3, 4]], {}, [3, 4], "first dimension is not a batch of 1"),
    ("MIRROR_PAD", [[[0, 0], [3, 0], [0, 0]]], {"mode": "reflect"}, [1, 6, 4], "larger than the input"),
    ("GATHER", [[0, 5]], {"axis": 2}, [1, 3, 2], "gather index out of bounds"),
    ("STRIDED_SLICE", [[0, 0], [1, 2], [1, 0]], {}, [1, 2, 4], "stride value has to be non-zero"),
])
def test_refusals_name_the_problem(op, params, options, out, message, tmp_path):
    if litert.litert_available():
        pytest.skip("needs the tflite package")
    mb, _ = one_op(op, [1, 3, 4], [out], params, **options)
    model = reader.load(mb.save(tmp_path / "e.tflite"))
    with pytest.raises(reader.ModelError, match=rf"op 0 \({op}, output 'y0'\): .*{message}") as info:
        interpreter.run(model, int8(np.random.default_rng(0), 2, 3, 4))
    assert "\n" not in str(info.value)


# --- layout ops around convolutions, as converters emit them -------------------------------------

def conv(mb, rng, x, cin, cout, kernel, out_shape, name):
    w = int8(rng, cout, kernel[0], kernel[1], cin)
    sw = np.exp(rng.uniform(np.log(0.005), np.log(0.02), cout)).astype(np.float32)
    wt = mb.tensor(f"{name}/w", w.shape, data=w, scale=sw, zero_point=np.zeros(cout), axis=0)
    bt = mb.tensor(f"{name}/b", [cout], "int32", data=rng.integers(-2000, 2000, cout),
                   scale=(SX * sw.astype(np.float64)).astype(np.float32), zero_point=np.zeros(cout))
    y = act(mb, name, out_shape, scale=0.15, zero_point=-20)
    mb.op("CONV_2D", [x, wt, bt], [y], padding="valid", stride_w=1, stride_h=1, activation="relu")
    return y


@needs_litert
def test_conv1d_expand_dims_and_squeeze(tmp_path):
    """Keras Conv1D: EXPAND_DIMS to [1, 1, T, C], CONV_2D 1x3, SQUEEZE back to [1, T', C']."""
    rng = np.random.default_rng(60)
    mb = ModelBuilder()
    x = act(mb, "x", [1, 10, 3])
    e = act(mb, "expanded", [1, 1, 10, 3])
    mb.op("EXPAND_DIMS", [x, const(mb, "axis", 1)], [e])
    c = conv(mb, rng, e, 3, 4, (1, 3), [1, 1, 8, 4], "conv1d")
    y = act(mb, "y", [1, 8, 4], scale=0.15, zero_point=-20)
    mb.op("SQUEEZE", [c], [y], squeeze_dims=[1])
    assert check(mb, tmp_path / "c.tflite", int8(rng, 6, 10, 3), [e, c, y])


@needs_litert
def test_pytorch_nchw_transpose_pad_conv(tmp_path):
    """A PyTorch export: NCHW input TRANSPOSEd to NHWC, an explicit PAD, a VALID
    convolution, and back to NCHW."""
    rng = np.random.default_rng(61)
    mb = ModelBuilder()
    x = act(mb, "x", [1, 3, 5, 6])
    nhwc = act(mb, "nhwc", [1, 5, 6, 3])
    mb.op("TRANSPOSE", [x, const(mb, "to_nhwc", [0, 2, 3, 1])], [nhwc])
    padded = act(mb, "padded", [1, 7, 8, 3])
    mb.op("PAD", [nhwc, const(mb, "pads", [[0, 0], [1, 1], [1, 1], [0, 0]])], [padded])
    c = conv(mb, rng, padded, 3, 2, (3, 3), [1, 5, 6, 2], "conv")
    y = act(mb, "y", [1, 2, 5, 6], scale=0.15, zero_point=-20)
    mb.op("TRANSPOSE", [c, const(mb, "to_nchw", [0, 3, 1, 2])], [y])
    assert check(mb, tmp_path / "n.tflite", int8(rng, 6, 3, 5, 6), [nhwc, padded, c, y])


@needs_litert
def test_constant_int8_transpose_folds_into_matmul_operand(tmp_path):
    """A TRANSPOSE of constant int8 weights is evaluated when the model is loaded: the
    BATCH_MATMUL after it sees a constant right-hand side."""
    rng = np.random.default_rng(62)
    mb = ModelBuilder()
    x = act(mb, "x", [1, 3, 4], scale=0.03, zero_point=-9)
    w = mb.tensor("w", [5, 4], data=int8(rng, 5, 4), scale=0.02, zero_point=5)
    wt = mb.tensor("w_t", [4, 5], scale=0.02, zero_point=5)
    mb.op("TRANSPOSE", [w, const(mb, "perm", [1, 0])], [wt])
    y = act(mb, "y", [1, 3, 5], scale=0.6, zero_point=-4)
    mb.op("BATCH_MATMUL", [x, wt], [y])
    assert check(mb, tmp_path / "w.tflite", int8(rng, 5, 3, 4), [y])
    assert [op.name for op in reader.load(tmp_path / "w.tflite").ops] == ["BATCH_MATMUL"]
