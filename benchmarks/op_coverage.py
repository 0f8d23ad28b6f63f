"""The TFLite op coverage table: which tests check each op against LiteRT, on how many elements.

Runs the TFLite tests (``tests/accuracy/tflite`` by default) with a small pytest plugin
that watches every call to :func:`accuracy.tflite.litert.run_litert`, the one way those
tests obtain LiteRT's answer. For each test that passes, every op in the model it ran
(read from the file before constant folding, so folded shape ops count too) is credited
with the test and with the number of model-output elements the test compared bit for
bit, and with the LiteRT kernels it was compared with (``reference``; SUM's tests ask
for ``optimized``). An op inside a larger model is thus checked through the outputs it
feeds; a row says so by the number of models it appeared in. Prints a Markdown table;
asserts nothing.

Usage::

    python benchmarks/op_coverage.py [pytest arguments, default tests/accuracy/tflite]
"""

import collections
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accuracy.tflite import litert  # noqa: E402
from toolkit import markdown  # noqa: E402


def read_model(path):
    """``(op names, output tensor names)`` of the model's first subgraph, the ops in
    order and before any folding (so folded shape ops count too)."""
    import tflite
    m = tflite.Model.GetRootAsModel(pathlib.Path(path).read_bytes(), 0)
    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    sg = m.Subgraphs(0)
    codes = [m.OperatorCodes(sg.Operators(i).OpcodeIndex()) for i in range(sg.OperatorsLength())]
    ops = [names.get(max(c.BuiltinCode(), c.DeprecatedBuiltinCode()), "?") for c in codes]
    return ops, [sg.Tensors(int(i)).Name().decode() for i in sg.OutputsAsNumpy()]


class Coverage:
    """A pytest plugin: the LiteRT runs of the current test, credited when it passes."""

    def __init__(self):
        self.pending = []
        self.tests = collections.defaultdict(set)
        self.elements = collections.Counter()
        self.models = collections.Counter()
        self.kernels = collections.defaultdict(set)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        self.pending = []
        original = litert.run_litert

        def watched(path, xq, *args, **kwargs):
            result = original(path, xq, *args, **kwargs)
            ops, outputs = read_model(path)
            elements = sum(result[name].size for name in outputs if name in result)
            self.pending.append((ops, elements, kwargs.get("kernels", "reference")))
            return result

        litert.run_litert = watched
        try:
            outcome = yield
        finally:
            litert.run_litert = original
        if outcome.excinfo is None:
            test = item.nodeid.split("::")[-1].split("[")[0]
            for ops, n, kernels in self.pending:
                for op in set(ops):
                    self.tests[op].add(test)
                    self.elements[op] += n
                    self.models[op] += 1
                    self.kernels[op].add(kernels)

    def table(self):
        rows = []
        for op in sorted(self.tests):
            tests = sorted(self.tests[op])
            shown = ", ".join(tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
            rows.append([op, f"{self.models[op]:,}", f"{self.elements[op]:,}", ", ".join(sorted(self.kernels[op])),
                         shown])
        return "\n".join(markdown.table(["op", "models", "output elements bit-exact", "LiteRT kernels", "tests"],
                                         rows, align="lrrll"))


def main(argv):
    reason = litert.litert_available()
    if reason is not None:
        print(f"error: LiteRT cannot be used here: {reason}", file=sys.stderr)
        return 1
    plugin = Coverage()
    args = argv or [str(ROOT / "tests" / "accuracy" / "tflite")]
    status = pytest.main(["-q", "-p", "no:cacheprovider", "--import-mode=importlib", *args], plugins=[plugin])
    print(plugin.table())
    return int(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
