"""Design-space sweeps over k and MACS, in parallel, through the synthesis cache.

A sweep synthesizes every configuration of a grid with one flow, ``jobs`` at a
time, each through :func:`costmodel.synth.synthesize_config` and its result
cache: a killed sweep resumes where it stopped, and a finished one re-runs in
seconds. The combined result goes to ``reports/sweep_<flow>.json`` and ``.csv``,
with the ratios to k = 32 and the paper's figures side by side.
"""

import csv
import dataclasses
import datetime
import hashlib
import io
import json
import os
import sys
import time
from pathlib import Path

from hw.config import DatapathConfig
from toolkit.cli import MAX_VALUES, parse_int_list
from toolkit.files import write_together
from toolkit.run import ToolError

from . import executors, synth
from .published import FPGA_COLUMNS, PAPER, SCHEMA_VERSION, compare_to_paper, header, ratio_table

__all__ = ["MAX_VALUES", "parse_int_list", "parse_overrides", "Sweep", "stem", "cap_jobs", "run_sweep",
           "summary", "to_csv", "format_comparison", "write"]

def parse_overrides(items):
    """``["rescaler_pipeline=2", "fast_clamp=1"]`` -> ``{"rescaler_pipeline": 2, "fast_clamp": True}``:
    DatapathConfig fields other than k, macs and engines, with ints and booleans parsed."""
    fields = {f.name: f for f in dataclasses.fields(DatapathConfig)}
    overrides = {}
    for item in items or ():
        key, sep, text = str(item).partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in fields or key in ("k", "macs", "engines"):
            allowed = ", ".join(n for n in fields if n not in ("k", "macs", "engines"))
            raise ValueError(f"--set takes FIELD=VALUE with FIELD one of {allowed}, not {item!r}")
        text = text.strip()
        if fields[key].type in (bool, "bool"):
            value = {"1": True, "true": True, "0": False, "false": False}.get(text.lower(), text)
        else:
            try:
                value = int(text)
            except ValueError:
                value = text
        overrides[key] = value
    return overrides


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A grid of configurations and how to synthesize them.

    Members
    -------
    configs : tuple of DatapathConfig
    request : costmodel.synth.SynthRequest
    yosys, sta : toolkit.run.Tool
    """

    configs: tuple
    request: synth.SynthRequest
    yosys: object
    sta: object

    @classmethod
    def grid(cls, ks, macs, request, *, engines=1, yosys=None, **config_overrides):
        """Every ``(k, macs)`` pair as a config (validated now, before any synthesis);
        ``config_overrides`` sets other :class:`DatapathConfig` fields for every point
        (e.g. ``rescaler_pipeline=2, fast_clamp=True``)."""
        configs = tuple(DatapathConfig(k=k, macs=n, engines=engines, **config_overrides)
                        for n in macs for k in ks)
        tools = synth.find_tools(request, yosys)
        return cls(configs, request, *tools)


def stem(request, overrides=None):
    """File stem of a sweep's JSON and CSV: ``sweep_<flow>``, then for the FPGA flows
    every knob that differs from its default (device, clock, seed: they change the
    result), named as in :func:`costmodel.synth.report_name`, then the overridden
    configuration fields (``sweep_ecp5_seed2``, ``sweep_liberty_fast_clamp1``); a delay
    in logic levels where the flow's is in ns (no OpenSTA) adds ``_levels``."""
    knobs = "_levels" if request.levels else ""
    if request.spec.kind == "fpga":
        probe = DatapathConfig(k=8)
        knobs = synth.report_name(probe, request)[len(probe.name):].removeprefix(f"_{request.flow}")
    return "_".join([f"sweep_{request.flow}{knobs}"] + [f"{k}{int(v) if isinstance(v, bool) else v}"
                                                        for k, v in (overrides or {}).items()])


