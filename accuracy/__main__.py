"""``python -m accuracy``: the accuracy side of the trade-off.

    python -m accuracy train        [--model models/digits_int8.npz]
    python -m accuracy accuracy     [--model ...] [--k 32,24,...,2] [--rounding half_up|...] [--limit N] [--out DIR]
    python -m accuracy finetune     [--model ...] [--k 4,3,2] [--epochs 3] [--lr 100]
    python -m accuracy pareto       [--accuracy reports/accuracy.json] [--sweep reports/sweep_liberty.json]
    python -m accuracy tflite-export [--model ...] -o build/digits_int8.tflite
    python -m accuracy tflite-parity [--model ...] [--limit N]
    python -m accuracy tflite-scales FILE.tflite [--k 8]
    python -m accuracy evaluate     MODEL.tflite --data FILE.npz [--k 8,4,3] [--narrow OPS] [--multiplier truncate|round]
                                    [--bias-compensation [--calibration C.npz]] [--save-outputs O.npz]
                                    [--labels] [--out R.json]
    python -m accuracy evaluate     MODEL.tflite --supported-ops
    python -m accuracy advise       MODEL.tflite --data FILE.npz [--macs 4,8,16] [--flow liberty|ecp5] [--max-drop 0.5]
                                    [--k 32,16,...,2] [--multiplier ...] [--bias-compensation [--calibration C.npz]]
                                    [--limit N] [--out DIR]
    python -m accuracy mnist1d-train     [--models models/mnist1d]     (needs the train extra: torch)
    python -m accuracy mnist1d-accuracy  [--models ...] [--limit N] [-j 2] [--out DIR | --publish]
    python -m accuracy mnist1d-finetune  [--models ...] [--limit N] [-j 2] [--out DIR | --publish]
    python -m accuracy truncation-bias   [--models ...] [--deep-model F.tflite] [--limit N] [--deep-samples N]
                                         [-j 2] [--out DIR | --publish]

Reports go to ``build/reports/`` (ignored by git) unless ``--publish`` (the
committed study, ``reports/``) or ``--out`` says otherwise. Bad arguments and bad
files end in one ``error:`` line and exit status 2 (:func:`toolkit.cli.main`).
"""

import math
import sys
from pathlib import Path

from sim.golden import ROUNDINGS, check_k
from toolkit import cli, files

from .digits import network

PROG = "python -m accuracy"


def _ks(text):
    values = tuple(cli.integer(v) for v in text.split(","))
    try:
        return tuple(check_k(v) for v in values)
    except ValueError as exc:
        raise cli.UsageError(f"--k: {exc}") from None


def _macs(text):
    from hw.config import check_macs
    try:
        return tuple(check_macs(cli.integer(v)) for v in text.split(","))
    except ValueError as exc:
        raise cli.UsageError(f"--macs: {exc}") from None


def _ops(text):
    """``--narrow``: comma-separated op names, added to the dot-product ops."""
    from .tflite import interpreter
    names = {v.strip().upper() for v in text.split(",") if v.strip()}
    try:
        return tuple(sorted(interpreter.check_narrow(names | set(interpreter.DEFAULT_NARROW))))
    except ValueError as exc:
        raise cli.UsageError(f"--narrow: {exc}") from None


