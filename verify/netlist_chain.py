"""Netlist = RTL for a synthesized design, in links small enough for ABC.

One ABC check of a mapped netlist against its RTL does not finish once a wide
multiplier is inside: ABC's mapping restructures the multiplier's gates, and a
SAT-based check of two differently built multipliers is the classic hard case.
The chain below never asks ABC to compare two different multipliers inside a
design; each link is a separate check, and equivalence is transitive:

1. **mapping**: the mapped netlist (library cells, read with their liberty
   functions) equals the design that the *same* synthesis run handed to
   ``dfflibmap`` and ABC (its ``synth -noabc`` result, saved by the flow's own
   script). The flip-flops are the same and ABC's result is built from this
   very netlist, so ABC's equivalence sweeping finds the internal equivalences.
2. **synthesis**: that pre-mapping design equals the RTL (``proc; flatten``)
   after Yosys' ``alumacc`` pass, every cell then lowered by ``techmap``: Yosys'
   generic synthesis (``opt``, ``wreduce``, ``share``, ``opt_dff``, ...) is what is
   checked here. Both sides build each multiplier with the same generator
   (``techmap`` maps ``$mul`` through ``alumacc`` and ``maccmap``, as ``synth`` does;
   with ``booth``, both sides run Yosys' ``booth`` pass first, as ``synth -booth``
   does). A second check (**adder merge**) proves the RTL after ``alumacc`` equal
   to the RTL: ``alumacc`` folds adder trees into one multi-operand adder.
3. **multipliers**: that generator is right: for each ``$mul`` cell of the RTL
   (its exact signedness and widths), its lowering (``techmap``, or ``booth``)
   equals a textbook product written with bitwise operators only
   (:func:`textbook_multiplier_verilog`, no ``+`` or ``*`` that Yosys could map
   with the same generator). This is the one place where two differently built
   multipliers meet; it is done once per cell shape and lowering, not per design.

Steps 1 and 2 are sequential: both sides start from the all-zero register state
(the RTL's reset state; a netlist flip-flop has no power-on value, so it is given
the RTL's) and must agree on every output in every cycle for every input
sequence (ABC ``dprove``: register correspondence, then induction). Step 3 is
combinational (ABC ``&cec``).

Every check runs under a wall-time budget (Yosys building the miter and ABC
deciding it both count); one that does not finish is reported as a timeout,
never as a pass. A failed check names the cycle of the counterexample.
:func:`prove_design` runs the whole chain on one configuration; ``make formal``
(:mod:`verify.variant_proofs`) and ``make formal-netlist``
(:mod:`verify.sweep_netlists`) call it.
"""

import dataclasses
import re
import shutil
import threading
import time
from pathlib import Path

from eda.abc import check_miter
from eda.flows import FLOWS
from eda.yosys import synthesize
from hw.export import datapath, to_rtlil
from toolkit.run import ToolError, ToolTimeout, read_output, run_tool

from .rtlil import mul_cells

__all__ = ["StepResult", "STATUSES", "MUL_OPEN", "DESIGN_STATUSES", "miter_script", "prove_step",
           "textbook_multiplier_verilog", "prove_multiplier", "shape_name", "MultiplierLemmas", "prove_design",
           "verdict"]

#: Outcomes of one check.
STATUSES = ("proven", "failed", "timeout")
#: A design whose chain is proven but one of whose multiplier lemmas ran out of time.
MUL_OPEN = "proven except multiplier lemma"
#: Every status a design can have, strongest first.
DESIGN_STATUSES = ("proven", MUL_OPEN, "not proven", "FAILED")


@dataclasses.dataclass
class StepResult:
    """Outcome of one check.

    Members
    -------
    name : str
        ``"mapping"``, ``"synthesis"``, ``"adder merge"`` or ``"multiplier <shape>"``.
    status : str
        One of :data:`STATUSES`.
    seconds : float
        Wall time (miter construction and proof).
    method : str
        The tool commands that decided it.
    detail : str
        What was found: ABC's verdict line, the counterexample's cycle, or the budget.
    log : pathlib.Path
    """

    name: str
    status: str
    seconds: float
    method: str
    detail: str
    log: Path

    def as_dict(self):
        """JSON-ready fields (the log as a string)."""
        return {**dataclasses.asdict(self), "seconds": round(self.seconds, 1), "log": str(self.log)}


