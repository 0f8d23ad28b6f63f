"""Energy per output of a mapped standard-cell netlist: simulated activity + OpenSTA power.

The flow, for one flat liberty-mapped netlist (``netlist.v`` of the liberty flow,
or :func:`named_netlist`, whose instance names keep the module they came from):

1. **Cell models.** Zero-delay Verilog models of every cell are generated from
   the liberty file's ``function``, ``ff`` and ``latch`` groups
   (:func:`cell_models`); the vendor's timing models are not needed and their
   UDPs and specify blocks (the slow part of a gate-level simulation) are avoided.
2. **Simulation.** Icarus Verilog runs the netlist against a :class:`Stimulus`
   (one word per input port and cycle, applied right after each rising clock
   edge). At every falling edge the testbench writes the value of every cell
   output net as one hex line; :func:`count_toggles` turns consecutive lines into
   toggles per net. Activity is therefore *zero-delay*: glitches are not counted.
3. **Power.** OpenSTA's ``report_power -instances`` is run twice, with every net
   at global activity 0 and at activity 1 (transitions per clock period). Power
   is linear in activity, so an instance whose outputs toggle ``a`` times per
   cycle draws ``P(0) + a * (P(1) - P(0))`` for each of internal, switching and
   leakage power (:func:`combine_power`). ``P(0)`` holds leakage and the clock
   pins' internal power of the flip-flops (the clock always toggles).
4. **Energy.** ``energy per output = power * clock period * cycles per output``.

:func:`vectorless_energy` is the fallback without simulation: every net at one
global activity (``set_power_activity -global``); its figures are labelled
``"vectorless"``.

What is not counted: the switching power of nets driven by primary inputs
(the outside world drives them; this includes the clock net, there is no clock
tree before layout) and wire capacitance (none before layout).
"""

import dataclasses
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from eda.sta import STA_SETUP_TCL, clock_tcl, sta_argv
from toolkit.run import ToolError

__all__ = [
    "Stimulus", "read_liberty_cells", "function_to_verilog", "cell_models",
    "Netlist", "read_netlist", "named_netlist", "instance_group", "engine_stimulus", "conv_layer",
    "rescaler_stimulus", "zero_stimulus", "constant_stimulus", "simulate", "read_outputs", "count_toggles",
    "instance_power", "combine_power", "measure_energy", "vectorless_energy",
]

#: Power components reported by OpenSTA, in its column order.
COMPONENTS = ("internal", "switching", "leakage")


# --- stimulus ------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Stimulus:
    """Input words of a simulation, one per cycle and port.

    Members
    -------
    name : str
        What the stimulus is, recorded in the report.
    words : dict of str to list of int
        Per input port (``clk`` and ``rst`` excluded), the unsigned value to
        apply in each cycle; all lists have the same length.
    window : tuple of int
        ``(start, stop)``: the cycles whose activity is measured.
    outputs : int
        Outputs the design produces for the cycles of ``window``.
    reset_cycles : int
        Cycles with ``rst`` high before cycle 0 (not measured).
    """

    name: str
    words: dict
    window: tuple
    outputs: int
    reset_cycles: int = 2

    @property
    def cycles(self):
        """Number of cycles of the stimulus (after reset)."""
        return len(next(iter(self.words.values())))

    @property
    def cycles_per_output(self):
        """Measured cycles per output: ``(stop - start) / outputs``."""
        return (self.window[1] - self.window[0]) / self.outputs


def conv_layer(k, *, macs, seed=0, size=6, channels_in=8, channels_out=8, kernel=3):
    """A realistic int8 layer: a float 3x3 convolution with ReLU quantized for a ``k``-bit rescaler.

    The float layer (a ReLU'd Gaussian image of ``size x size x channels_in``,
    Gaussian weights and biases, seeded by ``seed``) does not depend on ``k``;
    only ``m`` and ``s`` do, through :func:`sim.layers.quantize_conv2d`.

    Returns
    -------
    tuple
        ``(schedule, description)``: the :class:`sim.layers.Schedule` of the
        layer on one engine of ``macs`` lanes and a one-line description.
    """
    from sim import layers

    rng = np.random.default_rng(seed)
    x = np.maximum(rng.normal(size=(size, size, channels_in)), 0.0)
    w = rng.normal(scale=0.3, size=(channels_out, kernel, kernel, channels_in))
    bias = rng.normal(scale=0.5, size=channels_out)
    q = layers.quantize_conv2d(x, w, bias, k, relu=True)
    cols, wmat, _ = q.lowered()
    schedule = layers.matmul_schedule(cols, wmat, q.bias, q.m, q.s, zero_point=q.y_zero_point,
                                      act_min=q.act_min, act_max=q.act_max, macs=macs)
    description = (f"conv{kernel}x{kernel} relu {size}x{size}x{channels_in}->{channels_out} "
                   f"(seed {seed}, quantize_conv2d k={k}), {schedule.groups} outputs, "
                   f"{schedule.beats // schedule.groups} beats/output")
    return schedule, description


