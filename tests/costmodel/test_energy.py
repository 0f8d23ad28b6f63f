"""Energy per output (costmodel.energy, costmodel.energy_report).

The pure parts (liberty functions, toggle counting, the power combination) run
everywhere. The measurements simulate the rescaler alone (``k = 4``, the
``python -m costmodel synth --k 4`` design, about 1,300 cells) and need Icarus
Verilog, OpenSTA and Debian's OSU 0.18 um cells; they are skipped with the reason
when one is missing (``make test`` installs them when root).
"""

import dataclasses
import shutil

import numpy as np
import pytest

from costmodel import energy, energy_report
from costmodel.__main__ import main
from hw.config import DatapathConfig
from hw.export import datapath, to_rtlil
from eda.sta import find_sta
from eda.yosys import find_yosys

LIB = energy_report.Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")


@pytest.mark.parametrize("function, env, want", [
    ("(!(A B))", {"A": 1, "B": 1}, 0),
    ("(!((A B)+C))", {"A": 1, "B": 0, "C": 0}, 1),
    ("(!((S A) + (!S B)))", {"S": 0, "A": 1, "B": 0}, 1),
    ("((A^B)^C)", {"A": 1, "B": 1, "C": 1}, 1),
    ("A'", {"A": 0}, 1),
    ("(A*B)|C", {"A": 1, "B": 0, "C": 0}, 0),
])
def test_function_to_verilog(function, env, want):
    expr = energy.function_to_verilog(function).replace("1'b", "")
    assert eval(expr, {}, dict(env)) & 1 == want


def test_count_toggles():
    # 3 nets; states: 000 (before), 101, 100, 100, 011
    text = "\n".join(["0", "5", "4", "4", "3"]) + "\n"
    assert list(energy.count_toggles(text, 3, (0, 4))) == [2, 1, 3]
    assert list(energy.count_toggles(text, 3, (1, 3))) == [0, 0, 1]


def test_combine_power_is_linear_in_activity():
    p0 = {"a": np.array([1.0, 0.0, 0.1])}
    p1 = {"a": np.array([3.0, 4.0, 0.1])}
    assert np.allclose(energy.combine_power(p0, p1, {"a": 0.25})["a"], [1.5, 1.0, 0.1])


def test_read_netlist(tmp_path):
    v = tmp_path / "n.v"
    v.write_text("module top(a, y);\n input [1:0] a;\n output y;\n"
                 "  NAND2X1 _1_ ( .A(a[0]), .B(a[1]), .Y(y) );\nendmodule\n")
    n = energy.read_netlist(v, "top")
    assert n.ports == {"a": ("input", 2), "y": ("output", 1)}
    assert n.instances == [("_1_", "NAND2X1", {"A": "a[0]", "B": "a[1]", "Y": "y"})]


def test_stimuli_keep_the_timing():
    schedule, description = energy.conv_layer(4, macs=8)
    stim = energy.engine_stimulus(schedule, 4, name=description)
    assert stim.cycles_per_output == schedule.beats / schedule.groups == 9
    zero = energy.zero_stimulus(stim)
    assert zero.words["last"] == stim.words["last"] and not any(zero.words["x"])
    const = energy.constant_stimulus(stim)
    assert len(set(const.words["x"])) == 1 and const.window == stim.window


def test_energy_needs_a_liberty_flow(capsys):
    assert main(["synth", "--k", "4", "--flow", "generic", "--energy"]) == 2
    assert "error: --energy needs a flow with liberty cells" in capsys.readouterr().err


def test_energy_of_an_array_is_refused():
    with pytest.raises(ValueError, match="one engine or a rescaler"):
        energy_report.stimulus_for(DatapathConfig(k=4, macs=4, engines=2))


_missing = [what for what, ok in (("iverilog", shutil.which("iverilog")), ("OpenSTA", find_sta()),
                                  ("qflow-tech-osu018", LIB.is_file())) if not ok]
