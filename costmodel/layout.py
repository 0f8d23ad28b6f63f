"""The layout flow's report fields: place and route (:mod:`eda.qflow`), post-route
timing with the routed parasitics (:mod:`eda.sta`), the DRC count.

:func:`layout_result` turns the netlist a liberty synthesis left into the fields
:func:`costmodel.synth.run` puts in the report of ``--flow layout``;
:func:`format_lines` prints them.
"""

import time
from pathlib import Path

from eda import qflow, sta as opensta

__all__ = ["layout_result", "format_lines"]


def layout_result(synthesized, *, workdir, liberty, utilization, clock_ns, sta, progress=None):
    """Place and route the netlist a liberty synthesis left in ``workdir`` (its
    ``netlist.v``) and return the report fields of the layout flow.

    ``area`` becomes the core area and ``delay`` the post-route critical path with
    qrouter's parasitics (ideal clock); ``layout`` holds the fields of
    :func:`eda.qflow.place_and_route`, ``pre_route`` and ``post_route``
    (:func:`eda.sta.clock_paths` of the routed netlist without and with its
    parasitics), ``drc_errors`` (magic runs on every layout) and the synthesized
    figures (``synthesized_cell_area_um2``, ``synthesized_delay_ns``).
    ``progress`` is called with a line as each long step starts.
    """
    say = progress or (lambda line: None)
    routed = qflow.place_and_route(Path(workdir) / "netlist.v", liberty=liberty, utilization=utilization,
                                   workdir=Path(workdir) / "pnr", progress=progress)
    pnr, wall = dict(routed.fields), dict(routed.fields["wall_s"])
    workdir = routed.netlist.parent
    say("OpenSTA: timing before and after routing, with the routed parasitics")
    t0 = time.monotonic()
    for timing, spef in (("pre_route", None), ("post_route", routed.spef)):
        pnr[timing] = opensta.clock_paths(routed.netlist, liberty=routed.tech.liberty, top="top",
                                          clock_ns=clock_ns, workdir=workdir, sta=sta, spef=spef)
        pnr[timing].pop("report")  # a file in the scratch directory, removed after the run
    wall["sta"] = round(time.monotonic() - t0, 1)
    say("qflow migrate and drc: magic counts the design-rule violations")
    t0 = time.monotonic()
    pnr["drc_errors"] = qflow.drc(tech=routed.tech, top="top", workdir=workdir)
    wall["migrate_drc"] = round(time.monotonic() - t0, 1)
    pnr.update(wall_s=wall, synthesized_cell_area_um2=synthesized["area"],
               synthesized_delay_ns=synthesized["delay"])
    return {"area": pnr["core_area_um2"], "area_unit": "um^2",
            "breakdown_note": synthesized["breakdown_note"] + "; the report's area is the routed core area",
            "delay": pnr["post_route"]["delay_ns"], "delay_unit": "ns",
            "delay_source": "opensta post-route: qrouter parasitics (SPEF), ideal clock",
            "layout": pnr}


def format_lines(pnr):
    """Lines of the layout flow for :func:`costmodel.synth.format_table`."""
    w, h = pnr["die_um"]
    drc = "not run" if pnr["drc_errors"] is None else pnr["drc_errors"]
    wall = ", ".join(f"{step} {s} s" for step, s in pnr["wall_s"].items())
    return [
        f"layout    core {pnr['core_area_um2']:,} um^2, die {w} x {h} um = {pnr['die_area_um2']:,} um^2, "
        f"utilization {pnr['utilization']} (target {pnr['target_utilization']})",
        f"cells     {pnr['cell_area_um2']:,} um^2 placed ({pnr['cells']:,} cells after qflow buffering, "
        f"{pnr['fill_cells']:,} fill); synthesized {pnr['synthesized_cell_area_um2']:,} um^2",
        f"routing   wire {pnr['wire_length_um']:,} um, unrouted nets {pnr['unrouted_nets']}, DRC {drc}, "
        f"antenna {pnr['antenna']}",
        f"timing    post-route {pnr['post_route']['delay_ns']} ns (propagated clock "
        f"{pnr['post_route']['delay_propagated_clock_ns']} ns), pre-route {pnr['pre_route']['delay_ns']} ns, "
        f"synthesized {pnr['synthesized_delay_ns']} ns",
        f"wall      {wall}",
    ]
