"""The accuracy half of the trade-off, as reproducible experiments with reports.

* :func:`train` trains the float digits network, quantizes it and stores it
  (``make train``; run once, the result is committed).
* :func:`accuracy_report` evaluates the stored network integer-only at every ``k``
  (the paper's Table I on our network) and the error model per layer
  (``make accuracy``, no training).
* :func:`finetune_report` runs rescale-aware fine-tuning at ``k = 4, 3, 2`` (the
  paper's Table II columns; ``make finetune``).

Each writes JSON (the numbers), Markdown (the table) and PNG plots to ``reports/``.
"""

import json
import time
from pathlib import Path

import numpy as np

from toolkit.files import write_atomically
from toolkit.figures import pyplot, save

from .. import error_model, stats
from ..results import write_json, write_report
from . import finetune, network
from .network import SPLIT

__all__ = ["ACCURACY_KS", "accuracy_report", "finetune_report", "train"]

#: Multiplier widths of the accuracy table (24 is there so that every width of the
#: default synthesis sweep has an accuracy; 2 is below the sweep).
ACCURACY_KS = (32, 24, 16, 12, 8, 6, 5, 4, 3, 2)
TRAIN = {"epochs": 40, "batch": 32, "lr": 3e-3, "seed": 0, "optimizer": "Adam"}
REPORTS = Path(__file__).resolve().parents[2] / "reports"


def _data():
    return network.load_digits_split(**SPLIT)


def train(model_path=network.DEFAULT_MODEL, *, log=print):
    """Train (Adam, float64, deterministic), quantize with training-set calibration, save."""
    t0 = time.time()
    x_train, y_train, x_test, y_test = _data()
    log(f"training the float network on {len(y_train)} digits ({TRAIN['epochs']} epochs) ...")
    params = network.train_float(x_train, y_train, epochs=TRAIN["epochs"], batch=TRAIN["batch"],
                                 lr=TRAIN["lr"], seed=TRAIN["seed"], log=log)
    float_acc = network.accuracy(network.forward(params, x_test)[0].argmax(axis=1), y_test)
    meta = {"dataset": "sklearn.datasets.load_digits", "split": SPLIT, "train": TRAIN,
            "float_test_accuracy": float_acc, "calibration": "min/max of each layer's float output "
            "on the training split (ReLU6 outputs within [0, 6])"}
    net = network.quantize(params, x_train, meta=meta)
    network.save(net, model_path)
    int8 = network.accuracy(network.predict_int8(net, net.quantize_input(x_test), 32), y_test)
    log(f"float test accuracy {float_acc:.2f} %, int8 (k=32) {int8:.2f} %; wrote {model_path} "
        f"({Path(model_path).stat().st_size} bytes) in {time.time() - t0:.1f} s")
    return net


def _float_accuracy(net, x, y):
    if net.float_params is None:
        return None
    return network.accuracy(network.forward(net.float_params, x)[0].argmax(axis=1), y)


