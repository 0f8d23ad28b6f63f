"""The systolic array: ``engines`` dot-product engines sharing the activation stream.

The activations (and the ``valid``/``first``/``last`` flags) enter engine 0 and
pass from engine to engine through one register per hop, so engine ``e`` sees a
beat ``e`` cycles after engine 0: no input fans out to all engines. By default the
ports are aligned (every engine's operands belong to the beat on ``x`` in the same
cycle): inside, engine ``e``'s operands are delayed ``e`` cycles to meet their
activations. With ``pre_skew`` the caller delivers them ``e`` cycles late itself
and those registers are gone. Either way engine ``e``'s output is delayed
``E-1-e`` cycles to leave together with the others.
"""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from sim.golden import ACC_BITS, OUT_BITS
from sim.ports import ENGINE_OPERANDS

from .config import ConfigProperties, DatapathConfig
from .engine import IN_BITS, Engine
from .rescaler import rescale_operand_shapes

__all__ = ["Array", "delayed"]

def delayed(m, value, cycles, name):
    """``value`` through a chain of ``cycles`` registers added to module ``m``'s sync
    domain, named ``<name>_d1`` .. ``<name>_d<cycles>``."""
    for i in range(cycles):
        q = Signal(value.shape(), name=f"{name}_d{i + 1}")
        m.d.sync += q.eq(value)
        value = q
    return value


