"""What each ``(k, MACS)`` engine costs, and where every number comes from.

Area and delay of one engine (default options) are looked up in order, and each
number says which source gave it:

1. the **published sweep** ``reports/sweep_<flow>.json`` (the committed study);
2. the **user's own results**: ``build/reports/sweep_<flow>.json``, the point
   reports ``build/reports/synth/*.json`` and the synthesis cache
   ``build/cache/synth/*.json``, each read as JSON and validated
   (:func:`costmodel.published.load_point_report`), and used only when measured
   like the published sweep (flow, library, clock, FPGA device and seed, units);
   a damaged or foreign file is skipped and counted, never trusted;
3. the **analytic model** (:mod:`costmodel.analytic`, ``costmodel/coefficients_<flow>.json``)
   with its error bound where it was fitted, or marked as an extrapolation without one.

Energy per inference is the model's own dot-product layers priced with the published
energy model ``reports/energy_model.json`` (:func:`costmodel.published.energy_per_inference`),
whose lines say whether they are measured, derived, or interpolated here.

Nothing here runs a tool (the import-graph test checks it).
"""

import json
from pathlib import Path

from costmodel import analytic, published
from hw.config import DatapathConfig

__all__ = ["CACHE_DIR", "shown", "engine_costs", "energy_costs"]

#: The synthesis cache ``make synth`` fills (relative to the working directory, as it writes it).
CACHE_DIR = Path("build") / "cache" / "synth"


def _measured_like(report, reference):
    """Whether a point report was measured like the published sweep ``reference``
    (None: nothing to compare with)."""
    if reference is None:
        return True
    lib = lambda d: (d.get("library") or {}).get("sha256")  # noqa: E731
    fpga = lambda d: {key: (d.get("fpga") or {}).get(key) for key in ("device", "seed")}  # noqa: E731
    ref_point = reference["points"][0]
    return (lib(report) == lib(reference) and report.get("clock_ns") == reference.get("clock_ns")
            and report.get("area_unit") == reference["area_unit"] and report.get("delay_unit") == reference["delay_unit"]
            and (not published.is_fpga(reference) or fpga(report) == fpga(ref_point)))


def shown(path):
    """``path`` relative to the working directory when it lies below it (shorter to read)."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _default(config, k, macs):
    """Whether ``config`` (a report's) is the default engine of ``(k, macs)``; fields it
    does not record take their defaults."""
    try:
        return DatapathConfig(**config) == DatapathConfig(k=k, macs=macs)
    except (TypeError, ValueError):
        return False


class _Found:
    """The user's results, read once: ``{(k, macs): (report, where)}``, and what was skipped."""

    def __init__(self, flow, runs_dir, cache_dir, reference):
        self.points, self.skipped = {}, []
        sweep_path = Path(runs_dir) / f"sweep_{flow}.json"
        if sweep_path.is_file():
            try:
                sweep = published.load_sweep(sweep_path)
                if sweep["flow"] != flow:
                    raise ValueError(f"{sweep_path} is a {sweep['flow']} sweep")
            except ValueError as exc:
                self.skipped.append(str(exc))
            else:
                for point in sweep["points"]:
                    report = {**{key: sweep.get(key) for key in ("library", "clock_ns", "area_unit", "delay_unit")},
                              **point}
                    self._add(report, f"your sweep {shown(sweep_path)}", reference)
        for folder, what in ((Path(runs_dir) / "synth", "your report"), (Path(cache_dir), "your synthesis cache")):
            for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
                self._read(path, what, flow, reference)

    def _read(self, path, what, flow, reference):
        try:
            head = json.loads(path.read_text())
            k, macs = head["config"]["k"], head["config"]["macs"]
        except (OSError, ValueError, KeyError, TypeError):
            self.skipped.append(f"{path}: not a synth report")
            return
        if head.get("flow") != flow or not isinstance(k, int) or not isinstance(macs, int):
            return
        try:
            report = published.load_point_report(path, k=k, macs=macs, flow=flow, remedy=f"make synth K={k} MACS={macs}")
        except ValueError as exc:
            self.skipped.append(str(exc))
            return
        self._add(report, f"{what} {shown(path)}", reference)

    def _add(self, report, where, reference):
        config = report["config"]
        key = (config.get("k"), config.get("macs"))
        if key in self.points or not _default(config, *key) or not _measured_like(report, reference):
            return
        self.points[key] = (report, where)


def engine_costs(ks, macs_list, flow, *, study_dir, runs_dir, cache_dir=CACHE_DIR):
    """``({(k, macs): cost}, notes)``: each cost ``area``, ``delay``, their units, the
    ``source`` (a sentence) and its ``kind`` (``sweep``, ``yours``, ``analytic``,
    ``extrapolated``), or None when no source knows the point; ``notes`` lists what was
    skipped and why. A damaged published sweep is a ValueError (the committed study
    must not be silently ignored)."""
    sweep_path = Path(study_dir) / f"sweep_{flow}.json"
    reference = published.load_sweep(sweep_path) if sweep_path.is_file() else None
    published_points = {}
    if reference is not None:
        for point in reference["points"]:
            c = point["config"]
            if _default(c, c["k"], c["macs"]):
                published_points[(c["k"], c["macs"])] = point
    found = _Found(flow, runs_dir, cache_dir, reference)
    try:
        model = analytic.Model.load(flow)
    except ValueError:
        model = None
    costs = {}
    for macs in macs_list:
        for k in ks:
            if (k, macs) in published_points:
                p = published_points[(k, macs)]
                cost = _cost(p["area"], p["delay"], reference, f"published sweep {shown(sweep_path)}", "sweep")
            elif (k, macs) in found.points:
                report, where = found.points[(k, macs)]
                cost = _cost(report["area"], report["delay"], report, where, "yours")
            elif model is not None:
                cost = _analytic(model, k, macs)
            else:
                cost = None
            costs[(k, macs)] = cost
    notes = [f"skipped {s}" for s in found.skipped]
    if reference is None:
        notes.append(f"no published sweep {shown(sweep_path)}: your results and the analytic model only")
    return costs, notes


def _cost(area, delay, units, source, kind):
    return {"area": float(area), "delay": float(delay), "area_unit": units["area_unit"],
            "delay_unit": units["delay_unit"], "source": source, "kind": kind}


def _analytic(model, k, macs):
    config = DatapathConfig(k=k, macs=macs)
    area, delay = model.estimate(config)
    outside = model.outside(config)
    if outside:
        return _cost(area, delay, model.document, f"analytic model, extrapolated ({'; '.join(outside)}): "
                     "no error bound", "extrapolated")
    d = model.document
    return _cost(area, delay, model.document,
                 f"analytic model (within {d['max_area_error_pct']:.1f} % area and {d['max_delay_error_pct']:.1f} % "
                 f"delay of synthesis at every fitted point)", "analytic")


def energy_costs(document, layers, ks, macs_list, *, operand_isolation=False):
    """``{(k, macs): energy}`` per inference from the energy model ``document`` (None
    when absent): ``total_pj``, ``layers_pj``, ``basis``; None for a point the model
    does not cover. Only the layers with a known dot-product length are priced, on the
    engine as built or, with ``operand_isolation``, on the isolated engine's lines."""
    priced = [(layer.outputs, layer.length) for layer in layers if layer.length is not None]
    return {(k, macs): (None if document is None else
                        published.energy_per_inference(document, priced, k=k, macs=macs,
                                                                       operand_isolation=operand_isolation))
            for macs in macs_list for k in ks}