def accuracy_report(model_path=network.DEFAULT_MODEL, *, ks=ACCURACY_KS, rounding="half_up",
                    out_dir=REPORTS, limit=None, log=print):
    """Accuracy vs ``k`` (truncation = paper, and round-to-nearest), the TFLite mode, the
    error model per layer, written to ``out_dir/accuracy.{json,md,png}`` and
    ``accuracy_error_model.png``. ``rounding`` is the rescaler's rounding mode
    (:data:`sim.golden.ROUNDINGS`); ``limit`` evaluates only the first test images."""
    t0 = time.time()
    net = network.load(model_path)
    _, _, x_test, y_test = _data()
    if limit:
        x_test, y_test = x_test[:limit], y_test[:limit]
    xq = net.quantize_input(x_test)
    log(f"model {model_path}: {len(y_test)} test digits")
    float_acc = _float_accuracy(net, x_test, y_test)
    ref_logits = network.run_int8(net, xq, 32, rounding=rounding)
    ref_pred = ref_logits.argmax(axis=1)
    rows = []
    for k in ks:
        row = {"k": int(k)}
        for method in ("truncate", "nearest"):
            logits = network.run_int8(net, xq, k, method=method, rounding=rounding)
            pred = logits.argmax(axis=1)
            row[method] = {"accuracy": network.accuracy(pred, y_test),
                           "test_loss": _int8_loss(net, logits, y_test),
                           "predictions_changed_pct": 100.0 * float(np.mean(pred != ref_pred)),
                           "mean_abs_logit_change_lsb": float(np.abs(logits - ref_logits).mean())}
            gained, lost, p = stats.mcnemar(ref_pred == y_test, pred == y_test)
            lo, hi = stats.wilson(int((pred == y_test).sum()), len(y_test))
            row[method].update({"ci95": [100 * lo, 100 * hi], "gained_vs_k32": gained, "lost_vs_k32": lost,
                                "mcnemar_p_vs_k32": p, **_paired_stats(pred == y_test, ref_pred == y_test)})
        row["drop_vs_k32"] = row["truncate"]["accuracy"] - network.accuracy(ref_pred, y_test)
        rows.append(row)
        log(f"  k={k:2d}: accuracy {row['truncate']['accuracy']:6.2f} % (truncate, paper), "
            f"{row['nearest']['accuracy']:6.2f} % (nearest); "
            f"{row['truncate']['predictions_changed_pct']:.2f} % of predictions differ from k=32")
    from .litert import LITERT_ROUNDING
    tfl = network.predict_int8(net, xq, 31, method="tflite", rounding=LITERT_ROUNDING)
    tflite_acc = network.accuracy(tfl, y_test)
    log(f"  LiteRT mode (31-bit QuantizeMultiplier, LiteRT's rounding per op): {tflite_acc:.2f} %")

    # Error model on each layer's real accumulators (inputs from the k = 32 network).
    log("error model per layer ...")
    trace = network.run_int8(net, xq, 32, rounding=rounding, keep=True)
    err_ks = sorted({k for k in ks} | {2, 3, 4, 5, 6, 8, 12, 16}, reverse=True)
    per_layer, per_channel = {}, {}
    for ql, t in zip(net.layers, trace):
        clamp = {"zero_point": ql.y_zero_point, "act_min": ql.act_min, "act_max": ql.act_max,
                 "rounding": rounding}
        per_layer[ql.name] = error_model.error_vs_k(t["acc"], ql.M(), err_ks, **clamp)
        per_channel[ql.name] = {}
        for k in (8, 4, 3):
            st = error_model.channel_stats(error_model.rescale_error(t["acc"], ql.M(), k, **clamp),
                                           y_scale=ql.y_scale)
            per_channel[ql.name][str(k)] = {key: np.round(v, 5) for key, v in st.items()}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    error_model.plot_error_vs_k(per_layer, out_dir / "accuracy_error_model.png",
                                title="Rescale error of each layer of the digits network (test set, Eq. (5))")
    base = network.accuracy(ref_pred, y_test)
    result = {
        "model": str(Path(model_path).name), "test_images": len(y_test), "split": SPLIT, "rounding": rounding,
        "float_accuracy": float_acc, "int8_k32_accuracy": base, "tflite_mode_accuracy": tflite_acc,
        "rows": rows, "degradation_k": _degradation_k(rows),
        "k8_within_half_point": abs(_row(rows, 8)["drop_vs_k32"]) <= 0.5 if _row(rows, 8) else None,
        "error_model": per_layer, "error_model_per_channel": per_channel,
        "runtime_s": round(time.time() - t0, 1),
    }
    write_json(out_dir / "accuracy.json", result)
    write_atomically(out_dir / "accuracy.md", _accuracy_markdown(result))
    _plot_accuracy(result, out_dir / "accuracy.png")
    log(f"wrote {out_dir}/accuracy.json, accuracy.md, accuracy.png, accuracy_error_model.png "
        f"in {result['runtime_s']} s")
    return result


def _paired_stats(correct, base):
    """The statistics the Pareto view quotes, as for the MNIST-1D network (one model
    here): ``summary`` (accuracy with a bootstrap 95 % CI over test images) and
    ``vs_k32`` (the paired difference against ``base`` with a paired-bootstrap CI)."""
    return {"summary": stats.summary([correct]), "vs_k32": stats.paired([correct], [base])}


def _int8_loss(net, logits, labels):
    """Mean cross-entropy of the dequantized int8 logits: a smooth companion of the
    accuracy, which moves in steps of one test image."""
    out = net.layers[-1]
    real = np.float64(out.y_scale) * (np.asarray(logits, dtype=np.float64) - out.y_zero_point)
    return float(network.softmax_xent(real, labels)[0])


def _binomial_se(r):
    p = r["int8_k32_accuracy"] / 100
    return 100 * float(np.sqrt(p * (1 - p) / r["test_images"]))


def _resolved(r):
    """A plain sentence: which widths differ from k = 32 at McNemar p < 0.05."""
    ks = [row["k"] for row in r["rows"] if row["truncate"].get("mcnemar_p_vs_k32", 1.0) < 0.05]
    if not ks:
        return "No width differs from k = 32 at McNemar p < 0.05: this workload cannot resolve a change of k"
    return f"Only k = {', '.join(map(str, ks))} differ from k = 32 at McNemar p < 0.05"


def _wilson_cell(row):
    ci = row["truncate"].get("ci95")
    return f"{ci[0]:.1f}..{ci[1]:.1f}" if ci else "n/a"


