"""The block harness's file format, slot plans, chunked vectors and coverage counts
(:mod:`verify.harness`, :mod:`verify.vectors`, :mod:`verify.coverage`), without a
simulator: the cocotb regression relies on each of them being exact."""

import numpy as np
import pytest

from sim import golden, layers
from sim.ports import RESCALER_INPUTS, rescaler_inputs
from verify import harness
from verify.coverage import Coverage, format_table
from verify.vectors import CHUNK, KINDS, rescaler_vectors, vector_chunks


def _parse_slot(data, layout):
    """Reference decoder of one slot's big-endian bytes (Python ints, no numpy)."""
    assert len(data) == layout.bytes
    word = int.from_bytes(data, "big")
    return {field.name: (word >> field.offset) & ((1 << field.width) - 1) for field in layout.fields}


@pytest.mark.parametrize("k,hidden_bit", [(2, False), (4, True), (8, False), (13, False), (32, False), (32, True)])
def test_pack_block_writes_every_field_where_the_harness_reads_it(k, hidden_bit):
    rng = np.random.default_rng(k)
    layout = harness.input_layout(k, hidden_bit=hidden_bit)
    cycles, lanes = 5, 3
    valid = rng.random((cycles, lanes)) < 0.5
    ports = rescaler_inputs(k, hidden_bit=hidden_bit)
    columns = {port.name: rng.integers(0, 1 << port.width, size=(cycles, lanes), dtype=np.int64) for port in ports}
    data = harness.pack_block(layout, columns, valid)
    assert len(data) == cycles * lanes * layout.bytes
    assert layout.bits == 8 * layout.bytes >= sum(field.width for field in layout.fields)
    for c in range(cycles):
        for lane in range(lanes):
            at = (c * lanes + lane) * layout.bytes
            fields = _parse_slot(data[at:at + layout.bytes], layout)
            assert fields["valid"] == valid[c, lane]
            for port in ports:
                assert fields[port.name] == columns[port.name][c, lane], (port.name, c, lane)
    # The Verilog slices each port at the same offset and width.
    verilog = harness.harness_verilog(k, lanes=lanes, depth=8, dut_top="rescaler", has_clock=True,
                                      hidden_bit=hidden_bit)
    for port in ports:
        field = layout.field(port.name)
        assert f".{port.name}(word[{field.offset} +: {port.width}])" in verilog


