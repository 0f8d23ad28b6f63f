"""The pre-skewed array against the aligned one: the part of the energy section on
the systolic array's operand skew (:attr:`hw.config.DatapathConfig.pre_skew`).

Read from the array point reports that ``make energy K=<k> MACS=8 ENGINES=<E>
[PRE_SKEW=1] PUBLISH=1`` published (:func:`report.silicon_numbers.load`), never by
running them: per ``(k, E)`` the operand delay registers the aligned array holds
(:attr:`hw.config.DatapathConfig.skew_register_bits`, which pre-skew removes),
area, cells and energy per output of both arrays and what pre-skew saves. Every
number is computed from the files and the configuration.
"""

from hw.config import DatapathConfig
from toolkit.markdown import num, saving, table

from .silicon_numbers import SKEW_ENGINES, SKEW_K, SKEW_MACS, array_command

__all__ = ["skew_part"]


def _missing(points):
    commands = [f"`{array_command(*point)}`" for point in points.missing_arrays]
    return [f"Array points not published; produce them with {', '.join(commands)}."] if commands else []


def _rows(points):
    rows = []
    for k in SKEW_K:
        for e in SKEW_ENGINES:
            aligned, skewed = points.arrays.get((k, e, False)), points.arrays.get((k, e, True))
            if aligned is None or skewed is None:
                continue
            a_pj, s_pj = (r["energy"]["energy_pj_per_output"] for r in (aligned, skewed))
            bits = DatapathConfig(k=k, macs=SKEW_MACS, engines=e).skew_register_bits
            rows.append([k, e, num(bits), num(aligned["cells"]), num(skewed["cells"]), num(aligned["area"]),
                         num(skewed["area"]), saving(skewed["area"], aligned["area"]), num(a_pj, 1), num(s_pj, 1),
                         saving(s_pj, a_pj)])
    return rows


def skew_part(points, label):
    """The lines of the pre-skew part: both arrays side by side per ``(k, E)``, with
    the missing points and the commands that publish them."""
    lines = ["### Pre-skewed array: the operand skew registers taken out", "",
             f"Arrays of E engines of {SKEW_MACS} MACs: as built (aligned ports: engine e's weights, bias and "
             "rescale operands delayed e cycles inside, E(E-1)/2 x (8N + 32 + |m| + |s| + 24) flip-flops loading "
             "every cycle) against `--pre-skew`, whose caller delivers them e cycles late (`docs/hardware.md`). "
             f"Read from `{label}/synth/k<k>_macs{SKEW_MACS}_engines<E>[_pre_skew1].json`; energy per output over "
             "all outputs of the energy flow's 3x3 convolution, the skew the caller applies not counted "
             "(free when its memories are read staggered, the same flip-flops if it builds the skew from "
             "registers)."]
    rows = _rows(points)
    if rows:
        lines += [""] + table(["k", "E", "flip-flops removed", "cells aligned", "cells pre-skewed",
                               "area um^2 aligned", "area um^2 pre-skewed", "area saved", "pJ/output aligned",
                               "pJ/output pre-skewed", "energy saved"], rows)
    missing = _missing(points)
    return lines + ([""] + missing if missing else [])