def _discordant_cell(row):
    t = row["truncate"]
    return f"{t['gained_vs_k32']}/{t['lost_vs_k32']}" if "gained_vs_k32" in t else "n/a"


def _mcnemar_cell(row):
    p = row["truncate"].get("mcnemar_p_vs_k32")
    return "n/a" if p is None else f"{p:.2g}"


def _row(rows, k):
    return next((r for r in rows if r["k"] == k), None)


def _degradation_k(rows):
    """The paper's degradation point: the largest k whose accuracy is more than 0.5 points
    below k = 32 (truncation), or None."""
    bad = [r["k"] for r in rows if r["drop_vs_k32"] < -0.5]
    return max(bad) if bad else None


def _accuracy_markdown(r):
    ks = [row["k"] for row in r["rows"]]
    fl = "n/a" if r["float_accuracy"] is None else f"{r['float_accuracy']:.2f} %"
    lines = [
        "# Accuracy vs rescaler width k (digits network, integer-only through sim.golden)", "",
        (f"Test images: {r['test_images']}. Rescaler rounding: {r['rounding']}. Float accuracy: {fl}. int8 at k = 32: "
         f"{r['int8_k32_accuracy']:.2f} %. LiteRT mode (31-bit multiplier and the rounding of LiteRT's "
         f"reference kernels, bit-exact with LiteRT's BUILTIN_REF kernels only: its default XNNPACK kernels "
         f"round differently): {r['tflite_mode_accuracy']:.2f} %."), "",
        "| | " + " | ".join(f"k={k}" for k in ks) + " |",
        "|---|" + "---|" * len(ks),
        "| accuracy, truncation (paper) | " + " | ".join(f"{row['truncate']['accuracy']:.2f}" for row in r["rows"]) + " |",
        "| accuracy, round to nearest | " + " | ".join(f"{row['nearest']['accuracy']:.2f}" for row in r["rows"]) + " |",
        "| drop vs k=32 (points) | " + " | ".join(f"{row['drop_vs_k32']:+.2f}" for row in r["rows"]) + " |",
        "| 95 % CI (Wilson) | " + " | ".join(_wilson_cell(row) for row in r["rows"]) + " |",
        "| gained / lost vs k=32 | " + " | ".join(_discordant_cell(row) for row in r["rows"]) + " |",
        "| McNemar p vs k=32 | " + " | ".join(_mcnemar_cell(row) for row in r["rows"]) + " |",
        "| test cross-entropy (nats) | " + " | ".join(f"{row['truncate']['test_loss']:.4f}" for row in r["rows"]) + " |",
        "| predictions changed vs k=32 (%) | " + " | ".join(f"{row['truncate']['predictions_changed_pct']:.2f}" for row in r["rows"]) + " |",
        "| mean abs logit change (LSB) | " + " | ".join(f"{row['truncate']['mean_abs_logit_change_lsb']:.2f}" for row in r["rows"]) + " |",
        "",
        f"Degradation point (largest k more than 0.5 points below k = 32): {r['degradation_k']}.", "",
        "## What this workload can and cannot resolve", "",
        (f"One test image is {100 / r['test_images']:.2f} points; the binomial standard error of the accuracy is "
         f"{_binomial_se(r):.2f} points. {_resolved(r)} (at low k most layer outputs change, yet few "
         "predictions, because the int8 logit margins are wide). The error model below feeds each layer its k = 32 inputs, so it ignores error "
         "build-up through depth. The MNIST-1D workload (reports/mnist1d_accuracy.md) is the one that resolves k."),
        "",
        "## Error model per layer (Eq. (5), outputs in LSBs, test set, inputs from the k = 32 network)", "",
        "| layer | k | mean abs a(Mq-M) | max abs a(Mq-M) | mean a(Mq-M) | mean abs rounding | outputs changed vs k=32 (%) | saturated (%) | max abs (Mq-M)/M |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in r["error_model"].items():
        for row in rows:
            if row["k"] in (16, 8, 6, 4, 3, 2):
                lines.append(f"| {name} | {row['k']} | {row['mean_abs_mult']:.3f} | {row['max_abs_mult']:.2f} | "
                             f"{row['mean_mult']:+.3f} | {row['mean_abs_rounding']:.3f} | {100 * row['changed']:.2f} | "
                             f"{100 * row['saturated']:.1f} | {row['max_Mq_rel']:.4f} |")
    return "\n".join(lines) + "\n"


def _plot_accuracy(r, path):
    fig, ax = pyplot().subplots(figsize=(6.4, 4))
    ks = [row["k"] for row in r["rows"]]
    ax.plot(ks, [row["truncate"]["accuracy"] for row in r["rows"]], "o-", label="truncation (paper)")
    ax.plot(ks, [row["nearest"]["accuracy"] for row in r["rows"]], "s--", label="round to nearest")
    ax.axhline(r["int8_k32_accuracy"], color="grey", lw=0.8, label="int8, k = 32")
    ax.axhline(r["int8_k32_accuracy"] - 0.5, color="grey", lw=0.8, ls=":", label="k = 32 - 0.5 points")
    if r["float_accuracy"] is not None:
        ax.axhline(r["float_accuracy"], color="green", lw=0.8, ls="--", label="float")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_xlabel("rescaler multiplier width k (bits)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Digits CNN, integer-only: accuracy vs k")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, path, dpi=110)