def _z_image(words, xz, lanes, bits):
    """Reference ``%z`` encoder: one cycle's lane words (and their x/z masks) side by side,
    32-bit groups from the least significant, each a value word then a mask word, little-endian."""
    value = sum(w << (bits * lane) for lane, w in enumerate(words))
    mask = sum(m << (bits * lane) for lane, m in enumerate(xz))
    out = b""
    for group in range(-(-lanes * bits // 32)):
        out += ((value >> (32 * group)) & 0xFFFFFFFF).to_bytes(4, "little")
        out += ((mask >> (32 * group)) & 0xFFFFFFFF).to_bytes(4, "little")
    return out


def test_unpack_outputs_reads_values_and_unknowns():
    lanes, cycles, bits = 3, 2, harness.OUTPUT_LAYOUT.bits  # 3 lanes of 16 bits: a half-filled last group
    # lane word = {y_valid, y}: 0x1ff is y_valid = 1, y = -1.
    words = [[0x1FF, 0x080, 0x17F], [0x000, 0x100, 0x081]]
    xz = [[0, 0x010, 0], [0x100, 0, 0]]  # an unknown bit of y (cycle 0, lane 1), of y_valid (cycle 1, lane 0)
    data = b"".join(_z_image(w, m, lanes, bits) for w, m in zip(words, xz))
    assert len(data) == harness.output_bytes(lanes, cycles)
    y, y_valid, y_unknown, valid_unknown = harness.unpack_outputs(data, lanes, cycles)
    assert y.tolist() == [[-1, -128, 127], [0, 0, -127]]
    assert y_valid.tolist() == [[True, False, True], [False, True, False]]
    assert y_unknown.tolist() == [[False, True, False], [False, False, False]]
    assert valid_unknown.tolist() == [[False, False, False], [True, False, False]]
    with pytest.raises(ValueError, match=r"wrote 16 bytes of output, expected 32 \(2 cycles of 3 lanes\)"):
        harness.unpack_outputs(data[:16], lanes, cycles)


@pytest.mark.parametrize("rate", [0.0, 0.3, 0.9])
def test_valid_plan_places_every_vector_once(rate):
    rng = np.random.default_rng(1)
    for n in (1, 15, 16, 17, 1000):
        plan = harness.valid_plan(n, 16, rate, rng)
        assert plan.sum() == n and plan.shape[1] == 16
        assert plan[-1].any()  # no trailing idle cycle
        if rate == 0:
            assert plan.reshape(-1)[:n].all()


def test_vector_chunks_are_reproducible_bounded_and_match_the_whole():
    k, n = 8, 2 * CHUNK + 5
    chunks = list(vector_chunks(k, n, seed=7))
    again = list(vector_chunks(k, n, seed=7))
    assert [len(c.table) for c in chunks] == [len(c.table) for c in again]
    assert all(np.array_equal(a.table, b.table) for a, b in zip(chunks, again))
    assert max(len(c.table) for c in chunks[1:]) <= CHUNK
    assert sum(len(c.table) for c in chunks[1:]) == n
    assert [c.start for c in chunks] == list(np.cumsum([0] + [len(c.table) for c in chunks[:-1]]))
    for chunk in chunks:
        np.testing.assert_array_equal(chunk.expected, golden.rescale(*chunk.table.T[:3], zero_point=chunk.table[:, 3],
                                                                     act_min=chunk.table[:, 4],
                                                                     act_max=chunk.table[:, 5], k=k))
    assert set(KINDS[i] for i in chunks[1].kind) == {"random", "realistic"}
    table, kinds, expected = rescaler_vectors(k, n, seed=7)
    np.testing.assert_array_equal(table, np.concatenate([c.table for c in chunks]))
    assert kinds[0] == "edge" and len(kinds) == len(table) == len(expected)


def test_coverage_counts_ties_saturation_and_m_zero():
    k = 8
    # acc*m = 3 * 2^(s-1): a tie at s = 4 (+ and -); a saturation high and low; m = 0; an in-range value.
    table = np.array([[3 << 3, 1, 4, 0, -128, 127], [-(3 << 3), 1, 4, 0, -128, 127],
                      [1000, 128, 7, 0, -128, 127], [-1000, 128, 7, 0, 0, 127],
                      [12345, 0, 9, 5, -128, 127], [100, 128, 7, 0, -128, 127]])
    cov = Coverage(k=k, lanes=2)
    cov.add(table, lane=[0, 1, 0, 1, 0, 1])
    summary = cov.summary()
    assert summary["ties_positive"] == 1 and summary["ties_negative"] == 1
    assert summary["sat_high"] == 1 and summary["sat_low"] == 1 and summary["m_zero"] == 1
    assert summary["in_range"] == pytest.approx(3 / 6)
    assert summary["s_hit"] == 3 and 0 in summary["s_missed"]
    assert summary["acc_wraps"] is None
    assert "| run |" in format_table([cov.row("x")])


@pytest.mark.parametrize("k", [4, 8, 32])
def test_random_layers_mostly_exercise_the_rounding_path(k):
    """Most outputs of the engine regression's random layers are in range (neither clamp
    bound, m != 0): the layers are shaped like a quantized network's."""
    rng = np.random.default_rng(k)
    cov = Coverage(k=k, lanes=4, wraps=True)
    for _ in range(60):
        length = int(rng.integers(1, 70 * 8 + 1))
        layer = layers.random_layer(rng, k=k, positions=int(rng.integers(1, 4)), channels=int(rng.integers(1, 13)),
                                    length=length)
        schedule = layers.layer_schedule(layer, macs=8, engines=4)
        ops, real = layers.schedule_operands(schedule), schedule.channel >= 0
        cov.add(np.stack([ops[name][real] for name in RESCALER_INPUTS], axis=1), lane=np.nonzero(real)[1],
                wrapped=ops["wrapped"][real])
    summary = cov.summary()
    assert summary["in_range"] >= 0.5, summary
    assert summary["sat_low"] > 0 and summary["sat_high"] > 0  # the clamps are still exercised
