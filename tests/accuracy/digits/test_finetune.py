"""Rescale-aware fine-tuning (:mod:`accuracy.finetune`): the float64 emulation is the integer
path bit for bit, and fine-tuning changes only the integer weights."""

import numpy as np
import pytest

from accuracy.digits import finetune, network


@pytest.mark.parametrize("k", [2, 3, 4, 8, 16])
def test_emulation_is_the_integer_path(net, data, k):
    xq = net.quantize_input(data[2][:40])
    emulated, _ = network.forward(net.int_params(), xq.astype(np.float64), quant=network.emulation(net, k))
    np.testing.assert_array_equal(emulated, network.run_int8(net, xq, k))


def test_finetune_changes_weights_only(net, data):
    x_train, y_train, x_test, y_test = data
    tuned, history = finetune.finetune(net, x_train[:96], y_train[:96], 3, epochs=1, lr=3000.0,
                                       eval_set=(x_test[:50], y_test[:50]), log=None)
    assert len(history) == 1 and {"epoch", "loss", "accuracy"} <= set(history[0])
    change = finetune.weight_change(net, tuned)
    assert 0 < change["changed"] < change["weights"]
    for a, b in zip(net.layers, tuned.layers):
        assert b.w.dtype == np.int8 and np.all(np.abs(b.w.astype(int)) <= 127)
        np.testing.assert_array_equal(a.bias, b.bias)
        np.testing.assert_array_equal(a.w_scale, b.w_scale)
        assert (a.x_scale, a.y_scale, a.y_zero_point) == (b.x_scale, b.y_scale, b.y_zero_point)
    # the emulation of the tuned network is still its integer path
    xq = tuned.quantize_input(x_test[:20])
    emulated, _ = network.forward(tuned.int_params(), xq.astype(np.float64), quant=network.emulation(tuned, 3))
    np.testing.assert_array_equal(emulated, network.run_int8(tuned, xq, 3))


def test_weight_change_counts(net):
    assert finetune.weight_change(net, net)["changed"] == 0
    params = net.int_params()
    params[0] = (params[0][0] + 0.6 * (np.arange(params[0][0].size) % 2 == 0).reshape(params[0][0].shape),
                 params[0][1])
    params[1] = (np.full_like(params[1][0], 500.0), params[1][1])  # clipped to 127
    other = net.with_int_params(params)
    change = finetune.weight_change(net, other)
    layer0 = change["per_layer"]["conv1"]
    assert layer0["max_abs_change"] == 1
    assert layer0["changed"] == np.sum((np.arange(net.layers[0].w.size) % 2 == 0)
                                       & (net.layers[0].w.reshape(-1) < 127))
    assert np.all(other.layers[1].w == 127)
