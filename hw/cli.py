"""Command line of ``python -m hw``: export the generated hardware as Verilog or RTLIL.

::

    python -m hw verilog --k 4 --pipeline 2 -o rescaler_k4.v
    python -m hw rtlil --k 8 -o -          # RTLIL on stdout
    python -m hw verilog --k 4 --macs 8 -o engine.v              # dot-product engine
    python -m hw verilog --k 4 --macs 8 --engines 4 -o array.v   # systolic array

Every option maps onto a field of :class:`hw.config.DatapathConfig`, which
validates it (one place, one message); :func:`build` turns the config into the
top-level component and its stable module name. A new generator (dot-product
engine, systolic array) slots in by adding its options to
:func:`_add_config_arguments` and :data:`_CONFIG_FIELDS`, and a branch to
:func:`build`.

Errors are reported as one line ``error: ...`` on stderr with exit status 2 (bad
input) or 1 (generation failed); an output file is only ever replaced whole.
"""

import argparse
import dataclasses
import os
import sys
import tempfile
from typing import NamedTuple

from amaranth.hdl import ShapeCastable, Shape
from amaranth.lib import wiring

from . import export
from .config import ARCH_FIELDS, MACS_MAX, RESCALER_PIPELINE_MAX, DatapathConfig

__all__ = ["Design", "build", "main", "make_parser"]

PROG = "python -m hw"
#: Exit statuses.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

#: Command line option (argparse ``dest``) -> :class:`DatapathConfig` field.
_CONFIG_FIELDS = {
    "k": "k",
    "pipeline": "rescaler_pipeline",
    "macs": "macs",
    "engines": "engines",
    "mac_pipeline": "mac_pipeline",
    **{field: field for field in ARCH_FIELDS},
}

#: One line of help per architecture option; DatapathConfig's docstring has the detail.
_ARCH_HELP = {
    "fast_clamp": "saturate the shifted value to 10 bits before rounding and clamping "
                  "(exact for all operands)",
    "trim_shift": "shift only over s = k-1..s_max (exact when m == 0 or s >= k-1, "
                  "which the quantizer guarantees)",
    "hidden_bit": "the m port holds the k-1 bits below m's implicit leading 1 "
                  "(exact when m >= 2^(k-1))",
    "booth": "synthesize multipliers with Yosys' Booth generator (synthesis only)",
}

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
                                       act_min, act_max), `pipeline` cycles later
  y_valid     out  1             valid delayed by the latency (= pipeline)
  clk, rst    in   1             clock and synchronous active-high reset; only
                                 present when pipeline >= 1

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
                                 mac-pipeline + 1 + pipeline + (E - 1)
  clk, rst    in   1             clock and synchronous active-high reset

examples:
  python -m hw {command} --k 4 -o rescaler_k4{suffix}
  python -m hw {command} --k 8 --pipeline 3 -o -      (write to stdout)
  python -m hw {command} --k 4 --macs 8 --engines 4 -o array_k4{suffix}
"""


class Design(NamedTuple):
    """A top-level component ready for export.

    Members
    -------
    component : wiring.Component
        The elaboratable to convert.
    top : str
        Stable top-level module name.
    latency : int
        Cycles from input to output (0: combinational).
    has_clock : bool
        Whether the exported module has ``clk`` and ``rst`` ports.
    """

    component: wiring.Component
    top: str
    latency: int
    has_clock: bool


def build(config):
    """The :class:`Design` described by a validated :class:`DatapathConfig`: the
    rescaler, or with ``macs`` the dot-product engine or the systolic array
    (:func:`hw.export.datapath`)."""
    component, top = export.datapath(config)
    return Design(component=component, top=top, latency=component.latency,
                  has_clock=config.macs is not None or component.latency > 0)


class UsageError(Exception):
    """A bad command line: reported as one ``error:`` line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one ``error:`` line, not usage plus message."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _integer(text):
    """``text`` as an int if it spells one, else unchanged, so that the config's
    validation names the bad value in its own words (``not 'abc'``)."""
    try:
        return int(text, 10)
    except ValueError:
        return text


def _config_default(field):
    return {f.name: f.default for f in dataclasses.fields(DatapathConfig)}[field]


