"""Energy per output of one configuration (``make energy``) and against beats per output.

:func:`measure_config` is what ``python -m costmodel synth --energy`` adds to a
report: the configuration is mapped onto the liberty cells module by module
(:func:`costmodel.energy.named_netlist`, so power splits by module), simulated at
gate level under a realistic stream, checked against the golden model, and its
power read from OpenSTA with the simulated activity (:func:`costmodel.energy.measure_energy`).
The stream is the same float layer for every ``k`` (:func:`costmodel.energy.conv_layer`;
only ``m`` and ``s`` depend on ``k``). A vectorless estimate at a stated activity is
added next to it as the fallback's figure, never in its place.

Results are cached like synthesis reports, under a key of everything that can
change them.
"""

import dataclasses
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from hw.export import datapath, to_rtlil
from toolkit.files import write_atomically
from toolkit.run import ToolError, tool_version

from . import energy
from eda.flows import flow_digest

__all__ = ["DEFAULT_CLOCK_NS", "VECTORLESS_ACTIVITY", "CACHE_DIR", "stimulus_for", "golden_check",
           "measure_config", "beats_sweep", "format_lines", "format_beats"]

#: Clock period of the energy figures unless another is asked for: one the engines
#: meet after routing on OSU 0.18 um. Energy per cycle barely depends on it (only
#: leakage, which is negligible in this library, scales with the period).
DEFAULT_CLOCK_NS = 20.0
#: Global activity (transitions per net and cycle) of the vectorless figure.
VECTORLESS_ACTIVITY = 0.1
CACHE_DIR = Path("build") / "cache" / "energy"
BUILD_DIR = Path("build") / "energy"
#: Lanes of the layer schedule that feeds a rescaler alone (``macs=None``).
RESCALER_ONLY_MACS = 8


def stimulus_for(config, *, seed=0):
    """The :class:`~costmodel.energy.Stimulus` and layer schedule of ``config``.

    An engine (``config.macs``) gets the beats of :func:`costmodel.energy.conv_layer`
    back to back; a rescaler alone gets the final accumulator of each of its
    outputs, one per cycle. Arrays (``engines > 1``) are not supported.
    """
    if config.engines not in (None, 1):
        raise ValueError(f"energy is measured for one engine or a rescaler, not engines = {config.engines}")
    macs = config.macs or RESCALER_ONLY_MACS
    schedule, description = energy.conv_layer(config.k, macs=macs, seed=seed)
    if config.macs is None:
        return energy.rescaler_stimulus(schedule, config.k, name="final accumulators of " + description,
                                        hidden_bit=config.hidden_bit), schedule
    return energy.engine_stimulus(schedule, config.k, name=description, hidden_bit=config.hidden_bit), schedule


def golden_check(trace, schedule, k):
    """Whether the netlist's valid ``y`` outputs equal the golden model's, in order."""
    from sim import layers

    want = layers.run_schedule(schedule, k=k)[:, 0]
    got = trace["y"][trace["y_valid"] == 1]
    got = np.where(got > 127, got - 256, got)
    return bool(len(got) == len(want) and (got == want).all())


def _iverilog_version():
    exe = shutil.which("iverilog")
    if exe is None:
        raise ToolError("iverilog not found: install Icarus Verilog (apt-get install iverilog; "
                        "make energy installs it when run as root)")
    return tool_version([exe], "-V")


def _key(config, rtlil, liberty, clock_ns, yosys, sta, what):
    from .synth import SCHEMA_VERSION, file_digest

    source = Path(__file__)
    material = {"config": dataclasses.asdict(config), "rtlil": hashlib.sha256(rtlil.encode()).hexdigest(),
                "library": file_digest(liberty), "clock_ns": clock_ns, "yosys": yosys.version,
                "sta": sta.version, "iverilog": _iverilog_version(), "schema": SCHEMA_VERSION,
                "flows": flow_digest(), "what": what,
                "energy": hashlib.sha256(source.read_bytes() + source.with_name("energy.py").read_bytes()).hexdigest()}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


def _measure(config, rtlil, stimulus, schedule, *, liberty, clock_ns, yosys, sta, workdir):
    netlist = energy.named_netlist(rtlil, liberty=liberty, workdir=workdir / "netlist", yosys=yosys)
    result = energy.measure_energy(netlist, liberty=liberty, top="top", stimulus=stimulus, clock_ns=clock_ns,
                                   workdir=workdir / "activity", sta=sta)
    if not golden_check(result.pop("output_trace"), schedule, config.k):
        raise ToolError(f"the gate-level simulation of {config.name} does not reproduce the golden "
                        f"model's outputs (files in {workdir})")
    result["outputs_match_golden"] = True
    return result, netlist


