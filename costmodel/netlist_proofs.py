"""``make formal-netlist``: each (k, MACS) point of the liberty sweep, its netlist
proved equal to its RTL.

For every point this synthesizes the engine with the liberty flow's own script
(:func:`eda.flows.synthesize`; one ``write_rtlil`` added before the cell
mapping, which changes nothing else), so the netlist checked is the one whose
area and delay the sweep reports; the table records both and whether they equal
the sweep's. Then :mod:`verify.netlist`'s chain, with the RTL flattened once:

* ``mapping``: netlist = the pre-mapping design (``dfflibmap`` and ABC checked);
* ``synthesis``: pre-mapping design = RTL after ``alumacc`` (Yosys' generic
  synthesis checked, except the one rewrite below);
* ``adder merge``: RTL after ``alumacc`` = RTL (``alumacc`` folds the adder
  tree and the accumulator into one multi-operand adder: a reassociated sum,
  the hard case for SAT-based checking at 8 and 16 MACs);
* the multiplier lemmas of :func:`verify.netlist.prove_multiplier`, once per
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
import shutil
import threading
import time
from pathlib import Path

from hw.config import DatapathConfig
from hw.export import datapath, to_rtlil
from toolkit.files import write_atomically
from toolkit.markdown import table
from toolkit.run import Tool, ToolError
from eda.sta import find_sta
from eda.yosys import find_yosys
from verify import netlist as chain
from verify.formal import find_abc

from eda.flows import FLOWS, synthesize
from .synth import DEFAULT_LIBERTY

__all__ = ["NETLIST_DIR", "MUL_OPEN", "POINT_STATUSES", "prove_point", "verdict", "run", "format_table", "to_markdown",
           "MultiplierLemmas"]

#: Where each point's scripts, netlists and logs are kept.
NETLIST_DIR = Path("build") / "formal" / "netlist"
#: Report stem under ``build/reports/`` (``reports/`` with ``--publish``).
STEM = "formal_netlist"

#: The liberty flow with the pre-mapping design saved (``premap.il``): the flat run
#: writes it last, so the file holds what ``dfflibmap`` and ABC received.
_FLOW = dataclasses.replace(FLOWS["liberty"], mapping=("write_rtlil premap.il", *FLOWS["liberty"].mapping))

_FLATTEN = "read_rtlil design.il\nhierarchy -top top\nproc\nflatten\nopt_clean\nwrite_rtlil rtl.il\n"


def _checks(work, yosys, abc, budget_s):
    """Mapping, synthesis and adder-merge checks of a prepared point directory, each
    with what is left of ``budget_s``; stops at the first failure."""
    gate_netlist = ["read_liberty -ignore_miss_func cells.lib", "read_verilog netlist.v"]
    plan = (("mapping", ["read_rtlil premap.il"], gate_netlist),
            ("synthesis", ["read_rtlil rtl.il", "alumacc"], ["read_rtlil premap.il"]),
            ("adder merge", ["read_rtlil rtl.il"], ["read_rtlil rtl.il", "alumacc"]))
    deadline = time.monotonic() + budget_s
    results = []
    for name, gold, gate in plan:
        left = deadline - time.monotonic()
        if left <= 1:
            results.append(chain.StepResult(name, "timeout", 0.0, "not run",
                                            f"not run: the point's budget of {budget_s:g} s was spent", work))
            continue
        result = chain.prove_step(name, work=work, gold=gold, gate=gate, yosys=yosys, abc=abc, timeout_s=left)
        results.append(result)
        if result.status == "failed":
            break
    return results


class MultiplierLemmas:
    """The multiplier lemmas of a run, each proved once (thread-safe) under ``budget_s``."""

    def __init__(self, root, yosys, abc, budget_s):
        self.root, self.yosys, self.abc, self.budget_s = Path(root), yosys, abc, budget_s
        self._results, self._locks, self._lock = {}, {}, threading.Lock()

    def get(self, cell):
        with self._lock:
            lock = self._locks.setdefault(cell, threading.Lock())
        with lock:
            if cell not in self._results:
                name = chain.shape_name(cell).replace("->", "_")
                self._results[cell] = chain.prove_multiplier(cell, work=self.root / f"mul_{name}", yosys=self.yosys,
                                                             abc=self.abc, timeout_s=self.budget_s)
            return self._results[cell]

    def all(self):
        return dict(self._results)


def _sweep_point(sweep, config):
    for point in (sweep or {}).get("points", ()):
        if point.get("config") == dataclasses.asdict(config):
            return point
    return None


def prove_point(config, *, liberty, yosys, sta, abc, budget_s, lemmas, workdir, sweep=None, mutate=None):
    """Synthesize ``config`` with the liberty flow and prove its netlist equal to its RTL.

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
    work = Path(workdir)
    shutil.rmtree(work, ignore_errors=True)
    (work / "synth").mkdir(parents=True)
    rtlil = to_rtlil(datapath(config).component, name="top")
    start = time.monotonic()
    synth = synthesize(rtlil, flow=_FLOW, workdir=work / "synth", yosys=yosys, liberty=liberty, sta=sta,
                       booth=config.booth)
    text = (work / "synth" / "netlist.v").read_text()
    (work / "netlist.v").write_text(mutate(text) if mutate else text)
    for name in ("premap.il", "design.il", "cells.lib"):
        shutil.copyfile(work / "synth" / name, work / name)
    (work / "flatten.ys").write_text(_FLATTEN)
    chain._run([*yosys.argv, "-q", "flatten.ys"], work, "flatten.log", None)
    cells = chain.mul_cells((work / "rtl.il").read_text())
    steps = _checks(work, yosys, abc, budget_s)
    muls = [lemmas.get(cell) for cell in cells] if all(s.status == "proven" for s in steps) else []
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
    row.update(verdict(row["steps"], [m.as_dict() for m in muls]))
    return row


