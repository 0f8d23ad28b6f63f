"""The energy and layout section of REPORT.md (costmodel.silicon_report, silicon_plots).

Fast and tool-free: the point reports are fabricated in ``tmp_path`` with the
shape of the committed ``reports/synth/k4_macs8_layout.json`` and of the
``energy`` object that ``synth --energy`` adds (costmodel.energy._energy_fields),
with numbers chosen so that every ratio is known in advance.
"""

import copy
import json
import re
from pathlib import Path

import pytest

from costmodel import __main__ as cli
from costmodel import report, silicon_plots, silicon_report
from toolkit import figures as toolkit_figures

REPO = Path(__file__).resolve().parents[2]
LAYOUT_TEMPLATE = json.loads((REPO / "reports" / "synth" / "k4_macs8_layout.json").read_text())
SMALL = Path(__file__).resolve().parents[1] / "data" / "sweep_small_liberty.json"


def _energy_object(k, macs):
    """An energy object: 100 pJ per MAC lane plus 10 pJ per rescaler bit, split 60/40/0.1 %."""
    rescaler = 10.0 * k
    total = 100.0 * macs + rescaler
    cpo = {4: 18, 8: 9, 16: 5}.get(macs, 9)
    fields = {"internal": 0.6 * total, "switching": 0.399 * total, "leakage": 0.001 * total}
    energy = {"method": "simulated (zero-delay toggles, Icarus) + OpenSTA per-instance power",
              "stimulus": f"conv3x3 relu 6x6x8->8 (seed 0, quantize_conv2d k={k}), 128 outputs, {cpo} beats/output",
              "cycles": 128 * cpo, "cycles_per_output": cpo, "clock_ns": 20.0,
              **{f"{c}_mw": round(v / (20.0 * cpo), 6) for c, v in fields.items()},
              "total_mw": round(total / (20.0 * cpo), 6),
              **{f"{c}_pj_per_output": v for c, v in fields.items()},
              "energy_pj_per_output": total, "idle_mw": 0.5, "mean_toggles_per_net": 0.2, "instances": 5000,
              "groups": {"rescaler": {"energy_pj_per_output": rescaler},
                         "multipliers": {"energy_pj_per_output": 100.0 * macs}},
              "outputs_match_golden": True, "netlist": "each module mapped on its own",
              "vectorless": {"method": "vectorless", "activity": 0.1, "energy_pj_per_output": 2 * total},
              "wall_s": {"compile_s": 1.0, "simulate_s": 10.0, "sta_s": 5.0, "total_s": 16.0}, "cached": False}
    return energy


def _liberty_point(k, macs, energy=True):
    report_ = copy.deepcopy(LAYOUT_TEMPLATE)
    del report_["layout"]
    report_["config"].update(k=k, macs=macs)
    report_.update(flow="liberty", area=1000.0 * macs + 100.0 * k, delay=10.0 + k / 8, runtime_s=5.0,
                   delay_source="opensta")
    if energy:
        report_["energy"] = _energy_object(k, macs)
    return report_


def _layout_point(k, macs=8):
    """Synthesized cells 1000 + 100 k um^2, placed cells 10 % more, core at utilization 0.5."""
    report_ = copy.deepcopy(LAYOUT_TEMPLATE)
    report_["config"].update(k=k, macs=macs)
    synthesized = 1000.0 + 100.0 * k
    layout = report_["layout"]
    layout.update(synthesized_cell_area_um2=synthesized, cell_area_um2=1.1 * synthesized,
                  core_area_um2=2.2 * synthesized, die_area_um2=2.4 * synthesized, utilization=0.5,
                  target_utilization=0.5, buffers_added=10 * k, wire_length_um=1000.0 * k,
                  synthesized_delay_ns=10.0 + k / 8, drc_errors=0, unrouted_nets=0)
    layout["pre_route"]["delay_ns"] = 9.5 + k / 8
    layout["post_route"].update(delay_ns=10.5 + k / 4, delay_propagated_clock_ns=10.6 + k / 4)
    report_.update(area=layout["core_area_um2"], delay=layout["post_route"]["delay_ns"], runtime_s=60.0 * k)
    return report_


