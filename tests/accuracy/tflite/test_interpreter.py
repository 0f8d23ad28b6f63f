"""accuracy.tflite.interpreter in TFLite mode against LiteRT's reference kernels, op by op.

Every supported op runs in small models with random shapes, scales and zero points,
and in exact-tie vectors (values exactly half-way between two outputs), through LiteRT
(``BUILTIN_REF``) and through the integer interpreter: the outputs must be equal bit
for bit. Bad files give one ModelError line."""

from fractions import Fraction

import numpy as np
import pytest

from accuracy.digits import litert as digits_litert
from accuracy.tflite import interpreter, litert, reader, support
from accuracy.tflite.quant import round_away
from accuracy.tflite.writer import ModelBuilder

REASON = litert.litert_available()
needs_litert = pytest.mark.skipif(REASON is not None, reason=f"LiteRT cannot be used here: {REASON}")


def check(mb, path, x, *, out=None):
    """Save ``mb``, run ``x`` through LiteRT and the interpreter, assert equality; return both."""
    mb.save(path, outputs=None if out is None else [out])
    model = reader.load(path)
    ours = interpreter.run(model, x)
    lite = litert.run_litert(path, x)[model.tensors[model.outputs[0]].name]
    assert ours.shape == lite.shape, (ours.shape, lite.shape)
    assert ours.dtype == lite.dtype
    diff = ours.astype(np.float64) != lite.astype(np.float64)
    assert not diff.any(), f"{int(diff.sum())} of {diff.size} differ: ours {ours[diff][:8]}, LiteRT {lite[diff][:8]}"
    return ours, lite


