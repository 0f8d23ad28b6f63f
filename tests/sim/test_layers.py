"""The layer-level golden model (:mod:`sim.layers`): schedules, lowering, quantization.

The beat schedule must compute exactly what :func:`sim.golden.dot_product` computes
for the whole layer, and the convolution lowering exactly what a direct
convolution computes.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import golden, layers
from sim.golden import INT8_MAX, INT8_MIN


def ref_layer(layer, k):
    return golden.dot_product(layer["x"], layer["w"], layer["bias"], layer["M"], k,
                              zero_point=layer["zero_point"], act_min=layer["act_min"],
                              act_max=layer["act_max"])


@settings(max_examples=60, deadline=None)
@given(macs=st.sampled_from([1, 2, 4, 8, 16]), engines=st.integers(1, 5), k=st.sampled_from([2, 4, 8, 32]),
       positions=st.integers(1, 4), channels=st.integers(1, 9), length=st.integers(0, 70),
       seed=st.integers(0, 2**32 - 1))
def test_schedule_runs_the_layer(macs, engines, k, positions, channels, length, seed):
    layer = layers.random_layer(np.random.default_rng(seed), k=k, positions=positions,
                                channels=channels, length=length)
    schedule = layers.layer_schedule(layer, macs=macs, engines=engines)
    beats = layers.beats_per_channel(length, macs)
    groups = -(-channels // engines)
    assert schedule.beats == positions * groups * beats
    assert schedule.groups == positions * groups
    assert schedule.first.sum() == schedule.last.sum() == schedule.groups
    y = layers.run_schedule(schedule, k=k)
    assert y.shape == (schedule.groups, engines)
    np.testing.assert_array_equal(layers.unschedule(schedule, y), ref_layer(layer, k))


def test_schedule_order_and_padding():
    """Positions outermost, then channel groups, then beats; L and C zero-padded."""
    x = np.arange(2 * 5).reshape(2, 5)
    w = -np.arange(3 * 5).reshape(3, 5)
    sch = layers.matmul_schedule(x, w, [10, 20, 30], 1, 0, macs=4, engines=2)
    assert sch.beats == 2 * 2 * 2
    np.testing.assert_array_equal(sch.first, [1, 0] * 4)
    np.testing.assert_array_equal(sch.last, [0, 1] * 4)
    np.testing.assert_array_equal(sch.x[0], x[0, :4])
    np.testing.assert_array_equal(sch.x[1], [x[0, 4], 0, 0, 0])
    np.testing.assert_array_equal(sch.x[4], x[1, :4])
    np.testing.assert_array_equal(sch.w[1, 1], [w[1, 4], 0, 0, 0])
    np.testing.assert_array_equal(sch.w[2], [w[2, :4], [0, 0, 0, 0]])  # group 1: channel 2, padding
    np.testing.assert_array_equal(sch.bias[:4], [[10, 20], [10, 20], [30, 0], [30, 0]])
    np.testing.assert_array_equal(sch.channel, [[0, 1], [2, -1], [0, 1], [2, -1]])
    np.testing.assert_array_equal(sch.position, [[0, 0], [0, 0], [1, 1], [1, 1]])


def test_empty_dot_product_is_one_beat_of_the_bias():
    sch = layers.matmul_schedule(np.zeros((1, 0), int), np.zeros((2, 0), int), [5, -7], 1, 0, macs=4)
    assert sch.beats == 2 and sch.first.all() and sch.last.all()
    np.testing.assert_array_equal(layers.run_schedule(sch, k=8), [[5], [-7]])


def test_run_stream_wraps_like_32_bit_hardware():
    x = np.ones((2, 1), int)
    w = np.ones((2, 1, 1), int)
    bias = np.full((2, 1), (1 << 31) - 1)
    ones = np.ones((2, 1), int)
    y = layers.run_stream(x, w, bias, ones, ones * 0, ones * 0, ones * INT8_MIN, ones * INT8_MAX,
                          [1, 0], [0, 1], k=8)
    # 2^31 - 1 + 2 wraps to -2^31 + 1, then m = 1, s = 0 saturates at -128
    assert y.tolist() == [[INT8_MIN]]
    assert layers.wrap32(2**31 + 1) == -(2**31) + 1


@pytest.mark.parametrize("first,last", [([0, 1], [0, 1]), ([1, 1], [0, 1]), ([1, 0], [0, 0]),
                                        ([1, 0], [1, 1]), ([], [])])
def test_run_stream_rejects_broken_groups(first, last):
    n = len(first)
    ops = [np.zeros((n, 1), int)] * 6
    with pytest.raises(ValueError, match="first/last must delimit whole output groups"):
        layers.run_stream(np.zeros((n, 1), int), np.zeros((n, 1, 1), int), *ops, first, last, k=8)


def test_matmul_schedule_validates():
    with pytest.raises(ValueError, match="shapes do not match"):
        layers.matmul_schedule(np.zeros((2, 3), int), np.zeros((2, 4), int), [0, 0], 1, 0, macs=4)
    with pytest.raises(ValueError, match=r"w\[0, 0\] = 128 is out of range"):
        layers.matmul_schedule(np.zeros((2, 3), int), np.full((2, 3), 128), [0, 0], 1, 0, macs=4)


def test_pack_lanes_round_trip():
    values = np.array([[-128, 127, 0, -1], [1, 2, 3, 4]])
    packed = layers.pack_lanes(values, 8)
    assert packed[0] == 0xFF_00_7F_80
    for row, word in zip(values, packed):
        assert layers.unpack_lanes(word, 8, 4) == row.tolist()
    assert layers.pack_lanes([-1], 32) == 0xFFFFFFFF
    assert layers.unpack_lanes(0xFF, 8, 1, signed=False) == [255]


def test_stream_words_match_the_port_layout():
    layer = layers.random_layer(np.random.default_rng(0), k=4, positions=1, channels=2, length=3)
    sch = layers.layer_schedule(layer, macs=4, engines=2)
    words = layers.stream_words(sch, k=4)
    assert layers.unpack_lanes(words["w"][0], 8, 8) == sch.w[0].reshape(-1).tolist()
    assert layers.unpack_lanes(words["bias"][0], 32, 2) == sch.bias[0].tolist()
    assert layers.unpack_lanes(words["m"][0], 4, 2, signed=False) == sch.m[0].tolist()
    assert layers.unpack_lanes(words["s"][0], golden.shift_bits(4), 2, signed=False) == sch.s[0].tolist()
    assert words["first"] == [1] and words["last"] == [1]


# --- convolutions -------------------------------------------------------------------------------

def direct_conv(x, w, *, stride, padding, pad_value):
    """The textbook convolution loop (int64)."""
    h, wd, _ = x.shape
    cout, kh, kw, _ = w.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)), constant_values=pad_value)
    ho, wo = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((ho, wo, cout), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            patch = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[i, j] = np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2]))
    return out


@pytest.mark.parametrize("kernel,stride,padding", [(1, 1, 0), (3, 1, 1), (3, 2, 1), (3, 1, 0), (2, 2, 0)])
def test_im2col_is_a_convolution(kernel, stride, padding):
    rng = np.random.default_rng(kernel * 10 + stride + padding)
    x = rng.integers(INT8_MIN, INT8_MAX + 1, size=(7, 6, 5))
    w = rng.integers(INT8_MIN, INT8_MAX + 1, size=(4, kernel, kernel, 5))
    cols, (ho, wo) = layers.im2col(x, kernel, stride=stride, padding=padding, pad_value=-3)
    got = (cols @ layers.conv_weights_matrix(w).T).reshape(ho, wo, -1)
    np.testing.assert_array_equal(got, direct_conv(x, w, stride=stride, padding=padding, pad_value=-3))


def test_conv2d_golden_is_the_direct_convolution_rescaled():
    rng = np.random.default_rng(9)
    x = rng.integers(INT8_MIN, INT8_MAX + 1, size=(5, 5, 3))
    w = rng.integers(INT8_MIN, INT8_MAX + 1, size=(6, 3, 3, 3))
    bias = rng.integers(-5000, 5000, size=6)
    M = rng.uniform(1e-4, 1e-2, size=6)
    y = layers.conv2d(x, w, bias, M, 8, padding=1, input_zero_point=7, zero_point=-3)
    acc = direct_conv(x, w, stride=1, padding=1, pad_value=7) + bias
    m, s = golden.quantize_multiplier(M, 8)
    np.testing.assert_array_equal(y, golden.rescale(acc, m, s, zero_point=-3, k=8))


def test_im2col_and_conv_weights_validate():
    with pytest.raises(ValueError, match=r"x must be an \(H, W, Cin\) image"):
        layers.im2col(np.zeros((3, 3)), 3)
    with pytest.raises(ValueError, match="does not fit"):
        layers.im2col(np.zeros((2, 2, 1)), 3)
    with pytest.raises(ValueError, match=r"w must be \(Cout, kh, kw, Cin\)"):
        layers.conv_weights_matrix(np.zeros((3, 3)))


def float_conv_layer(seed=0, *, size=6, cin=8, cout=8):
    """A small float 3x3 convolution (weights with different per-channel ranges)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(size, size, cin))
    w = rng.normal(size=(cout, 3, 3, cin)) * rng.uniform(0.2, 2, size=(cout, 1, 1, 1))
    return x, w, rng.normal(size=cout)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("k", [4, 8, 32])
