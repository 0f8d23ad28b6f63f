"""What the gate-level simulation of a configuration is driven with: a realistic int8
layer as input words per port and cycle, and the golden model's outputs to check against.

The layer is the same float convolution for every ``k`` (:func:`conv_layer`; only
``m`` and ``s`` depend on ``k``), streamed through an engine or an array beat by beat
(:func:`engine_stimulus`) or, for a rescaler alone, as the final accumulator of
each output (:func:`rescaler_stimulus`); :func:`zero_stimulus` and
:func:`constant_stimulus` keep a stream's timing with other data, the controls of
the energy tests.
"""

import dataclasses

import numpy as np

from sim import layers, ports

__all__ = ["RESCALER_ONLY_MACS", "Stimulus", "conv_layer", "real_outputs", "engine_stimulus", "rescaler_stimulus",
           "zero_stimulus", "constant_stimulus", "stimulus_for", "golden_check"]

#: Lanes of the layer schedule that feeds a rescaler alone (``macs=None``).
RESCALER_ONLY_MACS = 8


@dataclasses.dataclass(frozen=True)
class Stimulus:
    """Input words of a simulation, one per cycle and port.

    Members
    -------
    name : str
        What the stimulus is, recorded in the report.
    words : dict of str to list of int
        Per input port (``clk`` and ``rst`` excluded), the unsigned value to
        apply in each cycle; all lists have the same length.
    window : tuple of int
        ``(start, stop)``: the cycles whose activity is measured.
    outputs : int
        Outputs the design produces for the cycles of ``window``.
    reset_cycles : int
        Cycles with ``rst`` high before cycle 0 (not measured).
    """

    name: str
    words: dict
    window: tuple
    outputs: int
    reset_cycles: int = 2

    @property
    def cycles(self):
        """Number of cycles of the stimulus (after reset)."""
        return len(next(iter(self.words.values())))

    @property
    def cycles_per_output(self):
        """Measured cycles per output: ``(stop - start) / outputs``."""
        return (self.window[1] - self.window[0]) / self.outputs


def conv_layer(k, *, macs, engines=1, seed=0, size=6, channels_in=8, channels_out=8, kernel=3):
    """A realistic int8 layer: a float 3x3 convolution with ReLU quantized for a ``k``-bit rescaler.

    The float layer (a ReLU'd Gaussian image of ``size x size x channels_in``,
    Gaussian weights and biases, seeded by ``seed``) does not depend on ``k``;
    only ``m`` and ``s`` do, through :func:`sim.layers.quantize_conv2d`.

    Returns
    -------
    tuple
        ``(schedule, description)``: the :class:`sim.layers.Schedule` of the
        layer on ``engines`` engines of ``macs`` lanes and a one-line description.
    """
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.normal(size=(size, size, channels_in)), 0.0)
    w = rng.normal(scale=0.3, size=(channels_out, kernel, kernel, channels_in))
    bias = rng.normal(scale=0.5, size=channels_out)
    q = layers.quantize_conv2d(x, w, bias, k, relu=True)
    cols, wmat, _ = q.lowered()
    schedule = layers.matmul_schedule(cols, wmat, q.bias, q.m, q.s, zero_point=q.y_zero_point,
                                      act_min=q.act_min, act_max=q.act_max, macs=macs, engines=engines)
    groups = f" in {schedule.groups} groups of {engines}" if engines > 1 else ""
    description = (f"conv{kernel}x{kernel} relu {size}x{size}x{channels_in}->{channels_out} "
                   f"(seed {seed}, quantize_conv2d k={k}), {real_outputs(schedule)} outputs{groups}, "
                   f"{schedule.beats // schedule.groups} beats/{'group' if engines > 1 else 'output'}")
    return schedule, description


def real_outputs(schedule):
    """The outputs of ``schedule`` that belong to a channel of the layer (an array's
    padding channels aside)."""
    return int(np.count_nonzero(schedule.channel >= 0))


