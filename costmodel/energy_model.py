"""The energy-per-output model, fitted from the study's published energy measurements.

``E(k, macs, beats) = fixed_pj + per_beat_pj * beats`` (:data:`costmodel.published.ENERGY_MODEL`)
per ``(k, macs, operand_isolation)``: what the accuracy side multiplies a network's
layer shapes by to price one inference (``python -m accuracy advise``). Two kinds of
published measurement feed it, and each line says which it rests on (``kind``,
``how``, and the ``points`` with their residuals):

* **measured** lines: ``energy_beats.json`` (``make energy-beats``; the isolated
  engine's ``energy_beats_isolated.json``) measures one
  engine at several beat counts; a least-squares line through them. A point report of
  the same ``(k, macs)`` with an ``energy`` object (another layer, ``make energy``) is
  kept as an out-of-sample ``check`` with its residual: how much the layer changes
  the figure.
* **derived** lines: a point report alone measures one beat count. Its energy is
  split into a fixed part, interpolated linearly in ``k`` between the fixed parts of
  the measured lines (the per-output work is the rescaler's, which grows with ``k``),
  and a per-beat part, the rest divided by the beats; the fixed part is assumed not
  to depend on MACS (the MACs and the adder tree work every beat, not once per
  output). A derived line passes through its one point exactly: its error is not
  known, and the measured lines' checks are the best guide to it.

Nothing here runs a tool: it reads published JSON through :mod:`costmodel.published`.
"""

import dataclasses
import datetime
import json
from pathlib import Path

import numpy as np

from hw.config import DatapathConfig

from .published import (BEATS_FILES, ENERGY_MODEL, SCHEMA_VERSION, energy_line, load_energy_beats, load_point_report,
                        validate_energy_model)

__all__ = ["DERIVATION", "fit", "fit_published"]

#: What the document says about its two kinds of line.
DERIVATION = ("measured: a least-squares line (relative residuals) through one engine measured at several beat "
              "counts (energy_beats.json), with any point report of the same (k, MACS) as an out-of-sample check; "
              "derived: one point report's energy at its beat count, split into a fixed part interpolated "
              "linearly in k between the measured lines' fixed parts (assumed independent of MACS) and a "
              "per-beat part (the rest divided by the beats); a derived line has no error estimate of its own")


def _isolation(record):
    return bool(record.get("operand_isolation", False))


def _other_options(config):
    """The configuration's fields other than k, MACS and operand isolation."""
    return {name: value for name, value in dataclasses.asdict(config).items()
            if name not in ("k", "macs", "operand_isolation")}


def _point(beats, energy, fitted, source, stimulus):
    return {"beats": beats, "energy_pj": round(float(energy), 4), "fitted_pj": round(float(fitted), 4),
            "residual_pct": round(float(100 * (energy / fitted - 1)), 2) if fitted else None,
            "source": source, "stimulus": stimulus}


def _measured_lines(beats_rows, beats_source):
    groups = {}
    for row in beats_rows:
        groups.setdefault((row["k"], row["macs"], _isolation(row)), []).append(row)
    lines = {}
    for key, rows in sorted(groups.items()):
        rows.sort(key=lambda r: r["beats_per_output"])
        beats = np.array([r["beats_per_output"] for r in rows], float)
        if len(set(beats)) < 2:
            continue
        energy = np.array([r["total_pj"] for r in rows], float)
        per_beat, fixed = np.polyfit(beats, energy, 1, w=1 / energy)  # relative residuals: each point weighs the same
        points = [_point(r["beats_per_output"], r["total_pj"], fixed + per_beat * r["beats_per_output"],
                         beats_source, r.get("stimulus", "")) for r in rows]
        lines[key] = {"k": key[0], "macs": key[1], "operand_isolation": key[2], "kind": "measured",
                      "fixed_pj": round(float(fixed), 4), "per_beat_pj": round(float(per_beat), 4),
                      "how": f"least-squares line through {len(rows)} beat counts "
                             f"({', '.join(str(int(b)) for b in beats)}) of {beats_source}",
                      "points": points, "max_abs_residual_pct": max(abs(p["residual_pct"]) for p in points),
                      "checks": []}
    return lines


def _fixed_part(measured, k, macs, isolation):
    """The fixed part at ``k`` from the measured lines of the MACS nearest ``macs``
    (same isolation): linear in ``k`` through the two nearest lines, or the one line's."""
    candidates = sorted({key[1] for key in measured if key[2] == isolation}, key=lambda m: (abs(m - macs), m))
    if not candidates:
        return None
    source_macs = candidates[0]
    by_k = {key[0]: line for key, line in measured.items() if key[1] == source_macs and key[2] == isolation}
    ks = sorted(by_k, key=lambda j: (abs(j - k), j))[:2]
    if len(ks) == 1:
        return by_k[ks[0]]["fixed_pj"], f"the fixed part of the measured line k={ks[0]} at {source_macs} MACS"
    (a, b) = sorted(ks)
    t = (k - a) / (b - a)
    fixed = (1 - t) * by_k[a]["fixed_pj"] + t * by_k[b]["fixed_pj"]
    return max(fixed, 0.0), (f"the fixed part linear in k through the measured lines k={a} and k={b} at "
                             f"{source_macs} MACS (assumed the same at every MACS)")


