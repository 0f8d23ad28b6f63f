"""Command line of ``python -m hw``: export the generated hardware as Verilog or RTLIL.

::

    python -m hw verilog --k 4 --rescaler-pipeline 2 -o rescaler_k4.v
    python -m hw rtlil --k 8 -o -          # RTLIL on stdout
    python -m hw verilog --k 4 --macs 8 -o engine.v              # dot-product engine
    python -m hw verilog --k 4 --macs 8 --engines 4 -o array.v   # systolic array
    python -m hw name --k 4 --macs 8                             # k4_macs8

Every option maps onto the field of :class:`hw.config.DatapathConfig` of the same
name (:mod:`hw.options`), which validates it; :func:`hw.export.datapath` turns the
config into the top-level component and its stable module name.

Errors are reported as one line ``error: ...`` on stderr with exit status 2 (bad
input) or 1 (generation failed), by :func:`toolkit.cli.main`; an output file is
only ever replaced whole.
"""

import argparse
import sys

from amaranth.hdl import ShapeCastable, Shape
from amaranth.lib import wiring

from toolkit import cli, files

from . import export
from .options import add_config_arguments, config_from_args

__all__ = ["main", "make_parser"]

PROG = "python -m hw"

_FORMATS = {
    # command: (converter, human name, usual file suffix)
    "verilog": (export.to_verilog, "Verilog", ".v"),
    "rtlil": (export.to_rtlil, "RTLIL", ".il"),
}

_PORTS_HELP = """\
ports of module `rescaler` (widths in bits; Verilog ports are plain vectors,
signedness is by convention):
  acc         in   signed 32     accumulator, sum x*w + b_eff
  m           in   unsigned k    multiplier, M = m * 2^-s
  s           in   unsigned      right shift, 0..32+k-8, bit_length(32+k-8) bits
  zero_point  in   signed 8      output zero point, added after rounding
  act_min     in   signed 8      lower saturation bound (act_min <= act_max)
  act_max     in   signed 8      upper saturation bound
  valid       in   1             operands valid this cycle (no back-pressure)
  y           out  signed 8      clamp(floor((acc*m + 2^(s-1)) / 2^s) + zero_point,
                                       act_min, act_max), rescaler-pipeline cycles later
  y_valid     out  1             valid delayed by the latency (= rescaler-pipeline)
  clk, rst    in   1             clock and synchronous active-high reset; only
                                 present when rescaler-pipeline >= 1

with --macs N: module `engine` (--engines 1) or `array` (E = --engines > 1);
lane i of a packed port is bits [w*i+w-1 : w*i]:
  x           in   8*N           activations of the beat (N int8 lanes), shared
  w           in   8*N*E         weights (engine e, lane i: lane e*N+i)
  bias        in   32*E          int32 b_eff per engine, sampled on `first`
  m, s        in   k*E, ..*E     rescale operands per engine, sampled on `last`
  zero_point, act_min, act_max
              in   8*E           output zero points and clamps, sampled on `last`
  valid       in   1             a beat is on the inputs (no back-pressure)
  first, last in   1             first / last beat of an output channel (group)
  y           out  8*E           int8 outputs, one lane per engine
  y_valid     out  1             `latency` cycles after the `last` beat:
                                 mac-pipeline + 1 + rescaler-pipeline + (E - 1)
  clk, rst    in   1             clock and synchronous active-high reset
with --pre-skew (E > 1): lane e of w, bias, m, s, zero_point, act_min, act_max
comes e cycles after the beat's x (the caller skews them; bubbles count), so the
array holds no operand delay registers; y, y_valid and the latency are unchanged

examples:
  python -m hw {command} --k 4 -o rescaler_k4{suffix}
  python -m hw {command} --k 8 --rescaler-pipeline 3 -o -      (write to stdout)
  python -m hw {command} --k 4 --macs 8 --engines 4 -o array_k4{suffix}
  python -m hw {command} --k 4 --macs 8 --engines 4 --pre-skew -o array_k4_pre_skew{suffix}
"""


