"""`python -m accuracy`: damaged .tflite files, unwritable exports, damaged accuracy reports."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest


# --- .tflite files -------------------------------------------------------------

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


# --- pareto --accuracy inputs ----------------------------------------------

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
    """Was: pareto --sweep with an unknown flow gave exit 0."""
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


# --- damaged .npz models and data ------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def _huge_member(path, name):
    """An .npz whose member ``name`` declares a 10^6 x 10^6 float64 array and holds no data."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**6, 10**6)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}.npy", header.getvalue())
    return path


def _accuracy_main(argv):
    from accuracy.__main__ import main
    return main(argv)


def _model_with(tmp_path, change):
    with np.load(REPO / "models" / "digits_int8.npz") as z:
        arrays = {name: z[name] for name in z.files}
    change(arrays)
    path = tmp_path / "model.npz"
    np.savez(path, **arrays)
    return path


DAMAGED_MODELS = {
    "version an array": (lambda a: a.update(version=np.array([1, 2])), "'version' must be one int"),
    "float_w without float_b": (lambda a: (a.update(l0_float_w=a["l0_w"].astype("float32")), a.pop("l0_float_b", None)),
                                "only one of float_w and float_b"),
    "0-d layer_names": (lambda a: a.update(layer_names=np.array("conv1")), "'layer_names' must be"),
    "array in a scalar": (lambda a: a.update(l0_x_zero_point=np.array([1, 2])),
                          "'l0_x_zero_point' must be one int"),
    "string in a scalar": (lambda a: a.update(l0_x_scale=np.array("x")), "'l0_x_scale' must be"),
    "pickled object": (lambda a: a.update(meta_json=np.array([{}], dtype=object)), "no pickles"),
}


@pytest.mark.parametrize("name", [*DAMAGED_MODELS, "huge declared shape", "truncated"])
def test_damaged_model_npz_is_one_line(tmp_path, monkeypatch, capsys, one_line_error, name):
    if name == "huge declared shape":
        path, message = _huge_member(tmp_path / "model.npz", "l0_w"), "declare more than"
    elif name == "truncated":
        path, message = tmp_path / "model.npz", "damaged or truncated"
        path.write_bytes((REPO / "models" / "digits_int8.npz").read_bytes()[:300])
    else:
        change, message = DAMAGED_MODELS[name]
        path = _model_with(tmp_path, change)
    monkeypatch.chdir(tmp_path)
    argv = ["accuracy", "--model", str(path), "--limit", "5", "--out", "out"]
    status = _accuracy_main(argv)
    out, err = capsys.readouterr()
    line = one_line_error(subprocess.CompletedProcess(argv, status, out, err), 2, message)
    assert str(path) in line



@pytest.mark.parametrize("name", ["huge declared shape", "truncated", "labels outside the classes"])
def test_damaged_data_npz_is_one_line(tmp_path, monkeypatch, capsys, one_line_error, name):
    from accuracy.tflite import reader
    model = REPO / "models" / "mnist1d" / "seed0_ptq.tflite"
    path = tmp_path / "data.npz"
    if name == "huge declared shape":
        _huge_member(path, "x")
        message = "declare more than"
    elif name == "truncated":
        np.savez(path, x=np.zeros((4, 40), np.float32))
        path.write_bytes(path.read_bytes()[:100])
        message = "damaged or truncated"
    else:
        t_in = reader.load(model).tensors[reader.load(model).inputs[0]]
        np.savez(path, x=np.zeros((4, *t_in.shape[1:]), np.int8), y=np.array([0, 1, 2, 99]))
        message = "the model's output has classes 0..9"
    monkeypatch.chdir(tmp_path)
    argv = ["evaluate", str(model), "--data", str(path)]
    status = _accuracy_main(argv)
    out, err = capsys.readouterr()
    line = one_line_error(subprocess.CompletedProcess(argv, status, out, err), 2, message)
    assert str(path) in line
