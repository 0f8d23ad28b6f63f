"""report.node_section: OSU 0.18 um beside ASAP7 7 nm, from fabricated published documents.

The 7 nm sweep is the small stored liberty sweep with every area divided by 50
except the registers' part and k = 4's area, scaled so that its k = 32 -> 4
saving is known; energy at 7 nm is the fabricated 0.18 um energy / 200.
"""

import copy
import json

import pytest

from costmodel.published import PAPER, ratio_table, validate_sweep
from report import study
from report.node_section import ENERGY_K, NodeSection

REGS = "top-level logic and registers"


def _asap7_sweep(small):
    doc = copy.deepcopy(small)
    doc["flow"] = "asap7"
    doc["library"] = {**doc["library"], "path": "techlib/asap7", "node": "ASAP7 7 nm"}
    for point in doc["points"]:
        point["area"] = round(point["area"] / 50 * (0.9 if point["config"]["k"] == 4 else 1), 3)
        point["delay"] = round(point["delay"] / 8, 4)
        point["breakdown"] = {part: (area if part == REGS else area / 50) for part, area in
                              point["breakdown"].items()}
    doc["ratios"] = ratio_table(doc["points"])
    return validate_sweep(doc)


def _publish(root, small, silicon, *, energy_ks=ENERGY_K):
    (root / "synth").mkdir(parents=True)
    (root / "sweep_liberty.json").write_text(json.dumps(small))
    (root / "sweep_asap7.json").write_text(json.dumps(_asap7_sweep(small)))
    for k in ENERGY_K:
        (root / "synth" / f"k{k}_macs8.json").write_text(json.dumps(silicon.liberty_point(k, 8)))
    for k in energy_ks:
        point = silicon.liberty_point(k, 8)
        point["flow"] = "asap7"
        point["energy"]["energy_pj_per_output"] /= 200
        (root / "synth" / f"k{k}_macs8_asap7.json").write_text(json.dumps(point))
    return root


def test_savings_at_both_nodes_and_the_paper(tmp_path, small, silicon):
    text = "\n".join(NodeSection.load(_publish(tmp_path, small, silicon)).render())
    assert "## Two nodes: OSU 0.18 um and ASAP7 7 nm\n" in text
    ours = {(r["macs"], r["k"]): r for r in ratio_table(small["points"])}
    theirs = {(r["macs"], r["k"]): r for r in ratio_table(_asap7_sweep(small)["points"])}
    def saving(r, what, k):
        return f"{100 * (1 - r[(macs, k)][f'{what}_vs_k32']):.1f} %"
    for macs in (4, 8, 16):
        for node, r in (("OSU 0.18 um", ours), ("ASAP7 7 nm", theirs)):
            cells = [saving(r, "area", 4), saving(r, "area", 8), saving(r, "delay", 4), saving(r, "delay", 8)]
            assert f"| {macs} | {node} | " + " | ".join(cells) + " |" in text
        paper = PAPER["area_reduction_k4_pct"][macs]
        assert f"| {macs} | paper, 16 nm | {paper:.1f} % | ~{paper / 2:.0f} % | ~50 % | - |" in text
    # k = 4 is scaled by 0.9 at 7 nm: its saving is 10 points of the k=32 area larger.
    assert theirs[(8, 4)]["area_vs_k32"] == pytest.approx(0.9 * ours[(8, 4)]["area_vs_k32"], rel=1e-3)
    assert "**they" not in text and "**Area.**" in text and "**Delay.**" in text and "wire-free" in text
    # No coefficients_asap7.json fitted to this fabricated sweep's units is a sentence, not an error.
    assert "**Analytic model at ASAP7 7 nm.** " in text


def test_breakdown_and_registers_at_both_nodes(tmp_path, small, silicon):
    section = NodeSection.load(_publish(tmp_path, small, silicon))
    text = "\n".join(section.render())
    assert "| OSU 0.18 um | 4 |" in text and "| ASAP7 7 nm | 32 |" in text
    share = section._register_share("asap7")[4]
    assert share > section._register_share("liberty")[4]  # registers not divided by 50 at 7 nm
    assert f"{share:.1f} % at ASAP7 7 nm" in text


def test_energy_ratio_at_both_nodes(tmp_path, small, silicon):
    text = "\n".join(NodeSection.load(_publish(tmp_path, small, silicon)).render())
    e = {k: silicon.liberty_point(k, 8)["energy"]["energy_pj_per_output"] for k in ENERGY_K}
    saving = f"{100 * (1 - e[4] / e[32]):.1f} %"
    assert f"The k=32 -> 4 energy saving is {saving} at OSU 0.18 um and {saving} at ASAP7 7 nm" in text
    assert "falls 200x" in text and "Missing energy" not in text


def test_missing_energy_points_are_listed(tmp_path, small, silicon):
    text = "\n".join(NodeSection.load(_publish(tmp_path, small, silicon, energy_ks=(4,))).render())
    assert "not published yet" in text
    assert "Missing energy points at 8 MACS: k=8 (asap7), k=32 (asap7)" in text


def test_the_report_has_the_section_only_with_both_sweeps(tmp_path, small, silicon):
    root = _publish(tmp_path, small, silicon)
    kw = dict(figures_dir=tmp_path / "figures" / "liberty", commands=["make report"])
    both = study.asic_study(root / "sweep_liberty.json", **kw)
    assert any(isinstance(s, NodeSection) for s in both.sections)
    assert (root / "sweep_asap7.json").as_posix() in both.sources
    (root / "sweep_asap7.json").unlink()
    alone = study.asic_study(root / "sweep_liberty.json", **kw)
    assert not any(isinstance(s, NodeSection) for s in alone.sections)
