"""costmodel.stimulus: the layer streams that drive the energy simulations."""

import pytest

from costmodel import stimulus
from hw.config import DatapathConfig


def test_stimuli_keep_the_timing():
    schedule, description = stimulus.conv_layer(4, macs=8)
    stim = stimulus.engine_stimulus(schedule, 4, name=description)
    assert stim.cycles_per_output == schedule.beats / schedule.groups == 9
    zero = stimulus.zero_stimulus(stim)
    assert zero.words["last"] == stim.words["last"] and not any(zero.words["x"])
    const = stimulus.constant_stimulus(stim)
    assert len(set(const.words["x"])) == 1 and const.window == stim.window


def test_energy_of_an_array_is_refused():
    with pytest.raises(ValueError, match="one engine or a rescaler"):
        stimulus.stimulus_for(DatapathConfig(k=4, macs=4, engines=2))


def test_a_rescaler_alone_gets_one_output_per_cycle():
    stim, schedule = stimulus.stimulus_for(DatapathConfig(k=4))
    assert stim.outputs == schedule.groups and stim.cycles_per_output == 1
    assert stim.name.startswith("final accumulators of conv3x3")
