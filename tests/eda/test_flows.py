"""eda.flows: every Flow record holds what the adapters that run it read."""

import pytest

from eda.flows import FLOWS


@pytest.mark.parametrize("name", list(FLOWS))
def test_every_flow_record_is_complete(name):
    flow = FLOWS[name]
    assert flow.name == name and flow.summary
    assert flow.kind in ("asic", "fpga", "layout") and flow.timing in ("opensta", "levels", "nextpnr")
    if flow.kind == "fpga":
        assert flow.timing == "nextpnr" and flow.family and flow.devices and not flow.liberty
        assert set(dict(flow.resources)) == {"lut", "ff", "dsp", "bram", "io"}
        assert set(dict(flow.synth_options)) <= set(dict(flow.devices))
    else:
        assert flow.mapping and flow.stat.startswith("stat") and flow.timing != "nextpnr"
        assert flow.liberty == ("{lib}" in flow.stat) == (flow.timing == "opensta")
    assert (flow.utilization is not None) == (flow.kind == "layout")
    if flow.kind == "layout":
        assert 0 < flow.utilization < 1 and flow.liberty


def test_the_first_asic_flows_need_a_library_then_none():
    asic = [flow for flow in FLOWS.values() if flow.kind == "asic"]
    assert asic[0].name == "liberty" and asic[0].liberty and not asic[-1].liberty

