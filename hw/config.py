"""The one frozen configuration of the generated datapath, validated in one place.

Every generator (rescaler, dot-product engine, systolic array), the command line,
the testbenches and the cost model take a :class:`DatapathConfig`, so a parameter
has one name, one default and one error message wherever it is used.
"""

import dataclasses
from dataclasses import dataclass

from sim.golden import check_k
from sim.ports import engine_operand_bits

__all__ = [
    "DatapathConfig", "ConfigProperties", "FORWARDED", "RESCALER_PIPELINE_MAX", "MACS_MAX", "ENGINES_MAX", "MACS_PRESETS", "PRESETS",
    "check_rescaler_pipeline", "check_macs", "check_engines", "mac_pipeline_max",
    "check_mac_pipeline", "RESCALER_ARCH_FIELDS", "ARCH_FIELDS",
]

#: Rescaler architecture options (RTL); see :class:`DatapathConfig`. Only ``fast_clamp``
#: (exact for every operand) is on by default. The named settings of them are
#: :data:`hw.variants.VARIANTS`.
RESCALER_ARCH_FIELDS = ("fast_clamp", "trim_shift", "hidden_bit", "operand_isolation")
#: Every architecture option: the RTL ones and the synthesis-only ``booth``.
ARCH_FIELDS = RESCALER_ARCH_FIELDS + ("booth",)

#: Deepest rescaler pipeline: multiply | round and shift | zero point and clamp.
RESCALER_PIPELINE_MAX = 3


def check_rescaler_pipeline(pipeline):
    """Return ``pipeline`` as an int, or raise the one error message for a bad depth."""
    if isinstance(pipeline, bool) or not isinstance(pipeline, int) or not 0 <= pipeline <= RESCALER_PIPELINE_MAX:
        raise ValueError(f"rescaler_pipeline must be an integer in 0..{RESCALER_PIPELINE_MAX} "
                         f"(0 = combinational), not {pipeline!r}")
    return pipeline


#: Widest dot-product engine: ``macs`` is a power of two in ``1..MACS_MAX``.
MACS_MAX = 64
#: Engine widths of the paper's Figure 1 (4, 8 and 16 parallel MACs).
MACS_PRESETS = (4, 8, 16)


def _is_int(value):
    return not isinstance(value, bool) and isinstance(value, int)


def check_macs(macs):
    """Return ``macs`` as an int, or raise the one error message for a bad engine width."""
    if not _is_int(macs) or not 1 <= macs <= MACS_MAX or macs & (macs - 1):
        raise ValueError(f"macs must be a power of two in 1..{MACS_MAX} "
                         f"(presets {', '.join(map(str, MACS_PRESETS))}), not {macs!r}")
    return macs


#: Longest systolic array: ``engines`` is in ``1..ENGINES_MAX``.
ENGINES_MAX = 64


def check_engines(engines):
    """Return ``engines`` as an int, or raise the one error message for a bad engine count."""
    if not _is_int(engines) or not 1 <= engines <= ENGINES_MAX:
        raise ValueError(f"engines must be an integer in 1..{ENGINES_MAX}, not {engines!r}")
    return engines


def mac_pipeline_max(macs):
    """Deepest multiplier/adder-tree pipeline of a ``macs``-wide engine: one register
    after the multipliers and one after each of the ``log2(macs)`` adder levels."""
    return check_macs(macs).bit_length()


def check_mac_pipeline(mac_pipeline, macs):
    """Return ``mac_pipeline`` as an int, or raise the one error message for a bad depth."""
    hi = mac_pipeline_max(macs)
    if not _is_int(mac_pipeline) or not 0 <= mac_pipeline <= hi:
        raise ValueError(f"mac_pipeline must be an integer in 0..{hi} for macs = {macs} "
                         f"(registers after the multipliers and the {hi - 1} adder levels), "
                         f"not {mac_pipeline!r}")
    return mac_pipeline


