"""What the published documents hold, shared by their writers and the report (costmodel.published)."""

import json
from pathlib import Path

import pytest

from costmodel import explore, published, sweep, synth, variants

REPO = Path(__file__).resolve().parents[2]


def test_the_writers_take_their_constants_from_here():
    assert synth.SCHEMA_VERSION is published.SCHEMA_VERSION and synth.DEFAULT_LIBERTY is published.DEFAULT_LIBERTY
    assert sweep.PAPER is published.PAPER and variants.PAPER is published.PAPER
    assert sweep.FPGA_COLUMNS is published.FPGA_COLUMNS and explore.FPGA_COLUMNS is published.FPGA_COLUMNS


def test_the_default_flow_follows_the_library(monkeypatch, tmp_path):
    monkeypatch.setattr(published, "DEFAULT_LIBERTY", tmp_path / "absent.lib")
    assert published.default_flow() == "generic" and published.default_flow(tmp_path / "mine.lib") == "liberty"
    (tmp_path / "absent.lib").write_text("library (x) { cell (y) { } }")
    assert published.default_flow() == "liberty"


def test_ratios_and_comparison_are_what_the_committed_sweep_holds():
    document = json.loads((REPO / "reports" / "sweep_liberty.json").read_text())
    assert published.ratio_table(document["points"]) == document["ratios"]
    assert published.compare_to_paper(document["points"]) == document["paper_comparison"]
    first = {key: document[key] for key in ("area_unit", "delay_unit", "tools", "library")}  # as in each point report
    assert published.header("liberty", {**document["points"][0], **first}) == {"flow": "liberty", **first}
    assert list(published.header("x", {"area_unit": 1, "delay_unit": 2, "tools": 3, "library": 4, "area": 5})) == [
        "flow", "area_unit", "delay_unit", "tools", "library"]  # the order the documents are written in


def test_every_committed_document_the_report_reads_loads():
    reports = REPO / "reports"
    for path in reports.glob("sweep_*.json"):
        assert published.load_sweep(path)["points"]
    proofs = published.load_netlist_proofs(reports / "formal_netlist.json")
    assert proofs[(3, 4)]["k"] == 3 and all(isinstance(row["status"], str) for row in proofs.values())
    assert published.load_energy_beats(reports / "energy_beats.json")
    report = published.load_point_report(reports / "synth" / "k4_macs8_layout.json", k=4, macs=8, flow="layout",
                                         remedy="make synth K=4 MACS=8 FLOW=layout PUBLISH=1")
    assert report["layout"]["post_route"]["delay_ns"] > 0
    assert published.load_point_report(reports / "synth" / "absent.json", k=4, macs=8, flow="liberty",
                                       remedy="x") is None
    assert published.load_energy_beats(reports / "absent.json") is None


@pytest.mark.parametrize("document, field", [
    ({"points": [{"k": 3, "macs": 4, "status": "proven"}]}, "point 0 needs same_as_sweep"),
    ({"points": [{"k": "3", "macs": 4, "status": "proven", "same_as_sweep": True}]}, "point 0 needs k"),
    ({"points": [{"k": 3, "macs": 4, "status": None, "same_as_sweep": True}]}, "point 0 needs status"),
    ({"points": ["x"]}, "point 0 is not an object"),
    ({"rows": []}, "no list of points"),
])
def test_a_damaged_netlist_table_names_the_file_and_the_field(tmp_path, document, field):
    path = tmp_path / "formal_netlist.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=f"{path} is not a readable netlist = RTL table \\({field}\\): "
                                         "re-create it with 'make formal-netlist PUBLISH=1'"):
        published.load_netlist_proofs(path)
    with pytest.raises(ValueError, match="does not exist: run 'make formal-netlist PUBLISH=1'"):
        published.load_netlist_proofs(tmp_path / "absent.json")