def engine_stimulus(schedule, k, *, name, tail=4, hidden_bit=False):
    """The :class:`Stimulus` of an engine for a layer schedule, beats back to back.

    The words are those of :func:`sim.layers.stream_words` (the packed ports of
    :mod:`sim.ports`). ``tail`` idle cycles (``valid`` low) follow the last beat
    so the last output leaves the pipeline; the measured window is the beats
    themselves, so ``cycles_per_output`` is the schedule's beats per output.
    """
    from sim import layers

    words = layers.stream_words(schedule, k, hidden_bit=hidden_bit)
    beats = schedule.beats
    out = {port: [int(v) for v in values] + [0] * tail for port, values in words.items()}
    out["valid"] = [1] * beats + [0] * tail
    return Stimulus(name=name, words=out, window=(0, beats), outputs=schedule.groups)


def rescaler_stimulus(schedule, k, *, name, tail=4, hidden_bit=False):
    """The :class:`Stimulus` of a rescaler alone (``python -m costmodel synth --k K``):
    the final accumulator and operands of every output of ``schedule``, one per cycle."""
    from sim import layers, ports

    first, last = np.asarray(schedule.first), np.asarray(schedule.last)
    starts, ends = np.flatnonzero(first), np.flatnonzero(last)
    dots = np.einsum("tn,tn->t", schedule.x, schedule.w[:, 0, :])
    acc = layers.wrap32(schedule.bias[starts, 0] + np.add.reduceat(dots, starts))
    values = {"acc": acc, **{p: getattr(schedule, p)[ends, 0] for p in ports.RESCALE_OPERANDS}}
    if hidden_bit:  # the m port holds m - 2^(k-1)
        values["m"] = values["m"] - (1 << (k - 1))
    words = {p.name: [p.encode(v) for v in values[p.name]] + [0] * tail
             for p in ports.rescaler_inputs(k, hidden_bit=hidden_bit)}
    words["valid"] = [1] * len(ends) + [0] * tail
    return Stimulus(name=name, words=words, window=(0, len(ends)), outputs=len(ends))


def zero_stimulus(stimulus):
    """``stimulus`` with every data word zero; ``valid``, ``first``, ``last`` kept."""
    keep = ("valid", "first", "last")  # the stream's timing
    words = {p: (list(v) if p in keep else [0] * len(v)) for p, v in stimulus.words.items()}
    return dataclasses.replace(stimulus, name=f"all-zero data, timing of {stimulus.name}", words=words)


def constant_stimulus(stimulus, cycle=0):
    """``stimulus`` with every port held at its value of ``cycle`` for the whole run."""
    words = {p: [v[cycle]] * len(v) for p, v in stimulus.words.items()}
    return dataclasses.replace(stimulus, name=f"constant inputs (cycle {cycle} of {stimulus.name})",
                               words=words)


# --- liberty -------------------------------------------------------------------------------

def _groups(text):
    """Parse liberty text into nested ``(kind, args, attrs, children)`` tuples (enough for cells)."""
    token = re.compile(r'\s*(?:(/\*.*?\*/)|(\\\n)|([A-Za-z_][\w.]*)\s*\(([^)]*)\)\s*(\{|;)'
                       r'|([A-Za-z_][\w.]*)\s*:\s*("[^"]*"|[^;]*?)\s*;|(\}))', re.S)
    root = ("root", "", {}, [])
    stack, pos = [root], 0
    while pos < len(text):
        m = token.match(text, pos)
        if m is None:
            nxt = text.find("\n", pos)
            if text[pos:].strip() == "":
                break
            pos = nxt + 1 if nxt >= 0 else len(text)  # skip a line we do not understand
            continue
        pos = m.end()
        if m.group(3) is not None:
            if m.group(5) == "{":
                group = (m.group(3), m.group(4).strip().strip('"'), {}, [])
                stack[-1][3].append(group)
                stack.append(group)
        elif m.group(6) is not None:
            stack[-1][2][m.group(6)] = m.group(7).strip().strip('"')
        elif m.group(8) is not None and len(stack) > 1:
            stack.pop()
    return root


