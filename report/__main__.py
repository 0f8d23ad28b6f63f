"""Command line of ``python -m report``: the study's figures and REPORT.md from published JSON.

::

    python -m report plot                    # figures of the sweep (make plots)
    python -m report report --publish        # figures + reports/REPORT.md (make report)
    python -m report report --sweep FILE     # one sweep JSON as it is

Both read ``<ROOT>/sweep_<flow>.json``: ROOT is ``build/reports`` (the committed
``reports/`` sweep is read while ROOT has none of its own), or ``reports`` with
``--publish``. Nothing is synthesized, placed or simulated: a point of the
default grid that the sweep lacks is listed with the ``make sweep`` command that
makes it. Every bad input ends in one ``error:`` line before anything is drawn
or written (:func:`toolkit.cli.main`).
"""

import sys
from pathlib import Path

from costmodel.published import DEFAULT_K, DEFAULT_MACS, default_flow, is_fpga, load_sweep
from toolkit import cli, files

from .asic_section import SweepFiguresSection, SweepSection, trend
from .fpga_section import FpgaSection
from .silicon_numbers import load as load_points
from .study import asic_study, fpga_study, missing_note
from .sweep_rows import load_model, missing_points

PROG = "python -m report"


def _add_sweep_arguments(parser):
    parser.add_argument("--flow", default=None, metavar="FLOW",
                        help="the sweep <ROOT>/sweep_<FLOW>.json (default: liberty when the OSU cells are "
                             "installed, else generic; an FPGA flow, e.g. ecp5, gives its report alone)")
    parser.add_argument("--sweep", type=Path, default=None, metavar="FILE",
                        help="draw this sweep JSON as it is instead")
    parser.add_argument("--figures", type=Path, default=None, metavar="DIR",
                        help="figure directory (default <ROOT>/figures/<flow>)")
    cli.add_publish_argument(parser)


def make_parser():
    parser = cli.Parser(prog=PROG, description="The study's figures and report, from the published sweep, "
                                               "point reports and proof table; never running a tool.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    roots = (f"ROOT is {cli.RUNS_DIR} (ignored by git; the committed {cli.STUDY_DIR}/sweep_<flow>.json is read "
             f"while it has no sweep of its own), or {cli.STUDY_DIR} with --publish.")
    plot = commands.add_parser(
        "plot", help="draw the area-delay figures of a sweep, against the paper",
        description=f"Draw the figures (PNG and SVG in <ROOT>/figures/<flow>/) of <ROOT>/sweep_<flow>.json. {roots}")
    _add_sweep_arguments(plot)
    report = commands.add_parser(
        "report", help="write REPORT.md and draw its figures",
        description="Write <ROOT>/REPORT.md (an FPGA flow: REPORT_<flow>.md) and draw its figures from "
                    "<ROOT>/sweep_<flow>.json, the FPGA sweeps next to it, the netlist = RTL table and the "
                    f"published energy and layout points. {roots}")
    _add_sweep_arguments(report)
    report.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="report file (default <ROOT>/REPORT.md)")
    report.add_argument("--points", type=Path, default=None, metavar="DIR",
                        help="where the energy and layout section reads the published point reports "
                             "(DIR/synth/*.json, DIR/energy_beats.json): default ROOT, or "
                             f"{cli.STUDY_DIR} while ROOT holds none (liberty reports only)")
    return parser


def _sweep(args):
    """``(path, document, missing)``: the sweep to draw, validated, and the points of
    the default grid it lacks (none for a ``--sweep`` file, drawn as it is)."""
    with cli.usage_errors():
        if args.sweep is not None:
            path, missing = args.sweep, []
            document = load_sweep(path)
        else:
            flow = args.flow or default_flow()
            path = cli.reports_dir(args.publish) / f"sweep_{flow}.json"
            if not path.exists() and not args.publish:
                path = cli.STUDY_DIR / path.name  # the committed study, until the user sweeps
            if not path.exists():
                raise ValueError(f"{path} does not exist: run 'make sweep FLOW={flow}"
                                 f"{' PUBLISH=1' * args.publish}' first")
            document = load_sweep(path)
            missing = missing_points(document, DEFAULT_K, DEFAULT_MACS)
        if args.flow and document["flow"] != args.flow:
            raise ValueError(f"{path} is a {document['flow']} sweep, not {args.flow}")
    note = missing and missing_note(path, missing, f"make sweep FLOW={document['flow']}"
                                                   + " PUBLISH=1" * args.publish)
    return path, document, note or None


def _figures_dir(args, document):
    figures = args.figures or cli.reports_dir(args.publish) / "figures" / document["flow"]
    files.check_output_dir(figures)
    return figures


def _print_drawn(section, names):
    print(f"figures   {section.figures_dir}/{{{','.join(names)}}}.png/.svg ({section.about})")


def run_plot(args):
    path, document, missing = _sweep(args)
    figures = _figures_dir(args, document)
    if is_fpga(document):
        section = FpgaSection(document, path, figures)
    else:
        with cli.usage_errors():
            model, note = load_model(document)
        if note:
            print(f"note: {note}: no model figure")
        section = SweepFiguresSection(SweepSection(document, path, model=model, model_note=note), figures)
    _print_drawn(section, section.draw())
    if missing:
        print(f"note: {missing}")
    return 0


def _silicon(args, document):
    """The published energy and layout points of the report's section (liberty sweeps
    only; None otherwise), read from --points, else the reports root while it holds
    any, else the committed study."""
    if document["flow"] != "liberty":
        return None
    with cli.usage_errors():
        if args.points is not None:
            if not args.points.is_dir():
                raise ValueError(f"--points {args.points} is not a directory (it should hold synth/*.json "
                                 "and energy_beats.json)")
            return load_points(args.points)
        points = load_points(cli.reports_dir(args.publish))
        if points.energy or points.layout or points.beats is not None or args.publish:
            return points
        return load_points(cli.STUDY_DIR)


def run_report(args):
    path, document, missing = _sweep(args)
    flow, fpga = document["flow"], is_fpga(document)
    out = args.out or cli.reports_dir(args.publish) / ("REPORT.md" if not fpga else f"REPORT_{flow}.md")
    files.check_output(out, parents=True, inputs=[path])
    figures = _figures_dir(args, document)
    command = f"{PROG} report --flow {flow}"
    commands = ([f"{command} --sweep {path}"] if args.sweep else
                [f"make report FLOW={flow}", f"{command} --publish"] if args.publish else [command])
    with cli.usage_errors():
        if fpga:
            study = fpga_study(path, figures_dir=figures, commands=commands, missing=missing)
        else:
            study = asic_study(path, figures_dir=figures, commands=commands, silicon=_silicon(args, document),
                               missing=missing)
    for section in study.sections:
        if section.figures:
            files.check_output_dir(section.figures_dir)
    for section, names in study.draw():
        _print_drawn(section, names)
    if not fpga:
        print(trend(document).replace("**", ""))
    out.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(out, study.text(report_dir=out.parent))
    if missing:
        print(f"note: {missing}")
    print(f"report    {out}")
    return 0


_COMMANDS = {"plot": run_plot, "report": run_report}


def main(argv=None):
    return cli.main(make_parser(), _COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
