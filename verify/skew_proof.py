"""The pre-skewed array proved equal to the aligned one (``make formal``'s pre-skew step).

A pre-skewed :class:`hw.array.Array` (``pre_skew``) has no operand delay registers:
its caller delivers lane ``e`` of the per-engine operands ``e`` cycles late. The
claim proved here is that this is the whole difference: :class:`CallerSkew`, the
pre-skewed array behind exactly that skew (``e`` registers on lane ``e``), is the
aligned array, output for output in every cycle from reset, for every input
sequence (bubbles, garbage and resets included). The aligned array is what the
simulations check against the golden model, and the cocotb regression runs the
pre-skewed one too (its testbench skews the drive); this proof covers every input.

Both designs are flattened, put side by side in a ``miter -equiv`` and decided by
ABC's ``dprove`` (register correspondence, then induction), the same check as the
netlist proofs' (:func:`verify.netlist_chain.prove_step`).
"""

import dataclasses
import time
from pathlib import Path

from amaranth.hdl import Module
from amaranth.lib import wiring

from hw.array import Array, delayed
from hw.config import DatapathConfig
from hw.export import to_rtlil
from sim.ports import ENGINE_OPERANDS
from toolkit.run import run_tool

from . import netlist_chain

__all__ = ["CallerSkew", "SKEW_CONFIGS", "SKEW_TIMEOUT_S", "prove_pre_skew", "skew_step"]

#: The pre-skewed arrays ``make formal`` proves: E = 2, 3, 4 engines, several k and MACS.
SKEW_CONFIGS = (DatapathConfig(k=4, macs=4, engines=2, pre_skew=True),
                DatapathConfig(k=8, macs=4, engines=3, mac_pipeline=0, rescaler_pipeline=3, pre_skew=True),
                DatapathConfig(k=4, macs=8, engines=4, pre_skew=True),
                DatapathConfig(k=32, macs=8, engines=4, operand_isolation=True, pre_skew=True))

#: Time limit of one pre-skew proof in seconds (the largest of :data:`SKEW_CONFIGS`
#: takes a few minutes on one core).
SKEW_TIMEOUT_S = 1200.0

_FLATTEN = "read_rtlil {stem}.il\nhierarchy -top top\nproc\nflatten\nhierarchy -top top\nopt_clean\nwrite_rtlil {stem}_flat.il\n"


class CallerSkew(wiring.Component):
    """A pre-skewed array behind its caller's skew: lane ``e`` of every per-engine
    operand (:data:`sim.ports.ENGINE_OPERANDS`) through ``e`` registers into
    ``Array(pre_skew=True)``. Its ports are the aligned array's."""

    def __init__(self, config):
        self._array = Array.from_config(config)
        super().__init__(self._array.signature)

    def lag(self, engine):
        """Cycles the caller delays engine ``engine``'s operands: its index."""
        return engine

    def elaborate(self, platform):
        m = Module()
        m.submodules.array = array = self._array
        for name, member in self.signature.members.items():
            if member.flow == wiring.Out:
                m.d.comb += getattr(self, name).eq(getattr(array, name))
            elif name in ENGINE_OPERANDS:
                m.d.comb += [getattr(array, name)[e].eq(delayed(m, getattr(self, name)[e], self.lag(e), f"{name}_e{e}"))
                             for e in range(array.engines)]
            else:
                m.d.comb += getattr(array, name).eq(getattr(self, name))
        return m


def prove_pre_skew(config, *, yosys, abc, workdir, timeout_s, caller=CallerSkew):
    """Prove ``caller`` (:class:`CallerSkew`; tests: a wrong skew) of the pre-skewed
    ``config`` equal to the aligned array.

    Returns
    -------
    verify.netlist_chain.StepResult
    """
    if not config.pre_skew:
        raise ValueError(f"prove_pre_skew needs a pre-skewed array, not {config.name}")
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    aligned = Array.from_config(dataclasses.replace(config, pre_skew=False))
    for stem, design in (("aligned", aligned), ("skewed", caller(config))):
        (work / f"{stem}.il").write_text(to_rtlil(design, name="top"))
        (work / f"{stem}_flat.ys").write_text(_FLATTEN.format(stem=stem))
        run_tool(yosys, ["-q", f"{stem}_flat.ys"], cwd=work, timeout=timeout_s, log_name=f"{stem}_flat.log")
    return netlist_chain.prove_step(f"pre-skew {config.name}", work=work, gold=["read_rtlil aligned_flat.il"],
                                    gate=["read_rtlil skewed_flat.il"], yosys=yosys, abc=abc, timeout_s=timeout_s)


def skew_step(configs=SKEW_CONFIGS, *, yosys, abc, workdir, out=print, timeout_s=SKEW_TIMEOUT_S):
    """Prove every pre-skewed array of ``configs`` (:func:`prove_pre_skew`), printing a
    line per proof and a verdict line; returns ``"proved"``, ``"not proved within
    budget"`` or ``"FAILED"``."""
    out(f"pre-skew step: {len(configs)} pre-skewed arrays behind their caller's skew = the aligned "
        f"array (ABC dprove, {timeout_s:g} s each) ...", flush=True)
    statuses, start = [], time.monotonic()
    for config in configs:
        result = prove_pre_skew(config, yosys=yosys, abc=abc, workdir=Path(workdir) / f"pre_skew_{config.name}",
                                timeout_s=timeout_s)
        statuses.append(result.status)
        out(f"  E={config.engines} k={config.k:<2} MACS={config.macs:<2} {config.name:<40} {result.status} "
            f"({result.detail}, {result.seconds:.0f} s)", flush=True)
    if "failed" in statuses:
        verdict = "FAILED"
    else:
        verdict = "proved" if all(status == "proven" for status in statuses) else "not proved within budget"
    out(f"pre-skew step: {verdict} in {time.monotonic() - start:.0f} s", flush=True)
    return verdict
