"""The named rescaler variants: THE table of RTL architectures, one name per datapath.

A variant is a setting of every RTL architecture option
(:data:`hw.config.RESCALER_ARCH_FIELDS`); everything else about a datapath (``k``,
the pipeline depths, the engine, the synthesis-only ``booth``) is chosen apart from
it. Every place that names a rescaler datapath takes the name from here: the proofs
(``make formal`` proves each entry for every ``k`` and pipeline depth), the cocotb
regression, the variant comparison (``python -m costmodel variants``: each entry it
synthesizes is a variant here times a pipeline depth times ``booth``) and the
explorer's spaces. Adding a variant is one entry here plus its RTL.

``paper`` is the paper's datapath (no option on); the project's default
configuration is ``fast_clamp``.
"""

import dataclasses

from .config import RESCALER_ARCH_FIELDS, DatapathConfig

__all__ = ["VARIANTS", "PAPER_VARIANT", "variant_config", "variant_of"]

#: Variant name -> the architecture options it turns on (the others are off).
_ON = {
    "paper": (),
    "fast_clamp": ("fast_clamp",),
    "trim_shift": ("trim_shift",),
    "hidden_bit": ("hidden_bit",),
    "trim_fast": ("trim_shift", "fast_clamp"),
    "trim_fast_hidden": ("trim_shift", "fast_clamp", "hidden_bit"),
    "isolated": ("fast_clamp", "operand_isolation"),
}
#: Variant name -> every RTL architecture option, by field name.
VARIANTS = {name: {field: field in on for field in RESCALER_ARCH_FIELDS} for name, on in _ON.items()}
#: The paper's datapath: the variant every ratio of the variant comparison is taken against.
PAPER_VARIANT = "paper"


def variant_config(name, **fields):
    """The :class:`DatapathConfig` of variant ``name`` with the other ``fields`` given
    (``k``, ``rescaler_pipeline``, ``macs``, ``booth``, ...)."""
    if name not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {name!r}")
    return DatapathConfig(**VARIANTS[name], **fields)


def variant_of(config):
    """The name of the variant whose options ``config`` has (a
    :class:`DatapathConfig` or a dict of its fields), or None when no entry matches."""
    fields = config if isinstance(config, dict) else dataclasses.asdict(config)
    defaults = {f.name: f.default for f in dataclasses.fields(DatapathConfig)}
    options = {field: fields.get(field, defaults[field]) for field in RESCALER_ARCH_FIELDS}
    return next((name for name, arch in VARIANTS.items() if arch == options), None)
