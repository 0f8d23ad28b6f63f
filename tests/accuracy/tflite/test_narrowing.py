"""Which ops a k-bit run narrows, the rounded multiplier, bias compensation, and the
``evaluate`` options that expose them (``--narrow``, ``--multiplier``,
``--bias-compensation``, ``--save-outputs``, ``--supported-ops``)."""

import numpy as np
import pytest

from accuracy.tflite import interpreter, litert, reader
from accuracy.tflite.writer import ModelBuilder
from sim import golden

REASON = litert.litert_available()
needs_tflite = pytest.mark.skipif(REASON is not None, reason=f"the tflite package cannot be used here: {REASON}")


def fc_add_model(path, *, seed=0):
    """x -> FULLY_CONNECTED -> ADD (with a constant) -> output."""
    rng = np.random.default_rng(seed)
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 16], scale=0.05, zero_point=3)
    sw = np.exp(rng.uniform(np.log(1e-3), np.log(0.02), 6)).astype(np.float32)
    wt = mb.tensor("w", [6, 16], data=rng.integers(-128, 128, (6, 16)), scale=sw, zero_point=np.zeros(6), axis=0)
    bt = mb.tensor("b", [6], "int32", data=rng.integers(-3000, 3000, 6), scale=(0.05 * sw.astype(np.float64)),
                   zero_point=np.zeros(6))
    h = mb.tensor("h", [1, 6], scale=0.09, zero_point=-5)
    mb.op("FULLY_CONNECTED", [x, wt, bt], [h], activation="none")
    c = mb.tensor("c", [1, 6], data=rng.integers(-128, 128, (1, 6)), scale=0.04, zero_point=2)
    y = mb.tensor("y", [1, 6], scale=0.11, zero_point=1)
    mb.op("ADD", [h, c], [y], activation="none")
    return mb.save(path)


@needs_tflite
def test_narrow_changes_only_the_named_ops(tmp_path):
    model = reader.load(fc_add_model(tmp_path / "m.tflite"))
    x = np.random.default_rng(1).integers(-128, 128, (200, 16)).astype(np.int8)
    ref = interpreter.run(model, x, keep=True)
    fc_only = interpreter.run(model, x, k=3, keep=True)
    add_only = interpreter.run(model, x, k=3, narrow=["ADD"], keep=True)
    h, y = model.ops[0].outputs[0], model.ops[1].outputs[0]
    assert not np.array_equal(fc_only[h], ref[h])              # default: the dot-product layer
    assert np.array_equal(add_only[h], ref[h])                 # ADD alone: FC keeps TFLite's arithmetic
    assert not np.array_equal(add_only[y], ref[y])
    with pytest.raises(ValueError, match="cannot narrow SOFTMAX"):
        interpreter.run(model, x, k=3, narrow=["SOFTMAX"])


@needs_tflite
@pytest.mark.parametrize("multiplier, method", [("truncate", "truncate"), ("round", "nearest")])
def test_multiplier_choice_is_the_golden_quantizer(multiplier, method, tmp_path):
    """The FC layer at k bits equals sim.golden's rescale of its TFLite-mode accumulators
    with quantize_multiplier(M, k, method)."""
    model = reader.load(fc_add_model(tmp_path / "m.tflite"))
    op = model.ops[0]
    x = np.random.default_rng(2).integers(-128, 128, (100, 16)).astype(np.int8)
    w, b = model.tensors[op.inputs[1]], model.tensors[op.inputs[2]]
    acc = golden.accumulate(x, w.data, b.data.astype(np.int64) - 3 * w.data.astype(np.int64).sum(1))
    M = np.float64(np.float32(0.05)) * w.scale.astype(np.float64) / np.float64(np.float32(0.09))
    for k in (3, 5, 8):
        m, s = golden.quantize_multiplier(M.astype(np.float32), k, method=method)
        expected = golden.rescale(acc, m, s, zero_point=-5, k=k)
        got = interpreter.run(model, x, k=k, multiplier=multiplier, keep=True)[op.outputs[0]]
        assert np.array_equal(got, expected)


@needs_tflite
def test_bias_compensation_folds_the_expected_error_into_b_eff(tmp_path):
    model = reader.load(fc_add_model(tmp_path / "m.tflite"))
    op = model.ops[0]
    rng = np.random.default_rng(3)
    x = np.clip(rng.normal(40, 30, (400, 16)), -128, 127).astype(np.int8)  # a nonzero mean accumulator
    means = interpreter.calibrate(model, x)
    assert set(means) == {op.index} and means[op.index].shape == (6,)
    w, b = model.tensors[op.inputs[1]], model.tensors[op.inputs[2]]
    acc = golden.accumulate(x, w.data, b.data.astype(np.int64) - 3 * w.data.astype(np.int64).sum(1))
    y = interpreter.run(model, x, keep=True)[op.outputs[0]]
    seen = (y > -128) & (y < 127)  # the outputs the clamp lets through: only their error shows
    assert (~seen).any() and seen.any(axis=0).all()
    assert np.allclose(means[op.index], (acc * seen).sum(axis=0) / seen.sum(axis=0))
    k = 3
    M = np.float64(np.float32(0.05)) * w.scale.astype(np.float64) / np.float64(np.float32(0.09))
    m, s = golden.quantize_multiplier(M.astype(np.float32), k)
    Mq = np.ldexp(m.astype(np.float64), -s)
    d = np.rint(means[op.index] * (M - Mq) / Mq).astype(np.int64)
    expected = golden.rescale(acc + d, m, s, zero_point=-5, k=k)
    got = interpreter.run(model, x, k=k, bias_compensation=means, keep=True)
    assert np.array_equal(got[op.outputs[0]], expected)
    # the shrink toward the zero point is gone on average: mean signed error vs TFLite mode
    ref = interpreter.run(model, x, keep=True)[op.outputs[0]].astype(np.float64)
    plain = interpreter.run(model, x, k=k, keep=True)[op.outputs[0]].astype(np.float64)
    assert abs((got[op.outputs[0]] - ref).mean()) < abs((plain - ref).mean())


