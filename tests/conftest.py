"""Fixtures shared by the test modules: the stored digits network and its data split."""

import pytest


@pytest.fixture(scope="session")
def net():
    """The stored int8 digits network (``models/digits_int8.npz``)."""
    from accuracy.digits import network
    return network.load()


@pytest.fixture(scope="session")
def data():
    """``(x_train, y_train, x_test, y_test)`` of the digits split the network was trained on."""
    from accuracy.digits import network
    return network.load_digits_split()


# The coverage table of the cocotb regression: every testbench writes
# coverage_<test>.json next to its simulation (build/cocotb/<run>/); the runs of
# this session are summed up at the end of the test output.
_SESSION_START = []


def pytest_sessionstart(session):
    import time
    _SESSION_START.append(time.time())


def pytest_terminal_summary(terminalreporter):
    import json

    from verify.coverage import format_table, summary_row
    from verify.runner import BUILD_ROOT

    if not _SESSION_START or not BUILD_ROOT.is_dir():
        return
    rows, speeds = [], []
    for path in sorted(BUILD_ROOT.glob("*/coverage_*.json")):
        if path.stat().st_mtime < _SESSION_START[0]:
            continue
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        rows.append(summary_row(f"{path.parent.name} {record['test']}", record["coverage"]))
        if "cpu_seconds" in record:
            speeds.append(f"{path.parent.name} {record['test']} ({record.get('sim', '?')}, {record['lanes']} lanes): "
                          f"{record['vectors']:,} vectors in {record['seconds']:.1f} s wall "
                          f"({record['vectors'] / max(record['seconds'], 1e-9):,.0f} vectors/s), "
                          f"{record['cpu_seconds']:.1f} CPU-s "
                          f"({record['vectors'] / max(record['cpu_seconds'], 1e-9):,.0f} vectors per CPU-second)")
    if rows:
        terminalreporter.write_sep("=", "coverage of the cocotb regression (verify.coverage)")
        terminalreporter.write_line(format_table(rows))
    if speeds:
        terminalreporter.write_sep("-", "simulation phase of each run (simulator build and start-up not included)")
        for line in speeds:
            terminalreporter.write_line(line)