def finetune_report(model_path=network.DEFAULT_MODEL, *, ks=(4, 3, 2), epochs=3, lr=100.0,
                    out_dir=REPORTS, model_dir=None, log=print):
    """Rescale-aware fine-tuning at each ``k``: accuracy before/after per epoch and the
    weight change (Table II columns). Saves each tuned network next to the model
    (``<model>_rat_k<k>.npz``) and writes ``out_dir/finetune.{json,md}``."""
    t0 = time.time()
    net = network.load(model_path)
    x_train, y_train, x_test, y_test = _data()
    xq = net.quantize_input(x_test)
    base_correct = network.predict_int8(net, xq, 32) == y_test
    base = network.accuracy(network.predict_int8(net, xq, 32), y_test)
    model_dir = Path(model_dir or Path(model_path).parent)
    runs = []
    for k in ks:
        before = network.accuracy(network.predict_int8(net, xq, k), y_test)
        log(f"k={k}: post-training accuracy {before:.2f} % (k=32: {base:.2f} %), fine-tuning {epochs} epochs ...")
        tuned, history = finetune.finetune(net, x_train, y_train, k, epochs=epochs, lr=lr,
                                           eval_set=(x_test, y_test), log=log)
        path = model_dir / f"{Path(model_path).stem}_rat_k{k}.npz"
        network.save(tuned, path)
        after = network.accuracy(network.predict_int8(tuned, xq, k), y_test)
        losses = [_int8_loss(n, network.run_int8(n, xq, k), y_test) for n in (net, tuned)]
        change = finetune.weight_change(net, tuned)
        tuned_correct = network.predict_int8(tuned, xq, k) == y_test
        runs.append({"k": int(k), "original_k32": base, "post_training": before, "retrained": after,
                     **{f"retrained_{name}": v for name, v in _paired_stats(tuned_correct, base_correct).items()},
                     "test_loss_post_training": losses[0], "test_loss_retrained": losses[1],
                     "history": history, "weight_change": change, "model": path.name,
                     "retrained_at_k32": network.accuracy(network.predict_int8(tuned, xq, 32), y_test)})
        log(f"k={k}: {before:.2f} % -> {after:.2f} %, {change['changed_pct']:.2f} % of weights changed "
            f"(mean |change| {change['mean_abs_change_lsb']:.2f} LSB); wrote {path}")
    result = {"model": Path(model_path).name, "test_images": len(y_test),
              "optimizer": {"name": "SGD", "lr": lr, "batch": 32, "epochs": epochs, "momentum": 0,
                            "trained": "int8 weights (float64 shadow, fake-quantized); biases and scales fixed"},
              "runs": runs, "runtime_s": round(time.time() - t0, 1)}
    write_report(out_dir, "finetune", result, _finetune_markdown(result))
    log(f"wrote {out_dir}/finetune.json, finetune.md in {result['runtime_s']} s")
    return result


def _finetune_markdown(r):
    o = r["optimizer"]
    lines = [f"# Rescale-aware fine-tuning (paper Table II columns), {r['test_images']} test digits", "",
             f"SGD, lr {o['lr']}, batch {o['batch']}, {o['epochs']} epochs; {o['trained']}.", "",
             ("| k | original (k=32) | post-training | re-trained | test loss before -> after | weights changed (%) | "
              "mean abs change of changed weights (LSB) | mean relative change (% of channel max) | layers changed |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for run in r["runs"]:
        c = run["weight_change"]
        lines.append(f"| {run['k']} | {run['original_k32']:.2f} % | {run['post_training']:.2f} % | "
                     f"{run['retrained']:.2f} % | {run['test_loss_post_training']:.4f} -> {run['test_loss_retrained']:.4f} | "
                     f"{c['changed_pct']:.2f} | {c['mean_abs_change_lsb']:.2f} | "
                     f"{c['mean_rel_change_pct']:.2f} | {c['layers_changed']}/{len(c['per_layer'])} |")
    lines += ["", "Accuracy after each epoch: " + "; ".join(
        f"k={run['k']}: " + ", ".join(f"{h['accuracy']:.2f}" for h in run["history"]) for run in r["runs"])]
    return "\n".join(lines) + "\n"
