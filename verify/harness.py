"""A multi-lane block harness around the rescaler: the simulator streams, Python checks.

Driving the rescaler from cocotb one vector per clock costs a Python round trip per
cycle, so the regression would run at a small fraction of the simulator's own
speed. The harness moves the per-cycle work into Verilog:

* :func:`harness_verilog` writes a top module ``rescaler_harness`` holding
  ``lanes`` rescalers side by side, an input memory and an output memory of
  ``depth`` words (one word per clock cycle, one field group per lane);
* Python writes one block of operand words as a ``$readmemh`` file
  (:func:`pack_block`), toggles ``start``; the harness reads the file, plays the
  block (one word per cycle, every lane's ``valid`` from the file), records every
  lane's ``y`` and ``y_valid`` every cycle, writes them with ``$writememh`` and
  toggles ``done``; Python reads them back (:func:`unpack_outputs`) and compares in
  numpy. One ``await`` per block, not per cycle.

The file layout is hexadecimal with every field on whole hex digits (``acc`` on
8 digits, ``m`` on ``ceil(k/4)``, ...), so packing and parsing are numpy array
operations. The same :class:`Layout` writes the Verilog slices and the numpy
digits: the two cannot drift apart. The plain Verilog reference testbench of the
benchmark (:func:`bench_verilog`) drives the same harness from an ``initial``
block, so the two are compared on the same design, file and memory traffic.
"""

import json
import os
import re
from dataclasses import dataclass

import numpy as np

from hw.config import RESCALER_PIPELINE_MAX
from hw.export import RESCALER_TOP, to_verilog
from sim.ports import rescaler_inputs

from .runner import config_env, run_cocotb
from .vectors import CHUNK

__all__ = ["HARNESS_TOP", "IN_FILE", "OUT_FILE", "Field", "Layout", "input_layout", "OUTPUT_LAYOUT",
           "harness_verilog", "bench_verilog", "pack_block", "write_block", "unpack_outputs",
           "valid_plan", "CLOCK_NS", "LANES", "block_depth", "run_rescaler_regression"]

#: Top-level module name of the harness.
HARNESS_TOP = "rescaler_harness"
#: Block files, relative to the simulator's working directory.
IN_FILE, OUT_FILE = "harness_in.hex", "harness_out.hex"