@needs_tflite
def test_cli_options(tmp_path, capsys):
    from accuracy.__main__ import main
    path = fc_add_model(tmp_path / "m.tflite")
    npz = tmp_path / "d.npz"
    x = np.random.default_rng(4).integers(-128, 128, (50, 16)).astype(np.int8)
    np.savez(npz, x=x, y=np.arange(50) % 6)
    out = tmp_path / "outs.npz"
    assert main(["evaluate", str(path), "--data", str(npz), "--k", "8,4", "--narrow", "add",
                 "--multiplier", "round", "--bias-compensation", "--save-outputs", str(out)]) == 0
    text = capsys.readouterr().out
    assert "k-bit multipliers (round, bias-compensated" in text and "ADD" in text and "FULLY_CONNECTED" in text
    assert "did not compare with LiteRT" in text and "bit-exact" not in text
    with np.load(out) as z:
        assert sorted(z.files) == ["k4_out0", "k8_out0", "tflite_out0"]
        assert z["tflite_out0"].dtype == np.int8 and z["tflite_out0"].shape == (50, 6)
        model = reader.load(path)
        assert np.array_equal(z["tflite_out0"], interpreter.run(model, x))
        assert np.array_equal(z["k4_out0"], interpreter.run(model, x, k=4, narrow=["ADD", "FULLY_CONNECTED"],
                                                            multiplier="round",
                                                            bias_compensation=interpreter.calibrate(model, x)))
    assert main(["evaluate", str(path), "--supported-ops"]) == 0
    text = capsys.readouterr().out
    assert "FULLY_CONNECTED" in text and "yes" in text and "2 run, 0 do not" in text
    blocked = tmp_path / "folder.npz"
    blocked.mkdir()
    for argv, message in [(["--narrow", "SOFTMAX"], "--narrow: cannot narrow SOFTMAX"),
                          (["--save-outputs", str(blocked)], str(blocked)),
                          (["--calibration", str(npz)], "--calibration is only used with --bias-compensation")]:
        assert main(["evaluate", str(path), "--data", str(npz), "--k", "4"] + argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def sum_model(path):
    """x (Sx = 0.02, Zx = -5) -> SUM over the last axis, keep_dims -> y (Sy = 0.07, Zy = 4)."""
    mb = ModelBuilder()
    x = mb.tensor("x", [1, 3, 4], scale=0.02, zero_point=-5)
    axes = mb.tensor("axes", [1], "int32", data=[2])
    y = mb.tensor("y", [1, 3, 1], scale=0.07, zero_point=4)
    mb.op("SUM", [x, axes], [y], keep_dims=True)
    return mb.save(path)


@needs_tflite
@pytest.mark.parametrize("multiplier, method", [("truncate", "truncate"), ("round", "nearest")])
def test_narrow_sum_gives_it_the_k_bit_rescale(multiplier, method, tmp_path):
    """SUM keeps LiteRT's float32 arithmetic unless named in ``narrow``; named, its sum
    of ``x - Zx`` is sim.golden's k-bit rescale by ``Sx/Sy``."""
    model = reader.load(sum_model(tmp_path / "s.tflite"))
    xs = np.random.default_rng(5).integers(-128, 128, (300, 3, 4)).astype(np.int8)
    ref = interpreter.run(model, xs)
    assert np.array_equal(interpreter.run(model, xs, k=3, multiplier=multiplier), ref)  # not narrowed by default
    acc = (xs.astype(np.int64) + 5).sum(axis=2, keepdims=True)
    for k in (3, 5, 8):
        M = np.float64(np.float32(0.02)) / np.float64(np.float32(0.07))
        m, s = golden.quantize_multiplier(np.float32(M), k, method=method)
        got = interpreter.run(model, xs, k=k, narrow=["SUM"], multiplier=multiplier)
        assert np.array_equal(got, golden.rescale(acc, m, s, zero_point=4, k=k))
    assert not np.array_equal(interpreter.run(model, xs, k=3, narrow=["SUM"]), ref)


@needs_tflite
def test_cli_narrows_sum_and_says_which_kernel_it_follows(tmp_path, capsys):
    from accuracy.__main__ import main
    path = sum_model(tmp_path / "s.tflite")
    npz = tmp_path / "d.npz"
    np.savez(npz, x=np.random.default_rng(6).integers(-128, 128, (40, 3, 4)).astype(np.int8))
    assert main(["evaluate", str(path), "--supported-ops"]) == 0
    assert "ops with a rescale --narrow can give k bits: SUM" in capsys.readouterr().out
    assert main(["evaluate", str(path), "--data", str(npz), "--k", "3", "--narrow", "sum"]) == 0
    text = capsys.readouterr().out
    assert "SUM: its optimized kernel" in text and "k-bit multipliers (truncate) in: " in text
    assert "SUM" in text.split("k-bit multipliers (truncate) in: ")[1].split(";")[0]