needs_tools = pytest.mark.skipif(bool(_missing), reason=f"needs {', '.join(_missing)} (make test installs them)")


@pytest.fixture(scope="module")
def rescaler(tmp_path_factory):
    """The k = 4 rescaler mapped onto OSU 0.18 um, its layer stimulus, and a measuring function."""
    work = tmp_path_factory.mktemp("energy")
    config = DatapathConfig(k=4)
    netlist = energy.named_netlist(to_rtlil(datapath(config).component, name="top"), liberty=LIB,
                                   workdir=work / "netlist", yosys=find_yosys())
    stimulus, schedule = energy_report.stimulus_for(config)

    def measure(stim, tag):
        return energy.measure_energy(netlist, liberty=LIB, top="top", stimulus=stim, clock_ns=20.0,
                                     workdir=work / tag, sta=find_sta())
    measure.netlist = netlist
    return stimulus, schedule, measure


@needs_tools
def test_layer_energy_matches_golden_and_splits(rescaler):
    stimulus, schedule, measure = rescaler
    r = measure(stimulus, "layer")
    assert energy_report.golden_check(r.pop("output_trace"), schedule, 4)
    parts = r["internal_pj_per_output"] + r["switching_pj_per_output"] + r["leakage_pj_per_output"]
    assert r["energy_pj_per_output"] == pytest.approx(parts, rel=1e-3)
    assert r["total_mw"] * r["clock_ns"] * r["cycles_per_output"] == pytest.approx(r["energy_pj_per_output"], rel=1e-3)
    assert r["stimulus"].startswith("final accumulators of conv3x3") and r["cycles"] == stimulus.outputs


@needs_tools
def test_activity_annotation_moves_power_the_right_way(rescaler):
    """All-zero data draws less than the layer's stream; a constant input stream
    draws the design's idle power. What is true in this library: the idle floor is
    the flip-flops' clock-pin internal power, and leakage is a tiny part of it."""
    stimulus, _, measure = rescaler
    layer = measure(stimulus, "layer2")
    zero = measure(energy.zero_stimulus(stimulus), "zero")
    const = energy.constant_stimulus(stimulus)
    # Measured after the first cycles, in which the constant operands settle from reset.
    const = measure(dataclasses.replace(const, window=(8, const.window[1])), "constant")
    assert zero["energy_pj_per_output"] < 0.5 * layer["energy_pj_per_output"]
    assert const["total_mw"] == pytest.approx(const["idle_mw"], rel=0.02)  # the floor P(0)
    assert const["leakage_pj_per_output"] < 0.01 * const["energy_pj_per_output"]
    assert const["mean_toggles_per_net"] < 0.01 < layer["mean_toggles_per_net"]


@needs_tools
def test_vectorless_is_labelled_and_linear(rescaler, tmp_path):
    lo, hi = (energy.vectorless_energy(rescaler[2].netlist, liberty=LIB, top="top", clock_ns=20.0, cycles_per_output=1,
                                       workdir=tmp_path / f"a{a}", sta=find_sta(), activity=a)
              for a in (0.1, 0.2))
    assert lo["method"].startswith("vectorless") and hi["energy_pj_per_output"] > lo["energy_pj_per_output"]


@needs_tools
def test_synth_energy_prints_and_writes_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the caches and scratch directories are relative
    assert main(["synth", "--k", "4", "--energy", "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert "energy " in out and "stimulus final accumulators of conv3x3" in out and "vectorless" in out
    report = energy_report.json.loads((tmp_path / "out" / "k4.json").read_text())
    e = report["energy"]
    assert e["outputs_match_golden"] and e["clock_ns"] == energy_report.DEFAULT_CLOCK_NS
    assert {"internal_pj_per_output", "switching_pj_per_output", "leakage_pj_per_output"} <= set(e)
    assert e["vectorless"]["method"].startswith("vectorless")
    assert main(["synth", "--k", "4", "--energy", "--out", "out"]) == 0
    assert "(cached)" in capsys.readouterr().out
