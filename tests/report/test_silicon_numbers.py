"""The energy and layout numbers from published point reports (report.silicon_numbers).

Tool-free: the point reports are fabricated in ``tmp_path`` (``tests/report/conftest.py``)
with numbers chosen so that every ratio is known in advance.
"""

import json
import re
from pathlib import Path

import pytest

from report import silicon_numbers

REPO = Path(__file__).resolve().parents[2]


def test_the_grids_are_the_makefiles():
    makefile = (REPO / "Makefile").read_text()
    for name, values in (("ENERGY_K", silicon_numbers.ENERGY_K), ("ENERGY_MACS", silicon_numbers.ENERGY_MACS),
                         ("LAYOUT_K", silicon_numbers.LAYOUT_K), ("LAYOUT_MACS", silicon_numbers.LAYOUT_MACS)):
        assert re.search(rf"^{name}\s*\?=\s*{','.join(map(str, values))}\s*$", makefile, re.M), name


def test_beats_fit_lines_and_thresholds(silicon):
    fits = {f["k"]: f for f in silicon_numbers.beats_fit(silicon.beats_rows())}
    f4, f32 = fits[4], fits[32]
    assert (f4["rescaler_per_output"], f4["rescaler_per_beat"]) == pytest.approx((50.0, 5.0))
    assert (f4["rest_per_output"], f4["rest_per_beat"]) == pytest.approx((10.0, 95.0))
    assert f4["residual"] == pytest.approx(0.0, abs=1e-12)
    assert f4["share_limit"] == pytest.approx(0.05) and f32["share_limit"] == pytest.approx(50 / 145)
    # k=4: (50 + 5B) / (60 + 100B) < 0.1 <=> 5B > 44, so B = 9; never below 1 % (limit 5 %).
    assert f4["beats_below"] == {0.1: 9, 0.01: None}
    assert f32["beats_below"] == {0.1: None, 0.01: None}
    # Input held: the rescaler costs its B = 1 figure, 55 pJ: 55 / (65 + 95 B) < 0.1 <=> B > 5.1.
    assert f4["beats_below_held"][0.1] == 6
    assert f4["beats_below_held"][0.01] == 58  # 55 < 0.01 (65 + 95 B) <=> B > 57.2
    # A depthwise 3x3 layer (L = 9) takes 2 beats on 8 lanes: (50 + 10) / (60 + 10 + 190); held 55 / (55 + 200).
    assert silicon_numbers.layer_shares(f4, 9) == pytest.approx((2, 60 / 260, 55 / 255))


def test_missing_points_are_not_errors(tmp_path, silicon):
    # A liberty report without the energy object (k = 8, 8 MACS) is a point not yet measured, not an error.
    points = silicon_numbers.load(silicon.publish_some(tmp_path))
    assert (8, 8) in points.missing_energy and (3, 4) in points.missing_energy and (4, 4) not in points.missing_energy
    assert points.missing_layout == [(8, 8), (32, 8)] and points.beats is None


@pytest.mark.parametrize("damage, message", [
    (lambda s: "{not json", "is not valid JSON"),
    (lambda s: json.dumps(s.liberty_point(6, 8)), "holds k=6 macs=8 (liberty flow), not k=4 macs=8"),
    (lambda s: json.dumps({**s.liberty_point(4, 8), "energy": {"stimulus": "x"}}), "its energy object needs"),
    (lambda s: json.dumps([1, 2]), "is not a synth report"),
])
def test_a_damaged_point_is_one_error(tmp_path, silicon, damage, message):
    root = silicon.publish(tmp_path / "reports")
    (root / "synth" / "k4_macs8.json").write_text(damage(silicon))
    with pytest.raises(ValueError, match=re.escape(message)):
        silicon_numbers.load(root)


def test_damaged_layout_and_beats_files(tmp_path, silicon):
    root = silicon.publish(tmp_path)
    bad = silicon.layout_point(8)
    del bad["layout"]["post_route"]
    (root / "synth" / "k8_macs8_layout.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="make synth K=8 MACS=8 FLOW=layout PUBLISH=1"):
        silicon_numbers.load(root)
    bad = silicon.layout_point(8)
    bad["layout"]["core_area_um2"] = 0  # a ratio's denominator
    (root / "synth" / "k8_macs8_layout.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="needs positive"):
        silicon_numbers.load(root)
    (root / "synth" / "k8_macs8_layout.json").write_text(json.dumps(silicon.layout_point(8)))
    (root / "energy_beats.json").write_text(json.dumps([{"k": 4}]))
    with pytest.raises(ValueError, match="make energy-beats PUBLISH=1"):
        silicon_numbers.load(root)
