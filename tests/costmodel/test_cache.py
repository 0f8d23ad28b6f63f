"""The synthesis cache and the sweep runner, with the synthesis itself stubbed.

A stub stands in for :func:`costmodel.synth.run` so these tests check the
bookkeeping (hit, miss, corruption, resumption, ordering, the key's module list)
in milliseconds; real synthesis is covered by ``test_synth_cli.py``.
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel import sweep, synth
from toolkit.run import Tool
from hw.config import DatapathConfig

REPO = Path(__file__).resolve().parents[2]
YOSYS = Tool("yosys", ("yosys",), "Yosys 0.0 (stub)")


@pytest.fixture
def fake_run(monkeypatch):
    """Replace synthesis by a stub that counts its calls and makes up a report."""
    calls = []

    def run(config, rtlil, request, *, yosys, sta, workdir, progress=None):
        calls.append(config)
        area = 1000.0 * config.macs + 100.0 * config.k
        return {"schema": synth.SCHEMA_VERSION, "config": synth.dataclasses.asdict(config),
                "area": area, "area_unit": "um^2", "delay": 10.0 + config.k / 4, "delay_unit": "ns",
                "cells": 1, "breakdown": {"rescaler": 100.0 * config.k, "multipliers": 1000.0 * config.macs},
                "runtime_s": 0.0, "tools": {"yosys": {"name": "yosys", "version": yosys.version}},
                "library": None, "flow": request.flow, "delay_source": "stub", "logic_levels": 1,
                "clock_ns": request.clock_ns}

    monkeypatch.setattr(synth, "run", run)
    return calls


REQUEST = synth.SynthRequest(flow="generic", liberty=None)
CONFIG = DatapathConfig(k=4, macs=4)


def cached(config, cache_dir, **kw):
    return synth.synthesize_config(config, REQUEST, yosys=YOSYS, sta=None, cache_dir=cache_dir, **kw)


def test_miss_then_hit(tmp_path, fake_run):
    first, was_cached = cached(CONFIG, tmp_path)
    assert not was_cached and len(fake_run) == 1
    second, was_cached = cached(CONFIG, tmp_path)
    assert was_cached and len(fake_run) == 1
    assert second == first
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporaries


def test_fresh_ignores_the_cache(tmp_path, fake_run):
    cached(CONFIG, tmp_path)
    cached(CONFIG, tmp_path, fresh=True)
    assert len(fake_run) == 2


@pytest.mark.parametrize("corrupt", [
    "",                                             # truncated to nothing
    '{"schema": 1, "config": {',                    # killed mid-write by hand
    "[1, 2, 3]",                                    # valid JSON, wrong shape
    None,                                           # another schema version
    "wrong-config",                                 # a report of another configuration
])
def test_corrupt_entry_is_recomputed(tmp_path, fake_run, corrupt):
    report, _ = cached(CONFIG, tmp_path)
    (entry,) = tmp_path.glob("*.json")
    if corrupt is None:
        entry.write_text(json.dumps({**report, "schema": synth.SCHEMA_VERSION + 1}))
    elif corrupt == "wrong-config":
        entry.write_text(json.dumps({**report, "config": {**report["config"], "k": 5}}))
    else:
        entry.write_text(corrupt)
    again, was_cached = cached(CONFIG, tmp_path)
    assert not was_cached and len(fake_run) == 2
    assert again["area"] == report["area"]
    assert json.loads(entry.read_text())["config"] == report["config"]  # entry repaired


def test_key_changes_with_what_changes_the_result(tmp_path):
    rtlil = "module top; end"
    key = synth.cache_key(CONFIG, rtlil, REQUEST, yosys=YOSYS, sta=None)
    assert key == synth.cache_key(CONFIG, rtlil, REQUEST, yosys=YOSYS, sta=None)
    other_tool = Tool("yosys", ("yosys",), "Yosys 9.9")
    for changed in [
        synth.cache_key(DatapathConfig(k=5, macs=4), rtlil, REQUEST, yosys=YOSYS, sta=None),
        synth.cache_key(CONFIG, rtlil + " ", REQUEST, yosys=YOSYS, sta=None),
        synth.cache_key(CONFIG, rtlil, synth.SynthRequest("generic", None, 5.0), yosys=YOSYS, sta=None),
        synth.cache_key(CONFIG, rtlil, REQUEST, yosys=other_tool, sta=None),
    ]:
        assert changed != key
    lib_a, lib_b = tmp_path / "a.lib", tmp_path / "b.lib"
    lib_a.write_text("library (a) { cell (X) { area : 1; } }")
    lib_b.write_text("library (a) { cell (X) { area : 2; } }")
    keys = {synth.cache_key(CONFIG, rtlil, synth.SynthRequest("liberty", lib), yosys=YOSYS, sta=None)
            for lib in (lib_a, lib_b)}
    assert len(keys) == 2


def test_key_covers_every_listed_module(source_copy):
    """An edit to any module of the flows' scripts, parsers or report code changes the key."""
    rtlil = "module top; end"
    paths = source_copy(synth.CACHE_MODULES)
    key = synth.cache_key(CONFIG, rtlil, REQUEST, yosys=YOSYS, sta=None)
    for module, path in paths.items():
        text = path.read_text()
        path.write_text(text + "\n# edited\n")
        assert synth.cache_key(CONFIG, rtlil, REQUEST, yosys=YOSYS, sta=None) != key, module
        path.write_text(text)
    assert synth.cache_key(CONFIG, rtlil, REQUEST, yosys=YOSYS, sta=None) == key


