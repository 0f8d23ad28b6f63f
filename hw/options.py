"""Command-line options of a :class:`hw.config.DatapathConfig`, shared by every command
that takes one (``python -m hw``, ``python -m costmodel``).

Each option is named after the config field it sets (``--rescaler-pipeline`` sets
``rescaler_pipeline``), and the config validates it, so a knob has one name and one
error message on the command line, in the API and in ``make`` (``RESCALER_PIPELINE=``).
"""

import argparse
import dataclasses

from toolkit.cli import integer, usage_errors

from .config import ARCH_FIELDS, ENGINES_MAX, MACS_MAX, RESCALER_PIPELINE_MAX, DatapathConfig

__all__ = ["ARCH_HELP", "add_config_arguments", "config_from_args"]

#: One line of help per architecture option; DatapathConfig's docstring has the detail.
ARCH_HELP = {
    "fast_clamp": "saturate the shifted value to 10 bits before rounding and clamping "
                  "(exact for all operands)",
    "trim_shift": "shift only over s = k-1..s_max (exact when m == 0 or s >= k-1, "
                  "which the quantizer guarantees)",
    "hidden_bit": "the m port holds the k-1 bits below m's implicit leading 1 "
                  "(exact when m >= 2^(k-1))",
    "operand_isolation": "the rescaler's inputs and registers change only when a channel's last "
                         "beat arrives, not on every beat (saves energy; same results and latency)",
    "booth": "synthesize multipliers with Yosys' Booth generator (synthesis only)",
}

_DEFAULTS = {field.name: field.default for field in dataclasses.fields(DatapathConfig)}


def add_config_arguments(parser):
    """Add one option per :class:`DatapathConfig` field to ``parser``."""
    group = parser.add_argument_group("datapath")
    group.add_argument(
        "--k", type=integer, required=True, metavar="K",
        help="rescale multiplier width in bits, leading 1 included (2..32): the multiplier is 32 x K bits")
    for option, metavar, text in (
            ("--rescaler-pipeline", "P",
             f"registered rescaler stages, = latency in cycles (0..{RESCALER_PIPELINE_MAX}; default "
             f"{_DEFAULTS['rescaler_pipeline']}): 0 combinational, 1 registers the output, 2 also the "
             f"shifted value, 3 also the product"),
            ("--macs", "N", f"the int8 dot-product engine with N multipliers (a power of two in 1..{MACS_MAX}; "
                            f"the paper's are 4, 8, 16) instead of the rescaler alone"),
            ("--engines", "E", f"engines of the systolic array (1..{ENGINES_MAX}, default 1 = the engine alone); "
                              "needs --macs"),
            ("--mac-pipeline", "P", f"registers in the multiplier/adder tree (0..log2(N)+1; default "
                                    f"{_DEFAULTS['mac_pipeline']}); needs --macs")):
        group.add_argument(option, type=integer, default=None, metavar=metavar, help=text)
    group.add_argument("--pre-skew", dest="pre_skew", action=argparse.BooleanOptionalAction, default=None,
                       help="the caller delivers engine e's weights, bias and rescale operands e cycles "
                            "after the activations, so the array holds no operand delay registers "
                            "(hw.array.Array); needs --engines > 1 (default off)")
    arch = parser.add_argument_group("rescaler architecture (reports/VARIANTS.md)")
    for field in ARCH_FIELDS:
        arch.add_argument(
            f"--{field.replace('_', '-')}", dest=field, action=argparse.BooleanOptionalAction,
            default=None, help=f"{ARCH_HELP[field]} (default {'on' if _DEFAULTS[field] else 'off'})")


def config_from_args(args):
    """The :class:`DatapathConfig` of parsed options; raises UsageError if invalid."""
    values = {name: getattr(args, name) for name in _DEFAULTS if getattr(args, name, None) is not None}
    with usage_errors():
        return DatapathConfig(**values)