def _positive(name, kind):
    """An argparse type: a finite number > 0 of ``kind`` (int or float), named in its error."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise cli.UsageError(f"{name} must be a positive {kind.__name__}, not {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise cli.UsageError(f"{name} must be a positive {kind.__name__}, not {text!r}")
        return value
    return parse


def _add_multiplier_arguments(parser):
    """How the k-bit operands are made: ``--multiplier``, ``--bias-compensation``, ``--calibration``."""
    parser.add_argument("--multiplier", choices=("truncate", "round"), default="truncate",
                        help="k-bit m from M: the paper's truncation (default, the RTL's) or round to nearest")
    parser.add_argument("--bias-compensation", action="store_true",
                        help="fold the expected multiplier error into the narrowed dot-product layers' biases")
    parser.add_argument("--calibration", type=Path, default=None, metavar="C.npz",
                        help="data for --bias-compensation's mean accumulators (default: --data itself)")


#: The ``--model`` option of the digits commands.
_MODEL = {"type": Path, "default": network.DEFAULT_MODEL, "help": "model file (.npz, see models/README.md)"}
#: The ``--models`` option of the MNIST-1D commands.
_MODELS = {"type": Path, "default": None, "help": "folder of the stored MNIST-1D models (default models/mnist1d)"}


def _parser():
    p = cli.Parser(prog=PROG, description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_digits_parsers, _tflite_parsers, _evaluate_parser, _advise_parser, _mnist1d_parsers,
                _truncation_bias_parser):
        add(sub)
    return p


def _digits_parsers(sub):
    """train, accuracy, finetune and pareto: the digits network's study."""
    t = sub.add_parser("train", help="train, quantize and save the digits network")
    t.add_argument("--model", **_MODEL)
    a = sub.add_parser("accuracy", help="accuracy vs k and the error model -> reports/accuracy*")
    a.add_argument("--model", **_MODEL)
    a.add_argument("--k", type=_ks, default=None, help="widths, e.g. 32,8,4")
    a.add_argument("--rounding", choices=ROUNDINGS, default="half_up", help="rescaler rounding mode")
    a.add_argument("--limit", type=_positive("--limit", int), default=None, help="only the first N test images")
    a.add_argument("--out", type=Path, default=None, help=f"report directory (default {cli.RUNS_DIR}/)")
    cli.add_publish_argument(a)
    f = sub.add_parser("finetune", help="rescale-aware fine-tuning -> reports/finetune*")
    f.add_argument("--model", **_MODEL)
    f.add_argument("--k", type=_ks, default=(4, 3, 2))
    f.add_argument("--epochs", type=_positive("--epochs", int), default=3)
    f.add_argument("--lr", type=_positive("--lr", float), default=100.0)
    f.add_argument("--out", type=Path, default=None,
                   help=f"report directory (default {cli.RUNS_DIR}/; tuned models go to its models/ "
                        "folder, or next to --model with --publish)")
    cli.add_publish_argument(f)
    pa = sub.add_parser("pareto", help="accuracy vs area/ADP Pareto plot and table -> reports/pareto*")
    pa.add_argument("--accuracy", type=Path, default=None)
    pa.add_argument("--finetune", type=Path, default=None)
    pa.add_argument("--sweep", type=Path, default=None)
    pa.add_argument("--out", type=Path, default=None,
                    help=f"report directory (default {cli.RUNS_DIR}/); inputs default to the same "
                         f"folder, else the committed {cli.STUDY_DIR}/")
    pa.add_argument("--workload", choices=("digits", "mnist1d"), default="digits",
                    help="which network's accuracy reports (mnist1d: mnist1d_*.json -> pareto_mnist1d.*)")
    cli.add_publish_argument(pa)


def _tflite_parsers(sub):
    """tflite-export, tflite-parity (the digits network and LiteRT) and tflite-scales."""
    e = sub.add_parser("tflite-export", help="write the network as an int8 .tflite flatbuffer")
    e.add_argument("--model", **_MODEL)
    e.add_argument("-o", "--output", type=Path, required=True)
    r = sub.add_parser("tflite-parity", help="golden model (TFLite mode) vs LiteRT, bit for bit")
    r.add_argument("--model", **_MODEL)
    r.add_argument("--limit", type=_positive("--limit", int), default=None)
    r.add_argument("--out", type=Path, default=None, help="write the parity report (JSON) here")
    s = sub.add_parser("tflite-scales", help="per-layer (m, s) at k and predicted output change of any int8 .tflite")
    s.add_argument("file", type=Path)
    s.add_argument("--k", type=_ks, default=(8,))


