"""Where the synthesis jobs of a sweep run: a local process pool or a Dask cluster.

An executor maps a picklable function over a list of items and yields
``(index, result, error)`` as each item finishes, in completion order: exactly
one triple per item, ``error`` None on success, else the exception the item
raised (a failure is reported for its item, never dropped, and never stops the
others). :class:`LocalExecutor` is the default (``jobs`` processes on this
machine); :class:`DaskExecutor` submits the same function to a
``distributed`` scheduler, whose workers may run on other hosts.

The function a sweep maps is a :class:`SynthJob`: it synthesizes one
configuration through :func:`costmodel.synth.synthesize_config` (the validated
cache, atomic writes) in the worker's own working directory. With Dask the
report then comes back to the client, which stores it in its own cache as well
(:meth:`SynthJob.store`), so a cluster whose workers share no file system still
leaves every result on the client.
"""

import concurrent.futures
import dataclasses
import socket
import uuid
from pathlib import Path

from hw.export import datapath, to_rtlil
from toolkit.cache import ResultCache
from toolkit.run import ToolError, watch_parent

from . import synth

__all__ = ["LocalExecutor", "DaskExecutor", "SynthJob", "make_executor"]


class LocalExecutor:
    """``jobs`` worker processes on this machine (:class:`concurrent.futures.ProcessPoolExecutor`).

    A worker process that dies breaks the pool: every item not yet finished is
    then reported with that error (``BrokenProcessPool``), none is lost. Workers
    end with this process, even when it is killed with ``kill -9``
    (:func:`toolkit.run.watch_parent`), and the tools they run end with them;
    when the consumer stops early (an error, Ctrl-C), the items not started are
    cancelled.
    """

    name = "local"

    def __init__(self, jobs=2):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"jobs must be an integer >= 1, not {jobs!r}")
        self.jobs = jobs

    def describe(self):
        return f"{self.jobs} local process{'es' * (self.jobs != 1)}"

    def map(self, fn, items):
        """Yield ``(index, result, error)`` per item, as they finish."""
        items = list(items)
        with concurrent.futures.ProcessPoolExecutor(max_workers=min(self.jobs, max(1, len(items))),
                                                    initializer=watch_parent) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            try:
                for future in concurrent.futures.as_completed(futures):
                    try:
                        yield futures[future], future.result(), None
                    except Exception as exc:  # reported for its item; the caller decides
                        yield futures[future], None, exc
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


class DaskExecutor:
    """Submit the items to a Dask ``distributed`` scheduler.

    Parameters
    ----------
    scheduler : str
        The scheduler's address, ``tcp://HOST:PORT`` (``dask scheduler`` prints it).
    retries : int
        How often an item whose function raised is run again before its error is
        reported. Synthesis failures are deterministic, so the default is 0. A
        worker that dies is another matter: the scheduler re-runs its items on
        the other workers by itself (up to ``distributed.scheduler.allowed-failures``
        times per item, after which the item is reported with ``KilledWorker``).
    timeout : float
        Seconds to wait for the scheduler before one clear error.
    """

    name = "dask"

    def __init__(self, scheduler, *, retries=0, timeout=30):
        if not isinstance(scheduler, str) or "://" not in scheduler:
            raise ValueError(f"the Dask scheduler must be an address like tcp://HOST:8786, not {scheduler!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, not {retries!r}")
        self.scheduler, self.retries, self.timeout = scheduler, retries, timeout

    def describe(self):
        return f"Dask scheduler {self.scheduler}"

    def _client(self):
        try:
            import distributed
        except ImportError:
            raise ToolError("the Dask executor needs dask and distributed: "
                            "\".venv/bin/pip install -e '.[dask]'\"") from None
        try:
            return distributed, distributed.Client(self.scheduler, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ToolError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None

    def map(self, fn, items):
        """Yield ``(index, result, error)`` per item, as they finish. Results are
        stored on the client through ``fn.store(item, result)`` when ``fn`` has it."""
        items = list(items)
        distributed, client = self._client()
        run = uuid.uuid4().hex[:12]  # unique task keys: two runs never share a result
        with client:
            futures = client.map(fn, items, key=[f"synth-{run}-{i}" for i in range(len(items))],
                                 pure=False, retries=self.retries)
            index = {future.key: i for i, future in enumerate(futures)}
            try:
                for future in distributed.as_completed(futures, loop=client.loop):
                    i = index[future.key]
                    if future.status == "finished":
                        result = future.result()
                        if hasattr(fn, "store"):
                            fn.store(items[i], result)
                        yield i, result, None
                    else:
                        yield i, None, future.exception()
                    future.release()
            except BaseException:
                client.cancel(futures)
                raise


def make_executor(name="local", *, jobs=2, scheduler=None):
    """The executor a command line asks for: ``local`` (``jobs`` processes) or
    ``dask`` (needs ``scheduler``); one clear :class:`ValueError` otherwise."""
    if name == "local":
        if scheduler is not None:
            raise ValueError("--scheduler applies to --executor dask only")
        return LocalExecutor(jobs)
    if name == "dask":
        if scheduler is None:
            raise ValueError("--executor dask needs --scheduler tcp://HOST:PORT (the address 'dask scheduler' prints)")
        return DaskExecutor(scheduler)
    raise ValueError(f"executor must be local or dask, not {name!r}")


@dataclasses.dataclass(frozen=True)
class SynthJob:
    """Synthesize one :class:`~hw.config.DatapathConfig` (picklable, so it runs anywhere).

    Members
    -------
    request : costmodel.synth.SynthRequest
    yosys, sta : toolkit.run.Tool
        The client's tools (``sta``: the flow's timing tool, or None). A worker on
        another host, where their absolute paths do not exist, finds its own and
        checks that their versions are the client's: a result is only valid for
        the tool versions in its cache key.
    cache_dir : str
        The result cache, relative to the worker's working directory unless absolute.
    """

    request: synth.SynthRequest
    yosys: object
    sta: object
    cache_dir: str = str(synth.CACHE_DIR)

    def tools_here(self):
        """The tools to use in this process (see the class docstring)."""
        def missing(tool):  # an absolute path of the client's that this host lacks
            return tool is not None and Path(tool.argv[0]).is_absolute() and not Path(tool.argv[0]).exists()

        if not (missing(self.yosys) or missing(self.sta)):
            return self.yosys, self.sta
        here = synth.find_tools(self.request)
        for mine, theirs in zip((self.yosys, self.sta), here):
            if (mine is None) != (theirs is None) or (mine is not None and mine.version != theirs.version):
                raise ToolError(f"worker {socket.gethostname()} has {theirs and theirs.version!r}, the client "
                                f"{mine and mine.version!r}: install the same tool versions on every host")
        return here

    def __call__(self, config):
        yosys, sta = self.tools_here()
        return synth.synthesize_config(config, self.request, yosys=yosys, sta=sta, cache_dir=self.cache_dir)

    def store(self, config, result):
        """On the client: put a worker's report into the client's cache (atomically),
        unless a valid entry is there already (a worker on this host wrote it)."""
        report, _ = result
        rtlil = to_rtlil(datapath(config).component, name="top")
        key = synth.cache_key(config, rtlil, self.request, yosys=self.yosys, sta=self.sta)
        cache = ResultCache(self.cache_dir)
        if synth.load_cached(cache.path(key), config) is not None:
            return
        if report.get("schema") != synth.SCHEMA_VERSION or report.get("config") != dataclasses.asdict(config):
            raise ToolError(f"a worker returned a report that is not for {config.name}: "
                            "are the client and the workers at the same commit?")
        cache.store(key, report)
