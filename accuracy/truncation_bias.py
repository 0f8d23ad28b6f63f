"""Truncation bias of the paper's k-bit multiplier, measured, and two cost-free ways to remove it.

The paper derives ``m`` by truncation, so ``M_q = m 2^-s <= M``: every rescaled
output is pulled toward its zero point by the relative error ``e/M < 2^(1-k)``, on
every layer in the same direction. Two remedies need no new hardware:

* ``round``: ``m`` rounded to nearest on ``k`` bits (``quantize_multiplier(...,
  method="nearest")``): the stored ``m`` changes, nothing else; its ``(m, s)`` are legal
  operands of every rescaler variant, which the formal proofs cover;
* ``+comp``: bias compensation, ``b_eff += round(a e / M_q)`` per output channel from
  the mean accumulator ``a`` on calibration data (:func:`accuracy.tflite.interpreter.calibrate`):
  the stored ``b_eff`` changes, nothing else.

:func:`mnist1d_study` measures their accuracy on the MNIST-1D workload (every seed,
the committed test set, calibration on the training samples the models were
quantized with) against ``k = 32``, paired, and against truncation at the same ``k``.
:func:`deep_study` measures, on a deep converter-made network (random inputs drawn
like its calibration set), each layer's mean signed output error when fed TFLite-mode
inputs (isolated), each layer's output magnitude ``|y - Zy|`` when the whole network
runs at ``k`` (propagated) against TFLite mode, and the end-to-end magnitude ratio
with a bootstrap CI. :func:`report` writes both as ``truncation_bias.{json,md}`` and
a figure (``make truncation-bias``).
"""

import time
from pathlib import Path

import numpy as np

from toolkit.figures import pyplot, save
from toolkit.markdown import table

from . import stats
from .mnist1d import experiments, network
from .results import write_report
from .tflite import interpreter, reader
from .tflite.quant import quantize_input

__all__ = ["METHODS", "KS", "BASE_K", "DEEP_MODEL", "random_inputs", "mnist1d_study", "deep_study", "report"]

#: ``name -> (multiplier, bias compensation)``.
METHODS = {"truncate": ("truncate", False), "round": ("round", False), "truncate+comp": ("truncate", True),
           "round+comp": ("round", True)}
KS = (3, 4, 5, 6, 8)
BASE_K = 32
#: MNIST-1D: the bias compensation's mean accumulators come from the first training
#: samples, the data the models were quantized with (never the test split).
CALIBRATION_SAMPLES = experiments.TRAIN["calibration_samples"]
DEEP_MODEL = network.ROOT / "models" / "converted" / "mobilenetv2_035_96_int8.tflite"
#: Deep network: evaluated samples, calibration samples (another seed), batch size.
DEEP = {"samples": 256, "calibration": 64, "seed": 7, "batch": 32}
#: Random images in [-1, 1], as the converted model was calibrated with.
RANDOM_RANGE = (-1.0, 1.0)


def random_inputs(model, n, seed):
    """``n`` random images uniform in :data:`RANDOM_RANGE`, quantized to ``model``'s
    (one) input as TFLite's QUANTIZE does."""
    t = model.tensors[model.inputs[0]]
    return quantize_input(np.random.default_rng(seed).uniform(*RANDOM_RANGE, (n,) + tuple(t.shape[1:])), t)


def _run_kw(method, means):
    multiplier, comp = METHODS[method]
    return {"multiplier": multiplier, "bias_compensation": means if comp else None}


def _magnitude(model, tensor, y):
    """Per sample ``sum |y - Zy|`` of the values ``y`` of ``model``'s tensor ``tensor``."""
    zp = int(model.tensors[tensor].zero_point[0])
    return np.abs(y.reshape(len(y), -1).astype(np.int64) - zp).sum(axis=1)


class _SeedStudy:
    """One seed's part of :func:`mnist1d_study` (a picklable callable for worker processes)."""

    def __init__(self, model_dir, x, y, x_cal, ks, methods, log):
        self.model_dir, self.x, self.y, self.x_cal = model_dir, x, y, x_cal
        self.ks, self.methods, self.log = ks, methods, log

    def __call__(self, seed):
        model = reader.load(experiments.model_path(self.model_dir, seed, "ptq"))
        xq, y = network.quantize_input(model, self.x), self.y
        means = interpreter.calibrate(model, network.quantize_input(model, self.x_cal))
        self.log(f"  seed {seed}: {len(xq)} test samples, k = {', '.join(map(str, self.ks))} x "
                 f"{', '.join(self.methods)} ...")
        out = model.outputs[0]
        runs = {"tflite": interpreter.run_batched(model, xq),
                (BASE_K, "truncate"): interpreter.run_batched(model, xq, k=BASE_K)}
        for k in self.ks:
            for method in self.methods:
                runs[(k, method)] = interpreter.run_batched(model, xq, k=k, **_run_kw(method, means))
        return ({mode: o.argmax(axis=1) == y for mode, o in runs.items()},
                {mode: _magnitude(model, out, o) for mode, o in runs.items()})


