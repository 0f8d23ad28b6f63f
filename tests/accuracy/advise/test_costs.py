"""Where each engine cost comes from: published sweep, the user's results, the analytic model
(accuracy.advise.costs), and the energy of an inference from the energy model."""

import dataclasses
import json

import pytest

from accuracy.advise import costs
from accuracy.advise.layers import Layer
from hw.config import DatapathConfig

from .conftest import study


def _report(k, macs, *, area, sha="ab" * 32, flow="liberty", **config):
    return {"schema": 1, "config": dataclasses.asdict(DatapathConfig(k=k, macs=macs, **config)), "flow": flow,
            "area": area, "area_unit": "um^2", "delay": 5.0, "delay_unit": "ns", "cells": 10, "runtime_s": 1.0,
            "breakdown": {}, "library": {"path": "x.lib", "sha256": sha}, "clock_ns": 100.0}


def test_each_number_names_its_source(tmp_path):
    folder = study(tmp_path / "reports")
    runs, cache = tmp_path / "build" / "reports", tmp_path / "build" / "cache"
    (runs / "synth").mkdir(parents=True)
    cache.mkdir(parents=True)
    (runs / "synth" / "k6_macs8.json").write_text(json.dumps(_report(6, 8, area=555.0)))
    (cache / "aaa.json").write_text(json.dumps(_report(12, 8, area=700.0)))
    (cache / "bbb.json").write_text(json.dumps(_report(24, 8, area=900.0, sha="cd" * 32)))  # another library
    (cache / "ccc.json").write_text(json.dumps(_report(24, 8, area=901.0, trim_shift=True)))  # another option
    (cache / "ddd.json").write_text("{not json")
    (cache / "eee.json").write_text(json.dumps({**_report(20, 8, area=1.0), "area": -1}))  # damaged
    found, notes = costs.engine_costs((32, 12, 8, 6, 24, 2), (8,), "liberty", study_dir=folder, runs_dir=runs,
                                      cache_dir=cache)
    kinds = {k: found[(k, 8)]["kind"] for k in (32, 12, 8, 6, 24, 2)}
    assert kinds == {32: "sweep", 8: "sweep", 6: "yours", 12: "yours", 24: "analytic", 2: "extrapolated"}
    assert found[(6, 8)]["area"] == 555.0 and "k6_macs8.json" in found[(6, 8)]["source"]
    assert found[(12, 8)]["area"] == 700.0 and "synthesis cache" in found[(12, 8)]["source"]
    assert "within" in found[(24, 8)]["source"] and "no error bound" in found[(2, 8)]["source"]
    assert any("ddd.json" in n for n in notes) and any("eee.json" in n for n in notes)


def test_a_damaged_published_sweep_is_an_error(tmp_path):
    folder = study(tmp_path / "reports")
    (folder / "sweep_liberty.json").write_text('{"schema": 1}')
    with pytest.raises(ValueError, match="sweep_liberty.json is not a sweep document"):
        costs.engine_costs((32,), (8,), "liberty", study_dir=folder, runs_dir=tmp_path, cache_dir=tmp_path)


def test_no_source_at_all_is_none(tmp_path):
    found, notes = costs.engine_costs((4,), (8,), "ecp5", study_dir=tmp_path, runs_dir=tmp_path, cache_dir=tmp_path)
    assert found[(4, 8)] is None and any("no published sweep" in n for n in notes)


def test_energy_per_inference_is_outputs_times_the_line_at_the_layers_beats(tmp_path):
    from costmodel import published
    model = published.load_energy_model(study(tmp_path) / "energy_model.json")
    layers = [Layer(0, 0, "a", "CONV_2D", 144, 4, 18), Layer(1, 1, "b", "DEPTHWISE_CONV_2D", 144, 4, 9),
              Layer(3, 3, "c", "FULLY_CONNECTED", 3, 3, 144), Layer(4, 4, "d", "BATCH_MATMUL", 7, 7, None)]
    energy = costs.energy_costs(model, layers, (4, 6, 32, 3), (8,))
    # by hand, 8 MACS: beats 3, 2 and 18; k = 4 is 10 + 100 * beats pJ per output
    assert energy[(4, 8)]["total_pj"] == 144 * (10 + 300) + 144 * (10 + 200) + 3 * (10 + 1800) == 80310
    assert energy[(4, 8)]["layers_pj"] == [44640, 30240, 5430] and energy[(4, 8)]["basis"] == "measured"
    # k = 6 halfway between k = 4 and the derived k = 8 line: 11 + 110 * beats
    assert energy[(6, 8)]["total_pj"] == pytest.approx(144 * (11 + 330) + 144 * (11 + 220) + 3 * (11 + 1980))
    assert energy[(6, 8)]["basis"] == "interpolated in k between k=4 (measured) and k=8 (derived)"
    assert energy[(3, 8)] is None  # never extrapolated
    assert costs.energy_costs(None, layers, (4,), (8,))[(4, 8)] is None


def test_energy_of_isolated_engines_reads_the_isolated_lines(tmp_path):
    from costmodel import published
    folder = study(tmp_path, isolated_lines={4: (50.0, 2.0, "measured"), 32: (300.0, 1.0, "measured")})
    model = published.load_energy_model(folder / "energy_model.json")
    layers = [Layer(0, 0, "a", "CONV_2D", 144, 4, 18)]  # 3 beats at 8 MACS
    built = costs.energy_costs(model, layers, (4, 32), (8,))
    isolated = costs.energy_costs(model, layers, (4, 32), (8,), operand_isolation=True)
    assert built[(4, 8)]["total_pj"] == 144 * (10 + 300)
    assert isolated[(4, 8)]["total_pj"] == 144 * (50 + 6) and isolated[(32, 8)]["total_pj"] == 144 * (300 + 3)
    none = published.load_energy_model(study(tmp_path / "b") / "energy_model.json")
    assert costs.energy_costs(none, layers, (4,), (8,), operand_isolation=True)[(4, 8)] is None
