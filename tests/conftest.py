"""Fixtures shared by the test modules: the stored digits network and its data split."""

import pytest


@pytest.fixture(scope="session")
def net():
    """The stored int8 digits network (``models/digits_int8.npz``)."""
    from accuracy import network
    return network.load()


@pytest.fixture(scope="session")
def data():
    """``(x_train, y_train, x_test, y_test)`` of the digits split the network was trained on."""
    from accuracy import network
    return network.load_digits_split()
