"""The MNIST-1D workload's experiments: training, accuracy against ``k``, RAT.

* :func:`train` (``make train``; needs torch): for each seed, train the float network
  on the training split, quantize, store ``models/mnist1d/seed<N>_ptq.tflite``; then
  choose RAT's learning rate on the validation split (first seed) for each ``k`` of
  :data:`RAT_KS` and for the control (the same fine-tuning at ``k = 32``), and store
  every seed's fine-tuned models. The test split is not read.
* :func:`accuracy_report` (``make accuracy``; no torch): every stored PTQ model,
  integer-only at every ``k`` on the test split: per-``k`` accuracy (mean over seeds,
  bootstrap 95 % CI), paired differences against ``k = 32`` with McNemar's test, the
  int8 logit margins, and the error build-up through depth.
* :func:`finetune_report` (``make finetune``; no torch): the stored RAT models against
  their controls and the PTQ models, on the same test samples as the accuracy report
  (so that the Pareto view compares every point on one evaluation set).

Both reports evaluate each seed in its own process (``jobs``), each ``(model, k)`` once.
"""

import json
import time
from pathlib import Path

import numpy as np

from toolkit.figures import pyplot, save

from .. import stats
from ..results import write_json, write_report
from ..tflite import interpreter, reader
from . import network

__all__ = ["SEEDS", "KS", "RAT_KS", "TRAIN", "RAT", "model_path", "per_seed", "load_meta", "train", "accuracy_report",
           "finetune_report"]

SEEDS = (0, 1, 2, 3, 4)
KS = (32, 16, 8, 6, 5, 4, 3, 2)
RAT_KS = (4, 3, 2)
CONTROL_K = 32
TRAIN = {"epochs": 12, "batch": 128, "lr": 5e-3, "calibration_samples": 2000}
RAT = {"epochs": 2, "batch": 256, "train_samples": 4000, "lr_grid": (3e-4, 1e-3, 3e-3)}
MODELS = network.ROOT / "models" / "mnist1d"
REPORTS = network.ROOT / "reports"
# Layers whose error build-up is plotted (the first samples of the test split suffice).
BUILDUP_KS = (8, 4, 3, 2)
BUILDUP_SAMPLES = 2000
#: Seeds evaluated at once (one process each): the machine's two cores.
JOBS = 2


# The test split, quantized for the stored models' input (the same calibration data,
# hence the same input quantization, for every seed): for `python -m accuracy evaluate`.
EVALUATE_DATA = network.ROOT / "build" / "mnist1d_test_int8.npz"


def _quiet(*_):
    pass


def model_path(out_dir, seed, tag):
    """The stored model ``tag`` (``ptq``, ``rat_k<K>``, ``control_k32``) of ``seed`` in ``out_dir``."""
    return Path(out_dir) / f"seed{seed}_{tag}.tflite"


def _acc(model, xq, y, k):
    out = interpreter.run_batched(model, xq, k=k)
    return float((out.argmax(axis=1) == y).mean())


def per_seed(work, seeds, jobs):
    """``[work(seed) for seed in seeds]``, with up to ``jobs`` seeds at once in worker
    processes (each seed's result is computed the same way either way)."""
    jobs = max(1, min(int(jobs), len(seeds)))
    if jobs == 1:
        return [work(seed) for seed in seeds]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(work, seeds))