def mnist1d_study(*, model_dir=experiments.MODELS, ks=KS, methods=tuple(METHODS), limit=None,
                  jobs=experiments.JOBS, log=print):
    """Accuracy of every method at every ``k`` on the MNIST-1D test set, every seed."""
    meta = experiments.load_meta(model_dir)
    data = network.make_data(**meta["data"])
    x, y = data["test"]
    if limit:
        x, y = x[:limit], y[:limit]
    x_cal = data["train"][0][:CALIBRATION_SAMPLES]
    seed_results = experiments.per_seed(_SeedStudy(model_dir, x, y, x_cal, ks, methods, log), meta["seeds"], jobs)
    correct = {mode: [seed[0][mode] for seed in seed_results] for mode in seed_results[0][0]}
    magnitude = {mode: np.concatenate([seed[1][mode] for seed in seed_results]) for mode in seed_results[0][1]}
    base = correct[(BASE_K, "truncate")]
    rows = []
    for mode, c in correct.items():
        k, method = (None, "TFLite mode") if mode == "tflite" else mode
        row = {"k": k, "method": method, **stats.summary(c),
               "logit_magnitude_ratio": stats.bootstrap_ratio(magnitude[mode], magnitude["tflite"])}
        if mode != (BASE_K, "truncate"):
            row["vs_k32"] = stats.paired(c, base)
        if k is not None and method != "truncate":
            row["vs_truncate"] = stats.paired(c, correct[(k, "truncate")])
        rows.append(row)
    return {"test_samples": int(len(y)), "seeds": meta["seeds"], "calibration_samples": int(len(x_cal)),
            "rows": rows}


def deep_study(model_path=DEEP_MODEL, *, ks=KS, methods=tuple(METHODS), samples=DEEP["samples"],
               calibration=DEEP["calibration"], seed=DEEP["seed"], batch=DEEP["batch"], inputs_out=None,
               progress=None):
    """Per-layer mean signed error (isolated) and output magnitude (propagated), and the
    end-to-end magnitude ratio, of every method at every ``k`` on the model at
    ``model_path`` with random inputs; ``inputs_out`` (an .npz path) keeps the inputs
    (for ``advise``)."""
    model = reader.load(model_path)
    x = random_inputs(model, samples, seed)
    if inputs_out is not None:
        network.save_npz(inputs_out, x=x)
    means = interpreter.calibrate(model, random_inputs(model, calibration, seed + 1))
    ops = [op for op in model.ops if op.name in interpreter.DEFAULT_NARROW]
    modes = [(k, method) for k in ks for method in methods]
    iso = {mode: np.zeros((len(ops), 4)) for mode in modes}       # changed, |dy|, dy, count
    mag = {mode: np.zeros(len(ops)) for mode in modes + ["tflite"]}
    end = {mode: [] for mode in modes + ["tflite"]}
    top1 = {mode: [] for mode in modes}
    out, t0 = model.outputs[0], time.time()
    for start in range(0, samples, batch):
        xb = x[start:start + batch]
        nb = len(xb)
        ref = interpreter.run(model, xb, keep=True)
        end["tflite"].append(_magnitude(model, out, ref[out]))
        for i, op in enumerate(ops):
            mag["tflite"][i] += _magnitude(model, op.outputs[0], ref[op.outputs[0]]).sum()
        for k, method in modes:
            kw = _run_kw(method, means)
            got = interpreter.run(model, xb, k=k, keep=True, **kw)
            end[(k, method)].append(_magnitude(model, out, got[out]))
            top1[(k, method)].append(got[out].reshape(nb, -1).argmax(1) == ref[out].reshape(nb, -1).argmax(1))
            for i, op in enumerate(ops):
                t = op.outputs[0]
                d = interpreter.run_op(model, op, ref, k=k, **kw).astype(np.int64) - ref[t]
                iso[(k, method)][i] += (np.count_nonzero(d), np.abs(d).sum(), d.sum(), d.size)
                mag[(k, method)][i] += _magnitude(model, t, got[t]).sum()
        if progress:
            progress(start + nb, samples, time.time() - t0)
    ref_end = np.concatenate(end["tflite"])
    results = []
    for k, method in modes:
        s = iso[(k, method)]
        signed = s[:, 2] / s[:, 3]
        results.append({
            "k": k, "method": method,
            "end_to_end_magnitude_ratio": stats.bootstrap_ratio(np.concatenate(end[(k, method)]), ref_end),
            "top1_agreement_with_tflite": 100 * float(np.concatenate(top1[(k, method)]).mean()),
            "layers_negative": int((signed < 0).sum()), "mean_signed_over_layers": float(signed.mean()),
            "isolated_mean_signed": signed.tolist(), "isolated_mean_abs": (s[:, 1] / s[:, 3]).tolist(),
            "isolated_changed": (s[:, 0] / s[:, 3]).tolist(),
            "propagated_magnitude_ratio": (mag[(k, method)] / np.maximum(mag["tflite"], 1)).tolist()})
    return {"model": str(model_path), "samples": samples, "calibration_samples": calibration, "input_seed": seed,
            "layers": [{"index": op.index, "op": op.name, "name": model.tensors[op.outputs[0]].name.split(";")[0]}
                       for op in ops], "results": results, "seconds": round(time.time() - t0, 1)}


