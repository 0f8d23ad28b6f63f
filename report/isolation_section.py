"""Operand isolation against the engine as built: the part of the energy section
that compares the two designs (:attr:`hw.config.DatapathConfig.operand_isolation`).

Read from what ``make energy-beats [OPERAND_ISOLATION=1] PUBLISH=1`` and ``make
energy-sweep ENERGY_K=4,8,32 OPERAND_ISOLATION=1 PUBLISH=1`` published
(:func:`report.silicon_numbers.load`), never by running them: the rescaler's
energy per beat and per output in both designs, its share against the beats per
output (the shortest measured channel below 10 % next to what the as-built lines
predicted), the k = 32 -> 4 and -> 8 savings of isolated engines next to the
as-built ones, what isolation costs in area and delay, and the layer table read
from the isolated engine's measured lines. Every number is computed from the
files; the figure is :mod:`report.silicon_figures`' ``rescaler_share_isolation``.
"""

from costmodel.published import BEATS_FILES
from toolkit.markdown import num, pct, saving, share, table

from .silicon_numbers import (BEATS_THRESHOLDS, EXAMPLE_LAYERS, beats_fit, energy_ratios, energy_rows,
                              first_below, layer_shares)

__all__ = ["isolation_part"]

_COMMAND = "make energy-beats OPERAND_ISOLATION=1 PUBLISH=1"
_SWEEP = "make energy-sweep ENERGY_K=4,8,32 OPERAND_ISOLATION=1 PUBLISH=1"


def _by_k(rows):
    out = {}
    for r in rows or ():
        out.setdefault((r["k"], r["macs"]), []).append(r)
    return {key: sorted(group, key=lambda r: r["beats_per_output"]) for key, group in sorted(out.items())}


def _beats_table(plain, isolated):
    rows = []
    for key, iso_rows in isolated.items():
        built = {r["beats_per_output"]: r for r in plain.get(key, ())}
        for r in iso_rows:
            b = built.get(r["beats_per_output"])
            rows.append([key[0], key[1], r["beats_per_output"],
                         "-" if b is None else num(b["rescaler_pj"], 1), num(r["rescaler_pj"], 1),
                         "-" if b is None else share(b["rescaler_pj"], b["total_pj"]),
                         share(r["rescaler_pj"], r["total_pj"]),
                         "-" if b is None else num(b["total_pj"], 1), num(r["total_pj"], 1),
                         "-" if b is None else saving(r["total_pj"], b["total_pj"])])
    return table(["k", "MACS", "beats B", "rescaler pJ as built", "rescaler pJ isolated", "share as built",
                  "share isolated", "pJ/output as built", "pJ/output isolated", "saved by isolation"], rows)


def _fits_table(plain, isolated):
    fits = {(f["k"], f["macs"], design): f for design, rows in (("as built", plain), ("isolated", isolated))
            for f in beats_fit([r for group in rows.values() for r in group])}
    out = []
    for (k, macs, design), f in sorted(fits.items()):
        measured = first_below((plain if design == "as built" else isolated)[(k, macs)], BEATS_THRESHOLDS[0])
        span = max(f["beats"])
        out.append([k, macs, design, num(f["rescaler_per_output"], 1), num(f["rescaler_per_beat"], 1),
                    pct(100 * f["share_limit"]),
                    f"{measured} (L = {measured * macs})" if measured else f"none up to {span}"]
                   + ["never" if f["beats_below"][t] is None else str(f["beats_below"][t]) for t in BEATS_THRESHOLDS]
                   + ["-" if design == "isolated" or f["beats_below_held"][BEATS_THRESHOLDS[0]] is None
                      else str(f["beats_below_held"][BEATS_THRESHOLDS[0]])])
    head = (["k", "MACS", "design", "rescaler pJ per output", "rescaler pJ per beat", "share as B grows",
             f"shortest measured B with share < {100 * BEATS_THRESHOLDS[0]:g} %"]
            + [f"fitted B for < {100 * t:g} %" for t in BEATS_THRESHOLDS]
            + [f"predicted with input held (< {100 * BEATS_THRESHOLDS[0]:g} %)"])
    return fits, table(head, out, align="rrl" + "r" * (len(head) - 3))


def _savings_table(plain_rows, iso_rows):
    plain = {e["macs"]: e for e in energy_ratios(plain_rows)}
    rows = []
    for e in energy_ratios(iso_rows):
        p = plain.get(e["macs"], {})
        rows.append([e["macs"]] + [cell for k in (4, 8) for cell in (
            pct(p.get(f"energy_k{k}_pct")), pct(e[f"energy_k{k}_pct"]), pct(p.get(f"area_k{k}_pct")))])
    return table(["MACS", "energy k=32->4 as built", "isolated", "area k=32->4", "energy k=32->8 as built",
                  "isolated", "area k=32->8"], rows)


