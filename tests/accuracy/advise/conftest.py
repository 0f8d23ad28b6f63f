"""A tiny int8 model the project's writer makes, its data, and a small published study
(sweep, energy model) for the advise tests: nothing is downloaded."""

import dataclasses
import json

import numpy as np
import pytest

from accuracy.tflite import litert
from accuracy.tflite.writer import ModelBuilder
from costmodel import published
from hw.config import DatapathConfig

REASON = litert.litert_available()
needs_tflite = pytest.mark.skipif(REASON is not None, reason=f"the tflite package cannot be used here: {REASON}")

#: The tiny model's dot-product layers: (op, outputs per inference, channels, dot-product length).
TINY_LAYERS = [("CONV_2D", 6 * 6 * 4, 4, 3 * 3 * 2), ("DEPTHWISE_CONV_2D", 6 * 6 * 4, 4, 3 * 3),
               ("FULLY_CONNECTED", 3, 3, 6 * 6 * 4)]
#: The fake energy model's lines at 8 MACS: k -> (fixed_pj, per_beat_pj, kind).
LINES = {4: (10.0, 100.0, "measured"), 8: (12.0, 120.0, "derived"), 32: (20.0, 200.0, "measured")}
#: The fake sweep's areas and delays at 8 MACS (k = 2 and 6 are left to other sources).
SWEEP = {32: (1000.0, 10.0), 16: (800.0, 9.0), 8: (600.0, 8.0), 5: (520.0, 7.5), 4: (500.0, 7.0), 3: (480.0, 6.9)}


def tiny_model(path, *, seed=0):
    """x [1,6,6,2] -> CONV_2D 3x3 (4, ReLU) -> DEPTHWISE_CONV_2D 3x3 -> RESHAPE [1,144] -> FULLY_CONNECTED 3."""
    rng = np.random.default_rng(seed)
    mb = ModelBuilder()

    def weights(name, shape, channels, axis):
        scale = np.exp(rng.uniform(np.log(2e-3), np.log(1e-2), channels)).astype(np.float32)
        return mb.tensor(name, shape, data=rng.integers(-127, 128, shape), scale=scale, zero_point=np.zeros(channels),
                         axis=axis), scale

    def bias(name, channels, sx, sw):
        return mb.tensor(name, [channels], "int32", data=rng.integers(-500, 500, channels),
                         scale=sx * sw.astype(np.float64), zero_point=np.zeros(channels))

    x = mb.tensor("x", [1, 6, 6, 2], scale=0.02, zero_point=-3)
    w1, s1 = weights("w1", [4, 3, 3, 2], 4, 0)
    h1 = mb.tensor("h1", [1, 6, 6, 4], scale=0.01, zero_point=-128)
    mb.op("CONV_2D", [x, w1, bias("b1", 4, 0.02, s1)], [h1], padding="same", stride_w=1, stride_h=1,
          activation="relu", dilation_w=1, dilation_h=1)
    w2, s2 = weights("w2", [1, 3, 3, 4], 4, 3)
    h2 = mb.tensor("h2", [1, 6, 6, 4], scale=0.008, zero_point=2)
    mb.op("DEPTHWISE_CONV_2D", [h1, w2, bias("b2", 4, 0.01, s2)], [h2], padding="same", stride_w=1, stride_h=1,
          depth_multiplier=1, activation="none", dilation_w=1, dilation_h=1)
    shape = mb.tensor("shape", [2], "int32", data=[1, 144])
    flat = mb.tensor("flat", [1, 144], scale=0.008, zero_point=2)
    mb.op("RESHAPE", [h2, shape], [flat], new_shape=[1, 144])
    w3, s3 = weights("w3", [3, 144], 3, 0)
    y = mb.tensor("y", [1, 3], scale=0.05, zero_point=0)
    mb.op("FULLY_CONNECTED", [flat, w3, bias("b3", 3, 0.008, s3)], [y], activation="none")
    return mb.save(path)


def tiny_data(path, n=120, *, labels=True, seed=1):
    """``n`` random inputs (and, with ``labels``, labels that k = 32 gets mostly right)."""
    x = np.random.default_rng(seed).integers(-128, 128, (n, 6, 6, 2)).astype(np.int8)
    arrays = {"x": x}
    if labels:
        from accuracy.tflite import interpreter, reader
        y = interpreter.run(reader.load(path.parent / "tiny.tflite"), x).argmax(axis=1)
        y[::10] = (y[::10] + 1) % 3  # some errors, so accuracy is not 100 %
        arrays["y"] = y
    np.savez(path, **arrays)
    return path


def study(folder, *, lines=LINES, sweep=SWEEP, isolated_lines=None):
    """A published study in ``folder``: ``sweep_liberty.json`` and ``energy_model.json``
    (with ``isolated_lines``, also lines of the isolated engine)."""
    folder.mkdir(parents=True, exist_ok=True)
    lib = {"path": "osu018_stdcells.lib", "sha256": "ab" * 32}
    points = [{"config": dataclasses.asdict(DatapathConfig(k=k, macs=8)), "area": a, "delay": d, "cells": 1,
               "breakdown": {"rescaler": a}, "runtime_s": 1.0} for k, (a, d) in sweep.items()]
    (folder / "sweep_liberty.json").write_text(json.dumps({
        "schema": 1, "flow": "liberty", "area_unit": "um^2", "delay_unit": "ns", "tools": {}, "library": lib,
        "clock_ns": 100.0, "points": points}))
    (folder / "energy_model.json").write_text(json.dumps({
        "schema": 1, "model": published.ENERGY_MODEL, "flow": "liberty", "unit": "pJ per output",
        "activity": "test", "provenance": {"written_by": "test"},
        "lines": [{"k": k, "macs": 8, "operand_isolation": isolated, "kind": kind, "how": "test", "fixed_pj": f,
                   "per_beat_pj": b, "points": [{"beats": 1, "energy_pj": f + b, "fitted_pj": f + b, "source": "t"}]}
                  for isolated, table in ((False, lines), (True, isolated_lines or {}))
                  for k, (f, b, kind) in table.items()]}))
    return folder


@pytest.fixture
def tiny(tmp_path):
    """``(model path, labelled data path, unlabelled data path, study folder)``."""
    model = tiny_model(tmp_path / "tiny.tflite")
    return (model, tiny_data(tmp_path / "labelled.npz"), tiny_data(tmp_path / "plain.npz", labels=False),
            study(tmp_path / "reports"))