def read_liberty_cells(liberty):
    """Cells of a liberty file: what :func:`cell_models` and the netlist reader need.

    Returns
    -------
    dict
        ``{cell: {"inputs": [pin], "outputs": {pin: function or ""},
        "ff": {...} or None, "latch": {...} or None}}``; ``ff`` and ``latch``
        hold the group's two variable names (``"vars"``) and its attributes.
    """
    try:
        text = Path(liberty).read_text(errors="replace")
    except OSError as exc:
        raise ToolError(f"liberty file {liberty} cannot be read: {exc.strerror}") from None
    root = _groups(text)
    libraries = [g for g in root[3] if g[0] == "library"]
    if not libraries:
        raise ToolError(f"{liberty} is not a liberty file: it has no 'library' group")
    cells = {}
    for kind, name, _, children in libraries[0][3]:
        if kind != "cell":
            continue
        cell = {"inputs": [], "outputs": {}, "ff": None, "latch": None}
        for ckind, cargs, cattrs, _ in children:
            if ckind == "pin":
                direction = cattrs.get("direction", "")
                if direction == "input":
                    cell["inputs"].append(cargs)
                elif direction in ("output", "inout"):
                    cell["outputs"][cargs] = cattrs.get("function", "")
            elif ckind in ("ff", "latch"):
                cell[ckind] = {"vars": [v.strip() for v in cargs.split(",")], **cattrs}
        cells[name] = cell
    if not cells:
        raise ToolError(f"liberty file {liberty} defines no cells")
    return cells


def function_to_verilog(function):
    """A liberty boolean ``function`` as a Verilog expression.

    Liberty: ``!`` or postfix ``'`` is NOT, ``&``, ``*`` or juxtaposition AND,
    ``+`` or ``|`` OR, ``^`` XOR, ``0``/``1`` constants.
    """
    tokens = re.findall(r"[A-Za-z_][\w.\[\]]*|[01]|[!'&*+|^()]", function)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def primary():
        tok = take()
        if tok == "!":
            return f"~{primary()}"
        if tok == "(":
            inner = disjunction()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in liberty function {function!r}")
            out = f"({inner})"
        elif tok in ("0", "1"):
            out = f"1'b{tok}"
        elif tok is None or not re.match(r"[A-Za-z_]", tok):
            raise ValueError(f"cannot parse liberty function {function!r}")
        else:
            out = tok
        while peek() == "'":
            take()
            out = f"(~{out})"
        return out

    def conjunction():
        terms = [primary()]
        while peek() is not None and peek() not in ("+", "|", "^", ")"):
            if peek() in ("&", "*"):
                take()
            terms.append(primary())
        return " & ".join(terms) if len(terms) == 1 else "(" + " & ".join(terms) + ")"

    def xor():
        terms = [conjunction()]
        while peek() == "^":
            take()
            terms.append(conjunction())
        return terms[0] if len(terms) == 1 else "(" + " ^ ".join(terms) + ")"

    def disjunction():
        terms = [xor()]
        while peek() in ("+", "|"):
            take()
            terms.append(xor())
        return terms[0] if len(terms) == 1 else "(" + " | ".join(terms) + ")"

    result = disjunction()
    if pos != len(tokens):
        raise ValueError(f"cannot parse liberty function {function!r}")
    return result


def _edge(expr):
    """``posedge X`` / ``negedge X`` for a clock or async-control expression (``X``, ``!X``, ``X'``)."""
    m = re.fullmatch(r"\(?\s*(!?)\s*([A-Za-z_]\w*)\s*('?)\s*\)?", expr.strip())
    if m is None:
        raise ValueError(f"unsupported clock or set/reset expression {expr!r}")
    return ("negedge " if (m.group(1) or m.group(3)) else "posedge ") + m.group(2)