#: A point whose chain is proven but one of whose multiplier lemmas ran out of time.
MUL_OPEN = "proven except multiplier lemma"
#: Every status a point can have, strongest first.
POINT_STATUSES = ("proven", MUL_OPEN, "not proven", "FAILED")


def verdict(steps, lemmas):
    """``status`` and ``reason`` of a point from its checks (dicts of
    :meth:`verify.netlist.StepResult.as_dict`) and the lemmas of its multipliers
    (same form; empty when the checks did not all pass)."""
    failed = [s for s in (*steps, *lemmas) if s["status"] == "failed"]
    if failed:
        return {"status": "FAILED", "reason": f"{failed[0]['name']} check: {failed[0]['detail']} "
                                              f"({failed[0]['method']}; log {failed[0]['log']})"}
    open_steps = [s for s in steps if s["status"] != "proven"]
    if open_steps:
        return {"status": "not proven", "reason": "; ".join(
            f"{s['name']} check: {s['detail']} ({s['method']})" for s in open_steps)}
    open_muls = [m for m in lemmas if m["status"] != "proven"]
    if open_muls:
        return {"status": MUL_OPEN, "reason": "; ".join(
            f"{m['name']} lemma: {m['detail']} ({m['method']}): the netlist equals the RTL with this "
            "$mul read as Yosys' multiplier generator (alumacc + maccmap)" for m in open_muls)}
    return {"status": "proven", "reason": ""}


def run(ks, macs, *, budget_s, mul_budget_s, jobs=1, out_dir, sweep_path=None, liberty=None, workdir=NETLIST_DIR,
        mutate=None, echo=print):
    """Prove every ``(k, MACS)`` point; write ``<out_dir>/formal_netlist.json`` and
    ``.md`` and print a line per point as it finishes. Returns the document.

    The document holds ``points`` (one row per point: ``point``, ``k``, ``macs``,
    ``area``, ``cells``, ``delay``, ``same_as_sweep``, ``status``, ``reason``,
    ``steps`` (each check's status, seconds, method, detail), ``multipliers``,
    ``seconds``), ``multipliers`` (each lemma's result), the budgets and tools.
    """
    liberty = Path(liberty or DEFAULT_LIBERTY)
    yosys, sta, abc = find_yosys(), find_sta(), find_abc()
    sweep = json.loads(Path(sweep_path).read_text()) if sweep_path and Path(sweep_path).exists() else None
    lemmas = MultiplierLemmas(Path(workdir), yosys, abc, mul_budget_s)
    configs = [DatapathConfig(k=k, macs=m) for m in macs for k in ks]
    echo(f"formal-netlist: {len(configs)} points (k in {{{', '.join(map(str, ks))}}} x MACS in "
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
        write_atomically(str(out_dir / f"{STEM}.json"), json.dumps(doc, indent=2) + "\n")
        write_atomically(str(out_dir / f"{STEM}.md"), to_markdown(doc))

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for row in pool.map(one, configs):
            rows.append(row)
            echo(format_row(row), flush=True)
            write(snapshot(False))
    document = snapshot(True)
    write(document)
    echo(format_table(document), flush=True)
    echo(f"table     {out_dir / (STEM + '.json')}, {out_dir / (STEM + '.md')}", flush=True)
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
    counts = ", ".join(f"{sum(r['status'] == status for r in rows)} {status}" for status in POINT_STATUSES[1:])
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
