"""toolkit.cache: keys from an explicit module list, tools and material; validated loads;
atomic stores. (The synthesis and energy caches' own lists are tested with them:
``tests/costmodel/test_cache.py``, ``tests/costmodel/test_energy.py``.)"""

import json

import pytest

from toolkit import cache
from toolkit.cache import ResultCache, result_key


@pytest.fixture
def root(tmp_path, monkeypatch):
    """Two modules of a package ``pkg`` under a source root of their own."""
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    for name in ("a", "b"):
        (tmp_path / "src" / "pkg" / f"{name}.py").write_text(f"X = {name!r}\n")
    monkeypatch.setattr(cache, "SOURCE_ROOT", tmp_path / "src")
    return tmp_path / "src"


def test_key_depends_on_sources_tools_and_material(root):
    key = result_key(("pkg.a", "pkg.b"), {"k": 4}, tools={"yosys": "0.70"})
    assert len(key) == 32 and key == result_key(("pkg.a", "pkg.b"), {"k": 4}, tools={"yosys": "0.70"})
    assert key != result_key(("pkg.a", "pkg.b"), {"k": 5}, tools={"yosys": "0.70"})
    assert key != result_key(("pkg.a", "pkg.b"), {"k": 4}, tools={"yosys": "0.23"})
    assert key != result_key(("pkg.a",), {"k": 4}, tools={"yosys": "0.70"})
    (root / "pkg" / "b.py").write_text("X = 'edited'\n")
    assert key != result_key(("pkg.a", "pkg.b"), {"k": 4}, tools={"yosys": "0.70"})


def test_a_listed_module_that_does_not_exist_is_an_error(root):
    with pytest.raises(FileNotFoundError):
        result_key(("pkg.missing",), {}, tools={})


def test_source_root_holds_the_project_packages():
    assert (cache.SOURCE_ROOT / "toolkit" / "cache.py").is_file() and (cache.SOURCE_ROOT / "eda").is_dir()


def _positive(entry):
    if not (isinstance(entry, dict) and isinstance(entry.get("area"), (int, float)) and entry["area"] > 0):
        raise ValueError("no positive area")
    return entry


def test_store_then_load_through_the_check(tmp_path):
    store = ResultCache(tmp_path / "cache")
    assert store.load("k1", _positive) is None  # missing: the directory does not exist yet
    store.store("k1", {"area": 3.5})
    assert store.path("k1") == tmp_path / "cache" / "k1.json"
    assert store.load("k1", _positive) == {"area": 3.5}
    assert store.path("k1").read_text() == json.dumps({"area": 3.5}, indent=2) + "\n"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["k1.json"]  # no temporaries left


@pytest.mark.parametrize("data", [b"", b'{"area": ', b"[1]", b'{"area": -1}', b"\xff\xfe not UTF-8"])
def test_a_damaged_entry_reads_as_missing_and_is_replaced(tmp_path, data):
    store = ResultCache(tmp_path)
    (tmp_path / "k.json").write_bytes(data)
    assert store.load("k", _positive) is None
    store.store("k", {"area": 1.0})
    assert store.load("k", _positive) == {"area": 1.0}