def int8(rng, *shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


def scales(rng, n):
    return np.exp(rng.uniform(np.log(1e-3), np.log(0.05), n)).astype(np.float32)


def conv_model(rng, *, kind, hw, cin, cout, kernel, stride, padding, dilation=1, per_channel=True,
               activation="none", zx=None, zy=None):
    mb = ModelBuilder()
    sx = np.float32(rng.uniform(0.01, 0.1))
    zx = int(rng.integers(-20, 20)) if zx is None else zx
    x = mb.tensor("x", [1, hw, hw, cin], scale=sx, zero_point=zx)
    nsc = cout if per_channel else 1
    sw = scales(rng, nsc)
    if kind == "CONV_2D":
        w = int8(rng, cout, kernel, kernel, cin)
        wt = mb.tensor("w", w.shape, data=w, scale=sw, zero_point=np.zeros(nsc), axis=0)
    else:
        w = int8(rng, 1, kernel, kernel, cout)
        wt = mb.tensor("w", w.shape, data=w, scale=sw, zero_point=np.zeros(nsc), axis=3)
    bias = rng.integers(-5000, 5000, cout)
    bt = mb.tensor("b", [cout], "int32", data=bias, scale=(np.float64(sx) * sw).astype(np.float32),
                   zero_point=np.zeros(nsc))
    # an output scale that keeps most outputs inside int8
    sy = np.float32(sx * sw.max() * np.sqrt(kernel * kernel * cin) * 40)
    zy = int(rng.integers(-30, 30)) if zy is None else zy
    out_hw = -(-hw // stride) if padding == "same" else (hw - (kernel - 1) * dilation - 1) // stride + 1
    y = mb.tensor("y", [1, out_hw, out_hw, cout], scale=sy, zero_point=zy)
    opts = dict(padding=padding, stride_w=stride, stride_h=stride, activation=activation,
                dilation_w=dilation, dilation_h=dilation)
    if kind == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = cout // cin
    mb.op(kind, [x, wt, bt], [y], **opts)
    return mb


CONV_CASES = [
    dict(hw=7, cin=3, cout=5, kernel=3, stride=1, padding="same"),
    dict(hw=8, cin=4, cout=6, kernel=3, stride=2, padding="same", activation="relu6"),
    dict(hw=9, cin=2, cout=4, kernel=2, stride=2, padding="valid", activation="relu"),
    dict(hw=9, cin=3, cout=3, kernel=3, stride=1, padding="valid", dilation=2),
    dict(hw=6, cin=4, cout=4, kernel=1, stride=1, padding="same", per_channel=False),
    dict(hw=6, cin=2, cout=2, kernel=3, stride=1, padding="same", activation="relu_n1_to_1"),
]


@needs_litert
@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_convolutions_bit_exact(kind, case, tmp_path):
    rng = np.random.default_rng(100 + case)
    cfg = dict(CONV_CASES[case])
    if kind == "DEPTHWISE_CONV_2D":
        cfg["cout"] = cfg["cin"] * (1 + case % 2)  # depth multiplier 1 or 2
    mb = conv_model(rng, kind=kind, **cfg)
    check(mb, tmp_path / "m.tflite", int8(rng, 6, cfg["hw"], cfg["hw"], cfg["cin"]))


def fc_model(rng, *, length, c, per_channel=True, activation="none", zx=3, zy=-4, in_shape=None):
    mb = ModelBuilder()
    sx = np.float32(rng.uniform(0.01, 0.1))
    x = mb.tensor("x", in_shape or [1, length], scale=sx, zero_point=zx)
    nsc = c if per_channel else 1
    sw = scales(rng, nsc)
    w = int8(rng, c, length)
    wt = mb.tensor("w", w.shape, data=w, scale=sw, zero_point=np.zeros(nsc), axis=0)
    bt = mb.tensor("b", [c], "int32", data=rng.integers(-5000, 5000, c),
                   scale=(np.float64(sx) * sw).astype(np.float32), zero_point=np.zeros(nsc))
    y = mb.tensor("y", [1, c], scale=np.float32(sx * sw.max() * np.sqrt(length) * 40), zero_point=zy)
    mb.op("FULLY_CONNECTED", [x, wt, bt], [y], activation=activation)
    return mb


@needs_litert
@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("activation", ["none", "relu"])
def test_fully_connected_bit_exact(per_channel, activation, tmp_path):
    rng = np.random.default_rng(7 + per_channel)
    mb = fc_model(rng, length=40, c=10, per_channel=per_channel, activation=activation)
    check(mb, tmp_path / "m.tflite", int8(rng, 20, 40))
    # a 4-D input flattened by the op itself
    mb = fc_model(rng, length=48, c=5, per_channel=per_channel, in_shape=[1, 4, 4, 3])
    check(mb, tmp_path / "m4.tflite", int8(rng, 10, 4, 4, 3))


# --- exact ties, per op type ---------------------------------------------------------------

def tie_model(kind, M, bias):
    """One output channel per (M, bias) pair, zero weights: acc = bias exactly, M per channel."""
    M = np.asarray(M, np.float32)
    c = M.size
    mb = ModelBuilder()
    if kind == "FULLY_CONNECTED":
        x = mb.tensor("x", [1, 1], scale=1.0, zero_point=0)
        wt = mb.tensor("w", [c, 1], data=np.zeros((c, 1)), scale=M, zero_point=np.zeros(c), axis=0)
        y = mb.tensor("y", [1, c], scale=1.0, zero_point=0)
    else:
        cin = 1 if kind == "CONV_2D" else c
        x = mb.tensor("x", [1, 1, 1, cin], scale=1.0, zero_point=0)
        shape, axis = ([c, 1, 1, 1], 0) if kind == "CONV_2D" else ([1, 1, 1, c], 3)
        wt = mb.tensor("w", shape, data=np.zeros(shape), scale=M, zero_point=np.zeros(c), axis=axis)
        y = mb.tensor("y", [1, 1, 1, c], scale=1.0, zero_point=0)
    bt = mb.tensor("b", [c], "int32", data=bias, scale=M, zero_point=np.zeros(c))
    opts = {"activation": "none"}
    if kind != "FULLY_CONNECTED":
        opts.update(padding="valid", stride_w=1, stride_h=1)
    if kind == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = 1
    mb.op(kind, [x, wt, bt], [y], **opts)
    return mb


# (M, acc): TFLite's double rounding (convolutions), its single rounding ties away (FC)
TIES = [(0.5, -1, 0, -1), (0.125, -948, -119, -119), (0.25, -2, -1, -1), (0.5, 1, 1, 1),
        (0.5, -3, -1, -2), (0.5, 3, 2, 2), (0.25, -6, -2, -2), (2.0**-20, 3 << 19, 2, 2),
        (2.0**-20, -(3 << 19), -2, -2), (2.0**-30, 1 << 29, 1, 1), (2.0**-31, -(1 << 30), -1, -1)]


@needs_litert
@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
def test_rescaled_ops_exact_ties(kind, tmp_path):
    M, acc, double, single = (np.array(v) for v in zip(*TIES))
    mb = tie_model(kind, M, acc)
    x = np.zeros((1, 1) if kind == "FULLY_CONNECTED" else (1, 1, 1, 1 if kind == "CONV_2D" else M.size), np.int8)
    ours, lite = check(mb, tmp_path / "t.tflite", x)
    expected = single if kind == "FULLY_CONNECTED" else double
    assert lite.reshape(-1).tolist() == expected.tolist()
    # the paper's half-up rescaler differs from LiteRT on negative ties
    paper = interpreter.run(reader.load(tmp_path / "t.tflite"), x, k=32).reshape(-1)
    assert paper[0] == 0 and lite.reshape(-1)[2] == -1 and paper[2] == 0


def single_op(op, in_shape, out_shape, *, sx=0.05, zx=0, sy=None, zy=None, **options):
    mb = ModelBuilder()
    x = mb.tensor("x", in_shape, scale=sx, zero_point=zx)
    y = mb.tensor("y", out_shape, scale=sx if sy is None else sy, zero_point=zx if zy is None else zy)
    mb.op(op, [x], [y], **options)
    return mb


@needs_litert
@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("padding, stride, size", [("valid", 2, 2), ("same", 2, 3), ("same", 1, 3), ("valid", 1, 2)])
def test_pools_bit_exact(op, padding, stride, size, tmp_path):
    rng = np.random.default_rng(3)
    hw = 7
    out = -(-hw // stride) if padding == "same" else (hw - size) // stride + 1
    mb = single_op(op, [1, hw, hw, 3], [1, out, out, 3], zx=-5, padding=padding, stride_w=stride,
                   stride_h=stride, filter_w=size, filter_h=size, activation="relu6")
    check(mb, tmp_path / "p.tflite", int8(rng, 8, hw, hw, 3))


@needs_litert
def test_average_pool_exact_ties(tmp_path):
    """Windows of 2 whose sums are odd: x.5 exactly, rounded away from zero."""
    mb = single_op("AVERAGE_POOL_2D", [1, 1, 8, 1], [1, 1, 4, 1], padding="valid", stride_w=2, stride_h=1,
                   filter_w=2, filter_h=1)
    x = np.array([-1, 0, 1, 0, -3, 0, 5, 0], np.int8).reshape(1, 1, 8, 1)
    ours, lite = check(mb, tmp_path / "a.tflite", x)
    assert lite.reshape(-1).tolist() == [-1, 1, -2, 3]


@needs_litert
@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize("ratio, hw", [(1.0, 4), (0.37, 4), (0.5, 4), (3.0, 4), (0.8, 7), (1.0, 1)])
def test_mean_bit_exact(keep_dims, ratio, hw, tmp_path):
    rng = np.random.default_rng(int(ratio * 100) + keep_dims)
    mb = ModelBuilder()
    x = mb.tensor("x", [1, hw, hw, 6], scale=0.05, zero_point=-7)
    axes = mb.tensor("axes", [2], "int32", data=[1, 2])
    y = mb.tensor("y", [1, 1, 1, 6] if keep_dims else [1, 6], scale=np.float32(0.05 / ratio), zero_point=3)
    mb.op("MEAN", [x, axes], [y], keep_dims=keep_dims)
    check(mb, tmp_path / "m.tflite", int8(rng, 10, hw, hw, 6))


@needs_litert
def test_mean_exact_ties(tmp_path):
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 2, 1, 4], scale=0.05, zero_point=0)
    axes = mb.tensor("axes", [2], "int32", data=[1, 2])
    y = mb.tensor("y", [1, 1, 1, 4], scale=0.05, zero_point=0)
    mb.op("MEAN", [x, axes], [y], keep_dims=True)
    x = np.array([[-1, 1, -3, 3], [0, 0, 0, 0]], np.int8).reshape(1, 2, 1, 4)
    ours, lite = check(mb, tmp_path / "t.tflite", x)
    # -0.5 -> 0, 0.5 -> 1, -1.5 -> -1, 1.5 -> 2: one double rounding whose first step
    # (SaturatingRoundingDoublingHighMul) rounds ties up, unlike AVERAGE_POOL_2D
    assert lite.reshape(-1).tolist() == [0, 1, -1, 2]


@needs_litert
@pytest.mark.parametrize("s1, s2, sy", [(0.05, 0.05, 0.1), (0.02, 0.07, 0.05), (0.1, 0.01, 0.3)])
def test_add_bit_exact(s1, s2, sy, tmp_path):
    rng = np.random.default_rng(int(s2 * 1000))
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 5, 5, 4], scale=s1, zero_point=4)
    c = mb.tensor("c", [1, 5, 5, 4], data=int8(rng, 1, 5, 5, 4), scale=s2, zero_point=-9)
    y = mb.tensor("y", [1, 5, 5, 4], scale=sy, zero_point=-2)
    mb.op("ADD", [x, c], [y], activation="none")
    check(mb, tmp_path / "a.tflite", int8(rng, 6, 5, 5, 4))


