"""``reports/REPORT.md`` is generated from the JSON it cites, and says what the JSON says."""

import json
import re
from pathlib import Path

import pytest

from costmodel.published import load_sweep
from report import asic_figures, asic_section, fpga_figures, silicon_figures, silicon_numbers, sweep_rows
from report.asic_section import SweepSection
from report.study import asic_study

REPO = Path(__file__).resolve().parents[2]
SWEEP = REPO / "reports" / "sweep_liberty.json"
REPORT = REPO / "reports" / "REPORT.md"
SMALL = Path(__file__).resolve().parents[1] / "data" / "sweep_small_liberty.json"


@pytest.fixture(scope="module")
def committed():
    return json.loads(SWEEP.read_text()), REPORT.read_text()


def _tables(text):
    """``{heading: [[cell, ...], ...]}`` for every markdown table after a ``#`` heading."""
    tables, heading = {}, None
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("# ").strip()
        elif line.startswith("|") and not line.startswith("|---"):
            tables.setdefault(heading, []).append([c.strip() for c in line.strip("|").split("|")])
    return tables


def _number(cell):
    """``'2,250.98'`` -> (2250.98, 0.005): the value and half its last printed digit."""
    text = re.sub(r"[,x% ~>]", "", cell)
    digits = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10 ** -digits + 1e-9


def _assert_equal(cell, value, scale=1):
    number, tolerance = _number(cell)
    assert abs(number - value / scale) <= tolerance, (cell, value)


def test_committed_report_is_the_generated_one(committed, monkeypatch, figures):
    document, text = committed
    monkeypatch.chdir(REPO)  # the FPGA sweeps next to reports/sweep_liberty.json, named as make report names them
    study = asic_study(Path("reports/sweep_liberty.json"), figures_dir=Path("reports/figures/liberty"),
                       commands=["make report FLOW=liberty", "python -m report report --flow liberty --publish"],
                       silicon=silicon_numbers.load("reports"))  # the published energy and layout points
    # Every line, provenance included: the dates come from the documents, not from git or file times.
    assert study.text(report_dir="reports") == text, "reports/REPORT.md is stale: run 'make report'"
    silicon = study.sections[-1].points
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)  # the FPGA sections' figures too
    assert links == ["figures/ecp5/fpga_vs_k.png"] + [
        f"figures/liberty/{name}.png" for name in asic_figures.FIGURES + tuple(silicon_figures.drawable(silicon))]
    # Each committed figure shows what the committed data draws (texts in the SVG, PNG size).
    model = sweep_rows.load_model(document)[0]
    drawn = {name: asic_figures.figure(name, document, model=model) for name in asic_figures.FIGURES}
    drawn.update({name: silicon_figures.figure(name, silicon, area_ratios=sweep_rows.area_ratios(document))
                  for name in silicon_figures.drawable(silicon)})
    for name, fig in drawn.items():
        figures.assert_files_show(fig, REPO / "reports" / "figures" / "liberty" / name)
    figures.assert_files_show(fpga_figures.figure(load_sweep(REPO / "reports" / "sweep_ecp5.json")),
                              REPO / "reports" / "figures" / "ecp5" / "fpga_vs_k")


def test_every_table_number_equals_the_json(committed):
    document, text = committed
    tables = _tables(text)
    ratios = {(r["macs"], r["k"]): r for r in document["ratios"]}
    for macs in (4, 8, 16):
        header, *rows = tables[f"{macs} MACS"]
        scale = 10 ** int(re.search(r"ADP \(10\^(\d+)", header[5]).group(1))
        assert [int(row[0]) for row in rows] == [k for m, k in sorted(ratios) if m == macs]
        for row in rows:
            r = ratios[(macs, int(row[0]))]
            for cell, key, s in zip(row[1:], ("area", "area_vs_k32", "delay", "delay_vs_k32", "adp",
                                              "adp_gain_vs_k32"), (1, 1, 1, 1, scale, 1)):
                _assert_equal(cell, r[key], s)
    header, *rows = tables["Against the paper"]
    assert [int(row[0]) for row in rows] == [c["macs"] for c in document["paper_comparison"]]
    for row, c in zip(rows, document["paper_comparison"]):
        _assert_equal(row[1], c["area_reduction_k4_pct"])
        _assert_equal(row[2], c["paper_area_reduction_k4_pct"])
        _assert_equal(row[3], 100 * (1 - ratios[(c["macs"], 8)]["area_vs_k32"]))
        _assert_equal(row[5], c["delay_reduction_k4_pct"])
        _assert_equal(row[7], c["adp_gain_k4"])
        _assert_equal(row[9], c["adp_gain_k8"])
        assert row[8] == f"> {c['paper_adp_gain_k4_min']:.0f}x" and row[10] == f"> {c['paper_adp_gain_k8_min']:.0f}x"


