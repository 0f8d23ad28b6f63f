"""The Rescaler in Amaranth's Python simulator, against the golden model.

Glasgow's pattern: :func:`ref_rescale` is :func:`sim.golden.rescale`, :func:`rtl_rescale`
streams the same vectors through the simulated component; the two must agree
bit-exactly, and ``y_valid`` must follow ``valid`` by exactly ``latency`` cycles.
"""

import gc
import re
import warnings

import numpy as np
import pytest
from amaranth.hdl import Shape, UnusedElaboratable, signed, unsigned
from amaranth.lib import wiring
from amaranth.sim import Simulator

from hw.export import RESCALER_TOP, to_rtlil, to_verilog
from hw.rescaler import Rescaler
from sim.golden import INT8_MAX, INT8_MIN, INT32_MAX, INT32_MIN, rescale, s_max, shift_bits
from sim.ports import RESCALER_INPUTS
from verify import vectors as shared
from verify.vectors import columns

KS = (4, 8, 32)
PIPELINES = (0, 1, 2, 3)
N_RANDOM = 300
BUBBLE_SAMPLE = 1000
PERIOD = 1e-6



# --------------------------------------------------------------------------- models

def ref_rescale(k, vectors):
    """Golden results of ``vectors`` (dict of equal-length int arrays named as the ports)."""
    return rescale(vectors["acc"], vectors["m"], vectors["s"], zero_point=vectors["zero_point"],
                   act_min=vectors["act_min"], act_max=vectors["act_max"], k=k).astype(np.int64)


def rtl_rescale(k, pipeline, vectors, *, valid=None, rng=None, trace=None, **arch):
    """Simulate the Rescaler on ``vectors``, one operand set per cycle.

    ``valid`` (bool per cycle, optional) inserts bubbles: on a cycle where it is
    False the inputs carry random garbage with ``valid = 0``. Every cycle, after
    the inputs are set, ``y`` and ``y_valid`` are sampled; ``latency`` extra idle
    cycles flush the pipeline.

    Returns ``(ys, valid_in, valid_out, dut)``: the ``y`` of every sample with
    ``y_valid = 1`` in order, and the per-cycle ``valid`` and ``y_valid`` traces;
    ``trace`` (a list), if given, receives ``y`` of every cycle. ``**arch`` are
    the rescaler's architecture options.
    """
    dut = Rescaler(k=k, rescaler_pipeline=pipeline, **arch)
    n = len(vectors["acc"])
    if valid is None:
        valid = np.ones(n, dtype=bool)
    valid = np.asarray(valid, dtype=bool)
    assert valid.sum() == n
    cycles = len(valid) + dut.latency
    rng = rng or np.random.default_rng(0)
    garbage = columns(shared.random_vectors(k, len(valid), rng))

    valid_in, valid_out, ys = [], [], []

    async def testbench(ctx):
        index = 0
        for cycle in range(cycles):
            on = cycle < len(valid) and bool(valid[cycle])
            source, row = (vectors, index) if on else (garbage, min(cycle, len(valid) - 1))
            for name in RESCALER_INPUTS:
                ctx.set(getattr(dut, name), int(source[name][row]))
            ctx.set(dut.valid, on)
            index += on
            valid_in.append(on)
            y_valid = ctx.get(dut.y_valid)
            valid_out.append(bool(y_valid))
            if trace is not None:
                trace.append(ctx.get(dut.y))
            if y_valid:
                ys.append(ctx.get(dut.y))
            if pipeline:
                await ctx.tick()
            else:
                await ctx.delay(PERIOD)

    sim = Simulator(dut)
    if pipeline:
        sim.add_clock(PERIOD)
    sim.add_testbench(testbench)
    sim.run()
    return np.array(ys, dtype=np.int64), valid_in, valid_out, dut


# --------------------------------------------------------------------------- vectors

def random_vectors(k, n, seed):
    return columns(shared.random_vectors(k, n, np.random.default_rng(seed)))


def _describe_mismatch(k, pipeline, vectors, expected, got):
    bad = np.flatnonzero(expected != got)
    i = bad[0]
    operands = ", ".join(f"{name}={int(vectors[name][i])}" for name in RESCALER_INPUTS)
    return (f"k={k} pipeline={pipeline}: {len(bad)} mismatches; first #{i}: {operands}: "
            f"golden {int(expected[i])}, rtl {int(got[i])}")


# --------------------------------------------------------------------------- behaviour