def _beats_rows():
    """Rescaler 50 + 5 B pJ, rest 10 + 95 B pJ (k=4); rescaler 200 + 50 B, rest 10 + 95 B (k=32)."""
    rows = []
    for k, (r0, r1) in ((4, (50.0, 5.0)), (32, (200.0, 50.0))):
        for b in (1, 2, 4, 8, 16):
            rescaler, rest = r0 + r1 * b, 10.0 + 95.0 * b
            rows.append({"k": k, "macs": 8, "beats_per_output": b, "outputs": 72, "cycles": 72 * b,
                         "clock_ns": 20.0, "stimulus": f"conv1x1 relu 3x3x{8 * b}->8 (seed 1, quantize_conv2d k={k})",
                         "total_pj": rescaler + rest, "rescaler_pj": rescaler, "macs_pj": rest,
                         "rescaler_share": rescaler / (rescaler + rest), "groups_pj": {}, "wall_s": 1.0})
    return rows


def _publish(root, *, energy=silicon_report.ENERGY_K, layout=silicon_report.LAYOUT_K, beats=True):
    (root / "synth").mkdir(parents=True, exist_ok=True)
    for macs in silicon_report.ENERGY_MACS:
        for k in energy:
            (root / "synth" / f"k{k}_macs{macs}.json").write_text(json.dumps(_liberty_point(k, macs)))
    for k in layout:
        (root / "synth" / f"k{k}_macs8_layout.json").write_text(json.dumps(_layout_point(k)))
    if beats:
        (root / "energy_beats.json").write_text(json.dumps(_beats_rows()))
    return root


def _section(points, area_ratios=None):
    return "\n".join(silicon_report.render(points, label="reports", area_ratios=area_ratios))


def _table(text, header_start):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_the_grids_are_the_makefiles():
    makefile = (REPO / "Makefile").read_text()
    for name, values in (("ENERGY_K", silicon_report.ENERGY_K), ("ENERGY_MACS", silicon_report.ENERGY_MACS),
                         ("LAYOUT_K", silicon_report.LAYOUT_K), ("LAYOUT_MACS", silicon_report.LAYOUT_MACS)):
        assert re.search(rf"^{name}\s*\?=\s*{','.join(map(str, values))}\s*$", makefile, re.M), name


def test_energy_table_and_ratios(tmp_path):
    points = silicon_report.load(_publish(tmp_path))
    assert not points.missing_energy and not points.missing_layout and points.beats
    areas = {(m, k): (1000.0 * m + 100.0 * k) / (1000.0 * m + 3200.0) for m in (4, 8, 16)
             for k in silicon_report.ENERGY_K}
    text = _section(points, areas)
    assert "Missing points" not in text and "18 of 18 points published" in text
    rows = _table(text, "| k | pJ/output")  # the 4 MACS table comes first
    assert [int(r[0]) for r in rows] == list(silicon_report.ENERGY_K)
    for row in rows:
        k = int(row[0])
        total = 400.0 + 10.0 * k
        assert float(row[1].replace(",", "")) == pytest.approx(total, abs=0.05)
        assert float(row[2].replace(",", "")) == pytest.approx(0.6 * total, abs=0.05)
        assert float(row[4]) == pytest.approx(0.001 * total, abs=5e-4)
        assert float(row[5]) == pytest.approx(10.0 * k, abs=0.05)
        assert float(row[6].rstrip(" %")) == pytest.approx(100 * 10.0 * k / total, abs=0.05)
        assert float(row[7]) == pytest.approx(total / 720.0, abs=5e-4)
        assert float(row[8]) == pytest.approx(areas[(4, k)], abs=5e-4)
    ratios = _table(text, "| MACS | energy -% k=32->4")
    assert [int(r[0]) for r in ratios] == [4, 8, 16]
    for row in ratios:
        macs = int(row[0])
        e32 = 100.0 * macs + 320.0
        assert float(row[1].rstrip(" %")) == pytest.approx(100 * (1 - (100.0 * macs + 40) / e32), abs=0.05)
        assert float(row[2].rstrip(" %")) == pytest.approx(float(row[1].rstrip(" %")), abs=0.05)  # vectorless = 2x
        assert float(row[3].rstrip(" %")) == pytest.approx(100 * (1 - areas[(macs, 4)]), abs=0.05)
        assert row[4] == f"{report.sweep.PAPER['area_reduction_k4_pct'][macs]:.1f} %"
        assert float(row[5].rstrip(" %")) == pytest.approx(100 * (1 - (100.0 * macs + 80) / e32), abs=0.05)
    assert "Control.** The vectorless figure" in text and "within 0.0 percentage points" in text
    assert "the ratio comes mostly from the cells that k removes" in text
    assert "Leakage** is at most 0.100 %" in text
    assert "At k=4 an output costs 440 / 840 / 1,640 pJ with 4 / 8 / 16 MACS" in text
    assert "take 18 / 9 / 5 beats per output" in text
    assert "16-16 s per point, 5 min over the 18 points" in text
    assert "20 ns" in text and "conv3x3 relu 6x6x8->8 (seed 0, quantize_conv2d k=<k>)" in text