def test_report_states_the_trend_and_its_provenance(committed):
    document, text = committed
    assert "they follow the paper's trend**, largest for 4 MACS and smallest for 16" in text
    assert document["tools"]["yosys"]["version"] in text and document["library"]["sha256"] in text
    assert "OSU 0.18 um cells" in text and "16 nm" in text
    # The committed sweep predates the sweep's date field: the report says so rather than guess a date.
    assert "date" not in document
    assert re.search(r"^- Sweep date: not recorded \(the sweep JSON has no `date` field", text, re.M)


def test_the_sweep_date_comes_from_the_document():
    document = load_sweep(SMALL)
    document["date"] = "2026-03-04T05:06:07+00:00"
    text = "\n".join(SweepSection(document, SMALL).render())
    assert re.search(r"^- Sweep date: 2026-03-04 \(date field of the sweep\)\.$", text, re.M)


def test_trend_against_the_paper_is_computed_not_assumed():
    document = json.loads(SMALL.read_text())
    assert "they follow the paper's trend" in asic_section.trend(document)
    for point in document["points"]:  # 16 MACS now saves the most
        if point["config"]["macs"] == 16 and point["config"]["k"] == 4:
            point["area"] = 100.0
    assert "they do not follow the paper's trend" in asic_section.trend(document)


def test_generic_report_says_its_units_are_not_the_papers():
    document = json.loads(SMALL.read_text())
    document.update(flow="generic", library=None, area_unit="transistors", delay_unit="levels",
                    tools={"yosys": document["tools"]["yosys"]})
    text = "\n".join(SweepSection(document, SMALL).render())
    assert "**Units.**" in text and "transistors" in text and "Library: none" in text
    assert "No analytic-model comparison" in text


def test_report_marks_each_point_from_the_netlist_table():
    document = load_sweep(SWEEP)
    proofs = {(3, 4): {"status": "proven", "same_as_sweep": True},
              (4, 4): {"status": "not proven", "same_as_sweep": True},
              (5, 4): {"status": "proven", "same_as_sweep": False}}
    text = "\n".join(SweepSection(document, "reports/sweep_liberty.json", proofs=proofs).render())
    table = text.split("### 4 MACS")[1].split("###")[0]
    assert "netlist = RTL |" in table.splitlines()[2]
    marks = {line.split("|")[1].strip(): line.split("|")[-2].strip() for line in table.splitlines()
             if re.match(r"\| \d+ \|", line)}
    assert marks["3"] == "proven" and marks["4"] == "not proven" and marks["5"] == "other netlist"
    assert marks["32"] == "-"
    assert f"1 of {len(document['points'])} points proven" in text
    plain = "\n".join(SweepSection(document, "reports/sweep_liberty.json").render())
    assert "netlist = RTL" not in plain


@pytest.mark.parametrize("text", ["{", "[]", '{"points": [{"k": 3}]}'])
def test_a_damaged_netlist_table_is_one_error(tmp_path, text):
    """A proof table that is there but unreadable stops the report; it never shows as "no proofs"."""
    (tmp_path / "formal_netlist.json").write_text(text)
    liberty = tmp_path / "sweep_liberty.json"
    liberty.write_text(SMALL.read_text())
    with pytest.raises(ValueError, match="formal_netlist.json is not a readable netlist = RTL table.*"
                                         "make formal-netlist PUBLISH=1"):
        SweepSection.load(liberty)
    generic = json.loads(SMALL.read_text())
    generic.update(flow="generic", library=None)
    (tmp_path / "sweep_generic.json").write_text(json.dumps(generic))
    assert SweepSection.load(tmp_path / "sweep_generic.json").proofs is None
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "sweep_liberty.json").write_text(SMALL.read_text())
    assert SweepSection.load(tmp_path / "elsewhere" / "sweep_liberty.json").proofs is None