def train(*, spec=network.SPEC, data_cfg=None, seeds=SEEDS, out_dir=MODELS, train_cfg=TRAIN, rat_cfg=RAT,
          rat_ks=RAT_KS, log=print):
    """Train, quantize and fine-tune every seed; write the models and ``meta.json``."""
    t0, log = time.time(), log or _quiet
    data_cfg = dict(network.DATA if data_cfg is None else data_cfg)
    log(f"MNIST-1D: generating {data_cfg} (make_dataset, offline) ...")
    data = network.make_data(**data_cfg)
    xv, yv = data["val"]
    meta = {"spec": {"stem": spec.stem, "kernel": spec.kernel, "blocks": [list(b) for b in spec.blocks],
                     "length": spec.length, "classes": spec.classes},
            "data": data_cfg, "train": train_cfg, "rat": {**rat_cfg, "lr_grid": list(rat_cfg["lr_grid"])},
            "rescaled_layers": network.rescaled_layers(spec), "seeds": list(seeds), "val_accuracy": {}}
    ptq = {}
    for seed in seeds:
        log(f"  seed {seed}: training the float network ({train_cfg['epochs']} epochs) ...")
        net = network.train_float(spec, data, seed=seed, epochs=train_cfg["epochs"], batch=train_cfg["batch"],
                               lr=train_cfg["lr"], log=log)
        params = network.quantize(net, data["train"][0][:train_cfg["calibration_samples"]])
        network.save_tflite(spec, params, model_path(out_dir, seed, "ptq"))
        model = network.to_model(spec, params)
        meta["val_accuracy"][f"seed{seed}_ptq"] = _acc(model, network.quantize_input(model, xv), yv, None)
        ptq[seed] = (params, model)
    # RAT: one learning rate per k, chosen on the validation split with the first seed.
    from . import finetune
    n = rat_cfg["train_samples"]
    xt, yt = data["train"][0][:n], data["train"][1][:n]
    chosen = {}
    for k in tuple(rat_ks) + (CONTROL_K,):
        params, model = ptq[seeds[0]]
        xtq, xvq = network.quantize_input(model, xt), network.quantize_input(model, xv)
        scores = {}
        for lr in rat_cfg["lr_grid"]:
            tuned = finetune.finetune(spec, params, xtq, yt, k, epochs=rat_cfg["epochs"], lr=lr,
                                 batch=rat_cfg["batch"], seed=seeds[0])
            scores[lr] = _acc(network.to_model(spec, tuned), xvq, yv, k)
        chosen[k] = max(scores, key=lambda lr: (scores[lr], -lr))
        log(f"  RAT k={k}: validation accuracy by learning rate {scores} -> {chosen[k]}")
        meta.setdefault("rat_lr_search", {})[str(k)] = {str(lr): v for lr, v in scores.items()}
    meta["rat_lr"] = {str(k): lr for k, lr in chosen.items()}
    for seed in seeds:
        params, model = ptq[seed]
        xtq = network.quantize_input(model, xt)
        for k in tuple(rat_ks) + (CONTROL_K,):
            tag = f"control_k{k}" if k == CONTROL_K else f"rat_k{k}"
            log(f"  seed {seed}: fine-tuning at k={k} ({tag}) ...")
            tuned = finetune.finetune(spec, params, xtq, yt, k, epochs=rat_cfg["epochs"], lr=chosen[k],
                                 batch=rat_cfg["batch"], seed=seed)
            network.save_tflite(spec, tuned, model_path(out_dir, seed, tag))
    write_json(Path(out_dir) / "meta.json", meta)  # no run time in it: make train reproduces it byte for byte
    log(f"wrote {len(seeds)} seeds of models to {out_dir} in {time.time() - t0:.1f} s")
    return meta


def load_meta(model_dir):
    """The stored models' ``meta.json`` (data set, seeds, training settings)."""
    path = Path(model_dir) / "meta.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no stored MNIST-1D models (run make train)") from None


def _test_split(meta, limit=None):
    x, y = network.make_data(**meta["data"])["test"]
    return (x[:limit], y[:limit]) if limit else (x, y)


def _margins(logits):
    """Top-1 minus top-2 int8 logit, per sample (LSB)."""
    top = np.sort(logits.astype(np.int64), axis=1)
    return top[:, -1] - top[:, -2]