def test_layout_table_ratios_and_explanation(tmp_path):
    text = _section(silicon_report.load(_publish(tmp_path)))
    rows = _table(text, "| k | MACS | core area")
    assert [int(r[0]) for r in rows] == [4, 8, 32]
    k4 = rows[0]
    assert k4[2] == f"{2.2 * 1400 / 1e3:,.1f}" and k4[4] == "1.4 -> 1.5" and k4[5] == "6,119 -> 6,393"
    assert k4[6] == "40" and (k4[9], k4[10], k4[11], k4[12]) == ("10.50", "10.00", "11.50", "11.60")
    assert k4[14] == "0" and k4[15].startswith("240 (place 506, route 609)")
    ratios = _table(text, "| MACS | k=32 ->")
    by_k = {int(r[1]): r for r in ratios}
    saving = 100 * (1 - 1400 / 4200)  # synthesized cells; placed cells and core scale with them here
    for cell in by_k[4][2:5]:
        assert float(cell.rstrip(" %")) == pytest.approx(saving, abs=0.05)
    assert float(by_k[4][6].rstrip(" %")) == pytest.approx(100 * (1 - 10.5 / 14.0), abs=0.05)
    assert float(by_k[4][7].rstrip(" %")) == pytest.approx(100 * (1 - 11.5 / 18.5), abs=0.05)
    assert by_k[4][5] == "47.5 %" and by_k[8][5] == "~half of k=4's"
    # The explanation states the measured numbers: utilization, buffering, wire RC, clock tree.
    assert "2.20x the synthesized cell area" in text and "1/utilization = 2.00x" in text
    assert "resizing (40, 80, 320 gates) add +274 cells / +10.0 % cell area" in text
    assert "the routed wires' RC add 1.50 ns (+15.0 %, 4.0 mm of wire)" in text
    assert "changes it by +0.10 ns" in text
    assert "the wires add 5.00 ns at k=32 (32.0 mm of wire, die 10 10^3 um^2) and 1.50 ns at k=4" in text
    assert "so layout widens the saving" in text and "(-0.0 points)" not in text
    assert "Unrouted nets: 0; DRC errors: 0 over the 3 layouts (0 at k=4, 0 at k=8, 0 at k=32;" in text