def cell_models(cells, used=None):
    """Zero-delay Verilog modules for ``cells`` (from :func:`read_liberty_cells`).

    Flip-flops and latches start at 0 (``initial``) so no X reaches the toggle counts.
    ``used`` restricts the output to those cell names.
    """
    out = ["`timescale 1ns/1ps"]
    for name, cell in cells.items():
        if used is not None and name not in used:
            continue
        ports = [*cell["inputs"], *cell["outputs"]]
        lines = [f"module {name}({', '.join(ports)});"]
        lines += [f"  input {p};" for p in cell["inputs"]]
        lines += [f"  output {p};" for p in cell["outputs"]]
        for kind in ("ff", "latch"):
            group = cell[kind]
            if group is None:
                continue
            iq, iqn = (group["vars"] + [None])[:2]
            lines.append(f"  reg {iq} = 1'b0;")
            if iqn:
                lines.append(f"  wire {iqn} = ~{iq};")
            if kind == "ff":
                d = function_to_verilog(group["next_state"])
                events = [_edge(group["clocked_on"])]
                body = []
                for ctrl, value in (("clear", "1'b0"), ("preset", "1'b1")):
                    if ctrl in group:
                        events.append(_edge(group[ctrl]))
                        body.append(f"if ({function_to_verilog(group[ctrl])}) {iq} <= {value};")
                body.append(f"{iq} <= {d};")
                lines.append(f"  always @({' or '.join(events)}) " + " else ".join(body))
            else:
                lines.append(f"  always @* if ({function_to_verilog(group['enable'])}) "
                             f"{iq} = {function_to_verilog(group['data_in'])};")
        for pin, function in cell["outputs"].items():
            if not function:
                raise ToolError(f"liberty cell {name} has no function for output {pin}: "
                                "it cannot be simulated")
            lines.append(f"  assign {pin} = {function_to_verilog(function)};")
        lines.append("endmodule")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


# --- netlist -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Netlist:
    """A flat mapped netlist as written by Yosys' ``write_verilog``.

    Members
    -------
    top : str
    ports : dict of str to tuple
        ``{name: (direction, width)}`` in declaration order.
    instances : list of tuple
        ``(name, cell, {pin: net expression})``.
    """

    top: str
    ports: dict
    instances: list


def _ident(name):
    """Verilog spelling of an identifier (escaped when needed)."""
    return name if re.fullmatch(r"[A-Za-z_][\w$]*", name) else f"\\{name} "