def engine_stimulus(schedule, k, *, name, tail=4, hidden_bit=False, pre_skew=False):
    """The :class:`Stimulus` of an engine or an array for a layer schedule, beats back to back.

    The words are those of :func:`sim.layers.stream_words` (the packed ports of
    :mod:`sim.ports`), skewed by :func:`sim.layers.pre_skew` for a pre-skewed
    array. ``tail`` idle cycles (``valid`` low) follow the last beat (and the
    skew's) so the last output leaves the pipeline; the measured window is the
    beats themselves, so ``cycles_per_output`` is the schedule's beats per output
    divided by the outputs of a group (an array's engines).
    """
    words = layers.stream_words(schedule, k, hidden_bit=hidden_bit)
    beats = schedule.beats
    words["valid"] = [1] * beats
    if pre_skew:
        words = layers.pre_skew(words, engines=schedule.engines, macs=schedule.x.shape[1], k=k,
                                hidden_bit=hidden_bit)
    out = {port: [int(v) for v in values] + [0] * tail for port, values in words.items()}
    return Stimulus(name=name, words=out, window=(0, beats), outputs=real_outputs(schedule))


def rescaler_stimulus(schedule, k, *, name, tail=4, hidden_bit=False):
    """The :class:`Stimulus` of a rescaler alone (``python -m costmodel synth --k K``):
    the final accumulator and operands of every output of ``schedule``, one per cycle."""
    first, last = np.asarray(schedule.first), np.asarray(schedule.last)
    starts, ends = np.flatnonzero(first), np.flatnonzero(last)
    dots = np.einsum("tn,tn->t", schedule.x, schedule.w[:, 0, :])
    acc = layers.wrap32(schedule.bias[starts, 0] + np.add.reduceat(dots, starts))
    values = {"acc": acc, **{p: getattr(schedule, p)[ends, 0] for p in ports.RESCALE_OPERANDS}}
    if hidden_bit:  # the m port holds m - 2^(k-1)
        values["m"] = values["m"] - (1 << (k - 1))
    words = {p.name: [p.encode(v) for v in values[p.name]] + [0] * tail
             for p in ports.rescaler_inputs(k, hidden_bit=hidden_bit)}
    words["valid"] = [1] * len(ends) + [0] * tail
    return Stimulus(name=name, words=words, window=(0, len(ends)), outputs=len(ends))


def zero_stimulus(stimulus):
    """``stimulus`` with every data word zero; ``valid``, ``first``, ``last`` kept."""
    keep = ("valid", "first", "last")  # the stream's timing
    words = {p: (list(v) if p in keep else [0] * len(v)) for p, v in stimulus.words.items()}
    return dataclasses.replace(stimulus, name=f"all-zero data, timing of {stimulus.name}", words=words)


def constant_stimulus(stimulus, cycle=0):
    """``stimulus`` with every port held at its value of ``cycle`` for the whole run."""
    words = {p: [v[cycle]] * len(v) for p, v in stimulus.words.items()}
    return dataclasses.replace(stimulus, name=f"constant inputs (cycle {cycle} of {stimulus.name})",
                               words=words)


def stimulus_for(config, *, seed=0):
    """The :class:`Stimulus` and layer schedule of ``config``.

    An engine or an array (``config.macs``) gets the beats of :func:`conv_layer`
    back to back, with ``latency + 1`` idle cycles after them; a rescaler alone
    gets the final accumulator of each of its outputs, one per cycle.
    """
    macs = config.macs or RESCALER_ONLY_MACS
    schedule, description = conv_layer(config.k, macs=macs, engines=config.engines, seed=seed)
    if config.macs is None:
        return rescaler_stimulus(schedule, config.k, name="final accumulators of " + description,
                                 hidden_bit=config.hidden_bit), schedule
    return engine_stimulus(schedule, config.k, name=description, hidden_bit=config.hidden_bit,
                           tail=max(4, config.latency + 1), pre_skew=config.pre_skew), schedule


def golden_check(trace, schedule, k):
    """Whether the netlist's valid ``y`` outputs equal the golden model's, in order
    (every engine's lane, padding channels aside)."""
    want = layers.run_schedule(schedule, k=k)
    got = trace["y"][trace["y_valid"] == 1]
    if len(got) != len(want):
        return False
    lanes = np.array([layers.unpack_lanes(v, 8, schedule.engines) for v in got], dtype=np.int64).reshape(want.shape)
    real = schedule.channel >= 0
    return bool((lanes[real] == want[real]).all())
