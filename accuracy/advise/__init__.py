"""``python -m accuracy advise``: which rescaler width k for this model, at what cost.

:func:`advise` joins, for one int8 ``.tflite`` model and a data set:

* the accuracy side, measured on the data (:mod:`.runs`, statistics and the
  decision in :mod:`.decide`): every ``k`` against ``k = 32``, paired;
* the engine's area and delay per ``(k, MACS)``, from the published sweep, the
  user's own synthesis results, or the analytic model, each number naming its
  source (:mod:`.costs`);
* the energy of one inference of *this* model: its dot-product layers' outputs
  times the published energy-per-output model at their beats per output
  (:mod:`.layers`, :func:`costmodel.published.energy_per_inference`);
* the per-channel parameter storage at each ``k`` against Ethos-U55's 80 bits;

into a per-layer table, a Pareto front, and one recommendation line, written to
``build/reports/advise/<model stem>/`` (:mod:`.write`). It reads published JSON and
never runs a synthesis or simulation tool.
"""

from pathlib import Path

from costmodel import analytic, published
from toolkit import cli

from ..tflite import evaluate, interpreter, support
from . import costs, decide, layers as layer_shapes, runs, write

__all__ = ["DEFAULT_KS", "DEFAULT_MACS", "MAX_DROP", "FLOWS", "STUDY_DIR", "default_out", "reference_macs", "advise"]

#: The widths shown unless ``--k`` says otherwise (k = 32, the reference, is always added).
DEFAULT_KS = (32, 16, 12, 8, 6, 5, 4, 3, 2)
DEFAULT_MACS = (4, 8, 16)
#: Largest acceptable accuracy drop against k = 32, in points (``--max-drop``).
MAX_DROP = 0.5
#: Top-1 agreement between k = 32 and TFLite mode below which the model is called
#: sensitive to 1-LSB differences (a note in the report).
SENSITIVE = 0.99
#: The flows whose published sweeps ``advise`` reads.
FLOWS = ("liberty", "ecp5")
#: The committed study (the repository's ``reports/``), whatever the working directory.
STUDY_DIR = Path(__file__).resolve().parents[2] / cli.STUDY_DIR


def default_out(model_path):
    """``build/reports/advise/<model stem>/``."""
    return cli.RUNS_DIR / "advise" / Path(model_path).stem


def reference_macs(macs):
    """The MACS the recommendation quotes costs at: 8 when given, else the first."""
    return 8 if 8 in macs else macs[0]


def _storage(layers, ks):
    channels = sum(layer.channels for layer in layers)
    rows = []
    for k in ks:
        bits = layer_shapes.channel_bits(k)
        per_channel = sum(bits.values())
        rows.append({"k": k, "bits_per_channel": bits, "channel_bits": per_channel, "channels": channels,
                     "total_bits": layer_shapes.storage_bits(layers, k),
                     "ethos_u55_bits": channels * layer_shapes.ETHOS_U55_BITS_PER_CHANNEL,
                     "vs_ethos_u55": per_channel / layer_shapes.ETHOS_U55_BITS_PER_CHANNEL})
    return rows


def _layer_rows(m, energies, macs, ref_macs):
    base = energies.get((published.BASE_K, ref_macs))
    priced = iter(base["layers_pj"]) if base else None
    rows = []
    for i, layer in enumerate(m.layers):
        pj = next(priced) if priced is not None and layer.length is not None else None
        rows.append({"index": layer.index, "name": layer.name, "op": layer.op, "outputs": layer.outputs,
                     "channels": layer.channels, "length": layer.length,
                     "beats": {str(n): None if layer.length is None else published.beats_per_output(layer.length, n)
                               for n in macs},
                     "changed_pct": {str(k): 100 * v[i] for k, v in m.layer_changed.items()},
                     "mean_abs_dy": {str(k): v[i] for k, v in m.layer_mean_abs.items()},
                     "mean_signed_dy": {str(k): v[i] for k, v in m.layer_mean_signed.items()},
                     "energy_share_pct": None if pj is None else 100 * pj / base["total_pj"]})
    return rows