def _evaluate_parser(sub):
    ev = sub.add_parser("evaluate", help="any int8 .tflite on an .npz data set: TFLite mode and k-bit rescalers")
    ev.add_argument("model", type=Path, metavar="MODEL.tflite")
    ev.add_argument("--data", type=Path, default=None, metavar="FILE.npz",
                    help="x (or x0, x1, ... per input): the input batch (int8/uint8, or float for a float "
                         "input); y: optional labels")
    ev.add_argument("--supported-ops", action="store_true",
                    help="list every op of the model with its count, whether it runs and why not; run nothing")
    ev.add_argument("--k", type=_ks, default=(), help="rescaler widths to compare with TFLite mode, e.g. 8,4,3")
    ev.add_argument("--narrow", type=_ops, default=None, metavar="OPS",
                    help="ops given k-bit multipliers besides the dot-product ones (CONV_2D, DEPTHWISE_CONV_2D, "
                         "FULLY_CONNECTED, TRANSPOSE_CONV, BATCH_MATMUL), e.g. ADD,MUL,MEAN")
    _add_multiplier_arguments(ev)
    ev.add_argument("--save-outputs", type=Path, default=None, metavar="O.npz",
                    help="write every mode's raw outputs here (tflite_out<i>, k<K>_out<i>)")
    ev.add_argument("--labels", action="store_true", help="also print every sample's predicted label")
    ev.add_argument("--out", type=Path, default=None, help="write the report (JSON) here")


def _mnist1d_parsers(sub):
    """mnist1d-train, mnist1d-accuracy and mnist1d-finetune."""
    mt = sub.add_parser("mnist1d-train", help="train, quantize and RAT-fine-tune the MNIST-1D network (torch)")
    mt.add_argument("--models", **_MODELS)
    for name, what in (("mnist1d-accuracy", "accuracy vs k, CIs, McNemar, error build-up -> mnist1d_accuracy*"),
                       ("mnist1d-finetune", "RAT against its k=32 control -> mnist1d_finetune*")):
        m = sub.add_parser(name, help=what)
        m.add_argument("--models", **_MODELS)
        m.add_argument("--limit", type=_positive("--limit", int), default=None, help="only the first N test samples")
        m.add_argument("-j", "--jobs", type=_positive("--jobs", int), default=None,
                       help="seeds evaluated at once, one process each (default 2)")
        m.add_argument("--out", type=Path, default=None, help=f"report directory (default {cli.RUNS_DIR}/)")
        cli.add_publish_argument(m)


def _truncation_bias_parser(sub):
    tb = sub.add_parser("truncation-bias", help="truncate / round / bias-compensated multipliers: MNIST-1D "
                                                "accuracy and a deep network's bias -> truncation_bias*")
    tb.add_argument("--models", **_MODELS)
    tb.add_argument("--deep-model", type=Path, default=None, metavar="F.tflite",
                    help="the deep network (default models/converted/mobilenetv2_035_96_int8.tflite)")
    tb.add_argument("--limit", type=_positive("--limit", int), default=None, help="only the first N MNIST-1D test samples")
    tb.add_argument("--deep-samples", type=_positive("--deep-samples", int), default=None,
                    help="random inputs of the deep network (default 256)")
    tb.add_argument("-j", "--jobs", type=_positive("--jobs", int), default=None,
                    help="MNIST-1D seeds evaluated at once (default 2)")
    tb.add_argument("--out", type=Path, default=None, help=f"report directory (default {cli.RUNS_DIR}/)")
    cli.add_publish_argument(tb)


def _advise_parser(sub):
    from .advise import DEFAULT_KS, DEFAULT_MACS, FLOWS, MAX_DROP
    ad = sub.add_parser("advise", help="which k for this model: accuracy, engine area/delay, energy per inference, "
                                       "storage, Pareto front, one recommendation")
    ad.add_argument("model", type=Path, metavar="MODEL.tflite")
    ad.add_argument("--data", type=Path, required=True, metavar="FILE.npz",
                    help="x (or x0, x1, ...): the input batch; y: optional labels (accuracy; without them, "
                         "agreement and output changes against TFLite mode)")
    ad.add_argument("--macs", type=_macs, default=DEFAULT_MACS,
                    help=f"engine widths to price (default {','.join(map(str, DEFAULT_MACS))})")
    ad.add_argument("--flow", choices=FLOWS, default="liberty", help="the cost model's flow (default liberty)")
    ad.add_argument("--max-drop", type=_positive("--max-drop", float), default=MAX_DROP, metavar="POINTS",
                    help=f"largest acceptable accuracy drop against k = 32, in points (default {MAX_DROP})")
    ad.add_argument("--k", type=_ks, default=DEFAULT_KS,
                    help=f"widths to show (default {','.join(map(str, DEFAULT_KS))}; 32 is always added)")
    _add_multiplier_arguments(ad)
    ad.add_argument("--operand-isolation", action="store_true",
                    help="price energy on engines with operand isolation (the rescaler switches once per output)")
    ad.add_argument("--limit", type=_positive("--limit", int), default=None, help="only the first N samples")
    ad.add_argument("--out", type=Path, default=None,
                    help=f"report directory (default {cli.RUNS_DIR}/advise/<model stem>/)")


