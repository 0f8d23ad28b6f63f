"""Netlist = RTL per sweep point (:mod:`verify.sweep_netlists`).

Here: the rescaler's liberty netlist at k = 3 is proved equal to its RTL through
every check of the chain, multiplier lemma included; and the engine's netlist at
k = 3, MACS = 4 with one gate changed fails the mapping check, the table and the
printed summary naming the point. ``make formal-netlist`` runs the whole sweep grid.
"""

import json
import re
import shutil

import pytest

from eda.abc import find_abc
from eda.liberty import DEFAULT_LIBERTY
from eda.sta import find_sta
from eda.yosys import find_yosys
from hw.config import DatapathConfig
from verify import netlist_chain, sweep_netlists

needs_tools = pytest.mark.skipif(
    not DEFAULT_LIBERTY.is_file() or shutil.which("yosys-abc") is None,
    reason="needs the OSU 0.18 um liberty file and Debian's yosys-abc (make test installs both when root)")


@needs_tools
def test_rescaler_netlist_proven_through_every_check(tmp_path):
    yosys, abc = find_yosys(), find_abc()
    lemmas = netlist_chain.MultiplierLemmas(tmp_path, yosys, abc, budget_s=300)
    row = sweep_netlists.prove_point(DatapathConfig(k=3), liberty=DEFAULT_LIBERTY, yosys=yosys, sta=find_sta(),
                                     abc=abc, budget_s=600, lemmas=lemmas, workdir=tmp_path / "k3")
    assert row["status"] == "proven", row
    assert [s["name"] for s in row["steps"]] == ["mapping", "synthesis", "adder merge"]
    assert row["multipliers"] == ["u32xu3->35"]
    assert [m.status for m in lemmas.all().values()] == ["proven"]


@needs_tools
def test_changed_gate_fails_and_names_the_point(tmp_path):
    def flip(text):  # one NAND2X1 becomes a NOR2X1, same pins
        gate = re.search(r"^\s*NAND2X1\s", text, re.M)
        return text[:gate.start()] + text[gate.start():].replace("NAND2X1", "NOR2X1", 1)

    lines = []
    document = sweep_netlists.run([3], [4], liberty=DEFAULT_LIBERTY, budget_s=600, mul_budget_s=300,
                                  out_dir=tmp_path / "out",
                                  workdir=tmp_path / "work", mutate=flip, echo=lambda *a, **k: lines.append(a[0]))
    (row,) = document["points"]
    assert row["status"] == "FAILED" and row["point"] == "k3_macs4"
    assert row["steps"][0]["name"] == "mapping" and row["steps"][0]["status"] == "failed"
    assert "mapping check: NOT equivalent" in row["reason"]
    assert any("FAILED: k=3 MACS=4 (k3_macs4)" in line for line in lines), lines
    written = json.loads((tmp_path / "out" / "formal_netlist.json").read_text())
    assert written["points"][0]["status"] == "FAILED" and written["complete"]
    assert "| k3_macs4 | 3 | 4 |" in (tmp_path / "out" / "formal_netlist.md").read_text()


def test_isolated_engines_get_their_own_table(tmp_path, monkeypatch):
    """--operand-isolation proves the isolated engines and writes formal_netlist_isolated.*,
    leaving the sweep's table alone (the proof itself is stubbed: this is the plumbing)."""
    proved = []

    def prove_point(config, **_):
        proved.append(config)
        return {"point": config.name, "k": config.k, "macs": config.macs, "area": 1.0, "cells": 1, "delay": 1.0,
                "delay_unit": "ns", "same_as_sweep": None, "steps": [], "multipliers": [], "seconds": 0.0,
                "status": "proven", "reason": ""}
    monkeypatch.setattr(sweep_netlists, "prove_point", prove_point)
    monkeypatch.setattr(sweep_netlists, "find_abc", lambda: type("Abc", (), {"argv": ["yosys-abc"]})())
    sweep_netlists.run([3, 4], [4], liberty=DEFAULT_LIBERTY, budget_s=1, mul_budget_s=1, out_dir=tmp_path,
                       workdir=tmp_path / "work", echo=lambda *a, **k: None, operand_isolation=True)
    assert [c.name for c in proved] == ["k3_macs4_operand_isolation1", "k4_macs4_operand_isolation1"]
    assert sorted(p.name for p in tmp_path.glob("formal_netlist*")) == ["formal_netlist_isolated.json",
                                                                         "formal_netlist_isolated.md"]
