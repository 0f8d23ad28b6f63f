"""The one frozen configuration of the generated datapath, validated in one place.

Every generator (rescaler, dot-product engine, systolic array), the command line,
the testbenches and the cost model take a :class:`DatapathConfig`, so a parameter
has one name, one default and one error message wherever it is used.
"""

from dataclasses import dataclass

from sim.golden import check_k

__all__ = ["DatapathConfig", "RESCALER_PIPELINE_MAX", "check_rescaler_pipeline"]

#: Deepest rescaler pipeline: multiply | round and shift | zero point and clamp.
RESCALER_PIPELINE_MAX = 3


def check_rescaler_pipeline(pipeline):
    """Return ``pipeline`` as an int, or raise the one error message for a bad depth."""
    if isinstance(pipeline, bool) or not isinstance(pipeline, int) or not 0 <= pipeline <= RESCALER_PIPELINE_MAX:
        raise ValueError(f"rescaler pipeline must be an integer in 0..{RESCALER_PIPELINE_MAX} "
                         f"(0 = combinational), not {pipeline!r}")
    return pipeline


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
        after the multiplier; 3 adds one after the rounding shift.
    """

    k: int = 8
    rescaler_pipeline: int = 1

    def __post_init__(self):
        check_k(self.k)
        check_rescaler_pipeline(self.rescaler_pipeline)