class Array(ConfigProperties, wiring.Component):
    """``engines`` output-stationary dot-product engines in a systolic row.

    Every engine computes one output channel of a group of ``engines`` channels
    from the same activation beats, with its own weights and rescale operands (see
    :class:`~hw.engine.Engine` for the stream protocol). One ``y`` vector, a lane
    per engine, leaves per output group, :attr:`latency` cycles after the group's
    ``last`` beat. With ``engines = 1`` the array is the engine, with the same
    Verilog ports and no extra registers.

    Operand skew. Engine ``e`` works on a beat ``e`` cycles after engine 0 (the
    activations hop one register per engine), so its weights, bias and rescale
    operands must reach it ``e`` cycles late. Aligned ports (the default) take
    every engine's operands with the beat's ``x`` and delay engine ``e``'s through
    ``e`` registers inside: ``E(E-1)/2`` copies of an engine's operands
    (``8*macs + 32`` bits of weights and bias and the rescale operands' bits).
    With ``pre_skew`` the caller delivers them late instead, as the feeders of a
    systolic array naturally do, and the array holds none of these registers.
    Lane ``e`` of ``w``, ``bias``, ``m``, ``s``, ``zero_point``, ``act_min``,
    ``act_max`` in cycle ``t`` is what it would be in cycle ``t - e`` with aligned
    ports: the skew counts cycles, bubbles included. E.g. ``E = 3``,
    ``mac_pipeline = 1``, ``rescaler_pipeline = 1`` (latency 5), group A of two
    beats, group B of one::

        cycle        0    1    2    3    4    5    6    7
        valid        1    1    1    0    0    0    0    0
        first        1    0    1    -    -    -    -    -
        last         0    1    1    -    -    -    -    -
        x            A0   A1   B0   -    -    -    -    -
        w[0]         A0   A1   B0   -    -    -    -    -
        w[1]         -    A0   A1   B0   -    -    -    -
        w[2]         -    -    A0   A1   B0   -    -    -
        bias[0]      bA   -    bB   -    -    -    -    -
        bias[1]      -    bA   -    bB   -    -    -    -
        bias[2]      -    -    bA   -    bB   -    -    -
        m..[0]       -    pA   pB   -    -    -    -    -
        m..[1]       -    -    pA   pB   -    -    -    -
        m..[2]       -    -    -    pA   pB   -    -    -
        y_valid      0    0    0    0    0    0    1    1
        y                                          yA   yB

    (``m..[e]``: lane ``e`` of ``m``, ``s``, ``zero_point``, ``act_min``,
    ``act_max``; with aligned ports every lane is as ``[0]``.) The flags, ``x``,
    ``y``, ``y_valid`` and :attr:`latency` (from the group's ``last`` beat on
    ``x``) are the same in both protocols. The output deskew stays: ``y`` leaves
    aligned with one ``y_valid``, at ``8 * E(E-1)/2`` flip-flops, a few percent of
    the operand registers ``pre_skew`` removes (``docs/hardware.md``).

    Parameters
    ----------
    k, macs, mac_pipeline, rescaler_pipeline, **arch
        As for :class:`~hw.engine.Engine`.
    engines : int
        Number of engines ``E``, 1..64.
    pre_skew : bool
        The caller skews the per-engine operands (above); needs ``engines > 1``.

    Members
    -------
    x : In(data.ArrayLayout(signed(8), macs))
        Activations of the beat, shared by all engines.
    w : In(data.ArrayLayout(data.ArrayLayout(signed(8), macs), engines))
        Weights: engine ``e``, lane ``i`` is bits ``[8(e*macs+i)+7 : 8(e*macs+i)]``.
    bias : In(data.ArrayLayout(signed(32), engines))
        Per-engine ``b_eff``, sampled on the ``first`` beat.
    m : In(data.ArrayLayout(unsigned(k), engines))
        Per-engine multipliers, sampled on the ``last`` beat, like
    s : In(data.ArrayLayout(unsigned(bit_length(32 + k - 8)), engines))
        the shifts,
    zero_point, act_min, act_max : In(data.ArrayLayout(signed(8), engines))
        the output zero points and saturation bounds.
    valid, first, last : In(1)
        Beat valid, first and last beat of an output group (shared).
    y : Out(data.ArrayLayout(signed(8), engines))
        The group's outputs, engine ``e`` in lane ``e``.
    y_valid : Out(1)
        ``y`` is valid this cycle.
    """

    def __init__(self, *, k, macs, engines, mac_pipeline=1, rescaler_pipeline=1, pre_skew=False, **arch):
        self._config = DatapathConfig(k=k, macs=macs, engines=engines, mac_pipeline=mac_pipeline,
                                      rescaler_pipeline=rescaler_pipeline, pre_skew=pre_skew, **arch)
        lanes = data.ArrayLayout(signed(IN_BITS), macs)
        super().__init__({
            "x": In(lanes),
            "w": In(data.ArrayLayout(lanes, engines)),
            "bias": In(data.ArrayLayout(signed(ACC_BITS), engines)),
            **{name: In(data.ArrayLayout(shape, engines))
               for name, shape in rescale_operand_shapes(k, **arch).items()},
            "valid": In(1),
            "first": In(1),
            "last": In(1),
            "y": Out(data.ArrayLayout(signed(OUT_BITS), engines)),
            "y_valid": Out(1),
        })

    @classmethod
    def from_config(cls, config):
        """The array described by a :class:`~hw.config.DatapathConfig`."""
        return cls(k=config.k, macs=config.macs, engines=config.engines,
                   mac_pipeline=config.mac_pipeline, rescaler_pipeline=config.rescaler_pipeline,
                   pre_skew=config.pre_skew, **config.arch)

    def elaborate(self, platform):
        m = Module()
        cfg = self._config

        shared = {name: getattr(self, name) for name in ("x", "valid", "first", "last")}
        for e in range(cfg.engines):
            engine = Engine.from_config(cfg)
            m.submodules[f"engine{e}"] = engine
            if e > 0:  # the systolic hop from engine e-1 to engine e
                shared = {name: delayed(m, value, 1, f"{name}_e{e}") for name, value in shared.items()}
            m.d.comb += [getattr(engine, name).eq(value) for name, value in shared.items()]
            skew = 0 if cfg.pre_skew else e  # pre-skewed: the caller has delayed them already
            m.d.comb += [getattr(engine, name).eq(delayed(m, getattr(self, name)[e], skew, f"{name}_e{e}"))
                         for name in ENGINE_OPERANDS]
            m.d.comb += self.y[e].eq(delayed(m, engine.y, cfg.engines - 1 - e, f"y_e{e}"))
            if e == cfg.engines - 1:
                m.d.comb += self.y_valid.eq(engine.y_valid)
        return m
