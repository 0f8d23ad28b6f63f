"""Formal equivalence of the rescaler variants with Eq. (1) (:mod:`verify.formal`,
:mod:`costmodel.proofs`).

Here: every variant at k = 2, 3 and 32 with the split proof, the monolithic proof
at k = 3, every pipeline depth at one k, and deliberately broken rescalers (the
rounding increment dropped everywhere, or only for s > 40 at k = 24; a trimmed
shifter without its contract; a pipeline one register short) must fail, with a
counterexample that the golden model and a simulation of the broken RTL confirm.
The gate netlist of a k = 4 rescaler is proved equal to its RTL, and the same
netlist with one gate changed is caught. ``make formal`` proves every variant and
pipeline depth for every k from 2 to 32.
"""

import re
import shutil

import pytest
from amaranth.hdl import Mux
from amaranth.sim import Simulator

from costmodel import proofs
from costmodel.synth import DEFAULT_LIBERTY
from hw.config import VARIANTS
from hw.rescaler import Rescaler
from sim.golden import rescale
from verify import formal


class NoRounding(Rescaler):
    """A deliberately broken rescaler: the rounding increment is dropped (floor)."""

    def round_half(self, partial, shift):
        return partial >> 1


class LateRoundingBug(Rescaler):
    """A rescaler that drops the rounding increment for shifts above 40 only."""

    def round_half(self, partial, shift):
        return Mux(shift > 40, partial >> 1, (partial + 1) >> 1)


def _simulate(component, operands, k, hidden_bit=False):
    """The combinational ``component``'s ``y`` for one operand dict (full ``m``)."""
    got = []

    async def testbench(ctx):
        for name, value in operands.items():
            if name == "m" and hidden_bit:
                value -= 1 << (k - 1)
            ctx.set(getattr(component, name), value)
        await ctx.delay(1e-6)
        got.append(ctx.get(component.y))

    sim = Simulator(component)
    sim.add_testbench(testbench)
    sim.run()
    return got[0]


def _golden(cex, k):
    return int(rescale(cex["acc"], cex["m"], cex["s"], zero_point=cex["zero_point"],
                       act_min=cex["act_min"], act_max=cex["act_max"], k=k))


@pytest.mark.parametrize("k", [2, 3, 32])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_proved(variant, k, tmp_path):
    result = formal.prove(formal.variant_config(k, variant), workdir=tmp_path)
    assert result.proved, result.describe()


def test_monolithic_proof_agrees_at_small_k(tmp_path):
    result = formal.prove(formal.variant_config(3, "plain"), workdir=tmp_path, method="monolithic")
    assert result.proved, result.describe()


@pytest.mark.parametrize("depth", formal.PIPELINES)
def test_pipeline_only_delays(depth, tmp_path):
    result = formal.prove_pipeline(formal.variant_config(8, "all", pipeline=depth), workdir=tmp_path)
    assert result.proved, result.describe()


def test_pipeline_of_the_wrong_depth_fails(tmp_path):
    """A two-stage rescaler checked as a three-stage one: its outputs come a cycle early."""
    config = formal.variant_config(6, "fast_clamp", pipeline=3)
    result = formal.prove_pipeline(config, component=Rescaler(k=6, rescaler_pipeline=2), workdir=tmp_path)
    assert not result.proved


def test_late_rounding_bug_at_k24_is_caught_with_operands(tmp_path):
    k = 24
    result = formal.prove(formal.variant_config(k, "fast_clamp"), component=LateRoundingBug(k=k, rescaler_pipeline=0),
                          workdir=tmp_path)
    assert not result.proved
    cex = result.counterexample
    assert cex["s"] > 40, cex
    operands = {name: cex[name] for name in ("acc", "m", "s", "zero_point", "act_min", "act_max")}
    assert "counterexample acc=" in result.describe()
    assert _golden(cex, k) == _simulate(Rescaler(k=k, rescaler_pipeline=0), operands, k)
    assert _simulate(LateRoundingBug(k=k, rescaler_pipeline=0), operands, k) != _golden(cex, k)


