"""The integer-only digits network (:mod:`accuracy.network`): the integer path equals a
layer-by-layer run of the RTL-checked golden functions, quantization round-trips,
and bad model files give one clear error."""

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from accuracy.digits import network
from sim import golden, layers


@pytest.fixture(scope="module")
def test_images(net, data):
    x_test, y_test = data[2:]
    return net.quantize_input(x_test[:12]), y_test[:12]


def golden_layer(ql, x, k, rounding, method):
    """One layer on one image with sim.layers / sim.golden only (no code of accuracy.network)."""
    M = ql.M(method)
    clamp = {"zero_point": ql.y_zero_point, "act_min": ql.act_min, "act_max": ql.act_max}
    if ql.kind == "dense":
        return golden.dot_product(x.reshape(-1), ql.w, ql.b_eff, M, k, rounding=rounding, method=method, **clamp)
    if ql.kind == "conv" and (rounding, method) == ("half_up", "truncate"):
        return layers.conv2d(x, ql.w, ql.b_eff, M, k, stride=ql.stride, padding=ql.padding,
                             input_zero_point=ql.x_zero_point, **clamp)
    if ql.kind == "conv":
        cols, (ho, wo) = layers.im2col(x, ql.w.shape[1:3], stride=ql.stride, padding=ql.padding,
                                       pad_value=ql.x_zero_point)
        y = golden.dot_product(cols, layers.conv_weights_matrix(ql.w), ql.b_eff, M, k,
                               rounding=rounding, method=method, **clamp)
        return y.reshape(ho, wo, -1)
    # depthwise: channel c is a one-channel convolution of input channel c
    out = [golden.dot_product(layers.im2col(x[..., c:c + 1], ql.w.shape[1:3], stride=ql.stride,
                                            padding=ql.padding, pad_value=ql.x_zero_point)[0],
                              ql.w[c].reshape(1, -1), ql.b_eff[c:c + 1], M[c:c + 1], k, rounding=rounding,
                              method=method, zero_point=ql.y_zero_point, act_min=ql.act_min,
                              act_max=ql.act_max)
           for c in range(ql.channels)]
    ho = (x.shape[0] + 2 * ql.padding - ql.w.shape[1]) // ql.stride + 1
    return np.concatenate(out, axis=1).reshape(ho, ho, -1)


@pytest.mark.parametrize("k, rounding, method", [(32, "half_up", "truncate"), (4, "half_up", "truncate"),
                                                 (2, "half_up", "truncate"), (31, "tflite_double", "tflite")])
def test_int8_path_equals_golden_layer_by_layer(net, test_images, k, rounding, method):
    xq = test_images[0]
    trace = network.run_int8(net, xq, k, rounding=rounding, method=method, keep=True)
    for n, img in enumerate(xq):
        x = img
        for ql, t in zip(net.layers, trace):
            y = golden_layer(ql, x, k, rounding, method)
            mine = t["y"].reshape(len(xq), *y.shape)[n]
            np.testing.assert_array_equal(mine, y, err_msg=f"layer {ql.name}, image {n}, k={k}")
            x = y  # the next layer runs on the golden output
    np.testing.assert_array_equal(network.run_int8(net, xq, k, rounding=rounding, method=method),
                                  trace[-1]["y"])


def test_conv_layer_through_the_engine_stream(net, test_images):
    """pw5 as the dot-product engine array computes it (sim.layers' beat schedule, the
    model the cocotb regression checks the RTL against)."""
    k = 4
    trace = network.run_int8(net, test_images[0][:2], k, keep=True)
    ql, t = net.layers[4], trace[4]
    m, s = golden.quantize_multiplier(ql.M(), k)
    sch = layers.matmul_schedule(t["x"], ql.w_matrix, ql.b_eff, m, s, zero_point=ql.y_zero_point,
                                 act_min=ql.act_min, act_max=ql.act_max, macs=8, engines=4)
    np.testing.assert_array_equal(layers.unschedule(sch, layers.run_schedule(sch, k=k)), t["y"])


def test_accuracy_holds_at_k8(net, test_images):
    xq, labels = test_images
    pred32 = network.predict_int8(net, xq, 32)
    assert network.accuracy(pred32, labels) >= 80
    assert np.mean(network.predict_int8(net, xq, 8) == pred32) >= 0.9


