"""The activation, element-wise, reduction and (de)quantization kernels against
LiteRT's reference kernels (``BUILTIN_REF``), bit for bit, on single-op models the
project writes itself: every int8/uint8 input value where the op is element-wise
(exhaustive), random batches elsewhere, with ties, saturation, broadcasting, negative
zero points, uint8 and several inputs and outputs."""

import numpy as np
import pytest

from accuracy.tflite import interpreter, litert, reader, support
from accuracy.tflite.writer import ModelBuilder

REASON = litert.litert_available()
needs_litert = pytest.mark.skipif(REASON is not None, reason=f"LiteRT cannot be used here: {REASON}")

RANGE = {"int8": (-128, 127), "uint8": (0, 255)}


def check(mb, path, xs, *, inputs=None, outputs=None, kernels="reference"):
    """Save ``mb``, run ``xs`` through LiteRT's ``kernels`` and the interpreter; every
    model output must be equal bit for bit. Returns the interpreter's outputs (a list)."""
    mb.save(path, inputs=inputs, outputs=outputs)
    model = support.load(path)
    ours = interpreter.run(model, xs)
    ours = list(ours) if isinstance(ours, tuple) else [ours]
    lite = litert.run_litert(path, xs, kernels=kernels)
    for out, index in zip(ours, model.outputs):
        ref = lite[model.tensors[index].name]
        assert out.shape == ref.shape and out.dtype == ref.dtype, (out.shape, ref.shape, out.dtype, ref.dtype)
        diff = out.astype(np.float64) != ref.astype(np.float64)
        assert not diff.any(), f"{int(diff.sum())} of {diff.size} differ: ours {out[diff][:8]}, LiteRT {ref[diff][:8]}"
    return ours


def every_value(dtype, shape=(1, 256)):
    """Every value of ``dtype`` once, as a batch of one sample of ``shape[1:]``."""
    lo, hi = RANGE[dtype]
    return np.arange(lo, hi + 1).reshape(shape).astype(dtype)


def unary(op, dtype, sx, zx, sy, zy, **options):
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 256], dtype, scale=sx, zero_point=zx)
    y = mb.tensor("y", [1, 256], dtype, scale=sy, zero_point=zy)
    mb.op(op, [x], [y], **options)
    return mb


# (dtype, input scale, input zero point): small and large ranges, negative zero points
UNARY_INPUTS = [("int8", 0.02, -7), ("int8", 0.1, 25), ("int8", 0.37, -128), ("uint8", 0.05, 128), ("uint8", 0.3, 17)]


@needs_litert
@pytest.mark.parametrize("dtype, sx, zx", UNARY_INPUTS)
def test_logistic_every_input(dtype, sx, zx, tmp_path):
    zy = -128 if dtype == "int8" else 0
    check(unary("LOGISTIC", dtype, sx, zx, 1 / 256, zy), tmp_path / "l.tflite", every_value(dtype))


@needs_litert
@pytest.mark.parametrize("dtype, sx, zx", UNARY_INPUTS)
def test_tanh_every_input(dtype, sx, zx, tmp_path):
    zy = 0 if dtype == "int8" else 128
    check(unary("TANH", dtype, sx, zx, 1 / 128, zy), tmp_path / "t.tflite", every_value(dtype))


@needs_litert
@pytest.mark.parametrize("dtype, sx, zx, sy, zy", [
    ("int8", 0.02, -7, 0.02, -10), ("int8", 0.05, 3, 0.03, -100), ("int8", 0.2, -20, 0.1, -90),
    ("int8", 0.01, 0, 0.008, -120), ("uint8", 0.04, 100, 0.03, 10), ("int8", 0.5, -50, 0.45, -128)])
def test_hard_swish_every_input(dtype, sx, zx, sy, zy, tmp_path):
    check(unary("HARD_SWISH", dtype, sx, zx, sy, zy), tmp_path / "h.tflite", every_value(dtype))


@needs_litert
@pytest.mark.parametrize("op", ["RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("dtype, sx, zx, sy, zy", [("int8", 0.05, -3, 0.05, -128), ("int8", 0.03, 10, 0.07, -90),
                                                   ("int8", 0.1, -40, 0.02, 5), ("uint8", 0.05, 120, 0.04, 0)])
def test_relu_ops_every_input(op, dtype, sx, zx, sy, zy, tmp_path):
    check(unary(op, dtype, sx, zx, sy, zy), tmp_path / "r.tflite", every_value(dtype))