def read_netlist(path, top):
    """Parse the flat Yosys netlist ``path`` (module ``top``) into a :class:`Netlist`."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ToolError(f"netlist {path} cannot be read: {exc.strerror}") from None
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    m = re.search(rf"^module\s+{re.escape(top)}\s*\((.*?)\);(.*?)^endmodule", text, re.M | re.S)
    if m is None:
        raise ToolError(f"netlist {path} has no module '{top}'")
    body = m.group(2)
    ports = {}
    for decl in re.finditer(r"^\s*(input|output|inout)\s+(?:signed\s+)?(?:\[(\d+):(\d+)\]\s*)?"
                            r"(\\\S+|[A-Za-z_][\w$]*)\s*;", body, re.M):
        width = abs(int(decl.group(2)) - int(decl.group(3))) + 1 if decl.group(2) else 1
        ports[decl.group(4).lstrip("\\")] = (decl.group(1), width)
    instances = []
    for inst in re.finditer(r"^\s*([A-Za-z_][\w$]*)\s+(\\\S+|[A-Za-z_][\w$]*)\s*\((.*?)\)\s*;",
                            body, re.M | re.S):
        cell, name, conns = inst.groups()
        if cell in ("input", "output", "inout", "wire", "reg", "assign", "module"):
            continue
        pins = dict(re.findall(r"\.(\w+)\s*\(\s*(.*?)\s*\)(?=\s*,|\s*$)", conns, re.S))
        instances.append((name.lstrip("\\").strip(), cell, pins))
    if not instances:
        raise ToolError(f"netlist {path} has no cell instances in module '{top}'")
    return Netlist(top=top, ports=ports, instances=instances)


_NAMED_SCRIPT = """\
read_rtlil design.il
hierarchy -top {top}
synth -top {top} -noabc
dfflibmap -liberty cells.lib
abc -script med.abc -liberty cells.lib
opt_clean
flatten
opt_clean -purge
tee -q -o stat.txt stat -liberty cells.lib
write_verilog -noattr -norename raw.v
"""


def named_netlist(rtlil, *, liberty, workdir, yosys, top="top", abc_script=None):
    """A flat mapped netlist whose instance names start with their module path.

    Each module is mapped on its own (no cross-module optimization, unlike the
    liberty flow's flattened synthesis), then flattened. Instances are renamed
    ``<path>__<n>`` (``path`` the submodule path with ``.`` as ``_``, ``top`` for
    the top module's own cells) and internal nets ``n<n>``, so both Icarus and
    OpenSTA read the names plainly and :func:`instance_group` recovers the module.

    Returns
    -------
    pathlib.Path
        ``workdir / "netlist.v"``.
    """
    from eda.flows import ABC_SCRIPT
    from toolkit.run import run_tool

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "design.il").write_text(rtlil)
    (workdir / "med.abc").write_text(abc_script or ABC_SCRIPT)
    shutil.copyfile(liberty, workdir / "cells.lib")
    (workdir / "named.ys").write_text(_NAMED_SCRIPT.format(top=top))
    run_tool(yosys, ["-q", "named.ys"], cwd=workdir, log_name="named.log")
    raw = (workdir / "raw.v").read_text()
    names = {}

    def rename(m):
        token = m.group(0)
        if token not in names:
            path = re.findall(r"\$flatten\\([^$]*?)\.(?=\$|\\|[^.]*$)", token)
            group = path[-1].replace(".", "_") if path else "top"
            names[token] = f"{group}__{len(names)}"
        return names[token] + " "

    # Escaped identifiers (``\...`` up to white space) are Yosys' internal names.
    text = re.sub(r"\\\S+\s", rename, raw)
    text = re.sub(r"\bsigned\b", "", text)
    (workdir / "netlist.v").write_text(text)
    return workdir / "netlist.v"


def instance_group(name):
    """Module path an instance of :func:`named_netlist` came from (``"top"`` for others)."""
    return name.split("__", 1)[0] if "__" in name else "top"


# --- simulation ----------------------------------------------------------------------------

_TB = """\
`timescale 1ns/1ps
module tb;
  reg clk = 1'b0;
  reg rst = 1'b1;
{regs}
  reg [{width}-1:0] mem [0:{cycles}-1];
  integer i, fd;
  {top} dut ({conns});
  always #{half} clk = ~clk;
  integer fo;
  task dump; begin
    $fwrite(fd, "%h\\n", {{{probes}}});
    $fwrite(fo, "{outfmt}\\n", {outputs});
  end endtask
  initial begin
    $readmemh("stimulus.hex", mem);
    fd = $fopen("probe.hex", "w");
    fo = $fopen("outputs.txt", "w");
    {{{inputs}}} = 0;
    repeat ({reset}) @(posedge clk);
    rst <= 1'b0;
    @(negedge clk);
    dump;
    @(posedge clk);
    for (i = 0; i < {cycles}; i = i + 1) begin
      {{{inputs}}} <= mem[i];
      @(negedge clk);
      dump;
      @(posedge clk);
    end
    $fclose(fd);
    $fclose(fo);
    $finish;
  end
endmodule
"""


def _probe_nets(netlist, cells):
    """Cell output nets, each once, in instance order, and the instances driving each."""
    nets, drivers = [], {}
    for name, cell, pins in netlist.instances:
        if cell not in cells:
            raise ToolError(f"cell {cell} of instance {name} is not in the liberty file")
        for pin in cells[cell]["outputs"]:
            net = pins.get(pin, "").strip()
            if not net or net.startswith("1'") or net.startswith("{"):
                continue
            if net not in drivers:
                nets.append(net)
                drivers[net] = []
            drivers[net].append(name)
    return nets, drivers


def _hier_ref(net):
    """Hierarchical reference ``dut.<net>`` for a net expression (``n``, ``x[3]``, escaped)."""
    m = re.fullmatch(r"(\\\S+|[A-Za-z_][\w$]*)\s*(\[\d+\])?", net)
    if m is None:
        raise ToolError(f"cannot probe net expression {net!r}")
    base = m.group(1)
    base = base + " " if base.startswith("\\") else base
    return f"dut.{base}{m.group(2) or ''}"


def simulate(netlist, stimulus, *, liberty_cells, netlist_path, workdir, clock_ns,
             iverilog="iverilog", vvp="vvp"):
    """Simulate ``netlist`` under ``stimulus`` with Icarus; return per-net toggle counts.

    Returns
    -------
    dict
        ``nets`` (list of net expressions), ``toggles`` (array of toggles of each
        net within the stimulus window), ``cycles`` (window length),
        ``drivers`` (net -> instances), ``compile_s``, ``sim_s``.
    """
    workdir = Path(workdir)
    for tool in (iverilog, vvp):
        if shutil.which(tool) is None:
            raise ToolError(f"{tool} not found: install Icarus Verilog (apt-get install iverilog)")
    inputs = [p for p, (d, _) in netlist.ports.items() if d == "input" and p not in ("clk", "rst")]
    missing = [p for p in inputs if p not in stimulus.words]
    if missing:
        raise ToolError(f"stimulus {stimulus.name!r} has no words for input ports {', '.join(missing)}")
    nets, drivers = _probe_nets(netlist, liberty_cells)
    widths = [netlist.ports[p][1] for p in inputs]
    total = sum(widths)
    digits = -(-total // 4)
    lines = []
    for c in range(stimulus.cycles):
        word = 0
        for port, width in zip(inputs, widths):
            word = (word << width) | (int(stimulus.words[port][c]) & ((1 << width) - 1))
        lines.append(f"{word:0{digits}x}")
    (workdir / "stimulus.hex").write_text("\n".join(lines) + "\n")
    used = {cell for _, cell, _ in netlist.instances}
    (workdir / "cells_zero_delay.v").write_text(cell_models(liberty_cells, used))
    clock_ports = [p for p in ("clk", "rst") if p in netlist.ports]
    conns = ", ".join(f".{_ident(p)}({p})" for p in [*clock_ports, *inputs])
    regs = "\n".join(f"  reg [{w}-1:0] {p};" for p, w in zip(inputs, widths))
    outs = [p for p, (d, _) in netlist.ports.items() if d == "output"]
    regs += "\n" + "\n".join(f"  wire [{netlist.ports[p][1]}-1:0] {p};" for p in outs)
    conns += "".join(f", .{_ident(p)}({p})" for p in outs)
    tb = _TB.format(regs=regs, width=total, cycles=stimulus.cycles, top=netlist.top, conns=conns,
                    nprobe=len(nets), probes=", ".join(_hier_ref(n) for n in nets),
                    outputs=", ".join(outs), outfmt=" ".join(["%d"] * len(outs)),
                    half=clock_ns / 2, inputs=", ".join(inputs), reset=stimulus.reset_cycles)
    (workdir / "tb.v").write_text(tb)
    t0 = time.monotonic()
    _run([iverilog, "-g2005", "-o", "sim.vvp", "tb.v", "cells_zero_delay.v", str(Path(netlist_path).resolve())],
         workdir, "iverilog.log", "Icarus Verilog could not compile the netlist")
    t1 = time.monotonic()
    _run([vvp, "-n", "sim.vvp"], workdir, "vvp.log", "the gate-level simulation failed")
    t2 = time.monotonic()
    toggles = count_toggles((workdir / "probe.hex").read_text(), len(nets), stimulus.window)
    return {"nets": nets, "toggles": toggles, "outputs": read_outputs(workdir / "outputs.txt", outs), "cycles": stimulus.window[1] - stimulus.window[0],
            "drivers": drivers, "compile_s": round(t1 - t0, 2), "sim_s": round(t2 - t1, 2)}


def read_outputs(path, ports):
    """Output port values the testbench wrote: ``{port: array}``, entry ``c + 1`` after cycle ``c``
    (unsigned; ``-1`` where the value was not a number)."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    table = np.array([[int(v) if v.isdigit() else -1 for v in row] for row in rows], dtype=np.int64)
    return {p: table[:, i] for i, p in enumerate(ports)}


def count_toggles(text, nbits, window):
    """Toggles per bit between consecutive hex lines of ``text`` within ``window``.

    Line 0 is the state before the first stimulus cycle, line ``c + 1`` the
    state after cycle ``c``; the toggles of cycle ``c`` are the bits in which
    lines ``c`` and ``c + 1`` differ. ``x`` and ``z`` read as 0. Bit ``i`` of the
    result is the ``i``-th bit from the left (the first net of the probe).
    """
    rows = text.split()
    start, stop = window
    if len(rows) < stop + 1:
        raise ToolError(f"the simulation wrote {len(rows) - 1} cycles of activity, {stop} expected")
    digits = -(-nbits // 4)
    even = digits + digits % 2
    table = str.maketrans("xXzZ", "0000")
    chosen = rows[start:stop + 1]
    joined = "".join(r.translate(table).rjust(even, "0") for r in chosen)
    raw = np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(len(chosen), even // 2)
    bits = np.unpackbits(raw, axis=1)[:, even * 4 - nbits:]
    return np.count_nonzero(np.diff(bits, axis=0), axis=0)


def _run(argv, cwd, log_name, what):
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    log = Path(cwd) / log_name
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or re.search(r"\berror\b", proc.stderr, re.I):
        first = next((l for l in (proc.stdout + proc.stderr).splitlines() if l.strip()), "")
        raise ToolError(f"{what}: {first.strip()} (full log: {log})")
    return proc.stdout


# --- power ---------------------------------------------------------------------------------

_POWER_TCL = STA_SETUP_TCL + "{activities}\n"

_ACTIVITY_TCL = """\
set_power_activity -global -activity {activity} -duty 0.5
report_power -digits 6 > total_{tag}.txt
report_power -instances [get_cells *] -digits 6 > instances_{tag}.txt
"""


def instance_power(netlist, *, netlist_path, liberty, clock_ns, workdir, sta, activities=(0.0, 1.0),
                   spef=None):
    """Per-instance power at each global activity (transitions per clock period).

    ``spef`` (optional) are parasitics of a routed netlist: its wire capacitance
    then adds to the switching power.

    Returns
    -------
    dict
        ``{activity: {"instances": {name: array([internal, switching, leakage])},
        "total": array([...])}}`` in watts.
    """
    workdir = Path(workdir)
    script = _POWER_TCL.format(
        liberty=Path(liberty).resolve(), netlist=Path(netlist_path).resolve(), top=netlist.top,
        clock=clock_tcl("clk" in netlist.ports, clock_ns), spef=f"read_spef {Path(spef).resolve()}" if spef else "",
        activities="".join(_ACTIVITY_TCL.format(activity=a, tag=i) for i, a in enumerate(activities)))
    (workdir / "power.tcl").write_text(script)
    _run([*sta_argv(sta), "power.tcl"], workdir, "power.log", "OpenSTA's power report failed")
    result = {}
    for i, activity in enumerate(activities):
        per = _parse_instances((workdir / f"instances_{i}.txt").read_text())
        if len(per) != len(netlist.instances):
            raise ToolError(f"OpenSTA reported power for {len(per)} instances, the netlist has "
                            f"{len(netlist.instances)} (see {workdir / 'power.log'})")
        result[activity] = {"instances": per,
                            "total": _parse_total((workdir / f"total_{i}.txt").read_text())}
    return result


def _parse_instances(text):
    rows = re.findall(r"^\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+[-+0-9.eE]+\s+(\S+)\s*$",
                      text, re.M)
    return {name: np.array([float(a), float(b), float(c)]) for a, b, c, name in rows}


def _parse_total(text):
    m = re.search(r"^Total\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)", text, re.M)
    if m is None:
        raise ToolError("cannot find the total in OpenSTA's power report")
    return np.array([float(v) for v in m.groups()])


def combine_power(power0, power1, activity):
    """Per-instance power for per-instance output ``activity`` (toggles per cycle).

    ``power0`` and ``power1`` map instance names to ``[internal, switching,
    leakage]`` at global activity 0 and 1; an instance missing from ``activity``
    counts as idle. Returns ``{name: array}`` in the same units.
    """
    return {name: p0 + activity.get(name, 0.0) * (power1[name] - p0) for name, p0 in power0.items()}


def _instance_activity(sim):
    """Mean toggles per cycle of each instance's outputs."""
    rate = sim["toggles"] / max(sim["cycles"], 1)
    per = {}
    for net, r in zip(sim["nets"], rate):
        for inst in sim["drivers"][net]:
            per.setdefault(inst, []).append(float(r))
    return {inst: sum(v) / len(v) for inst, v in per.items()}


def _energy_fields(power, clock_ns, cycles_per_output):
    energy = lambda p: p * clock_ns * 1e-9 * cycles_per_output * 1e12  # pJ
    fields = {f"{c}_mw": round(float(power[i]) * 1e3, 6) for i, c in enumerate(COMPONENTS)}
    fields["total_mw"] = round(float(power.sum()) * 1e3, 6)
    fields.update({f"{c}_pj_per_output": round(energy(float(power[i])), 4) for i, c in enumerate(COMPONENTS)})
    fields["energy_pj_per_output"] = round(energy(float(power.sum())), 4)
    return fields


def measure_energy(netlist_path, *, liberty, top, stimulus, clock_ns, workdir, sta="sta",
                   iverilog="iverilog", cycles_per_output=None, groups=True, spef=None):
    """Energy per output of a mapped netlist under a simulated stimulus.

    Parameters
    ----------
    netlist_path : path-like
        Flat Verilog netlist mapped onto the cells of ``liberty`` (module ``top``).
    liberty : path-like
    top : str
    stimulus : Stimulus
        Words per input port and cycle (e.g. :func:`engine_stimulus`).
    clock_ns : float
        Clock period; the activity is per cycle, power scales with ``1/clock_ns``.
    workdir : path-like
        Scratch directory (created); the testbench, logs and reports stay there.
    sta, iverilog : str or Tool
        OpenSTA (a ``Tool`` or the ``sta`` binary) and the Icarus compiler.
    cycles_per_output : float, optional
        Defaults to ``stimulus.cycles_per_output``.
    groups : bool
        Also split power by :func:`instance_group` (meaningful for :func:`named_netlist`).
    spef : path-like, optional
        Parasitics of the netlist after routing (e.g. from :mod:`eda.qflow`):
        wire capacitance adds to the switching power.

    Returns
    -------
    dict
        ``method`` (``"simulated"``), ``stimulus``, ``cycles``, ``cycles_per_output``,
        ``clock_ns``, ``internal_mw``, ``switching_mw``, ``leakage_mw``, ``total_mw``,
        the same as ``*_pj_per_output`` and ``energy_pj_per_output``,
        ``idle_mw`` (power at zero activity: leakage plus the flip-flops' clock pins),
        ``mean_toggles_per_net``, ``instances``, ``groups`` (``{group: {...}}``)
        ``output_trace`` (:func:`read_outputs` of the run, to check the netlist's
        results) and ``wall_s`` (``simulate_s``, ``sta_s``, ``total_s``).

    Raises
    ------
    ToolError
        A missing tool, a tool that fails, or a netlist it cannot use.
    """
    t0 = time.monotonic()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cells = read_liberty_cells(liberty)
    netlist = read_netlist(netlist_path, top)
    iverilog = iverilog.argv[0] if hasattr(iverilog, "argv") else iverilog
    vvp = str(Path(shutil.which(iverilog) or iverilog).with_name("vvp"))
    sim = simulate(netlist, stimulus, liberty_cells=cells, netlist_path=netlist_path,
                   workdir=workdir, clock_ns=clock_ns, iverilog=iverilog, vvp=vvp)
    t1 = time.monotonic()
    power = instance_power(netlist, netlist_path=netlist_path, liberty=liberty, clock_ns=clock_ns,
                           workdir=workdir, sta=sta, spef=spef)
    t2 = time.monotonic()
    activity = _instance_activity(sim)
    per = combine_power(power[0.0]["instances"], power[1.0]["instances"], activity)
    cpo = cycles_per_output or stimulus.cycles_per_output
    total = sum(per.values())
    result = {"method": "simulated (zero-delay toggles, Icarus) + OpenSTA per-instance power"
                        + (" with routed parasitics" if spef else ""),
              "stimulus": stimulus.name, "cycles": sim["cycles"], "cycles_per_output": cpo,
              "clock_ns": clock_ns, **_energy_fields(total, clock_ns, cpo),
              "idle_mw": round(float(power[0.0]["total"].sum()) * 1e3, 6),
              "mean_toggles_per_net": round(float(sim["toggles"].mean() / max(sim["cycles"], 1)), 4),
              "instances": len(per)}
    if groups:
        split = {}
        for name, p in per.items():
            g = instance_group(name)
            split[g] = split.get(g, 0) + p
        result["groups"] = {g: _energy_fields(p, clock_ns, cpo) for g, p in sorted(split.items())}
    result["output_trace"] = sim["outputs"]
    result["wall_s"] = {"compile_s": sim["compile_s"], "simulate_s": sim["sim_s"],
                        "sta_s": round(t2 - t1, 2), "total_s": round(time.monotonic() - t0, 2)}
    return result


def vectorless_energy(netlist_path, *, liberty, top, clock_ns, cycles_per_output, workdir,
                      sta="sta", activity=0.1, spef=None):
    """Fallback without simulation: every net at ``activity`` transitions per clock period.

    Returns the fields of :func:`measure_energy` that do not need a simulation,
    with ``method`` saying ``"vectorless"`` and the activity used.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    netlist = read_netlist(netlist_path, top)
    t0 = time.monotonic()
    power = instance_power(netlist, netlist_path=netlist_path, liberty=liberty, clock_ns=clock_ns,
                           workdir=workdir, sta=sta, activities=(float(activity),), spef=spef)
    total = power[float(activity)]["total"]
    return {"method": f"vectorless (set_power_activity -global -activity {activity} -duty 0.5)",
            "activity": activity, "cycles_per_output": cycles_per_output, "clock_ns": clock_ns,
            **_energy_fields(total, clock_ns, cycles_per_output),
            "wall_s": {"sta_s": round(time.monotonic() - t0, 2)}}
