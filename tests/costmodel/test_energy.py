"""Energy per output (costmodel.energy) and its cache.

The pure parts (the power combination, the cache's bookkeeping with the
measurement stubbed) run everywhere. The measurements simulate the rescaler
alone (``k = 4``, the ``python -m costmodel synth --k 4`` design, about 1,300
cells) and need Icarus Verilog, OpenSTA and Debian's OSU 0.18 um cells; they
are skipped with the reason when one is missing (``make test`` installs them
when root).
"""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from costmodel import energy
from costmodel.__main__ import main
from costmodel.stimulus import constant_stimulus, golden_check, stimulus_for, zero_stimulus
from eda.gatesim import Icarus
from eda.liberty import DEFAULT_LIBERTY as LIB
from eda.sta import find_sta
from eda.yosys import find_yosys, named_netlist
from hw.config import DatapathConfig
from hw.export import datapath, to_rtlil
from toolkit.run import Tool

REPO = Path(__file__).resolve().parents[2]


def test_combine_power_is_linear_in_activity():
    p0 = {"a": np.array([1.0, 0.0, 0.1])}
    p1 = {"a": np.array([3.0, 4.0, 0.1])}
    assert np.allclose(energy.combine_power(p0, p1, {"a": 0.25})["a"], [1.5, 1.0, 0.1])


def test_energy_needs_a_liberty_flow(capsys):
    assert main(["synth", "--k", "4", "--flow", "generic", "--energy"]) == 2
    assert "error: --energy needs a flow with liberty cells" in capsys.readouterr().err


# --------------------------------------------------------------------------- the cache

#: The published energy object of k = 4, 8 MACs (its ``cached`` flag aside): what a measurement returns.
PUBLISHED = {k: v for k, v in json.loads((REPO / "reports" / "synth" / "k4_macs8.json").read_text())["energy"].items()
             if k != "cached"}
CONFIG = DatapathConfig(k=4, macs=8)
YOSYS, STA = Tool("yosys", ("yosys",), "Yosys 0.0 (stub)"), Tool("opensta", ("sta",), "2.0.0 (stub)")
ICARUS = Icarus(Tool("iverilog", ("iverilog",), "Icarus 0 (stub)"), Tool("vvp", ("vvp",), "Icarus 0 (stub)"))


@pytest.fixture
def stub_measure(tmp_path, monkeypatch):
    """Replace the tools by stubs that return the published object; count the measurements."""
    calls = []
    measured = {k: v for k, v in PUBLISHED.items() if k not in ("netlist", "vectorless")}

    def measure(config, rtlil, stimulus, schedule, *, workdir, **kw):
        calls.append(config)
        return dict(measured), workdir / "netlist.v"

    monkeypatch.chdir(tmp_path)  # the scratch directories are relative
    monkeypatch.setattr(energy.gatesim, "find_icarus", lambda: ICARUS)
    monkeypatch.setattr(energy, "_measure", measure)
    monkeypatch.setattr(energy, "vectorless_energy", lambda *a, **kw: dict(PUBLISHED["vectorless"]))
    (tmp_path / "cells.lib").write_text("library (x) { cell (X) { } }\n")
    return calls


def _measure_config(tmp_path):
    result = energy.measure_config(CONFIG, liberty=tmp_path / "cells.lib", yosys=YOSYS, sta=STA,
                                   cache_dir=tmp_path / "cache")
    return {k: v for k, v in result.items() if k != "cached"}, result["cached"]


def test_energy_cache_miss_then_hit(tmp_path, stub_measure):
    first, cached = _measure_config(tmp_path)
    assert not cached and first == PUBLISHED and len(stub_measure) == 1
    second, cached = _measure_config(tmp_path)
    assert cached and second == first and len(stub_measure) == 1


@pytest.mark.parametrize("damage", [
    lambda e: "",                                                   # truncated to nothing
    lambda e: json.dumps(e)[:100],                                  # killed mid-write by hand
    lambda e: "[1, 2, 3]",                                          # valid JSON, wrong shape
    lambda e: json.dumps({**e, "energy_pj_per_output": "NaN"}),     # a number that is not one
    lambda e: json.dumps({k: v for k, v in e.items() if k != "groups"}),
    lambda e: json.dumps({**e, "outputs_match_golden": False}),
    lambda e: json.dumps({**e, "clock_ns": 10.0}),                  # another clock's figures
    lambda e: json.dumps({**e, "vectorless": {"method": "vectorless"}}),
])
def test_damaged_energy_entry_is_recomputed(tmp_path, stub_measure, damage):
    _measure_config(tmp_path)
    (entry,) = (tmp_path / "cache").glob("*.json")
    entry.write_text(damage(json.loads(entry.read_text())))
    again, cached = _measure_config(tmp_path)
    assert not cached and again == PUBLISHED and len(stub_measure) == 2
    assert json.loads(entry.read_text()) == PUBLISHED  # entry repaired


