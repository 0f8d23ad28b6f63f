"""Layout flow (eda.qflow, ``--flow layout``): qflow place and route, post-route timing.

The parsers run everywhere. The place and route of the rescaler alone (``k = 4``,
about 1,300 cells, a minute or two) is marked slow and skipped with the reason
when qflow, its tools or OpenSTA are missing (``make test`` installs them when root).
"""

import shutil

import pytest

from costmodel import synth
from eda import qflow
from costmodel.__main__ import main
from hw.config import DatapathConfig
from hw.export import datapath, to_rtlil
from toolkit.run import ToolError
from eda.sta import find_sta

LIB = synth.DEFAULT_LIBERTY


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
        qflow.place_and_route(tmp_path / "n.v", liberty=LIB, utilization=1.2, clock_ns=100, workdir=tmp_path)


def test_missing_qflow_is_one_clear_error(monkeypatch, capsys):
    real = shutil.which
    monkeypatch.setattr(qflow.shutil, "which", lambda name: None if name == "qrouter" else real(name))
    with pytest.raises(ToolError, match="the layout flow needs qrouter.*apt-get install qflow"):
        qflow.check_tools(LIB)
    assert main(["synth", "--k", "4", "--flow", "layout"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "qrouter" in err and len(err.strip().splitlines()) == 1


needs_tech = pytest.mark.skipif(not (qflow.TECH_ROOT / "osu018").is_dir(), reason="needs qflow-tech-osu018")


@needs_tech
def test_unrouted_nets_are_one_error(monkeypatch, tmp_path):
    (tmp_path / "n.v").write_text("module top(a, y);\ninput a;\noutput y;\nINVX1 u ( .A(a), .Y(y) );\nendmodule\n")
    monkeypatch.setattr(qflow, "run_qflow",
                        lambda step, **kw: "Final: 3 nets failed to route\n" if step == "route" else "")
    with pytest.raises(ToolError, match="qrouter left 3 nets unrouted at utilization 0.9: lower the utilization"):
        qflow.place_and_route(tmp_path / "n.v", liberty=LIB, utilization=0.9, clock_ns=100,
                               workdir=tmp_path / "pnr")


def _missing():
    missing = [t for t in qflow.QFLOW_TOOLS if shutil.which(t) is None]
    return missing + ([] if find_sta() else ["OpenSTA"]) + ([] if LIB.is_file() else ["qflow-tech-osu018"])


@pytest.mark.slow
@pytest.mark.skipif(bool(_missing()), reason=f"needs {', '.join(_missing())} (make test installs them as root)")
def test_layout_flow_of_the_rescaler(tmp_path):
    config = DatapathConfig(k=4)
    request = synth.resolve_flow("layout")
    yosys, sta = synth.find_tools(request)
    steps = []
    report = synth.run(config, to_rtlil(datapath(config).component, name="top"), request,
                       yosys=yosys, sta=sta, workdir=tmp_path, progress=steps.append)
    # The user sees each long step as it starts, in order.
    assert [line.split(":")[0] for line in steps] == ["qflow", "qflow place", "qflow route", "OpenSTA",
                                                       "qflow migrate and drc"]
    pnr = report["layout"]
    assert report["flow"] == "layout" and report["area"] == pnr["core_area_um2"]
    assert pnr["unrouted_nets"] == 0 and pnr["drc_errors"] == 0 and pnr["spef_nets_skipped"] == 0
    assert pnr["cell_area_um2"] >= pnr["synthesized_cell_area_um2"]  # qflow only adds buffers
    assert pnr["die_area_um2"] >= pnr["core_area_um2"] > pnr["cell_area_um2"]
    assert 0.4 < pnr["utilization"] <= 0.65 and pnr["wire_length_um"] > 0
    # Wires only slow the circuit down: the parasitics add delay to the same netlist.
    assert report["delay"] == pnr["post_route"]["delay_ns"] > pnr["pre_route"]["delay_ns"]
    assert report["delay_unit"] == "ns" and "post-route" in report["delay_source"]
    assert "layout" in "\n".join(synth.format_table(report).splitlines()[:4])


def test_drc_violations_are_counted_not_fatal(monkeypatch, tmp_path):
    """qflow drc says "DRC failure" when magic finds violations: a count, not a flow error."""
    out = "drc = 1\nDRC failure:  There are 1 DRC errors in the qflow.\n"
    proc = qflow.subprocess.CompletedProcess([], 0, out, "")
    monkeypatch.setattr(qflow.subprocess, "run", lambda *a, **k: proc)
    monkeypatch.setattr(qflow.shutil, "which", lambda name: "/usr/bin/" + name)
    tech = type("Tech", (), {"name": "osu018"})()
    assert qflow._drc_count(qflow.run_qflow("drc", tech=tech, top="top", workdir=tmp_path)) == 1
    failed = qflow.subprocess.CompletedProcess([], 0, "Premature exit: router failure\n", "")
    monkeypatch.setattr(qflow.subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(ToolError, match="qflow route failed"):
        qflow.run_qflow("route", tech=tech, top="top", workdir=tmp_path)
