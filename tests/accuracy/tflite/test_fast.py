"""accuracy.tflite.fast against the reference interpreter: 0 differences, by construction.

The three networks of the speed benchmark (the converter-made MobileNetV2, the
person_detect-shaped and residual CNNs of accuracy.tflite.synthetic) run both ways in
TFLite mode and at k = 8 and 4, on two forked workers; the compiled integer rescale
(accuracy.tflite.kernels) is checked against sim.golden on adversarial accumulators
(ties of both signs, the clamps, int32's extremes, every multiplier width) and the
exact float GEMM (accuracy.tflite.exact) on its chunking; single layers (every
convolution geometry, in TFLite mode and at k with truncated and rounded multipliers,
bias compensation and saturating outputs), a layer whose M is exactly 1, a uint8
layer (refused alike), the lookup-table ops and the narrowing options run in small
models. Nothing here asserts on time."""

import pathlib

import numpy as np
import pytest

from accuracy.tflite import exact, fast, interpreter, kernels, reader, synthetic
from accuracy.tflite.writer import ModelBuilder
from sim import golden

ROOT = pathlib.Path(__file__).resolve().parents[3]
MOBILENET = ROOT / "models" / "converted" / "mobilenetv2_035_96_int8.tflite"


@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    paths = {name: make(folder / f"{name}.tflite") for name, make in synthetic.MODELS.items()}
    paths["mobilenetv2"] = MOBILENET
    return {name: reader.load(path) for name, path in paths.items()}


def inputs(model, n, seed=0):
    t = model.tensors[model.inputs[0]]
    return np.random.default_rng(seed).integers(-128, 128, (n,) + tuple(t.shape[1:])).astype(np.int8)


@pytest.mark.parametrize("name", ["mobilenetv2", "person_detect", "residual_cnn"])
def test_benchmark_networks_equal_the_interpreter(networks, name):
    """TFLite mode, k = 8 and k = 4: every output of every sample equal, on 2 workers."""
    model = networks[name]
    x = inputs(model, 12)
    for k in (None, 8, 4):
        ours = fast.run(model, x, k=k, jobs=2, batch=4)
        ref = interpreter.run(model, x, k=k)
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        assert int((ours != ref).sum()) == 0, f"k={k}"


def test_kept_tensors_equal_the_interpreter(networks):
    """``Plan.run(keep=True)``, which advise compares layer by layer, keeps every tensor
    the interpreter keeps, with the same values."""
    model = networks["residual_cnn"]
    x = inputs(model, 6, seed=1)
    for k in (None, 4):
        ours = fast.Plan(model, k=k).run(x, keep=True)
        ref = interpreter.run(model, x, k=k, keep=True)
        assert ours.keys() == ref.keys()
        for i in ref:
            assert ours[i].dtype == ref[i].dtype and np.array_equal(ours[i], ref[i]), (k, model.tensors[i].name)


def test_every_layer_of_mobilenet_takes_the_fast_path(networks):
    """The compiled kernels are not silently skipped: every dot-product layer and ADD
    has a fast step."""
    model = networks["mobilenetv2"]
    for k in (None, 8):
        plan = fast.Plan(model, k=k)
        kinds = {op.name: step.__qualname__.split(".")[0] for op, step in zip(model.ops, plan.steps)}
        assert kinds == {"CONV_2D": "_conv", "DEPTHWISE_CONV_2D": "_dwconv", "FULLY_CONNECTED": "_fc",
                         "ADD": "_binary", "MEAN": "_step"}


def test_bias_compensation_round_and_narrow_equal_the_interpreter(networks):
    model = networks["residual_cnn"]
    x = inputs(model, 10, seed=3)
    means = interpreter.calibrate(model, x)
    for kw in ({"k": 6, "bias_compensation": means}, {"k": 5, "multiplier": "round"},
               {"k": 4, "narrow": ["CONV_2D", "ADD", "MEAN"]}):
        assert np.array_equal(fast.run(model, x, jobs=1, **kw), interpreter.run(model, x, **kw)), kw