def _add_config_arguments(parser):
    group = parser.add_argument_group("datapath")
    group.add_argument(
        "--k", type=_integer, required=True, metavar="K",
        help="rescale multiplier width in bits, leading 1 included (2..32): "
             "the multiplier is 32 x K bits")
    group.add_argument(
        "--pipeline", type=_integer, default=None, metavar="P",
        help=f"registered rescaler stages, = latency in cycles (0..{RESCALER_PIPELINE_MAX}; "
             f"default {_config_default('rescaler_pipeline')}): 0 combinational, 1 registers "
             f"the output, 2 also the product, 3 also the shifted value")
    group.add_argument(
        "--macs", type=_integer, default=None, metavar="N",
        help=f"export the int8 dot-product engine with N multipliers (a power of two in "
             f"1..{MACS_MAX}; the paper's are 4, 8, 16) instead of the rescaler alone")
    group.add_argument(
        "--engines", type=_integer, default=None, metavar="E",
        help="engines of the systolic array (>= 1, default 1 = the engine alone); needs --macs")
    group.add_argument(
        "--mac-pipeline", type=_integer, default=None, metavar="P",
        help=f"registers in the multiplier/adder tree (0..log2(N)+1; default "
             f"{_config_default('mac_pipeline')}); needs --macs")
    arch = parser.add_argument_group("rescaler architecture (reports/VARIANTS.md)")
    for field in ARCH_FIELDS:
        arch.add_argument(
            f"--{field.replace('_', '-')}", dest=field, action=argparse.BooleanOptionalAction,
            default=None, help=f"{_ARCH_HELP[field]} (default {'on' if _config_default(field) else 'off'})")


def make_parser():
    """The argparse parser of ``python -m hw``."""
    parser = _Parser(
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
        _add_config_arguments(sub)
        sub.add_argument(
            "-o", "--output", default="-", metavar="FILE",
            help="output file, replaced atomically; '-' or omitted: stdout")
    return parser


def config_from_args(args):
    """The :class:`DatapathConfig` of parsed options; raises UsageError if invalid."""
    values = {field: getattr(args, dest) for dest, field in _CONFIG_FIELDS.items()
              if getattr(args, dest, None) is not None}
    try:
        return DatapathConfig(**values)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _is_special(path):
    """``path`` exists and is neither a regular file nor a directory (``/dev/stdout``, a FIFO)."""
    return os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path)


def _check_output(path):
    """Fail early, before generating anything, if ``path`` cannot be written."""
    if path == "-":
        return
    if not path:
        raise UsageError("the output file name is empty (use '-' for stdout)")
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a directory")
    if _is_special(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"cannot write {path}: permission denied")
        return
    real = os.path.realpath(path)
    directory = os.path.dirname(real)
    shown = directory if os.path.islink(path) else (os.path.dirname(path) or ".")
    if not os.path.exists(directory):
        raise UsageError(f"cannot write {path}: directory {shown} does not exist")
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {path}: {shown} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {path}: directory {shown} is not writable")


def write_atomically(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same directory
    and :func:`os.replace`, so ``path`` is either untouched or complete.

    A new file gets the permissions ``open()`` would give it, an existing file
    keeps its own; special files (``/dev/stdout``, FIFOs) are written in place."""
    if _is_special(path):
        # /dev/stdout, a FIFO, ...: never replace a special file, write into it.
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return
    path = os.path.realpath(path)  # through a symlink, replace its target
    directory = os.path.dirname(path)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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


def run(argv=None):
    """Parse ``argv``, export, and return the exit status. Raises UsageError."""
    args = make_parser().parse_args(argv)
    convert, fmt, _ = _FORMATS[args.command]
    config = config_from_args(args)
    _check_output(args.output)
    design = build(config)
    try:
        text = convert(design.component, name=design.top)
    except Exception as exc:  # toolchain missing or broken: not the user's input
        print(f"error: could not generate {fmt} for {config}: {type(exc).__name__}: "
              f"{' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_FAILURE
    if args.output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        where = "stdout"
    else:
        try:
            write_atomically(args.output, text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        where = args.output
    cycles = "cycle" if design.latency == 1 else "cycles"
    engine = "" if config.macs is None else (
        f"macs={config.macs}, engines={config.engines}, mac_pipeline={config.mac_pipeline}, ")
    print(f"wrote {fmt} module {design.top} to {where}: k={config.k}, {engine}"
          f"pipeline={config.rescaler_pipeline}, latency {design.latency} {cycles}, "
          f"ports {_ports_text(design)}", file=sys.stderr)
    return EXIT_OK


def main(argv=None):
    """Entry point: run and turn every expected failure into one ``error:`` line."""
    try:
        return run(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `python -m hw verilog --k 4 | head`: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
