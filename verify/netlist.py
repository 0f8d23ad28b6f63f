"""Netlist = RTL for a synthesized design, in steps small enough for ABC.

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
   (``techmap`` maps ``$mul`` through ``alumacc`` and ``maccmap``, as ``synth`` does).
   A second check (**adder merge**) proves the RTL after ``alumacc`` equal to the
   RTL: ``alumacc`` folds adder trees into one multi-operand adder.
3. **multipliers**: that generator is right: for each ``$mul`` cell of the RTL
   (its exact signedness and widths), the ``techmap`` lowering equals a
   textbook product written with bitwise operators only
   (:func:`textbook_multiplier_verilog`, no ``+`` or ``*`` that Yosys could map
   with the same generator). This is the one place where two differently built
   multipliers meet; it is done once per cell shape, not per design.

Steps 1 and 2 are sequential: both sides start from the all-zero register state
(the RTL's reset state; a netlist flip-flop has no power-on value, so it is given
the RTL's) and must agree on every output in every cycle for every input
sequence (ABC ``dprove``: register correspondence, then induction). Step 3 is
combinational (ABC ``&cec``).

Every check runs under a wall-time budget; one that does not finish is reported
as a timeout, never as a pass. A failed check names the cycle of the
counterexample.
"""

import dataclasses
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from toolkit.run import ToolError, die_with_parent

from .formal import MulCell, _MUL_CELL

__all__ = ["StepResult", "STATUSES", "miter_script", "prove_step", "mul_cells", "textbook_multiplier_verilog",
           "prove_multiplier", "shape_name"]

#: Outcomes of one check.
STATUSES = ("proven", "failed", "timeout")

@dataclasses.dataclass
class StepResult:
    """Outcome of one check.

    Members
    -------
    name : str
        ``"mapping"``, ``"synthesis"`` or ``"multiplier <shape>"``.
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


#: ABC's verdicts: ``dprove`` and ``&cec`` say "Networks are (NOT) equivalent"; a
#: problem ``dprove`` settles by one SAT call says "(UN)SATISFIABLE".
_PROVEN = re.compile(r"Networks are equivalent|\bUNSATISFIABLE\b", re.I)
_FAILED = re.compile(r"Networks are not equivalent|was asserted in frame (\d+)|\bSATISFIABLE\b", re.I)


def _run(argv, cwd, log_name, timeout_s):
    """Run a tool with a wall-time limit; return ``(output, timed_out)``."""
    log = Path(cwd) / log_name
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                preexec_fn=die_with_parent, start_new_session=True)
    except OSError as exc:
        raise ToolError(f"cannot run {argv[0]}: {exc.strerror}") from None
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        # The tool's own session only: it has children of its own (WebAssembly runtimes).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        log.write_text(out or "")
        return out or "", True
    log.write_text(out)
    if proc.returncode != 0:
        errors = [line for line in out.splitlines() if re.search(r"\bERROR\b|Error:|error:", line)]
        raise ToolError(f"{Path(argv[0]).name} failed: {errors[0].strip() if errors else proc.returncode} "
                        f"(full log: {log})")
    return out, False


def prove_step(name, *, work, gold, gate, yosys, abc, timeout_s, abc_command="dprove"):
    """Build the miter of ``gold`` and ``gate`` (see :func:`miter_script`) in ``work``
    and let ABC decide it within ``timeout_s`` seconds (construction included).

    Returns
    -------
    StepResult
    """
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"\W+", "_", name)
    (work / f"{stem}.ys").write_text(miter_script(gold, gate, f"{stem}.aig"))
    method = f"Yosys miter -equiv, ABC {abc_command}"
    start = time.monotonic()
    _, late = _run([*yosys.argv, "-q", f"{stem}.ys"], work, f"{stem}.yosys.log", timeout_s)
    left = timeout_s - (time.monotonic() - start)
    if late or left <= 0:
        return StepResult(name, "timeout", time.monotonic() - start, method,
                          f"not proven: budget of {timeout_s:g} s spent building the miter", work / f"{stem}.yosys.log")
    log = work / f"{stem}.abc.log"
    out, late = _run([*abc.argv, "-c", f"read_aiger {stem}.aig; print_stats; {abc_command}"], work, log.name, left)
    seconds = time.monotonic() - start
    failed = _FAILED.search(out)
    if failed:
        cycle = f" (counterexample in cycle {failed.group(1)})" if failed.group(1) else ""
        return StepResult(name, "failed", seconds, method, f"NOT equivalent{cycle}", log)
    if _PROVEN.search(out):
        return StepResult(name, "proven", seconds, method, "equivalent", log)
    why = f"budget of {timeout_s:g} s" if late else "ABC gave no verdict"
    return StepResult(name, "timeout", seconds, method, f"not proven: {why}", log)


def mul_cells(rtlil):
    """The distinct ``$mul`` cells of RTLIL text (after ``proc``), as :class:`MulCell`, sorted."""
    cells = set()
    for match in _MUL_CELL.finditer(rtlil):
        params = {n: int(v) for n, v in re.findall(r"parameter \\(\w+) (\d+)", match.group("body"))}
        cells.add(MulCell(bool(params["A_SIGNED"]), params["A_WIDTH"], bool(params["B_SIGNED"]),
                          params["B_WIDTH"], params["Y_WIDTH"]))
    return sorted(cells, key=dataclasses.astuple)


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


def prove_multiplier(cell, *, work, yosys, abc, timeout_s):
    """Step 3 for one cell shape: Yosys' ``techmap`` of a ``$mul`` equals
    :func:`textbook_multiplier_verilog`, by ABC ``&cec``."""
    if cell.a_signed != cell.b_signed:
        raise ToolError(f"a $mul with one signed and one unsigned operand has no textbook form here: {cell}")
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "textbook.v").write_text(textbook_multiplier_verilog(cell))
    (work / "mul.il").write_text(_mul_cell_rtlil(cell))
    return prove_step(f"multiplier {shape_name(cell)}", work=work, yosys=yosys, abc=abc, timeout_s=timeout_s,
                      gold=["read_verilog textbook.v", "proc"], gate=["read_rtlil mul.il"],
                      abc_command="&get; &cec -m")
