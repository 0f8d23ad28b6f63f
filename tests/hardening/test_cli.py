"""Bad command lines of every package: one `error:` line, exit status 2, nothing written;
`estimate` inside and outside its fit."""

import importlib
import json
import subprocess

import pytest


BAD_COMMANDS = [
    ("costmodel", "sweep", "--k", "3..99999999999"),
    ("costmodel", "sweep", "--k", "1..4"),
    ("costmodel", "sweep", "--k", "4..3"),
    ("costmodel", "sweep", "--k", "a..b"),
    ("costmodel", "sweep", "--macs", "0..99999999999"),
    ("costmodel", "sweep", "--macs", "3"),
    ("costmodel", "sweep", "-j", "0"),
    ("costmodel", "sweep", "-j", "-5"),
    ("costmodel", "sweep", "--engines", "1000"),
    ("costmodel", "sweep", "--set", "k=4"),
    ("verify", "formal", "--k", "3..99999999999"),
    ("costmodel", "variants", "--macs", "1..99999999999"),
    ("costmodel", "synth", "--k", "4", "--clock-ns", "nan"),
    ("costmodel", "synth", "--k", "4", "--clock-ns", "-1"),
    ("costmodel", "synth", "--k", "4", "--engines", "1000000"),
    ("costmodel", "synth", "--k", "4", "--macs", "64", "--engines", "1000"),
    ("costmodel", "synth", "--k", "4", "--lib", "/nonexistent.lib", "--flow", "liberty"),
    ("hw", "verilog", "--k", "4", "--macs", "4", "--engines", "1000000"),
    ("hw", "verilog", "--k", "4", "--macs", "4", "--engines", "0"),
    ("hw", "verilog", "--k", "4", "--macs", "128"),
    ("hw", "verilog", "--k", "99999999999"),
    # estimate outside what the model was fitted to
    ("costmodel", "estimate", "--k", "2", "--macs", "8"),
    ("costmodel", "estimate", "--k", "6", "--macs", "1"),
    ("costmodel", "estimate", "--k", "6", "--macs", "64"),
    ("costmodel", "estimate", "--k", "6", "--macs", "8", "--engines", "1000"),
    ("costmodel", "estimate", "--k", "6", "--macs", "8", "--engines", "4"),
    ("costmodel", "estimate", "--k", "6", "--macs", "8", "--rescaler-pipeline", "3", "--trim-shift"),
    ("costmodel", "estimate", "--k", "6", "--macs", "8", "--no-fast-clamp"),
    ("costmodel", "estimate", "--k", "6"),
    ("accuracy", "finetune", "--lr", "nan"),
    ("accuracy", "finetune", "--lr", "inf"),
    ("accuracy", "finetune", "--epochs", "-1"),
    ("accuracy", "finetune", "--epochs", "0"),
    ("accuracy", "accuracy", "--limit", "-5"),
    ("accuracy", "accuracy", "--limit", "x"),
    ("accuracy", "tflite-parity", "--limit", "0"),
]


@pytest.mark.parametrize("command", BAD_COMMANDS, ids=" ".join)
def test_bad_command_is_one_line(tmp_path, monkeypatch, capsys, command, one_line_error):
    """In-process through each package's ``main`` (the same code as ``python -m``, without
    the start-up cost): exit status 2, one ``error:`` line, nothing written."""
    main = importlib.import_module({"hw": "hw.cli"}.get(command[0], f"{command[0]}.__main__")).main
    monkeypatch.chdir(tmp_path)
    status = main(list(command[1:]))
    out, err = capsys.readouterr()
    one_line_error(subprocess.CompletedProcess(command, status, out, err), 2)
    assert not (tmp_path / "build").exists()  # nothing ran


def test_estimate_inside_and_extrapolated(tmp_path, run):
    proc = run(tmp_path, "costmodel", "estimate", "--k", "6", "--macs", "8")
    assert proc.returncode == 0 and "fit error up to" in proc.stdout
    proc = run(tmp_path, "costmodel", "estimate", "--k", "2", "--macs", "8", "--extrapolate")
    assert proc.returncode == 0 and "fit error" not in proc.stdout and "no error bound" in proc.stdout
    assert proc.stderr.startswith("warning: extrapolating")


