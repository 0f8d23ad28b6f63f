"""The int8 dot-product engine: N multipliers, an adder tree, a 32-bit accumulator
and the k-bit rescaler, output-stationary after the eIQ Neutron dot-product unit.

It computes, for every output channel streamed through it, bit-exactly what
:func:`sim.golden.dot_product` computes for one output (``rounding="half_up"``,
``method="truncate"``)::

    acc = bias + sum_beats sum_lanes x[i] * w[i]          (mod 2^32, two's complement)
    y   = clamp( floor((acc*m + 2^(s-1)) / 2^s) + zero_point, act_min, act_max )

The accumulator is a plain 32-bit register: an exact sum outside int32 wraps
around modulo 2^32, exactly like :func:`sim.golden.accumulate` (a compiler keeps
real layers inside the range; the engine does not saturate it).

Datapath, each stage exactly as wide as its values need:

* ``macs`` signed 8 x 8 -> 16-bit multipliers (``-128*-128 = 2^14`` needs the 16th bit);
* a balanced adder tree of ``log2(macs)`` levels, level ``j`` ``16 + j`` bits wide;
* the accumulator ``acc = (first ? bias : acc) + tree`` (32 bits, wraps);
* the :class:`~hw.rescaler.Rescaler` (``32 x k`` multiplier) fed from the
  accumulator register, so no combinational path runs from the tree into it.

Stream timing, e.g. ``mac_pipeline = 1``, ``rescaler_pipeline = 1`` (latency 3):
channel A of three beats, B of one, a bubble, C of two::

    cycle        0    1    2    3    4    5    6    7    8    9
    valid        1    1    1    1    0    1    1    0    0    0
    first        1    0    0    1    -    1    0    -    -    -
    last         0    0    1    1    -    0    1    -    -    -
    x, w         A0   A1   A2   B0   -    C0   C1   -    -    -
    bias         bA   -    -    bB   -    bC   -    -    -    -
    m, s, zp..   -    -    pA   pB   -    -    pC   -    -    -
    y_valid      0    0    0    0    0    1    1    0    0    1
    y                                     yA   yB             yC

``y`` appears ``latency = mac_pipeline + 1 + rescaler_pipeline`` cycles after the
channel's ``last`` beat ("-": don't care).
"""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from sim.golden import ACC_BITS, OUT_BITS
from sim.ports import RESCALE_OPERANDS

from .config import ConfigProperties, DatapathConfig
from .rescaler import Rescaler, rescale_operand_shapes

__all__ = ["Engine", "IN_BITS", "tree_register_levels"]

#: Width of the int8 activations and weights.
IN_BITS = 8


def tree_register_levels(macs, mac_pipeline):
    """Where the ``mac_pipeline`` registers of the multiplier/adder tree sit.

    Level 0 is the output of the multipliers, level ``j`` the output of adder level
    ``j`` (``1..log2(macs)``). The registers are spread evenly over these levels,
    the first after the multipliers and the last after the tree.

    Returns
    -------
    frozenset of int
    """
    levels = macs.bit_length() - 1
    if mac_pipeline == 0:
        return frozenset()
    if mac_pipeline == 1:
        return frozenset({0})
    return frozenset(round(i * levels / (mac_pipeline - 1)) for i in range(mac_pipeline))