def measure_config(config, *, liberty, clock_ns=DEFAULT_CLOCK_NS, yosys, sta, fresh=False,
                   cache_dir=CACHE_DIR):
    """Energy per output of ``config`` (cached): the ``energy`` field of a synth report.

    Returns
    -------
    dict
        The fields of :func:`costmodel.energy.measure_energy` (``stimulus`` names
        the layer and its cycles), ``outputs_match_golden`` (always True: a
        mismatch is a :class:`ToolError`), ``netlist`` (how it was mapped),
        ``vectorless`` (the fallback's figure at :data:`VECTORLESS_ACTIVITY`) and
        ``cached``.
    """
    if sta is None:
        raise ToolError("energy needs OpenSTA's power report: apt-get install opensta")
    stimulus, schedule = stimulus_for(config)
    rtlil = to_rtlil(datapath(config).component, name="top")
    path = Path(cache_dir) / f"{_key(config, rtlil, liberty, clock_ns, yosys, sta, 'layer')}.json"
    if not fresh:
        try:
            return {**json.loads(path.read_text()), "cached": True}
        except (OSError, ValueError):
            pass
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(dir=BUILD_DIR, prefix=f"{config.name}."))
    result, netlist = _measure(config, rtlil, stimulus, schedule, liberty=liberty, clock_ns=clock_ns,
                               yosys=yosys, sta=sta, workdir=workdir)
    vectorless = energy.vectorless_energy(netlist, liberty=liberty, top="top", clock_ns=clock_ns,
                                          cycles_per_output=stimulus.cycles_per_output,
                                          workdir=workdir / "vectorless", sta=sta,
                                          activity=VECTORLESS_ACTIVITY)
    result["netlist"] = "each module mapped on its own (no cross-module optimization), then flattened"
    result["vectorless"] = vectorless
    shutil.rmtree(workdir, ignore_errors=True)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    write_atomically(str(path), json.dumps(result, indent=2) + "\n")
    return {**result, "cached": False}


def beats_sweep(ks, beats_list, *, macs, liberty, clock_ns=DEFAULT_CLOCK_NS, yosys, sta, progress=None):
    """Energy per output of the rescaler and of the rest of a ``macs``-lane engine
    against the beats per output ``B``.

    The layer is a 1x1 convolution over a 3x3 image with ``macs * B`` input
    channels and 8 output channels (seed 1): 72 outputs of ``B`` beats each, the
    same float layer for every ``k``. Returns one row per ``(k, B)``.
    """
    from hw.config import DatapathConfig

    rows = []
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD_DIR, prefix="beats.") as tmp:
        for k in ks:
            config = DatapathConfig(k=k, macs=macs)
            rtlil = to_rtlil(datapath(config).component, name="top")
            netlist = energy.named_netlist(rtlil, liberty=liberty, workdir=Path(tmp) / f"k{k}", yosys=yosys)
            for beats in beats_list:
                schedule, description = energy.conv_layer(k, macs=macs, seed=1, size=3, channels_in=macs * beats,
                                                          channels_out=8, kernel=1)
                stimulus = energy.engine_stimulus(schedule, k, name=description)
                r = energy.measure_energy(netlist, liberty=liberty, top="top", stimulus=stimulus,
                                          clock_ns=clock_ns, workdir=Path(tmp) / f"k{k}_b{beats}", sta=sta)
                if not golden_check(r.pop("output_trace"), schedule, k):
                    raise ToolError(f"k = {k}, {beats} beats: the gate-level simulation does not "
                                    "reproduce the golden model's outputs")
                groups = {g: v["energy_pj_per_output"] for g, v in r["groups"].items()}
                rescaler = groups.get("rescaler", 0.0)
                row = {"k": k, "macs": macs, "beats_per_output": beats, "outputs": stimulus.outputs,
                       "cycles": r["cycles"], "clock_ns": clock_ns, "stimulus": description,
                       "total_pj": r["energy_pj_per_output"], "rescaler_pj": rescaler,
                       "macs_pj": round(r["energy_pj_per_output"] - rescaler, 2),
                       "rescaler_share": round(rescaler / r["energy_pj_per_output"], 4),
                       "groups_pj": groups, "wall_s": r["wall_s"]["total_s"]}
                rows.append(row)
                if progress is not None:
                    print(format_beats([row], header=not rows[:-1]), file=progress, flush=True)
    return rows


def format_lines(result):
    """Lines of the energy figures for a synth report's table."""
    lines = [
        f"energy    {result['energy_pj_per_output']:,.1f} pJ/output = {result['total_mw']} mW x "
        f"{result['clock_ns']} ns x {result['cycles_per_output']} cycles/output"
        + ("  (cached)" if result.get("cached") else ""),
        f"  split   internal {result['internal_pj_per_output']:,.1f} pJ, switching "
        f"{result['switching_pj_per_output']:,.1f} pJ, leakage {result['leakage_pj_per_output']:.3f} pJ; "
        f"idle power {result['idle_mw']} mW; {result['mean_toggles_per_net']} toggles/net/cycle",
        f"  stimulus {result['stimulus']} ({result['cycles']} cycles measured, outputs match the golden model)",
    ]
    groups = result.get("groups", {})
    if len(groups) > 1:
        lines.append("  by module: " + ", ".join(f"{g} {v['energy_pj_per_output']:,.1f} pJ"
                                                 for g, v in sorted(groups.items(),
                                                                    key=lambda kv: -kv[1]["energy_pj_per_output"])))
    v = result.get("vectorless")
    if v:
        lines.append(f"  vectorless fallback (activity {v['activity']}): {v['energy_pj_per_output']:,.1f} pJ/output")
    return lines


def format_beats(rows, header=True):
    """Rows of :func:`beats_sweep` as a fixed-width table."""
    out = [f"{'k':>3} {'beats':>5} {'total pJ':>10} {'rescaler pJ':>12} {'MACs pJ':>10} {'rescaler %':>10}"] \
        if header else []
    out += [f"{r['k']:>3} {r['beats_per_output']:>5} {r['total_pj']:>10,.1f} {r['rescaler_pj']:>12,.1f} "
            f"{r['macs_pj']:>10,.1f} {100 * r['rescaler_share']:>10.1f}" for r in rows]
    return "\n".join(out)
