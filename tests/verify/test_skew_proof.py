"""The pre-skew step of ``make formal`` (:mod:`verify.skew_proof`): a pre-skewed array
behind its caller's skew is the aligned array, and a wrong skew is caught."""

import shutil

import pytest

from eda.abc import find_abc
from hw.config import DatapathConfig
from verify import skew_proof
from verify.rescaler_proof import default_yosys

pytestmark = pytest.mark.skipif(shutil.which("yosys-abc") is None,
                                reason="needs Debian's yosys-abc (make test installs it when root)")

SMALL = DatapathConfig(k=4, macs=4, engines=2, pre_skew=True)


def test_skew_step_proves_a_pre_skewed_array(tmp_path):
    yosys = default_yosys()
    lines = []
    verdict = skew_proof.skew_step((SMALL,), yosys=yosys, abc=find_abc(yosys), workdir=tmp_path,
                                   out=lambda *a, **k: lines.append(a[0]))
    assert verdict == "proved", lines
    assert lines[0].startswith("pre-skew step: 1 pre-skewed arrays")
    assert "k4_macs4_engines2_pre_skew1" in lines[1] and "proven (equivalent" in lines[1]
    assert lines[-1].startswith("pre-skew step: proved in ")


class NoSkew(skew_proof.CallerSkew):
    """A caller that forgets to skew: engine 1 gets its weights a cycle early."""

    def lag(self, engine):
        return 0


def test_a_caller_without_the_skew_is_caught(tmp_path):
    yosys = default_yosys()
    result = skew_proof.prove_pre_skew(SMALL, yosys=yosys, abc=find_abc(yosys), workdir=tmp_path,
                                       timeout_s=300, caller=NoSkew)
    assert result.status == "failed", result


def test_only_a_pre_skewed_array_is_proved(tmp_path):
    with pytest.raises(ValueError, match="needs a pre-skewed array, not k4_macs4_engines2"):
        skew_proof.prove_pre_skew(DatapathConfig(k=4, macs=4, engines=2), yosys=None, abc=None,
                                  workdir=tmp_path, timeout_s=1)
