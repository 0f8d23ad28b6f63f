"""Rescale-aware fine-tuning (RAT) of the MNIST-1D network, with an exact forward pass.

The forward pass *is* the integer path: every step rebuilds the int8 model from
the current weights (:func:`accuracy.mnist1d.network.to_model`) and runs it with
:func:`accuracy.tflite.interpreter.run` at the rescaler width ``k`` (``k=None``: TFLite
mode), keeping every layer's int8 output. Gradients flow through a float surrogate
of each layer (the float convolution of the previous layer's dequantized exact
output with fake-quantized weights, clamped to the activation range), joined to
the exact values by a straight-through estimator::

    out_l = surrogate_l + (dequantize(exact_l) - surrogate_l).detach()

so the loss is computed on exactly the logits the integer network produces (the
training emulation equals the integer-only path by construction, which the tests
check), while weights and biases get the surrogate's gradients. Scales (weights and
activations) stay those of post-training quantization; fine-tuning moves the
integer weights and biases only.
"""

import numpy as np

from ..tflite import interpreter
from . import network

__all__ = ["finetune", "emulate_logits"]


def _index(model):
    return {t.name: i for i, t in enumerate(model.tensors)}


def _trainable(spec, params):
    """Float tensors (torch, requires_grad) initialised to the dequantized int8 weights."""
    import torch
    q, layers = params["q"], params["layers"]
    plan = network.layer_plan(spec)
    prev, out = "input", {}
    for p in plan:
        name = p["name"]
        if name in layers:
            lw = layers[name]
            sx = float(q[prev][0])
            sw = lw["sw"].astype(np.float64)
            out[name] = {"w": torch.tensor(lw["w"] * sw[:, None], dtype=torch.float64, requires_grad=True),
                         "b": torch.tensor(lw["b"] * sx * sw, dtype=torch.float64, requires_grad=True),
                         "sw": torch.tensor(sw), "sx": sx}
        prev = name
    return out


def _params_from(spec, params, trainable):
    """The int8 parameter dict for the current float weights (round to the fixed scales)."""
    import torch
    layers = {}
    with torch.no_grad():
        for name, t in trainable.items():
            sw = t["sw"].numpy()
            w = np.clip(np.round(t["w"].numpy() / sw[:, None]), -127, 127).astype(np.int8)
            b = np.clip(np.round(t["b"].numpy() / (t["sx"] * sw)), -(2**31), 2**31 - 1).astype(np.int32)
            layers[name] = {"w": w, "sw": params["layers"][name]["sw"], "b": b}
    return {"q": params["q"], "layers": layers}


def _ste_round(v):
    return v + (v.round() - v).detach()


def _surrogate_forward(spec, params, trainable, exact, model, xq):
    """Float logits whose values equal the exact int8 path and whose gradients are the
    surrogate's (see the module docstring)."""
    import torch
    import torch.nn.functional as F
    idx = _index(model)
    q = params["q"]

    def deq(name):
        s, z = q[name]
        return torch.as_tensor(exact[idx[name]].astype(np.float64) - z) * float(s)

    def clamp_range(name, act):
        lo, hi = interpreter.activation_range(act, model.tensors[idx[name]])
        s, z = q[name]
        return (lo - z) * float(s), (hi - z) * float(s)

    h = {"input": torch.as_tensor((xq.astype(np.float64) - q["input"][1]) * float(q["input"][0]))}
    h["input"] = h["input"].reshape(len(xq), 1, 1, spec.length).permute(0, 2, 1, 3)  # (N, 1, 1, L) NCHW
    cur = h["input"]
    for p in network.layer_plan(spec):
        name, kind = p["name"], p["kind"]
        if kind in ("conv", "dwconv", "pw"):
            t = trainable[name]
            wq = _ste_round(t["w"] / t["sw"][:, None]).clamp(-127, 127) * t["sw"][:, None]
            if kind == "dwconv":
                weight = wq.reshape(p["cout"], 1, 1, p["kernel"])
                groups = p["cin"]
            else:
                weight = wq.reshape(p["cout"], p["kernel"], p["cin"]).permute(0, 2, 1)[:, :, None, :]
                groups = 1
            z = F.conv2d(F.pad(cur, network._same_pad(p["length"], p["kernel"], p["stride"])), weight, t["b"],
                         stride=(1, p["stride"]), groups=groups)
            lo, hi = clamp_range(name, p["act"])
            surrogate = z.clamp(lo, hi)
            exact_v = deq(name).permute(0, 3, 1, 2)  # NHWC -> NCHW
        elif kind == "add":
            surrogate = cur + h[p["other"]]
            exact_v = deq(name).permute(0, 3, 1, 2)
        elif kind == "mean":
            surrogate = cur.mean(dim=(2, 3))
            exact_v = deq(name)
        else:
            t = trainable[name]
            wq = _ste_round(t["w"] / t["sw"][:, None]).clamp(-127, 127) * t["sw"][:, None]
            surrogate = cur @ wq.T + t["b"]
            exact_v = deq(name)
        cur = surrogate + (exact_v - surrogate).detach()
        h[name] = cur
    return cur


def emulate_logits(spec, params, xq, k):
    """The training emulation's logits (dequantized) for int8 inputs ``xq`` at ``k``:
    what :func:`finetune` computes its loss on."""
    import torch
    model = network.to_model(spec, params)
    exact = interpreter.run(model, xq, k=k, keep=True)
    with torch.no_grad():
        return _surrogate_forward(spec, params, _trainable(spec, params), exact, model, xq).numpy()


def finetune(spec, params, x_train, y_train, k, *, epochs=2, lr=1e-3, batch=256, seed=0, log=None):
    """Fine-tune ``params`` (from :func:`accuracy.mnist1d.network.quantize`) at rescaler width ``k``
    (``None``: TFLite mode); returns new params. Deterministic for a seed."""
    import torch
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    trainable = _trainable(spec, params)
    opt = torch.optim.Adam([v for t in trainable.values() for v in (t["w"], t["b"])], lr=lr)
    rng = np.random.default_rng(seed)
    y_all = torch.as_tensor(np.asarray(y_train, np.int64))
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        total = 0.0
        for i in range(0, len(order), batch):
            sel = order[i:i + batch]
            current = _params_from(spec, params, trainable)
            model = network.to_model(spec, current)
            exact = interpreter.run(model, x_train[sel], k=k, keep=True)
            logits = _surrogate_forward(spec, current, trainable, exact, model, x_train[sel])
            loss = torch.nn.functional.cross_entropy(logits, y_all[sel])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(sel)
        if log:
            log(f"      k={k} epoch {epoch + 1}/{epochs}: loss {total / len(order):.4f}")
    return _params_from(spec, params, trainable)