@needs_litert
def test_add_exact_ties(tmp_path):
    """Equal input scales and an output scale twice as coarse: every odd sum is a tie."""
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 8], scale=0.05, zero_point=0)
    c = mb.tensor("c", [1, 8], data=np.zeros((1, 8)), scale=0.05, zero_point=0)
    y = mb.tensor("y", [1, 8], scale=0.1, zero_point=0)
    mb.op("ADD", [x, c], [y], activation="none")
    x = np.array([[-1, 1, -3, 3, -5, 5, 127, -128]], np.int8)
    ours, lite = check(mb, tmp_path / "t.tflite", x)
    # -0.5, 0.5, -1.5, 1.5, -2.5, 2.5, 63.5, -64: ties away from zero (the output rescale's
    # RoundingDivideByPOT), unlike the paper's half up
    assert lite.reshape(-1).tolist() == [-1, 1, -2, 2, -3, 3, 64, -64]


@needs_litert
def test_residual_block_with_reshape_concat_quantize(tmp_path):
    """float -> QUANTIZE -> conv -> ADD (residual) -> CONCATENATION -> RESHAPE -> FC ->
    DEQUANTIZE: the ops chained, as in a real network."""
    rng = np.random.default_rng(11)
    mb = ModelBuilder()
    xf = mb.tensor("xf", [1, 4, 4, 2], "float32")
    xq = mb.tensor("xq", [1, 4, 4, 2], scale=0.03, zero_point=-3)
    mb.op("QUANTIZE", [xf], [xq])
    w = int8(rng, 2, 3, 3, 2)
    sw = scales(rng, 2)
    wt = mb.tensor("w", w.shape, data=w, scale=sw, zero_point=[0, 0], axis=0)
    bt = mb.tensor("b", [2], "int32", data=[100, -100], scale=(0.03 * sw.astype(np.float64)).astype(np.float32),
                   zero_point=[0, 0])
    h = mb.tensor("h", [1, 4, 4, 2], scale=0.04, zero_point=5)
    mb.op("CONV_2D", [xq, wt, bt], [h], padding="same", stride_w=1, stride_h=1, activation="relu")
    r = mb.tensor("r", [1, 4, 4, 2], scale=0.05, zero_point=1)
    mb.op("ADD", [xq, h], [r], activation="none")
    cat = mb.tensor("cat", [1, 4, 4, 4], scale=0.05, zero_point=1)
    mb.op("CONCATENATION", [r, r], [cat], axis=3, activation="none")
    shp = mb.tensor("shape", [2], "int32", data=[1, 64])
    flat = mb.tensor("flat", [1, 64], scale=0.05, zero_point=1)
    mb.op("RESHAPE", [cat, shp], [flat], new_shape=[1, 64])
    w2 = int8(rng, 3, 64)
    wt2 = mb.tensor("w2", w2.shape, data=w2, scale=[0.01, 0.02, 0.015], zero_point=[0, 0, 0], axis=0)
    bt2 = mb.tensor("b2", [3], "int32", data=[1, 2, 3], scale=[0.0005, 0.001, 0.00075], zero_point=[0, 0, 0])
    logits = mb.tensor("logits", [1, 3], scale=0.2, zero_point=0)
    mb.op("FULLY_CONNECTED", [flat, wt2, bt2], [logits], activation="none")
    yf = mb.tensor("yf", [1, 3], "float32")
    mb.op("DEQUANTIZE", [logits], [yf])
    x = rng.normal(0, 1.5, (12, 4, 4, 2)).astype(np.float32)
    x[0, 0, 0, 0] = 0.015  # exactly half a quantization step: QUANTIZE rounds away from zero
    check(mb, tmp_path / "r.tflite", x)