def test_several_workers_keep_the_sample_order(networks):
    model = networks["person_detect"]
    x = inputs(model, 21, seed=5)
    one = fast.run(model, x, jobs=1, batch=5)
    assert np.array_equal(fast.run(model, x, jobs=2, batch=2), one)


def rescale_cases(rng, rounding, width):
    """Per-channel (m, s) of a ``width``-bit multiplier and accumulators with every tie
    and sign the rounding meets, the int32 extremes and the operands the kernels
    rewrite (``m = s = 0``; TFLite's ``s < 31``) or meet at their edges (``s = 62``)."""
    c = 12
    if rounding == "half_up":
        m = rng.integers(1 << (width - 1), 1 << width, c, dtype=np.int64)
        s = rng.integers(width - 1, golden.s_max(width) + 1, c)
        s[1] = golden.s_max(width)
    else:
        m = rng.integers(1 << 30, 1 << 31, c)
        m[1] = 1 << 30
        s = rng.integers(31, 44, c)
        s[1], s[2], m[3], s[3] = 31, golden.TFLITE_S_MAX, (1 << 31) - 1, golden.TFLITE_S_MAX
        m[4], s[4] = 1 << 29, 30  # M = 1/2 as TFLite never writes it: s < 31
        if rounding == "tflite_single":
            m[5], s[5] = 1 << 30, 30  # M = 1
    m[0], s[0] = 0, 0  # M = 0
    acc = rng.integers(-(1 << 31), 1 << 31, (400, c))
    acc[190:300] = rng.integers(-(1 << 22), 1 << 22, (110, c))
    # accumulators on the ties: a * m / 2^s = (2j + 1) / 2 exactly or within one unit
    for j in range(c):
        top = min(300, ((1 << 21) * int(m[j])) >> int(s[j]))  # |a| stays below 2^22
        if top:
            target = (rng.integers(-top, top, 60) * 2 + 1) << max(int(s[j]) - 1, 0)
            a = target // m[j]
            acc[:180, j] = np.concatenate([a - 1, a, a + 1])
    acc[180:190] = np.arange(-5, 5)[:, None]
    acc[300], acc[301], acc[302] = -(1 << 31), (1 << 31) - 1, -(1 << 31) + 1
    return acc, m, s


RESCALES = [("tflite_double", 31), ("tflite_single", 31), ("half_up", 8), ("half_up", 4), ("half_up", 2),
            ("half_up", 16), ("half_up", 32)]


@pytest.mark.parametrize("rounding, width", RESCALES)
@pytest.mark.parametrize("zero_point, lo, hi", [(0, -128, 127), (-128, -128, 127), (17, -3, 90), (-90, -128, -100)])
def test_requantize_equals_golden(rounding, width, zero_point, lo, hi):
    """The compiled rescale against sim.golden.rescale: ties of both signs, saturation
    at both ends, negative zero points, every multiplier width k, on int32 dot
    products and on the float32 (within 2^24) and float64 ones the GEMMs give, with and
    without a per-channel bias."""
    rng = np.random.default_rng(abs(zero_point) + abs(lo) + len(rounding) + width)
    acc, m, s = rescale_cases(rng, rounding, width)
    mk, sk, mode = kernels.operands(m, s, rounding, len(m))
    # the bias: none, or per channel (the dot products kept within int32)
    for b in (np.zeros(len(m), np.int32), rng.integers(-3000, 3000, len(m)).astype(np.int32)):
        dots = np.clip(acc - b, -(1 << 31), (1 << 31) - 1)
        want = golden.rescale(dots + b, m, s, zero_point=zero_point, act_min=lo, act_max=hi, rounding=rounding,
                              k=width)
        small = np.abs(dots).max(axis=1) < 1 << 24
        for a, rows in ((dots.astype(np.int32), slice(None)), (dots.astype(np.float64), slice(None)),
                        (dots[small].astype(np.float32), small)):
            for reps in (1, 7):  # the operands along rows of 7 pixels (the rows' count is no multiple of 7)
                got = np.empty(a.shape, np.int8)
                kernels.requantize(a, np.tile(b, reps), np.tile(mk, reps), np.tile(sk, reps), mode, zero_point, lo,
                                   hi, got)
                assert np.array_equal(got, want[rows]), (a.dtype, reps, b.any())


