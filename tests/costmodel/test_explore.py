"""The design-space explorer (:mod:`costmodel.explore`): spaces, points, Pareto flags,
and each point's latency taken from its configuration. Its runs on the local pool and
on Dask are in ``test_executors.py``."""

import json

import pytest

from costmodel import explore, synth
from hw.config import DatapathConfig
from hw.variants import VARIANTS


def test_pareto_flags():
    def row(k, area, delay, acc=None, **kw):
        return {"flow": "f", "device": None, "clock_ns": 1.0, "macs": 8, "engines": 1, "k": k, "area": area,
                "delay": delay, "adp": area * delay, "accuracy_pct": acc, "point": f"p{k}_{area}",
                "fast_clamp": False, "trim_shift": False, "hidden_bit": False, "booth": False,
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