@needs_litert
@pytest.mark.parametrize("alpha", [0.2, 0.01, 0.5])
@pytest.mark.parametrize("dtype, sx, zx, sy, zy", [("int8", 0.05, -3, 0.04, 20), ("uint8", 0.03, 130, 0.05, 90)])
def test_leaky_relu_every_input(alpha, dtype, sx, zx, sy, zy, tmp_path):
    check(unary("LEAKY_RELU", dtype, sx, zx, sy, zy, alpha=alpha), tmp_path / "lr.tflite", every_value(dtype))


@needs_litert
@pytest.mark.parametrize("dtype, sx, zx, beta", [("int8", 0.1, -5, 1.0), ("int8", 0.02, 30, 1.0),
                                                 ("int8", 0.4, 0, 0.5), ("uint8", 0.08, 128, 1.0)])
def test_softmax_bit_exact(dtype, sx, zx, beta, tmp_path):
    rng = np.random.default_rng(int(sx * 1000))
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 10], dtype, scale=sx, zero_point=zx)
    zy = -128 if dtype == "int8" else 0
    y = mb.tensor("y", [1, 10], dtype, scale=1 / 256, zero_point=zy)
    mb.op("SOFTMAX", [x], [y], beta=beta)
    lo, hi = RANGE[dtype]
    xs = rng.integers(lo, hi + 1, (200, 10))
    xs[0] = lo          # every logit equal: 1/10 each (ties in the rounding)
    xs[1] = lo
    xs[1, 3] = hi       # one dominant logit: saturates at the top, the rest at the bottom
    xs[2] = np.arange(10) * 3 + lo  # a ramp, reaching below diff_min for large scales
    check(mb, tmp_path / "s.tflite", xs.astype(dtype))


@needs_litert
def test_softmax_4d_last_axis(tmp_path):
    rng = np.random.default_rng(5)
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 3, 2, 6], scale=0.07, zero_point=-12)
    y = mb.tensor("y", [1, 3, 2, 6], scale=1 / 256, zero_point=-128)
    mb.op("SOFTMAX", [x], [y], beta=1.0)
    check(mb, tmp_path / "s4.tflite", rng.integers(-128, 128, (20, 3, 2, 6)).astype(np.int8))


@needs_litert
@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_prelu_broadcast_alpha(dtype, tmp_path):
    rng = np.random.default_rng(8)
    lo, hi = RANGE[dtype]
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 4, 4, 3], dtype, scale=0.05, zero_point=(-6 if dtype == "int8" else 140))
    alpha = rng.integers(lo, hi + 1, (1, 1, 3))
    a = mb.tensor("alpha", [1, 1, 3], dtype, data=alpha, scale=0.004, zero_point=(0 if dtype == "int8" else 128))
    y = mb.tensor("y", [1, 4, 4, 3], dtype, scale=0.04, zero_point=(3 if dtype == "int8" else 120))
    mb.op("PRELU", [x, a], [y])
    check(mb, tmp_path / "p.tflite", rng.integers(lo, hi + 1, (30, 4, 4, 3)).astype(dtype))


def binary_model(op, dtype, shape1, shape2, *, const2, s=(0.05, 0.03, 0.08), z=(4, -9, -2), activation="none",
                 seed=0):
    rng = np.random.default_rng(seed)
    lo, hi = RANGE[dtype]
    if dtype == "uint8":
        z = tuple(v + 128 for v in z)
    mb = ModelBuilder()
    a = mb.tensor("a", shape1, dtype, scale=s[0], zero_point=z[0])
    data = rng.integers(lo, hi + 1, shape2) if const2 else None
    b = mb.tensor("b", shape2, dtype, data=data, scale=s[1], zero_point=z[1])
    out = list(np.broadcast_shapes(tuple(shape1), tuple(shape2)))
    y = mb.tensor("y", out, dtype, scale=s[2], zero_point=z[2])
    mb.op(op, [a, b], [y], activation=activation)
    return mb, [a] if const2 else [a, b]


@needs_litert
@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("dtype", ["int8", "uint8"])
@pytest.mark.parametrize("shape2, const2", [([1, 4, 4, 3], False), ([1, 1, 1, 3], True), ([3], True),
                                            ([1, 4, 1, 1], False)])
def test_binary_ops_broadcast(op, dtype, shape2, const2, tmp_path):
    rng = np.random.default_rng(len(shape2) + 7 * const2)
    lo, hi = RANGE[dtype]
    mb, inputs = binary_model(op, dtype, [1, 4, 4, 3], shape2, const2=const2,
                              s=(0.05, 0.03, 0.002 if op == "MUL" else 0.08), activation="relu6", seed=3)
    xs = [rng.integers(lo, hi + 1, (25, 4, 4, 3)).astype(dtype)]
    if not const2:
        xs.append(rng.integers(lo, hi + 1, (25,) + tuple(shape2[1:])).astype(dtype))
    check(mb, tmp_path / "b.tflite", xs if len(xs) > 1 else xs[0], inputs=inputs)


