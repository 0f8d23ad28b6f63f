"""Closed-form area and delay of the engine, fitted to synthesis sweeps.

The architect's first question ("what does k = 6 cost at 8 MACs?") deserves an
instant answer; synthesis then confirms it. The model counts what the datapath
is made of (``docs/architecture.md``), per engine:

========================  =======================================================
term                      hardware it stands for
========================  =======================================================
``1``                     accumulator (32-bit adder + register), control, fixed
                          part of rounding and saturation
``k``                     the 32 x k partial-product array of the rescaler's
                          multiplier, and the k extra bits of the rounding adder
                          and the clamp comparators
``(33+k)*log2(33+k)``     the log-depth barrel shifter over the 33+k-bit product
``N``                     N int8 x int8 multipliers and the N-1 adders of the tree
``N*log2(N)``             the tree's growing adder width (level j is 16+j bits)
========================  =======================================================

and ``E`` engines cost ``E`` times that. The delay model follows the critical
path of the default pipeline, through the rescaler (multiplier array depth grows
with log k and k, the shifter with log(33+k)) or the adder tree (log N):
``delay = d0 + d1*k + d2*log2(k) + d3*log2(N)``.

Coefficients are fitted by least squares to a sweep (``python -m costmodel fit``)
and stored in ``costmodel/coefficients_<flow>.json``, with the fit's error at
every swept point, so the model never claims more accuracy than it showed.
"""

import dataclasses
import math
from pathlib import Path

import numpy as np

from hw.config import DatapathConfig
from toolkit.validate import field_error, is_integer, is_number, read_json

__all__ = ["AREA_TERMS", "DELAY_TERMS", "area_features", "delay_features", "fit", "Model",
           "coefficients_path", "validate_coefficients", "load_coefficients"]

AREA_TERMS = ("fixed", "k", "shifter", "macs", "macs_log_macs")
DELAY_TERMS = ("fixed", "k", "log2_k", "log2_macs")


def area_features(config):
    """The area model's terms for one configuration (see the module docstring)."""
    k, n, e = config.k, config.macs, config.engines
    width = 33 + k
    return [e * x for x in (1.0, k, width * math.log2(width), n, n * math.log2(n) if n > 1 else 0.0)]


def delay_features(config):
    """The delay model's terms for one configuration."""
    return [1.0, config.k, math.log2(config.k), math.log2(config.macs) if config.macs > 1 else 0.0]


def coefficients_path(flow):
    """Where the fitted coefficients of ``flow`` are stored in the repository."""
    return Path(__file__).with_name(f"coefficients_{flow}.json")


