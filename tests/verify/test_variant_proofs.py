"""``make formal`` (:mod:`verify.variant_proofs`): every variant, k and depth, then the
netlist step, announced, under a budget and ending in a verdict line."""

import shutil

import pytest

from eda.liberty import DEFAULT_LIBERTY
from verify import variant_proofs

needs_tools = pytest.mark.skipif(
    not DEFAULT_LIBERTY.is_file() or shutil.which("yosys-abc") is None,
    reason="needs the OSU 0.18 um liberty file and Debian's yosys-abc (make test installs both when root)")


def test_run_reports_each_proof():
    lines = []
    status = variant_proofs.run([3], ["trim_shift", "trim_fast"], netlist=False, skew=False,
                                out=lambda *a, **k: lines.append(a[0]))
    assert status == 0
    assert any("k=3  trim_fast" in line and "proved" in line for line in lines), lines
    assert lines[-1] == "all proofs passed"


def test_prove_all_covers_every_variant_k_and_depth(tmp_path):
    done = {(v, k, d) for v, k, d, result in variant_proofs.prove_all([2], ["paper", "hidden_bit"], pipelines=(1,),
                                                                       workdir=tmp_path, jobs=2) if result.proved}
    assert done == {(v, 2, d) for v in ("paper", "hidden_bit") for d in (0, 1)}


@needs_tools
def test_netlist_step_announces_itself_and_proves_at_small_k(tmp_path):
    lines = []
    verdict = variant_proofs.netlist_step(2, liberty=DEFAULT_LIBERTY, workdir=tmp_path,
                                          out=lambda *a, **k: lines.append(a[0]))
    assert verdict == "proved", lines
    assert lines[0].startswith("netlist step: ") and variant_proofs.NETLIST_KNOB in lines[0]
    assert all(line.split(": ")[1].startswith("proven [mapping proven") for line in lines[1:3]), lines
    assert "booth" in lines[2]
    assert lines[-1].startswith("netlist step: proved in ")


@needs_tools
def test_netlist_step_ends_within_its_budget_with_a_verdict(tmp_path):
    lines = []
    verdict = variant_proofs.netlist_step(12, liberty=DEFAULT_LIBERTY, budget_s=6, workdir=tmp_path,
                                          out=lambda *a, **k: lines.append(a[0]))
    assert verdict == "not proved within budget", lines
    assert lines[-1].startswith("netlist step: not proved within budget in ")
    assert "(budget 6 s)" in lines[-1]
    assert any("raise it with --netlist-budget (make: FORMAL_NETLIST_BUDGET=)" in line for line in lines[1:3]), lines