def _expected(call):
    """Run ``call()``; the errors a user's file or environment causes become UsageError."""
    try:
        return call()
    except (network.ModelFileError, ValueError, FileNotFoundError, IsADirectoryError, ImportError) as exc:
        raise cli.UsageError(str(exc)) from None


def _given(args, *names):
    """The keyword arguments among ``names`` the user gave (the defaults live in the functions)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def run_train(args):
    from .digits import experiments
    _expected(lambda: experiments.train(args.model))
    return 0


def _out_dir(args):
    """The report directory of ``args`` (``--out``, else by ``--publish``), checked
    writable before any work starts."""
    out = args.out or cli.reports_dir(args.publish)
    files.check_output_dir(out)
    return out


def _out_file(path):
    """Check an output file (and create its folder) before any work starts."""
    files.check_output(path, parents=True)
    if str(path) != "-":
        path.parent.mkdir(parents=True, exist_ok=True)


def run_accuracy(args):
    from .digits import experiments
    kw = {"limit": args.limit, "rounding": args.rounding, "out_dir": _out_dir(args)}
    kw.update({"ks": args.k} if args.k is not None else {})
    _expected(lambda: experiments.accuracy_report(args.model, **kw))
    return 0


def run_finetune(args):
    from .digits import experiments
    out = _out_dir(args)
    kw = {"out_dir": out}
    if not args.publish:
        files.check_output_dir(out / "models")
        kw["model_dir"] = out / "models"
        kw["model_dir"].mkdir(parents=True, exist_ok=True)
    _expected(lambda: experiments.finetune_report(args.model, ks=args.k, epochs=args.epochs, lr=args.lr, **kw))
    return 0


def run_pareto(args):
    from . import pareto
    out = _out_dir(args)
    acc_name, ft_name = pareto.WORKLOADS[args.workload][:2]
    inputs = {}
    for name, default in (("accuracy", acc_name), ("finetune", ft_name), ("sweep", "sweep_liberty.json")):
        given = getattr(args, name)
        mine = out / default
        inputs[name] = given or (mine if mine.is_file() or args.publish else cli.STUDY_DIR / default)
    _expected(lambda: pareto.pareto_report(**inputs, out=out, workload=args.workload))
    return 0


def run_tflite_export(args):
    from .digits import litert
    _out_file(args.output)
    _expected(lambda: litert.export(network.load(args.model), args.output))
    print(f"wrote {args.output}")
    return 0


def run_tflite_parity(args):
    from .digits import litert
    if args.out is not None:
        _out_file(args.out)
    _expected(lambda: litert.parity_report(args.model, limit=args.limit, out=args.out))
    return 0


def run_tflite_scales(args):
    from .tflite import scales
    for k in args.k:
        rows = _expected(lambda: scales.scales_report(args.file, k))
        if not any("note" not in row for row in rows):
            raise cli.UsageError(f"{args.file}: no int8 layer with per-channel scales to rescale "
                                 f"({len(rows)} conv/fully-connected op(s) found)")
        print(scales.format_scales(rows))
    return 0


def run_evaluate(args):
    from .results import write_json
    from .tflite import evaluate, reader, support
    if args.supported_ops:
        print(support.format_support(_expected(lambda: reader.load(args.model))))
        return 0
    if args.data is None:
        raise cli.UsageError("evaluate needs --data FILE.npz (or --supported-ops)")
    if args.calibration is not None and not args.bias_compensation:
        raise cli.UsageError("--calibration is only used with --bias-compensation")
    for path in (args.out, args.save_outputs):
        if path is not None:
            files.check_output(path)
    report = _expected(lambda: evaluate.evaluate(
        args.model, args.data, ks=args.k, narrow=args.narrow, multiplier=args.multiplier,
        bias_compensation=args.bias_compensation, calibration=args.calibration, save_outputs=args.save_outputs))
    print(evaluate.format_report(report, labels=args.labels))
    if args.out is not None:
        write_json(args.out, report)
    return 0


class _Progress:
    """Progress lines on stderr for a long run: every tenth of the samples or 10 s, and at the end."""

    def __init__(self, what):
        self.what, self.last = what, (0, 0.0)

    def __call__(self, done, total, seconds):
        if done < total and done - self.last[0] < total / 10 and seconds - self.last[1] < 10:
            return
        self.last = (done, seconds)
        left = seconds * (total - done) / done if done else 0.0
        print(f"{self.what}: {done}/{total} samples, {seconds:.0f} s, ~{left:.0f} s left", file=sys.stderr, flush=True)


def run_advise(args):
    from . import advise
    from .advise import write
    if args.calibration is not None and not args.bias_compensation:
        raise cli.UsageError("--calibration is only used with --bias-compensation")
    out = args.out or advise.default_out(args.model)
    files.check_output_dir(out)
    result, paths = _expected(lambda: advise.advise(
        args.model, args.data, ks=args.k, macs=args.macs, flow=args.flow, max_drop=args.max_drop,
        multiplier=args.multiplier, bias_compensation=args.bias_compensation, calibration=args.calibration,
        operand_isolation=args.operand_isolation, limit=args.limit, out_dir=out, progress=_Progress("advise")))
    print(write.console(result))
    print(f"wrote {', '.join(str(p) for p in paths)}")
    return 0


def _mnist1d_kw(args):
    """The report functions' keywords: models, limit, and the checked report directory."""
    rename = {"models": "model_dir", "limit": "limit", "jobs": "jobs"}
    return {**{rename[n]: v for n, v in _given(args, *rename).items()}, "out_dir": _out_dir(args)}