def validate_coefficients(document, source, flow=None):
    """Return ``document`` if it is a coefficient file (of ``flow`` when given), else
    raise one ValueError naming ``source`` and the field: finite terms, unit names,
    fit errors of integer configurations with finite percentages."""
    remedy = f"re-run 'python -m costmodel fit --flow {flow or 'FLOW'}'"
    if not isinstance(document, dict):
        raise ValueError(f"{source} is not an analytic-model coefficient file (a JSON object): {remedy}")
    if flow is not None and document.get("flow") != flow:
        raise field_error(source, "flow", repr(flow), document.get("flow"), remedy)
    for key in ("area_unit", "delay_unit"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise field_error(source, key, "a unit name (a string)", document.get(key), remedy)
    for model, terms in (("area", AREA_TERMS), ("delay", DELAY_TERMS)):
        values = document.get(model)
        for term in terms:
            value = values.get(term) if isinstance(values, dict) else None
            if not is_number(value):
                raise field_error(source, f"{model}.{term}", "a finite number", value, remedy)
    errors = document.get("errors", [])
    if not isinstance(errors, list):
        raise field_error(source, "errors", "a list of the fitted points", errors, remedy)
    for i, error in enumerate(errors):
        if not isinstance(error, dict):
            raise field_error(source, f"errors[{i}]", "an object", error, remedy)
        for key in ("k", "macs", "engines"):
            if not is_integer(error.get(key), lo=1):
                raise field_error(source, f"errors[{i}].{key}", "a positive integer", error.get(key), remedy)
        for key in ("area_error_pct", "delay_error_pct"):
            if not is_number(error.get(key)):
                raise field_error(source, f"errors[{i}].{key}", "a finite number", error.get(key), remedy)
    for key in ("max_area_error_pct", "max_delay_error_pct"):
        if key in document and not is_number(document[key], lo=0):
            raise field_error(source, key, "a non-negative finite number", document[key], remedy)
    fixed = document.get("fixed_config", {})
    if not isinstance(fixed, dict) or set(fixed) - {f.name for f in dataclasses.fields(DatapathConfig)}:
        raise field_error(source, "fixed_config", "an object of DatapathConfig fields", fixed, remedy)
    return document


def load_coefficients(path, flow=None):
    """The validated coefficient document at ``path`` (:func:`validate_coefficients`);
    a ValueError saying what to run when it is absent."""
    document = read_json(path, remedy=f"python -m costmodel fit --flow {flow or 'FLOW'}",
                         absent=f"run 'make sweep FLOW={flow}' then 'python -m costmodel fit --flow {flow}'")
    return validate_coefficients(document, str(path), flow)


def _config(point):
    return DatapathConfig(**point["config"])


def fit(sweep_document):
    """Fit both models to a sweep document (``reports/sweep_<flow>.json``).

    Returns the coefficient document: coefficients, units, the per-point relative
    errors and their maximum, and where the data came from.
    """
    points = [p for p in sweep_document.get("points", []) if p["config"].get("macs")]
    if len(points) < len(AREA_TERMS) + 1:
        raise ValueError(f"the sweep has {len(points)} engine points; fitting needs at least "
                         f"{len(AREA_TERMS) + 1} (run the default sweep: make sweep)")
    configs = [_config(p) for p in points]
    area = np.array([p["area"] for p in points], dtype=float)
    delay = np.array([p["delay"] for p in points], dtype=float)
    # Relative least squares: every point weighs the same whatever its size.
    a_x = np.array([area_features(c) for c in configs]) / area[:, None]
    d_x = np.array([delay_features(c) for c in configs]) / delay[:, None]
    a_coef = np.linalg.lstsq(a_x, np.ones(len(points)), rcond=None)[0]
    d_coef = np.linalg.lstsq(d_x, np.ones(len(points)), rcond=None)[0]
    model = Model({
        "flow": sweep_document["flow"],
        "area_unit": sweep_document["area_unit"],
        "delay_unit": sweep_document["delay_unit"],
        "area": dict(zip(AREA_TERMS, map(float, a_coef))),
        "delay": dict(zip(DELAY_TERMS, map(float, d_coef))),
    })
    errors = []
    for config, p in zip(configs, points):
        est_area, est_delay = model.estimate(config)
        errors.append({"k": config.k, "macs": config.macs, "engines": config.engines,
                       "area_error_pct": round(100 * (est_area / p["area"] - 1), 2),
                       "delay_error_pct": round(100 * (est_delay / p["delay"] - 1), 2)})
    model.document.update(
        errors=errors,
        max_area_error_pct=max(abs(e["area_error_pct"]) for e in errors),
        max_delay_error_pct=max(abs(e["delay_error_pct"]) for e in errors),
        source={"tools": sweep_document.get("tools"), "library": sweep_document.get("library"),
                "points": len(points)},
    )
    fixed = [{n: v for n, v in dataclasses.asdict(c).items() if n not in ("k", "macs", "engines")}
             for c in configs]
    if all(f == fixed[0] for f in fixed):
        model.document["fixed_config"] = fixed[0]
    return model.document


class Model:
    """Fitted coefficients, able to estimate any configuration.

    Parameters
    ----------
    document : dict
        A coefficient document from :func:`fit` (or its stored JSON).
    """

    def __init__(self, document):
        try:
            self._area = [float(document["area"][t]) for t in AREA_TERMS]
            self._delay = [float(document["delay"][t]) for t in DELAY_TERMS]
        except (KeyError, TypeError, ValueError):
            raise ValueError("not an analytic-model coefficient file "
                             f"(needs area terms {AREA_TERMS} and delay terms {DELAY_TERMS})") from None
        self.document = dict(document)

    @classmethod
    def load(cls, flow, path=None):
        """The model of ``flow`` stored at ``path`` (default: the published one,
        :func:`coefficients_path`), validated; a clear error when none has been fitted."""
        return cls(load_coefficients(path or coefficients_path(flow), flow))

    @property
    def area_unit(self):
        return self.document["area_unit"]

    @property
    def delay_unit(self):
        return self.document["delay_unit"]

    def coverage(self):
        """What the fit covered: ``{"k": (lo, hi), "macs": (lo, hi), "engines": {..},
        "fixed": {field: value}}``, the last being every other DatapathConfig field,
        as in the fitted points (the defaults for a file that does not record them)."""
        points = self.document.get("errors") or []
        if not points:
            return None
        ks = [p["k"] for p in points]
        macs = [p["macs"] for p in points]
        fixed = self.document.get("fixed_config")
        if fixed is None:
            fixed = {f.name: f.default for f in dataclasses.fields(DatapathConfig)
                     if f.name not in ("k", "macs", "engines")}
        return {"k": (min(ks), max(ks)), "macs": (min(macs), max(macs)),
                "engines": sorted({p["engines"] for p in points}), "fixed": fixed}

    def outside(self, config):
        """Why ``config`` is outside what the fit covered: a list of reasons, empty
        when inside. The stored error bound only holds inside."""
        cover = self.coverage()
        if cover is None:
            return ["the coefficient file records no fitted points"]
        reasons = []
        for name in ("k", "macs"):
            lo, hi = cover[name]
            if not lo <= getattr(config, name) <= hi:
                reasons.append(f"{name}={getattr(config, name)} outside the fitted {lo}..{hi}")
        if config.engines not in cover["engines"]:
            reasons.append(f"engines={config.engines}, the fit saw only "
                           f"{', '.join(map(str, cover['engines']))}")
        for name, value in cover["fixed"].items():
            if getattr(config, name) != value:
                reasons.append(f"{name}={getattr(config, name)} (the fit used {value} only)")
        return reasons

    def estimate(self, config):
        """``(area, delay)`` of an engine configuration (``config.macs`` must be set)."""
        if config.macs is None:
            raise ValueError("the analytic model is for engines: give macs")
        area = float(np.dot(self._area, area_features(config)))
        delay = float(np.dot(self._delay, delay_features(config)))
        return area, delay