def test_summary_at_8_macs_quotes_k_4_8_32(tmp_path):
    text = _section(silicon_report.load(_publish(tmp_path)))
    assert ("**At 8 MACS:** energy per output 840.0 pJ at k=4 (0.750 of k=32), 880.0 pJ at k=8 (0.786 of k=32), "
            "1,120.0 pJ at k=32; post-route core area 3.1 10^3 um^2 at k=4 (0.333 of k=32)") in text
    assert "post-route critical path 11.50 ns at k=4 (0.622 of k=32)" in text
    assert "Wall time: energy 16 s at k=4, 16 s at k=8, 16 s at k=32; layout 4 min at k=4" in text
    empty = silicon_report.load(tmp_path / "nothing")
    assert silicon_report.summary(empty, {}) == []


def test_beats_share_thresholds(tmp_path):
    text = _section(silicon_report.load(_publish(tmp_path)))
    fits = {f["k"]: f for f in silicon_report.beats_fit(_beats_rows())}
    f4, f32 = fits[4], fits[32]
    assert (f4["rescaler_per_output"], f4["rescaler_per_beat"]) == pytest.approx((50.0, 5.0))
    assert (f4["rest_per_output"], f4["rest_per_beat"]) == pytest.approx((10.0, 95.0))
    assert f4["residual"] == pytest.approx(0.0, abs=1e-12)
    assert f4["share_limit"] == pytest.approx(0.05) and f32["share_limit"] == pytest.approx(50 / 145)
    # k=4: (50 + 5B) / (60 + 100B) < 0.1 <=> 5B > 44, so B = 9; never below 1 % (limit 5 %).
    assert f4["beats_below"] == {0.1: 9, 0.01: None}
    assert f32["beats_below"] == {0.1: None, 0.01: None}
    # Input held: the rescaler costs its B = 1 figure, 55 pJ: 55 / (65 + 95 B) < 0.1 <=> B > 5.1.
    assert f4["beats_below_held"][0.1] == 6
    assert f4["beats_below_held"][0.01] == 58  # 55 < 0.01 (65 + 95 B) <=> B > 57.2
    row = next(r for r in _table(text, "| k | MACS | rescaler per output") if r[0] == "4")
    assert row[8:] == ["9 (L = 72)", "never", "6 (L = 48)", "58 (L = 464)"]
    assert "its share tends to 34.5 %" in text and "it never falls below 10 % or 1 %" in text
    # A depthwise 3x3 layer (L = 9) takes 2 beats on 8 lanes: (50 + 10) / (60 + 10 + 190); held 55 / (55 + 200).
    assert silicon_report.layer_shares(f4, 9) == pytest.approx((2, 60 / 260, 55 / 255))
    row = next(r for r in _table(text, "| layer | L |") if r[0] == "depthwise 3x3")
    assert row[1:5] == ["9", "2", f"{100 * 60 / 260:.1f} %", f"{100 * 55 / 255:.1f} %"]