@needs_litert
def test_requantize_bit_exact(tmp_path):
    rng = np.random.default_rng(4)
    mb = single_op("QUANTIZE", [1, 16], [1, 16], sx=0.02, zx=3, sy=0.07, zy=-5)
    check(mb, tmp_path / "q.tflite", int8(rng, 20, 16))


@needs_litert
def test_exported_digits_network_bit_exact(net, data, tmp_path):
    path = digits_litert.export(net, tmp_path / "digits.tflite")
    xq = net.quantize_input(data[2][:20])
    model = reader.load(path)
    lite = litert.run_litert(path, xq)[model.tensors[model.outputs[0]].name]
    assert np.array_equal(interpreter.run(model, xq), lite)


# --- bad files ------------------------------------------------------------------------------

@pytest.fixture
def good_file(tmp_path):
    rng = np.random.default_rng(0)
    return fc_model(rng, length=8, c=3).save(tmp_path / "good.tflite")


def test_errors_name_the_problem(good_file, tmp_path):
    if litert.litert_available():
        pytest.skip("needs the tflite package")
    raw = good_file.read_bytes()
    cases = {"folder": (tmp_path, "is a folder"),
             "missing": (tmp_path / "nope.tflite", "cannot read"),
             "empty": (tmp_path / "empty.tflite", "empty file"),
             "not tflite": (tmp_path / "text.tflite", "not a TFLite flatbuffer"),
             "truncated": (tmp_path / "trunc.tflite", "truncated or corrupt")}
    (tmp_path / "empty.tflite").write_bytes(b"")
    (tmp_path / "text.tflite").write_bytes(b"hello world, not a model")
    (tmp_path / "trunc.tflite").write_bytes(raw[:len(raw) // 2])
    for name, (path, message) in cases.items():
        with pytest.raises(reader.ModelError, match=message) as info:
            reader.load(path)
        assert "\n" not in str(info.value), name


def test_corrupt_files_never_traceback(good_file, tmp_path):
    """Random byte corruption: either a model that loads, or one ModelError."""
    if litert.litert_available():
        pytest.skip("needs the tflite package")
    raw = bytearray(good_file.read_bytes())
    rng = np.random.default_rng(1)
    for trial in range(60):
        bad = bytearray(raw)
        for i in rng.integers(8, len(raw), 6):
            bad[i] = int(rng.integers(0, 256))
        if trial % 3 == 0:
            bad = bad[:int(rng.integers(8, len(raw)))]
        path = tmp_path / f"c{trial}.tflite"
        path.write_bytes(bytes(bad))
        try:
            model = reader.load(path)
            interpreter.run(model, np.zeros((1,) + tuple(model.tensors[model.inputs[0]].shape[1:]), np.int8))
        except reader.ModelError as exc:
            assert "\n" not in str(exc)


def test_unsupported_op_names_op_and_layer(tmp_path):
    if litert.litert_available():
        pytest.skip("needs the tflite package")
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 4], scale=0.1, zero_point=0)
    y = mb.tensor("head/exp", [1, 4], scale=1 / 256, zero_point=-128)
    mb.op("EXP", [x], [y])
    path = mb.save(tmp_path / "u.tflite")
    with pytest.raises(reader.ModelError, match=r"EXP x1 \(no kernel for this op\)"):
        support.load(path)
    model = reader.load(path)  # readable, but running it names the op and its layer
    with pytest.raises(reader.ModelError, match=r"op 0 \(EXP, output 'head/exp'\) is not supported"):
        interpreter.run(model, np.zeros((1, 4), np.int8))


