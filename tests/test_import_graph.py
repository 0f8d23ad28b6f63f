"""The packages import one way: no back-edge and no cycle, checked from the code's imports.

``ALLOWED`` is the architecture (``docs/architecture.md``): each package and the
project packages it may import. The test reads every module's ``import``
statements (top level and inside functions), resolves relative imports, and
checks every edge against it; then it checks that no chain of module imports
closes a cycle, and that the study's report and the accuracy side reach no module
that runs a tool.
"""

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: package -> the project packages it may import.
ALLOWED = {
    "toolkit": set(),
    "sim": set(),
    "hw": {"sim", "toolkit"},
    "eda": {"toolkit"},
    "verify": {"eda", "hw", "sim", "toolkit"},
    "costmodel": {"eda", "hw", "sim", "toolkit"},
    "report": {"costmodel", "hw", "toolkit"},
    "accuracy": {"costmodel", "hw", "sim", "toolkit"},
}
#: The only modules of the cost side that the packages reading published results
#: (``report``, and ``accuracy``'s ``advise``) may import by name: the data-only
#: description of the published documents, the analytic model evaluated from
#: published coefficients, and the datapath's configuration.
DATA_ONLY = {"costmodel.published", "costmodel.analytic", "hw.config"}
#: Package -> the packages it imports freely; anything else it imports must be in
#: :data:`DATA_ONLY`, and nothing it reaches may run a tool.
READERS = {"report": {"report", "toolkit"}, "accuracy": {"accuracy", "sim", "toolkit"}}
#: What "runs a tool" means: reaching the one runner, ``toolkit.run``. Every tool
#: adapter of ``eda`` that starts a program and every cost-model module that
#: synthesizes, simulates, places or routes imports it, directly or not.
RUNNER = "toolkit.run"
#: Modules that cocotb imports by file name from ``verify/testbenches`` (test-time code).
TESTBENCHES = REPO / "verify" / "testbenches"


def _module_name(path):
    parts = path.relative_to(REPO).with_suffix("").parts
    if path.parent == TESTBENCHES:
        return f"verify.testbenches.{parts[-1]}"
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """The project modules ``path`` imports (absolute dotted names)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            elif path.parent == TESTBENCHES and node.module == "tb_common":
                prefix = "verify.testbenches.tb_common"
            else:
                prefix = node.module
            names = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] in ALLOWED}
    return found


def _modules():
    return {_module_name(path): path for package in ALLOWED for path in (REPO / package).rglob("*.py")}


MODULES = _modules()


def _edges():
    """module -> the project modules it imports (names that are modules, not members)."""
    edges = {}
    for name, path in MODULES.items():
        targets = set()
        for imported in _imports(path):
            while imported and imported not in MODULES:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        edges[name] = targets
    return edges


EDGES = _edges()


def test_every_package_is_seen():
    assert {name.split(".")[0] for name in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_one_way(module):
    package = module.split(".")[0]
    wrong = sorted(target for target in EDGES[module]
                   if target.split(".")[0] != package and target.split(".")[0] not in ALLOWED[package])
    assert not wrong, f"{module} ({package}) imports {wrong}: {package} may import only {sorted(ALLOWED[package])}"


def test_no_import_cycle():
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(EDGES[module]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(MODULES):
        if module not in state:
            visit(module)


def _runs_a_tool(module):
    return module == RUNNER or RUNNER in _closure(module)


def _closure(module):
    """Every project module that importing ``module`` runs: its imports, theirs, and
    the packages (``__init__``) on the way."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in MODULES]
        todo += sorted(EDGES[name])
    return seen - {module}


READER_MODULES = sorted(name for name in MODULES if name.split(".")[0] in READERS)
REPORT_MODULES = [name for name in READER_MODULES if name.split(".")[0] == "report"]


@pytest.mark.parametrize("module", READER_MODULES)
def test_readers_never_reach_a_module_that_runs_a_tool(module):
    """The study's report and the accuracy side read published JSON: nothing they import,
    directly or not, runs a tool."""
    allowed = DATA_ONLY | {name.split(".")[0] for name in DATA_ONLY}  # and their packages
    outside = sorted(t for t in EDGES[module] if t.split(".")[0] not in READERS[module.split(".")[0]])
    assert set(outside) <= allowed, f"{module} imports {outside}: only {sorted(DATA_ONLY)}"
    reached = sorted(name for name in _closure(module) | {module} if _runs_a_tool(name))
    assert not reached, f"{module} reaches {reached}, which run tools"


def test_the_tool_rule_sees_the_runners():
    """Sanity: the rule flags what runs tools and passes what only describes results."""
    assert REPORT_MODULES and "report.__main__" in REPORT_MODULES and "accuracy.advise.costs" in READER_MODULES
    for name in ("toolkit.run", "costmodel.sweep", "costmodel.synth", "costmodel.energy",
                 "verify.sweep_netlists", "eda.yosys", "eda.sta"):
        assert _runs_a_tool(name), name
    for name in ("costmodel.published", "costmodel.analytic", "hw.config", "toolkit.cli", "toolkit.files",
                 "toolkit.figures", "toolkit.markdown", "eda.liberty"):
        assert not _runs_a_tool(name), name
    assert "toolkit.run" in _closure("costmodel.sweep")
    assert "costmodel" in _closure("costmodel.published")  # the package's __init__ runs first


def test_testbenches_are_not_installed():
    """cocotb is a test-time dependency: its testbenches are outside the installed packages."""
    include = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(include) == sorted(f"{package}*" for package in ALLOWED)
    packages = list(ALLOWED)
    assert not (TESTBENCHES / "__init__.py").exists()
    assert any(path.read_text().find("import cocotb") >= 0 for path in TESTBENCHES.glob("*.py"))
    installed = [path for package in packages for path in (REPO / package).rglob("*.py")
                 if TESTBENCHES not in path.parents and "import cocotb" in path.read_text()]
    assert not installed, f"installed modules import cocotb: {installed}"


def test_resolver_maps_relative_absolute_and_testbench_imports():
    """Sanity: the resolver maps relative and absolute imports to modules."""
    assert "sim.golden" in EDGES["hw.rescaler"]
    assert "hw.config" in EDGES["hw.rescaler"]            # relative import
    assert "verify.testbenches.tb_common" in EDGES["verify.testbenches.rescaler_tb"]
