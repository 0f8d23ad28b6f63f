"""ABC (Debian's ``yosys-abc``) as an equivalence checker: finding it, running one
check on an AIGER miter within a time limit, and reading its verdict.

The miter's one output is 1 when the two designs differ; ABC decides whether it
can ever be 1. Its commands say so in different words (``dprove`` and ``&cec``:
"Networks are (not) equivalent", a property failing "was asserted in frame N"; a
problem solved by one SAT call: "(UN)SATISFIABLE"), and :func:`verdict` reads them
all. A check that runs past its limit is killed (with every process it started)
and is "open", never a pass.
"""

import dataclasses
import re
import shutil
from pathlib import Path

from toolkit.run import Tool, ToolError, ToolTimeout, run_tool

__all__ = ["Verdict", "VERDICTS", "find_abc", "verdict", "check_miter"]

#: A check's outcomes: the designs are equal, they differ, or it is not known.
VERDICTS = ("proven", "failed", "open")

_PROVEN = re.compile(r"Networks are equivalent|\bUNSATISFIABLE\b", re.I)
_FAILED = re.compile(r"Networks are not equivalent|was asserted in frame \d+|\bSATISFIABLE\b", re.I)
_FRAME = re.compile(r"was asserted in frame (\d+)", re.I)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What ABC concluded.

    Members
    -------
    status : str
        One of :data:`VERDICTS`.
    cycle : int or None
        For a failed sequential check, the frame of the counterexample when ABC names it.
    detail : str
        One line for tables and messages: ``equivalent``, ``NOT equivalent (...)`` or
        why it is open.
    timed_out : bool
        Open because the time limit passed.
    """

    status: str
    cycle: int | None = None
    detail: str = ""
    timed_out: bool = False


def verdict(text):
    """The :class:`Verdict` of ABC's output ``text`` (``open`` when it states none)."""
    if _FAILED.search(text):
        frame = _FRAME.search(text)
        cycle = int(frame.group(1)) if frame else None
        where = f" (counterexample in cycle {cycle})" if cycle is not None else ""
        return Verdict("failed", cycle, f"NOT equivalent{where}")
    if _PROVEN.search(text):
        return Verdict("proven", None, "equivalent")
    return Verdict("open", None, "not proven: ABC gave no verdict")


def find_abc(yosys=None):
    """ABC as shipped next to ``yosys`` (a :class:`toolkit.run.Tool`; Debian:
    ``yosys-abc``), else on PATH, or a :class:`ToolError` saying how to install it."""
    exe = Path(yosys.argv[0]).with_name("yosys-abc") if yosys is not None else None
    exe = str(exe) if exe is not None and exe.exists() else shutil.which("yosys-abc")
    if exe is None:
        raise ToolError("yosys-abc not found: the netlist proofs need Debian's yosys (apt-get install yosys)")
    return Tool("yosys-abc", (exe,), "yosys-abc")


def check_miter(abc, aig, command, *, cwd, timeout, log_name, knob=None):
    """Let ABC decide the miter ``cwd/aig`` with ``command`` (``"dprove"``,
    ``"&get; &cec -m"``, ...) within ``timeout`` seconds.

    Returns
    -------
    Verdict
        ``open`` when the limit passed (the detail names it, and ``knob``, the
        setting that raises it) or ABC printed no verdict.

    Raises
    ------
    ToolError
        When ABC cannot run or fails (a missing file, a malformed AIGER).
    """
    try:
        text = run_tool(abc, ["-c", f"read_aiger {aig}; print_stats; {command}"], cwd=cwd, timeout=timeout,
                        log_name=log_name, knob=knob)
    except ToolTimeout:
        hint = f" (raise it with {knob})" if knob else ""
        return Verdict("open", None, f"not proven: time limit of {timeout:g} s{hint}", timed_out=True)
    return verdict(text)
