"""Reading a user's or a command's file (JSON, ``.npz``) without trusting it.

Every loader of a file kind (a sweep, a point report, coefficients, an accuracy
table, ...) reads through :func:`read_json` and checks its fields with the
predicates here, so that a damaged or hostile file is one ``ValueError`` naming
the file and the field, never a traceback, a hang or a wrong number:

* the file is bounded in size (:data:`MAX_BYTES`) before it is read whole;
* ``NaN``, ``Infinity`` and numbers beyond a float (``1e400``) are refused as
  they are parsed, so a loaded number is always finite;
* nesting is bounded (:data:`MAX_DEPTH`), before Python's recursion limit turns
  a deeply nested array into a ``RecursionError``;
* an ``.npz`` (:func:`read_npz`) holds plain arrays only, their declared sizes
  bounded (:data:`MAX_NPZ_BYTES`) before any is read.

The per-kind schemas live next to their loaders; only what they share is here.
"""

import json
import math
from pathlib import Path

__all__ = ["MAX_BYTES", "MAX_DEPTH", "read_json", "is_number", "is_integer", "field_error", "MAX_NPZ_BYTES",
           "read_npz"]

#: Largest JSON file any loader reads (the study's largest document is a few 100 kB).
MAX_BYTES = 64 * 2**20
#: Deepest nesting of arrays and objects any document of the project has, with room.
MAX_DEPTH = 32


def _refuse_constant(name):
    raise ValueError(f"holds {name}, which is not a finite number")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"holds the number {text[:30]}, too large for a float")
    return value


def _depth(document):
    """Deepest nesting of lists and dicts in a parsed document, without recursion."""
    deepest, stack = 0, [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth + 1)
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


def read_json(path, *, remedy, absent=None, max_bytes=MAX_BYTES, nan=False):
    """The JSON document at ``path``, every number in it finite (``nan``: or ``NaN``,
    for documents that mark an empty statistic so; their reader checks the
    fields it uses).

    When the file is absent, a ValueError saying ``absent`` (what to run), or None
    without one. Anything else wrong (unreadable, too large, not UTF-8, not JSON,
    nested deeper than :data:`MAX_DEPTH`, ``NaN``/``Infinity``) is one ValueError
    naming ``path`` and ``remedy``, the command that rewrites it."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except FileNotFoundError:
        if absent is None:
            return None
        raise ValueError(f"{path} does not exist: {absent}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise ValueError(f"{path} is larger than {max_bytes // 2**20} MiB: not a file this tool writes "
                         f"(re-run '{remedy}')")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text: re-run '{remedy}'") from None
    deep = ValueError(f"{path} is nested deeper than {MAX_DEPTH} levels: not a file this tool writes "
                      f"(re-run '{remedy}')")
    try:
        document = json.loads(text, parse_float=_finite_float, parse_constant=lambda name: (
            math.nan if nan and name == "NaN" else _refuse_constant(name)))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}): re-run '{remedy}'") from None
    except RecursionError:
        raise deep from None
    except ValueError as exc:
        raise ValueError(f"{path} {exc}: re-run '{remedy}'") from None
    if _depth(document) > MAX_DEPTH:
        raise deep
    return document


def is_number(value, *, lo=None, hi=None):
    """A real number, not a bool, finite, within ``lo..hi`` when given."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond any float
        return False
    return finite and (lo is None or value >= lo) and (hi is None or value <= hi)


def is_integer(value, *, lo=None, hi=None):
    """An int, not a bool, within ``lo..hi`` when given."""
    return isinstance(value, int) and not isinstance(value, bool) and is_number(value, lo=lo, hi=hi)


def field_error(source, field, expected, value, remedy):
    """The one ValueError of a bad field: ``<source>: <field> must be <expected>, not
    <value>: <remedy>``, the value shown short and on one line."""
    shown = json.dumps(value)[:40] if _jsonable(value) else type(value).__name__
    return ValueError(f"{source}: {field} must be {expected}, not {shown}: {remedy}")


def _jsonable(value):
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


#: Most bytes the arrays of one ``.npz`` file may declare, checked before any is read.
MAX_NPZ_BYTES = 2 * 2**30


def read_npz(path, *, max_bytes=MAX_NPZ_BYTES):
    """The arrays of the ``.npz`` at ``path`` as ``{name: numpy array}``.

    Every member's ``.npy`` header is read first and the file refused unless every
    member is a plain array (no pickled objects) and all of them together declare
    at most ``max_bytes``, so that a header claiming a huge shape is an error, not a
    ``MemoryError``; a truncated or damaged archive (``BadZipFile``), a member that
    is not an array, or an unreadable file is one ValueError naming ``path``."""
    import zipfile

    import numpy as np
    from numpy.lib import format as npy

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not an .npz file")
    try:
        with zipfile.ZipFile(path) as archive:
            declared = 0
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise ValueError(f"member {info.filename!r} is not an array")
                with archive.open(info) as member:
                    version = npy.read_magic(member)
                    shape, _, dtype = (npy.read_array_header_1_0 if version == (1, 0)
                                       else npy.read_array_header_2_0)(member)
                if dtype.hasobject:
                    raise ValueError(f"array {info.filename[:-4]!r} holds Python objects (refused: no pickles)")
                declared += math.prod(shape) * dtype.itemsize
                if declared > max_bytes:
                    raise ValueError(f"its arrays declare more than {max_bytes // 2**30} GiB "
                                     f"({info.filename[:-4]!r} has shape {list(shape)})")
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npz file (damaged or truncated: {exc})") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable .npz file ({getattr(exc, 'strerror', None) or exc})") from None
