"""The rescale error model (:mod:`accuracy.error_model`, paper Eq. (5))."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accuracy import error_model
from sim import golden


@settings(max_examples=40, deadline=None)
@given(k=st.integers(2, 32), seed=st.integers(0, 2**32 - 1), method=st.sampled_from(["truncate", "nearest"]))
def test_parts_add_up_and_rounding_is_half_an_lsb(k, seed, method):
    rng = np.random.default_rng(seed)
    channels = 5
    M = np.exp2(-rng.uniform(1, 14, size=channels)).astype(np.float32)
    acc = rng.integers(-(1 << 20), 1 << 20, size=(50, channels))
    acc = np.clip(acc, -128 / M, 127 / M).astype(np.int64)  # mostly unsaturated
    e = error_model.rescale_error(acc, M, k, method=method)
    m, s = golden.quantize_multiplier(M, k, method=method)
    Mq = m / 2.0 ** s
    ok = ~e.saturated
    np.testing.assert_allclose(e.mult[ok], (acc * (Mq - M.astype(np.float64)))[ok], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(e.total[ok], e.mult[ok] + e.rounding[ok], atol=1e-9)
    np.testing.assert_allclose(e.total[ok], (e.y.astype(np.float64) - acc * M.astype(np.float64))[ok], atol=1e-9)
    assert np.all(np.abs(e.rounding[ok]) <= 0.5 + 1e-9)
    assert np.all(np.isnan(e.mult[~ok]))
    np.testing.assert_array_equal(e.changed, e.y != e.y_ref)


def test_truncation_shrinks_and_k32_is_exact():
    rng = np.random.default_rng(1)
    M = np.float32([0.3, 0.0071, 0.5, 1.0])
    acc = rng.integers(-200, 200, size=(1000, 4))
    rows = error_model.error_vs_k(acc, M, [32, 8, 4, 2])
    by_k = {r["k"]: r for r in rows}
    assert by_k[32]["max_abs_mult"] < 1e-4 and by_k[32]["changed"] == 0
    assert by_k[2]["mean_abs_mult"] > by_k[4]["mean_abs_mult"] > by_k[8]["mean_abs_mult"]
    assert by_k[2]["changed"] > by_k[8]["changed"]
    for r in rows:  # the paper's bound holds
        assert r["max_abs_mult"] <= r["bound_mult"] + 1e-9
    # truncation: M_q <= M, so the multiplier part has the sign of -acc
    e = error_model.rescale_error(acc, M, 3)
    ok = ~e.saturated
    assert np.all(e.mult[ok] * acc[ok] <= 1e-12)
    assert np.all(e.Mq_rel <= 0)


def test_channel_stats_and_clamp():
    acc = np.array([[100, -9000], [300, 10], [-100, 20]])
    M = np.float32([0.01, 0.02])
    e = error_model.rescale_error(acc, M, 4, zero_point=0, act_min=-128, act_max=127)
    st_ = error_model.channel_stats(e, y_scale=0.5)
    assert set(st_) >= {"mean_mult", "mean_abs_mult", "max_abs_mult", "mean_abs_rounding", "changed",
                        "saturated", "Mq_rel", "mean_abs_total_real"}
    assert st_["saturated"][1] == 1 / 3  # -9000 * 0.02 clamps at -128
    np.testing.assert_allclose(st_["mean_abs_total_real"], st_["mean_abs_total"] * 0.5)
    assert all(v.shape == (2,) for v in st_.values())


def test_plot(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    acc = rng.integers(-3000, 3000, size=(200, 3))
    rows = error_model.error_vs_k(acc, np.float32([0.01, 0.02, 0.03]), [16, 8, 4, 2])
    drawn = []
    real_save = error_model.save
    monkeypatch.setattr(error_model, "save", lambda fig, path, **kw: drawn.append(fig) or real_save(fig, path, **kw))
    error_model.plot_error_vs_k({"a": rows, "b": rows}, tmp_path / "e.png")
    (fig,) = drawn
    left, right = fig.axes
    ks = [16, 8, 4, 2]
    lines = {line.get_label(): line for line in left.get_lines()}
    np.testing.assert_array_equal(lines["a mean |a(Mq-M)|"].get_xdata(), ks)
    np.testing.assert_allclose(lines["a mean |a(Mq-M)|"].get_ydata(), [r["mean_abs_mult"] for r in rows])
    rounding = lines["mean |rounding part| (all layers)"].get_ydata()
    np.testing.assert_allclose(rounding, [r["mean_abs_rounding"] for r in rows])
    changed = {line.get_label(): line.get_ydata() for line in right.get_lines()}
    np.testing.assert_allclose(changed["b"], [100 * r["changed"] for r in rows])
    assert [t.get_text() for t in left.get_legend().get_texts()][:2] == ["a mean |a(Mq-M)|", "b mean |a(Mq-M)|"]
    assert left.get_yscale() == "log" and right.get_ylabel() == "int8 outputs changed vs k = 32 (%)"
    # The file is a whole PNG of the figure's size (11 x 4.2 inches at 110 dpi).
    head = (tmp_path / "e.png").read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (1210, 462)