def test_missing_points_are_listed_with_their_commands(tmp_path):
    root = _publish(tmp_path, energy=(4, 32), layout=(4,), beats=False)
    # A liberty report without the energy object is a point not yet measured, not an error.
    (root / "synth" / "k8_macs8.json").write_text(json.dumps(_liberty_point(8, 8, energy=False)))
    points = silicon_report.load(root)
    assert (8, 8) in points.missing_energy and (3, 4) in points.missing_energy and (4, 4) not in points.missing_energy
    assert points.missing_layout == [(8, 8), (32, 8)] and points.beats is None
    text = _section(points)
    assert "6 of 18 points published" in text and "1 of 3 published" in text
    assert "- energy: k=3/MACS=4, k=6/MACS=4, k=8/MACS=4, k=16/MACS=4" in text
    assert "`make energy-sweep PUBLISH=1`" in text and "`make layout-sweep PUBLISH=1`" in text
    assert "- layout: k=8/MACS=8, k=32/MACS=8;" in text and "`make energy-beats PUBLISH=1`" in text
    assert "| MACS | k=32 ->" not in text  # no ratio without k = 32's layout


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_text("{not json"), "is not valid JSON"),
    (lambda p: p.write_text(json.dumps(_liberty_point(6, 8))), "holds k=6 macs=8 (liberty flow), not k=4 macs=8"),
    (lambda p: p.write_text(json.dumps({**_liberty_point(4, 8), "energy": {"stimulus": "x"}})),
     "its energy object needs"),
    (lambda p: p.write_text(json.dumps([1, 2])), "is not a synth report"),
])
def test_a_damaged_point_is_one_error_line(tmp_path, capsys, damage, message):
    root = _publish(tmp_path / "reports")
    damage(root / "synth" / "k4_macs8.json")
    with pytest.raises(ValueError, match=re.escape(message)):
        silicon_report.load(root)
    argv = ["report", "--sweep", str(SMALL), "--figures", str(tmp_path / "fig"), "--out", str(tmp_path / "R.md"),
            "--points", str(root)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "k4_macs8.json" in err[0]
    assert "make energy K=4 MACS=8 PUBLISH=1" in err[0]
    assert not (tmp_path / "R.md").exists() and not (tmp_path / "fig").exists()  # checked before drawing


def test_points_folder_that_is_not_there_is_an_error(tmp_path, capsys):
    argv = ["report", "--sweep", str(SMALL), "--figures", str(tmp_path / "fig"), "--out", str(tmp_path / "R.md"),
            "--points", str(tmp_path / "typo")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a directory" in err[0] and not (tmp_path / "fig").exists()


def test_damaged_layout_and_beats_files(tmp_path):
    root = _publish(tmp_path)
    bad = _layout_point(8)
    del bad["layout"]["post_route"]
    (root / "synth" / "k8_macs8_layout.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="make synth K=8 MACS=8 FLOW=layout PUBLISH=1"):
        silicon_report.load(root)
    bad = _layout_point(8)
    bad["layout"]["core_area_um2"] = 0  # a ratio's denominator
    (root / "synth" / "k8_macs8_layout.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="needs positive"):
        silicon_report.load(root)
    (root / "synth" / "k8_macs8_layout.json").write_text(json.dumps(_layout_point(8)))
    (root / "energy_beats.json").write_text(json.dumps([{"k": 4}]))
    with pytest.raises(ValueError, match="make energy-beats PUBLISH=1"):
        silicon_report.load(root)


def test_report_command_writes_the_section_and_its_figures_atomically(tmp_path, monkeypatch, capsys):
    written = []
    real = toolkit_figures.write_atomically
    monkeypatch.setattr(toolkit_figures, "write_atomically", lambda path, data: written.append(Path(path))
                        or real(path, data))
    root = _publish(tmp_path / "reports")
    out, fig = tmp_path / "R.md", tmp_path / "fig"
    assert cli.main(["report", "--sweep", str(SMALL), "--figures", str(fig), "--out", str(out),
                     "--points", str(root)]) == 0
    assert "18 energy and 3 layout points" in capsys.readouterr().out
    text = out.read_text()
    assert "## Energy per output and placed-and-routed silicon" in text
    for name in silicon_plots.FIGURES:
        assert f"![{name}](fig/{name}.png)" in text
        for ext in ("png", "svg"):
            path = fig / f"{name}.{ext}"
            assert path in written and path.stat().st_size > 5_000
    assert sorted(p.name for p in fig.iterdir()) == sorted(p.name for p in written if p.parent == fig)
    # The section compares with the sweep's synthesized area ratios (the small sweep holds k = 4, 8, 32).
    rows = _table(text, "| k | pJ/output")
    sweep_rows = report.rows_by_macs(report.load_sweep(SMALL))[4]
    k4 = next(r for r in sweep_rows if r["k"] == 4)
    assert next(r for r in rows if r[0] == "4")[8] == f"{k4['area_vs_k32']:.3f}"


def test_no_published_point_draws_no_figure(tmp_path):
    points = silicon_report.load(tmp_path)
    assert silicon_plots.draw_all(points, tmp_path / "fig") == [] and not (tmp_path / "fig").exists()
    text = _section(points)
    assert "No energy point is published yet." in text and "No layout point is published yet." in text