def test_listed_modules_cover_every_adapter_synthesis_loads():
    """Every tool adapter a synthesis can run is in the key (a fresh interpreter, so
    that no other test's imports count)."""
    loaded = subprocess.run([sys.executable, "-c", "import sys, costmodel.synth; "
                             "print(' '.join(m for m in sys.modules if m.startswith('eda.')))"],
                            capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}).stdout.split()
    assert loaded and set(loaded) <= set(synth.CACHE_MODULES)
    assert {"costmodel.synth", "costmodel.layout"} <= set(synth.CACHE_MODULES)


def test_an_edited_module_serves_no_stale_report(tmp_path, fake_run, source_copy):
    paths = source_copy(synth.CACHE_MODULES)
    cached(CONFIG, tmp_path)
    assert cached(CONFIG, tmp_path)[1]
    paths["costmodel.synth"].write_text(paths["costmodel.synth"].read_text() + "\n# edited\n")
    assert not cached(CONFIG, tmp_path)[1] and len(fake_run) == 2


def test_sweep_resumes_and_keeps_grid_order(tmp_path, fake_run):
    grid = sweep.Sweep(tuple(DatapathConfig(k=k, macs=n) for n in (4, 8) for k in (4, 8, 32)),
                       REQUEST, YOSYS, None)
    # A first, partial run (as if killed after two configurations) ...
    for config in grid.configs[:2]:
        cached(config, tmp_path)
    progress = io.StringIO()
    reports = sweep.run_sweep(grid, jobs=2, cache_dir=tmp_path, progress=progress)
    assert [(r["config"]["k"], r["config"]["macs"]) for r in reports] == \
        [(c.k, c.macs) for c in grid.configs]
    assert "6 configurations" in progress.getvalue() and "(2 from cache)" in progress.getvalue()
    assert progress.getvalue().count("\n") == 7  # one line per configuration, one summary


def test_sweep_summary_ratios_and_paper(fake_run, tmp_path):
    grid = sweep.Sweep(tuple(DatapathConfig(k=k, macs=n) for n in (4, 8, 16) for k in (4, 8, 32)),
                       REQUEST, YOSYS, None)
    reports = sweep.run_sweep(grid, jobs=1, cache_dir=tmp_path, progress=io.StringIO())
    document = sweep.summary(grid, reports, 1.0)
    row = next(r for r in document["ratios"] if (r["macs"], r["k"]) == (4, 4))
    assert row["area_vs_k32"] == pytest.approx((4000 + 400) / (4000 + 3200))
    comparison = {c["macs"]: c for c in document["paper_comparison"]}
    assert comparison[4]["paper_area_reduction_k4_pct"] == 58.5
    assert comparison[16]["paper_area_reduction_k4_pct"] == 34.8
    assert comparison[8]["area_reduction_k4_pct"] == pytest.approx(100 * (1 - 8400 / 11200), abs=0.05)
    csv_text = sweep.to_csv(document)
    assert csv_text.splitlines()[0].startswith("k,macs,engines,area,delay,adp")
    assert len(csv_text.splitlines()) == 1 + 9


@pytest.mark.parametrize("text, values", [("3..6,8", [3, 4, 5, 6, 8]), ("32, 4", [4, 32]), ("8", [8])])
def test_int_lists(text, values):
    assert sweep.parse_int_list(text, "k") == values


@pytest.mark.parametrize("text", ["", "a", "6..3", "3..", "1.5"])
def test_bad_int_lists(text):
    with pytest.raises(ValueError, match="--k must be a comma-separated list"):
        sweep.parse_int_list(text, "k")
