"""`python -m accuracy`: damaged .tflite files, unwritable exports, damaged accuracy reports."""

import json
import os
import subprocess
from pathlib import Path

import pytest


# --- rows 12, 13, 15: .tflite files -------------------------------------------------------------

def _litert_reason():
    from accuracy.tflite.litert import litert_available
    return litert_available()


needs_tflite = pytest.mark.skipif(_litert_reason() is not None, reason="the litert extra is not installed")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, net):
    from accuracy.digits.litert import export
    path = tmp_path_factory.mktemp("tfl") / "digits.tflite"
    export(net, path)
    return path


def _empty_model(path):
    """A valid .tflite flatbuffer with no subgraphs (version 3, nothing else)."""
    import flatbuffers
    b = flatbuffers.Builder(64)
    b.StartVector(4, 0, 4)
    empty = b.EndVector()
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(2, empty, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    path.write_bytes(bytes(b.Output()))
    return path


@needs_tflite
def test_bad_tflite_files_are_one_line(tmp_path, exported, run, one_line_error):
    raw = exported.read_bytes()
    cases = {
        "folder": tmp_path,
        "missing": tmp_path / "none.tflite",
        "garbage": tmp_path / "garbage.tflite",
        "header then garbage": tmp_path / "tfl3.tflite",
        "cut in half": tmp_path / "half.tflite",
        "no subgraphs": _empty_model(tmp_path / "empty.tflite"),
    }
    cases["garbage"].write_bytes(os.urandom(256))
    cases["header then garbage"].write_bytes(b"\x10\0\0\0TFL3" + bytes(range(256)) * 4)
    cases["cut in half"].write_bytes(raw[:len(raw) // 2])
    for name, path in cases.items():
        line = one_line_error(run(tmp_path, "accuracy", "tflite-scales", path), 2)
        assert str(path) in line or name == "folder", (name, line)
    line = one_line_error(run(tmp_path, "accuracy", "tflite-scales", cases["no subgraphs"]), 2)
    assert "nothing to rescale" in line


@needs_tflite
def test_tflite_export_to_unwritable_places(tmp_path, locked_dir, run, one_line_error):
    existing = tmp_path / "kept.tflite"
    existing.write_bytes(b"old")
    for out, status in ((Path("/dev/full"), 1), (locked_dir / "m.tflite", 2), (tmp_path, 2),
                        (tmp_path / "kept.tflite" / "m.tflite", 2)):
        one_line_error(run(tmp_path, "accuracy", "tflite-export", "-o", out), status)
    assert existing.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


# --- failed badly, class 5: pareto --accuracy inputs ----------------------------------------------

BAD_ACCURACY = {
    "empty list": ([], "not an accuracy report"),
    "empty object": ({}, "rows must be a non-empty list"),
    "row not an object": ({"test_images": 10, "rows": [3]}, "rows[0] must be an object"),
    "row without k": ({"test_images": 10, "rows": [{"truncate": {}}]}, "rows[0].k must be an integer"),
    "k a string": ({"test_images": 10, "rows": [{"k": "8", "truncate": {}}]}, "rows[0].k must be"),
    "no test images": ({"rows": [{"k": 8, "truncate": {}}]}, "test_images must be a positive integer"),
    "accuracy a string": ({"test_images": 10, "rows": [{"k": 32, "truncate": {
        "summary": {"accuracy": "90", "ci95": [89, 91]}}}]}, "accuracy must be a percentage"),
    "ci95 too short": ({"test_images": 10, "rows": [{"k": 32, "truncate": {
        "summary": {"accuracy": 90, "ci95": [89]}}}]}, "accuracy must be a percentage"),
}


@pytest.mark.parametrize("name", BAD_ACCURACY)
def test_bad_pareto_accuracy_is_one_line(tmp_path, monkeypatch, capsys, small_sweep, one_line_error, name):
    from accuracy.__main__ import main
    document, message = BAD_ACCURACY[name]
    (tmp_path / "acc.json").write_text(json.dumps(document))
    monkeypatch.chdir(tmp_path)
    argv = ["pareto", "--accuracy", "acc.json", "--sweep", str(small_sweep), "--out", "out"]
    status = main(argv)
    out, err = capsys.readouterr()
    line = one_line_error(subprocess.CompletedProcess(argv, status, out, err), 2, message)
    assert "acc.json" in line and not list((tmp_path / "out").glob("pareto*"))


def test_pareto_sweep_of_an_unknown_flow_is_refused(tmp_path, monkeypatch, capsys, small_sweep, one_line_error):
    """Handled poorly: pareto --sweep with an unknown flow gave exit 0."""
    from accuracy.__main__ import main
    document = json.loads(small_sweep.read_text())
    document["flow"] = "magic"
    (tmp_path / "sweep.json").write_text(json.dumps(document))
    monkeypatch.chdir(tmp_path)
    accuracy = Path(__file__).resolve().parents[2] / "reports" / "accuracy.json"
    argv = ["pareto", "--accuracy", str(accuracy), "--sweep", "sweep.json", "--out", "out"]
    status = main(argv)
    out, err = capsys.readouterr()
    one_line_error(subprocess.CompletedProcess(argv, status, out, err), 2, "flow must be one of")