def test_energy_key_covers_every_listed_module(tmp_path, source_copy):
    """An edit to any module of the netlist script, the simulation, the cell models, the
    power script, the stimulus or the arithmetic changes the key."""
    (tmp_path / "cells.lib").write_text("library (x) {\n  cell (X) { }\n}\n")  # the key opens the library

    def key(**changes):
        kw = dict(liberty=tmp_path / "cells.lib", clock_ns=20.0, yosys=YOSYS, sta=STA, icarus=ICARUS)
        return energy.cache_key(CONFIG, "module top; end", **{**kw, **changes})
    paths = source_copy(energy.CACHE_MODULES)
    base = key()
    for module, path in paths.items():
        text = path.read_text()
        path.write_text(text + "\n# edited\n")
        assert key() != base, module
        path.write_text(text)
    assert key() == base
    assert key(clock_ns=10.0) != base and key(sta=Tool("opensta", ("sta",), "2.0.1")) != base
    assert key(icarus=Icarus(Tool("iverilog", (), "Icarus 12"), ICARUS.vvp)) != base
    assert {"eda.gatesim", "eda.liberty", "eda.sta", "eda.yosys", "costmodel.energy"} <= set(paths)


def test_an_edited_module_serves_no_stale_energy(tmp_path, stub_measure, source_copy):
    paths = source_copy(energy.CACHE_MODULES)
    _measure_config(tmp_path)
    paths["eda.sta"].write_text(paths["eda.sta"].read_text() + "\n# edited\n")
    assert not _measure_config(tmp_path)[1] and len(stub_measure) == 2


_missing = [what for what, ok in (("iverilog", shutil.which("iverilog")), ("OpenSTA", find_sta()),
                                  ("qflow-tech-osu018", LIB.is_file())) if not ok]
needs_tools = pytest.mark.skipif(bool(_missing), reason=f"needs {', '.join(_missing)} (make test installs them)")


@pytest.fixture(scope="module")
def rescaler(tmp_path_factory):
    """The k = 4 rescaler mapped onto OSU 0.18 um, its layer stimulus, and a measuring function."""
    work = tmp_path_factory.mktemp("energy")
    config = DatapathConfig(k=4)
    netlist = named_netlist(to_rtlil(datapath(config).component, name="top"), liberty=LIB,
                            workdir=work / "netlist", yosys=find_yosys())
    stimulus, schedule = stimulus_for(config)

    def measure(stim, tag):
        return energy.measure_energy(netlist, liberty=LIB, top="top", stimulus=stim, clock_ns=20.0,
                                     workdir=work / tag, sta=find_sta())
    measure.netlist = netlist
    return stimulus, schedule, measure


@needs_tools
def test_layer_energy_matches_golden_and_splits(rescaler):
    stimulus, schedule, measure = rescaler
    r = measure(stimulus, "layer")
    assert golden_check(r.pop("output_trace"), schedule, 4)
    parts = r["internal_pj_per_output"] + r["switching_pj_per_output"] + r["leakage_pj_per_output"]
    assert r["energy_pj_per_output"] == pytest.approx(parts, rel=1e-3)
    assert r["total_mw"] * r["clock_ns"] * r["cycles_per_output"] == pytest.approx(r["energy_pj_per_output"], rel=1e-3)
    assert r["stimulus"].startswith("final accumulators of conv3x3") and r["cycles"] == stimulus.outputs


@needs_tools
def test_activity_annotation_moves_power_the_right_way(rescaler):
    """All-zero data draws less than the layer's stream; a constant input stream
    draws the design's idle power. What is true in this library: the idle floor is
    the flip-flops' clock-pin internal power, and leakage is a tiny part of it."""
    stimulus, _, measure = rescaler
    layer = measure(stimulus, "layer2")
    zero = measure(zero_stimulus(stimulus), "zero")
    const = constant_stimulus(stimulus)
    # Measured after the first cycles, in which the constant operands settle from reset.
    const = measure(dataclasses.replace(const, window=(8, const.window[1])), "constant")
    assert zero["energy_pj_per_output"] < 0.5 * layer["energy_pj_per_output"]
    assert const["total_mw"] == pytest.approx(const["idle_mw"], rel=0.02)  # the floor P(0)
    assert const["leakage_pj_per_output"] < 0.01 * const["energy_pj_per_output"]
    assert const["mean_toggles_per_net"] < 0.01 < layer["mean_toggles_per_net"]


@needs_tools
def test_vectorless_is_labelled_and_linear(rescaler, tmp_path):
    lo, hi = (energy.vectorless_energy(rescaler[2].netlist, liberty=LIB, top="top", clock_ns=20.0, cycles_per_output=1,
                                       workdir=tmp_path / f"a{a}", sta=find_sta(), activity=a)
              for a in (0.1, 0.2))
    assert lo["method"].startswith("vectorless") and hi["energy_pj_per_output"] > lo["energy_pj_per_output"]


@needs_tools
def test_synth_energy_prints_and_writes_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the caches and scratch directories are relative
    assert main(["synth", "--k", "4", "--energy", "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert "energy " in out and "stimulus final accumulators of conv3x3" in out and "vectorless" in out
    report = json.loads((tmp_path / "out" / "k4.json").read_text())
    e = report["energy"]
    assert e["outputs_match_golden"] and e["clock_ns"] == energy.DEFAULT_CLOCK_NS
    assert {"internal_pj_per_output", "switching_pj_per_output", "leakage_pj_per_output"} <= set(e)
    assert e["vectorless"]["method"].startswith("vectorless")
    assert main(["synth", "--k", "4", "--energy", "--out", "out"]) == 0
    assert "(cached)" in capsys.readouterr().out
