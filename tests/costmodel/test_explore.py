"""The design-space explorer (:mod:`costmodel.explore`): spaces, points, Pareto flags,
and each point's latency taken from its configuration. Its runs on the local pool and
on Dask are in ``test_executors.py``."""

import json

import numpy as np
import pytest

from costmodel import explore, synth
from hw.config import DatapathConfig
from hw.variants import VARIANTS


def test_pareto_flags():
    def row(k, area, delay, acc=None, **kw):
        return {"flow": "f", "device": None, "clock_ns": 1.0, "macs": 8, "engines": 1, "k": k, "area": area,
                "delay": delay, "adp": area * delay, "accuracy_pct": acc, "point": f"p{k}_{area}",
                "fast_clamp": False, "trim_shift": False, "hidden_bit": False, "operand_isolation": False,
                "booth": False,
                "rescaler_pipeline": 1, "mac_pipeline": 1, **kw}
    rows = explore.pareto_flags([row(4, 10, 5), row(4, 12, 6), row(32, 20, 3), row(32, 25, 4)])
    assert [r["pareto"] for r in rows] == [True, False, True, False]
    assert [r["best_for_k"] for r in rows] == [True, False, True, False]
    assert [r["paper"] for r in rows] == ["paper (k=4)"] * 2 + ["paper baseline (k=32)"] * 2
    # With accuracy on every point, a less accurate small point no longer dominates.
    rows = explore.pareto_flags([row(4, 10, 5, 90.0), row(8, 12, 6, 96.0)])
    assert [r["pareto"] for r in rows] == [True, True]


def test_space_checks(tmp_path):
    assert explore.load_space("small")[0] == "small"
    assert 40 <= len(explore.points(explore.SPACES["small"])[0]) <= 60
    for bad, match in (({"kk": [1]}, "unknown knob 'kk'"), ({"k": 4}, "non-empty list"),
                       ({"flow": ["nope"]}, "flow must be one of"),
                       ({"variants": {"a": {"k": 4}}}, "architecture options")):
        path = tmp_path / "space.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=match):
            explore.load_space(str(path))
    with pytest.raises(ValueError, match="one of small, large, fpga or a JSON file"):
        explore.load_space("missing")
    points, skipped = explore.points({"k": [4], "macs": [4], "mac_pipeline": [1, 9]})
    assert len(points) == 1 and skipped == 1


def test_preset_spaces_name_the_variants_of_the_table():
    for space in explore.SPACES.values():
        for name, options in space["variants"].items():
            rtl = name.removesuffix("_booth")
            assert {f: options[f] for f in VARIANTS[rtl]} == VARIANTS[rtl]
            assert options.get("booth", False) == name.endswith("_booth")


def test_a_space_may_weigh_pre_skew(tmp_path):
    """pre_skew is a true/false knob; the combinations with one engine are skipped as invalid."""
    path = tmp_path / "skew.json"
    path.write_text(json.dumps({"k": [4], "macs": [8], "engines": [1, 4], "pre_skew": [False, True]}))
    _, space = explore.load_space(str(path))
    points, skipped = explore.points(space)
    assert sorted((c.engines, c.pre_skew) for _, _, c in points) == [(1, False), (4, False), (4, True)]
    assert skipped == 1


def test_latency_is_the_configurations_own_engines_included():
    """An array of four engines adds three systolic hops: the explorer reports
    DatapathConfig.latency (6 cycles at the default pipelines), not the engine's 3."""
    space = {"k": [4], "macs": [None, 4, 8], "engines": [1, 4], "mac_pipeline": [0, 1, 2],
             "rescaler_pipeline": [0, 1, 3]}
    points, _ = explore.points(space)
    assert any(config.engines > 1 for _, _, config in points)
    request = synth.SynthRequest("generic", None)
    report = {"area": 1.0, "area_unit": "transistors", "delay": 2.0, "delay_unit": "levels"}
    for _, variant, config in points:
        row = explore._row(variant, request, config, report, {})
        assert row["latency_cycles"] == config.latency, config
    assert explore._row("", request, DatapathConfig(k=4, macs=4, engines=4), report, {})["latency_cycles"] == 6


