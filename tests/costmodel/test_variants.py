"""The variant comparison (:mod:`costmodel.variants`): synthesized variants derived
from the RTL variants of :mod:`hw.variants`, report names, sweep plumbing, analysis.
The RTL side of the variants is tested in ``tests/hw/test_variants.py``."""

import dataclasses
import json
from pathlib import Path

import pytest

from costmodel import sweep, synth, variants
from hw.config import DatapathConfig
from hw.variants import VARIANTS as RTL_VARIANTS


def test_synthesized_variants_are_rtl_variants_times_depth_times_booth():
    assert variants.BASELINE == "paper"
    assert list(variants.VARIANTS) == [
        "paper", "fast_clamp", "trim_fast", "trim_fast_hidden", "paper_booth", "p2_paper", "p2_fast_clamp",
        "p2_trim_fast", "p2_trim_fast_hidden", "p2_trim_fast_booth", "p3_trim_fast"]
    for rtl, depth, booth in variants.COMPARED:
        fields = variants.VARIANTS[variants.variant_name(rtl, depth, booth)]
        assert fields == {**RTL_VARIANTS[rtl], "rescaler_pipeline": depth, "booth": booth}
        DatapathConfig(k=4, macs=4, **fields)  # a valid configuration


def test_published_variants_use_the_derived_names():
    """The committed study names each variant as the table derives it, and its proof
    is the RTL variant whose options match."""
    doc = json.loads(Path("reports/variants_liberty.json").read_text())
    assert list(doc["variants"]) == list(variants.VARIANTS)
    for name, entry in doc["variants"].items():
        assert entry["overrides"] == variants.VARIANTS[name]
        assert RTL_VARIANTS[entry["proof"]] == {f: entry["overrides"][f] for f in RTL_VARIANTS["paper"]}
    assert {p["variant"] for p in doc["points"]} == set(variants.VARIANTS)


def test_report_name_adds_options():
    request = synth.SynthRequest("liberty", synth.DEFAULT_LIBERTY)
    config = DatapathConfig(k=4, macs=8, rescaler_pipeline=2, trim_shift=True)
    assert synth.report_name(config, request) == "k4_macs8_rescaler_pipeline2_trim_shift1"
    assert synth.report_name(DatapathConfig(k=4, macs=8, fast_clamp=False), request) == "k4_macs8_fast_clamp0"


def test_parse_overrides():
    assert sweep.parse_overrides(["rescaler_pipeline=2", "fast-clamp=1", "booth=false"]) == \
        {"rescaler_pipeline": 2, "fast_clamp": True, "booth": False}
    with pytest.raises(ValueError, match="--set takes FIELD=VALUE"):
        sweep.parse_overrides(["k=4"])
    with pytest.raises(ValueError, match="--set takes FIELD=VALUE"):
        sweep.parse_overrides(["nonsense"])


def _report(k, macs, area, delay, **config):
    return {"config": dataclasses.asdict(DatapathConfig(k=k, macs=macs, **config)), "area": area,
            "delay": delay, "breakdown": {}, "area_unit": "um^2", "delay_unit": "ns",
            "tools": {"yosys": {"version": "Yosys test"}}, "library": None}


def test_variants_analysis_picks_the_best_and_checks_the_target():
    results = {"paper": [_report(32, 8, 1000.0, 20.0), _report(4, 8, 600.0, 14.0)],
               "p2_trim_fast": [_report(32, 8, 1100.0, 12.0, rescaler_pipeline=2),
                                _report(4, 8, 500.0, 9.0, rescaler_pipeline=2)]}
    request = synth.SynthRequest("liberty", synth.DEFAULT_LIBERTY)
    doc = variants.analyse(results, request, 1.0)
    assert doc["must_show"]["passing_variants"] == ["p2_trim_fast"]
    k4 = next(p for p in doc["points"] if p["variant"] == "p2_trim_fast" and p["k"] == 4)
    assert (k4["area_reduction_pct"], k4["delay_reduction_pct"], k4["latency_cycles"]) == (50.0, 55.0, 4)
    assert {b["k"]: b["best_adp"] for b in doc["best"]} == {4: "p2_trim_fast", 32: "p2_trim_fast"}
    assert "| p2_trim_fast | 8 | 55.0 | 50.0 | 47.5 | yes |" in variants.to_markdown(doc)
    assert doc["variants"]["p2_trim_fast"]["proof"] == "trim_fast"


def test_latency_is_the_configurations_own():
    """The latency column is DatapathConfig.latency, engines included."""
    results = {"paper": [_report(32, 8, 1000.0, 20.0), _report(4, 8, 600.0, 14.0, engines=4, mac_pipeline=2)]}
    doc = variants.analyse(results, synth.SynthRequest("liberty", synth.DEFAULT_LIBERTY), 1.0)
    by_k = {p["k"]: p["latency_cycles"] for p in doc["points"]}
    assert by_k == {32: DatapathConfig(k=32, macs=8).latency, 4: 2 + 1 + 1 + 3}
