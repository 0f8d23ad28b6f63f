"""The ports of the datapath, defined once.

Names, widths and signedness of the rescaler's and the engine's data ports, as
functions of ``k`` and the operand encoding. The RTL (:mod:`hw`) builds its
signatures from here, the layer schedule (:mod:`sim.layers`) packs its words with
these widths, and the testbenches and the formal harness drive and name the same
ports, so no interface can drift from another.

Verilog ports are plain vectors; signedness is a convention that
:meth:`Port.encode` applies.
"""

from dataclasses import dataclass

from .golden import ACC_BITS, OUT_BITS, shift_bits

__all__ = ["Port", "RESCALE_OPERANDS", "RESCALER_INPUTS", "ENGINE_INPUTS", "ENGINE_OPERANDS", "rescale_operands",
           "rescaler_inputs", "engine_lanes", "engine_operand_bits"]

#: Per-channel rescale operands, in port order.
RESCALE_OPERANDS = ("m", "s", "zero_point", "act_min", "act_max")
#: Data inputs of the rescaler, in port order.
RESCALER_INPUTS = ("acc",) + RESCALE_OPERANDS
#: Data inputs of the engine and the array, in port order (``bias`` and the rescale
#: operands are per engine, ``x`` and ``w`` per lane).
ENGINE_INPUTS = ("x", "w", "bias") + RESCALE_OPERANDS + ("first", "last")
#: The array's inputs with one lane per engine (the rest are shared by all engines):
#: what a pre-skewed array takes ``e`` cycles late for engine ``e``.
ENGINE_OPERANDS = ("w", "bias") + RESCALE_OPERANDS


@dataclass(frozen=True)
class Port:
    """One data port (or one lane of a packed port).

    Members
    -------
    name : str
    width : int
        Bits.
    signed : bool
        Two's complement by convention.
    doc : str
        One line for help texts.
    """

    name: str
    width: int
    signed: bool
    doc: str

    def encode(self, value):
        """``value`` as the unsigned word a simulator drives onto the port (two's
        complement for a signed port; the bits above ``width`` are dropped)."""
        return int(value) & ((1 << self.width) - 1)


def rescale_operands(k, *, hidden_bit=False):
    """The rescale operands of one output channel for a ``k``-bit multiplier.

    With ``hidden_bit`` the ``m`` port holds ``m - 2^(k-1)`` on ``k - 1`` bits (the
    leading 1 is implicit)."""
    return (
        Port("m", k - 1 if hidden_bit else k, False,
             "multiplier, M = m * 2^-s" + (" (m - 2^(k-1): leading 1 implicit)" if hidden_bit else "")),
        Port("s", shift_bits(k), False, f"right shift, 0..{ACC_BITS}+k-{OUT_BITS}"),
        Port("zero_point", OUT_BITS, True, "output zero point, added after rounding"),
        Port("act_min", OUT_BITS, True, "lower saturation bound (act_min <= act_max)"),
        Port("act_max", OUT_BITS, True, "upper saturation bound"),
    )


def rescaler_inputs(k, *, hidden_bit=False):
    """The rescaler's data inputs: the accumulator and the rescale operands."""
    return (Port("acc", ACC_BITS, True, "accumulator, sum x*w + b_eff"),
            *rescale_operands(k, hidden_bit=hidden_bit))


def engine_lanes(k, *, hidden_bit=False):
    """One lane of each of the engine's packed data inputs, by name (:data:`ENGINE_INPUTS`)."""
    lanes = (Port("x", 8, True, "int8 activation"), Port("w", 8, True, "int8 weight"),
             Port("bias", ACC_BITS, True, "int32 b_eff, sampled on first"),
             *rescale_operands(k, hidden_bit=hidden_bit),
             Port("first", 1, False, "first beat of an output channel"),
             Port("last", 1, False, "last beat of an output channel"))
    return {port.name: port for port in lanes}


def engine_operand_bits(k, macs, *, hidden_bit=False):
    """Bits of one engine's lane of each :data:`ENGINE_OPERANDS` port, by name: the
    ``macs`` weights together, then ``bias`` and the rescale operands."""
    lanes = engine_lanes(k, hidden_bit=hidden_bit)
    return {name: lanes[name].width * (macs if name == "w" else 1) for name in ENGINE_OPERANDS}