@needs_litert
def test_sub_and_mul_ties_and_saturation(tmp_path):
    """Equal input scales, an output twice as coarse (every odd difference a tie), and
    products far beyond int8 (saturation)."""
    x = np.array([[-128, -3, -1, 0, 1, 3, 5, 127]], np.int8)
    mb, inputs = binary_model("SUB", "int8", [1, 8], [1, 8], const2=True, s=(0.05, 0.05, 0.1), z=(0, 0, 0))
    out = check(mb, tmp_path / "s.tflite", x, inputs=inputs)
    assert out[0].shape == (1, 8)
    mb, inputs = binary_model("MUL", "int8", [1, 8], [1, 8], const2=False, s=(0.1, 0.1, 0.01), z=(0, -3, 1))
    check(mb, tmp_path / "m.tflite", [x, x[:, ::-1].copy()], inputs=inputs)


def reduce_model(op, shape, axes, keep_dims, dtype="int8", *, s=(0.05, 0.5), z=(-7, 3)):
    """x -> ``op`` over the constant ``axes`` -> y."""
    mb = ModelBuilder()
    x = mb.tensor("x", shape, dtype, scale=s[0], zero_point=z[0])
    ax = mb.tensor("axes", [len(axes)], "int32", data=axes)
    resolved = {a % len(shape) for a in axes}
    out = [1 if d in resolved else n for d, n in enumerate(shape)] if keep_dims else \
        [n for d, n in enumerate(shape) if d not in resolved]
    y = mb.tensor("y", out, dtype, scale=s[1], zero_point=z[1])
    mb.op(op, [x, ax], [y], keep_dims=keep_dims)
    return mb


@needs_litert
@pytest.mark.parametrize("axes, keep_dims", [([1, 2], True), ([2], False), ([-1], True), ([1, 2, 3], False),
                                             ([3, 1], False)])
def test_mean_any_axes(axes, keep_dims, tmp_path):
    rng = np.random.default_rng(len(axes) + keep_dims)
    mb = reduce_model("MEAN", [1, 3, 5, 4], axes, keep_dims, s=(0.05, 0.04))
    check(mb, tmp_path / "r.tflite", rng.integers(-128, 128, [30, 3, 5, 4]).astype(np.int8))


# SUM against LiteRT's optimized kernel: its reference SUM of int8 is wrong (see below).
@needs_litert
@pytest.mark.parametrize("axes, keep_dims", [([1, 2], True), ([2], False), ([-1], True), ([1, 2, 3], False),
                                             ([3, 1], True)])
@pytest.mark.parametrize("dtype, s, z", [
    ("int8", (0.05, 0.5), (-7, 3)), ("int8", (0.02, 0.05), (10, -3)), ("int8", (0.01, 1.0), (-128, -5)),
    ("int8", (0.05, 0.05), (-7, -7)), ("int8", (0.1, 0.1), (0, 0)), ("uint8", (0.05, 0.4), (128, 10))])
def test_sum_any_axes(axes, keep_dims, dtype, s, z, tmp_path):
    """Several axes, keep_dims both ways, negative zero points, equal and unequal
    quantizations (saturating), uint8."""
    rng = np.random.default_rng(len(axes) + keep_dims)
    lo, hi = RANGE[dtype]
    x = rng.integers(lo, hi + 1, [40, 3, 5, 4]).astype(dtype)
    check(reduce_model("SUM", [1, 3, 5, 4], axes, keep_dims, dtype, s=s, z=z), tmp_path / "s.tflite", x,
          kernels="optimized")


@needs_litert
def test_sum_exact_ties_and_saturation(tmp_path):
    """``Sx/Sy = 0.5``: every odd sum is a tie, rounded away from zero; sums past the
    type saturate."""
    mb = reduce_model("SUM", [1, 6], [1], False, s=(0.05, 0.1), z=(0, 0))
    x = np.array([[1, 0, 0, 0, 0, 0], [-1, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0], [-3, 0, 0, 0, 0, 0],
                  [127, 127, 1, 0, 0, 0], [-128, -128, -1, 0, 0, 0]], np.int8)
    ours = check(mb, tmp_path / "t.tflite", x, kernels="optimized")[0]
    assert ours.reshape(-1).tolist() == [1, -1, 2, -2, 127, -128]


