"""The golden model's input checks."""

import numpy as np
import pytest

from sim.golden import quantize_multiplier, rescale


def test_quantize_multiplier_rejects_bools():
    for value in (True, False, np.array([True, False])):
        with pytest.raises(ValueError, match="M must be a float"):
            quantize_multiplier(value, 8)


def test_shape_mismatch_names_the_operands():
    with pytest.raises(ValueError, match=r"acc \(3,\), m \(2,\)"):
        rescale(np.zeros(3, dtype=np.int64), np.array([1, 2]), 4)