def make_parser():
    """The argparse parser of ``python -m hw``."""
    parser = cli.Parser(
        prog=PROG,
        description="Generate the k-bit rescaler, the int8 dot-product engine or the systolic "
                    "array as Verilog or RTLIL.",
        epilog=f"Run '{PROG} COMMAND --help' for the options and ports.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command, (_, fmt, suffix) in _FORMATS.items():
        sub = commands.add_parser(
            command, help=f"write the rescaler (or engine, array) as {fmt}",
            description=f"Write the rescaler as {fmt}, top module `{export.RESCALER_TOP}`; with "
                        f"--macs the dot-product engine (`{export.ENGINE_TOP}`) or, with --engines "
                        f"> 1, the systolic array (`{export.ARRAY_TOP}`).",
            epilog=_PORTS_HELP.format(command=command, suffix=suffix),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        add_config_arguments(sub)
        sub.add_argument(
            "-o", "--output", default="-", metavar="FILE",
            help="output file, replaced atomically; '-' or omitted: stdout")
    name = commands.add_parser(
        "name", help="print the configuration's file-name stem (e.g. k4_macs8)",
        description="Print DatapathConfig.name: the stem every report and file of this "
                    "configuration is named by.")
    add_config_arguments(name)
    return parser


def _shape_text(shape):
    if isinstance(shape, ShapeCastable):
        shape = shape.as_shape()
    shape = Shape.cast(shape)
    if shape.width == 1 and not shape.signed:
        return "1"
    return f"{'s' if shape.signed else 'u'}{shape.width}"


def _ports_text(design):
    inputs, outputs = [], []
    for name, member in design.component.signature.members.items():
        if not member.is_port:
            continue
        entry = f"{name}:{_shape_text(member.shape)}"
        (inputs if member.flow == wiring.In else outputs).append(entry)
    text = f"in {' '.join(inputs)}; out {' '.join(outputs)}"
    return text + ("; clk rst" if design.has_clock else "; no clock")


def run_export(args):
    """Export the design of ``args`` in the format of ``args.command``; the exit status."""
    convert, fmt, _ = _FORMATS[args.command]
    config = config_from_args(args)
    files.check_output(args.output)
    design = export.datapath(config)
    try:
        text = convert(design.component, name=design.top)
    except Exception as exc:  # toolchain missing or broken: not the user's input
        print(f"error: could not generate {fmt} for {config}: {type(exc).__name__}: "
              f"{' '.join(str(exc).split())}", file=sys.stderr)
        return cli.EXIT_FAILURE
    if args.output == "-":
        if sys.stdout is None:  # started with stdout closed (`>&-`)
            raise cli.UsageError("standard output is closed: give -o FILE")
        sys.stdout.write(text)
        sys.stdout.flush()
        where = "stdout"
    else:
        files.write_atomically(args.output, text)
        where = args.output
    cycles = "cycle" if design.latency == 1 else "cycles"
    engine = "" if config.macs is None else (
        f"macs={config.macs}, engines={config.engines}{' (pre-skewed)' * config.pre_skew}, "
        f"mac_pipeline={config.mac_pipeline}, ")
    print(f"wrote {fmt} module {design.top} to {where}: k={config.k}, {engine}"
          f"rescaler_pipeline={config.rescaler_pipeline}, latency {design.latency} {cycles}, "
          f"ports {_ports_text(design)}", file=sys.stderr)
    return cli.EXIT_OK


def run_name(args):
    """Print the configuration's :attr:`~hw.config.DatapathConfig.name`."""
    print(config_from_args(args).name)
    return cli.EXIT_OK


def main(argv=None):
    """Entry point: every expected failure is one ``error:`` line (:func:`toolkit.cli.main`)."""
    return cli.main(make_parser(), {**dict.fromkeys(_FORMATS, run_export), "name": run_name}, argv)
