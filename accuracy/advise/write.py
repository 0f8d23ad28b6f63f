"""The advice as text: the recommendation line, the console summary, Markdown, CSV, JSON and the figure.

Everything here formats the result dict that :func:`accuracy.advise.advise` builds;
nothing computes a number. Files are written together (:func:`toolkit.files.write_together`,
the JSON last) and the figure atomically (:func:`toolkit.figures.save`).
"""

import csv
import io
from pathlib import Path

from costmodel.published import BASE_K
from toolkit.figures import pyplot, save
from toolkit.files import write_together
from toolkit.markdown import table

from ..results import to_json

__all__ = ["KINDS", "FILES", "recommendation_line", "console", "markdown", "layers_csv", "layers_markdown", "figure",
           "write"]

#: How each kind of area/delay source is named in the text.
KINDS = {"sweep": "published sweep", "yours": "your synthesis", "analytic": "analytic model",
         "extrapolated": "analytic extrapolation, no error bound"}


def _p(p):
    return "< 1e-300" if p < 1e-300 else f"{p:.2g}"


def _drop_phrase(row, labels):
    """The accuracy change of ``row`` against k = 32 and its interval, in one phrase
    without enclosing parentheses."""
    if labels:
        lo, hi = row["diff_ci95"]
        return f"{row['diff_points']:+.2f} pt, 95 % CI {lo:+.2f}..{hi:+.2f}, McNemar p {_p(row['mcnemar_p'])}"
    lo, hi = row["top1_changed_vs_k32_ci95"]
    return (f"top-1 changes on {row['top1_changed_vs_k32']:.2f} % of samples, 95 % CI {lo:.2f}..{hi:.2f} %, "
            f"which bounds the accuracy drop for any labels")


def _cost_phrase(r, k, macs):
    row = next((c for c in r["costs"] if c["k"] == k and c["macs"] == macs), {})
    parts = []
    if row.get("area_vs_k32") is not None:
        parts.append(f"engine area {100 * (row['area_vs_k32'] - 1):+.0f} % ({KINDS[row['kind']]})")
    if row.get("energy_vs_k32") is not None:
        parts.append(f"energy/inference {100 * (row['energy_vs_k32'] - 1):+.0f} % (energy lines: {row['energy_basis']})")
    return (", ".join(parts) or "no cost figure") + f" at {macs} MACS"


def recommendation_line(r):
    """The one line that answers "which k?" (see :func:`accuracy.advise.decide.recommend`)."""
    rec, labels, max_drop, n = r["recommendation"], r["labels"], r["max_drop_points"], r["samples"]
    rows = {row["k"]: row for row in r["accuracy"] if row["k"] is not None}
    unresolved = [rows[k] for k in rec["unresolved"]]
    if rec["status"] == "narrower":
        k = rec["k"]
        line = f"k = {k} against k = {BASE_K}: {_drop_phrase(rows[k], labels)}; {_cost_phrase(r, k, r['reference_macs'])}"
        if unresolved:
            u = unresolved[0]
            line += (f"; k = {u['k']} may also stay within {max_drop:g} pt ({_drop_phrase(u, labels)}), but "
                     f"{n} samples cannot resolve it: more samples would")
        return line
    if unresolved:
        listed = "; ".join(f"k = {u['k']}: {_drop_phrase(u, labels)}" for u in unresolved)
        return (f"keep k = {BASE_K} for now: the data cannot resolve whether a narrower k stays within {max_drop:g} pt "
                f"({listed}); the 95 % intervals of {n} samples are too wide: more samples would decide")
    nearest = max((row for k, row in rows.items() if k != BASE_K), key=lambda row: row["k"], default=None)
    tail = f" (k = {nearest['k']}: {_drop_phrase(nearest, labels)})" if nearest else ""
    return f"keep k = {BASE_K}: every narrower k tested may lose more than {max_drop:g} pt{tail}"


def _accuracy_table(r):
    if r["labels"]:
        header = ["mode", "top-1 accuracy % (95 % CI)", "vs k=32, pt (95 % CI)", "gained / lost", "McNemar p"]
        body = []
        for row in r["accuracy"]:
            vs = ("(reference)", "", "") if row["k"] == BASE_K else (
                f"{row['diff_points']:+.2f} ({row['diff_ci95'][0]:+.2f}..{row['diff_ci95'][1]:+.2f})",
                f"{row['gained']} / {row['lost']}", _p(row["mcnemar_p"]))
            body.append([row["mode"], f"{row['accuracy']:.2f} ({row['ci95'][0]:.2f}..{row['ci95'][1]:.2f})", *vs])
        return header, body, "lllll"
    header = ["mode", "top-1 agreement with TFLite % (95 % CI)", "outputs changed % (95 % CI)",
              "mean |dy| LSB (95 % CI)", "top-1 changed vs k=32 % (95 % CI)"]
    body = [[row["mode"], f"{row['agreement']:.2f} ({row['ci95'][0]:.2f}..{row['ci95'][1]:.2f})",
             f"{row['outputs_changed']:.2f} ({row['outputs_changed_ci95'][0]:.2f}..{row['outputs_changed_ci95'][1]:.2f})",
             f"{row['mean_abs_dy']:.3f} ({row['mean_abs_dy_ci95'][0]:.3f}..{row['mean_abs_dy_ci95'][1]:.3f})",
             f"{row['top1_changed_vs_k32']:.2f} ({row['top1_changed_vs_k32_ci95'][0]:.2f}.."
             f"{row['top1_changed_vs_k32_ci95'][1]:.2f})"] for row in r["accuracy"]]
    return header, body, "lllll"


