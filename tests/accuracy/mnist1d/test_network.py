"""The MNIST-1D workload (accuracy.mnist1d: network, finetune, experiments) on tiny
configurations: structure, determinism, the integer path equal to the training emulation,
LiteRT parity. Tests needing torch (or mnist1d) skip cleanly without it. No test asserts
an accuracy level."""

import numpy as np
import pytest

from accuracy import stats
from accuracy.mnist1d import network
from accuracy.tflite import interpreter, litert, reader

TORCH = network.torch_available()
needs_torch = pytest.mark.skipif(TORCH is not None, reason=f"torch is not installed: {TORCH}")


def synthetic(n, seed=0, length=40):
    """A learnable stand-in for MNIST-1D (no mnist1d needed): the label is the position
    of the largest of ten segment sums."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, length)).astype(np.float32)
    y = x.reshape(n, 10, -1).sum(axis=2).argmax(axis=1)
    return x, y.astype(np.int64)


@pytest.fixture(scope="module")
def tiny():
    if TORCH:
        pytest.skip(f"torch is not installed: {TORCH}")
    data = {"train": synthetic(256, 0), "val": synthetic(64, 1), "test": synthetic(64, 2)}
    net = network.train_float(network.TINY, data, seed=0, epochs=1, log=None)
    params = network.quantize(net, data["train"][0][:128])
    return data, net, params


def test_plan_has_twelve_rescaled_layers_and_a_residual_add():
    plan = network.layer_plan(network.SPEC)
    assert len(network.rescaled_layers(network.SPEC)) == 12 == len(network.rescaled_layers(network.TINY))
    kinds = [p["kind"] for p in plan]
    assert kinds.count("dwconv") == 5 and kinds.count("add") == 1 and kinds.count("mean") == 1
    with pytest.raises(ValueError, match="residual block needs stride 1"):
        network.layer_plan(network.Spec(blocks=((8, 2, True),)))


@needs_torch
def test_training_and_quantization_are_deterministic(tiny, tmp_path):
    data, _, params = tiny
    net2 = network.train_float(network.TINY, data, seed=0, epochs=1, log=None)
    params2 = network.quantize(net2, data["train"][0][:128])
    a = network.save_tflite(network.TINY, params, tmp_path / "a.tflite").read_bytes()
    b = network.save_tflite(network.TINY, params2, tmp_path / "b.tflite").read_bytes()
    assert a == b
    net3 = network.train_float(network.TINY, data, seed=1, epochs=1, log=None)
    c = network.save_tflite(network.TINY, network.quantize(net3, data["train"][0][:128]), tmp_path / "c.tflite").read_bytes()
    assert c != a  # the seed matters


@needs_torch
def test_batch_norm_folding_equals_the_unfolded_network(tiny):
    """The folded weights and biases (eval-mode batch-norm statistics) compute the same
    float function as the trained network with its batch norms: every layer's output
    agrees within 1e-5 (both in float64)."""
    import copy

    import torch
    data, net, _ = tiny
    unfolded = copy.deepcopy(net).double().eval()
    folded_net = copy.deepcopy(unfolded)
    for name, (w, b) in network._folded(net).items():
        if name == "fc":
            assert np.array_equal(w, net.fc.weight.detach().double().numpy())
            continue
        folded_net.convs[name].weight = torch.nn.Parameter(torch.as_tensor(w))
        folded_net.convs[name].bias = torch.nn.Parameter(torch.as_tensor(b))
        folded_net.bns[name] = torch.nn.Identity()
    x = torch.as_tensor(data["test"][0]).double()
    with torch.no_grad():
        want, got = unfolded(x, keep=True), folded_net(x, keep=True)
    assert want.keys() == got.keys()
    for name in want:
        np.testing.assert_allclose(got[name].numpy(), want[name].numpy(), rtol=1e-5, atol=1e-5, err_msg=name)


@needs_torch
def test_batch_norm_folding_keeps_the_float_function(tiny):
    """The int8 network in TFLite mode follows the float network it was folded from."""
    import torch
    data, net, params = tiny
    x = data["test"][0]
    with torch.no_grad():
        ref = net(torch.as_tensor(x)).numpy()
    model = network.to_model(network.TINY, params)
    out = interpreter.run(model, network.quantize_input(model, x))
    s, z = params["q"]["fc"]
    deq = (out.astype(np.float64) - z) * float(s)
    assert np.corrcoef(deq.ravel(), ref.ravel())[0, 1] > 0.9


@needs_torch
@pytest.mark.parametrize("k", [None, 32, 4, 2])
def test_integer_path_equals_training_emulation(tiny, k, tmp_path):
    from accuracy.mnist1d import finetune
    data, _, params = tiny
    model = reader.load(network.save_tflite(network.TINY, params, tmp_path / "m.tflite"))
    xq = network.quantize_input(model, data["test"][0])
    logits = finetune.emulate_logits(network.TINY, params, xq, k)
    s, z = params["q"]["fc"]
    assert np.array_equal(np.round(logits / float(s) + z).astype(np.int64),
                          interpreter.run(model, xq, k=k).astype(np.int64))


@needs_torch
def test_rat_moves_weights_deterministically(tiny):
    from accuracy.mnist1d import finetune
    data, _, params = tiny
    model = network.to_model(network.TINY, params)
    xq = network.quantize_input(model, data["train"][0])
    a = finetune.finetune(network.TINY, params, xq, data["train"][1], 3, epochs=1, lr=3e-3, batch=64, seed=0)
    b = finetune.finetune(network.TINY, params, xq, data["train"][1], 3, epochs=1, lr=3e-3, batch=64, seed=0)
    changed = 0
    for name in params["layers"]:
        assert np.array_equal(a["layers"][name]["w"], b["layers"][name]["w"])
        assert np.array_equal(a["layers"][name]["b"], b["layers"][name]["b"])
        changed += int((a["layers"][name]["w"] != params["layers"][name]["w"]).sum())
        assert np.array_equal(a["layers"][name]["sw"], params["layers"][name]["sw"])  # scales stay fixed
    assert changed > 0


@needs_torch
@pytest.mark.skipif(litert.litert_available() is not None, reason="LiteRT is not installed")
def test_deep_network_bit_exact_with_litert(tiny, tmp_path):
    data, _, params = tiny
    path = network.save_tflite(network.TINY, params, tmp_path / "d.tflite")
    model = reader.load(path)
    xq = network.quantize_input(model, data["test"][0][:16])
    assert np.array_equal(interpreter.run(model, xq), litert.run_litert(path, xq)["fc"])
    ops = {op.name for op in model.ops}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED"} <= ops


def _train_tiny(out_dir):
    """``make train`` (experiments.train) on a tiny configuration: two seeds, one RAT width."""
    from accuracy.mnist1d import experiments
    cfg = {"train": 300, "val": 100, "test": 200, "seed": 5, "cache": False}  # nothing into build/
    experiments.train(spec=network.TINY, data_cfg=cfg, seeds=(0, 1), out_dir=out_dir, log=None,
             train_cfg={**experiments.TRAIN, "epochs": 1, "calibration_samples": 100},
             rat_cfg={**experiments.RAT, "epochs": 1, "train_samples": 100, "lr_grid": (1e-3, 3e-3)}, rat_ks=(3,))
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())}


@pytest.fixture(scope="module")
def tiny_trained(tmp_path_factory):
    if TORCH:
        pytest.skip(f"torch is not installed: {TORCH}")
    pytest.importorskip("mnist1d", reason="the mnist1d package generates the data")
    out = tmp_path_factory.mktemp("tiny") / "m"
    return out, _train_tiny(out)


def test_make_train_is_deterministic_tiny(tiny_trained, tmp_path):
    """Training twice writes the same files, byte for byte (models and meta.json)."""
    _, first = tiny_trained
    assert sorted(first) == ["meta.json"] + [f"seed{s}_{tag}.tflite" for s in (0, 1)
                                             for tag in ("control_k32", "ptq", "rat_k3")]
    assert first["seed0_ptq.tflite"] != first["seed1_ptq.tflite"]  # the seed matters
    assert _train_tiny(tmp_path / "again") == first


def test_experiments_end_to_end_tiny(tiny_trained, tmp_path):
    from accuracy.mnist1d import experiments
    models, _ = tiny_trained
    r = experiments.accuracy_report(model_dir=models, out_dir=tmp_path / "r", ks=(32, 3), log=None,
                           evaluate_data=tmp_path / "test.npz")
    assert [row["mode"] for row in r["rows"]] == ["TFLite", "k=32", "k=3"]
    assert "vs_k32" in r["rows"][2] and "vs_k32" not in r["rows"][1]
    assert len(r["buildup"]["layers"]) == 12
    f = experiments.finetune_report(model_dir=models, out_dir=tmp_path / "r", ks=(3,), log=None)
    assert f["rows"][0]["k"] == 3 and "rat_vs_control" in f["rows"][0] and "rat_vs_ptq_k32" in f["rows"][0]
    assert f["test_samples"] == r["test_samples"]  # one evaluation set for both reports
    # one seed at a time gives the same report as two seeds at once in worker processes
    r1 = experiments.accuracy_report(model_dir=models, out_dir=tmp_path / "r1", ks=(32, 3), log=None, evaluate_data=None,
                            jobs=1)
    assert {**r1, "seconds": 0} == {**r, "seconds": 0}
    from accuracy.__main__ import main
    assert main(["evaluate", str(models / "seed0_ptq.tflite"), "--data", str(tmp_path / "test.npz")]) == 0
    for name in ("mnist1d_accuracy.md", "mnist1d_accuracy.png", "mnist1d_error_buildup.png", "mnist1d_finetune.md"):
        assert (tmp_path / "r" / name).stat().st_size > 0


def test_mnist1d_commands_without_models_give_one_error_line(tmp_path, capsys):
    from accuracy.__main__ import main
    for cmd in ("mnist1d-accuracy", "mnist1d-finetune"):
        assert main([cmd, "--models", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "make train" in err


# --- the committed models (no torch, no mnist1d) ----------------------------------------------

COMMITTED = network.ROOT / "models" / "mnist1d"


def test_committed_models_run_integer_only():
    """Every stored model reads back as the 12-layer network and runs at every k."""
    x, _ = synthetic(32, 3)
    for path in sorted(COMMITTED.glob("*.tflite")):
        model = reader.load(path)
        assert {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED"} == {op.name for op in model.ops}
        assert sum(op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") for op in model.ops) == 12
        out = interpreter.run(model, network.quantize_input(model, x), k=3)
        assert out.shape == (32, 10) and out.dtype == np.int8
    xq = network.quantize_input(model, x)
    for k in (None, 32, 2):  # in batches or not, the same outputs
        assert np.array_equal(interpreter.run_batched(model, xq, k=k, batch=5), interpreter.run(model, xq, k=k))


@pytest.mark.skipif(litert.litert_available() is not None, reason="LiteRT is not installed")
@pytest.mark.parametrize("tag", ["ptq", "rat_k3"])
def test_committed_model_bit_exact_with_litert(tag):
    path = COMMITTED / f"seed0_{tag}.tflite"
    model = reader.load(path)
    xq = network.quantize_input(model, synthetic(24, 4)[0])
    ours = interpreter.run(model, xq, keep=True)
    theirs = litert.run_litert(path, xq)
    for op in model.ops:
        name = model.tensors[op.outputs[0]].name
        assert np.array_equal(ours[op.outputs[0]], theirs[name]), name


def test_reports_from_committed_models(tmp_path, monkeypatch):
    """make accuracy, make finetune and make pareto on the committed models, on a few
    synthetic samples (no mnist1d needed): one test set, every accuracy with its CI."""
    from accuracy.mnist1d import experiments
    from accuracy import pareto
    x, y = synthetic(48, 5)
    monkeypatch.setattr(experiments, "_test_split", lambda meta, limit=None: (x, y))
    r = experiments.accuracy_report(out_dir=tmp_path, ks=(32, 4), evaluate_data=None, jobs=1, log=None)
    f = experiments.finetune_report(out_dir=tmp_path, ks=(4,), jobs=1, log=None)
    assert r["test_samples"] == f["test_samples"] == 48 and r["seeds"] == f["seeds"] == [0, 1, 2, 3, 4]
    for row in r["rows"]:
        lo, hi = row["ci95"]
        assert lo <= row["accuracy"] <= hi
    sweep = network.ROOT / "reports" / "sweep_liberty.json"
    p = pareto.pareto_report(accuracy=tmp_path / "mnist1d_accuracy.json", finetune=tmp_path / "mnist1d_finetune.json",
                             sweep=sweep, out=tmp_path, workload="mnist1d", log=lambda *_: None)
    assert {pt["label"] for pt in p["points"]} >= {"32", "4", "4+RAT"}
    assert all(pt["ci95"][0] <= pt["accuracy"] <= pt["ci95"][1] for pt in p["points"])


# --- statistics ------------------------------------------------------------------------------

def test_mcnemar_exact():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 1], bool)
    b = np.array([1, 0, 0, 0, 0, 1, 1, 1], bool)
    gained, lost, p = stats.mcnemar(a, b)
    assert (gained, lost) == (1, 3)
    assert p == pytest.approx(2 * (1 + 4) / 16)  # two-sided binomial, n = 4
    assert stats.mcnemar(a, a) == (0, 0, 1.0)
    # thousands of discordant pairs (a float 2^n would overflow)
    a = np.r_[np.ones(3000, bool), np.zeros(2000, bool)]
    b = np.r_[np.zeros(3000, bool), np.ones(2000, bool)]
    gained, lost, p = stats.mcnemar(a, b)
    assert (gained, lost) == (2000, 3000) and 0 < p < 1e-40
    assert stats.mcnemar(a, ~a)[2] < 1e-40 and stats.mcnemar(np.r_[a, ~a], np.r_[~a, a])[2] == 1.0


def test_wilson_and_bootstrap():
    lo, hi = stats.wilson(95, 100)
    assert lo < 0.95 < hi and 0.88 < lo and hi < 0.98
    mean, lo, hi = stats.bootstrap_mean(np.r_[np.ones(90), np.zeros(10)])
    assert mean == 0.9 and lo < 0.9 < hi
    assert stats.bootstrap_mean(np.ones(5)) == (1.0, 1.0, 1.0)
