"""A sweep document arranged for tables and figures (report.sweep_rows)."""

from pathlib import Path

from costmodel.published import DEFAULT_K, DEFAULT_MACS, load_sweep
from report import sweep_rows

REPO = Path(__file__).resolve().parents[2]


def test_generic_flow_says_so_in_the_titles(small):
    small.update(flow="generic", library=None, area_unit="transistors", delay_unit="levels", tools={})
    label = sweep_rows.flow_label(small)
    assert label.startswith("generic flow") and "no liberty library" in label and "logic levels" in label
    assert not sweep_rows.is_liberty(small)


def test_liberty_label_names_the_cells_and_the_timing(small):
    assert sweep_rows.flow_label(small) == ("liberty flow, OSU 0.18 um cells (osu018_stdcells.lib), "
                                            "Yosys + OpenSTA")
    small["library"]["path"] = "/x/my_cells.lib"
    del small["tools"]["sta"]
    assert sweep_rows.flow_label(small) == "liberty flow, cells of my_cells.lib (my_cells.lib), Yosys + logic levels"


def test_rows_carry_the_ratios_the_sweep_published():
    document = load_sweep(REPO / "reports" / "sweep_liberty.json")
    rows = sweep_rows.rows_by_macs(document)
    published = {(r["macs"], r["k"]): r for r in document["ratios"]}
    assert list(rows) == list(DEFAULT_MACS) and sweep_rows.swept_ks(rows) == list(DEFAULT_K)
    for macs, macs_rows in rows.items():
        for r in macs_rows:
            assert {key: r[key] for key in published[(macs, r["k"])]} == published[(macs, r["k"])]
            assert r["adp_vs_k32"] == 1 / r["adp_gain_vs_k32"]
    assert sweep_rows.missing_points(document, DEFAULT_K, DEFAULT_MACS) == []
    assert sweep_rows.area_ratios(document)[(8, 4)] == published[(8, 4)]["area_vs_k32"]


def test_the_sweep_date_is_the_documents(small):
    assert sweep_rows.sweep_date(small) is None
    small["date"] = "2026-03-04T05:06:07+00:00"
    assert sweep_rows.sweep_date(small) == "2026-03-04"