def test_operands_refuse_what_the_kernels_cannot_hold():
    """TFLite's M = 1 exactly (m = 2^30, s = 30) has no double-rounding form with an
    int32 multiplier, nor has m >= 2^31 with s = 0 an s = 1 form: ValueError (the
    fast path then keeps golden's rescale); one channel's (m, s) is broadcast."""
    with pytest.raises(ValueError, match="M = 1"):
        kernels.operands([1 << 30, 1 << 30], [31, 30], "tflite_double", 2)
    with pytest.raises(ValueError, match="s = 0"):
        kernels.operands(1 << 31, 0, "half_up", 3)
    m, s, _ = kernels.operands(1 << 30, 30, "tflite_single", 3)
    assert m.tolist() == [1 << 30] * 3 and s.tolist() == [30] * 3


def test_a_unit_multiplier_keeps_the_reference_rescale(tmp_path):
    """A layer whose M is exactly 1 runs golden's rescale in its fast step (int32
    accumulators that the shift by 31 - s would wrap in LiteRT are saturated)."""
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 4, 4, 3], scale=1.0, zero_point=-2)
    w = mb.tensor("w", [1, 1, 1, 3], data=np.array([1, -1, 2]).reshape(1, 1, 1, 3), scale=[1.0, 0.5, 0.25],
                  zero_point=[0, 0, 0], axis=3)
    b = mb.tensor("b", [3], "int32", data=[0, 3, -3], scale=[1.0, 0.5, 0.25], zero_point=[0, 0, 0])
    y = mb.tensor("y", [1, 4, 4, 3], scale=1.0, zero_point=1)
    mb.op("DEPTHWISE_CONV_2D", [x, w, b], [y], padding="same", stride_w=1, stride_h=1, depth_multiplier=1)
    model = reader.load(mb.save(tmp_path / "unit.tflite"))
    x = np.random.default_rng(4).integers(-128, 128, (5, 4, 4, 3)).astype(np.int8)
    assert fast.Plan(model).steps[0].__qualname__.split(".")[0] == "_step"
    assert np.array_equal(fast.run(model, x, jobs=1), interpreter.run(model, x))


def test_gemm_splits_long_rows_and_stays_exact():
    """128 * sum |w| beyond 2^24: several float32 chunks summed in float64 give the
    int64 product exactly."""
    rng = np.random.default_rng(2)
    w = np.full((3, 3000), -127, np.int8)
    w[1] = rng.integers(-128, 128, 3000)
    gemm = exact.Gemm(w)
    assert len(gemm.chunks) > 2
    x = np.full((4, 3000), -128, np.int8)
    x[1:] = rng.integers(-128, 128, (3, 3000))
    want = x.astype(np.int64) @ w.astype(np.int64).T
    assert np.array_equal(gemm(x.astype(np.float32)).astype(np.int64), want)
    assert np.all(np.abs(want) <= gemm.reach)


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_a_uint8_layer_is_refused_as_the_interpreter_refuses_it(kind, tmp_path):
    """The dot-product layers run int8 only: a uint8 input gets the interpreter's error
    from the fast path too (its kernels never see it)."""
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 4, 4, 2], "uint8", scale=0.05, zero_point=128)
    shape = (2, 3, 3, 2) if kind == "CONV_2D" else (1, 3, 3, 2)
    w = mb.tensor("w", shape, data=np.ones(shape, np.int8), scale=[0.01, 0.02], zero_point=[0, 0],
                  axis=0 if kind == "CONV_2D" else 3)
    b = mb.tensor("b", [2], "int32", data=[1, -1], scale=[0.0005, 0.001], zero_point=[0, 0])
    y = mb.tensor("y", [1, 4, 4, 2], scale=0.1, zero_point=-3)
    options = {"depth_multiplier": 1} if kind == "DEPTHWISE_CONV_2D" else {}
    mb.op(kind, [x, w, b], [y], padding="same", stride_w=1, stride_h=1, **options)
    model = reader.load(mb.save(tmp_path / "u8.tflite"))
    x = np.full((3, 4, 4, 2), 200, np.uint8)
    with pytest.raises(reader.ModelError) as want:
        interpreter.run(model, x)
    assert "uint8" in str(want.value)
    with pytest.raises(reader.ModelError) as got:
        fast.run(model, x, jobs=1)
    assert str(got.value) == str(want.value)


