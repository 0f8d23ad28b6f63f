"""Time of a cold `make synth` (synthesis) against a warm one (result cache).

Usage: python benchmarks/synth_warm.py [--k 4] [--macs 8] [--flow liberty|generic]

Runs the synth command three times as a user would: once with --fresh (a real
synthesis; the YoWASP compile cache is assumed warm), then twice from the result
cache, and prints the wall times and their ratio. Not a test: nothing is asserted.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(args):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "costmodel", "synth", *args],
                          cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(proc.stderr.strip())
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", default="4")
    parser.add_argument("--macs", default="8")
    parser.add_argument("--flow", default=None, choices=("liberty", "generic"))
    args = parser.parse_args()
    common = ["--k", args.k, "--macs", args.macs, "--out", str(REPO / "build" / "bench-reports")]
    if args.flow:
        common += ["--flow", args.flow]
    cold = timed([*common, "--fresh"])
    warm = min(timed(common) for _ in range(2))
    print(f"synth k={args.k} macs={args.macs}: cold {cold:.2f} s, warm {warm:.2f} s, "
          f"warm run {cold / warm:.1f}x faster")


if __name__ == "__main__":
    main()