def _buildup(model, ref, prop, k):
    """Per rescaled layer: fraction of outputs that differ from the k=32 run ``ref`` when
    the whole network runs at ``k`` (``prop``, propagated) and when only that layer
    does, on the k=32 run's inputs (isolated). ``ref``, ``prop``: ``run(..., keep=True)``."""
    rows = []
    for op in model.ops:
        if op.name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        out = op.outputs[0]
        iso = interpreter.run_op(model, op, ref, k=k)
        rows.append({"layer": model.tensors[out].name,
                     "propagated_changed": float((prop[out] != ref[out]).mean()),
                     "isolated_changed": float((iso != ref[out]).mean()),
                     "propagated_mean_abs": float(np.abs(prop[out].astype(np.int64) - ref[out]).mean()),
                     "isolated_mean_abs": float(np.abs(iso.astype(np.int64) - ref[out]).mean())})
    return rows


class _SeedAccuracy:
    """One seed's part of :func:`accuracy_report` (a picklable callable for worker processes)."""

    def __init__(self, model_dir, x, y, ks, log):
        self.model_dir, self.x, self.y, self.ks, self.log = model_dir, x, y, ks, log

    def __call__(self, seed):
        model = reader.load(model_path(self.model_dir, seed, "ptq"))
        xq, y = network.quantize_input(model, self.x), self.y
        self.log(f"  seed {seed}: {len(xq)} test samples at TFLite mode and k = {', '.join(map(str, self.ks))} ...")
        correct = {"TFLite": interpreter.run_batched(model, xq).argmax(axis=1) == y}
        margins = None
        for k in self.ks:
            out = interpreter.run_batched(model, xq, k=k)
            correct[k] = out.argmax(axis=1) == y
            if k == 32:
                margins = _margins(out)
        xb = xq[:BUILDUP_SAMPLES]
        ref = interpreter.run(model, xb, k=32, keep=True)
        buildup = {k: _buildup(model, ref, interpreter.run(model, xb, k=k, keep=True), k) for k in BUILDUP_KS}
        return correct, margins, buildup


def accuracy_report(*, model_dir=MODELS, out_dir=REPORTS, ks=KS, limit=None, evaluate_data=EVALUATE_DATA,
                    jobs=JOBS, log=print):
    """Evaluate every stored PTQ model at every ``k``; write reports/mnist1d_accuracy.*
    and (unless ``evaluate_data`` is None) the quantized test split there. ``jobs``:
    seeds evaluated at once."""
    t0, log = time.time(), log or _quiet
    meta = load_meta(model_dir)
    x, y = _test_split(meta, limit)
    if evaluate_data:
        first = reader.load(model_path(model_dir, meta["seeds"][0], "ptq"))
        network.save_npz(evaluate_data, x=network.quantize_input(first, x), y=y)
    seed_results = per_seed(_SeedAccuracy(model_dir, x, y, ks, log),
                         meta["seeds"], jobs)
    correct = {"TFLite": []} | {k: [] for k in ks}
    margins, buildup = [], {k: [] for k in BUILDUP_KS}
    for seed_correct, seed_margins, seed_buildup in seed_results:
        for mode, c in seed_correct.items():
            correct[mode].append(c)
        if seed_margins is not None:
            margins.append(seed_margins)
        for k, rows in seed_buildup.items():
            buildup[k].append(rows)
    base = correct[32] if 32 in correct else correct["TFLite"]
    rows = []
    for mode, c in correct.items():
        row = {"mode": mode if mode == "TFLite" else f"k={mode}", "k": None if mode == "TFLite" else mode,
               **stats.summary(c)}
        if mode != 32:
            row["vs_k32"] = stats.paired(c, base)
        rows.append(row)
    m = np.concatenate(margins)
    layers = [r["layer"] for r in buildup[BUILDUP_KS[0]][0]]
    build = {str(k): {key: [float(np.mean([seed_rows[i][key] for seed_rows in buildup[k]])) for i in range(len(layers))]
                      for key in ("propagated_changed", "isolated_changed", "propagated_mean_abs", "isolated_mean_abs")}
             for k in BUILDUP_KS}
    result = {"workload": "MNIST-1D MobileNet-style int8 network", "test_samples": int(len(y)),
              "seeds": meta["seeds"], "rescaled_layers": meta["rescaled_layers"], "rows": rows,
              "margin_lsb": {"median": float(np.median(m)), "p10": float(np.percentile(m, 10)),
                             "p90": float(np.percentile(m, 90)), "fraction_le_2": float((m <= 2).mean()),
                             "histogram": np.bincount(np.minimum(m, 100), minlength=101).tolist()},
              "buildup": {"layers": layers, "samples": min(BUILDUP_SAMPLES, len(y)), "by_k": build},
              "seconds": round(time.time() - t0, 1)}
    out_dir = Path(out_dir)
    write_report(out_dir, "mnist1d_accuracy", result, _accuracy_markdown(result))
    _plot_accuracy(result, out_dir / "mnist1d_accuracy.png")
    _plot_buildup(result, out_dir / "mnist1d_error_buildup.png")
    log(f"wrote {out_dir}/mnist1d_accuracy.{{json,md,png}} and mnist1d_error_buildup.png in {result['seconds']} s")
    return result


