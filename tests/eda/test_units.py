"""Liberty units: read from the files, checked to agree, and every OpenSTA figure
converted to ns and watts.

One tiny library is written twice, in ns/pF/nW and in ps/fF/pW (the numbers
scaled to match), so the same path must give the same delay and the same
leakage; the vendored ASAP7 library is timed both through :mod:`eda.sta` and
through a hand-written OpenSTA script. The runs skip without OpenSTA.
"""

import re
from pathlib import Path

import pytest

from eda import liberty, sta
from eda.flows import ASAP7_LIBRARY, FLOWS
from toolkit.run import ToolError, run_tool

DATA = Path(__file__).resolve().parents[1] / "data"
ASAP7_NETLIST = DATA / "asap7" / "nand_dff.v"

#: (time unit, its ns; capacitance unit, its pF; leakage unit, its nW)
NS_PF = ("1ns", 1.0, "pf", 1.0, "1nW", 1.0)
PS_FF = ("1ps", 1e-3, "ff", 1e-3, "1pW", 1e-3)

_CHAIN = """\
module top(a, y);
  input a;
  output y;
  wire n1, n2;
  INV _1_ ( .A(a), .Y(n1) );
  INV _2_ ( .A(n1), .Y(n2) );
  INV _3_ ( .A(n2), .Y(y) );
endmodule
"""


def tiny_liberty(units):
    """One inverter (2x2 NLDM tables, leakage 5 nW) in the given units."""
    time_unit, time_ns, cap_unit, cap_pf, power_unit, power_nw = units

    def t(*values):  # ns -> the library's time unit
        return ", ".join(f"{v / time_ns:g}" for v in values)

    def c(*values):  # pF -> the library's capacitance unit
        return ", ".join(f"{v / cap_pf:g}" for v in values)

    table = f'index_1 ("{t(0.01, 0.2)}"); index_2 ("{c(0.001, 0.02)}");'
    return f"""\
library (tiny) {{
  delay_model : table_lookup;
  time_unit : "{time_unit}";
  capacitive_load_unit (1,{cap_unit});
  leakage_power_unit : "{power_unit}";
  voltage_unit : "1V";
  input_threshold_pct_rise : 50; input_threshold_pct_fall : 50;
  output_threshold_pct_rise : 50; output_threshold_pct_fall : 50;
  slew_lower_threshold_pct_rise : 20; slew_lower_threshold_pct_fall : 20;
  slew_upper_threshold_pct_rise : 80; slew_upper_threshold_pct_fall : 80;
  lu_table_template (t2) {{
    variable_1 : input_net_transition; variable_2 : total_output_net_capacitance;
    index_1 ("1, 2"); index_2 ("1, 2");
  }}
  cell (INV) {{
    area : 1.5;
    cell_leakage_power : {5 / power_nw:g};
    pin (A) {{ direction : input; capacitance : {0.004 / cap_pf:g}; }}
    pin (Y) {{
      direction : output; function : "(!A)";
      timing () {{
        related_pin : "A"; timing_sense : negative_unate;
        cell_rise (t2) {{ {table} values ("{t(0.02, 0.11)}", "{t(0.04, 0.15)}"); }}
        cell_fall (t2) {{ {table} values ("{t(0.015, 0.09)}", "{t(0.03, 0.12)}"); }}
        rise_transition (t2) {{ {table} values ("{t(0.02, 0.3)}", "{t(0.05, 0.35)}"); }}
        fall_transition (t2) {{ {table} values ("{t(0.02, 0.25)}", "{t(0.04, 0.3)}"); }}
      }}
    }}
  }}
}}
"""


def test_units_are_read_from_the_header():
    assert liberty.open_library(ASAP7_LIBRARY).units == liberty.Units(1e-12, 1e-15, 1e-12)
    assert liberty.open_library(ASAP7_LIBRARY).units.describe() == "time 1ps, capacitance 1fF, leakage 1pW"


def test_a_folder_is_its_liberty_files_and_a_gzipped_file_is_read(tmp_path):
    library = liberty.open_library(ASAP7_LIBRARY)
    assert len(library.files) == 5 and all(p.name.endswith(".lib.gz") for p in library.files)
    assert library.name == "asap7" and library.record()["files"][0].startswith("asap7sc7p5t_AO")
    copies = library.local_files(tmp_path)
    assert [p.name for p in copies] == [f"cells{i}.lib" for i in range(5)]
    assert re.search(r"^\s*library\s*\(asap7sc7p5t_SEQ", copies[3].read_text()[:20000], re.M)
    cells = liberty.read_cells(library)  # ASAP7 ends some attributes at the line, without ";"
    assert {"DFFHQNx1_ASAP7_75t_R", "INVx1_ASAP7_75t_R", "BUFx2_ASAP7_75t_R"} <= set(cells) and len(cells) == 202