def miter_script(gold, gate, aig):
    """A Yosys script: ``gold`` and ``gate`` (command lists, each leaving its design
    in module ``top``) side by side in ``miter -equiv`` (output ``trigger``: 1 when an
    output differs), lowered to an AIG ``aig`` with every flip-flop zero-initialized."""
    return "\n".join([
        *gold, "rename top gold",
        *gate, "rename top gate",
        "miter -equiv -flatten gold gate miter", "hierarchy -top miter",
        "flatten", "techmap", "opt -fast", "dffunmap", "zinit -all", "aigmap", "opt_clean",
        f"write_aiger -zinit {aig}",
    ]) + "\n"


def prove_step(name, *, work, gold, gate, yosys, abc, timeout_s, abc_command="dprove", knob=None):
    """Build the miter of ``gold`` and ``gate`` (see :func:`miter_script`) in ``work``
    and let ABC decide it within ``timeout_s`` seconds (construction included);
    ``knob`` names the setting that raises the budget, in the result's detail.

    Returns
    -------
    StepResult
    """
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"\W+", "_", name)
    (work / f"{stem}.ys").write_text(miter_script(gold, gate, f"{stem}.aig"))
    method = f"Yosys miter -equiv, ABC {abc_command}"
    hint = f" (raise it with {knob})" if knob else ""
    start = time.monotonic()
    try:
        run_tool(yosys, ["-q", f"{stem}.ys"], cwd=work, timeout=timeout_s, log_name=f"{stem}.yosys.log")
    except ToolTimeout:
        return StepResult(name, "timeout", time.monotonic() - start, method,
                          f"not proven: budget of {round(timeout_s, 1):g} s spent building the miter{hint}",
                          work / f"{stem}.yosys.log")
    log = work / f"{stem}.abc.log"
    left = max(timeout_s - (time.monotonic() - start), 1.0)
    found = check_miter(abc, f"{stem}.aig", abc_command, cwd=work, timeout=left, log_name=log.name)
    seconds = time.monotonic() - start
    if found.timed_out:
        return StepResult(name, "timeout", seconds, method, f"not proven: budget of {round(timeout_s, 1):g} s{hint}", log)
    # ABC printing no verdict is open too: never a pass.
    return StepResult(name, "timeout" if found.status == "open" else found.status, seconds, method,
                      found.detail, log)


def shape_name(cell):
    """``s8xs8->16``: signedness and widths of a multiplier cell."""
    sign = lambda signed: "s" if signed else "u"  # noqa: E731
    return f"{sign(cell.a_signed)}{cell.a_width}x{sign(cell.b_signed)}{cell.b_width}->{cell.y_width}"


def _extend(name, width, signed, target):
    if width >= target:
        return f"{name}[{target - 1}:0]"
    fill = f"{name}[{width - 1}]" if signed else "1'b0"
    return f"{{{{{target - width}{{{fill}}}}}, {name}}}"


def textbook_multiplier_verilog(cell, name="top"):
    """Yosys' ``$mul`` of ``cell``'s shape (``Y = A * B`` mod ``2^Y_WIDTH``, each operand
    extended to ``Y_WIDTH`` by its own signedness) as a shift-and-add array written
    with bitwise operators only: row ``j`` adds ``B[j] ? A << j : 0`` with an explicit
    ripple-carry adder; for a signed ``B`` its sign row is subtracted instead (its
    weight is ``-2^j``), as an addition of the complement with carry in 1. Ports
    ``A``, ``B``, ``Y`` like the cell's."""
    yw = cell.y_width
    rows = min(yw, cell.b_width)
    lines = [f"module {name}(input [{cell.a_width - 1}:0] A, input [{cell.b_width - 1}:0] B, "
             f"output [{yw - 1}:0] Y);",
             f"  wire [{yw - 1}:0] ax = {_extend('A', cell.a_width, cell.a_signed, yw)};",
             f"  wire [{yw - 1}:0] s0 = {yw}'d0;"]
    for j in range(rows):
        negative = cell.b_signed and j == cell.b_width - 1
        term = f"{{{yw}{{B[{j}]}}}} & (ax << {j})"
        lines += [f"  wire [{yw - 1}:0] p{j} = {'~(' + term + ')' if negative else term};",
                  f"  wire [{yw}:0] c{j};",
                  f"  assign c{j}[0] = 1'b{int(negative)};",
                  f"  assign c{j}[{yw}:1] = (s{j} & p{j}) | (s{j} & c{j}[{yw - 1}:0]) | (p{j} & c{j}[{yw - 1}:0]);",
                  f"  wire [{yw - 1}:0] s{j + 1} = s{j} ^ p{j} ^ c{j}[{yw - 1}:0];"]
    lines += [f"  assign Y = s{rows};", "endmodule"]
    return "\n".join(lines) + "\n"


