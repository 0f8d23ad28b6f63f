"""Executors (``--executor local|dask``) and the explorer on them, against a real Dask
``distributed.LocalCluster`` with process workers.

What is checked: one outcome per item, in any order, with failures reported for
their item; a sweep whose worker is killed midway still ends with every point
once; the explorer gives byte-identical tables on the local pool and on Dask.
The syntheses are of the rescaler alone with the generic flow (seconds each).
"""

import json
import math
import os
import signal
import time

import pytest

from costmodel import executors, explore, synth
from costmodel.sweep import Sweep, run_sweep
from hw.config import DatapathConfig
from toolkit.run import ToolError

distributed = pytest.importorskip("distributed", reason="dask/distributed are not installed (pip install -e '.[dask]')")


def _slow_square(x):
    time.sleep(0.3)
    return x * x


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster:
        yield cluster


def _outcomes(executor, fn, items):
    out = sorted(executor.map(fn, items), key=lambda t: t[0])
    assert [i for i, _, _ in out] == list(range(len(items)))  # every item exactly once
    return out


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_map_reports_every_item_once_and_failures_by_item(kind, cluster):
    executor = (executors.LocalExecutor(2) if kind == "local"
                else executors.DaskExecutor(cluster.scheduler_address))
    out = _outcomes(executor, math.sqrt, [4.0, -1.0, 9.0])
    assert out[0][1:] == (2.0, None) and out[2][1:] == (3.0, None)
    assert out[1][1] is None and isinstance(out[1][2], ValueError)


def test_make_executor_checks():
    assert isinstance(executors.make_executor("local", jobs=3), executors.LocalExecutor)
    with pytest.raises(ValueError, match="needs --scheduler"):
        executors.make_executor("dask")
    with pytest.raises(ValueError, match="applies to --executor dask only"):
        executors.make_executor("local", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="address like tcp://HOST:8786"):
        executors.DaskExecutor("localhost")
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        executors.LocalExecutor(0)


def test_unreachable_scheduler_is_one_tool_error():
    executor = executors.DaskExecutor("tcp://127.0.0.1:9", timeout=2)
    with pytest.raises(ToolError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        list(executor.map(math.sqrt, [1.0]))


def _sweep(ks):
    request = synth.resolve_flow("generic")
    return Sweep(tuple(DatapathConfig(k=k) for k in ks), request, *synth.find_tools(request))


class _KillOnFirstLine:
    """A progress stream that SIGKILLs one busy Dask worker process at the first line."""

    def __init__(self, client):
        self.client, self.killed, self.lines = client, None, []

    def write(self, text):
        self.lines.append(text)
        if self.killed is None and text.startswith("["):
            pids = self.client.run(os.getpid)
            self.killed = sorted(pids.values())[0]
            os.kill(self.killed, signal.SIGKILL)

    def flush(self):
        pass


@pytest.mark.slow
def test_killed_worker_sweep_finishes_with_every_point_once(cluster, tmp_path):
    """Slow-ish (a few syntheses of the rescaler alone, twice the work of one worker)."""
    ks = (4, 5, 6, 7, 8, 9)
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        progress = _KillOnFirstLine(client)
        reports = run_sweep(_sweep(ks), cache_dir=tmp_path / "cache", progress=progress,
                            executor=executors.DaskExecutor(cluster.scheduler_address))
        client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    assert progress.killed is not None
    assert [r["config"]["k"] for r in reports] == list(ks)
    assert sum(line.startswith("[") for line in progress.lines) == len(ks)  # one line per point
    assert len(list((tmp_path / "cache").glob("*.json"))) == len(ks)


SPACE = {"flow": ["generic"], "k": [4, 8], "rescaler_pipeline": [1],
         "variants": {"paper": {"fast_clamp": False}, "fast_clamp": {"fast_clamp": True}},
         "macs": [None]}


@pytest.mark.slow
def test_explore_local_and_dask_give_identical_bytes(cluster, tmp_path):
    """The explorer on the local pool and on Dask, each from its own cold cache."""
    runs = {}
    for kind, executor in (("local", executors.LocalExecutor(2)),
                           ("dask", executors.DaskExecutor(cluster.scheduler_address))):
        runs[kind] = explore.explore("t", SPACE, executor=executor, out=tmp_path / kind,
                                     cache_dir=tmp_path / f"cache_{kind}", draw=kind == "local")
        assert runs[kind]["points"] == 4 and runs[kind]["synthesized"] == 4 and runs[kind]["cached"] == 0
    for name in ("explore.json", "explore.csv", "pareto.json", "pareto.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name
    assert (tmp_path / "local" / "pareto.png").stat().st_size > 0
    rows = json.loads((tmp_path / "local" / "explore.json").read_text())["points"]
    assert {r["paper"] for r in rows} == {"", "paper (k=4)"}
    assert sum(r["best_for_k"] for r in rows) == 2  # one per k (one group: rescaler alone)
    assert any(r["pareto"] for r in rows)
    again = explore.explore("t", SPACE, executor=executors.LocalExecutor(2), out=tmp_path / "again",
                            cache_dir=tmp_path / "cache_dask", draw=False)
    assert (again["synthesized"], again["cached"]) == (0, 4)  # Dask's results are in the client's cache
    assert (tmp_path / "again" / "explore.json").read_bytes() == (tmp_path / "local" / "explore.json").read_bytes()
