"""``python -m sim``: the accuracy side of the trade-off.

    python -m sim train        [--model models/digits_int8.npz]
    python -m sim accuracy     [--model ...] [--k 32,24,...,2] [--rounding half_up|...] [--limit N] [--out reports]
    python -m sim finetune     [--model ...] [--k 4,3,2] [--epochs 3] [--lr 100]
    python -m sim pareto       [--accuracy reports/accuracy.json] [--sweep reports/sweep_liberty.json]
    python -m sim tflite-export [--model ...] -o build/digits_int8.tflite
    python -m sim tflite-parity [--model ...] [--limit N]
    python -m sim tflite-scales FILE.tflite [--k 8]

Bad arguments and bad files end in one ``error:`` line and exit status 2.
"""

import argparse
import sys
from pathlib import Path

from . import network
from .golden import ROUNDINGS


def _ks(text):
    from .golden import check_k
    try:
        return tuple(check_k(int(v)) for v in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc) if "k must" in str(exc) else
                                         f"--k takes comma-separated integers, not {text!r}") from None


def _parser():
    p = argparse.ArgumentParser(prog="python -m sim", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    model = {"type": Path, "default": network.DEFAULT_MODEL, "help": "model file (.npz, see models/README.md)"}
    t = sub.add_parser("train", help="train, quantize and save the digits network")
    t.add_argument("--model", **model)
    a = sub.add_parser("accuracy", help="accuracy vs k and the error model -> reports/accuracy*")
    a.add_argument("--model", **model)
    a.add_argument("--k", type=_ks, default=None, help="widths, e.g. 32,8,4")
    a.add_argument("--rounding", choices=ROUNDINGS, default="half_up", help="rescaler rounding mode")
    a.add_argument("--limit", type=int, default=None, help="only the first N test images")
    a.add_argument("--out", type=Path, default=None, help="report directory (default reports/)")
    f = sub.add_parser("finetune", help="rescale-aware fine-tuning -> reports/finetune*")
    f.add_argument("--model", **model)
    f.add_argument("--k", type=_ks, default=(4, 3, 2))
    f.add_argument("--epochs", type=int, default=3)
    f.add_argument("--lr", type=float, default=100.0)
    f.add_argument("--out", type=Path, default=None)
    pa = sub.add_parser("pareto", help="accuracy vs area/ADP Pareto plot and table -> reports/pareto*")
    pa.add_argument("--accuracy", type=Path, default=None)
    pa.add_argument("--finetune", type=Path, default=None)
    pa.add_argument("--sweep", type=Path, default=None)
    pa.add_argument("--out", type=Path, default=None)
    e = sub.add_parser("tflite-export", help="write the network as an int8 .tflite flatbuffer")
    e.add_argument("--model", **model)
    e.add_argument("-o", "--output", type=Path, required=True)
    r = sub.add_parser("tflite-parity", help="golden model (TFLite mode) vs LiteRT, bit for bit")
    r.add_argument("--model", **model)
    r.add_argument("--limit", type=int, default=None)
    r.add_argument("--out", type=Path, default=None, help="write the parity report (JSON) here")
    s = sub.add_parser("tflite-scales", help="per-layer (m, s) at k and predicted output change of any int8 .tflite")
    s.add_argument("file", type=Path)
    s.add_argument("--k", type=_ks, default=(8,))
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    from . import experiments
    try:
        if args.cmd == "train":
            experiments.train(args.model)
        elif args.cmd == "accuracy":
            kw = {"limit": args.limit, "rounding": args.rounding}
            if args.k:
                kw["ks"] = args.k
            if args.out:
                kw["out_dir"] = args.out
            experiments.accuracy_report(args.model, **kw)
        elif args.cmd == "finetune":
            kw = {"out_dir": args.out} if args.out else {}
            experiments.finetune_report(args.model, ks=args.k, epochs=args.epochs, lr=args.lr, **kw)
        elif args.cmd == "pareto":
            from costmodel import pareto
            kw = {n: getattr(args, n) for n in ("accuracy", "finetune", "sweep", "out") if getattr(args, n)}
            pareto.pareto_report(**kw)
        elif args.cmd.startswith("tflite"):
            from . import tflite_io
            if args.cmd == "tflite-export":
                tflite_io.export(network.load(args.model), args.output)
                print(f"wrote {args.output}")
            elif args.cmd == "tflite-parity":
                tflite_io.parity_report(args.model, limit=args.limit, out=args.out)
            else:
                for k in args.k:
                    print(tflite_io.format_scales(tflite_io.scales_report(args.file, k)))
    except (network.ModelFileError, ValueError, FileNotFoundError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