def _p(p):
    """A p-value for a table; one below the smallest float prints as such."""
    return "< 1e-300" if p < 1e-300 else f"{p:.3g}"


def _ci(row):
    return f"{row['accuracy']:.2f} ({row['ci95'][0]:.2f}..{row['ci95'][1]:.2f})"


def _accuracy_markdown(r):
    n, seeds = r["test_samples"], len(r["seeds"])
    lines = [
        "# Accuracy against k: MNIST-1D MobileNet-style int8 network",
        "",
        f"{len(r['rescaled_layers'])} rescaled layers ({', '.join(r['rescaled_layers'])}), depthwise-separable "
        f"blocks with batch norm folded, a residual ADD and a MEAN; {seeds} independently trained seeds; "
        f"{n} generated test samples per seed, integer-only through sim.golden. Regenerate with "
        f"`make accuracy`; one model at a time: `python -m accuracy evaluate "
        f"models/mnist1d/seed0_ptq.tflite --data build/mnist1d_test_int8.npz --k 8,4,3`.",
        "",
        "Accuracy is the mean over seeds; its 95 % CI comes from a bootstrap over test samples. "
        "The difference against k = 32 is paired (same samples, same seeds), with a paired-bootstrap "
        "95 % CI and McNemar's exact test on the pooled discordant pairs.",
        "",
        "| mode | accuracy % (95 % CI) | seed SD | vs k=32, points (95 % CI) | gained / lost | McNemar p |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        v = row.get("vs_k32")
        comp = f"{_diff(v)} | {v['gained']} / {v['lost']} | {_p(v['mcnemar_p'])}" if v else "(reference) | | "
        lines.append(f"| {row['mode']} | {_ci(row)} | {row['seed_sd']:.2f} | {comp} |")
    mg = r["margin_lsb"]
    widest = max(row["vs_k32"]["diff_ci95"][1] - row["vs_k32"]["diff_ci95"][0] for row in r["rows"] if "vs_k32" in row)
    lines += [
        "",
        f"Top-1/top-2 int8 logit margin at k = 32: median {mg['median']:.0f} LSB (10th percentile "
        f"{mg['p10']:.0f}, 90th {mg['p90']:.0f}); {100 * mg['fraction_le_2']:.1f} % of samples within 2 LSB.",
        "",
        "## What this workload can and cannot resolve",
        "",
        f"The widest paired 95 % interval above spans {widest:.2f} points: a change of k that moves accuracy by "
        f"more than about half that is resolved; smaller effects are not. The TFLite row is LiteRT's reference "
        f"kernels' arithmetic (31-bit multipliers, double rounding), not its default XNNPACK kernels. "
        f"Seed-to-seed spread (seed SD) is larger than the paired differences at wide k: compare k values "
        f"within a seed, never across trainings.",
        "",
        "## Error build-up through depth",
        "",
        f"Fraction of each rescaled layer's int8 outputs that differ from the k = 32 run ({r['buildup']['samples']} "
        "test samples, mean over seeds): *propagated* runs the whole network at k, *isolated* feeds the layer "
        "the k = 32 run's inputs (what a per-layer error model assumes). Figure: mnist1d_error_buildup.png.",
        "",
        "| layer | " + " | ".join(f"k={k} prop. / isol." for k in r["buildup"]["by_k"]) + " |",
        "|---|" + "---|" * len(r["buildup"]["by_k"]),
    ]
    for i, layer in enumerate(r["buildup"]["layers"]):
        cells = [f"{100 * b['propagated_changed'][i]:.1f} % / {100 * b['isolated_changed'][i]:.1f} %"
                 for b in r["buildup"]["by_k"].values()]
        lines.append(f"| {layer} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _plot_accuracy(r, path):
    plt = pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    rows = [row for row in r["rows"] if row["k"] is not None]
    ks = [row["k"] for row in rows]
    acc = np.array([row["accuracy"] for row in rows])
    err = np.array([[row["accuracy"] - row["ci95"][0], row["ci95"][1] - row["accuracy"]] for row in rows]).T
    ax.errorbar(ks, acc, yerr=err, marker="o", capsize=3)
    tfl = next(row for row in r["rows"] if row["k"] is None)
    ax.axhline(tfl["accuracy"], color="gray", linestyle=":", label="TFLite mode (reference kernels)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_xlabel("multiplier width k (bits)")
    ax.set_ylabel("test accuracy, % (mean of seeds, 95 % CI)")
    ax.legend(fontsize=8)
    hist = np.array(r["margin_lsb"]["histogram"])
    ax2.bar(np.arange(hist.size), hist, width=1.0)
    ax2.set_xlabel("top-1 minus top-2 int8 logit at k = 32 (LSB; last bin >= 100)")
    ax2.set_ylabel("samples (all seeds)")
    fig.suptitle("MNIST-1D int8 network: accuracy against k and logit margins")
    fig.tight_layout()
    save(fig, path)


def _plot_buildup(r, path):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    layers = r["buildup"]["layers"]
    x = np.arange(len(layers))
    for k, b in r["buildup"]["by_k"].items():
        line, = ax.plot(x, 100 * np.array(b["propagated_changed"]), marker="o", label=f"k={k} propagated")
        ax.plot(x, 100 * np.array(b["isolated_changed"]), marker="x", linestyle="--", color=line.get_color(),
                label=f"k={k} isolated")
    ax.set_xticks(x)
    ax.set_xticklabels(layers, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("outputs differing from k = 32, %")
    ax.set_title("Error build-up through depth (propagated) vs per-layer error (isolated)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    save(fig, path)


class _SeedFinetune:
    """One seed's part of :func:`finetune_report` (a picklable callable for worker processes)."""

    def __init__(self, model_dir, x, y, ks, log):
        self.model_dir, self.x, self.y, self.ks, self.log = model_dir, x, y, ks, log

    def __call__(self, seed):
        ks, y = self.ks, self.y
        models = {tag: reader.load(model_path(self.model_dir, seed, tag))
                  for tag in ["ptq", f"control_k{CONTROL_K}"] + [f"rat_k{k}" for k in ks]}
        xq = network.quantize_input(models["ptq"], self.x)
        self.log(f"  seed {seed}: PTQ, control and RAT models at k = {', '.join(map(str, ks))} ...")

        def correct(tag, k):
            return interpreter.run_batched(models[tag], xq, k=k).argmax(axis=1) == y

        ctrl = f"control_k{CONTROL_K}"
        ctrl32, ptq32 = correct(ctrl, 32), correct("ptq", 32)
        return {k: {"ptq": correct("ptq", k), "control": correct(ctrl, k), "rat": correct(f"rat_k{k}", k),
                    "rat_at_32": correct(f"rat_k{k}", 32), "control_at_32": ctrl32, "ptq_at_32": ptq32}
                for k in ks}


def finetune_report(*, model_dir=MODELS, out_dir=REPORTS, ks=RAT_KS, limit=None, jobs=JOBS, log=print):
    """Stored RAT models against their controls and PTQ, on the test split (the same
    samples as :func:`accuracy_report`); writes reports/mnist1d_finetune.{json,md}."""
    t0, log = time.time(), log or _quiet
    meta = load_meta(model_dir)
    x, y = _test_split(meta, limit)
    seed_results = per_seed(_SeedFinetune(model_dir, x, y, ks, log), meta["seeds"], jobs)
    rows = []
    for k in ks:
        r = {name: [seed[k][name] for seed in seed_results] for name in seed_results[0][k]}
        rows.append({"k": k, **{name: stats.summary(c) for name, c in r.items()},
                     "rat_vs_control": stats.paired(r["rat"], r["control"]),
                     "rat_vs_ptq": stats.paired(r["rat"], r["ptq"]),
                     "control_vs_ptq": stats.paired(r["control"], r["ptq"]),
                     "rat_vs_ptq_k32": stats.paired(r["rat"], r["ptq_at_32"])})
    result = {"test_samples": int(len(y)), "seeds": meta["seeds"], "rat": meta["rat"], "rat_lr": meta["rat_lr"],
              "rat_lr_search": meta.get("rat_lr_search"), "rows": rows, "seconds": round(time.time() - t0, 1)}
    write_report(out_dir, "mnist1d_finetune", result, _finetune_markdown(result))
    log(f"wrote {out_dir}/mnist1d_finetune.{{json,md}} in {result['seconds']} s")
    return result


def _diff(v):
    """A paired difference with its CI, in points."""
    return f"{v['diff_points']:+.2f} ({v['diff_ci95'][0]:+.2f}..{v['diff_ci95'][1]:+.2f})"


def _finetune_markdown(r):
    cfg = r["rat"]
    lines = [
        "# Rescale-aware fine-tuning (RAT): MNIST-1D int8 network",
        "",
        f"Each seed's PTQ model is fine-tuned for {cfg['epochs']} epochs on {cfg['train_samples']} training samples "
        "with the exact integer forward pass at k (straight-through gradients, accuracy/finetune.py). The *control* is "
        f"the same fine-tuning at k = {CONTROL_K}: the part of RAT's gain that is ordinary further training. "
        f"Learning rates were chosen on the validation split (first seed) from {cfg['lr_grid']}: "
        + ", ".join(f"k={k}: {lr}" for k, lr in r["rat_lr"].items())
        + f". Test split: {r['test_samples']} samples per seed, {len(r['seeds'])} seeds, the same samples as "
        "mnist1d_accuracy.md; it is never read to choose a hyper-parameter. Regenerate with `make finetune`.",
        "",
        "| k | PTQ at k | control at k | RAT at k | RAT - control, points (95 % CI) | McNemar p | "
        "RAT at k - PTQ at k=32, points (95 % CI) | RAT at k=32 | control at k=32 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        v = row["rat_vs_control"]
        lines.append(f"| {row['k']} | {_ci(row['ptq'])} | {_ci(row['control'])} | {_ci(row['rat'])} | "
                     f"{_diff(v)} | {_p(v['mcnemar_p'])} | {_diff(row['rat_vs_ptq_k32'])} | "
                     f"{_ci(row['rat_at_32'])} | {_ci(row['control_at_32'])} |")
    lines += ["", "Accuracies in %, mean over seeds, 95 % CI by bootstrap over test samples; differences paired "
              "(same samples, same seeds) with a paired-bootstrap 95 % CI and McNemar's exact test."]
    return "\n".join(lines) + "\n"