def test_quantized_conv_tracks_the_float_reference(k, relu):
    x, w, b = float_conv_layer()
    q = layers.quantize_conv2d(x, w, b, k, padding=1, relu=relu)
    assert q.w.min() >= -INT8_MAX and q.w.max() <= INT8_MAX
    np.testing.assert_allclose(np.abs(q.w.reshape(len(q.w), -1)).max(axis=1), INT8_MAX)
    assert np.all(q.M > 0) and np.all(q.M <= 1)
    np.testing.assert_array_equal((q.m, q.s), golden.quantize_multiplier(q.M, k))
    ref = layers.conv2d_float(x, w, b, padding=1)
    if relu:
        ref = np.maximum(ref, 0)
    err = np.abs(q.dequantize(q.golden()) - ref) / q.y_scale  # in output LSBs
    print(f"k={k} relu={relu}: float reference error max {err.max():.2f} LSB, mean {err.mean():.3f} LSB")
    if k >= 8:
        assert err.max() < 3 and err.mean() < 0.5
    else:  # 4-bit truncation of M: up to -12.5 % per channel, visible but bounded
        assert err.mean() < 3


def test_describe_output():
    layer = layers.edge_layer("m_one", k=8, macs=4)
    sch = layers.layer_schedule(layer, macs=4, engines=2)
    text = layers.describe_output(layer, sch, 1, 0, beat_offset=100)
    acc = golden.accumulate(layer["x"][0], layer["w"][2:3], layer["bias"][2:3])[0]
    assert text == (f"position 0, channel 2 (output group 1, engine 0), beats 103..105: acc={acc}, "
                    f"m=128, s=7, zero_point={layer['zero_point'][2]}, act_min=-128, act_max=127")
    assert layers.describe_output(layer, sch, 1, 1).endswith("a padding channel (all zero operands)")
