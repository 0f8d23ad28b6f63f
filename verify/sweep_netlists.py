"""``make formal-netlist``: each (k, MACS) point of the liberty sweep, its netlist
proved equal to its RTL.

For every point this synthesizes the engine with the liberty flow's own script
(:func:`eda.yosys.synthesize`; one ``write_rtlil`` added before the cell
mapping, which changes nothing else), so the netlist checked is the one whose
area and delay the sweep reports; the table records both and whether they equal
the sweep's. Then :mod:`verify.netlist_chain`'s links, with the RTL flattened once:

* ``mapping``: netlist = the pre-mapping design (``dfflibmap`` and ABC checked);
* ``synthesis``: pre-mapping design = RTL after ``alumacc`` (Yosys' generic
  synthesis checked, except the one rewrite below);
* ``adder merge``: RTL after ``alumacc`` = RTL (``alumacc`` folds the adder
  tree and the accumulator into one multi-operand adder: a reassociated sum,
  the hard case for SAT-based checking at 8 and 16 MACs);
* the multiplier lemmas of :func:`verify.netlist_chain.prove_multiplier`, once per
  multiplier shape of the run.

A point is ``proven`` when every check and lemma is; ``FAILED`` when one finds a
counterexample; ``proven except multiplier lemma`` when only a multiplier lemma
ran out of time (the netlist then equals the RTL with that ``$mul`` read as
Yosys' own multiplier generator); otherwise ``not proven``, with the checks that
ran out of time. Each point has a wall-time budget, each multiplier lemma one of
its own; a point's row also holds whether its area, cells and delay equal the
sweep's, so a proof is only claimed for the netlist the report shows.
"""

import concurrent.futures
import dataclasses
import json
import time
from pathlib import Path

from eda.abc import find_abc
from eda.sta import find_sta
from eda.yosys import find_yosys
from hw.config import DatapathConfig
from toolkit.files import write_atomically
from toolkit.markdown import table

from . import netlist_chain as chain

__all__ = ["NETLIST_DIR", "STEM", "BUDGET_KNOB", "MUL_BUDGET_KNOB", "prove_point", "run", "format_row",
           "format_table", "to_markdown"]

#: Where each point's scripts, netlists and logs are kept.
NETLIST_DIR = Path("build") / "formal" / "netlist"
#: Report stem under ``build/reports/`` (``reports/`` with ``--publish``).
STEM = "formal_netlist"
#: The settings that raise the budgets, named in a timeout's detail.
BUDGET_KNOB, MUL_BUDGET_KNOB = "--budget (make: NETLIST_BUDGET=)", "--mul-budget (make: MUL_BUDGET=)"


def _sweep_point(sweep, config):
    for point in (sweep or {}).get("points", ()):
        if point.get("config") == dataclasses.asdict(config):
            return point
    return None


def prove_point(config, *, liberty, yosys, sta, abc, budget_s, lemmas, workdir, sweep=None, mutate=None):
    """Synthesize ``config`` with the liberty flow and prove its netlist equal to its RTL
    (:func:`verify.netlist_chain.prove_design`).

    Parameters
    ----------
    mutate : callable, optional
        ``text -> text`` applied to the netlist before the proof (tests: a changed gate).
    sweep : dict, optional
        A sweep document; the row says whether area, cells and delay equal its point.

    Returns
    -------
    dict
        One row of the table (see :func:`run`).
    """
    start = time.monotonic()
    steps, muls, synth, cells = chain.prove_design(config, liberty=liberty, yosys=yosys, sta=sta, abc=abc,
                                                   budget_s=budget_s, lemmas=lemmas, workdir=workdir,
                                                   mutate=mutate, knob=BUDGET_KNOB)
    reported = _sweep_point(sweep, config)
    row = {
        "point": config.name, "k": config.k, "macs": config.macs,
        "area": round(synth["area"], 1), "cells": synth["cells"], "delay": synth["delay"],
        "delay_unit": synth["delay_unit"],
        "same_as_sweep": None if reported is None else
        (reported["area"] == round(synth["area"], 1) and reported["cells"] == synth["cells"]
         and reported["delay"] == synth["delay"]),
        "steps": [s.as_dict() for s in steps],
        "multipliers": [chain.shape_name(c) for c in cells],
        "seconds": round(time.monotonic() - start, 1),
    }
    row.update(chain.verdict(row["steps"], [m.as_dict() for m in muls]))
    return row


