"""Sweep documents: file names and what a sweep records (costmodel.sweep)."""

import datetime

from costmodel import sweep, synth
from hw.config import DatapathConfig


def test_sweep_files_of_fpga_knobs_do_not_overwrite_the_default_ones():
    assert sweep.stem(synth.resolve_flow("ecp5")) == "sweep_ecp5"
    assert sweep.stem(synth.resolve_flow("ecp5", seed=2)) == "sweep_ecp5_seed2"
    assert sweep.stem(synth.resolve_flow("ice40", None, 20, device="up5k"), {"fast_clamp": True}) == \
        "sweep_ice40_up5k_clock20ns_fast_clamp1"
    assert sweep.stem(synth.resolve_flow("generic", None, 5)) == "sweep_generic"  # ASIC: as before


def test_a_sweep_records_when_it_was_written():
    """The report quotes the sweep's date from this field (never from git or file times)."""
    request = synth.resolve_flow("generic")
    grid = sweep.Sweep((DatapathConfig(k=4, macs=4),), request, None, None)
    report = {"config": {"k": 4, "macs": 4}, "area": 1.0, "delay": 1.0, "cells": 1, "breakdown": {},
              "runtime_s": 0.5, "area_unit": "transistors", "delay_unit": "levels", "tools": {}, "library": None}
    document = sweep.summary(grid, [report], 1.0)
    assert list(document)[:9] == ["schema", "flow", "area_unit", "delay_unit", "tools", "library", "clock_ns",
                                  "runtime_s", "synthesis_runtime_s"]
    assert datetime.datetime.fromisoformat(document["date"]).utcoffset() == datetime.timedelta(0)  # ISO 8601, UTC