def _dominates(a, b, keys):
    """``a`` is at least as good as ``b`` in every objective of ``keys`` and better in one."""
    pairs = [(sign * a[key], sign * b[key]) for key, sign in keys]
    return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)


def test_front_is_pareto_optimal_in_every_axis():
    """Area, delay, latency, energy and accuracy: a point is on the front exactly when
    no point of its group dominates it in all of them; an axis that one point of a
    group lacks is not used for that group."""
    rng = np.random.default_rng(23)
    rows = []
    for i in range(60):
        rows.append({"flow": "liberty", "device": None, "clock_ns": 20.0, "macs": 8, "engines": 1,
                     "k": int(rng.choice([4, 8, 32])), "area": float(rng.integers(10, 20)),
                     "delay": float(rng.integers(1, 6)), "adp": 0.0, "latency_cycles": int(rng.integers(2, 5)),
                     "energy_pj_per_output": float(rng.integers(100, 200)), "accuracy_pct": float(rng.integers(90, 99)),
                     "point": f"p{i}", **{f: False for f in VARIANTS["paper"]}, "booth": False,
                     "rescaler_pipeline": 1, "mac_pipeline": 1})
    keys = [(key, sign) for key, sign, _ in explore.OBJECTIVES]
    explore.pareto_flags(rows)
    for row in rows:
        assert row["pareto"] == (not any(_dominates(o, row, keys) for o in rows)), row
    front = [r for r in rows if r["pareto"]]
    assert front and all(any(_dominates(f, r, keys) for f in front) for r in rows if not r["pareto"])
    # Energy alone can put a point on the front: worse area and delay, less energy.
    best = min(rows, key=lambda r: (r["area"], r["delay"]))
    saver = {**best, "point": "saver", "area": best["area"] + 1, "delay": best["delay"] + 1,
             "energy_pj_per_output": best["energy_pj_per_output"] - 1, "accuracy_pct": best["accuracy_pct"],
             "latency_cycles": best["latency_cycles"]}
    dominated = {**best, "point": "dominated", "area": best["area"] + 1, "delay": best["delay"] + 1}
    flags = {r["point"]: r["pareto"] for r in explore.pareto_flags([dict(best), saver, dominated])}
    assert flags == {best["point"]: True, "saver": True, "dominated": False}
    # Without energy on one point, energy is no objective of the group.
    flags = {r["point"]: r["pareto"] for r in explore.pareto_flags([dict(best), {**saver, "energy_pj_per_output": None}])}
    assert flags == {best["point"]: True, "saver": False}


def test_energy_is_measured_only_where_the_energy_flow_applies():
    """Other flows and arrays get no energy (null, never guessed); a measured one
    brings its layer."""
    generic = synth.SynthRequest("generic", None)
    assert explore._energy(generic, DatapathConfig(k=4, macs=4), yosys=None, sta=None) is None
    liberty = synth.SynthRequest("liberty", synth.DEFAULT_LIBERTY)
    assert explore._energy(liberty, DatapathConfig(k=4, macs=4, engines=2), yosys=None, sta=None) is None
    report = {"area": 1.0, "area_unit": "um^2", "delay": 2.0, "delay_unit": "ns"}
    row = explore._row("", liberty, DatapathConfig(k=4, macs=4), report, {},
                       {"energy_pj_per_output": 123.4, "stimulus": "conv3x3 (seed 0)"})
    assert (row["energy_pj_per_output"], row["energy_layer"]) == (123.4, "conv3x3 (seed 0)")
    assert explore._row("", liberty, DatapathConfig(k=4, macs=4), report, {})["energy_pj_per_output"] is None