# --- explore spaces bounded and typed --------------------------------------

@pytest.mark.parametrize("space, message", [
    ({"k": list(range(2, 33)) * 60, "macs": [4] * 2000}, "at most 1024 values"),
    ({"k": list(range(2, 33)), "macs": list(range(1, 65)), "engines": list(range(1, 65))}, "combinations"),
    ({"flow": [["generic"]]}, "flow must be one of"),
    ({"k": ["4"]}, "k must be an integer"),
    ({"k": [True]}, "k must be an integer"),
    ({"fast_clamp": [1]}, "fast_clamp must be true or false"),
    ({"clock_ns": [-1]}, "clock_ns must be a positive number"),
    ({"variants": {"a": {"booth": "yes"}}}, "architecture options"),
], ids=["2000 values", "too many combinations", "nested flow", "string k", "bool k", "int option",
        "negative clock", "string option"])
def test_explore_spaces_are_bounded_and_typed(tmp_path, monkeypatch, capsys, one_line_error, space, message):
    """It hung on 8e9 combinations or raised a TypeError; now one line, before any synthesis."""
    from costmodel.__main__ import main
    (tmp_path / "space.json").write_text(json.dumps(space))
    monkeypatch.chdir(tmp_path)
    status = main(["explore", "--space", "space.json"])
    out, err = capsys.readouterr()
    one_line_error(subprocess.CompletedProcess("explore", status, out, err), 2, message)
    assert not (tmp_path / "build").exists()


# --- options that do not apply, empty paths, messages on one line -----------------

@pytest.mark.parametrize("command, message", [
    (("costmodel", "synth", "--k", "4", "--flow", "generic", "--seed", "3"), "a seed applies to the FPGA flows"),
    (("costmodel", "synth", "--k", "4", "--flow", "generic", "--lib", "x.lib"), "a liberty file applies to"),
    (("costmodel", "synth", "--k", "4", "--flow", "generic", "--device", "85k"), "a device applies to"),
    (("costmodel", "synth", "--k", "4", "--flow", "generic", "--clock-ns", "999999"), "up to 1000"),
    (("costmodel", "synth", "--k", "4", "--flow", "generic", "--out", ""), "must not be empty"),
    (("costmodel", "sweep", "--k", "4", "--flow", "generic", "--out", ""), "must not be empty"),
    (("report", "report", "--out", ""), "must not be empty"),
    (("accuracy", "accuracy", "--out", ""), "must not be empty"),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_options_that_do_not_apply_are_refused(tmp_path, monkeypatch, capsys, one_line_error, command, message):
    main = importlib.import_module(f"{command[0]}.__main__").main
    monkeypatch.chdir(tmp_path)
    status = main(list(command[1:]))
    out, err = capsys.readouterr()
    one_line_error(subprocess.CompletedProcess(command, status, out, err), 2, message)
    assert not list(tmp_path.iterdir())  # nothing written, not even k4.json in the current folder


def test_a_newline_in_a_path_stays_on_one_line(tmp_path, monkeypatch, capsys, one_line_error):
    from costmodel.__main__ import main
    monkeypatch.chdir(tmp_path)
    status = main(["synth", "--k", "4", "--flow", "liberty", "--lib", "x\nerror: forged.lib"])
    out, err = capsys.readouterr()
    line = one_line_error(subprocess.CompletedProcess("synth", status, out, err), 2)
    assert "x\\nerror: forged.lib" in line


def test_close_clocks_have_different_report_names():
    from costmodel import synth
    from hw.config import DatapathConfig
    config = DatapathConfig(k=4)
    names = {synth.report_name(config, synth.resolve_flow("generic", clock_ns=c)) for c in (10, 10.0000001, 100)}
    assert names == {"k4_generic_clock10ns", "k4_generic_clock10.0000001ns", "k4_generic"}