# --- the report ---------------------------------------------------------------------------------

RTL = ("Neither remedy needs new hardware. Rounding changes only the stored m: round-to-nearest on k bits keeps "
       "2^(k-1) <= m < 2^k (a carry renormalizes to 2^(k-1) with s - 1) or underflows gradually like truncation, so "
       "every rounded (m, s) is a legal operand of every rescaler variant (trim_shift and hidden_bit included), "
       "which the formal proofs cover for every k; the quantizer is compile-time software, not RTL. Bias "
       "compensation changes only the stored b_eff, which the engine already loads per output channel on the "
       "first beat: |d| = |round(a e / M_q)| < |a| 2^(1-k) for a mean accumulator a, so b_eff + d leaves int32 only "
       "if the accumulator itself is near overflow. What the hardware computes stays Eq. (1), bit-exact with the "
       "golden model; only the compiler's numbers change.")


def _p(p):
    return "< 1e-300" if p < 1e-300 else f"{p:.2g}"


def _diff(v):
    return f"{v['diff_points']:+.2f} ({v['diff_ci95'][0]:+.2f}..{v['diff_ci95'][1]:+.2f})"


def _ratio(r):
    return f"{r[0]:.3f} ({r[1]:.3f}..{r[2]:.3f})"


def _markdown(r):
    m, d = r["mnist1d"], r["deep"]
    lines = ["# Truncation bias of the k-bit multiplier, measured and removed", "",
             "The paper's truncated multiplier (m <= M 2^s) pulls every output toward its zero point. Compared here: "
             "**truncate** (the paper, the default, bit-exact with the RTL), **round** (m rounded to nearest on k "
             "bits), and each with **+comp** (bias compensation: the expected multiplier error of every output "
             "channel folded into its b_eff, from mean accumulators on calibration data). Regenerate with "
             "`make truncation-bias` (`PUBLISH=1`: this file).", "",
             "## What the RTL needs", "", RTL, "",
             f"## MNIST-1D ({len(m['seeds'])} seeds x {m['test_samples']} test samples)", "",
             f"Accuracy is the mean over seeds with a bootstrap 95 % CI over test samples; differences are paired "
             f"(same samples, same seeds) with a paired-bootstrap 95 % CI and McNemar's exact p on the pooled "
             f"discordant pairs. Bias compensation is calibrated on the first {m['calibration_samples']} training "
             f"samples (the models' quantization data). Logit |y - Zy|: the output magnitude against TFLite mode "
             f"(bootstrap 95 % CI over samples).", ""]
    body = []
    for row in m["rows"]:
        vs = row.get("vs_k32")
        vt = row.get("vs_truncate")
        body.append([row["k"] or "-", row["method"], f"{row['accuracy']:.2f} ({row['ci95'][0]:.2f}..{row['ci95'][1]:.2f})",
                     _diff(vs) if vs else "(reference)", _p(vs["mcnemar_p"]) if vs else "",
                     _diff(vt) if vt else "", _p(vt["mcnemar_p"]) if vt else "", _ratio(row["logit_magnitude_ratio"])])
    lines += table(["k", "multiplier", "accuracy % (95 % CI)", "vs k=32 truncate, pt (95 % CI)", "McNemar p",
                    "vs truncate at k, pt (95 % CI)", "McNemar p", "logit |y - Zy| vs TFLite (95 % CI)"], body, "rlrrrrrr")
    lines += ["", f"## Deep converter-made network: {Path(d['model']).name}", "",
              f"{len(d['layers'])} dot-product layers; {d['samples']} random inputs (seed {d['input_seed']}), bias "
              f"compensation calibrated on {d['calibration_samples']} others. *Isolated*: each layer fed the "
              f"TFLite-mode run's inputs, its mean signed output error (LSB) against TFLite mode. *End to end*: "
              f"sum |y - Zy| of the logits with the whole network at k, over TFLite mode's (bootstrap 95 % CI). "
              f"The weights are random: this network amplifies 1-LSB differences (see top-1 agreement), so "
              f"end-to-end figures are a stress test of the bias, not an accuracy.", ""]
    body = [[x["k"], x["method"], _ratio(x["end_to_end_magnitude_ratio"]), f"{x['top1_agreement_with_tflite']:.1f}",
             f"{x['mean_signed_over_layers']:+.4f}", f"{x['layers_negative']} / {len(d['layers'])}"]
            for x in d["results"]]
    lines += table(["k", "multiplier", "end-to-end |y - Zy| vs TFLite (95 % CI)", "top-1 agreement with TFLite %",
                    "isolated mean signed error, mean over layers (LSB)", "layers with a negative mean"], body,
                   "rlrrrr")
    for k in sorted({x["k"] for x in d["results"]} & {4, 8}):
        res = [x for x in d["results"] if x["k"] == k]
        lines += ["", f"### Per layer at k = {k}: isolated mean signed error (LSB) / propagated |y - Zy| ratio", ""]
        body = [[layer["index"], layer["name"], layer["op"]]
                + [f"{x['isolated_mean_signed'][i]:+.3f} / {x['propagated_magnitude_ratio'][i]:.3f}" for x in res]
                for i, layer in enumerate(d["layers"])]
        lines += table(["#", "layer", "op"] + [x["method"] for x in res], body, "rll" + "r" * len(res))
    lines += ["", "Figure: `truncation_bias.png` (per-layer propagated magnitude ratio and isolated mean signed "
              "error through depth).", ""]
    return "\n".join(lines)