def _mul_cell_rtlil(cell):
    """One ``$mul`` cell of ``cell``'s shape as RTLIL module ``top`` (ports ``A``, ``B``, ``Y``)."""
    return (f"module \\top\n  wire width {cell.a_width} input 1 \\A\n  wire width {cell.b_width} input 2 \\B\n"
            f"  wire width {cell.y_width} output 3 \\Y\n  cell $mul $m\n"
            f"    parameter \\A_SIGNED {int(cell.a_signed)}\n    parameter \\A_WIDTH {cell.a_width}\n"
            f"    parameter \\B_SIGNED {int(cell.b_signed)}\n    parameter \\B_WIDTH {cell.b_width}\n"
            f"    parameter \\Y_WIDTH {cell.y_width}\n"
            "    connect \\A \\A\n    connect \\B \\B\n    connect \\Y \\Y\n  end\nend\n")


def _generator(lemma_name):
    """The Yosys passes whose multiplier lemma is ``lemma_name``."""
    return "booth" if lemma_name.endswith(" booth") else "alumacc + maccmap"


def _lowering(booth):
    """The Yosys passes that lower a ``$mul`` before the miter's ``techmap``."""
    return ["booth"] if booth else []


def prove_multiplier(cell, *, work, yosys, abc, timeout_s, booth=False, knob=None):
    """Step 3 for one cell shape: Yosys' lowering of a ``$mul`` (``techmap``, or the
    ``booth`` pass with ``booth``) equals :func:`textbook_multiplier_verilog`, by ABC ``&cec``."""
    if cell.a_signed != cell.b_signed:
        raise ToolError(f"a $mul with one signed and one unsigned operand has no textbook form here: {cell}")
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "textbook.v").write_text(textbook_multiplier_verilog(cell))
    (work / "mul.il").write_text(_mul_cell_rtlil(cell))
    what = f"multiplier {shape_name(cell)}" + (" booth" if booth else "")
    return prove_step(what, work=work, yosys=yosys, abc=abc, timeout_s=timeout_s, knob=knob,
                      gold=["read_verilog textbook.v", "proc"], gate=["read_rtlil mul.il", *_lowering(booth)],
                      abc_command="&get; &cec -m")


class MultiplierLemmas:
    """The multiplier lemmas of a run, each proved once (thread-safe).

    Each gets ``budget_s`` seconds, or what is left before ``deadline`` (a
    :func:`time.monotonic` value) when that is less; ``knob`` names the setting
    that raises the budget.
    """

    def __init__(self, root, yosys, abc, budget_s, *, deadline=None, knob=None):
        self.root, self.yosys, self.abc, self.budget_s = Path(root), yosys, abc, budget_s
        self.deadline, self.knob = deadline, knob
        self._results, self._locks, self._lock = {}, {}, threading.Lock()

    def get(self, cell, booth=False):
        """The :class:`StepResult` of ``cell``'s lemma (proved on first use)."""
        key = (cell, booth)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._results:
                name = shape_name(cell).replace("->", "_") + ("_booth" if booth else "")
                budget = self.budget_s if self.deadline is None else \
                    min(self.budget_s, self.deadline - time.monotonic())
                if budget <= 1:
                    self._results[key] = StepResult(
                        f"multiplier {shape_name(cell)}" + (" booth" if booth else ""), "timeout", 0.0, "not run",
                        f"not run: the budget was spent{f' (raise it with {self.knob})' if self.knob else ''}",
                        self.root)
                else:
                    self._results[key] = prove_multiplier(cell, work=self.root / f"mul_{name}", yosys=self.yosys,
                                                          abc=self.abc, timeout_s=budget, booth=booth, knob=self.knob)
            return self._results[key]

    def all(self):
        """Every lemma proved so far, by ``(cell, booth)``."""
        return dict(self._results)