def test_files_in_different_units_are_one_error(tmp_path):
    (tmp_path / "ns.lib").write_text(tiny_liberty(NS_PF))
    (tmp_path / "ps.lib").write_text(tiny_liberty(PS_FF).replace("library (tiny)", "library (other)"))
    with pytest.raises(ToolError, match=r"disagree on units: ns.lib has time 1ns.* ps.lib has time 1ps") as error:
        liberty.open_library([tmp_path / "ns.lib", tmp_path / "ps.lib"])
    assert "\n" not in str(error.value)
    (tmp_path / "bad.lib").write_text(tiny_liberty(NS_PF).replace('"1ns"', '"1nF"'))
    with pytest.raises(ToolError, match="time_unit 1nF is not a unit of s"):
        liberty.open_library(tmp_path / "bad.lib")


def test_asap7_cells_have_gate_level_models():
    """Inverted-output flip-flops and multi-output cells become zero-delay modules."""
    cells = liberty.read_cells(ASAP7_LIBRARY / "asap7sc7p5t_SEQ_RVT_TT_nldm_220123.lib.gz")
    model = liberty.cell_models(cells, used={"DFFHQNx1_ASAP7_75t_R"})
    assert "always @(posedge CLK) IQN <= ~D;" in model and "assign QN = IQN;" in model
    cells = liberty.read_cells(ASAP7_LIBRARY / "asap7sc7p5t_SIMPLE_RVT_TT_nldm_211120.lib.gz")
    model = liberty.cell_models(cells, used={"FAx1_ASAP7_75t_R"})
    assert "assign CON = " in model and "assign SN = " in model


def test_the_asap7_flow_names_its_node_and_library():
    flow = FLOWS["asap7"]
    assert flow.liberty and flow.library == (ASAP7_LIBRARY,) and "7 nm" in flow.node
    assert "0.18 um" in FLOWS["liberty"].node


needs_sta = pytest.mark.skipif(sta.find_sta() is None, reason="needs OpenSTA (make test installs it)")


@needs_sta
def test_the_same_path_in_ps_ff_and_in_ns_pf_has_the_same_delay_and_power(tmp_path):
    netlist = tmp_path / "chain.v"
    netlist.write_text(_CHAIN)
    delays, leakage = {}, {}
    for units in (NS_PF, PS_FF):
        work = tmp_path / units[0]
        work.mkdir()
        (work / "tiny.lib").write_text(tiny_liberty(units))
        kw = dict(liberty=work / "tiny.lib", top="top", clock_ns=10.0, workdir=work, sta=sta.find_sta())
        delays[units[0]] = sta.critical_path(netlist, **kw)
        leakage[units[0]] = sta.instance_power(netlist, activities=(0.0,), **kw)[0.0]["total"][2]
    assert 0.05 < delays["1ns"] < 1.0
    assert delays["1ps"] == pytest.approx(delays["1ns"], abs=1e-4)
    assert "-period 10000.0" in (tmp_path / "1ps" / "sta.tcl").read_text()
    assert leakage["1ns"] == pytest.approx(15e-9, rel=1e-6) and leakage["1ps"] == pytest.approx(leakage["1ns"])


_HAND_TCL = """\
{reads}
read_verilog {netlist}
link_design top
create_clock -name clk -period 2000 [get_ports clk]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 0 -clock clk [all_outputs]
report_checks -path_delay max -digits 4
"""


@needs_sta
def test_asap7_delay_agrees_with_a_hand_run_opensta(tmp_path):
    """:func:`eda.sta.critical_path` on the ASAP7 folder = OpenSTA run by hand in ps."""
    tool = sta.find_sta()
    delay = sta.critical_path(ASAP7_NETLIST, liberty=liberty.open_library(ASAP7_LIBRARY), top="top",
                              clock_ns=2.0, workdir=tmp_path, sta=tool)
    hand = tmp_path / "hand"
    hand.mkdir()
    reads = "\n".join(f"read_liberty {p}" for p in sorted(tmp_path.glob("cells*.lib")))
    (hand / "hand.tcl").write_text(_HAND_TCL.format(reads=reads, netlist=ASAP7_NETLIST))
    text = run_tool(tool, ["hand.tcl"], cwd=hand, log_name="hand.log", timeout=sta.TIME_LIMIT)
    slack_ps = float(re.search(r"(-?\d+\.\d+)\s+slack \(MET\)", text).group(1))
    assert delay == pytest.approx((2000 - slack_ps) / 1000, abs=1e-4)
    assert 0.01 < delay < 0.5  # ps read as ns would be 1000 times larger


@needs_sta
def test_no_timed_path_is_an_error_naming_the_cause(tmp_path):
    """Cells without usable timing (no ``delay_model``): OpenSTA finds no path, and
    that is an error, not a delay of 0."""
    netlist = tmp_path / "chain.v"
    netlist.write_text(_CHAIN)
    (tmp_path / "untimed.lib").write_text(tiny_liberty(NS_PF).replace("delay_model : table_lookup;", ""))
    with pytest.raises(ToolError, match=r"no timed path .*did not link.*not 0 \(full log: .*sta.log\)"):
        sta.critical_path(netlist, liberty=tmp_path / "untimed.lib", top="top", clock_ns=10.0,
                          workdir=tmp_path, sta=sta.find_sta())
