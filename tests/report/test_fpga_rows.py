"""An FPGA sweep arranged for its section and figure (report.fpga_rows), on a fabricated ECP5 sweep."""

import csv
import io
import json
from pathlib import Path

import pytest

from costmodel import sweep
from costmodel.published import FPGA_DSP_TILES, validate_sweep
from report import fpga_rows

SMALL = Path(__file__).resolve().parents[1] / "data" / "sweep_small_liberty.json"


def test_rows_carry_the_resources_and_ratios_to_k32(fabricated):
    rows = fpga_rows.rows_by_macs(fabricated())
    assert list(rows) == [4, 8] and [r["k"] for r in rows[8]] == [4, 8, 16, 24, 32]
    r = rows[8][0]
    assert (r["luts"], r["ffs"], r["dsps"], r["brams"]) == (960, 238, 10, 0)
    assert r["fmax_mhz"] == 35.0 and r["luts_vs_k32"] == pytest.approx(960 / 1520)


def test_an_fpga_point_without_its_fpga_record_is_one_error(fabricated):
    """The resources are read from each point's fpga record: a point of an FPGA sweep
    without it (or with a count that is not a number) is refused by name."""
    document = fabricated()
    del document["points"][3]["fpga"]
    with pytest.raises(ValueError, match="point 3 of an FPGA sweep needs an fpga record with non-negative "
                                         "luts, ffs, dsps, brams and fmax_mhz"):
        validate_sweep(document, "sweep_ecp5.json")
    document = fabricated()
    document["points"][0]["fpga"]["dsps"] = "6"
    with pytest.raises(ValueError, match="point 0 of an FPGA sweep"):
        validate_sweep(document)
    document = fabricated()
    document["points"][0]["fpga"]["fmax_mhz"] = None  # no register-to-register path: allowed
    assert fpga_rows.resources(validate_sweep(document)["points"][0])["fmax_mhz"] is None


def test_tiles_per_mac_is_read_from_the_data_not_assumed(fabricated):
    assert fpga_rows.tiles_per_mac(fpga_rows.rows_by_macs(fabricated())) == 1
    assert fpga_rows.tiles_per_mac(fpga_rows.rows_by_macs(fabricated(per_mac=2))) == 2
    assert fpga_rows.tiles_per_mac(fpga_rows.rows_by_macs(fabricated(macs=(8,)))) is None
    document = fabricated()
    for point in document["points"]:  # a growth per MAC that depends on k
        if point["config"]["k"] == 32 and point["config"]["macs"] == 8:
            point["fpga"]["dsps"] += 3
    assert fpga_rows.tiles_per_mac(fpga_rows.rows_by_macs(document)) is None


def test_the_dsp_step_is_found_between_the_swept_k(fabricated):
    rows = fpga_rows.rows_by_macs(fabricated())
    assert fpga_rows.dsp_steps(rows[4]) == [(16, 24, 6, 8)]
    assert fpga_rows.dsp_steps(rows[8]) == [(16, 24, 10, 12)]


def test_fpga_sweep_csv_has_the_resources_and_an_asic_one_does_not(fabricated):
    """The CSV and the report read the same fpga record."""
    rows = list(csv.DictReader(io.StringIO(sweep.to_csv(fabricated()))))
    assert {"luts", "ffs", "dsps", "brams", "fmax_mhz"} <= set(rows[0])
    assert (rows[0]["k"], rows[0]["dsps"], rows[0]["fmax_mhz"]) == ("4", "6", "37.0")
    assert "dsps" not in sweep.to_csv(json.loads(SMALL.read_text())).splitlines()[0]


def test_controls_are_the_seed_sweeps_next_to_the_sweep(tmp_path):
    for name in ("sweep_ecp5.json", "sweep_ecp5_seed3.json", "sweep_ecp5_seed2.json", "sweep_ecp5_25k.json",
                 "sweep_ecp5_seedx.json"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in fpga_rows.controls(tmp_path / "sweep_ecp5.json")] == [
        "sweep_ecp5_seed2.json", "sweep_ecp5_seed3.json"]
    assert fpga_rows.fpga_sweeps(tmp_path) == [("ecp5", tmp_path / "sweep_ecp5.json")]
    (tmp_path / "sweep_ice40.json").write_text("{}")
    assert [flow for flow, _ in fpga_rows.fpga_sweeps(tmp_path)] == list(FPGA_DSP_TILES) == ["ecp5", "ice40"]


def test_the_dsp_tile_names_are_the_flow_records():
    from eda.flows import FLOWS
    assert FPGA_DSP_TILES == {name: dict(flow.resources)["dsp"] for name, flow in FLOWS.items() if flow.kind == "fpga"}
