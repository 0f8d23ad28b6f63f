"""``make formal``: the rescaler variants proved equal to Eq. (1), and synthesized
netlists proved equal to their RTL.

The proofs themselves are :mod:`verify.formal`'s; this module adds what needs the
cost model: synthesizing the netlist that :func:`verify.formal.prove_netlist_files`
checks, and the run over every (variant, k) that ``python -m costmodel formal``
prints.
"""

import dataclasses
import shutil
import time
from pathlib import Path

from hw.export import to_rtlil
from hw.rescaler import Rescaler
from eda.yosys import find_yosys
from verify import formal

from eda.flows import FLOWS, synthesize
from .synth import DEFAULT_LIBERTY

__all__ = ["prove_netlist", "run_all"]

#: Where ``make formal`` keeps each proof's scripts and logs.
FORMAL_DIR = Path("build") / "formal"


def prove_netlist(config, *, liberty, yosys=None, workdir=None):
    """Synthesize the combinational rescaler of ``config`` with the liberty flow and
    prove the gate netlist equal to its RTL for all inputs.

    Yosys reads the netlist with the library's cell functions and the RTL, builds
    ``miter -equiv`` (one output, 1 when any output differs) and writes it as an
    AIG; ABC's ``iprove`` (SAT sweeping with fraiging, the standard combinational
    equivalence check) proves that output constant 0, where plain ``sat`` on the
    same miter does not finish in reasonable time.

    Returns ``(ProofResult, synthesis result dict)``; ``workdir`` keeps
    ``rtl.il``, ``netlist.v``, ``cells.lib`` and the logs.
    """
    config = dataclasses.replace(config, rescaler_pipeline=0)
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    rtlil = to_rtlil(Rescaler.from_config(config), name="top")
    (work / "synth").mkdir(exist_ok=True)
    # The flow's own Yosys (booth, recent ABC) synthesizes; `yosys` proves.
    result = synthesize(rtlil, flow=FLOWS["liberty"], workdir=work / "synth", yosys=find_yosys(),
                        liberty=liberty, booth=config.booth)
    (work / "rtl.il").write_text(rtlil)
    shutil.copyfile(work / "synth" / "netlist.v", work / "netlist.v")
    shutil.copyfile(liberty, work / "cells.lib")
    start = time.monotonic()
    formal.prove_netlist_files(work, yosys=yosys)
    proof = formal.ProofResult(formal.netlist_verdict(work), time.monotonic() - start, None, work / "abc.log")
    return proof, result


def run_all(ks, names, *, pipelines=formal.PIPELINES, netlist=True, yosys=None, liberty=None, jobs=1,
            out=print):
    """Prove every variant in ``names`` for every ``k`` equal to Eq. (1), and each
    pipeline depth in ``pipelines`` a pure delay of it (:func:`verify.formal.prove_all`);
    then (``netlist``) the liberty flow's netlist of the smallest ``k`` with Yosys'
    default and Booth multipliers equal to its RTL. Prints a line per proof with its
    time and returns the exit status (0: all proved)."""
    tool = find_yosys(yosys) if yosys else formal.default_yosys()
    failed = 0
    total = len(ks) * len(names) * (1 + len(pipelines))
    out(f"formal: {total} proofs ({len(names)} variants x k in {{{', '.join(map(str, ks))}}}, "
        f"pipeline depths {', '.join(map(str, (0, *pipelines)))}) with {tool.name} ({tool.version})", flush=True)
    start = time.monotonic()
    for name, k, depth, result in formal.prove_all(ks, names, pipelines=pipelines, yosys=tool,
                                                   workdir=FORMAL_DIR, jobs=jobs):
        failed += not result.proved
        what = "= Eq. (1)" if depth == 0 else f"pipeline {depth} = Eq. (1) delayed {depth}"
        out(f"  k={k:<2} {name:<11} {what:<28} {result.describe()}", flush=True)
    out(f"{total - failed} of {total} proofs passed in {time.monotonic() - start:.0f} s", flush=True)
    if netlist:
        for booth in (False, True):
            config = dataclasses.replace(formal.variant_config(min(ks), "trim_fast"), booth=booth)
            result, _ = prove_netlist(config, liberty=liberty or DEFAULT_LIBERTY, yosys=tool,
                                      workdir=FORMAL_DIR / f"netlist_k{config.k}_booth{int(booth)}")
            failed += not result.proved
            out(f"  netlist = RTL, k={config.k} trim_fast{' booth' * booth} (liberty flow): "
                f"{result.describe()}", flush=True)
    out("all proofs passed" if not failed else f"{failed} proof(s) FAILED", flush=True)
    return 1 if failed else 0