def _rel(value):
    return "-" if value is None else f"{100 * (value - 1):+.1f} %"


def _cost_table(r):
    header = ["MACS", "k", "area", "vs k=32", "delay", "vs k=32", "area/delay source", "energy/inference nJ",
              "vs k=32", "energy lines"]
    body = []
    for c in r["costs"]:
        area = f"{c['area']:,.0f} {c['area_unit']}" if "area" in c else "-"
        delay = f"{c['delay']:.2f} {c['delay_unit']}" if "delay" in c else "-"
        energy = f"{c['energy_pj'] / 1000:,.1f}" if "energy_pj" in c else "-"
        body.append([c["macs"], c["k"], area, _rel(c.get("area_vs_k32")), delay, _rel(c.get("delay_vs_k32")),
                     c.get("source", "none (no sweep, no report, no analytic model for this flow)"), energy,
                     _rel(c.get("energy_vs_k32")), c.get("energy_basis", "-")])
    return header, body, "rrrrrrlrrl"


def _storage_table(r):
    header = ["k", "bits per channel (bias + m + s)", "channels", "total", "vs Ethos-U55 (80 bits/channel)"]
    body = [[s["k"], f"{s['channel_bits']} ({s['bits_per_channel']['bias']} + {s['bits_per_channel']['m']} + "
                     f"{s['bits_per_channel']['s']})", f"{s['channels']:,}", f"{s['total_bits'] / 8192:,.2f} KiB",
             f"{100 * (s['vs_ethos_u55'] - 1):+.1f} %"] for s in r["storage"]]
    return header, body, "rlrrr"


def _pareto_table(r):
    header = ["MACS", "Pareto k (accuracy vs area)", "Pareto k (accuracy vs energy/inference)"]
    body = [[macs, ", ".join(map(str, p["front_area"])) or "-", ", ".join(map(str, p["front_energy"])) or "-"]
            for macs, p in r["pareto"].items()]
    return header, body, "rll"


def _how(r):
    comp = (f", bias-compensated from the mean accumulators of {r['bias_compensation']}"
            if r["bias_compensation"] else "")
    what = ("top-1 accuracy against the labels `y`" if r["labels"] else
            "no labels: agreement with TFLite mode and output changes; the decision bounds the accuracy drop by the "
            "share of top-1 predictions that change against k = 32")
    return (f"{r['samples']} samples of {r['data']}; k-bit multipliers ({r['multiplier']}{comp}) in "
            f"{', '.join(r['narrow'])}, every other op in TFLite mode (LiteRT's reference-kernel arithmetic); {what}. "
            f"Decision: the smallest k whose drop against k = 32 has a 95 % upper bound within {r['max_drop_points']:g} "
            f"pt; costs at {r['reference_macs']} MACS. Engine costs: {r['flow']} flow; energy per inference: "
            f"the model's dot-product layers priced with {r['sources']['energy_model'] or 'no energy model'} "
            f"(engine only, one engine, no memory traffic"
            f"{'; engines with operand isolation' if r.get('operand_isolation') else ''}).")


def console(r):
    """The summary printed on the terminal."""
    lines = [f"{r['model']}: {len(r['layers'])} dot-product layers, {r['samples']} samples, "
             f"{'labels' if r['labels'] else 'no labels'}; {r['seconds']:.0f} s", ""]
    for header, body, align in (_accuracy_table(r), _storage_table(r)):
        lines += table(header, body, align) + [""]
    ref = r["reference_macs"]
    header, body, align = _cost_table({**r, "costs": [c for c in r["costs"] if c["macs"] == ref]})
    lines += table(header, body, align) + [""]
    lines += [f"notes: {note}" for note in r["sources"]["notes"]]
    lines.append(f"recommendation: {r['recommendation']['line']}")
    return "\n".join(lines)