def _cost_table(points):
    rows = []
    for (k, macs), iso in sorted(points.isolated.items(), key=lambda item: (item[0][1], item[0][0])):
        plain = points.energy.get((k, macs))
        if plain is None:
            continue
        e_iso, e_plain = iso["energy"]["energy_pj_per_output"], plain["energy"]["energy_pj_per_output"]
        rows.append([k, macs, num(plain["area"]), num(iso["area"]), share(iso["area"] - plain["area"], plain["area"]),
                     f"{plain['delay']:.2f}", f"{iso['delay']:.2f}", share(iso["delay"] - plain["delay"], plain["delay"]),
                     num(e_plain, 1), num(e_iso, 1), saving(e_iso, e_plain)])
    return table(["k", "MACS", f"area as built ({_unit(points)})", "isolated", "area cost", "delay as built (ns)",
                  "isolated", "delay cost", "pJ/output as built", "isolated", "energy saved"], rows)


def _unit(points):
    return next(iter(points.isolated.values()))["area_unit"]


def _layer_table(fits):
    keys = sorted({(k, macs) for k, macs, _ in fits})
    rows = []
    for name, length in EXAMPLE_LAYERS:
        cells = [name, length]
        for k, macs in keys:
            cells.append(-(-length // macs))
            cells += ["-" if (k, macs, design) not in fits else pct(100 * layer_shares(fits[(k, macs, design)], length)[1])
                      for design in ("as built", "isolated")]
        rows.append(cells)
    head = ["layer", "L"] + [c for k, macs in keys for c in (f"B at {macs} MACS", f"k={k} as built", "isolated")]
    return table(head, rows, align="lr" + "rrr" * len(keys))


def _discussion(fits, plain, isolated):
    out = []
    for (k, macs), rows in isolated.items():
        built, iso = fits.get((k, macs, "as built")), fits.get((k, macs, "isolated"))
        if built is None or iso is None:
            continue
        measured = first_below(rows, BEATS_THRESHOLDS[0])
        predicted = built["beats_below_held"][BEATS_THRESHOLDS[0]]
        text = (f"- **k = {k}, {macs} MACS.** Isolation takes the rescaler from {built['rescaler_per_beat']:,.1f} "
                f"to {iso['rescaler_per_beat']:,.1f} pJ per beat"
                + (" (a slope within the measurement's noise around zero)" if abs(iso["rescaler_per_beat"])
                   < 0.05 * iso["rescaler_per_output"] else "")
                + f"; it then costs {iso['rescaler_per_output']:,.1f} pJ per output (as built "
                f"{built['rescaler_per_output']:,.1f} + {built['rescaler_per_beat']:,.1f} x B). Its share falls "
                f"below {100 * BEATS_THRESHOLDS[0]:g} % "
                + (f"from B = {measured} (L = {measured * macs}) as measured" if measured else
                   f"at no measured B up to {max(iso['beats'])}")
                + ("" if predicted is None else f"; the as-built lines predicted B = {predicted}") + ".")
        out.append(text)
    return out


def isolation_part(points, plain_rows, label):
    """The lines of the operand-isolation part: the two designs side by side
    (``plain_rows``: :func:`report.silicon_numbers.energy_rows` of the as-built points)."""
    lines = ["### Operand isolation: the rescaler switches once per output", ""]
    if points.beats_isolated is None:
        return lines + [f"`{label}/{BEATS_FILES[True]}` is not published: run `{_COMMAND}`."]
    plain, isolated = _by_k(points.beats), _by_k(points.beats_isolated)
    lines.append(f"From `{label}/{BEATS_FILES[True]}` (`{_COMMAND}`) next to `{label}/{BEATS_FILES[False]}`: the "
                 "same layers on the engine with operand isolation (`--operand-isolation`), where a held copy of "
                 "the final sum feeds the rescaler and its operand and pipeline registers load only with an "
                 "output, against the engine as built, whose rescaler reads the running accumulator on every "
                 "beat. Same results, same latency.")
    lines += [""] + _beats_table(plain, isolated)
    fits, fits_table = _fits_table(plain, isolated)
    lines += ["", "Fitted lines in B (pJ), both designs; the last column is what the as-built lines predicted "
              "for a rescaler whose input is held (its B = 1 energy once per output):", ""] + fits_table
    lines += [""] + _discussion(fits, plain, isolated)
    lines += ["", "The rescaler's share for layers of common int8 CNNs, read from the measured lines of both "
              "designs:", ""] + _layer_table(fits)
    iso_rows = energy_rows(points, isolated=True)
    if points.missing_isolated:
        lines += ["", "Isolated energy points not published: "
                  + ", ".join(f"k={k}/MACS={m}" for k, m in points.missing_isolated) + f"; run `{_SWEEP}`."]
    if iso_rows:
        lines += ["", "Energy per output of the conv3x3 layer of the energy grid (point reports): saving from "
                  "k = 32 with and without isolation, next to the synthesized area's (as built):", ""]
        lines += _savings_table(plain_rows, iso_rows)
        lines += ["", "What isolation costs (synthesized area and delay, liberty flow) and saves (energy per "
                  "output of the same layer), per point:", ""] + _cost_table(points)
    return lines
