"""The k-bit rescaler: Eq. (1) of the paper as a pipelined Amaranth component.

It computes, bit-exactly as :func:`sim.golden.rescale` with ``rounding="half_up"``::

    y = clamp( floor((acc*m + 2^(s-1)) / 2^s) + zero_point, act_min, act_max )

The point of the project is the width of the multiplier, so the datapath keeps it
explicit and exactly ``32 x k`` bits: the signed accumulator is multiplied as an
unsigned word and its sign is corrected by a ``k``-bit subtraction in the upper
half of the product (``acc = acc_u - acc[31]*2^32``), instead of a
``32 x (k+1)`` signed multiply that synthesis would not narrow.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sim.golden import ACC_BITS, OUT_BITS, s_max
from sim.ports import rescale_operands

from .config import ConfigProperties, DatapathConfig

__all__ = ["Rescaler", "port_shape", "rescale_operand_shapes"]


#: Width of the saturated shifted value with ``fast_clamp``: ``floor(p / 2^(s-1))``
#: clamped to [-512, 511] rounds to [-256, 256], beyond int8 whatever the zero point.
SAT_BITS = OUT_BITS + 2
#: Shift positions of ``trim_shift``: ``s - (k-1)`` in ``0..s_max(k) - (k-1) = 25``.
TRIM_SHIFT_BITS = (s_max(2) - 1).bit_length()


def port_shape(port):
    """The Amaranth shape of a :class:`sim.ports.Port`."""
    return (signed if port.signed else unsigned)(port.width)


def rescale_operand_shapes(k, *, hidden_bit=False, **_):
    """Shapes of one output channel's rescale operands (:func:`sim.ports.rescale_operands`),
    by port name: the rescaler, the engine and the array all take these."""
    return {port.name: port_shape(port) for port in rescale_operands(k, hidden_bit=hidden_bit)}


class Rescaler(ConfigProperties, wiring.Component):
    """Rescale a signed 32-bit accumulator to int8 with a ``k``-bit multiplier.

    Three stages, each optionally followed by a register (``rescaler_pipeline`` of them,
    counted from the output, so ``rescaler_pipeline`` is the latency in cycles):

    1. multiply: ``product = acc * m`` (``32 + k`` signed bits);
    2. round and shift: ``(floor(2*product / 2^s) + 1) >> 1`` (one shifter, one
       incrementer; ``s = 0`` passes the product through unchanged);
    3. add ``zero_point`` and clamp to ``[act_min, act_max]``.

    There is no back-pressure: one operand set may enter every cycle.

    Architecture options (``**arch``, fields of :class:`hw.config.DatapathConfig`;
    only ``fast_clamp`` is on by default): ``fast_clamp`` (saturate the shifted value to
    :data:`SAT_BITS` bits by overflow detection, so rounding, zero point and clamp
    are 10-11 bits wide; exact for all operands), ``trim_shift`` (a 26-position
    shifter for ``s - (k-1)``; exact when ``m == 0 or s >= k-1``) and
    ``hidden_bit`` (``m`` port of ``k-1`` bits holding ``m - 2^(k-1)``; exact for
    every ``m >= 2^(k-1)``), ``operand_isolation`` (the data registers load only
with their ``valid``, so they and the logic behind them hold still between
results; ``y`` then holds the last result). :func:`sim.golden.legal_operands` states the
    contracts; ``make formal`` proves each variant against Eq. (1).

    Parameters
    ----------
    k : int
        Multiplier width in bits (2..32), leading 1 included.
    rescaler_pipeline : int
        Number of registered stages (0..3). 0 is combinational (no clock);
        1 registers the output; 2 also registers the rounded, shifted value; 3
        also the product. See :class:`hw.config.DatapathConfig`.

    Members
    -------
    acc : In(signed(32))
        Accumulator ``sum x*w + b_eff``.
    m : In(unsigned(k))
        Multiplier, ``M_q = m * 2^-s``.
    s : In(unsigned(bit_length(32 + k - 8)))
        Right shift, ``0 <= s <= 32 + k - 8``; larger values are outside the
        contract (the quantizer never produces them).
    zero_point, act_min, act_max : In(signed(8))
        Output zero point and saturation bounds (``act_min <= act_max``).
    valid : In(1)
        The operands are valid this cycle.
    y : Out(signed(8))
        The int8 result, ``latency`` cycles after its operands.
    y_valid : Out(1)
        ``valid`` delayed by ``latency`` cycles.
    """

    def __init__(self, *, k, rescaler_pipeline=1, **arch):
        self._config = DatapathConfig(k=k, rescaler_pipeline=rescaler_pipeline, **arch)
        super().__init__({
            "acc": In(signed(ACC_BITS)),
            **{name: In(shape) for name, shape in rescale_operand_shapes(k, **arch).items()},
            "valid": In(1),
            "y": Out(signed(OUT_BITS)),
            "y_valid": Out(1),
        })

    @classmethod
    def from_config(cls, config):
        """The rescaler of a :class:`~hw.config.DatapathConfig` (engine fields ignored)."""
        return cls(k=config.k, rescaler_pipeline=config.rescaler_pipeline, **config.arch)

    @property
    def s_max(self):
        """Largest supported shift, ``32 + k - 8``."""
        return s_max(self.k)

    def round_half(self, partial, shift):
        """The rounding step: ``partial = floor(p / 2^(s-1))`` (``2p`` for ``s = 0``)
        to ``floor(p / 2^s + 1/2)``. ``shift`` is the stage's shift operand (``s``,
        or ``s - (k-1)`` with ``trim_shift``). Its own method so that a variant (or
        a test's deliberately broken rescaler) can replace it."""
        return (partial + 1) >> 1

    def elaborate(self, platform):
        m = Module()
        k = self.k
        # Registers sit after the last `rescaler_pipeline` of the three stages.
        registered = [stage >= 3 - self.rescaler_pipeline for stage in range(3)]

        cfg = self._config

        def stage(index, **values):
            """Pass ``values`` to the next stage, through registers if this stage is registered
            (with ``operand_isolation`` the data registers load only with their ``valid``)."""
            outputs = {}
            for name, value in values.items():
                out = Signal.like(value, name=f"{name}_{index}")
                if registered[index] and cfg.operand_isolation and name != "valid":
                    with m.If(values["valid"]):
                        m.d.sync += out.eq(value)
                else:
                    domain = m.d.sync if registered[index] else m.d.comb
                    domain += out.eq(value)
                outputs[name] = out
            return outputs

        # Stage 1: the 32 x k multiplier, unsigned, and a k-bit sign correction on top.
        acc_u = self.acc.as_unsigned()
        magnitude = Signal(unsigned(ACC_BITS + k))
        if cfg.hidden_bit:  # acc * (2^(k-1) + m_low): a (k-1)-bit multiplier and an adder
            m_full = Cat(self.m, Const(1, 1))
            m.d.comb += magnitude.eq((acc_u << (k - 1)) + acc_u * self.m)
        else:
            m_full = self.m
            m.d.comb += magnitude.eq(acc_u * self.m)
        high = Signal(signed(k + 1))
        m.d.comb += high.eq(magnitude[ACC_BITS:] - Mux(self.acc[-1], m_full, 0))
        if cfg.trim_shift:
            # No legal rounding reads the product below bit k-2 (s - 1 >= k - 2), and the
            # shift is s - (k-1), in 0..25 (a wrapped value only meets m = 0, product 0).
            product = Signal(signed(ACC_BITS + 2))
            m.d.comb += product.eq(Cat(magnitude[k - 2:ACC_BITS], high).as_signed())
            shift = Signal(unsigned(TRIM_SHIFT_BITS))
            m.d.comb += shift.eq(self.s - (k - 1))
        else:
            product = Signal(signed(ACC_BITS + k))
            m.d.comb += product.eq(Cat(magnitude[:ACC_BITS], high).as_signed())
            shift = self.s
        p1 = stage(0, product=product, s=shift, zero_point=self.zero_point,
                   act_min=self.act_min, act_max=self.act_max, valid=self.valid)

        # Stage 2: round half up with one shifter and one incrementer:
        # (2p >> s) is floor(p / 2^(s-1)) for s >= 1, and (that + 1) >> 1 rounds half up;
        # for s = 0 it is (2p + 1) >> 1 = p, so no special case is needed.
        if cfg.trim_shift:  # floor(p / 2^(s-1)) = floor(p / 2^(k-2)) >> (s - (k-1))
            partial = Signal(signed(ACC_BITS + 2))
            m.d.comb += partial.eq(p1["product"] >> p1["s"])
        else:
            doubled = Signal(signed(ACC_BITS + k + 1))
            m.d.comb += doubled.eq(p1["product"] << 1)
            partial = Signal(signed(ACC_BITS + k + 1))
            m.d.comb += partial.eq(doubled >> p1["s"])
        if cfg.fast_clamp:
            # Only values near the int8 range matter: saturate to SAT_BITS bits, from an
            # overflow flag on the bits above, before the (now narrow) incrementer.
            upper = partial[SAT_BITS - 1:]
            fits = upper.all() | ~upper.any()
            limit = Mux(partial[-1], -(1 << (SAT_BITS - 1)), (1 << (SAT_BITS - 1)) - 1)
            partial_sat = Signal(signed(SAT_BITS))
            m.d.comb += partial_sat.eq(Mux(fits, partial[:SAT_BITS].as_signed(), limit))
            partial = partial_sat
        rounded = Signal(signed(len(partial) - (not cfg.fast_clamp and not cfg.trim_shift)))
        m.d.comb += rounded.eq(self.round_half(partial, p1["s"]))
        p2 = stage(1, rounded=rounded, zero_point=p1["zero_point"],
                   act_min=p1["act_min"], act_max=p1["act_max"], valid=p1["valid"])

        # Stage 3: zero point and saturation, min(max(v, act_min), act_max) like np.clip.
        biased = Signal(signed(len(p2["rounded"]) + 1))
        m.d.comb += biased.eq(p2["rounded"] + p2["zero_point"])
        floor_clamped = Signal.like(biased)
        m.d.comb += floor_clamped.eq(Mux(biased < p2["act_min"], p2["act_min"], biased))
        clamped = Signal(signed(OUT_BITS))
        m.d.comb += clamped.eq(Mux(floor_clamped > p2["act_max"], p2["act_max"], floor_clamped))
        p3 = stage(2, y=clamped, valid=p2["valid"])

        m.d.comb += [self.y.eq(p3["y"]), self.y_valid.eq(p3["valid"])]
        return m