@needs_litert
@pytest.mark.parametrize("sx, sy, zx, row, expected, exact", [
    (0.0957922, 0.31148756, 13, [127, 127, 89, 0, 0, 0, 0, 0], 74, 73),
    (0.03618818, 0.17852837, -86, [-128, -128, -128, -128, -128, -85, 0, 0], -8, -7)])
def test_sum_float32_arithmetic(sx, sy, zx, row, expected, exact, tmp_path):
    """The scale, the zero-point bias and the scaled sum in float32, the bias added
    apart: on these sums that gives another integer than exact rounding of
    ``(sum - n Zx) Sx / Sy`` would, and LiteRT's."""
    mb = reduce_model("SUM", [1, 8], [1], False, s=(sx, sy), z=(zx, 0))
    x = np.array([row], np.int8)
    real = (x.astype(np.int64).sum() - 8 * zx) * np.float64(np.float32(sx)) / np.float64(np.float32(sy))
    assert round(real) == exact
    assert check(mb, tmp_path / "f.tflite", x, kernels="optimized")[0].tolist() == [expected]


@needs_litert
def test_sum_reference_kernel_is_wrong_in_this_litert(tmp_path):
    """Why SUM is checked against the optimized kernel: with one quantization in and
    out, LiteRT's reference SUM of int8 wraps the sum around in 8 bits (12 x 12 = 144
    -> -112) where the optimized kernel, and TFLite mode, saturate. If this fails,
    LiteRT fixed its reference kernel: check SUM against it and update docs/tflite.md."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    path = tmp_path / "s.tflite"
    x = np.full((1, 12), 12, np.int8)
    mb = reduce_model("SUM", [1, 12], [1], False, s=(0.1, 0.1), z=(0, 0))
    assert check(mb, path, x, kernels="optimized")[0].tolist() == [127]
    ref = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ref.allocate_tensors()
    ref.set_tensor(ref.get_input_details()[0]["index"], x)
    ref.invoke()
    assert ref.get_tensor(ref.get_output_details()[0]["index"]).tolist() == [-112]


@needs_litert
def test_concatenation_uint8_requantizes(tmp_path):
    rng = np.random.default_rng(2)
    mb = ModelBuilder()
    a = mb.tensor("a", [1, 2, 3], "uint8", scale=0.05, zero_point=128)
    b = mb.tensor("b", [1, 2, 4], "uint8", scale=0.031, zero_point=7)
    c = mb.tensor("c", [1, 2, 2], "uint8", scale=0.04, zero_point=100)
    y = mb.tensor("y", [1, 2, 9], "uint8", scale=0.04, zero_point=100)
    mb.op("CONCATENATION", [a, b, c], [y], axis=-1, activation="none")
    xs = [rng.integers(0, 256, (40, 2, n)).astype(np.uint8) for n in (3, 4, 2)]
    check(mb, tmp_path / "c.tflite", xs, inputs=[a, b, c])


@needs_litert
def test_concatenation_int8_requantization_refused_like_litert(tmp_path):
    mb = ModelBuilder()
    a = mb.tensor("a", [1, 3], scale=0.05, zero_point=0)
    b = mb.tensor("b", [1, 3], scale=0.06, zero_point=0)
    y = mb.tensor("y", [1, 6], scale=0.05, zero_point=0)
    mb.op("CONCATENATION", [a, b], [y], axis=1, activation="none")
    path = mb.save(tmp_path / "c.tflite", inputs=[a, b])
    with pytest.raises(reader.ModelError, match=r"CONCATENATION x1 \(int8 input 'b' has another scale"):
        support.load(path)
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    with pytest.raises(RuntimeError):
        Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF).allocate_tensors()


@needs_litert
@pytest.mark.parametrize("src, dst, sx, zx, sy, zy", [
    ("int8", "uint8", 0.05, -3, 0.05, 125), ("uint8", "int8", 0.05, 128, 0.05, 0),
    ("int8", "int8", 0.07, 5, 0.02, -10), ("int8", "int8", 0.02, 5, 0.07, -10), ("uint8", "uint8", 0.1, 0, 0.03, 200)])
def test_requantize_every_input(src, dst, sx, zx, sy, zy, tmp_path):
    """int8 <-> uint8 and rescaling requantization, M below and above 1 (saturating)."""
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 256], src, scale=sx, zero_point=zx)
    y = mb.tensor("y", [1, 256], dst, scale=sy, zero_point=zy)
    mb.op("QUANTIZE", [x], [y])
    check(mb, tmp_path / "q.tflite", every_value(src))


@needs_litert
def test_uint8_model_edges_and_pools(tmp_path):
    """float -> QUANTIZE(uint8) -> pools -> DEQUANTIZE, with exact half steps."""
    rng = np.random.default_rng(4)
    mb = ModelBuilder()
    xf = mb.tensor("xf", [1, 5, 5, 2], "float32")
    xq = mb.tensor("xq", [1, 5, 5, 2], "uint8", scale=0.02, zero_point=120)
    mb.op("QUANTIZE", [xf], [xq])
    p = mb.tensor("p", [1, 3, 3, 2], "uint8", scale=0.02, zero_point=120)
    mb.op("AVERAGE_POOL_2D", [xq], [p], padding="same", stride_w=2, stride_h=2, filter_w=3, filter_h=3,
          activation="none")
    m = mb.tensor("m", [1, 2, 2, 2], "uint8", scale=0.02, zero_point=120)
    mb.op("MAX_POOL_2D", [p], [m], padding="same", stride_w=2, stride_h=2, filter_w=4, filter_h=4,
          activation="relu")
    yf = mb.tensor("yf", [1, 2, 2, 2], "float32")
    mb.op("DEQUANTIZE", [m], [yf])
    x = rng.normal(0, 1.2, (20, 5, 5, 2)).astype(np.float32)
    x[0, 0, 0, 0] = 0.01  # half a step: ties away from zero
    x[0, 0, 0, 1] = -0.03
    check(mb, tmp_path / "u.tflite", x)


@needs_litert
def test_two_inputs_two_outputs(tmp_path):
    """ADD and MUL of two inputs, both outputs of the model, in its order."""
    rng = np.random.default_rng(6)
    mb = ModelBuilder()
    a = mb.tensor("a", [1, 6], scale=0.05, zero_point=-4)
    b = mb.tensor("b", [1, 6], scale=0.03, zero_point=9)
    s = mb.tensor("sum", [1, 6], scale=0.07, zero_point=1)
    p = mb.tensor("prod", [1, 6], scale=0.004, zero_point=-3)
    mb.op("ADD", [a, b], [s], activation="none")
    mb.op("MUL", [a, b], [p], activation="none")
    xs = [rng.integers(-128, 128, (30, 6)).astype(np.int8) for _ in range(2)]
    out = check(mb, tmp_path / "io.tflite", xs, inputs=[a, b], outputs=[p, s])
    assert len(out) == 2


def test_three_unsupported_ops_in_one_line(tmp_path):
    if litert.litert_available():
        pytest.skip("needs the tflite package")
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 4], scale=0.1, zero_point=0)
    ts = [mb.tensor(f"t{i}", [1, 4], scale=0.1, zero_point=0) for i in range(4)]
    w = mb.tensor("w16", [1, 4], "int16", scale=0.001, zero_point=0)
    mb.op("EXP", [x], [ts[0]])
    mb.op("FLOOR", [ts[0]], [ts[1]])
    mb.op("NEG", [ts[1]], [ts[2]])
    mb.op("NEG", [ts[2]], [ts[3]])
    mb.op("RELU", [ts[3]], [w])
    path = mb.save(tmp_path / "u.tflite")
    with pytest.raises(reader.ModelError) as info:
        support.load(path)
    message = str(info.value)
    assert "\n" not in message
    for part in ("EXP x1 (no kernel for this op)", "FLOOR x1 (no kernel for this op)",
                 "NEG x2 (no kernel for this op)", "RELU x1 (int16 activations"):
        assert part in message, message
    report = support.format_support(reader.load(path))
    assert "NEG" in report and "  2  no" in report and "RELU" in report


@needs_litert
def test_quantized_dimension_refused_like_litert(tmp_path):
    """A 1-D bias whose quantized_dimension is 3 (as in TFLite Micro's person_detect):
    LiteRT refuses the file, and so does the reader, with LiteRT's words."""
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 8], scale=0.05, zero_point=0)
    w = mb.tensor("w", [3, 8], data=np.ones((3, 8)), scale=[0.01, 0.02, 0.03], zero_point=[0, 0, 0], axis=0)
    b = mb.tensor("b", [3], "int32", data=[1, 2, 3], scale=[0.0005, 0.001, 0.0015], zero_point=[0, 0, 0], axis=3)
    y = mb.tensor("y", [1, 3], scale=0.1, zero_point=0)
    mb.op("FULLY_CONNECTED", [x, w, b], [y], activation="none")
    path = mb.save(tmp_path / "qd.tflite")
    with pytest.raises(reader.ModelError, match=r"quantized_dimension must be in range \[0, 1\)\. Was 3\."):
        reader.load(path)
    from ai_edge_litert.interpreter import Interpreter
    with pytest.raises(ValueError):
        Interpreter(model_path=str(path))
