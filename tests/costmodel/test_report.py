"""``reports/REPORT.md`` is generated from the JSON it cites, and says what the JSON says."""

import json
import re
from pathlib import Path

import pytest

from costmodel import __main__ as cli
from costmodel import plots, report, silicon_plots, silicon_report

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


def test_committed_report_is_the_generated_one(committed, monkeypatch):
    document, text = committed
    model, note = report.load_model(document)
    silicon = silicon_report.load(REPO / "reports")  # the published energy and layout points
    monkeypatch.chdir(REPO)  # the FPGA sweeps next to reports/sweep_liberty.json, named as make report names them
    appendix = cli._fpga_sections(Path("reports/sweep_liberty.json"), Path("reports/figures"), Path("reports"),
                                  document, draw=False)
    regenerated = report.render(
        document, sweep_path="reports/sweep_liberty.json", figures=plots.FIGURES, figures_dir="figures/liberty",
        commands=["make report FLOW=liberty", "python -m costmodel report --flow liberty --publish"],
        model=model, model_note=note, appendix=appendix, silicon=silicon, silicon_label="reports",
        silicon_figures=silicon_plots.drawable(silicon),
        proofs=cli._netlist_proofs(Path("reports/sweep_liberty.json"), document))
    # The date line alone may differ: it comes from git, or the file's time when modified.
    def strip(t):
        return [line for line in t.splitlines() if not line.startswith("- Sweep date:")]
    assert strip(regenerated) == strip(text), "reports/REPORT.md is stale: run 'make report'"
    for name in plots.FIGURES + tuple(silicon_plots.drawable(silicon)):
        for ext in ("png", "svg"):
            assert (REPO / "reports" / "figures" / "liberty" / f"{name}.{ext}").stat().st_size > 10_000
    for link in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):  # the FPGA sections' figures too
        assert (REPO / "reports" / link).stat().st_size > 10_000


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
    assert re.search(r"^- Sweep date: \d{4}-\d\d-\d\d \(", text, re.M)


def test_trend_against_the_paper_is_computed_not_assumed():
    document = json.loads(SMALL.read_text())
    assert "they follow the paper's trend" in report.trend(document)
    for point in document["points"]:  # 16 MACS now saves the most
        if point["config"]["macs"] == 16 and point["config"]["k"] == 4:
            point["area"] = 100.0
    assert "they do not follow the paper's trend" in report.trend(document)


def test_report_command_writes_report_and_figures_it_links(tmp_path, capsys):
    out = tmp_path / "docs" / "R.md"
    out.parent.mkdir()
    argv = ["report", "--sweep", str(SMALL), "--figures", str(tmp_path / "fig"), "--out", str(out),
            "--points", str(tmp_path)]  # no published points here; the section: tests/test_silicon_report.py
    assert cli.main(argv) == 0
    assert "follow the paper's trend" in capsys.readouterr().out
    text = out.read_text()
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(links) == len(plots.FIGURES)
    assert all((out.parent / link).stat().st_size > 0 for link in links)
    assert f"--sweep {SMALL}" in text and "| 4 | 151,933 |" in text


def test_generic_report_says_its_units_are_not_the_papers():
    document = json.loads(SMALL.read_text())
    document.update(flow="generic", library=None, area_unit="transistors", delay_unit="levels",
                    tools={"yosys": document["tools"]["yosys"]})
    text = report.render(document, sweep_path=SMALL, figures=[], figures_dir="f", commands=["x"], date="2026-01-01")
    assert "**Units.**" in text and "transistors" in text and "Library: none" in text
    assert "No analytic-model comparison" in text


@pytest.mark.parametrize("text", ["{", "[]", '{"points": [{"k": 3}]}'])
def test_a_damaged_netlist_table_is_one_error(tmp_path, text):
    """A proof table that is there but unreadable stops the report; it never shows as "no proofs"."""
    from toolkit.cli import UsageError
    (tmp_path / "formal_netlist.json").write_text(text)
    with pytest.raises(UsageError, match="formal_netlist.json is not a readable netlist = RTL table.*"
                                         "make formal-netlist PUBLISH=1"):
        cli._netlist_proofs(tmp_path / "sweep_liberty.json", {"flow": "liberty"})
    assert cli._netlist_proofs(tmp_path / "sweep_liberty.json", {"flow": "generic"}) is None
    assert cli._netlist_proofs(tmp_path / "elsewhere" / "sweep_liberty.json", {"flow": "liberty"}) is None