def cap_jobs(jobs, points):
    """The number of worker processes for ``points`` points when ``jobs`` are asked
    for: never more than the points, nor than the machine's cores."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, not {jobs!r}")
    return max(1, min(jobs, points, os.cpu_count() or 1))


def run_sweep(sweep, *, jobs=2, cache_dir=synth.CACHE_DIR, progress=sys.stderr, executor=None, failed=None):
    """Synthesize every configuration of ``sweep`` with up to ``jobs`` worker processes
    (:func:`cap_jobs`), or on ``executor`` (:mod:`costmodel.executors`, e.g. a Dask
    cluster) when given.

    Prints one progress line per finished configuration (count, elapsed time,
    estimated time left) to ``progress``. Returns the reports in grid order. A
    configuration that fails is reported on its line and the others go on; then
    one :class:`ToolError` names every failed configuration, unless ``failed`` is a
    list: then ``(config, error)`` pairs are appended to it and the failed points'
    reports are None.
    """
    total = len(sweep.configs)
    jobs = cap_jobs(jobs, total)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    results = [None] * total
    done = hits = 0
    failures = []
    width = max((len(c.name) for c in sweep.configs), default=0)
    job = executors.SynthJob(sweep.request, sweep.yosys, sweep.sta, str(cache_dir))
    for i, outcome, error in (executor or executors.LocalExecutor(jobs)).map(job, sweep.configs):
        done += 1
        elapsed = time.monotonic() - start
        eta = elapsed / done * (total - done)
        config = sweep.configs[i]
        if error is not None:
            if not isinstance(error, (ToolError, ValueError, OSError)) and type(error).__name__ != "KilledWorker":
                raise error  # a bug: keep its traceback
            failures.append((config, error))
            print(f"[{done:>{len(str(total))}}/{total}] {config.name}: FAILED: {error}", file=progress, flush=True)
            continue
        report, cached = outcome
        results[i] = report
        hits += cached
        how = "(cached)" if cached else f"{report['runtime_s']:.1f} s"
        print(f"[{done:>{len(str(total))}}/{total}] {config.name:<{width}} "
              f"{report['area']:>12,} {report['area_unit']:<11} {report['delay']:>8} "
              f"{report['delay_unit']:<6} {how:>9}  elapsed {elapsed:5.0f} s, left ~{eta:4.0f} s",
              file=progress, flush=True)
    print(f"{total} configurations in {time.monotonic() - start:.1f} s ({hits} from cache)",
          file=progress, flush=True)
    if failed is not None:
        failed.extend(failures)
    elif failures:
        config, error = failures[0]
        raise ToolError(f"{len(failures)} of {total} configurations failed "
                        f"({', '.join(c.name for c, _ in failures[:8])}{', ...' * (len(failures) > 8)}); "
                        f"first: {config.name}: {error}")
    return results


def summary(sweep, reports, runtime_s):
    """The combined sweep document written to ``reports/sweep_<flow>.json``."""
    return {
        "schema": SCHEMA_VERSION,
        **header(sweep.request.flow, reports[0]),
        "clock_ns": sweep.request.clock_ns,
        "runtime_s": round(runtime_s, 1),
        "synthesis_runtime_s": round(sum(r["runtime_s"] for r in reports), 1),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "points": [{key: r[key] for key in ("config", "area", "delay", "cells", "breakdown", "runtime_s", "fpga")
                    if key in r} for r in reports],
        "ratios": ratio_table(reports),
        "paper_comparison": compare_to_paper(reports),
        "paper_technology": PAPER["technology"],
    }


def to_csv(document):
    """One CSV row per point: config fields, area, delay, ADP and ratios to k = 32,
    and for FPGA flows the resources and fmax (:data:`costmodel.published.FPGA_COLUMNS`)."""
    ratios = {(r["macs"], r["k"]): r for r in document["ratios"]}
    out = io.StringIO()
    fields = ["k", "macs", "engines", "area", "delay", "adp", "area_vs_k32", "delay_vs_k32", "adp_gain_vs_k32"]
    fpga = all("fpga" in point for point in document["points"])
    fields += list(FPGA_COLUMNS) * fpga
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for point in document["points"]:
        c = point["config"]
        row = {**ratios[(c["macs"], c["k"])], "engines": c["engines"],
               **{key: point["fpga"][key] for key in FPGA_COLUMNS if fpga}}
        writer.writerow({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    return out.getvalue()


def format_comparison(document):
    """A short text table of :func:`compare_to_paper`."""
    lines = [f"k=32 -> 4 ({document['flow']} flow; paper: {PAPER['technology']})",
             "MACS  area -%  (paper)  delay -%  (paper)  ADP gain k=4 (paper)  k=8 (paper)"]
    for c in document["paper_comparison"]:
        lines.append(f"{c['macs']:>4}  {c['area_reduction_k4_pct']:>6}  ({c['paper_area_reduction_k4_pct']})"
                     f"   {c['delay_reduction_k4_pct']:>7}  (~{c['paper_delay_reduction_k4_pct']:.0f})"
                     f"   {c['adp_gain_k4']:>9}x (>{c['paper_adp_gain_k4_min']:.0f}x)"
                     f"   {'-' if c['adp_gain_k8'] is None else str(c['adp_gain_k8']) + 'x'}"
                     f" (>{c['paper_adp_gain_k8_min']:.0f}x)")
    return "\n".join(lines)


def write(document, stem):
    """Write ``<stem>.csv`` and ``<stem>.json`` so that they never disagree: the JSON,
    written last, records the CSV's SHA-256, and concurrent writers are serialized
    (:func:`toolkit.files.write_together`). Returns the two paths."""
    text = to_csv(document)
    document = {**document, "csv_sha256": hashlib.sha256(text.encode()).hexdigest()}
    paths = (f"{stem}.csv", f"{stem}.json")
    write_together({paths[0]: text, paths[1]: json.dumps(document, indent=2) + "\n"})
    return paths
