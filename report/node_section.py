"""Two technology nodes side by side: the section of ``reports/REPORT.md`` that
sets the OSU 0.18 um study (``sweep_liberty.json``) beside the same sweep on
ASAP7 7 nm cells (``sweep_asap7.json``) and the paper's 16 nm figures.

Read from published documents only (:func:`costmodel.published.load_sweep`,
:func:`costmodel.published.load_point_report`): the two sweeps and the energy
points of :data:`ENERGY_K` at :data:`ENERGY_MACS` MACS of each flow
(``synth/<name>.json``, ``synth/<name>_asap7.json``). What the section says
about where the nodes differ is computed from those numbers; the reasons it
gives (flip-flop against logic area, wire-free delay) are the ones the numbers
can show, the breakdown's register share and the delay ratios.
"""

from dataclasses import dataclass, field
from pathlib import Path

from costmodel.published import BASE_K, PAPER, load_point_report, load_sweep
from hw.config import DatapathConfig
from toolkit.markdown import num, pct, table

from .asic_section import model_summary
from .sweep_rows import PART_LABELS, load_model, node_label, ordered_parts, rows_by_macs

__all__ = ["NODE_FLOWS", "ENERGY_K", "ENERGY_MACS", "NodeSection"]

#: The two standard-cell flows compared, older node first.
NODE_FLOWS = ("liberty", "asap7")
#: The energy points compared at both nodes (``make energy K= MACS= FLOW=``).
ENERGY_K = (4, 8, BASE_K)
ENERGY_MACS = 8
#: The breakdown is shown at this MACS, for k = 4 and k = 32.
BREAKDOWN_MACS = 8


def _energy_name(k, flow):
    name = DatapathConfig(k=k, macs=ENERGY_MACS).name
    return f"{name}.json" if flow == NODE_FLOWS[0] else f"{name}_{flow}.json"


