"""The engine fields of :class:`hw.config.DatapathConfig`: validation, presets, latency."""

import dataclasses

import pytest

from hw.config import MACS_PRESETS, PRESETS, DatapathConfig, mac_pipeline_max


def test_defaults_describe_the_rescaler_alone():
    config = DatapathConfig()
    assert config.macs is None and config.engines == 1
    assert config.latency == config.rescaler_pipeline


@pytest.mark.parametrize("macs", [1, 2, 4, 8, 16, 32, 64])
def test_macs_powers_of_two(macs):
    config = DatapathConfig(k=4, macs=macs)
    assert config.macs == macs
    assert mac_pipeline_max(macs) == macs.bit_length()
    DatapathConfig(k=4, macs=macs, mac_pipeline=mac_pipeline_max(macs))


@pytest.mark.parametrize("macs", [0, 3, 12, 128, -4, 8.0, True, "8"])
def test_bad_macs(macs):
    with pytest.raises(ValueError, match=r"^macs must be a power of two in 1\.\.64 \(presets 4, 8, 16\), not "):
        DatapathConfig(macs=macs)


@pytest.mark.parametrize("engines", [0, -1, 1.5, True])
def test_bad_engines(engines):
    with pytest.raises(ValueError, match=r"^engines must be an integer in 1..64, not "):
        DatapathConfig(macs=4, engines=engines)


@pytest.mark.parametrize("field,value", [("engines", 4), ("mac_pipeline", 0), ("mac_pipeline", 3)])
def test_engine_fields_need_macs(field, value):
    with pytest.raises(ValueError, match=rf"^{field} = {value} needs macs"):
        DatapathConfig(**{field: value})


@pytest.mark.parametrize("macs,depth", [(8, 5), (4, -1), (1, 2), (16, 1.0)])
def test_bad_mac_pipeline(macs, depth):
    hi = macs.bit_length()
    with pytest.raises(ValueError, match=rf"^mac_pipeline must be an integer in 0\.\.{hi} for macs = {macs} "):
        DatapathConfig(macs=macs, mac_pipeline=depth)


def test_bad_k_names_the_value():
    with pytest.raises(ValueError, match=r"k must be an integer in 2\.\.32, not 33"):
        DatapathConfig(k=33, macs=4)


def test_presets_are_the_papers_engines():
    assert tuple(PRESETS) == ("macs4", "macs8", "macs16")
    assert tuple(p.macs for p in PRESETS.values()) == MACS_PRESETS
    assert all(p.k == 32 and p.engines == 1 for p in PRESETS.values())
    assert DatapathConfig.preset("macs8", k=4) == DatapathConfig(k=4, macs=8)
    with pytest.raises(ValueError, match=r"preset must be one of macs4, macs8, macs16, not 'macs9'"):
        DatapathConfig.preset("macs9")
    with pytest.raises(ValueError, match=r"k must be an integer in 2\.\.32"):
        DatapathConfig.preset("macs4", k=1)


def test_latency():
    config = DatapathConfig(k=8, macs=8, mac_pipeline=2, rescaler_pipeline=3)
    assert config.engine_latency == 2 + 1 + 3
    assert config.latency == 6
    assert dataclasses.replace(config, engines=4).latency == 6 + 3
    with pytest.raises(ValueError, match="engine_latency needs macs"):
        DatapathConfig().engine_latency


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DatapathConfig(macs=4).macs = 8


@pytest.mark.parametrize("fields", [{"macs": 4}, {"macs": 4, "engines": 1}, {}])
def test_pre_skew_needs_an_array(fields):
    with pytest.raises(ValueError, match=r"^pre_skew needs engines > 1"):
        DatapathConfig(pre_skew=True, **fields)


def test_pre_skew_is_a_boolean_and_named():
    with pytest.raises(ValueError, match=r"^pre_skew must be True or False, not 1"):
        DatapathConfig(macs=4, engines=2, pre_skew=1)
    config = DatapathConfig(k=4, macs=8, engines=4, pre_skew=True)
    assert config.name == "k4_macs8_engines4_pre_skew1" and config.latency == 3 + 3


def test_skew_register_bits():
    """E(E-1)/2 x (8N + 32 + |m| + |s| + 24): 774 at E = 4, N = 8, k = 4; none when pre-skewed."""
    assert DatapathConfig(k=4, macs=8, engines=4).skew_register_bits == 6 * (64 + 32 + 4 + 5 + 24) == 774
    assert DatapathConfig(k=32, macs=8, engines=2).skew_register_bits == 64 + 32 + 32 + 6 + 24
    assert DatapathConfig(k=4, macs=8, engines=2, hidden_bit=True).skew_register_bits == 64 + 32 + 3 + 5 + 24
    assert DatapathConfig(k=4, macs=8, engines=4, pre_skew=True).skew_register_bits == 0
    assert DatapathConfig(k=4, macs=8).skew_register_bits == 0
