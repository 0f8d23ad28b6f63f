"""``make formal``: every named rescaler variant proved equal to Eq. (1) at every
``k`` and pipeline depth, then one synthesized netlist proved equal to its RTL.

The proofs of one configuration are :mod:`verify.rescaler_proof`'s;
:func:`prove_all` runs them over the table of :mod:`hw.variants`. The netlist
step (:func:`netlist_step`) synthesizes the combinational rescaler of
:data:`NETLIST_VARIANT` at the smallest ``k`` with the liberty flow, with Yosys'
default and with its Booth multipliers, and runs :mod:`verify.netlist_chain` on
each. It announces itself, runs under one wall-time budget (the synthesis of
its two netlists, seconds each, not counted) and ends with a verdict line: ``proved``, ``not proved within budget``
(with what ran out) or ``FAILED``. At larger ``k`` the ``32 x k`` multiplier
lemma is the part that does not finish (``docs/netlist_proofs.md``), so a budget
keeps ``make formal FORMAL_K=16`` as short as ``make formal``.
"""

import concurrent.futures
import tempfile
import time
from pathlib import Path

from eda.abc import find_abc
from eda.yosys import find_yosys
from hw.variants import VARIANTS, variant_config

from . import netlist_chain, skew_proof
from .rescaler_proof import PIPELINES, default_yosys, prove, prove_pipeline

__all__ = ["FORMAL_DIR", "NETLIST_VARIANT", "NETLIST_BUDGET_S", "NETLIST_KNOB", "prove_all", "netlist_step", "run"]

#: Where ``make formal`` keeps each proof's scripts and logs.
FORMAL_DIR = Path("build") / "formal"
#: The variant whose netlist the netlist step proves.
NETLIST_VARIANT = "trim_fast"
#: The netlist step's default wall-time budget in seconds: at the smallest k of the
#: default range it finishes well within it; at larger k the multiplier lemmas use it up.
NETLIST_BUDGET_S = 120.0
#: The settings that raise the netlist step's budget, named in its messages.
NETLIST_KNOB = "--netlist-budget (make: FORMAL_NETLIST_BUDGET=)"


def prove_all(ks, variants=None, *, pipelines=PIPELINES, yosys=None, workdir=None, jobs=1, timeout_s=None):
    """Prove every variant for every ``k`` (and each pipeline depth); yield results in order.

    Parameters
    ----------
    ks : iterable of int
    variants : iterable of str, optional
        Names from :data:`hw.variants.VARIANTS` (default: all).
    pipelines : iterable of int
        Depths for :func:`~verify.rescaler_proof.prove_pipeline` (empty: only the
        combinational proofs).
    workdir : path, optional
        Each proof gets a subdirectory ``k<k>_<variant>[_pipe<d>]``.
    jobs : int
        Proofs run at once (each is one Yosys process at a time).

    Yields
    ------
    (variant, k, depth, ProofResult)
        ``depth`` 0 for the combinational proof against Eq. (1).
    """
    yosys = yosys or default_yosys()
    root = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="formal_all_"))
    tasks = [(v, k, d) for k in ks for v in (variants or VARIANTS) for d in (0, *pipelines)]

    def run_one(task):
        variant, k, depth = task
        config = variant_config(variant, k=k, rescaler_pipeline=depth)
        sub = root / (f"k{k}_{variant}" + (f"_pipe{depth}" if depth else ""))
        if depth:
            return task, prove_pipeline(config, yosys=yosys, workdir=sub, timeout_s=timeout_s)
        return task, prove(config, yosys=yosys, workdir=sub, timeout_s=timeout_s)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for (variant, k, depth), result in pool.map(run_one, tasks):
            yield variant, k, depth, result