def advise(model_path, data_path, *, ks=DEFAULT_KS, macs=DEFAULT_MACS, flow="liberty", max_drop=MAX_DROP,
           multiplier="truncate", bias_compensation=False, calibration=None, operand_isolation=False, limit=None,
           out_dir=None,
           study_dir=STUDY_DIR, runs_dir=cli.RUNS_DIR, cache_dir=costs.CACHE_DIR, progress=None):
    """Measure, price and decide; write the report into ``out_dir`` (default
    :func:`default_out`). Returns ``(result, paths written)``. Bad inputs (model, data,
    a damaged published document) raise one-line ``ValueError`` / ``ModelError``
    before the long run starts. ``operand_isolation`` prices energy on the isolated
    engine's lines; area and delay stay those of the engine as built."""
    ks = tuple(sorted(set(ks) | {published.BASE_K}, reverse=True))
    macs = tuple(macs)
    if flow not in FLOWS:
        raise ValueError(f"flow must be one of {', '.join(FLOWS)}, not {flow!r}")
    model = support.load(model_path)
    xs, y = evaluate.load_data(data_path, model)
    if limit:
        xs, y = [x[:limit] for x in xs], (None if y is None else y[:limit])
    study_dir = Path(study_dir)
    energy_path = study_dir / "energy_model.json"
    energy_model = published.load_energy_model(energy_path)
    cost_map, notes = costs.engine_costs(ks, macs, flow, study_dir=study_dir, runs_dir=runs_dir, cache_dir=cache_dir)
    if energy_model is None:
        notes.append(f"no energy model {costs.shown(energy_path)}: no energy figures (make energy-model PUBLISH=1 writes it)")
    narrow = sorted(interpreter.check_narrow(None))
    means = None
    if bias_compensation:
        cal = xs if calibration is None else evaluate.load_data(calibration, model)[0]
        means = interpreter.calibrate(model, cal, narrow=narrow)
    m = runs.measure(model, xs, ks, narrow=narrow, multiplier=multiplier, bias_compensation=means, progress=progress)
    unpriced = sorted({layer.op for layer in m.layers if layer.length is None})
    if unpriced:
        notes.append(f"no energy figure for the layers of {', '.join(unpriced)} (their dot-product length is not read)")
    same = float((m.preds[published.BASE_K] == m.preds["tflite"]).mean())
    if same < SENSITIVE:
        notes.append(f"at k = {published.BASE_K}, the reference, top-1 already differs from TFLite mode on "
                     f"{100 * (1 - same):.1f} % of the samples (one half-up rounding instead of TFLite's two, a "
                     "1-LSB difference at most per layer): this model amplifies 1-LSB differences through depth, "
                     "so what any k changes here is mostly that amplification")
    energies = costs.energy_costs(energy_model, m.layers, ks, macs, operand_isolation=operand_isolation)
    if operand_isolation:
        notes.append("energy per inference of engines with operand isolation (the rescaler switches once per "
                     "output); area and delay are those of the engine as built, which isolation changes by a "
                     "few per cent (REPORT.md, operand isolation)")
    rows = decide.accuracy_rows(m, y, ks)
    ref = reference_macs(macs)
    rec = decide.recommend(rows, max_drop)
    result = {
        "model": str(model_path), "data": str(data_path), "samples": m.samples, "labels": y is not None,
        "flow": flow, "ks": list(ks), "macs": list(macs), "reference_macs": ref, "max_drop_points": max_drop,
        "multiplier": multiplier, "bias_compensation": (str(calibration or data_path) if bias_compensation else None),
        "narrow": narrow, "operand_isolation": operand_isolation, "accuracy": rows, "costs": decide.cost_rows(cost_map, energies, ks, macs),
        "storage": _storage(m.layers, ks), "layers": _layer_rows(m, energies, macs, ref),
        "pareto": {str(n): p for n, p in decide.pareto(rows, cost_map, energies, macs, y is not None).items()},
        "recommendation": {"k": rec["k"], "status": rec["status"], "unresolved": [r["k"] for r in rec["unresolved"]]},
        "sources": {"sweep": costs.shown(study_dir / f"sweep_{flow}.json"),
                    "analytic": costs.shown(analytic.coefficients_path(flow)),
                    "energy_model": costs.shown(energy_path) if energy_model else None,
                    "energy_model_derivation": (energy_model or {}).get("provenance", {}).get("derivation"),
                    "notes": notes},
        "seconds": round(m.seconds, 1),
    }
    result["recommendation"]["line"] = write.recommendation_line(result)
    return result, write.write(result, out_dir or default_out(model_path))
