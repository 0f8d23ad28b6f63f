"""Command line of ``python -m verify``: the formal proofs.

::

    python -m verify formal                       # make formal: every variant, k = 2..32, depths, a netlist
    python -m verify formal --k 4,8 --no-netlist
    python -m verify formal-netlist --k 3,4 --macs 4   # make formal-netlist: sweep points' netlists

Every bad input or missing tool ends in one ``error:`` line and exit status 2
(:func:`toolkit.cli.main`); a proof that finds a counterexample ends with status 1.
"""

import json
import sys
from pathlib import Path

from hw.config import MACS_MAX
from hw.variants import VARIANTS
from sim.golden import K_MAX, K_MIN
from toolkit import cli, files

from . import sweep_netlists, variant_proofs
from .rescaler_proof import PIPELINES

PROG = "python -m verify"
#: The liberty sweep whose points ``formal-netlist`` proves (and whose library both commands use).
SWEEP_NAME = "sweep_liberty.json"


def _add_lib_argument(parser):
    parser.add_argument("--lib", type=Path, default=None, metavar="FILE.lib",
                        help=f"liberty file of the netlists (default: the library of the liberty sweep, "
                             f"{cli.RUNS_DIR}/{SWEEP_NAME} or {cli.STUDY_DIR}/{SWEEP_NAME})")