def elementwise_model(path):
    """LOGISTIC, HARD_SWISH, LEAKY_RELU, MUL by a broadcast constant, SUB of two
    activations, QUANTIZE (requantize) and DEQUANTIZE: the lookup-table steps."""
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 5, 6], scale=0.05, zero_point=-7)
    a = mb.tensor("a", [1, 5, 6], scale=1 / 256, zero_point=-128)
    mb.op("LOGISTIC", [x], [a])
    b = mb.tensor("b", [1, 5, 6], scale=0.03, zero_point=2)
    mb.op("HARD_SWISH", [x], [b])
    c = mb.tensor("c", [1, 5, 6], scale=0.04, zero_point=-1)
    mb.op("LEAKY_RELU", [b], [c], alpha=0.3)
    k = mb.tensor("k", [6], data=np.arange(-3, 3) * 20, scale=0.02, zero_point=1)
    d = mb.tensor("d", [1, 5, 6], scale=0.02, zero_point=0)
    mb.op("MUL", [c, k], [d], activation="relu6")
    e = mb.tensor("e", [1, 5, 6], scale=0.06, zero_point=4)
    mb.op("SUB", [d, a], [e], activation="none")
    f = mb.tensor("f", [1, 5, 6], "uint8", scale=0.07, zero_point=130)
    mb.op("QUANTIZE", [e], [f])
    g = mb.tensor("g", [1, 5, 6], "float32")
    mb.op("DEQUANTIZE", [f], [g])
    return mb.save(path)


def test_lookup_tables_equal_the_kernels(tmp_path):
    model = reader.load(elementwise_model(tmp_path / "e.tflite"))
    plan = fast.Plan(model, k=4, narrow=["CONV_2D", "MUL", "SUB", "LEAKY_RELU", "QUANTIZE"])
    assert [step.__qualname__.split(".")[0] for step in plan.steps] == ["_unary"] * 3 + ["_binary"] * 2 + ["_unary"] * 2
    x = np.random.default_rng(1).integers(-128, 128, (40, 5, 6)).astype(np.int8)
    for kw in ({}, {"k": 4, "narrow": ["CONV_2D", "MUL", "SUB", "LEAKY_RELU", "QUANTIZE"]}):
        ours, ref = fast.run(model, x, jobs=1, **kw), interpreter.run(model, x, **kw)
        assert ours.dtype == ref.dtype == np.float32
        assert np.array_equal(ours, ref)


