"""eda.qflow: the readers of what qflow leaves (DEF, qrouter's RC trees and status),
and the judgement of each step's run, with a stand-in ``qflow`` on the PATH.

The real place and route runs in ``tests/costmodel/test_layout.py``.
"""

import os

import pytest

from eda import qflow
from eda.liberty import DEFAULT_LIBERTY
from toolkit.run import ToolError, ToolTimeout

LIB = DEFAULT_LIBERTY


def test_rc_to_spef_tree():
    netlist = ("module top(a, y);\ninput a;\noutput y;\n"
               "INVX1 INVX1_1 ( .A(a), .Y(n_1_) );\nINVX1 INVX1_2 ( .A(n_1_), .Y(y) );\n"
               "INVX1 INVX1_3 ( .A(n_1_), .Y(z) );\nendmodule\n")
    rc = "n[1$x] 1 INVX1_1/Y 2 ( 1.0 0.001 ( 2.0 0.002 INVX1_2/A ) , ( 3.0 0.003 INVX1_3/A ) )\n"
    spef, written, skipped = qflow.rc_to_spef(rc, netlist)
    assert (written, skipped) == (1, 0)
    assert "*D_NET n_1_ 0.006" in spef
    assert "*I INVX1_2:A I" in spef and "*I INVX1_1:Y O" in spef
    assert "n_1_:1 n_1_:2 2" in spef and "n_1_:1 n_1_:3 3" in spef


def test_def_wire_length():
    text = ("UNITS DISTANCE MICRONS 100 ;\nNETS 1 ;\n- n\n ( A Y ) ( B A )\n"
            "+ ROUTED metal1 ( 0 0 ) ( 100 * ) M2_M1\n  NEW metal2 ( 100 0 ) ( * 250 ) ;\nEND NETS\n")
    assert qflow.def_wire_length(text) == (3.5, {"metal1": 1.0, "metal2": 2.5})


def test_route_status():
    assert qflow._route_status("Final: No failed routes!") == (True, 0)
    assert qflow._route_status("Final: 200 nets failed to route") == (False, 200)
    assert qflow._route_status("nothing") == (False, None)


def test_bad_utilization_is_refused(tmp_path):
    with pytest.raises(ValueError, match="utilization must be in"):
        qflow.place_and_route(tmp_path / "n.v", liberty=LIB, utilization=1.2, workdir=tmp_path)


needs_tech = pytest.mark.skipif(not (qflow.TECH_ROOT / "osu018").is_dir(), reason="needs qflow-tech-osu018")


@needs_tech
def test_unrouted_nets_are_one_error(monkeypatch, tmp_path):
    (tmp_path / "n.v").write_text("module top(a, y);\ninput a;\noutput y;\nINVX1 u ( .A(a), .Y(y) );\nendmodule\n")
    monkeypatch.setattr(qflow, "run_qflow",
                        lambda step, **kw: "Final: 3 nets failed to route\n" if step == "route" else "")
    with pytest.raises(ToolError, match="qrouter left 3 nets unrouted at utilization 0.9: lower the utilization"):
        qflow.place_and_route(tmp_path / "n.v", liberty=LIB, utilization=0.9, workdir=tmp_path / "pnr")


@pytest.fixture
def fake_qflow(tmp_path, monkeypatch):
    """Put a ``qflow`` on the PATH that runs the given shell lines; returns a setter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")

    def install(lines):
        script = bin_dir / "qflow"
        script.write_text("#!/bin/sh\n" + lines + "\n")
        script.chmod(0o755)
    return install


TECH = type("Tech", (), {"name": "osu018"})()


def test_drc_violations_are_counted_not_fatal(fake_qflow, tmp_path):
    """qflow drc says "DRC failure" when magic finds violations: a count, not a flow error."""
    fake_qflow("echo 'drc = 1'; echo 'DRC failure:  There are 1 DRC errors in the qflow.'; exit 1")
    assert qflow._drc_count(qflow.run_qflow("drc", tech=TECH, top="top", workdir=tmp_path)) == 1
    fake_qflow("echo 'Premature exit: router failure'")
    with pytest.raises(ToolError, match="qflow route failed: Premature exit: router failure"):
        qflow.run_qflow("route", tech=TECH, top="top", workdir=tmp_path)
    fake_qflow("echo 'placing'; exit 3")
    with pytest.raises(ToolError, match=r"qflow place failed: exit status 3 \(full log: .*qplace.out\)"):
        qflow.run_qflow("place", tech=TECH, top="top", workdir=tmp_path)


def test_a_hanging_step_is_killed_and_names_its_knob(fake_qflow, tmp_path, monkeypatch):
    fake_qflow("sleep 60")
    monkeypatch.setenv(qflow.TIME_LIMIT.knob, "0.5")
    with pytest.raises(ToolTimeout, match=r"within the limit of 0.5 s \(raise it with QFLOW_TIMEOUT=<seconds>\)"):
        qflow.run_qflow("place", tech=TECH, top="top", workdir=tmp_path)