# --- the digits network and the command line -------------------------------------------------

@needs_litert
@pytest.mark.parametrize("k", [32, 4])
def test_paper_mode_equals_network_integer_path(net, data, tmp_path, k):
    """With k set, the interpreter computes what accuracy.network.run_int8 computes."""
    from accuracy.digits import network
    model = reader.load(digits_litert.export(net, tmp_path / "digits.tflite"))
    xq = net.quantize_input(data[2][:40])
    assert np.array_equal(interpreter.run(model, xq, k=k).astype(np.int64), network.run_int8(net, xq, k))


@needs_litert
def test_cli_evaluate(net, data, tmp_path, capsys):
    from accuracy.__main__ import main
    model = digits_litert.export(net, tmp_path / "digits.tflite")
    npz = tmp_path / "d.npz"
    np.savez(npz, x=net.quantize_input(data[2][:30]), y=data[3][:30])
    assert main(["evaluate", str(model), "--data", str(npz), "--k", "8,3", "--labels",
                 "--out", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "TFLite" in out and "k=8" in out and "k=3" in out and "McNemar" in out
    assert sum(line.startswith("labels ") for line in out.splitlines()) == 3
    assert (tmp_path / "r.json").stat().st_size > 0
    (tmp_path / "empty.tflite").write_bytes(b"")
    (tmp_path / "trunc.tflite").write_bytes(model.read_bytes()[:2000])
    mb = ModelBuilder()
    mb.op("EXP", [mb.tensor("x", [1, 4], scale=0.1)], [mb.tensor("act/exp", [1, 4], scale=1 / 256)])
    mb.save(tmp_path / "unsupported.tflite")
    for bad, message in [(tmp_path, "is a folder"), (tmp_path / "empty.tflite", "empty file"),
                         (tmp_path / "trunc.tflite", "truncated or corrupt"),
                         (tmp_path / "unsupported.tflite", "EXP x1 (no kernel for this op)")]:
        assert main(["evaluate", str(bad), "--data", str(npz)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    corrupt = bytearray(model.read_bytes())  # the 'TFL3' header intact, the tables overwritten
    corrupt[100:] = np.random.default_rng(0).integers(0, 256, len(corrupt) - 100, dtype=np.uint8).tobytes()
    (tmp_path / "corrupt.tflite").write_bytes(corrupt)
    assert main(["evaluate", str(tmp_path / "corrupt.tflite"), "--data", str(npz)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for bad_data in (tmp_path / "digits.tflite", tmp_path):
        assert main(["evaluate", str(model), "--data", str(bad_data)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_away_is_std_round_also_next_to_halves(dtype):
    """Ties away from zero, and the values one step either side of every tie rounded
    as exact arithmetic does (``floor(|v| + 0.5)`` turns the float just below 0.5 into 1)."""
    halves = (np.arange(-300, 300) + 0.5).astype(dtype)
    v = np.concatenate([halves, np.nextafter(halves, dtype(np.inf)), np.nextafter(halves, dtype(-np.inf)),
                        np.random.default_rng(0).uniform(-1e6, 1e6, 2000).astype(dtype), np.zeros(1, dtype)])
    exact = [int(np.sign(x)) * int(abs(Fraction(float(x))) + Fraction(1, 2)) for x in v]
    got = round_away(v)
    assert got.dtype == dtype and got.tolist() == exact
    assert round_away(np.nextafter(dtype(0.5), dtype(0))) == 0
