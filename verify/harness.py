"""A multi-lane block harness around the rescaler: the simulator streams, Python checks.

Driving the rescaler from cocotb one vector per clock costs a Python round trip per
cycle, so the regression would run at a small fraction of the simulator's own
speed. The harness moves the per-cycle work into Verilog:

* :func:`harness_verilog` writes a top module ``rescaler_harness`` holding
  ``lanes`` rescalers side by side and an input memory of ``depth`` words per lane
  (one word per clock cycle and lane);
* Python writes one block of operand words as a binary file (:func:`pack_block`),
  toggles ``start``; the harness loads the file with one ``$fread``, plays the block
  (one word per cycle, every lane's ``valid`` from the file), appends every lane's
  ``y`` and ``y_valid`` of every cycle to the output file with one ``$fwrite("%z")``
  per cycle, closes it and toggles ``done``; Python reads it back
  (:func:`unpack_outputs`) and compares in numpy. One ``await`` per block, not per
  cycle.

Binary, not ``$readmemh`` text: parsing hex text was most of the simulator's time
under Verilator (a character at a time through a string), where ``$fread`` copies
bytes. The input file holds, per cycle and lane (cycle-major, lane 0 first), the
lane's word in big-endian bytes, as ``$fread`` fills a memory element: every field
of :class:`Layout` at its bit offset, the word padded to whole bytes. The output
file holds, per cycle, the ``%z`` (four-state binary) image of all lanes' output
words side by side: 32-bit groups from the least significant, each a little-endian
value word then a little-endian x/z mask word (IEEE 1364 ``%z``; Verilator, being
two-state, writes a zero mask), so an unknown output bit of a four-state simulator
is still seen. The same :class:`Layout` writes the Verilog slices and the numpy
packing: the two cannot drift apart. The plain Verilog reference testbench of the
benchmark (:func:`bench_verilog`) drives the same harness from an ``initial``
block, so the two are compared on the same design, file and memory traffic.
"""

import json
import os
from dataclasses import dataclass

import numpy as np

from hw.config import RESCALER_PIPELINE_MAX
from hw.export import RESCALER_TOP, to_verilog
from sim.ports import rescaler_inputs

from .runner import config_env, run_cocotb
from .vectors import CHUNK

__all__ = ["HARNESS_TOP", "IN_FILE", "OUT_FILE", "Field", "Layout", "input_layout", "OUTPUT_LAYOUT",
           "harness_verilog", "bench_verilog", "pack_block", "write_block", "output_bytes", "unpack_outputs",
           "valid_plan", "CLOCK_NS", "LANES", "block_depth", "run_rescaler_regression"]

#: Top-level module name of the harness.
HARNESS_TOP = "rescaler_harness"
#: Block files, relative to the simulator's working directory.
IN_FILE, OUT_FILE = "harness_in.bin", "harness_out.bin"

@dataclass(frozen=True)
class Field:
    """One field of a lane's word: ``width`` bits from bit ``offset`` of the word."""

    name: str
    width: int
    offset: int