# Byte -> its two hex characters (as one uint16, in memory order).
_HEX_PAIRS = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint16)
# ASCII -> nibble; 16 marks x/z (an unknown output bit) and anything else.
_NIBBLE = np.full(256, 16, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _i
    _NIBBLE[ord(chr(_c).upper())] = _i


@dataclass(frozen=True)
class Field:
    """One field of a lane's word: ``width`` bits on ``digits`` hex digits at hex digit
    ``offset`` from the lane's least significant end."""

    name: str
    width: int
    offset: int

    @property
    def digits(self):
        return -(-self.width // 4)


@dataclass(frozen=True)
class Layout:
    """The fields of one lane's word, least significant first, each on whole hex digits.

    Members
    -------
    fields : tuple of Field
    digits : int
        Hex digits per lane (``bits = 4 * digits``).
    """

    fields: tuple

    @classmethod
    def of(cls, widths):
        """A layout from ``(name, width)`` pairs, packed from digit 0 upwards."""
        fields, offset = [], 0
        for name, width in widths:
            fields.append(Field(name, width, offset))
            offset += fields[-1].digits
        return cls(tuple(fields))

    @property
    def digits(self):
        return sum(field.digits for field in self.fields)

    @property
    def bits(self):
        return 4 * self.digits

    def field(self, name):
        return next(field for field in self.fields if field.name == name)


def input_layout(k, *, hidden_bit=False):
    """Lane layout of the input words: ``valid`` then the rescaler's data ports."""
    return Layout.of([("valid", 1)] + [(port.name, port.width) for port in rescaler_inputs(k, hidden_bit=hidden_bit)])


#: Lane layout of the output words.
OUTPUT_LAYOUT = Layout.of([("y", 8), ("y_valid", 1)])


def harness_verilog(k, *, lanes, depth, dut_top, has_clock, hidden_bit=False, clock_ns=None, reset_cycles=3):
    """Verilog of :data:`HARNESS_TOP`: ``lanes`` instances of module ``dut_top``.

    Ports: ``clk``, ``rst`` (passed to the rescalers when ``has_clock``), ``cycles``
    (the block's length, ``<= depth``), ``start`` and ``done`` (toggles: a change of
    ``start`` plays one block; ``done`` changes when its outputs are written).
    Word ``c`` of the output file holds every lane's outputs seen just before clock
    edge ``c``: ``y`` of the operands of word ``c - latency``.
    """
    layout = input_layout(k, hidden_bit=hidden_bit)
    out = OUTPUT_LAYOUT
    ports = [port.name for port in rescaler_inputs(k, hidden_bit=hidden_bit)]
    if clock_ns is None:
        lines = [f"module {HARNESS_TOP} (",
                 "    input wire clk, input wire rst, input wire start, input wire [31:0] cycles,",
                 "    output reg done",
                 ");"]
    else:  # the simulator's own clock and reset: no callback into the testbench per edge
        half = clock_ns / 2
        lines = [f"module {HARNESS_TOP} (input wire start, input wire [31:0] cycles, output reg done);",
                 "  reg clk = 0, rst = 0;",
                 f"  always #{half:g} clk = ~clk;",
                 "  // rst rises after t = 0, so that every `always @*` of the design sees a change.",
                 f"  initial begin #1 rst = 1; repeat ({reset_cycles}) @(posedge clk); rst <= 0; end"]
    lines += [
        f"  localparam LANES = {lanes}, IN_BITS = {layout.bits}, OUT_BITS = {out.bits}, DEPTH = {depth};",
        "  // One entry per lane and cycle (cycle-major): wide entries would make Verilator's",
        "  // $readmemh quadratic in the width.",
        "  reg [IN_BITS-1:0] in_mem [0:DEPTH*LANES-1];",
        "  reg [OUT_BITS-1:0] out_mem [0:DEPTH*LANES-1];",
        "  reg [31:0] cycle, base;",
        "  reg running, flushing, seen;",
        "  integer j;",
        "  initial begin cycle = 0; base = 0; running = 0; flushing = 0; seen = 0; done = 0; end",
        "  wire [LANES*OUT_BITS-1:0] result;",
        "  genvar i;",
        "  generate for (i = 0; i < LANES; i = i + 1) begin : lane",
        "    // Idle (between blocks): all zeros, valid low.",
        "    wire [IN_BITS-1:0] word = running ? in_mem[base + i] : {IN_BITS{1'b0}};",
        "    wire [7:0] y;",
        "    wire y_valid;",
        f"    {dut_top} dut (",
    ]
    conns = [".clk(clk)", ".rst(rst)"] if has_clock else []
    conns += [f".{name}(word[{4 * layout.field(name).offset} +: {layout.field(name).width}])"
              for name in ports + ["valid"]]
    conns += [".y(y)", ".y_valid(y_valid)"]
    lines += ["      " + ",\n      ".join(conns), "    );"]
    lines += [f"    assign result[i*OUT_BITS + {lo} +: {width}] = {value};" for lo, width, value in _assigns(out)]
    lines += [
        "  end endgenerate",
        "  always @(posedge clk) begin",
        "    if (flushing) begin",
        f'      $writememh("{OUT_FILE}", out_mem, 0, cycles * LANES - 1);',
        "      flushing <= 0;",
        "      done <= ~done;",
        "    end else if (running) begin",
        "      // Blocking: a non-blocking write to a memory element makes Verilator copy",
        "      // the whole memory every cycle; only $writememh reads it, cycles later.",
        "      for (j = 0; j < LANES; j = j + 1) out_mem[base + j] = result[j*OUT_BITS +: OUT_BITS];",
        "      if (cycle == cycles - 1) begin running <= 0; flushing <= 1; end",
        "      cycle <= cycle + 1;",
        "      base <= base + LANES;",
        "    end else if (start != seen && !rst) begin",
        "      seen <= start;",
        f'      $readmemh("{IN_FILE}", in_mem, 0, cycles * LANES - 1);',
        "      cycle <= 0;",
        "      base <= 0;",
        "      running <= 1;",
        "    end",
        "  end",
        "endmodule",
        "",
    ]
    return "\n".join(lines)


def _assigns(layout):
    """``(low bit, width, value)`` of every field of a lane's word and of the zero gaps."""
    parts, bit = [], 0
    for field in layout.fields:
        if 4 * field.offset > bit:
            parts.append((bit, 4 * field.offset - bit, "0"))
        parts.append((4 * field.offset, field.width, field.name))
        bit = 4 * field.offset + field.width
    if layout.bits > bit:
        parts.append((bit, layout.bits - bit, "0"))
    return parts


def bench_verilog(*, cycles, blocks, reset_cycles=3, half_period_ns=5):
    """A plain Verilog testbench ``harness_bench``: clock, reset, then ``blocks`` blocks
    of ``cycles`` cycles through :data:`HARNESS_TOP` (re-reading the same input file),
    checking nothing: the simulator's own speed on the harness, for the benchmark."""
    return "\n".join([
        "`timescale 1ns/1ps",
        "module harness_bench;",
        "  reg clk = 0, rst = 0, start = 0;",
        "  wire done;",
        f"  {HARNESS_TOP} h (.clk(clk), .rst(rst), .start(start), .cycles({cycles}), .done(done));",
        f"  always #{half_period_ns} clk = ~clk;",
        "  integer b;",
        "  initial begin",
        "    #1 rst = 1;  // after t = 0, so that every `always @*` of the design sees a change",
        f"    repeat ({reset_cycles}) @(posedge clk);",
        "    rst = 0;",
        f"    for (b = 0; b < {blocks}; b = b + 1) begin",
        "      start = ~start;",
        "      @(done);",
        "    end",
        "    $finish;",
        "  end",
        "endmodule",
        "",
    ])


def pack_block(layout, columns, valid):
    """The ``$readmemh`` text of one block.

    Parameters
    ----------
    layout : Layout
    columns : dict of str to numpy.ndarray, shape (cycles, lanes)
        Unsigned port values per field (``valid`` excluded); masked to the field width.
    valid : numpy.ndarray of bool, shape (cycles, lanes)

    Returns
    -------
    bytes
        One line per lane and cycle, cycle-major (lane 0 first).
    """
    valid = np.asarray(valid, dtype=bool)
    cycles, lanes = valid.shape
    if layout.digits > 32:
        raise ValueError(f"a lane's word must fit 128 bits, not {layout.bits}")
    # Each lane's word as two 64-bit limbs (high, low), fields ORed in place.
    limbs = np.zeros((cycles, lanes, 2), dtype=np.uint64)
    values = dict(columns, valid=valid)
    for field in layout.fields:
        word = np.asarray(values[field.name]).astype(np.uint64) & np.uint64((1 << field.width) - 1)
        bit = 4 * field.offset
        if bit < 64:
            limbs[:, :, 1] |= word << np.uint64(bit)
            if bit + field.width > 64:
                limbs[:, :, 0] |= word >> np.uint64(64 - bit)
        else:
            limbs[:, :, 0] |= word << np.uint64(bit - 64)
    # Big-endian bytes, two hex characters per byte; keep each word's last `digits`.
    chars = np.take(_HEX_PAIRS, limbs.astype(">u8").view(np.uint8)).view(np.uint8)
    lines = np.empty((cycles * lanes, layout.digits + 1), dtype=np.uint8)
    lines[:, :-1] = chars.reshape(cycles * lanes, 32)[:, 32 - layout.digits:]
    lines[:, -1] = ord("\n")
    return lines.tobytes()


def write_block(path, data):
    """Replace the scratch file ``path`` with ``data`` (write then rename, no fsync: it is
    a hand-off to the simulator of the same run, not a result)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as file:
        file.write(data)
    os.replace(tmp, path)


def unpack_outputs(data, lanes, cycles):
    """``(y, y_valid, y_unknown, y_valid_unknown)`` arrays of shape ``(cycles, lanes)``
    from a ``$writememh`` file: ``y`` signed; the ``*_unknown`` arrays flag x or z bits
    (read as 0 in the values)."""
    layout = OUTPUT_LAYOUT
    if b"/" in data:  # address comments ("// 0x00000010"), which Icarus writes now and then
        data = re.sub(rb"//[^\n]*\n", b"", data)
    width = layout.digits
    raw = np.frombuffer(data, dtype=np.uint8)
    if len(raw) != cycles * lanes * (width + 1) or np.any(raw[width::width + 1] != ord("\n")):
        lines = data.count(b"\n")
        raise ValueError(f"the harness wrote {lines} lines of output, expected {cycles * lanes} "
                         f"lines of {width} hex digits")
    nibbles = _NIBBLE[raw.reshape(cycles, lanes, width + 1)[:, :, :-1]]
    fields, unknown = {}, {}
    for field in layout.fields:
        value = np.zeros((cycles, lanes), dtype=np.int64)
        low = layout.digits - field.offset
        digits = nibbles[:, :, low - field.digits:low]
        unknown[field.name] = (digits == 16).any(axis=2)
        for j in range(field.digits):
            value |= (digits[:, :, field.digits - 1 - j].astype(np.int64) & 15) << (4 * j)
        fields[field.name] = value & ((1 << field.width) - 1)
    y = fields["y"] - ((fields["y"] >> 7) << 8)
    return y, fields["y_valid"].astype(bool), unknown["y"], unknown["y_valid"]


def valid_plan(n, lanes, bubble_rate, rng):
    """Where ``n`` vectors go in a block: a ``(cycles, lanes)`` boolean mask with ``n``
    true slots, filled in row-major order (cycle by cycle, lane 0 first).

    With ``bubble_rate`` 0 every slot is valid (the last cycle may be partly idle);
    otherwise each slot is idle with that probability, independently per lane.
    """
    if bubble_rate <= 0:
        cycles = -(-n // lanes)
        mask = np.zeros(cycles * lanes, dtype=bool)
        mask[:n] = True
        return mask.reshape(cycles, lanes)
    cycles = int(np.ceil(n / (lanes * (1 - bubble_rate)) * 1.2)) + 8
    while True:
        mask = rng.random((cycles, lanes)) >= bubble_rate
        filled = np.cumsum(mask.reshape(-1))
        if filled[-1] >= n:
            break
        cycles *= 2
    last = int(np.searchsorted(filled, n))  # index of the n-th valid slot
    flat = mask.reshape(-1)
    flat[last + 1:] = False
    return flat.reshape(cycles, lanes)[: last // lanes + 1]


#: Clock period (ns) of the harness and of every testbench.
CLOCK_NS = 10
#: Lanes per simulator. Icarus pays per lane evaluated, so a few lanes amortize its
#: per-cycle costs; Verilator pays mostly per cycle and per block: wide.
LANES = {"icarus": 16, "verilator": 64}


def block_depth(lanes):
    """Cycles per block: a whole :data:`verify.vectors.CHUNK` of vectors, also with one
    lane-slot in two idle (bubbles), plus the deepest pipeline's drain."""
    return 2 * CHUNK // lanes + RESCALER_PIPELINE_MAX + 1


def run_rescaler_regression(component, config, *, build_name, n_random=None, sim=None, lanes=None,
                            depth=None, testcase=None, echo=True):
    """Run the cocotb rescaler regression (``verify/testbenches/rescaler_tb.py``) on
    ``component`` inside the harness, in ``build/cocotb/<build_name>/``.

    ``config`` is the :class:`hw.config.DatapathConfig` the testbench assumes (``k``,
    latency, operand contract); ``component`` is usually ``Rescaler.from_config(config)``
    but may be any design with the rescaler's ports (a deliberately broken one).
    ``n_random`` sets ``N_RANDOM`` (the shell's ``N_RANDOM`` wins when set);
    ``lanes`` defaults to :data:`LANES` of the simulator, ``depth`` to
    :func:`block_depth`. Returns
    :class:`verify.runner.CocotbResult`; raises what :func:`verify.runner.run_cocotb` raises.
    """
    sim = (sim or os.environ.get("SIM") or "icarus").lower()
    lanes = lanes or LANES.get(sim, LANES["icarus"])
    depth = depth or block_depth(lanes)
    clock = "internal" if sim == "icarus" else "external"

    def verilog():
        return (to_verilog(component, name=RESCALER_TOP) + "\n"
                + harness_verilog(config.k, lanes=lanes, depth=depth, dut_top=RESCALER_TOP,
                                  has_clock=config.rescaler_pipeline > 0, hidden_bit=config.hidden_bit,
                                  clock_ns=CLOCK_NS if clock == "internal" else None))

    env = dict(config_env(config), HARNESS=json.dumps({"lanes": lanes, "depth": depth, "clock": clock}))
    return run_cocotb(verilog=verilog, toplevel=HARNESS_TOP, test_module="rescaler_tb", build_name=build_name,
                      env=env, defaults={} if n_random is None else {"N_RANDOM": n_random}, sim=sim,
                      testcase=testcase, echo=echo, verilator_public_depth=1)
