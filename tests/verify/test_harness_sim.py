"""The block harness (:mod:`verify.harness`) in Icarus, without cocotb: it reads every
field of the binary block file where :func:`verify.harness.pack_block` put it, writes
an output file :func:`verify.harness.unpack_outputs` reads back, and stops with a
message on a short block file. The cocotb regression trusts all three."""

import subprocess

import numpy as np
import pytest

from sim.ports import rescaler_inputs
from verify import harness

pytestmark = pytest.mark.cocotb  # needs an HDL simulator


def _echo_verilog(k, hidden_bit):
    """A combinational stand-in for the rescaler: ``y`` is the XOR of every byte of every
    input field (each zero-extended to whole bytes), ``y_valid`` is ``valid``."""
    ports = rescaler_inputs(k, hidden_bit=hidden_bit)
    lines = ["module echo ("]
    lines += [f"  input wire [{port.width - 1}:0] {port.name}," for port in ports]
    lines += ["  input wire valid,", "  output wire [7:0] y,", "  output wire y_valid", ");"]
    terms = []
    for port in ports:
        padded = -(-port.width // 8) * 8
        lines.append(f"  wire [{padded - 1}:0] {port.name}_z = {port.name};")
        terms += [f"{port.name}_z[{8 * i} +: 8]" for i in range(padded // 8)]
    lines += [f"  assign y = {' ^ '.join(terms)};", "  assign y_valid = valid;", "endmodule", ""]
    return "\n".join(lines)


def _echo_expected(columns, ports):
    y = 0
    for port in ports:
        value = columns[port.name]
        for i in range(-(-port.width // 8)):
            y = y ^ ((value >> (8 * i)) & 0xFF)
    return y


def _run(tmp_path, k, hidden_bit, cycles, lanes, data, dut=None):
    """Play one block file through the harness around ``dut`` (Verilog of a module ``echo``,
    default :func:`_echo_verilog`) with the plain testbench; the ``vvp`` result."""
    (tmp_path / harness.IN_FILE).write_bytes(data)
    source = tmp_path / "bench.v"
    source.write_text((dut or _echo_verilog(k, hidden_bit))
                      + harness.harness_verilog(k, lanes=lanes, depth=cycles + 2, dut_top="echo", has_clock=False,
                                                hidden_bit=hidden_bit)
                      + harness.bench_verilog(cycles=cycles, blocks=1))
    subprocess.run(["iverilog", "-g2012", "-o", "bench.vvp", "-s", "harness_bench", str(source)], cwd=tmp_path,
                   check=True)
    return subprocess.run(["vvp", "-n", "bench.vvp"], cwd=tmp_path, check=True, capture_output=True, text=True)


@pytest.mark.parametrize("k,hidden_bit", [(4, True), (8, False), (32, False)])
def test_the_harness_reads_what_pack_block_writes(tmp_path, k, hidden_bit):
    rng = np.random.default_rng(k)
    cycles, lanes = 7, 3
    layout = harness.input_layout(k, hidden_bit=hidden_bit)
    ports = rescaler_inputs(k, hidden_bit=hidden_bit)
    valid = rng.random((cycles, lanes)) < 0.6
    columns = {port.name: rng.integers(0, 1 << port.width, size=(cycles, lanes), dtype=np.int64) for port in ports}
    _run(tmp_path, k, hidden_bit, cycles, lanes, harness.pack_block(layout, columns, valid))
    y, y_valid, y_unknown, valid_unknown = harness.unpack_outputs(
        (tmp_path / harness.OUT_FILE).read_bytes(), lanes, cycles)
    expected = _echo_expected(columns, ports)
    np.testing.assert_array_equal(y & 0xFF, expected)
    np.testing.assert_array_equal(y_valid, valid)
    assert not y_unknown.any() and not valid_unknown.any()


def test_a_short_block_file_stops_the_harness_with_a_message(tmp_path):
    k, cycles, lanes = 8, 4, 2
    layout = harness.input_layout(k)
    valid = np.ones((cycles, lanes), dtype=bool)
    columns = {port.name: np.zeros((cycles, lanes), dtype=np.int64) for port in rescaler_inputs(k)}
    data = harness.pack_block(layout, columns, valid)[:-1]
    result = _run(tmp_path, k, False, cycles, lanes, data)
    assert (f"rescaler_harness: read {len(data)} bytes of {harness.IN_FILE}, "
            f"expected {cycles * lanes * layout.bytes}") in result.stdout


def test_unknown_output_bits_reach_python(tmp_path):
    """Icarus is four-state: an x on ``y`` must come back flagged, not as a number."""
    k, cycles, lanes = 8, 3, 5
    ports = rescaler_inputs(k)
    dut = "\n".join(["module echo ("] + [f"  input wire [{port.width - 1}:0] {port.name}," for port in ports]
                    + ["  input wire valid, output wire [7:0] y, output wire y_valid);",
                       "  assign y = valid ? 8'b0000_0xx1 : 8'd5;", "  assign y_valid = valid;", "endmodule", ""])
    valid = np.random.default_rng(0).random((cycles, lanes)) < 0.5
    columns = {port.name: np.zeros((cycles, lanes), dtype=np.int64) for port in ports}
    _run(tmp_path, k, False, cycles, lanes, harness.pack_block(harness.input_layout(k), columns, valid), dut=dut)
    y, y_valid, y_unknown, valid_unknown = harness.unpack_outputs(
        (tmp_path / harness.OUT_FILE).read_bytes(), lanes, cycles)
    np.testing.assert_array_equal(y_unknown, valid)
    np.testing.assert_array_equal(y[~valid], 5)
    np.testing.assert_array_equal(y_valid, valid)
    assert not valid_unknown.any()
