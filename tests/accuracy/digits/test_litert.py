"""Interop with LiteRT (:mod:`accuracy.digits.litert`, :mod:`accuracy.tflite.scales`): the exported .tflite runs in LiteRT's
reference kernels bit-exactly like sim.golden in TFLite mode, and per-channel scales
import from a .tflite."""

import numpy as np
import pytest

from accuracy.digits import litert, network
from accuracy.tflite import scales
from accuracy.tflite.litert import litert_available, run_litert
from sim import golden

REASON = litert_available()
needs_litert = pytest.mark.skipif(REASON is not None, reason=f"LiteRT cannot be used here: {REASON}")


@pytest.fixture(scope="module")
def exported(net, tmp_path_factory):
    if REASON:
        pytest.skip(f"LiteRT cannot be used here: {REASON}")
    return litert.export(net, tmp_path_factory.mktemp("tfl") / "digits.tflite")


@needs_litert
def test_litert_parity_bit_exact(net, data, exported):
    xq = net.quantize_input(data[2][:25])
    rows = litert.parity(net, xq, exported)
    assert [r["layer"] for r in rows] == [ql.name for ql in net.layers]
    for r in rows:
        assert r["mismatches"] == 0, r
        if r["kind"] != "dense":  # convolutions: TFLite's double rounding, as documented
            assert r["rounding"] == "tflite_double" and r["mismatches_if_double_rounding"] == 0


@needs_litert
def test_paper_mode_differs_from_litert_at_low_k(net, data, exported):
    """Sanity: the comparison can fail (k = 4 truncation is not what LiteRT computes)."""
    xq = net.quantize_input(data[2][:10])
    lite = run_litert(exported, xq)
    ours = network.run_int8(net, xq, 4)
    assert np.any(ours != lite["fc6"].reshape(len(xq), -1))


@needs_litert
@pytest.mark.parametrize("k", [8, 4])
def test_scales_import(net, exported, k):
    rows = scales.scales_report(exported, k)
    assert [r["name"] for r in rows] == [ql.name for ql in net.layers]
    for ql, r in zip(net.layers, rows):
        M = ql.M("tflite")
        np.testing.assert_allclose([r["M_min"], r["M_max"]], [M.min(), M.max()], rtol=1e-12)
        m, s = golden.quantize_multiplier(M.astype(np.float32), k)
        assert r["m"] == m.tolist() and r["s"] == s.tolist()
        assert 0 <= r["max_rel_error"] < 2.0 ** (1 - k)
    text = scales.format_scales(rows)
    assert "DEPTHWISE_CONV_2D" in text and f"k={k}" in text


@needs_litert
def test_exported_weights_read_back(net, exported):
    import tflite
    model = tflite.Model.GetRootAsModel(exported.read_bytes(), 0)
    sg = model.Subgraphs(0)
    tensors = {sg.Tensors(i).Name().decode(): sg.Tensors(i) for i in range(sg.TensorsLength())}
    for ql in net.layers:
        t = tensors[f"{ql.name}/weights"]
        data = model.Buffers(t.Buffer()).DataAsNumpy().view(np.int8).reshape(t.ShapeAsNumpy())
        expect = ql.w if ql.kind != "dwconv" else np.moveaxis(ql.w, 0, -1)[None]
        np.testing.assert_array_equal(data, expect)
        np.testing.assert_array_equal(t.Quantization().ScaleAsNumpy(), ql.w_scale)


@needs_litert
def test_bad_tflite_file(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\0" * 64)
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        scales.scales_report(bad, 8)


@needs_litert
def test_cli_export_and_scales(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "d.tflite"
    r = subprocess.run([sys.executable, "-m", "accuracy", "tflite-export", "-o", str(out)], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0 and out.stat().st_size > 0
    r = subprocess.run([sys.executable, "-m", "accuracy", "tflite-scales", str(out), "--k", "4"], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0
    assert len(r.stdout.splitlines()) == 6 and "FULLY_CONNECTED" in r.stdout
    r = subprocess.run([sys.executable, "-m", "accuracy", "tflite-scales", str(tmp_path / "none.tflite")],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and r.stderr.startswith("error: ")