@dataclass
class NodeSection:
    """The two sweeps (``sweeps[flow]``), their energy points (``energy[flow][k]``),
    the energy points not yet published (``missing``: ``(flow, k)``) and the 7 nm
    analytic model as :func:`report.sweep_rows.load_model` gives it (``model``)."""

    sweeps: dict
    energy: dict
    missing: list = field(default_factory=list)
    model: tuple = (None, "no analytic model loaded")
    figures = ()

    @classmethod
    def load(cls, directory):
        """The section from ``directory`` (``reports``); a ValueError when a sweep is
        absent or a document damaged."""
        directory = Path(directory)
        sweeps = {flow: load_sweep(directory / f"sweep_{flow}.json") for flow in NODE_FLOWS}
        energy, missing = {flow: {} for flow in NODE_FLOWS}, []
        for flow in NODE_FLOWS:
            for k in ENERGY_K:
                flag = "" if flow == NODE_FLOWS[0] else f" FLOW={flow}"
                report = load_point_report(directory / "synth" / _energy_name(k, flow), k=k, macs=ENERGY_MACS,
                                           flow=flow, remedy=f"make energy K={k} MACS={ENERGY_MACS}{flag} PUBLISH=1")
                if report is None or "energy" not in report:
                    missing.append((flow, k))
                else:
                    energy[flow][k] = report["energy"]["energy_pj_per_output"]
        return cls(sweeps, energy, missing, load_model(sweeps[NODE_FLOWS[1]]))

    def _nodes(self):
        """Short names of the two nodes, for tables and sentences (``ASAP7 7 nm``)."""
        return [node_label(self.sweeps[flow]).split(" (")[0] for flow in NODE_FLOWS]

    def _ratios(self, flow):
        """``{(macs, k): row}`` of a sweep, rows with the ratios to k = 32."""
        return {(m, r["k"]): r for m, rows in rows_by_macs(self.sweeps[flow]).items() for r in rows
                if "area_vs_k32" in r}

    def _ratio_table(self):
        ratios = [self._ratios(flow) for flow in NODE_FLOWS]
        macs = sorted({m for m, _ in ratios[0]} & {m for m, _ in ratios[1]})
        cells = []
        for m in macs:
            for node, r in zip(self._nodes(), ratios):
                cells.append([m, node, *("-" if (m, k) not in r else pct(100 * (1 - r[(m, k)][f"{what}_vs_k32"]))
                                         for what in ("area", "delay") for k in (4, 8))])
            paper = PAPER["area_reduction_k4_pct"].get(m)
            cells.append([m, "paper, 16 nm", pct(paper), "-" if paper is None else f"~{paper / 2:.0f} %",
                          f"~{PAPER['delay_reduction_k4_pct']:.0f} %", "-"])
        return table(["MACS", "node", "area -% k=32->4", "k=32->8", "delay -% k=32->4", "k=32->8"], cells,
                     align="rl" + "r" * 4)

    def _breakdown_table(self):
        rows = []
        for flow, node in zip(NODE_FLOWS, self._nodes()):
            points = {p["config"]["k"]: p for p in self.sweeps[flow]["points"]
                      if p["config"]["macs"] == BREAKDOWN_MACS}
            for k in (4, BASE_K):
                if k in points:
                    rows.append((node, k, points[k]["breakdown"]))
        parts = ordered_parts([{"breakdown": b} for _, _, b in rows])
        cells = [[node, k, *(pct(100 * b.get(p, 0) / sum(b.values())) for p in parts)] for node, k, b in rows]
        return table(["node", "k", *(PART_LABELS.get(p, p) for p in parts)], cells, align="lr" + "r" * len(parts))

    def _register_share(self, flow):
        """Share of the registers part in the k = 4 and k = 32 engines at :data:`BREAKDOWN_MACS`."""
        points = {p["config"]["k"]: p["breakdown"] for p in self.sweeps[flow]["points"]
                  if p["config"]["macs"] == BREAKDOWN_MACS}
        part = "top-level logic and registers"
        return {k: 100 * b.get(part, 0) / sum(b.values()) for k, b in points.items() if k in (4, BASE_K)}

    def _discussion(self):
        a, b = self._nodes()
        ratios = [self._ratios(flow) for flow in NODE_FLOWS]
        common = sorted(set(ratios[0]) & set(ratios[1]))
        area = {key: [100 * (1 - r[key]["area_vs_k32"]) for r in ratios] for key in common if key[1] in (4, 8)}
        delay = {key: [100 * (1 - r[key]["delay_vs_k32"]) for r in ratios] for key in common if key[1] in (4, 8)}
        if not area:
            return ["The two sweeps share no (k, MACS) point with k = 32 beside it: nothing to compare."]
        worst = max(area, key=lambda key: abs(area[key][0] - area[key][1]))
        gap = max(abs(v[0] - v[1]) for v in area.values())
        dgap = max(delay, key=lambda key: abs(delay[key][0] - delay[key][1]))
        regs = [self._register_share(flow) for flow in NODE_FLOWS]
        verdict = ("the saving hardly depends on the node" if gap < 3 else
                   "the node changes the saving by more than a few points")
        lines = [
            f"**Area.** The k=32 -> 4 and -> 8 area savings differ between the nodes by at most "
            f"{gap:.1f} points (at k={worst[1]}, {worst[0]} MACS: {area[worst][0]:.1f} % at {a}, "
            f"{area[worst][1]:.1f} % at {b}): {verdict}."]
        if all(BASE_K in r and 4 in r for r in regs):
            saving = {flow: area.get((BREAKDOWN_MACS, 4)) for flow in NODE_FLOWS}
            heavier = 0 if regs[0][4] > regs[1][4] else 1
            follows = saving[NODE_FLOWS[0]] is not None and \
                (saving[NODE_FLOWS[0]][heavier] < saving[NODE_FLOWS[0]][1 - heavier])
            lines.append(
                f"The registers, which do not shrink with k, are {regs[0][4]:.1f} % of the k=4 engine at "
                f"{BREAKDOWN_MACS} MACS at {a} and {regs[1][4]:.1f} % at {b} ({regs[0][BASE_K]:.1f} % and "
                f"{regs[1][BASE_K]:.1f} % at k=32): a flip-flop weighs a different number of gates in each "
                f"library. " + (f"The node whose registers weigh more, {(a, b)[heavier]}, saves less at "
                                f"k=4, {BREAKDOWN_MACS} MACS." if follows else
                                f"Here the node whose registers weigh more, {(a, b)[heavier]}, does not save "
                                "less: the logic's own mapping differs too (complex AND-OR cells at 7 nm)."))
        lines.append(
            f"**Delay.** The delay savings differ most at k={dgap[1]}, {dgap[0]} MACS "
            f"({delay[dgap][0]:.1f} % at {a}, {delay[dgap][1]:.1f} % at {b}). Both are wire-free "
            "(synthesized netlists timed without parasitics), the savings of the cells alone; wires, a "
            "larger share of a routed path at 7 nm and not shorter for a smaller k, are not measured at "
            "7 nm (the layout flow places and routes at 0.18 um only).")
        return lines

    def _energy_lines(self):
        a, b = self._nodes()
        have = [k for k in ENERGY_K if all(k in self.energy[flow] for flow in NODE_FLOWS)]
        if BASE_K not in have or len(have) < 2:
            return ["Energy at both nodes is not published yet (see the missing points below)."]
        cells = [[node, *(num(self.energy[flow][k], 2) for k in have),
                  *(f"{self.energy[flow][k] / self.energy[flow][BASE_K]:.3f}" for k in have if k != BASE_K)]
                 for flow, node in zip(NODE_FLOWS, (a, b))]
        ratio4 = [self.energy[flow][4] / self.energy[flow][BASE_K] for flow in NODE_FLOWS] if 4 in have else None
        lines = [f"Energy per output at {ENERGY_MACS} MACS, the same conv-layer stimulus at both nodes "
                 "(gate-level toggles, OpenSTA power):", ""]
        lines += table(["node", *(f"pJ/output k={k}" for k in have),
                        *(f"k={k} vs k=32" for k in have if k != BASE_K)], cells, align="l" + "r" * (2 * len(have) - 1))
        if ratio4:
            lines += ["", f"The k=32 -> 4 energy saving is {100 * (1 - ratio4[0]):.1f} % at {a} and "
                          f"{100 * (1 - ratio4[1]):.1f} % at {b}; the energy per output falls "
                          f"{self.energy[NODE_FLOWS[0]][BASE_K] / self.energy[NODE_FLOWS[1]][BASE_K]:.0f}x "
                          "from one node to the other at k=32."]
        return lines

    def render(self, report_dir="."):
        a, b = self._nodes()
        runtime = self.sweeps[NODE_FLOWS[1]].get("runtime_s")
        lines = [f"## Two nodes: {a} and {b}", "",
                 f"The default sweep run again on {node_label(self.sweeps[NODE_FLOWS[1]])} cells (`make sweep FLOW={NODE_FLOWS[1]}`, the "
                 f"vendored library in `techlib/asap7/`, units read from the files"
                 + (f"; {runtime:.0f} s wall time" if runtime else "") + "), beside the study's "
                 f"{a} sweep and the paper's {PAPER['technology'].replace(' (paper)', '')}. Savings "
                 "from k = 32 (area and delay, -%):", ""]
        lines += self._ratio_table()
        lines += ["", f"Area breakdown at {BREAKDOWN_MACS} MACS (share of the engine, hierarchy kept):", ""]
        lines += self._breakdown_table()
        lines += [""] + [line for text in self._discussion() for line in (text, "")]
        lines += [f"**Analytic model at {b}.** " + model_summary(self.sweeps[NODE_FLOWS[1]], *self.model)[0], ""]
        lines += self._energy_lines()
        if self.missing:
            points = ", ".join(f"k={k} ({flow})" for flow, k in self.missing)
            lines += ["", f"Missing energy points at {ENERGY_MACS} MACS: {points}; `make energy K=<k> "
                          f"MACS={ENERGY_MACS} [FLOW={NODE_FLOWS[1]}] PUBLISH=1` makes each."]
        return lines