#: The liberty flow with the pre-mapping design saved (``premap.il``): the flat run
#: writes it last, so the file holds what ``dfflibmap`` and ABC received.
_FLOW = dataclasses.replace(FLOWS["liberty"], mapping=("write_rtlil premap.il", *FLOWS["liberty"].mapping))

_FLATTEN = "read_rtlil design.il\nhierarchy -top top\nproc\nflatten\nopt_clean\nwrite_rtlil rtl.il\n"


def _checks(work, yosys, abc, budget_s, booth, knob):
    """Mapping, synthesis and adder-merge checks of a prepared design directory, each
    with what is left of ``budget_s``; stops at the first failure."""
    lowered = ["read_rtlil rtl.il", *_lowering(booth)]
    gate_netlist = ["read_liberty -ignore_miss_func cells.lib", "read_verilog netlist.v"]
    plan = (("mapping", ["read_rtlil premap.il"], gate_netlist),
            ("synthesis", [*lowered, "alumacc"], ["read_rtlil premap.il"]),
            ("adder merge", lowered, [*lowered, "alumacc"]))
    deadline = time.monotonic() + budget_s
    hint = f" (raise it with {knob})" if knob else ""
    results = []
    for name, gold, gate in plan:
        left = deadline - time.monotonic()
        if left <= 1:
            results.append(StepResult(name, "timeout", 0.0, "not run",
                                      f"not run: the budget of {round(budget_s, 1):g} s was spent{hint}", work))
            continue
        result = prove_step(name, work=work, gold=gold, gate=gate, yosys=yosys, abc=abc, timeout_s=left, knob=knob)
        results.append(result)
        if result.status == "failed":
            break
    return results


def prove_design(config, *, liberty, yosys, sta, abc, budget_s, lemmas, workdir, mutate=None, knob=None):
    """Synthesize ``config``'s datapath with the liberty flow and prove its netlist
    equal to its RTL through the chain.

    Parameters
    ----------
    budget_s : float
        Wall time of the checks (the synthesis is not counted); ``knob`` names the
        setting that raises it. The lemmas have ``lemmas``' own budget.
    lemmas : MultiplierLemmas
        Shared by every design of a run: each multiplier shape is proved once.
    mutate : callable, optional
        ``text -> text`` applied to the netlist before the proof (tests: a changed gate).

    Returns
    -------
    (list of StepResult, list of StepResult, dict, list of MulCell)
        The checks, the lemmas of the design's multipliers (empty unless every check
        is proven), the synthesis result (:func:`eda.yosys.synthesize`) and the
        multiplier cells.
    """
    work = Path(workdir)
    shutil.rmtree(work, ignore_errors=True)
    (work / "synth").mkdir(parents=True)
    rtlil = to_rtlil(datapath(config).component, name="top")
    synth = synthesize(rtlil, flow=_FLOW, workdir=work / "synth", yosys=yosys, liberty=liberty, sta=sta,
                       booth=config.booth)
    text = read_output(work / "synth" / "netlist.v")
    (work / "netlist.v").write_text(mutate(text) if mutate else text)
    for name in ("premap.il", "design.il", "cells.lib"):
        shutil.copyfile(work / "synth" / name, work / name)
    (work / "flatten.ys").write_text(_FLATTEN)
    run_tool(yosys, ["-q", "flatten.ys"], cwd=work, log_name="flatten.log")
    cells = mul_cells(read_output(work / "rtl.il"))
    steps = _checks(work, yosys, abc, budget_s, config.booth, knob)
    muls = [lemmas.get(cell, config.booth) for cell in cells] if all(s.status == "proven" for s in steps) else []
    return steps, muls, synth, cells


def verdict(steps, lemmas):
    """``status`` (one of :data:`DESIGN_STATUSES`) and ``reason`` of a design from its
    checks and the lemmas of its multipliers (dicts of :meth:`StepResult.as_dict`;
    the lemmas empty when the checks did not all pass)."""
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
            f"$mul read as Yosys' multiplier generator ({_generator(m['name'])})" for m in open_muls)}
    return {"status": "proven", "reason": ""}