def markdown(r):
    """``advise.md``: how, recommendation, accuracy, cost, storage, Pareto, sources."""
    lines = [f"# Which k for {Path(r['model']).name}?", "", _how(r), "",
             f"**Recommendation:** {r['recommendation']['line']}", "", "## Accuracy against k", ""]
    lines += table(*_accuracy_table(r)[:2], _accuracy_table(r)[2])
    lines += ["", "## Engine cost per (MACS, k)", ""] + table(*_cost_table(r)[:2], _cost_table(r)[2])
    lines += ["", "## Per-channel parameter storage", "",
              "bias (the engine's 32-bit b_eff), m (k bits) and s (the shift port's width) per output channel of "
              "every dot-product layer, against Arm Ethos-U55's 80 bits (a 40-bit bias, a 32-bit scale and a "
              "6-bit shift, packed into 10 bytes).", ""]
    lines += table(*_storage_table(r)[:2], _storage_table(r)[2])
    lines += ["", "## Pareto front", "", "Per MACS, the k not dominated in (accuracy measure higher, cost lower); "
              "figure `pareto.png`.", ""] + table(*_pareto_table(r)[:2], _pareto_table(r)[2])
    lines += ["", "## Sources", ""] + [f"- {key}: {value}" for key, value in r["sources"].items() if key != "notes"]
    lines += [f"- note: {note}" for note in r["sources"]["notes"]]
    lines += ["", "Per-layer table: `layers.md`, `layers.csv`.", ""]
    return "\n".join(lines)


def _layer_columns(r, *, full_names=False):
    ks = r["ks"]
    header = (["#", "layer", "op", "outputs", "channels", "dot-product length"]
              + [f"beats @{m} MACS" for m in r["macs"]] + [f"changed % k={k}" for k in ks]
              + [f"energy share % (k={BASE_K}, {r['reference_macs']} MACS)"])
    body = []
    for layer in r["layers"]:
        share = layer["energy_share_pct"]
        name = layer["name"] if full_names else layer["name"].split(";")[0]
        body.append([layer["index"], name, layer["op"], layer["outputs"], layer["channels"],
                     "-" if layer["length"] is None else layer["length"]]
                    + ["-" if layer["beats"][str(m)] is None else layer["beats"][str(m)] for m in r["macs"]]
                    + [f"{layer['changed_pct'][str(k)]:.2f}" for k in ks]
                    + ["-" if share is None else f"{share:.2f}"])
    return header, body


def layers_markdown(r):
    """``layers.md``: one row per dot-product layer, after Arm Vela's per-layer table."""
    header, body = _layer_columns(r)
    return "\n".join([f"# Per-layer view of {Path(r['model']).name}", "",
                      "Outputs per inference, the dot product behind each output and its beats on the engine, the "
                      "share of the layer's int8 outputs that differ from TFLite mode when the whole network runs at k "
                      "(propagated: what the layer receives plus its own error; mean |dy| and signed dy in "
                      "layers.csv), and the layer's share of the engine energy per inference. Layer names are the "
                      "output tensors' (up to the first ';'; layers.csv has them whole).", ""]
                     + table(header, body, "rll" + "r" * (len(header) - 3)) + [""])


def layers_csv(r):
    """``layers.csv``: the per-layer table with mean |dy| and mean signed dy per k."""
    header, body = _layer_columns(r, full_names=True)
    ks = r["ks"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header + [f"mean |dy| k={k}" for k in ks] + [f"mean dy k={k}" for k in ks])
    for row, layer in zip(body, r["layers"]):
        writer.writerow(row + [f"{layer['mean_abs_dy'][str(k)]:.4f}" for k in ks]
                        + [f"{layer['mean_signed_dy'][str(k)]:.4f}" for k in ks])
    return buf.getvalue()


def figure(r, path):
    """``pareto.png``: the accuracy measure against area and against energy per inference
    (relative to k = 32), per MACS; Pareto-optimal points filled."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ylabel = "top-1 accuracy, %" if r["labels"] else "top-1 agreement with TFLite mode, %"
    for ax, cost, front, name in ((axes[0], "area_rel", "front_area", "engine area"),
                                  (axes[1], "energy_rel", "front_energy", "energy per inference")):
        for i, (macs, p) in enumerate(r["pareto"].items()):
            pts = [q for q in p["points"] if q[cost] is not None]
            c = colors[i % len(colors)]
            ax.plot([q[cost] for q in pts], [q["accuracy"] for q in pts], "-", color=c, alpha=0.4,
                    label=f"{macs} MACs")
            for q in pts:
                ax.plot(q[cost], q["accuracy"], "o", color=c, mfc=c if q["k"] in p[front] else "white")
                ax.annotate(q["label"], (q[cost], q["accuracy"]), textcoords="offset points", xytext=(3, 3),
                            fontsize=7, color=c)
        ax.set_xlabel(f"{name} relative to k = {BASE_K} (same MACS)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{Path(r['model']).name}: accuracy against engine cost per k (filled: Pareto-optimal)")
    fig.tight_layout()
    save(fig, path, dpi=110)


#: Files written into the output folder.
FILES = ("advise.json", "advise.md", "layers.csv", "layers.md", "pareto.png")


def write(r, out_dir):
    """Write :data:`FILES` into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figure(r, out_dir / "pareto.png")
    write_together({out_dir / "advise.md": markdown(r), out_dir / "layers.md": layers_markdown(r),
                    out_dir / "layers.csv": layers_csv(r),
                    out_dir / "advise.json": to_json(r)})
    return [out_dir / name for name in FILES]