def _plot(r, path):
    d = r["deep"]
    plt = pyplot()
    ks = sorted({x["k"] for x in d["results"]} & {4, 8})
    fig, axes = plt.subplots(2, len(ks), figsize=(6 * len(ks), 7), squeeze=False)
    depth = np.arange(len(d["layers"]))
    for j, k in enumerate(ks):
        for x in (x for x in d["results"] if x["k"] == k):
            axes[0][j].plot(depth, x["propagated_magnitude_ratio"], label=x["method"])
            axes[1][j].plot(depth, x["isolated_mean_signed"], label=x["method"])
        axes[0][j].set_title(f"k = {k}: |y - Zy| over TFLite mode's, whole network at k", fontsize=9)
        axes[1][j].set_title(f"k = {k}: mean signed error of each layer fed TFLite-mode inputs (LSB)", fontsize=9)
        for ax in axes[:, j]:
            ax.axhline(1.0 if ax is axes[0][j] else 0.0, color="gray", linewidth=0.8)
            ax.set_xlabel("dot-product layer (depth)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(f"Truncation bias through depth: {Path(d['model']).name}")
    fig.tight_layout()
    save(fig, path, dpi=110)


def report(*, out_dir, model_dir=experiments.MODELS, deep_model=DEEP_MODEL, ks=KS, limit=None,
           deep_samples=DEEP["samples"], jobs=experiments.JOBS, inputs_out=None, log=print, progress=None):
    """Both studies; writes ``truncation_bias.{json,md,png}`` into ``out_dir``."""
    t0 = time.time()
    reader.load(deep_model)  # a bad file is refused before the long run
    log(f"MNIST-1D: every seed at k = {', '.join(map(str, ks))} x {', '.join(METHODS)} ...")
    mnist = mnist1d_study(model_dir=model_dir, ks=ks, limit=limit, jobs=jobs, log=log)
    log(f"{Path(deep_model).name}: {deep_samples} random inputs, every layer isolated and propagated ...")
    deep = deep_study(deep_model, ks=ks, samples=deep_samples, inputs_out=inputs_out, progress=progress)
    result = {"methods": {name: {"multiplier": mult, "bias_compensation": comp} for name, (mult, comp) in METHODS.items()},
              "ks": list(ks), "rtl": RTL, "mnist1d": mnist, "deep": deep, "seconds": round(time.time() - t0, 1)}
    out_dir = Path(out_dir)
    write_report(out_dir, "truncation_bias", result, _markdown(result))
    _plot(result, out_dir / "truncation_bias.png")
    log(f"wrote {out_dir}/truncation_bias.{{json,md,png}} in {result['seconds']} s")
    return result
