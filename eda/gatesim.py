"""Gate-level simulation with Icarus Verilog: the testbench, the run, the outputs and
the toggle count of every cell output net.

:func:`simulate` drives a flat mapped netlist (:func:`read_netlist`) with one
word per input port and cycle, applied right after each rising clock edge, with
the cells modelled at zero delay (:func:`eda.liberty.cell_models`). At every
falling edge the testbench writes the value of every cell output net as one hex
line and the output ports as one text line; :func:`count_toggles` turns
consecutive lines into toggles per net. Activity is therefore *zero-delay*:
glitches are not counted.
"""

import dataclasses
import re
import shutil
import time
from pathlib import Path

import numpy as np

from toolkit.run import TimeLimit, Tool, ToolError, read_output, run_tool, tool_version

from .liberty import cell_models

__all__ = ["Netlist", "read_netlist", "Icarus", "find_icarus", "simulate", "read_outputs", "count_toggles",
           "TIME_LIMIT"]

#: Each of Icarus' two steps (compile, run): several times what the largest point of
#: the energy sweeps needs, so that it ends a hang, never a slow run.
TIME_LIMIT = TimeLimit("ICARUS_TIMEOUT", 3600.0)


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
        text = read_output(path)
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




@dataclasses.dataclass(frozen=True)
class Icarus:
    """Icarus Verilog's compiler and runtime (:func:`find_icarus`)."""

    iverilog: Tool
    vvp: Tool


def find_icarus():
    """``iverilog`` and the ``vvp`` beside it, with the compiler's version line.

    Raises
    ------
    ToolError
        When Icarus Verilog is not installed, with the command that installs it.
    """
    exe = shutil.which("iverilog")
    vvp = exe and Path(exe).with_name("vvp")
    if exe is None or not vvp.exists():
        raise ToolError("iverilog not found: install Icarus Verilog (apt-get install iverilog; "
                        "make energy installs it when run as root)")
    version = tool_version([exe], "-V")
    return Icarus(Tool("iverilog", (exe,), version), Tool("vvp", (str(vvp),), version))


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


def simulate(netlist, words, *, window, reset_cycles, cells, netlist_path, workdir, clock_ns, icarus=None):
    """Simulate ``netlist`` under ``words`` with Icarus; return per-net toggle counts.

    Parameters
    ----------
    netlist : Netlist
        :func:`read_netlist` of ``netlist_path``.
    words : dict of str to list of int
        Per input port (``clk`` and ``rst`` excluded), the unsigned value to apply
        in each cycle; all lists have the same length, the number of cycles.
    window : tuple of int
        ``(start, stop)``: the cycles whose toggles are counted.
    reset_cycles : int
        Cycles with ``rst`` high before cycle 0 (not counted).
    cells : dict
        :func:`eda.liberty.read_cells` of the netlist's library.
    workdir : pathlib.Path
        Existing scratch directory: testbench, logs, probe and output files stay there.
    clock_ns : float
    icarus : Icarus, optional
        Default :func:`find_icarus`.

    Returns
    -------
    dict
        ``nets`` (list of net expressions), ``toggles`` (array of toggles of each
        net within the window), ``outputs`` (:func:`read_outputs`), ``cycles``
        (window length), ``drivers`` (net -> instances), ``compile_s``, ``sim_s``.
    """
    workdir = Path(workdir)
    icarus = icarus or find_icarus()
    inputs = [p for p, (d, _) in netlist.ports.items() if d == "input" and p not in ("clk", "rst")]
    missing = [p for p in inputs if p not in words]
    if missing:
        raise ToolError(f"the stimulus has no words for input ports {', '.join(missing)}")
    cycles = len(next(iter(words.values())))
    nets, drivers = _probe_nets(netlist, cells)
    widths = [netlist.ports[p][1] for p in inputs]
    total = sum(widths)
    digits = -(-total // 4)
    lines = []
    for c in range(cycles):
        word = 0
        for port, width in zip(inputs, widths):
            word = (word << width) | (int(words[port][c]) & ((1 << width) - 1))
        lines.append(f"{word:0{digits}x}")
    (workdir / "stimulus.hex").write_text("\n".join(lines) + "\n")
    used = {cell for _, cell, _ in netlist.instances}
    (workdir / "cells_zero_delay.v").write_text(cell_models(cells, used))
    clock_ports = [p for p in ("clk", "rst") if p in netlist.ports]
    conns = ", ".join(f".{_ident(p)}({p})" for p in [*clock_ports, *inputs])
    regs = "\n".join(f"  reg [{w}-1:0] {p};" for p, w in zip(inputs, widths))
    outs = [p for p, (d, _) in netlist.ports.items() if d == "output"]
    regs += "\n" + "\n".join(f"  wire [{netlist.ports[p][1]}-1:0] {p};" for p in outs)
    conns += "".join(f", .{_ident(p)}({p})" for p in outs)
    tb = _TB.format(regs=regs, width=total, cycles=cycles, top=netlist.top, conns=conns,
                    nprobe=len(nets), probes=", ".join(_hier_ref(n) for n in nets),
                    outputs=", ".join(outs), outfmt=" ".join(["%d"] * len(outs)),
                    half=clock_ns / 2, inputs=", ".join(inputs), reset=reset_cycles)
    (workdir / "tb.v").write_text(tb)
    t0 = time.monotonic()
    _run(icarus.iverilog, ["-g2005", "-o", "sim.vvp", "tb.v", "cells_zero_delay.v", Path(netlist_path).resolve()],
         workdir, "iverilog.log", "Icarus Verilog could not compile the netlist")
    t1 = time.monotonic()
    _run(icarus.vvp, ["-n", "sim.vvp"], workdir, "vvp.log", "the gate-level simulation failed")
    t2 = time.monotonic()
    toggles = count_toggles(read_output(workdir / "probe.hex"), len(nets), window)
    return {"nets": nets, "toggles": toggles, "outputs": read_outputs(workdir / "outputs.txt", outs),
            "cycles": window[1] - window[0], "drivers": drivers,
            "compile_s": round(t1 - t0, 2), "sim_s": round(t2 - t1, 2)}


def _run(tool, args, workdir, log_name, what):
    """Run one Icarus step; a non-zero exit or an error line is one :class:`ToolError`
    quoting the first line of the log (``vvp`` reports some errors with exit status 0)."""
    def check(returncode, output):
        if returncode != 0 or re.search(r"\berror\b", output, re.I):
            first = next((line for line in output.splitlines() if line.strip()), "")
            raise ToolError(f"{what}: {first.strip()} (full log: {Path(workdir) / log_name})")

    run_tool(tool, args, cwd=workdir, log_name=log_name, timeout=TIME_LIMIT, check=check)


def read_outputs(path, ports):
    """Output port values the testbench wrote: ``{port: array}``, entry ``c + 1`` after cycle ``c``
    (unsigned; ``-1`` where the value was not a number)."""
    rows = [line.split() for line in read_output(path).splitlines() if line.strip()]
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


