"""Content-addressed JSON results: a result is stored under a key of everything
that can change it, and trusted only after the caller's check.

:func:`result_key` keys an entry of a :class:`ResultCache` on

* the source of an **explicit list of modules** (their file contents): the
  scripts, parsers and arithmetic that make the result. The list is written out
  by the cache's owner, so a reader sees what invalidates an entry and a test can
  edit a copy of each listed module and see the key change;
* the **tool versions** that made the result;
* the caller's **material** (configuration, design, library digest, ...).

A loaded entry is returned only if it parses and passes the caller's ``check``;
a damaged, hand-edited or foreign entry reads as missing, so the caller
recomputes and overwrites it. Entries are written atomically: a killed run leaves
a whole entry or none.
"""

import dataclasses
import hashlib
import json
from pathlib import Path

from .files import write_atomically

__all__ = ["SOURCE_ROOT", "source_digests", "result_key", "ResultCache"]

#: The directory holding the project's packages (``toolkit/``, ``eda/``, ...).
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def source_digests(modules):
    """``{module: SHA-256 of its file}`` for dotted module names under :data:`SOURCE_ROOT`
    (``"eda.yosys"`` is ``SOURCE_ROOT/eda/yosys.py``; tests point it at an edited
    copy); a listed module that does not exist is a :class:`FileNotFoundError`:
    the list is wrong."""
    return {name: hashlib.sha256(Path(SOURCE_ROOT, *name.split(".")).with_suffix(".py").read_bytes()).hexdigest()
            for name in modules}


def result_key(modules, material, *, tools):
    """32 hex digits of the SHA-256 of the source of ``modules`` (:func:`source_digests`),
    ``tools`` (``{name: version}``) and ``material`` (anything JSON can write)."""
    text = json.dumps({"sources": source_digests(modules), "tools": tools, "material": material}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class ResultCache:
    """One directory of JSON results, ``<directory>/<key>.json`` (keys from :func:`result_key`).

    Members
    -------
    directory : path-like
    """

    directory: object

    def path(self, key):
        return Path(self.directory) / f"{key}.json"

    def load(self, key, check):
        """The entry of ``key`` as ``check(entry)`` returns it, or None when it is
        missing, unreadable, not JSON, or ``check`` raises ``ValueError``."""
        try:
            return check(json.loads(self.path(key).read_text()))
        except (OSError, ValueError):
            return None

    def store(self, key, result):
        """Write ``result`` as the entry of ``key``, atomically."""
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        write_atomically(self.path(key), json.dumps(result, indent=2) + "\n")
