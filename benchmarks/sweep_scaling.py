"""Wall time of one sweep on the local pool against 1, 2 and 4 local Dask workers.

Usage: python benchmarks/sweep_scaling.py [--k 4..11] [--macs none|4|8] [--flow generic]
       [--workers 1,2,4] [--jobs 2]

Each mode synthesizes the same configurations from its own empty result cache
(so every point is synthesized, none comes from a cache), in one run of this
script: first the local process pool (``--jobs`` processes, the default
executor), then a ``distributed.LocalCluster`` with 1, 2 and 4 single-threaded
process workers, started before the clock runs. It prints the wall times and
the ratio to the local pool. A machine with fewer cores than workers cannot
speed up past its core count; with other loads on the machine the figures move
by several percent from run to run. Not a test: nothing is asserted.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from costmodel import executors, synth  # noqa: E402
from costmodel.sweep import Sweep, parse_int_list, run_sweep  # noqa: E402
from hw.config import DatapathConfig  # noqa: E402


class _Quiet:
    def write(self, text):
        pass

    def flush(self):
        pass


def timed(sweep, executor):
    with tempfile.TemporaryDirectory(prefix="sweep-scaling-") as cache:
        start = time.perf_counter()
        run_sweep(sweep, cache_dir=Path(cache), progress=_Quiet(), executor=executor)
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", default="4..11")
    parser.add_argument("--macs", default="none", help="'none' (the rescaler alone) or an engine width")
    parser.add_argument("--flow", default="generic")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--jobs", type=int, default=2, help="processes of the local pool (default 2)")
    args = parser.parse_args()
    import distributed

    macs = None if args.macs == "none" else int(args.macs)
    request = synth.resolve_flow(args.flow)
    configs = tuple(DatapathConfig(k=k, macs=macs) for k in parse_int_list(args.k, "k"))
    sweep = Sweep(configs, request, *synth.find_tools(request))
    print(f"sweep of {len(configs)} configurations ({configs[0].name} ... {configs[-1].name}, "
          f"{request.flow} flow), cold cache each time, {os.cpu_count()} cores", flush=True)
    local = timed(sweep, executors.LocalExecutor(args.jobs))
    print(f"local pool, {args.jobs} processes   {local:7.1f} s   1.00x", flush=True)
    for n in parse_int_list(args.workers, "workers"):
        with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=50) as cluster:
            wall = timed(sweep, executors.DaskExecutor(cluster.scheduler_address))
        print(f"Dask, {n} local worker{'s' if n > 1 else ' '}        {wall:7.1f} s   "
              f"{local / wall:.2f}x the local pool's speed", flush=True)


if __name__ == "__main__":
    main()