def run_mnist1d_train(args):
    from .mnist1d import experiments, network as mnist1d_network
    reason = mnist1d_network.torch_available()
    if reason:
        raise cli.UsageError(f"mnist1d-train needs torch: {reason}")
    kw = {"out_dir": args.models} if args.models else {}
    _expected(lambda: experiments.train(**kw))
    return 0


def run_mnist1d_accuracy(args):
    from .mnist1d import experiments
    _expected(lambda: experiments.accuracy_report(**_mnist1d_kw(args)))
    return 0


def run_mnist1d_finetune(args):
    from .mnist1d import experiments
    _expected(lambda: experiments.finetune_report(**_mnist1d_kw(args)))
    return 0


def run_truncation_bias(args):
    from . import truncation_bias
    kw = _mnist1d_kw(args)
    kw.update({name: value for name, value in (("deep_model", args.deep_model), ("deep_samples", args.deep_samples))
               if value is not None})
    deep = kw.get("deep_model", truncation_bias.DEEP_MODEL)
    inputs = cli.RUNS_DIR.parent / f"{Path(deep).stem}_random_int8.npz"
    files.check_output(inputs, parents=True)
    _expected(lambda: truncation_bias.report(**kw, inputs_out=inputs, progress=_Progress("deep network")))
    print(f"the deep network's random inputs: {inputs} (python -m accuracy advise {deep} --data {inputs})")
    return 0


HANDLERS = {
    "train": run_train, "accuracy": run_accuracy, "finetune": run_finetune, "pareto": run_pareto,
    "tflite-export": run_tflite_export, "tflite-parity": run_tflite_parity, "tflite-scales": run_tflite_scales,
    "evaluate": run_evaluate, "advise": run_advise, "mnist1d-train": run_mnist1d_train, "mnist1d-accuracy": run_mnist1d_accuracy,
    "mnist1d-finetune": run_mnist1d_finetune, "truncation-bias": run_truncation_bias,
}


def main(argv=None):
    return cli.main(_parser(), HANDLERS, argv)


if __name__ == "__main__":
    sys.exit(main())
