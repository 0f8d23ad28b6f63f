"""eda.nextpnr: the Yosys script of an FPGA flow and the parsing of nextpnr's
report and log, on stored output (``tests/data/nextpnr/``)."""

import json
from pathlib import Path

import pytest

from eda import nextpnr
from eda.flows import FLOWS
from toolkit.run import ToolError

DATA = Path(__file__).resolve().parents[1] / "data" / "nextpnr"


def test_parse_report_without_register_to_register_path():
    result = nextpnr.parse_report((DATA / "ecp5_rescaler_k4_report.json").read_text(), FLOWS["ecp5"],
                               {"TRELLIS_FF": 9, "LUT4": 400, "MULT18X18D": 2})
    assert result["area"] == 538 and result["area_unit"] == "LUT4"
    assert result["fpga"]["fmax_mhz"] is None
    assert result["delay"] == 37.72 and "no register-to-register path" in result["delay_source"]
    assert result["fpga"]["dsps"] == 2 and result["fpga"]["ffs"] == 9 and result["fpga"]["io"] == 77
    assert result["breakdown"] == {"TRELLIS_COMB": 538, "MULT18X18D": 2, "DP16KD": 0, "TRELLIS_IO": 77, "FF": 9}


def test_parse_report_fmax_is_the_slowest_clock():
    report = json.loads((DATA / "ecp5_rescaler_k4_report.json").read_text())
    report["fmax"] = {"clk_a": {"achieved": 50.0, "constraint": 100.0}, "clk_b": {"achieved": 40.0, "constraint": 100}}
    result = nextpnr.parse_report(json.dumps(report), FLOWS["ecp5"], {})
    assert result["fpga"]["fmax_mhz"] == 40.0 and result["delay"] == 25.0
    assert result["delay_source"].startswith("nextpnr post-route fmax")


@pytest.mark.parametrize("text", ["", "{", '{"utilization": 3}', '{"fmax": {}, "utilization": {}}'])
def test_parse_report_garbage_is_one_tool_error(text):
    with pytest.raises(ToolError, match="nextpnr"):
        nextpnr.parse_report(text, FLOWS["ecp5"], {})


def test_check_fit_names_the_short_resource():
    log = (DATA / "ice40_hx1k_overfull.log").read_text()
    with pytest.raises(ToolError, match=r"does not fit the ice40 hx1k \(vq100\): it needs 77 SB_IO of 72"):
        nextpnr.check_fit(log, FLOWS["ice40"], "hx1k", "vq100")
    assert nextpnr.check_fit(log.replace("77/", "70/"), FLOWS["ice40"], "hx1k", "vq100") is None


def test_check_fit_says_what_to_do_for_pins_and_for_logic():
    log = (DATA / "ice40_hx1k_overfull.log").read_text()
    with pytest.raises(ToolError) as pins:
        nextpnr.check_fit(log, FLOWS["ice40"], "hx1k", "vq100")
    assert ("it needs 77 SB_IO of 72; its ports are the device's pins (5 too many): choose fewer MACS (16 pins "
            "each) or a device whose package has more pins") in str(pins.value)
    logic = log.replace("77/     72", "70/     72").replace("497/   1280", "1497/   1280")
    with pytest.raises(ToolError, match=r"it needs 1497 ICESTORM_LC of 1280; choose a larger DEVICE= \(hx8k, up5k\)"):
        nextpnr.check_fit(logic, FLOWS["ice40"], "hx1k", "vq100")


def test_only_the_ultraplus_maps_onto_dsp_tiles():
    assert "synth_ice40 -top top -device u -dsp -json" in nextpnr.yosys_script(FLOWS["ice40"], "up5k")
    assert "-dsp" not in nextpnr.yosys_script(FLOWS["ice40"]) + nextpnr.yosys_script(FLOWS["ice40"], "hx1k")
    assert "synth_ecp5 -top top -json netlist.json" in nextpnr.yosys_script(FLOWS["ecp5"], "25k")