def netlist_step(k, *, liberty, budget_s=NETLIST_BUDGET_S, workdir=FORMAL_DIR, out=print):
    """Prove the liberty netlists of :data:`NETLIST_VARIANT`'s combinational rescaler
    at ``k`` (default and Booth multipliers) equal to their RTL within ``budget_s``
    seconds in all; print a line per netlist and the verdict line.

    Each netlist gets an equal share of what is left of the budget when it starts,
    for its checks and its multiplier lemma.

    Returns
    -------
    str
        ``"proved"``, ``"not proved within budget"`` or ``"FAILED"``.
    """
    yosys = find_yosys()  # the flow's own Yosys (Booth, a recent ABC) synthesizes and builds the miters
    abc = find_abc()
    configs = [variant_config(NETLIST_VARIANT, k=k, rescaler_pipeline=0, booth=booth) for booth in (False, True)]
    out(f"netlist step: the liberty netlists of the {NETLIST_VARIANT} rescaler at k={k} (Yosys' default and "
        f"Booth multipliers) = their RTL, within a budget of {budget_s:g} s (raise it with {NETLIST_KNOB}) ...",
        flush=True)
    start = time.monotonic()
    deadline = start + budget_s
    statuses = []
    for i, config in enumerate(configs):
        share = (deadline - time.monotonic()) / (len(configs) - i)
        work = Path(workdir) / f"netlist_{config.name}"
        lemmas = netlist_chain.MultiplierLemmas(work / "lemmas", yosys, abc, budget_s,
                                                deadline=time.monotonic() + share, knob=NETLIST_KNOB)
        steps, muls, _, _ = netlist_chain.prove_design(
            config, liberty=liberty, yosys=yosys, sta=None, abc=abc, budget_s=max(share, 0.0), lemmas=lemmas,
            workdir=work, knob=NETLIST_KNOB)
        result = netlist_chain.verdict([s.as_dict() for s in steps], [m.as_dict() for m in muls])
        statuses.append(result["status"])
        checks = ", ".join(f"{s.name} {s.status} {s.seconds:.0f} s" for s in (*steps, *muls))
        out(f"  netlist = RTL, k={k} {NETLIST_VARIANT}{' booth' * config.booth}: {result['status']} [{checks}]"
            + (f"  {result['reason']}" if result["reason"] else ""), flush=True)
    if "FAILED" in statuses:
        verdict = "FAILED"
    elif all(status == "proven" for status in statuses):
        verdict = "proved"
    else:
        verdict = "not proved within budget"
    out(f"netlist step: {verdict} in {time.monotonic() - start:.0f} s (budget {budget_s:g} s)", flush=True)
    return verdict


def run(ks, names, *, pipelines=PIPELINES, netlist=True, netlist_budget_s=NETLIST_BUDGET_S, liberty=None,
        yosys=None, jobs=1, skew=True, out=print):
    """Prove every variant in ``names`` for every ``k`` equal to Eq. (1), and each
    pipeline depth in ``pipelines`` a pure delay of it (:func:`prove_all`); then
    (``skew``) the pre-skewed arrays equal to the aligned ones
    (:func:`verify.skew_proof.skew_step`) and (``netlist``) the netlist step at the
    smallest ``k`` (:func:`netlist_step`, which needs ``liberty``). Prints a line per
    proof with its time and returns the exit status: 1 when a proof found a
    counterexample, else 0 (a step that ran out of time says so in its verdict line)."""
    tool = find_yosys(yosys) if yosys else default_yosys()
    failed = 0
    total = len(ks) * len(names) * (1 + len(pipelines))
    out(f"formal: {total} proofs ({len(names)} variants x k in {{{', '.join(map(str, ks))}}}, "
        f"pipeline depths {', '.join(map(str, (0, *pipelines)))}) with {tool.name} ({tool.version})", flush=True)
    start = time.monotonic()
    for name, k, depth, result in prove_all(ks, names, pipelines=pipelines, yosys=tool, workdir=FORMAL_DIR,
                                            jobs=jobs):
        failed += not result.proved
        what = "= Eq. (1)" if depth == 0 else f"pipeline {depth} = Eq. (1) delayed {depth}"
        out(f"  k={k:<2} {name:<16} {what:<28} {result.describe()}", flush=True)
    out(f"{total - failed} of {total} proofs passed in {time.monotonic() - start:.0f} s", flush=True)
    steps = {}
    if skew:
        steps["pre-skew"] = skew_proof.skew_step(yosys=tool, abc=find_abc(tool), workdir=FORMAL_DIR, out=out)
    if netlist:
        steps["netlist"] = netlist_step(min(ks), liberty=liberty, budget_s=netlist_budget_s)
    failed += sum(verdict == "FAILED" for verdict in steps.values())
    short = [name for name, verdict in steps.items() if verdict == "not proved within budget"]
    if failed:
        out(f"{failed} proof(s) FAILED", flush=True)
    elif short:
        out(f"all variant proofs passed; the {' and '.join(short)} step was not proved within its budget", flush=True)
    else:
        out("all proofs passed", flush=True)
    return 1 if failed else 0
