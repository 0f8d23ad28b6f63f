"""Layout flow (costmodel.layout, ``--flow layout``): qflow place and route, post-route timing.

The place and route of the rescaler alone (``k = 4``, about 1,300 cells, a
minute or two) is marked slow and skipped with the reason when qflow, its tools
or OpenSTA are missing (``make test`` installs them when root). The readers of
qflow's output are tested in ``tests/eda/test_qflow.py``.
"""

import shutil

import pytest

from costmodel import synth
from costmodel.__main__ import main
from eda import qflow
from eda.sta import find_sta
from hw.config import DatapathConfig
from hw.export import datapath, to_rtlil
from toolkit.run import ToolError

LIB = synth.DEFAULT_LIBERTY


def test_missing_qflow_is_one_clear_error(monkeypatch, capsys):
    real = shutil.which
    monkeypatch.setattr(qflow.shutil, "which", lambda name: None if name == "qrouter" else real(name))
    with pytest.raises(ToolError, match="the layout flow needs qrouter.*apt-get install qflow"):
        qflow.check_tools(LIB)
    assert main(["synth", "--k", "4", "--flow", "layout"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "qrouter" in err and len(err.strip().splitlines()) == 1


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
    assert list(pnr["wall_s"]) == ["synthesize", "place", "route", "sta", "migrate_drc"]
    assert "layout" in "\n".join(synth.format_table(report).splitlines()[:4])