class Engine(ConfigProperties, wiring.Component):
    """An output-stationary int8 dot-product engine with a ``k``-bit rescaler.

    Input is a stream of beats, one ``macs``-wide slice of an output channel's dot
    product per cycle (``valid``), the channel's first beat flagged by ``first``
    and its last by ``last`` (both on a single-beat channel). The accumulator
    loads ``bias`` on the ``first`` beat and adds ``macs`` products on every beat;
    on the ``last`` beat it hands the sum to the rescaler with the ``m``, ``s``,
    ``zero_point``, ``act_min`` and ``act_max`` of that beat. One beat may enter
    every cycle, channels back to back; cycles without ``valid`` are bubbles that
    change nothing. There is no back-pressure: ``y`` is valid for one cycle.

    Operand isolation (``operand_isolation``): without it the rescaler reads the
    running accumulator, so its ``32 x k`` multiplier switches on every beat
    although one result per channel is used. With it a second 32-bit register,
    ``acc_final`` (in the accumulator's part), loads ``acc_next`` on the ``last``
    beat only, the same cycle the accumulator does, and feeds the rescaler; the
    operand registers beside it and the rescaler's data registers load only with
    an output, so between outputs the rescaler sees constant inputs. The latency
    and the timing diagram above are unchanged; ``y`` holds the previous output
    where the diagram says "-". Holding the value was chosen over gating the
    accumulator to zero between outputs (32 AND gates instead of 32 flip-flops
    with an enable multiplexer, as the OSU cells have neither a clock gate nor an
    enable flip-flop) by measurement (``docs/hardware.md``): a gated multiplier
    still switches twice per output, to the sum and back to zero, and costs more
    energy per output than the held register at every measured channel length
    beyond one beat.

    Parameters
    ----------
    k : int
        Rescale multiplier width in bits (2..32), leading 1 included.
    macs : int
        Int8 multipliers, a power of two in 1..64 (the paper's: 4, 8, 16).
    mac_pipeline : int
        Registers in the multiplier/adder tree, ``0..log2(macs) + 1``
        (see :func:`tree_register_levels`).
    rescaler_pipeline : int
        Registered stages of the rescaler (0..3).
    **arch
        Architecture options of :class:`hw.config.DatapathConfig` (``fast_clamp``,
        ``trim_shift``, ``hidden_bit``, ``operand_isolation``, ``booth``), passed to
        the rescaler; ``operand_isolation`` also changes how the engine feeds it.

    Members
    -------
    x, w : In(data.ArrayLayout(signed(8), macs))
        Activations and weights of the beat; lane ``i`` is bits ``[8i+7:8i]`` of
        the Verilog port.
    bias : In(signed(32))
        The channel's ``b_eff``, sampled on the ``first`` beat.
    m : In(unsigned(k))
        The channel's multiplier ``m``, sampled on the ``last`` beat.
    s : In(unsigned(bit_length(32 + k - 8)))
        The channel's right shift, sampled on the ``last`` beat.
    zero_point, act_min, act_max : In(signed(8))
        The channel's output zero point and saturation bounds (``act_min <= act_max``),
        sampled on the ``last`` beat.
    valid, first, last : In(1)
        Beat valid; first and last beat of an output channel (ignored without ``valid``).
    y : Out(signed(8))
        The channel's int8 output, :attr:`latency` cycles after its ``last`` beat.
    y_valid : Out(1)
        ``y`` is valid this cycle.
    """

    def __init__(self, *, k, macs, mac_pipeline=1, rescaler_pipeline=1, **arch):
        self._config = DatapathConfig(k=k, macs=macs, mac_pipeline=mac_pipeline,
                                      rescaler_pipeline=rescaler_pipeline, **arch)
        super().__init__({
            "x": In(data.ArrayLayout(signed(IN_BITS), macs)),
            "w": In(data.ArrayLayout(signed(IN_BITS), macs)),
            "bias": In(signed(ACC_BITS)),
            **{name: In(shape) for name, shape in rescale_operand_shapes(k, **arch).items()},
            "valid": In(1),
            "first": In(1),
            "last": In(1),
            "y": Out(signed(OUT_BITS)),
            "y_valid": Out(1),
        })

    @classmethod
    def from_config(cls, config):
        """The engine described by a :class:`~hw.config.DatapathConfig` (``engines`` ignored)."""
        return cls(k=config.k, macs=config.macs, mac_pipeline=config.mac_pipeline,
                   rescaler_pipeline=config.rescaler_pipeline, **config.arch)

    @property
    def sum_bits(self):
        """Width of the adder tree's output, ``16 + log2(macs)``."""
        return 2 * IN_BITS + self.macs.bit_length() - 1

    def elaborate(self, platform):
        m = Module()
        # Each arithmetic part is its own submodule, so a synthesis run that keeps the
        # hierarchy reports its area: multipliers (with their output registers),
        # adder_tree (with its pipeline registers), accumulator, rescaler. The registers
        # that carry control and operands beside them stay in the engine itself.
        m.submodules.multipliers = multipliers = Module()
        m.submodules.adder_tree = adder_tree = Module()
        m.submodules.accumulator = accumulator = Module()
        registered = tree_register_levels(self.macs, self.mac_pipeline)

        # Control and per-channel operands travel beside the tree, through the same registers.
        side = {name: getattr(self, name) for name in
                ("valid", "first", "last", "bias", *RESCALE_OPERANDS)}

        def level(index, terms, side, part):
            """Pass the tree's ``terms`` (through registers in ``part``) and the ``side``
            values on, through registers if level ``index`` is registered."""
            if index not in registered:
                return terms, side
            terms_q = [Signal.like(t, name=f"sum{index}_{i}") for i, t in enumerate(terms)]
            side_q = {name: Signal.like(v, name=f"{name}_{index}") for name, v in side.items()}
            part.d.sync += [q.eq(t) for q, t in zip(terms_q, terms)]
            m.d.sync += [side_q[name].eq(v) for name, v in side.items()]
            return terms_q, side_q

        # Level 0: the int8 x int8 multipliers, 16-bit signed products.
        products = []
        for i in range(self.macs):
            product = Signal(signed(2 * IN_BITS), name=f"product_{i}")
            multipliers.d.comb += product.eq(self.x[i] * self.w[i])
            products.append(product)
        terms, side = level(0, products, side, multipliers)

        # Levels 1..log2(macs): pairwise sums, one bit wider per level.
        depth = 0
        while len(terms) > 1:
            depth += 1
            sums = []
            for i in range(0, len(terms), 2):
                total = Signal(signed(terms[i].shape().width + 1), name=f"sum{depth}_{i // 2}_c")
                adder_tree.d.comb += total.eq(terms[i] + terms[i + 1])
                sums.append(total)
            terms, side = level(depth, sums, side, adder_tree)
        (tree,) = terms

        # The accumulator: loads the bias on the first beat, wraps modulo 2^32.
        acc = Signal(signed(ACC_BITS))
        acc_next = Signal(signed(ACC_BITS))
        accumulator.d.comb += acc_next.eq(Mux(side["first"], side["bias"], acc) + tree)
        with accumulator.If(side["valid"]):
            accumulator.d.sync += acc.eq(acc_next)

        # The rescale operands follow one register behind, to meet the final sum in the
        # accumulator the cycle after the last beat. The rescaler consumes them in that
        # cycle, so the register needs no enable: whatever follows may overwrite it.
        # With operand isolation it loads on the last beat only, and so does a copy of
        # the final sum (acc_final) that feeds the rescaler instead of the running
        # accumulator (see the class docstring for why a held copy, not a gated one).
        ending = side["valid"] & side["last"]
        done = Signal()
        m.d.sync += done.eq(ending)
        held = {name: Signal.like(side[name], name=f"{name}_held")
                for name in RESCALE_OPERANDS}
        load = [held[name].eq(side[name]) for name in held]
        rescaler_acc = acc
        if self.config.operand_isolation:
            rescaler_acc = Signal(signed(ACC_BITS), name="acc_final")
            with accumulator.If(ending):
                accumulator.d.sync += rescaler_acc.eq(acc_next)
            with m.If(ending):
                m.d.sync += load
        else:
            m.d.sync += load

        m.submodules.rescaler = rescaler = Rescaler.from_config(self.config)
        m.d.comb += [
            rescaler.acc.eq(rescaler_acc),
            rescaler.valid.eq(done),
            *(getattr(rescaler, name).eq(value) for name, value in held.items()),
            self.y.eq(rescaler.y),
            self.y_valid.eq(rescaler.y_valid),
        ]
        return m
