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


@pytest.mark.parametrize("pre_skew", [False, True])
def test_an_array_gets_its_groups_and_the_skew(pre_skew):
    """An array of 4 engines: 8 channels in groups of 4, energy per output over all
    4 outputs of a group; pre-skewed, lane e of the operands e cycles late."""
    config = DatapathConfig(k=4, macs=8, engines=4, pre_skew=pre_skew)
    stim, schedule = stimulus.stimulus_for(config)
    assert schedule.engines == 4 and stim.outputs == 4 * schedule.groups == 128
    assert stim.cycles_per_output == 9 / 4 and stim.window == (0, schedule.beats)
    assert stim.cycles == schedule.beats + 3 * pre_skew + config.latency + 1
    skewed = stim.words["bias"][1] >> 32 & 0xFFFFFFFF
    aligned = stim.words["bias"][0] >> 32 & 0xFFFFFFFF
    assert (skewed if pre_skew else aligned) == int(schedule.bias[0, 1]) & 0xFFFFFFFF


def test_a_rescaler_alone_gets_one_output_per_cycle():
    stim, schedule = stimulus.stimulus_for(DatapathConfig(k=4))
    assert stim.outputs == schedule.groups and stim.cycles_per_output == 1
    assert stim.name.startswith("final accumulators of conv3x3")