def run(ks, macs, *, liberty, budget_s, mul_budget_s, jobs=1, out_dir, sweep=None, sweep_path=None,
        workdir=NETLIST_DIR, mutate=None, echo=print, operand_isolation=False):
    """Prove every ``(k, MACS)`` point; write ``<out_dir>/formal_netlist.json`` and
    ``.md`` (``formal_netlist_isolated.*`` for the engines with ``operand_isolation``,
    which the sweep does not hold) and print a line per point as it finishes.
    Returns the document.

    ``sweep`` (read from ``sweep_path``) is the liberty sweep whose points the rows
    are compared with. The document holds ``points`` (one row per point: ``point``,
    ``k``, ``macs``, ``area``, ``cells``, ``delay``, ``same_as_sweep``, ``status``,
    ``reason``, ``steps`` (each check's status, seconds, method, detail),
    ``multipliers``, ``seconds``), ``multipliers`` (each lemma's result), the budgets
    and tools.
    """
    yosys, sta, abc = find_yosys(), find_sta(), find_abc()
    lemmas = chain.MultiplierLemmas(Path(workdir), yosys, abc, mul_budget_s, knob=MUL_BUDGET_KNOB)
    configs = [DatapathConfig(k=k, macs=m, operand_isolation=operand_isolation) for m in macs for k in ks]
    stem = STEM + "_isolated" * operand_isolation
    echo(f"formal-netlist: {len(configs)} points{' with operand isolation' * operand_isolation} (k in {{{', '.join(map(str, ks))}}} x MACS in "
         f"{{{', '.join(map(str, macs))}}}), liberty flow, budget {budget_s:g} s per point and "
         f"{mul_budget_s:g} s per multiplier lemma", flush=True)
    start = time.monotonic()

    def one(config):
        return prove_point(config, liberty=liberty, yosys=yosys, sta=sta, abc=abc, budget_s=budget_s,
                           lemmas=lemmas, workdir=Path(workdir) / config.name, sweep=sweep, mutate=mutate)

    rows = []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def snapshot(done):
        return {
            "flow": "liberty", "budget_s": budget_s, "multiplier_budget_s": mul_budget_s, "complete": done,
            "tools": {"yosys": yosys.version, "abc": abc.argv[0], "sta": None if sta is None else sta.version},
            "sweep": None if sweep_path is None else str(sweep_path),
            "runtime_s": round(time.monotonic() - start, 1),
            "points": sorted(rows, key=lambda r: (r["macs"], r["k"])),
            "multipliers": [r.as_dict() for r in lemmas.all().values()],
        }

    def write(doc):  # after every point, so an interrupted run leaves what it proved
        write_atomically(str(out_dir / f"{stem}.json"), json.dumps(doc, indent=2) + "\n")
        write_atomically(str(out_dir / f"{stem}.md"), to_markdown(doc))

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for row in pool.map(one, configs):
            rows.append(row)
            echo(format_row(row), flush=True)
            write(snapshot(False))
    document = snapshot(True)
    write(document)
    echo(format_table(document), flush=True)
    echo(f"table     {out_dir / (stem + '.json')}, {out_dir / (stem + '.md')}", flush=True)
    return document


def format_row(row):
    """One line: point, status, time, steps."""
    steps = ", ".join(f"{s['name']} {s['status']} {s['seconds']:.0f} s" for s in row["steps"])
    same = {True: "= sweep", False: "differs from sweep", None: "no sweep point"}[row["same_as_sweep"]]
    return (f"  k={row['k']:<2} MACS={str(row['macs']):<2} {row['status']:<10} {row['seconds']:>6.0f} s  "
            f"area {row['area']:,} ({same})  [{steps}]" + (f"  {row['reason']}" if row["reason"] else ""))


def format_table(document):
    """The short summary printed at the end."""
    rows = document["points"]
    counts = ", ".join(f"{sum(r['status'] == status for r in rows)} {status}" for status in chain.DESIGN_STATUSES[1:])
    lines = [f"netlist = RTL: {sum(r['status'] == 'proven' for r in rows)} of {len(rows)} points proven; {counts}"]
    for lemma in document["multipliers"]:
        lines.append(f"  lemma {lemma['name']}: {lemma['status']} in {lemma['seconds']:.0f} s ({lemma['method']})")
    for row in rows:
        if row["status"] == "FAILED":
            lines.append(f"  FAILED: k={row['k']} MACS={row['macs']} ({row['point']}): {row['reason']}")
    return "\n".join(lines)


def to_markdown(document):
    """The table as markdown: one row per point, then the multiplier lemmas."""
    lines = ["# Netlist = RTL per sweep point (liberty flow)", "",
             f"Budget {document['budget_s']:g} s per point, {document['multiplier_budget_s']:g} s per "
             f"multiplier lemma; {document['tools']['yosys'].split(' (')[0]}, ABC (Debian `yosys-abc`). "
             "Checks: mapping (netlist = pre-mapping design), synthesis (= RTL after `alumacc`), "
             "adder merge (RTL after `alumacc` = RTL), multiplier lemmas (Yosys' `$mul` lowering = "
             "a textbook shift-and-add product).", ""]
    rows = []
    for row in document["points"]:
        steps = {s["name"]: f"{s['status']} {s['seconds']:.0f} s" for s in row["steps"]}
        same = {True: "yes", False: "no", None: "-"}[row["same_as_sweep"]]
        checks = [steps.get(step, "-") for step in ("mapping", "synthesis", "adder merge")]
        rows.append((row["point"], row["k"], row["macs"], f"{row['area']:,}", same, row["status"],
                     f"{row['seconds']:.0f}", *checks, row["reason"]))
    lines += table(("point", "k", "MACS", "area um^2", "= sweep", "status", "time s", "mapping", "synthesis",
                    "adder merge", "reason"), rows, align="l")
    lines += [""] + table(("multiplier lemma", "status", "time s", "method"), (
        (lemma["name"], lemma["status"], f"{lemma['seconds']:.0f}", lemma["method"])
        for lemma in document["multipliers"]), align="l")
    return "\n".join(lines) + "\n"