def make_parser():
    parser = cli.Parser(prog=PROG, description="Prove the generated hardware correct: the rescaler "
                                               "variants against Eq. (1), synthesized netlists against their RTL.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _formal_parser(commands)
    _formal_netlist_parser(commands)
    return parser


def _formal_parser(commands):
    formal = commands.add_parser(
        "formal", help="prove every rescaler variant equal to Eq. (1) (Yosys SAT), and a netlist to its RTL",
        description="Prove every named rescaler variant (hw/variants.py, combinational) equal to an "
                    "independent reference of Eq. (1) for all legal operands and every pipeline depth a "
                    "pure delay of it; then, within a budget, the liberty netlists of one variant at the "
                    "smallest k equal to its RTL.")
    formal.add_argument("--k", default=f"{K_MIN}..{K_MAX}", metavar="LIST",
                        help=f"k values: a list and/or ranges, e.g. 4,8 or 2..32 (default {K_MIN}..{K_MAX})")
    formal.add_argument("--pipelines", default=",".join(map(str, PIPELINES)), metavar="LIST",
                        help="pipeline depths proved to only delay the result, 'none' for the combinational "
                             f"proofs only (default {','.join(map(str, PIPELINES))})")
    formal.add_argument("--variants", default=",".join(VARIANTS), metavar="LIST",
                        help="comma-separated variant names (default: every one)")
    formal.add_argument("-j", "--jobs", type=cli.integer, default=2, metavar="N", help="proofs at once (default 2)")
    formal.add_argument("--no-netlist", action="store_true", help="skip the netlist step")
    formal.add_argument("--no-skew", action="store_true",
                        help="skip the pre-skew step (the pre-skewed arrays proved equal to the aligned ones)")
    formal.add_argument("--netlist-budget", type=float, default=variant_proofs.NETLIST_BUDGET_S, metavar="S",
                        help="wall-time budget of the netlist step in seconds (default "
                             f"{variant_proofs.NETLIST_BUDGET_S:g}); past it the step says 'not proved within budget'")
    _add_lib_argument(formal)
    formal.add_argument("--yosys", default=None, metavar="PATH",
                        help="Yosys for the variant proofs (default /usr/bin/yosys if present)")


def _formal_netlist_parser(commands):
    netlists = commands.add_parser(
        "formal-netlist", help="prove each sweep point's liberty netlist equal to its RTL (ABC)",
        description="Synthesize each (k, MACS) engine with the liberty flow (the netlist the sweep "
                    "reports) and prove it equal to its RTL in checks small enough for ABC: mapping, "
                    "synthesis, adder merge, multiplier lemmas. Writes <DIR>/formal_netlist.json and .md "
                    f"(default {cli.RUNS_DIR}; with --publish {cli.STUDY_DIR}).")
    netlists.add_argument("--k", default=None, metavar="LIST", help="k values (default: the liberty sweep's)")
    netlists.add_argument("--macs", default=None, metavar="LIST", help="MACS values (default: the liberty sweep's)")
    netlists.add_argument("--budget", type=float, default=600.0, metavar="S",
                          help="wall-time budget of each point's checks in seconds, synthesis not counted "
                               "(default 600)")
    netlists.add_argument("--mul-budget", type=float, default=600.0, metavar="S",
                          help="wall-time budget per multiplier lemma in seconds (default 600)")
    netlists.add_argument("-j", "--jobs", type=cli.integer, default=1, metavar="N",
                          help="points at once (default 1)")
    netlists.add_argument("--operand-isolation", action="store_true",
                          help="the engines with operand isolation (hw.config.DatapathConfig); writes "
                               "formal_netlist_isolated.json and .md")
    _add_lib_argument(netlists)
    cli.add_publish_argument(netlists)


def _sweep(publish):
    """``(path, document)`` of the liberty sweep (the user's, else the committed one),
    or ``(None, None)`` when there is none; a damaged one is a UsageError naming it."""
    path = next((p for p in (cli.reports_dir(publish) / SWEEP_NAME, cli.STUDY_DIR / SWEEP_NAME) if p.is_file()),
                None)
    if path is None:
        return None, None
    try:
        document = json.loads(path.read_text())
        if not all(isinstance(p["config"]["k"], int) and isinstance(p["config"]["macs"], int)
                   for p in document["points"]) or not isinstance(document["library"]["path"], str):
            raise TypeError("a point's k or macs, or the library path, has the wrong type")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise cli.UsageError(f"{path} is not a readable liberty sweep ({type(exc).__name__}: {exc}): "
                             "re-create it with 'make sweep FLOW=liberty'") from None
    return path, document


def _liberty(args, sweep):
    """The liberty file: ``--lib``, else the sweep's library; a UsageError when neither is there."""
    path = args.lib or (Path(sweep["library"]["path"]) if sweep else None)
    if path is None:
        raise cli.UsageError(f"no liberty sweep ({SWEEP_NAME}) names a library: give --lib FILE.lib")
    if not path.is_file():
        raise cli.UsageError(f"liberty file {path} does not exist: install Debian's qflow-tech-osu018 "
                             "or give --lib FILE.lib (make: LIB=)")
    return path


def _list(text, name, lo, hi):
    with cli.usage_errors():
        return cli.parse_int_list(text, name, lo, hi)


def _positive(value, name):
    if not 0 < value < 1e6:
        raise cli.UsageError(f"{name} must be a positive number of seconds, not {value:g}")


def _jobs(jobs):
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise cli.UsageError(f"-j must be an integer >= 1, not {jobs}")
    return jobs


def run_formal(args):
    ks = _list(args.k, "k", K_MIN, K_MAX)
    pipelines = () if args.pipelines == "none" else _list(args.pipelines, "pipelines", min(PIPELINES),
                                                          max(PIPELINES))
    names = args.variants.split(",")
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        raise cli.UsageError(f"unknown variant {unknown[0]!r}: one of {', '.join(VARIANTS)}")
    _positive(args.netlist_budget, "--netlist-budget")
    liberty = None if args.no_netlist else _liberty(args, _sweep(False)[1])
    return variant_proofs.run(ks, names, pipelines=pipelines, netlist=not args.no_netlist,
                              netlist_budget_s=args.netlist_budget, liberty=liberty, yosys=args.yosys,
                              jobs=_jobs(args.jobs), skew=not args.no_skew)


def run_formal_netlist(args):
    sweep_path, sweep = _sweep(args.publish)
    grid = {name: sorted({p["config"][name] for p in sweep["points"]}) if sweep else None for name in ("k", "macs")}
    lists = {}
    for name, lo, hi in (("k", K_MIN, K_MAX), ("macs", 1, MACS_MAX)):
        text = getattr(args, name)
        if text is None and not grid[name]:
            raise cli.UsageError(f"no liberty sweep ({SWEEP_NAME}) to take the points from: give --k and --macs")
        lists[name] = grid[name] if text is None else _list(text, name, lo, hi)
    _positive(args.budget, "--budget")
    _positive(args.mul_budget, "--mul-budget")
    jobs = _jobs(args.jobs)
    liberty = _liberty(args, sweep)
    files.check_output_dir(cli.reports_dir(args.publish))
    document = sweep_netlists.run(lists["k"], lists["macs"], liberty=liberty, budget_s=args.budget,
                                  mul_budget_s=args.mul_budget, jobs=jobs, out_dir=cli.reports_dir(args.publish),
                                  sweep=sweep, sweep_path=sweep_path, operand_isolation=args.operand_isolation)
    return 1 if any(row["status"] == "FAILED" for row in document["points"]) else 0


_COMMANDS = {"formal": run_formal, "formal-netlist": run_formal_netlist}


def main(argv=None):
    return cli.main(make_parser(), _COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
