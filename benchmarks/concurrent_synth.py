"""Two syntheses at once, of the same and of different configurations, ROUNDS times.

    python benchmarks/concurrent_synth.py [--rounds 5] [--flow liberty|generic] [--make]

Each round starts two ``python -m costmodel synth ... --fresh`` (or, with
``--make``, two ``make synth`` with OPTS=--fresh) in the same clone at the same
moment, into separate report folders. Every run must succeed and write a valid
report (:func:`costmodel.synth.check_report`) equal in area and delay to a
reference synthesis of the same configuration done alone first. Prints one line
per round and the totals; exit status 1 if any run failed or disagreed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from costmodel import synth  # noqa: E402

PAIRS = {"same": (("4", "8"), ("4", "8")), "different": (("4", "8"), ("5", "8"))}


def command(k, macs, flow, out, use_make):
    if use_make:
        return ["make", "-s", "synth", f"K={k}", f"MACS={macs}", f"FLOW={flow}", "OPTS=--fresh --out " + out]
    return [sys.executable, "-m", "costmodel", "synth", "--k", k, "--macs", macs, "--flow", flow,
            "--fresh", "--out", out]


def report_in(folder):
    [path] = Path(folder).glob("*.json")
    return synth.check_report(json.loads(path.read_text()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--flow", default="liberty" if synth.DEFAULT_LIBERTY.is_file() else "generic")
    parser.add_argument("--make", action="store_true", help="run 'make synth' instead of the CLI")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    scratch = Path(tempfile.mkdtemp(prefix="concurrent-synth."))
    reference = {}
    for k, macs in sorted({c for pair in PAIRS.values() for c in pair}):
        out = scratch / f"ref_k{k}"
        subprocess.run(command(k, macs, args.flow, str(out), False), cwd=REPO, env=env, check=True,
                       capture_output=True)
        reference[k] = report_in(out)
    failures = runs = 0
    for mode, pair in PAIRS.items():
        for round_ in range(1, args.rounds + 1):
            start = time.monotonic()
            outs = [scratch / f"{mode}{round_}_{i}" for i in range(2)]
            procs = [subprocess.Popen(command(k, macs, args.flow, str(out), args.make), cwd=REPO, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for (k, macs), out in zip(pair, outs)]
            verdicts = []
            for proc, (k, _), out in zip(procs, pair, outs):
                _, err = proc.communicate()
                runs += 1
                try:
                    if proc.returncode != 0:
                        raise ValueError(f"exit {proc.returncode}: {err.strip().splitlines()[-1:]}")
                    got, want = report_in(out), reference[k]
                    if (got["area"], got["delay"], got["config"]) != (want["area"], want["delay"], want["config"]):
                        raise ValueError(f"area/delay {got['area']}/{got['delay']} != {want['area']}/{want['delay']}")
                    verdicts.append("ok")
                except (ValueError, OSError) as exc:
                    failures += 1
                    verdicts.append(f"FAILED ({exc})")
            print(f"{mode:9} round {round_}: k={pair[0][0]} {verdicts[0]}, k={pair[1][0]} {verdicts[1]} "
                  f"({time.monotonic() - start:.1f} s)", flush=True)
    print(f"{runs - failures} of {runs} concurrent runs succeeded with a valid, correct report "
          f"({args.flow} flow{', via make' if args.make else ''})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