def test_combined_variant_proved_k4(tmp_path):
    result = formal.prove(formal.variant_config(4, "all"), workdir=tmp_path)
    assert result.proved, result.describe()


def test_broken_rounding_fails_with_counterexample(tmp_path):
    k = 4
    broken = NoRounding(k=k, rescaler_pipeline=0)
    result = formal.prove(formal.variant_config(k, "plain"), component=broken, workdir=tmp_path)
    assert not result.proved
    cex = result.counterexample
    assert set(cex) >= {"acc", "m", "s", "zero_point", "act_min", "act_max", "y_ref", "y_impl"}
    assert "counterexample acc=" in result.describe()
    # The golden model agrees with the reference, the broken RTL (simulated) with the proof.
    operands = {name: cex[name] for name in ("acc", "m", "s", "zero_point", "act_min", "act_max")}
    assert _golden(cex, k) == cex["y_ref"]
    assert _simulate(NoRounding(k=k, rescaler_pipeline=0), operands, k) == cex["y_impl"] != cex["y_ref"]
    assert _simulate(Rescaler(k=k, rescaler_pipeline=0), operands, k) == cex["y_ref"]


def test_trimmed_shifter_needs_its_contract(tmp_path):
    """Proved with the contract m == 0 or s >= k-1, the trimmed shifter fails without it,
    and the counterexample breaks exactly that contract."""
    k = 4
    trimmed = Rescaler(k=k, rescaler_pipeline=0, trim_shift=True)
    result = formal.prove(formal.variant_config(k, "plain"), component=trimmed, workdir=tmp_path)
    assert not result.proved
    cex = result.counterexample
    assert cex["m"] != 0 and cex["s"] < k - 1, cex
    assert _golden(cex, k) == cex["y_ref"]
    assert _simulate(Rescaler(k=k, rescaler_pipeline=0, trim_shift=True), {n: cex[n] for n in
                     ("acc", "m", "s", "zero_point", "act_min", "act_max")}, k) == cex["y_impl"]


def test_reference_is_plain_verilog():
    text = formal.reference_verilog(4)
    assert "module ref_rescale" in text and ">>> s" in text
    assert "{1'b1, m}" in formal.reference_verilog(4, hidden_bit=True)


@pytest.mark.skipif(not DEFAULT_LIBERTY.is_file() or shutil.which("yosys-abc") is None,
                    reason="needs the OSU 0.18 um liberty file and Debian's yosys-abc "
                           "(make test installs both when root)")
def test_netlist_equals_rtl_and_a_changed_gate_is_caught(tmp_path):
    result, synth = proofs.prove_netlist(formal.variant_config(4, "trim_fast"), liberty=DEFAULT_LIBERTY,
                                         workdir=tmp_path)
    assert result.proved, result.log.read_text()[-2000:]
    assert synth["area"] > 0
    netlist = (tmp_path / "netlist.v").read_text()
    gate = re.search(r"^\s*NAND2X1\s", netlist, re.M)
    (tmp_path / "netlist.v").write_text(netlist[:gate.start()] + netlist[gate.start():].replace("NAND2X1", "NOR2X1", 1))
    formal.prove_netlist_files(tmp_path)
    assert re.search(r"\bSATISFIABLE\b", (tmp_path / "abc.log").read_text())
    assert "UNSATISFIABLE" not in (tmp_path / "abc.log").read_text()


def test_run_all_reports_each_proof(capsys):
    lines = []
    status = proofs.run_all([3], ["trim_shift", "trim_fast"], netlist=False, out=lambda *a, **k: lines.append(a[0]))
    assert status == 0
    assert any("k=3  trim_fast" in line and "proved" in line for line in lines), lines
    assert lines[-1] == "all proofs passed"