def conv_model(path, rng, *, kind, hw, cin, cout, kernel, stride, padding, dilation=1, per_channel=True,
               activation="none", spread=40):
    """One CONV_2D / DEPTHWISE_CONV_2D (or, ``kind="FULLY_CONNECTED"``, a flatten and
    an FC) with random weights, scales and zero points; ``spread`` sets the output
    scale (a small one saturates most outputs)."""
    mb = ModelBuilder()
    sx, zx = np.float32(rng.uniform(0.01, 0.1)), int(rng.integers(-20, 20))
    x = mb.tensor("x", [1, hw, hw, cin], scale=sx, zero_point=zx)
    nsc = cout if per_channel else 1
    sw = np.exp(rng.uniform(np.log(1e-3), np.log(0.05), nsc)).astype(np.float32)
    shape = {"CONV_2D": (cout, kernel, kernel, cin), "DEPTHWISE_CONV_2D": (1, kernel, kernel, cout),
             "FULLY_CONNECTED": (cout, hw * hw * cin)}[kind]
    w = rng.integers(-128, 128, shape).astype(np.int8)
    wt = mb.tensor("w", shape, data=w, scale=sw, zero_point=np.zeros(nsc), axis=3 if kind[0] == "D" else 0)
    bt = mb.tensor("b", [cout], "int32", data=rng.integers(-5000, 5000, cout),
                   scale=(np.float64(sx) * sw).astype(np.float32), zero_point=np.zeros(nsc))
    sy = np.float32(sx * sw.max() * np.sqrt(np.prod(shape[1:])) * spread)
    if kind == "FULLY_CONNECTED":
        y = mb.tensor("y", [1, cout], scale=sy, zero_point=int(rng.integers(-30, 30)))
        mb.op(kind, [x, wt, bt], [y], activation=activation)
        return mb.save(path)
    out_hw = -(-hw // stride) if padding == "same" else (hw - (kernel - 1) * dilation - 1) // stride + 1
    y = mb.tensor("y", [1, out_hw, out_hw, cout], scale=sy, zero_point=int(rng.integers(-30, 30)))
    options = dict(padding=padding, stride_w=stride, stride_h=stride, activation=activation, dilation_w=dilation,
                   dilation_h=dilation)
    if kind == "DEPTHWISE_CONV_2D":
        options["depth_multiplier"] = cout // cin
    mb.op(kind, [x, wt, bt], [y], **options)
    return mb.save(path)


LAYERS = [
    dict(hw=7, cin=3, cout=5, kernel=3, stride=1, padding="same"),
    dict(hw=8, cin=4, cout=6, kernel=3, stride=2, padding="same", activation="relu6"),
    dict(hw=9, cin=2, cout=4, kernel=2, stride=2, padding="valid", activation="relu"),
    dict(hw=9, cin=3, cout=3, kernel=3, stride=1, padding="valid", dilation=2),
    dict(hw=11, cin=5, cout=5, kernel=5, stride=3, padding="same", dilation=2),
    dict(hw=6, cin=4, cout=4, kernel=1, stride=1, padding="same", per_channel=False),
    dict(hw=7, cin=4, cout=4, kernel=1, stride=2, padding="valid"),
    dict(hw=6, cin=2, cout=2, kernel=3, stride=1, padding="same", activation="relu_n1_to_1"),
    dict(hw=8, cin=6, cout=6, kernel=3, stride=2, padding="same", spread=0.5),
    dict(hw=5, cin=3, cout=3, kernel=3, stride=1, padding="valid", activation="relu", spread=2),
]


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
@pytest.mark.parametrize("case", range(len(LAYERS)))
def test_layer_shapes_equal_the_interpreter(kind, case, tmp_path):
    """Strides, dilations, SAME/VALID padding, 1x1 kernels, per-tensor weights, fused
    activations, saturating outputs (and a depth multiplier, which keeps the reference
    kernel); in TFLite mode and at k = 8, 4, 3, truncated and rounded, with and
    without bias compensation."""
    layer = dict(LAYERS[case])
    if kind == "DEPTHWISE_CONV_2D" and layer["cout"] % layer["cin"]:
        layer["cout"] = layer["cin"]
    if kind == "FULLY_CONNECTED":
        layer = {key: layer[key] for key in ("hw", "cin", "cout", "per_channel", "activation", "spread")
                 if key in layer}
        layer.update(kernel=1, stride=1, padding="same")
    rng = np.random.default_rng(case)
    model = reader.load(conv_model(tmp_path / "m.tflite", rng, kind=kind, **layer))
    x = rng.integers(-128, 128, (9, layer["hw"], layer["hw"], layer["cin"])).astype(np.int8)
    multiplier = kind == "DEPTHWISE_CONV_2D" and layer["cout"] != layer["cin"]
    want = "_step" if multiplier else {"CONV_2D": "_conv", "DEPTHWISE_CONV_2D": "_dwconv"}.get(kind, "_fc")
    assert fast.Plan(model).steps[0].__qualname__.split(".")[0] == want
    means = interpreter.calibrate(model, x)
    for kw in ({}, {"k": 8}, {"k": 3}, {"k": 4, "multiplier": "round"}, {"k": 4, "bias_compensation": means},
               {"k": 6, "multiplier": "round", "bias_compensation": means}):
        assert np.array_equal(fast.run(model, x, jobs=1, batch=4, **kw), interpreter.run(model, x, **kw)), kw
