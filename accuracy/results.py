"""Writing a study's results: the numbers as JSON, the table as Markdown, both atomically."""

import json
from pathlib import Path

import numpy as np

from toolkit.files import write_atomically

__all__ = ["to_json", "write_json", "write_report"]


def to_json(data):
    """``data`` as indented JSON text (numpy scalars and arrays as plain numbers and lists)."""
    return json.dumps(data, indent=1, default=_jsonable) + "\n"


def write_json(path, data):
    """Write ``data`` as indented JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, to_json(data))


def write_report(out_dir, stem, result, markdown):
    """Write ``<stem>.json`` (the numbers) and ``<stem>.md`` (the table) into ``out_dir``."""
    out_dir = Path(out_dir)
    write_json(out_dir / f"{stem}.json", result)
    write_atomically(out_dir / f"{stem}.md", markdown)


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serializable: {type(v)}")