def fit(beats_rows, point_reports, *, beats_source="energy_beats.json", provenance=None):
    """The energy-model document from energy-beats rows and ``{source: point report}``
    (each with an ``energy`` object); see the module docstring for how."""
    measured = _measured_lines(beats_rows or [], beats_source)
    if not measured:
        raise ValueError(f"no measured line: {beats_source} needs at least two beat counts of one (k, macs) "
                         "(run 'make energy-beats PUBLISH=1')")
    lines = dict(measured)
    activity, clock = set(), set()
    for source, report in sorted(point_reports.items()):
        config, energy = report["config"], report["energy"]
        key = (config["k"], config["macs"], _isolation(config))
        beats, pj = energy["cycles_per_output"], energy["energy_pj_per_output"]
        activity.add(energy.get("method", "")), clock.add(energy["clock_ns"])
        if key in measured:
            line = measured[key]
            line["checks"].append(_point(beats, pj, line["fixed_pj"] + line["per_beat_pj"] * beats, source,
                                         energy["stimulus"]))
            continue
        fixed = _fixed_part(measured, key[0], key[1], key[2])
        if fixed is None:
            continue
        fixed_pj, fixed_how = fixed
        per_beat = (pj - fixed_pj) / beats
        lines[key] = {"k": key[0], "macs": key[1], "operand_isolation": key[2], "kind": "derived",
                      "fixed_pj": round(fixed_pj, 4), "per_beat_pj": round(per_beat, 4),
                      "how": f"one measured point at {beats:g} beats per output ({source}); {fixed_how}; "
                             f"per_beat_pj = (energy - fixed_pj) / beats",
                      "points": [_point(beats, pj, fixed_pj + per_beat * beats, source, energy["stimulus"])]}
    if len(clock) > 1:
        raise ValueError(f"the point reports were measured at different clocks ({sorted(clock)} ns): "
                         "one model needs one clock")
    document = {
        "schema": SCHEMA_VERSION, "model": ENERGY_MODEL, "unit": "pJ per output", "flow": "liberty",
        "clock_ns": next(iter(clock)) if clock else None,
        "activity": "; ".join(sorted(a for a in activity if a)) or "as in the energy-beats rows",
        "lines": [lines[key] for key in sorted(lines, key=lambda key: (key[2], key[1], key[0]))],
        "provenance": {"written_by": "python -m costmodel energy-model", "derivation": DERIVATION,
                       "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                       **(provenance or {})},
    }
    return validate_energy_model(document, "the fitted energy model")


def fit_published(directory):
    """:func:`fit` on the published documents of ``directory`` (e.g. ``reports``):
    ``energy_beats.json``, ``energy_beats_isolated.json`` when present
    (:data:`~costmodel.published.BEATS_FILES`), and every one-engine liberty point report under ``synth/``
    with an ``energy`` object and the default options besides k, MACS and isolation."""
    directory = Path(directory)
    beats = load_energy_beats(directory / BEATS_FILES[False])
    if beats is None:
        raise ValueError(f"{directory / BEATS_FILES[False]} does not exist: run 'make energy-beats PUBLISH=1'")
    beats_files = [BEATS_FILES[False]]
    isolated = load_energy_beats(directory / BEATS_FILES[True])
    if isolated is not None:
        beats += [{**row, "operand_isolation": True} for row in isolated]
        beats_files.append(BEATS_FILES[True])
    reports = {}
    for path in sorted((directory / "synth").glob("*.json")):
        try:
            head = json.loads(path.read_text())
            config = head["config"]
            k, macs = config["k"], config["macs"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a point report: load_point_report would say so, but it is not ours to read
        if head.get("flow") != "liberty" or "energy" not in head or macs is None or config.get("engines", 1) != 1:
            continue
        try:
            options = DatapathConfig(**config)
        except (TypeError, ValueError):
            continue
        if path.stem != options.name or _other_options(options) != _other_options(DatapathConfig(k=k, macs=macs)):
            continue  # another option, library or clock than the study's default engine
        report = load_point_report(path, k=k, macs=macs, flow="liberty",
                                   remedy=f"make energy K={k} MACS={macs} PUBLISH=1")
        reports[f"synth/{path.name}"] = report
    return fit(beats, reports, beats_source=" and ".join(beats_files), provenance={
        "directory": str(directory), "energy_beats": beats_files, "point_reports": sorted(reports)})