@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("k", KS)
def test_matches_golden(k, pipeline):
    """Every edge vector and random ones back to back, then a sample of them with random
    bubbles. The bubbles test the pipeline's valid handling, which does not depend on the
    values (the cocotb regression runs every vector both ways on the Verilog); the sample
    keeps this Python simulation short."""
    rng = np.random.default_rng(k * 10 + pipeline)
    table = np.concatenate([shared.edge_vectors(k),
                            shared.random_vectors(k, N_RANDOM, np.random.default_rng(1000 * k + pipeline))])
    for bubbles, rows in ((False, table), (True, table[rng.choice(len(table), BUBBLE_SAMPLE, replace=False)])):
        vectors = columns(rows)
        expected = ref_rescale(k, vectors)
        n = len(expected)
        valid = None
        if bubbles:
            valid = np.ones(n + n // 3, dtype=bool)
            valid[rng.choice(len(valid), len(valid) - n, replace=False)] = False
        got, valid_in, valid_out, dut = rtl_rescale(k, pipeline, vectors, valid=valid, rng=rng)
        assert len(got) == n, f"{len(got)} results for {n} valid inputs"
        assert np.array_equal(got, expected), _describe_mismatch(k, pipeline, vectors, expected, got)
        # y_valid is exactly valid delayed by `latency` cycles (and 0 before that).
        latency = dut.latency
        assert valid_out == [False] * latency + valid_in[:len(valid_in) - latency]


@pytest.mark.parametrize("pipeline", PIPELINES[1:])
@pytest.mark.parametrize("k", (4, 32))
def test_operand_isolation_holds_y_between_results(k, pipeline):
    """With operand isolation the results, their timing and bubbles are unchanged,
    and ``y`` changes only when a result arrives: the registers ignore the garbage
    of the bubbles."""
    vectors = random_vectors(k, 120, seed=k + pipeline)
    rng = np.random.default_rng(pipeline)
    valid = np.ones(180, dtype=bool)
    valid[rng.choice(180, 60, replace=False)] = False
    trace = []
    got, valid_in, valid_out, dut = rtl_rescale(k, pipeline, vectors, valid=valid, rng=rng, trace=trace,
                                                operand_isolation=True)
    assert np.array_equal(got, ref_rescale(k, vectors))
    assert valid_out == [False] * dut.latency + valid_in[:len(valid_in) - dut.latency]
    changed = [i for i in range(1, len(trace)) if trace[i] != trace[i - 1] and not valid_out[i]]
    assert not changed, f"y changed without y_valid at cycles {changed[:5]}"


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_latency_property(pipeline):
    """One valid pulse after idle cycles: y_valid rises exactly `latency` cycles later."""
    k = 8
    vectors = columns([(1000, 200, 10, 3, -128, 127)])
    valid = [False, False, True, False, False, False, False]
    got, valid_in, valid_out, dut = rtl_rescale(k, pipeline, vectors, valid=valid)
    assert dut.latency == pipeline == dut.rescaler_pipeline
    assert valid_out.index(True) - valid_in.index(True) == dut.latency
    assert sum(valid_out) == 1
    assert got.tolist() == ref_rescale(k, vectors).tolist()


# --------------------------------------------------------------------------- construction

@pytest.fixture
def quiet_unused():
    """Collect the components a test made but never elaborated, without the
    UnusedElaboratable warning (a failed constructor still creates the object)."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        gc.collect()


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 40}, r"^k must be an integer in 2\.\.32, not 40$"),
    ({"k": 1}, r"^k must be an integer in 2\.\.32, not 1$"),
    ({"k": True}, r"^k must be an integer in 2\.\.32, not True$"),
    ({"k": 8.0}, r"^k must be an integer in 2\.\.32, not 8\.0$"),
    ({"k": "8"}, r"^k must be an integer in 2\.\.32, not '8'$"),
    ({"k": 8, "rescaler_pipeline": 4}, r"^rescaler_pipeline must be an integer in 0\.\.3 .*not 4$"),
    ({"k": 8, "rescaler_pipeline": -1}, r"^rescaler_pipeline must be an integer in 0\.\.3 .*not -1$"),
    ({"k": 8, "rescaler_pipeline": True}, r"^rescaler_pipeline must be an integer in 0\.\.3 .*not True$"),
])
def test_eager_validation(kwargs, message, quiet_unused):
    with pytest.raises(ValueError, match=message):
        Rescaler(**kwargs)


def test_k_is_keyword_only(quiet_unused):
    with pytest.raises(TypeError):
        Rescaler(8)  # noqa


@pytest.mark.parametrize("k", (2, 4, 8, 32))
def test_signature(k, quiet_unused):
    dut = Rescaler(k=k, rescaler_pipeline=2)
    members = dut.signature.members
    expected = {
        "acc": (wiring.In, signed(32)),
        "m": (wiring.In, unsigned(k)),
        "s": (wiring.In, unsigned(shift_bits(k))),
        "zero_point": (wiring.In, signed(8)),
        "act_min": (wiring.In, signed(8)),
        "act_max": (wiring.In, signed(8)),
        "valid": (wiring.In, unsigned(1)),
        "y": (wiring.Out, signed(8)),
        "y_valid": (wiring.Out, unsigned(1)),
    }
    assert set(members.keys()) == set(expected)
    for name, (flow, shape) in expected.items():
        assert members[name].flow == flow, name
        assert Shape.cast(members[name].shape) == shape, name
    assert shift_bits(k) == (32 + k - 8).bit_length()
    assert dut.k == k and dut.s_max == s_max(k) == 32 + k - 8
    assert dut.rescaler_pipeline == dut.latency == 2


# --------------------------------------------------------------------------- multiplier width

_DECLARATION = re.compile(
    r"^\s*(?:input|output|inout|wire|reg)\s+(?:signed\s+)?(?:\[(\d+):(\d+)\]\s+)?"
    r"(\\\S+|[A-Za-z_][\w$]*)\s*(?:=[^;]*)?;", re.MULTILINE)
_IDENT = r"(?:\\\S+\s|[A-Za-z_][\w$]*)"
_OPERAND = rf"(\$signed\(\s*{_IDENT}\s*\)|{_IDENT})(?:\s*\[[^\]]*\])?"
_MULTIPLY = re.compile(rf"{_OPERAND}\s*\*\s*{_OPERAND}")


def verilog_multiplies(text):
    """Every ``a * b`` in Verilog text, as ``(width_a, width_b, signed_a, signed_b)``.

    Comments and ``(* attributes *)`` are removed first; operand widths come from
    the wire/port declarations (part-selects are not expected and make the test fail).
    """
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    text = re.sub(r"\(\*.*?\*\)", " ", text, flags=re.DOTALL)
    text = re.sub(r"//[^\n]*", " ", text)
    widths = {}
    for msb, lsb, name in _DECLARATION.findall(text):
        widths[name.strip()] = abs(int(msb) - int(lsb)) + 1 if msb else 1
    assert widths, "no declarations parsed"
    found = []
    for match in _MULTIPLY.finditer(text):
        assert "[" not in match.group(0), f"part-select in multiply: {match.group(0)!r}"
        operands = []
        for operand in match.groups():
            is_signed = operand.startswith("$signed(")
            name = operand[len("$signed("):-1].strip() if is_signed else operand.strip()
            operands.append((widths[name], is_signed))
        (wa, sa), (wb, sb) = operands
        found.append((wa, wb, sa, sb))
    return found


def rtlil_multiplies(text):
    """Every ``$mul`` cell of RTLIL text as ``(A_WIDTH, B_WIDTH, A_SIGNED, B_SIGNED)``."""
    found = []
    for cell in re.findall(r"^\s*cell \$mul .*?^\s*end$", text, flags=re.MULTILINE | re.DOTALL):
        params = dict(re.findall(r"parameter \\(\w+) (\d+)", cell))
        found.append((int(params["A_WIDTH"]), int(params["B_WIDTH"]),
                      bool(int(params["A_SIGNED"])), bool(int(params["B_SIGNED"]))))
    return found


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_verilog_k4_has_one_32x4_multiplier(pipeline):
    text = to_verilog(Rescaler(k=4, rescaler_pipeline=pipeline), name=RESCALER_TOP)
    assert f"module {RESCALER_TOP}(" in text
    assert verilog_multiplies(text) == [(32, 4, False, False)]
    # The product is 36 bits, the multiplier's result width.
    assert re.search(r"wire \[35:0\] magnitude;", text)


@pytest.mark.parametrize("k", (2, 4, 8, 17, 32))
def test_rtlil_has_one_32xk_multiplier(k):
    text = to_rtlil(Rescaler(k=k, rescaler_pipeline=1), name=RESCALER_TOP)
    assert rtlil_multiplies(text) == [(32, k, False, False)]


def test_multiply_parser_sees_wider_operands():
    """The Verilog parser itself: it reports widths and signedness it is shown."""
    text = """/* Generated by x * y */
    (* top = 1 *)
    module t(a, b, c);
      input [31:0] a; wire [31:0] a;
      input [4:0] b; wire [4:0] b;
      wire [36:0] \\$1 ;
      assign \\$1  = $signed(a) * b;
    endmodule"""
    assert verilog_multiplies(text) == [(32, 5, True, False)]
