"""Per-sample time of ``evaluate``'s integer inference against LiteRT, in one run.

For three networks -- the converter-made MobileNetV2-0.35-96 of ``models/converted/``
and the person_detect-shaped and residual CNNs of :mod:`accuracy.tflite.synthetic`
(written to a temporary folder) -- on the same random int8 inputs:

* **ours**: :func:`accuracy.tflite.fast.run` in TFLite mode, batched, on ``--jobs``
  forked processes (default: both cores), as ``python -m accuracy evaluate`` runs it;
* **LiteRT default**: ``ai_edge_litert``'s ``Interpreter`` with its default kernels
  (XNNPACK) and thread count, one sample per ``invoke`` (the models have batch 1);
* **LiteRT reference**: the same with ``OpResolverType.BUILTIN_REF``, the kernels
  TFLite mode is bit-exact with (fewer samples: it is slow).

Each time is milliseconds per sample, the best of ``--repeat`` passes (the machine may
be shared: the best pass is the least disturbed one), LiteRT's first ``invoke`` left
out: wall-clock, and CPU (every thread and worker process of the run, so that ours on
two cores counts twice) -- on a loaded machine the CPU times compare the work done,
the wall-clock times also the share of the cores each run got. Ours is prepared
(:class:`accuracy.tflite.fast.Plan`) and run on one sample before it is timed: that
first call, when numba compiles the kernels (or loads them from its cache on disk), is
printed apart. It also checks that ours equals the reference interpreter
(:func:`accuracy.tflite.interpreter.run`) on the first samples. A measurement, never a
test: it asserts nothing about time.

Usage::

    python benchmarks/evaluate_speed.py [--n 512] [--n-ref 32] [--repeat 3] [--jobs 2]
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accuracy.tflite import fast, interpreter, reader, synthetic  # noqa: E402

MOBILENET = ROOT / "models" / "converted" / "mobilenetv2_035_96_int8.tflite"


def _cpu():
    """CPU seconds of this process and its finished children (the forked workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def best(fn, repeat):
    """``(wall, cpu)``: the least seconds of ``repeat`` calls of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _cpu()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    return min(walls), min(cpus)


def litert_per_sample(path, x, repeat, reference):
    """LiteRT's milliseconds per sample on the batch ``x``, one sample per invoke."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kw = {"experimental_op_resolver_type": OpResolverType.BUILTIN_REF} if reference else {}
    interp = Interpreter(model_path=str(path), **kw)
    interp.allocate_tensors()
    index = interp.get_input_details()[0]["index"]
    interp.set_tensor(index, x[:1])
    interp.invoke()

    def all_samples():
        for i in range(len(x)):
            interp.set_tensor(index, x[i:i + 1])
            interp.invoke()
    return [1000 * t / len(x) for t in best(all_samples, repeat)]


def measure(name, path, args):
    model = reader.load(path)
    t_in = model.tensors[model.inputs[0]]
    x = np.random.default_rng(0).integers(-128, 128, (args.n,) + tuple(t_in.shape[1:])).astype(np.int8)
    t0 = time.perf_counter()
    plan = fast.Plan(model)
    fast.run(model, x[:1], plan=plan, jobs=1)  # numba compiles the kernels (or loads them from its cache)
    first = time.perf_counter() - t0
    check = min(16, args.n)
    same = np.array_equal(fast.run(model, x[:check], plan=plan, jobs=1), interpreter.run(model, x[:check]))
    ours = [1000 * t / args.n for t in best(lambda: fast.run(model, x, plan=plan, jobs=args.jobs), args.repeat)]
    default = litert_per_sample(path, x, args.repeat, reference=False)
    ref = litert_per_sample(path, x[:args.n_ref], args.repeat, reference=True)
    return {"model": name, "ours": ours, "default": default, "reference": ref, "exact": same, "first": first}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=512, help="samples for ours and LiteRT default")
    ap.add_argument("--n-ref", type=int, default=32, help="samples for LiteRT's reference kernels")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=fast.JOBS)
    args = ap.parse_args()
    if min(args.n, args.n_ref, args.repeat, args.jobs) < 1:
        sys.exit("error: --n, --n-ref, --repeat and --jobs must be at least 1")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"MobileNetV2-0.35-96": MOBILENET}
        paths.update({name: make(pathlib.Path(tmp) / f"{name}.tflite") for name, make in synthetic.MODELS.items()})
        for name, path in paths.items():
            rows.append(measure(name, path, args))
            r = rows[-1]
            for j, kind in enumerate(("wall", "CPU")):
                ours, default, ref = r["ours"][j], r["default"][j], r["reference"][j]
                print(f"{name:20s} {kind:4s} ours {ours:7.2f} ms  LiteRT default {default:6.2f} ms  reference "
                      f"{ref:7.2f} ms  ours/default {ours / default:5.2f}x  ours/reference {ours / ref:5.2f}x",
                      flush=True)
            print(f"{name:20s} equal to the reference interpreter: {'yes' if r['exact'] else 'NO'}; "
                  f"preparing and the first sample {r['first']:.2f} s (left out above)")
    print(f"(ms per sample, best of {args.repeat}; ours on {args.jobs} process(es), {args.n} samples; "
          f"LiteRT one sample per invoke, reference on {args.n_ref}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