def test_quantization_round_trips(net, tmp_path, test_images):
    path = tmp_path / "net.npz"
    network.save(net, path)
    again = network.load(path)
    for a, b in zip(net.layers, again.layers):
        for name in ("w", "w_scale", "bias"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            assert getattr(a, name).dtype == getattr(b, name).dtype
        assert (a.x_scale, a.x_zero_point, a.y_scale, a.y_zero_point, a.act_min, a.act_max) == \
               (b.x_scale, b.x_zero_point, b.y_scale, b.y_zero_point, b.act_min, b.act_max)
    np.testing.assert_array_equal(network.run_int8(again, test_images[0], 4),
                                  network.run_int8(net, test_images[0], 4))
    # int8 weights dequantize to the float weights within half a step
    for ql, (w, b) in zip(net.layers, net.float_params):
        shape = (-1,) + (1,) * (w.ndim - 1)
        deq = ql.w * ql.w_scale.reshape(shape).astype(np.float64)
        assert np.all(np.abs(deq - w) <= ql.w_scale.reshape(shape) * 0.5001 + 1e-7)
        acc_scale = np.float64(ql.x_scale) * ql.w_scale
        assert np.all(np.abs(ql.bias * acc_scale - b) <= acc_scale * 0.5001 + 1e-7)
    # activations: quantize -> dequantize within half a step
    x = np.linspace(0, 1, 101)
    q = net.quantize_input(x)
    assert np.all(np.abs((q - net.input_zero_point) * np.float64(net.input_scale) - x) <= net.input_scale / 2 + 1e-9)


def test_quantize_makes_valid_layers(data):
    x_train = data[0]
    params = network.init_params(3)
    qnet = network.quantize(params, x_train[:50])
    for ql in qnet.layers:
        M = ql.M()
        assert np.all((M > 0) & (M <= 1))
        if ql.act == "relu6":
            assert ql.act_min == max(-128, ql.y_zero_point)


def test_training_is_deterministic_and_gradients_are_right(data):
    x, y = data[:2]
    a = network.train_float(x[:64], y[:64], epochs=1, log=None)
    b = network.train_float(x[:64], y[:64], epochs=1, log=None)
    for (wa, ba), (wb, bb) in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(ba, bb)
    # finite differences on every layer's weights and biases
    out, cache = network.forward(a, x[:4])
    loss, dout = network.softmax_xent(out, y[:4])
    grads = network.backward(cache, dout)
    for i, (w, bias) in enumerate(a):
        for which, arr in ((0, w), (1, bias)):
            flat = np.argsort(-np.abs(grads[i][which]).reshape(-1))[:2]  # largest gradients
            for f in flat:
                idx = np.unravel_index(f, arr.shape)
                eps = 1e-6
                p2 = [list(wb) for wb in a]
                p2[i][which] = arr.copy()
                p2[i][which][idx] += eps
                l2, _ = network.softmax_xent(network.forward(p2, x[:4])[0], y[:4])
                assert (l2 - loss) / eps == pytest.approx(grads[i][which][idx], rel=1e-3, abs=1e-7)


def _write_npz(path, **fields):
    np.savez(path, **fields)
    return path


def test_bad_model_files(net, tmp_path):
    good = tmp_path / "good.npz"
    network.save(net, good)
    data = dict(np.load(good))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    cases = {
        tmp_path / "missing.npz": "no such model file",
        garbage: "not a model file",
        truncated: "not a model file",
        _write_npz(tmp_path / "other.npz", a=np.arange(3)): "not a narrow-rescaler/int8-net file",
        _write_npz(tmp_path / "v2.npz", **{**data, "version": np.array(2)}): "version 2 is not supported",
        _write_npz(tmp_path / "nofield.npz", **{k: v for k, v in data.items() if k != "l2_bias"}):
            "missing field 'l2_bias'",
        _write_npz(tmp_path / "dtype.npz", **{**data, "l0_w": data["l0_w"].astype(np.int16)}): r"conv1.w must be int8",
        _write_npz(tmp_path / "scale.npz", **{**data, "l1_w_scale": -data["l1_w_scale"]}): "positive finite",
        _write_npz(tmp_path / "zp.npz", **{**data, "l3_y_zero_point": np.array(300)}): "not an int8",
        _write_npz(tmp_path / "chain.npz", **{**data, "l2_x_scale": np.float32(1.0)}): "input quantization differs",
    }
    for path, message in cases.items():
        with pytest.raises(network.ModelFileError, match=message):
            network.load(path)
    with zipfile.ZipFile(good) as z:
        assert "format.npy" in z.namelist()


def test_cli_bad_model_is_one_error_line(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("nope")
    r = subprocess.run([sys.executable, "-m", "accuracy", "accuracy", "--model", str(bad)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: {bad}: not a model file (.npz): "
                                             + r.stderr.split("(.npz): ", 1)[1].strip()]
    r = subprocess.run([sys.executable, "-m", "accuracy", "accuracy", "--k", "40"], capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "k must be an integer in 2..32, not 40" in r.stderr


def test_accuracy_report_small(tmp_path):
    from accuracy.digits import experiments
    lines = []
    r = experiments.accuracy_report(ks=(32, 8, 2), limit=60, out_dir=tmp_path / "new", log=lines.append,
                                   rounding="half_even")
    assert [row["k"] for row in r["rows"]] == [32, 8, 2]
    for name in ("accuracy.json", "accuracy.md", "accuracy.png", "accuracy_error_model.png"):
        assert (tmp_path / "new" / name).stat().st_size > 0
    assert any("k= 8" in line for line in lines)  # progress output
    assert r["rows"][0]["drop_vs_k32"] == 0
