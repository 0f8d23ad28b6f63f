"""Rescale-aware fine-tuning (paper Section II.C) of a :class:`accuracy.digits.network.QNet`.

The forward pass is :func:`accuracy.digits.network.forward` in emulation mode: the integer
path in float64 with the ``k``-bit ``M_q = m 2^-s`` of every channel fixed (from
:func:`sim.golden.quantize_multiplier`), the int8 weights cast to float without
dequantization, fake-quantized (rounded, clipped to +-127) on every forward pass,
and every rounding passed straight through in the backward pass (STE). The loss
is the cross-entropy of the dequantized int8 logits ``S_y (y - Zy)``. Plain SGD
updates the integer-valued weights (biases and all scales stay fixed, as in the
paper); the result is re-quantized by rounding and substituted into the network,
keeping its quantization parameters (Section II.D).

The emulation is bit-exact with :func:`accuracy.digits.network.run_int8` for the paper's
``half_up`` rounding (``tests/accuracy/digits/test_finetune.py``), so the accuracy measured after
fine-tuning is the integer path's.
"""

import numpy as np

from . import network

__all__ = ["finetune", "weight_change"]


def weight_change(before, after):
    """The Table II columns: fraction of weights changed (%), mean |change| of the changed
    weights (LSBs) and relative to the layer's max |w| (%), and per layer counts."""
    per_layer, changed, total, diffs, rel = {}, 0, 0, [], []
    for a, b in zip(before.layers, after.layers):
        d = b.w.astype(np.int64) - a.w.astype(np.int64)
        nz = d != 0
        per_layer[a.name] = {"changed": int(nz.sum()), "weights": int(d.size),
                             "max_abs_change": int(np.abs(d).max()) if d.size else 0}
        changed += int(nz.sum())
        total += d.size
        diffs.append(np.abs(d[nz]))
        amax = np.abs(a.w.astype(np.int64)).reshape(len(a.w), -1).max(axis=1)
        rel.append((np.abs(d) / np.maximum(amax, 1).reshape((-1,) + (1,) * (d.ndim - 1)))[nz])
    diffs, rel = np.concatenate(diffs), np.concatenate(rel)
    return {"changed_pct": 100.0 * changed / total, "changed": changed, "weights": total,
            "mean_abs_change_lsb": float(diffs.mean()) if diffs.size else 0.0,
            "mean_rel_change_pct": 100.0 * float(rel.mean()) if rel.size else 0.0,
            "layers_changed": sum(1 for v in per_layer.values() if v["changed"]),
            "per_layer": per_layer}


def finetune(net, x_train, y_train, k, *, epochs=2, lr=0.01, batch=32, seed=0, method="truncate",
             eval_set=None, log=print):
    """Rescale-aware fine-tuning of ``net`` for a ``k``-bit rescaler.

    Parameters
    ----------
    net : accuracy.digits.network.QNet
    x_train : numpy.ndarray, shape (N, 8, 8, 1)
        Float images (quantized with the network's input quantization).
    y_train : numpy.ndarray of int
    k : int
        Rescaler multiplier width; ``M_q`` stays fixed at ``quantize_multiplier(M, k)``.
    epochs, lr, batch, seed
        Plain SGD (no momentum), deterministic for a given ``seed``.
    eval_set : tuple (x, y), optional
        Float images and labels evaluated (integer path, ``run_int8``) after each epoch.

    Returns
    -------
    (QNet, list of dict)
        The fine-tuned network (weights re-quantized by rounding) and one history
        row per epoch (``epoch``, ``loss``, ``accuracy`` on ``eval_set``).
    """
    quant = network.emulation(net, k, method=method)
    out_scale = np.float64(net.layers[-1].y_scale)
    out_zp = net.layers[-1].y_zero_point
    xq = net.quantize_input(x_train).astype(np.float64)
    params = net.int_params()
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(y_train))
        total = 0.0
        for start in range(0, len(order), batch):
            sel = order[start:start + batch]
            y, cache = network.forward(params, xq[sel], quant=quant)
            loss, dlogits = network.softmax_xent(out_scale * (y - out_zp), y_train[sel])
            total += loss * len(sel)
            grads = network.backward(cache, dlogits * out_scale)
            params = [(w - lr * dw, b) for (w, b), (dw, _) in zip(params, grads)]
        row = {"epoch": epoch, "loss": total / len(y_train)}
        if eval_set is not None:
            tuned = net.with_int_params(params)
            pred = network.predict_int8(tuned, tuned.quantize_input(eval_set[0]), k, method=method)
            row["accuracy"] = network.accuracy(pred, eval_set[1])
        history.append(row)
        if log:
            acc = f", accuracy {row['accuracy']:.2f} %" if "accuracy" in row else ""
            log(f"  k={k} epoch {epoch}/{epochs}: loss {row['loss']:.4f}{acc}")
    return net.with_int_params(params), history
