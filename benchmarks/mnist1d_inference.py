"""CPU time of the MNIST-1D network's integer-only inference (what ``make accuracy`` spends).

Runs a stored model (``models/mnist1d/seed0_ptq.tflite``) through
:func:`accuracy.interpreter.run_batched` in TFLite mode and at ``k = 4`` on ``n``
synthetic inputs (no mnist1d needed) and prints CPU seconds per 1,000 samples per
run, and the ratio of one ``--batch`` to another (``--against``). CPU time
(``time.process_time``), not wall time, so that a loaded machine changes it little;
best of ``--repeat``. ``make accuracy`` makes 9 such runs per seed (5 seeds, 12,000
samples each); ``make finetune`` 14. A measurement, never a test: it asserts nothing.

Usage::

    python benchmarks/mnist1d_inference.py [--n 4096] [--batch 256] [--against 1024] [--repeat 3]
"""

import argparse
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accuracy.mnist1d import network  # noqa: E402
from accuracy.tflite import interpreter, reader  # noqa: E402


def cpu_per_1000(model, xq, k, batch, repeat):
    """Best CPU seconds per 1,000 samples of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        interpreter.run_batched(model, xq, k=k, batch=batch)
        best = min(best, time.process_time() - t0)
    return 1000 * best / len(xq)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=interpreter.BATCH)
    ap.add_argument("--against", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    model = reader.load(ROOT / "models" / "mnist1d" / "seed0_ptq.tflite")
    x = np.random.default_rng(0).normal(0, 1, (args.n, 40)).astype(np.float32)
    xq = network.quantize_input(model, x)
    for k, name in ((None, "TFLite mode"), (4, "k = 4")):
        ours = cpu_per_1000(model, xq, k, args.batch, args.repeat)
        other = cpu_per_1000(model, xq, k, args.against, args.repeat)
        print(f"{name:12s} batch {args.batch}: {ours:.3f} CPU s per 1000 samples; batch {args.against}: "
              f"{other:.3f} (ratio {other / ours:.2f})")


if __name__ == "__main__":
    main()