@dataclass(frozen=True)
class Layout:
    """The fields of one lane's word, least significant first, packed bit after bit;
    the word is padded to whole bytes (a ``$fread`` memory element).

    Members
    -------
    fields : tuple of Field
    bytes : int
        Bytes per lane word (``bits = 8 * bytes``).
    """

    fields: tuple

    @classmethod
    def of(cls, widths):
        """A layout from ``(name, width)`` pairs, packed from bit 0 upwards."""
        fields, offset = [], 0
        for name, width in widths:
            fields.append(Field(name, width, offset))
            offset += width
        return cls(tuple(fields))

    @property
    def bytes(self):
        return -(-sum(field.width for field in self.fields) // 8)

    @property
    def bits(self):
        return 8 * self.bytes

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
    Cycle ``c`` of the output file holds every lane's outputs seen just before clock
    edge ``c`` of the block: ``y`` of the operands of cycle ``c - latency``. A block
    file shorter than ``cycles`` words per lane ends the simulation with a message.
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
        "  // One entry per lane and cycle (cycle-major), filled by one $fread per block.",
        "  reg [IN_BITS-1:0] in_mem [0:DEPTH*LANES-1];",
        "  reg [31:0] cycle, base;",
        "  reg running, seen;",
        "  integer in_fd, out_fd, got;",
        "  initial begin cycle = 0; base = 0; running = 0; seen = 0; done = 0; out_fd = 0; end",
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
    conns += [f".{name}(word[{layout.field(name).offset} +: {layout.field(name).width}])"
              for name in ports + ["valid"]]
    conns += [".y(y)", ".y_valid(y_valid)"]
    lines += ["      " + ",\n      ".join(conns), "    );"]
    lines += [f"    assign result[i*OUT_BITS + {lo} +: {width}] = {value};" for lo, width, value in _assigns(out)]
    lines += [
        "  end endgenerate",
        "  always @(posedge clk) begin",
        "    if (running) begin",
        '      $fwrite(out_fd, "%z", result);  // every lane, four-state binary',
        "      if (cycle == cycles - 1) begin",
        "        $fclose(out_fd);",
        "        running <= 0;",
        "        done <= ~done;",
        "      end",
        "      cycle <= cycle + 1;",
        "      base <= base + LANES;",
        "    end else if (start != seen && !rst) begin",
        "      seen <= start;",
        "      got = 0;",
        f'      in_fd = $fopen("{IN_FILE}", "rb");',
        "      if (in_fd != 0) begin",
        "        got = $fread(in_mem, in_fd, 0, cycles * LANES);",
        "        $fclose(in_fd);",
        "      end",
        f"      if (got != cycles * LANES * {layout.bytes}) begin",
        f'        $display("{HARNESS_TOP}: read %0d bytes of {IN_FILE}, expected %0d", got, '
        f'cycles * LANES * {layout.bytes});',
        "        $finish;",
        "      end",
        f'      out_fd = $fopen("{OUT_FILE}", "wb");',
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
        if field.offset > bit:
            parts.append((bit, field.offset - bit, "0"))
        parts.append((field.offset, field.width, field.name))
        bit = field.offset + field.width
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
    """The binary input file of one block (what the harness's ``$fread`` loads).

    Parameters
    ----------
    layout : Layout
    columns : dict of str to numpy.ndarray, shape (cycles, lanes)
        Unsigned port values per field (``valid`` excluded); masked to the field width.
    valid : numpy.ndarray of bool, shape (cycles, lanes)

    Returns
    -------
    bytes
        ``layout.bytes`` big-endian bytes per lane and cycle, cycle-major (lane 0 first).
    """
    valid = np.asarray(valid, dtype=bool)
    cycles, lanes = valid.shape
    if layout.bits > 128:
        raise ValueError(f"a lane's word must fit 128 bits, not {layout.bits}")
    # Each lane's word as two 64-bit limbs (high, low), fields ORed in place.
    limbs = np.zeros((cycles, lanes, 2), dtype=np.uint64)
    values = dict(columns, valid=valid)
    for field in layout.fields:
        word = np.asarray(values[field.name]).astype(np.uint64) & np.uint64((1 << field.width) - 1)
        bit = field.offset
        if bit < 64:
            limbs[:, :, 1] |= word << np.uint64(bit)
            if bit + field.width > 64:
                limbs[:, :, 0] |= word >> np.uint64(64 - bit)
        else:
            limbs[:, :, 0] |= word << np.uint64(bit - 64)
    # Big-endian: the high limb's bytes then the low limb's; keep each word's last bytes.
    octets = limbs.astype(">u8").view(np.uint8).reshape(cycles * lanes, 16)
    return octets[:, 16 - layout.bytes:].tobytes()


def write_block(path, data):
    """Replace the scratch file ``path`` with ``data`` (write then rename, no fsync: it is
    a hand-off to the simulator of the same run, not a result)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as file:
        file.write(data)
    os.replace(tmp, path)


def output_bytes(lanes, cycles):
    """Size of the output file of a block: per cycle, ``%z`` of ``lanes`` output words
    (32-bit groups, a value and an x/z mask word of 4 bytes each)."""
    return cycles * 8 * -(-lanes * OUTPUT_LAYOUT.bits // 32)


def unpack_outputs(data, lanes, cycles):
    """``(y, y_valid, y_unknown, y_valid_unknown)`` arrays of shape ``(cycles, lanes)``
    from the harness's output file: ``y`` signed; the ``*_unknown`` arrays flag x or z
    bits (read as 0 or 1 in the values: never trust a value flagged unknown)."""
    layout = OUTPUT_LAYOUT
    if len(data) != output_bytes(lanes, cycles):
        raise ValueError(f"the harness wrote {len(data)} bytes of output, expected {output_bytes(lanes, cycles)} "
                         f"({cycles} cycles of {lanes} lanes)")
    groups = -(-lanes * layout.bits // 32)
    pairs = np.frombuffer(data, dtype="<u4").reshape(cycles, groups, 2)
    words = []
    for plane in (pairs[:, :, 0], pairs[:, :, 1]):  # values, x/z masks
        octets = plane.astype("<u4").view(np.uint8).reshape(cycles, 4 * groups)[:, :lanes * layout.bytes]
        octets = octets.reshape(cycles, lanes, layout.bytes).astype(np.int64)
        words.append(sum(octets[:, :, j] << (8 * j) for j in range(layout.bytes)))
    value, mask = words
    fields, unknown = {}, {}
    for field in layout.fields:
        fields[field.name] = (value >> field.offset) & ((1 << field.width) - 1)
        unknown[field.name] = ((mask >> field.offset) & ((1 << field.width) - 1)) != 0
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
