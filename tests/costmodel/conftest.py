"""Fixtures of the cost-model tests."""

import shutil
from pathlib import Path

import pytest

from toolkit import cache

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def source_copy(tmp_path, monkeypatch):
    """``copy(modules)``: copy those modules' files under a new root and point the
    result caches' keys at it (:data:`toolkit.cache.SOURCE_ROOT`); returns
    ``{module: path of its copy}``, for a test to edit."""
    def copy(modules):
        root = tmp_path / "source"
        paths = {}
        for module in modules:
            relative = Path(*module.split(".")).with_suffix(".py")
            paths[module] = root / relative
            paths[module].parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / relative, paths[module])
        monkeypatch.setattr(cache, "SOURCE_ROOT", root)
        return paths
    return copy