@dataclass(frozen=True)
class DatapathConfig:
    """Parameters of the generated datapath.

    Members
    -------
    k : int
        Rescale multiplier width in bits, leading 1 included (2..32). The paper's
        baseline is 32; 8 keeps accuracy; 4 needs rescale-aware fine-tuning.
    rescaler_pipeline : int
        Registered stages in the rescaler (0..3), which is also its latency in
        cycles: 0 is combinational; 1 registers the output; 2 adds a register
        after the round-and-shift stage; 3 adds one after the multiplier.
    macs : int or None
        Int8 multipliers of the dot-product engine (``N``): a power of two in
        1..64; 4, 8 and 16 are the paper's engines (:data:`PRESETS`). ``None``
        (the default) describes the rescaler alone, without an engine.
    engines : int
        Engines of the systolic array (``1..64``); 1 is the engine alone. More
        than one needs ``macs``.
    mac_pipeline : int
        Registers in the multiplier/adder tree, ``0..log2(macs) + 1``, placed
        evenly from the output of the multipliers to the output of the tree (the
        accumulator register follows in any case). Only used with ``macs``.
    pre_skew : bool
        The caller skews the array's per-engine operands: engine ``e``'s weights,
        bias and rescale operands arrive ``e`` cycles after the beat's activations
        (as a systolic array's feeders deliver them), so the array has no operand
        delay registers inside. Only with ``engines > 1``; the outputs still leave
        aligned (:class:`hw.array.Array` gives the protocol).
    fast_clamp : bool
        Saturate the shifted value to 10 bits (an overflow flag from its upper
        bits) before the rounding increment, zero point and clamp, which are then
        10-11 bits wide instead of ``33 + k``. Exact for every operand. On by
        default because it is smaller and faster at every swept point
        (``reports/VARIANTS.md``); ``False`` is the paper's datapath.
    trim_shift : bool
        Shift only over the range the quantizer produces, ``k-1 <= s <= s_max``
        (26 positions whatever ``k``), dropping the ``k-2`` product bits no legal
        rounding reads. Exact under the contract ``m == 0 or s >= k-1``
        (:func:`sim.golden.legal_operands`); other ``s`` give wrong results.
    hidden_bit : bool
        ``m``'s leading 1 is implicit: the ``m`` port is ``k-1`` bits wide and holds
        ``m - 2^(k-1)``; the datapath computes ``(acc << (k-1)) + acc*m_low``.
        Exact under the contract ``m >= 2^(k-1)`` (no zero, no gradual underflow:
        quantize with ``method="hidden"``). "Store k bits, multiply by 2^k + m" is
        this option at ``k + 1``: one more bit of precision at equal storage.
    operand_isolation : bool
        The rescaler's inputs and pipeline registers change only when an output
        is on its way: its data registers load only with their ``valid``, and in
        an engine its operands load only on a channel's ``last`` beat, so between
        outputs its logic sees constant inputs instead of the running sum. Same
        results and latency; ``y`` holds its last value between outputs instead of
        a don't-care (:class:`hw.engine.Engine` says how and why).
    booth : bool
        Synthesis option, not RTL: map multipliers with Yosys' Booth generator
        (``synth -booth``; Yosys >= 0.3x, not Debian's 0.23).
    """

    k: int = 8
    rescaler_pipeline: int = 1
    macs: int | None = None
    engines: int = 1
    mac_pipeline: int = 1
    pre_skew: bool = False
    fast_clamp: bool = True
    trim_shift: bool = False
    hidden_bit: bool = False
    operand_isolation: bool = False
    booth: bool = False

    def __post_init__(self):
        check_k(self.k)
        for name in ("pre_skew",) + ARCH_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(self, name)!r}")
        check_rescaler_pipeline(self.rescaler_pipeline)
        check_engines(self.engines)
        if self.macs is None:
            for name, default in (("engines", 1), ("mac_pipeline", 1)):
                if getattr(self, name) != default:
                    raise ValueError(f"{name} = {getattr(self, name)!r} needs macs: it describes "
                                     f"the dot-product engine, and without macs there is none")
        else:
            check_mac_pipeline(self.mac_pipeline, check_macs(self.macs))
        if self.pre_skew and self.engines == 1:
            raise ValueError("pre_skew needs engines > 1: it takes out the operand skew of a "
                             "systolic array, and one engine has none")

    @classmethod
    def preset(cls, name, **changes):
        """The named preset of :data:`PRESETS` with some fields changed,
        e.g. ``DatapathConfig.preset("macs8", k=4)``."""
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {name!r}")
        return dataclasses.replace(PRESETS[name], **changes)

    @property
    def arch(self):
        """The architecture options (:data:`ARCH_FIELDS`) as keyword arguments."""
        return {name: getattr(self, name) for name in ARCH_FIELDS}

    @property
    def name(self):
        """A file-name stem that identifies the configuration: ``k4``, ``k4_macs8``,
        plus ``_<field><value>`` for every other field that differs from its default
        (booleans as 0/1), e.g. ``k4_macs8_rescaler_pipeline2_trim_shift1``."""
        name = f"k{self.k}" + ("" if self.macs is None else f"_macs{self.macs}")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name not in ("k", "macs") and value != field.default:
                name += f"_{field.name}{int(value) if isinstance(value, bool) else value}"
        return name

    @property
    def engine_latency(self):
        """Cycles from an engine's ``last`` beat to its ``y_valid``:
        the tree registers, the accumulator register and the rescaler."""
        if self.macs is None:
            raise ValueError("engine_latency needs macs")
        return self.mac_pipeline + 1 + self.rescaler_pipeline

    @property
    def skew_register_bits(self):
        """Flip-flops of the array's operand delay registers: engine ``e``'s weights
        (``8 * macs``), bias (32), ``m`` (``k``, ``k - 1`` with ``hidden_bit``), ``s``
        and zero point and clamps (24) through ``e`` registers, ``E(E-1)/2`` copies in
        all; 0 with ``pre_skew`` (the caller skews them) or one engine."""
        if self.pre_skew or self.engines == 1:
            return 0
        operand = sum(engine_operand_bits(self.k, self.macs, hidden_bit=self.hidden_bit).values())
        return self.engines * (self.engines - 1) // 2 * operand

    @property
    def latency(self):
        """Cycles from an input to its output: the rescaler's pipeline without
        ``macs``; else from the ``last`` beat of a channel group to ``y_valid``
        (the engine's latency plus ``engines - 1`` systolic hops)."""
        if self.macs is None:
            return self.rescaler_pipeline
        return self.engine_latency + self.engines - 1


#: The paper's three dot-product engines (Section III.D, Figure 1), at its 32-bit
#: baseline; pick the rescaler width with ``DatapathConfig.preset("macs8", k=4)``.
PRESETS = {f"macs{n}": DatapathConfig(k=32, macs=n) for n in MACS_PRESETS}


class ConfigProperties:
    """Read-only properties of a component built from a :class:`DatapathConfig`.

    Mixed into the rescaler, the engine and the array, which keep their validated
    configuration in ``self._config``: ``config`` is that configuration, and each
    of :data:`FORWARDED` (``k``, ``macs``, ..., ``latency``) reads the
    :class:`DatapathConfig` member of the same name.
    """

    @property
    def config(self):
        """The validated :class:`~hw.config.DatapathConfig`."""
        return self._config


#: Members of :class:`DatapathConfig` that every component exposes as its own.
FORWARDED = ("k", "macs", "engines", "mac_pipeline", "rescaler_pipeline", "arch", "latency")
for _name in FORWARDED:
    setattr(ConfigProperties, _name, property(lambda self, name=_name: getattr(self._config, name),
                                              doc=f"The configuration's ``{_name}`` (:class:`DatapathConfig`)."))
del _name
