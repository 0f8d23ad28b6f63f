"""toolkit.run: every external program runs through run_tool, with a time limit that
kills the whole process group, output decoded with replacement, and one-line errors.

The tools are small shell scripts written by each test.
"""

import os
import signal
import time

import pytest

from toolkit.run import TimeLimit, Tool, ToolError, ToolTimeout, run_tool

LIMIT = TimeLimit("FAKE_TOOL_TIMEOUT", 60.0)


def _tool(tmp_path, body, name="fake"):
    script = tmp_path / name
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return Tool(name, (str(script),), "1.0")


def _gone(pid, within=5.0):
    """Whether process ``pid`` has ended (a zombie counts as ended) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


# A tool that starts a child of its own (as a WebAssembly runtime does), records both
# process ids, then hangs.
_HANGS = "sleep 60 & echo $! > child.pid; echo $$ > parent.pid; echo started; sleep 60"


def test_a_tool_past_its_limit_is_killed_with_its_children(tmp_path, monkeypatch):
    monkeypatch.setenv(LIMIT.knob, "0.5")
    start = time.monotonic()
    with pytest.raises(ToolTimeout) as timeout:
        run_tool(_tool(tmp_path, _HANGS), [], cwd=tmp_path, timeout=LIMIT)
    assert time.monotonic() - start < 30
    message = str(timeout.value)
    assert message.startswith("fake did not finish within the limit of 0.5 s "
                              "(raise it with FAKE_TOOL_TIMEOUT=<seconds>); log: ")
    assert "\n" not in message and timeout.value.limit_s == 0.5 and "started" in timeout.value.output
    assert (tmp_path / "fake.log").read_text() == "started\n"
    for name in ("parent.pid", "child.pid"):
        assert _gone(int((tmp_path / name).read_text())), f"the tool's {name[:-4]} survived"


def test_an_interrupt_kills_the_group_and_is_raised(tmp_path):
    """Ctrl-C reaches the caller as KeyboardInterrupt while it waits: the tool and its
    children end before the exception goes on (here raised by a timer signal)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(KeyboardInterrupt):
            run_tool(_tool(tmp_path, _HANGS), [], cwd=tmp_path, timeout=LIMIT)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    for name in ("parent.pid", "child.pid"):
        assert _gone(int((tmp_path / name).read_text())), f"the tool's {name[:-4]} survived"


def test_invalid_utf8_and_binary_output_is_decoded_with_replacement(tmp_path):
    text = run_tool(_tool(tmp_path, r"printf 'caf\351 \377\376\000\001 ok\n'"), [], cwd=tmp_path)
    assert text.startswith("caf\ufffd \ufffd\ufffd\x00\x01 ok")
    assert (tmp_path / "fake.log").read_text() == text


def test_a_failing_tool_is_one_line_quoting_its_error(tmp_path):
    with pytest.raises(ToolError) as error:
        run_tool(_tool(tmp_path, "echo reading; echo 'ERROR: no such module top'; exit 3"), ["x"],
                 cwd=tmp_path, log_name="run.log")
    assert str(error.value) == f"fake failed: ERROR: no such module top (full log: {tmp_path / 'run.log'})"
    with pytest.raises(ToolError, match=r"^fake failed: exit status 4 \(full log: "):
        run_tool(_tool(tmp_path, "echo quiet; exit 4"), [], cwd=tmp_path)
    assert run_tool(_tool(tmp_path, "echo judged; exit 4"), [], cwd=tmp_path, check=False) == "judged\n"


def test_a_check_function_judges_the_run(tmp_path):
    seen = []

    def check(returncode, output):
        seen.append((returncode, output))
        if "Error" in output:
            raise ToolError("the tool said Error")

    assert run_tool(_tool(tmp_path, "echo fine; exit 1"), [], cwd=tmp_path, check=check) == "fine\n"
    with pytest.raises(ToolError, match="the tool said Error"):
        run_tool(_tool(tmp_path, "echo Error: late"), [], cwd=tmp_path, check=check)
    assert seen == [(1, "fine\n"), (0, "Error: late\n")]


def test_arguments_and_environment_reach_the_tool(tmp_path):
    text = run_tool(_tool(tmp_path, 'echo "$1 $2 $FAKE_VAR"'), ["a b", 3], cwd=tmp_path,
                    env={**os.environ, "FAKE_VAR": "set"})
    assert text == "a b 3 set\n"


def test_a_tool_that_cannot_run_is_one_error(tmp_path):
    (tmp_path / "plain").write_text("not executable")
    with pytest.raises(ToolError, match="cannot be run: Permission denied"):
        run_tool(Tool("plain", (str(tmp_path / "plain"),), ""), [], cwd=tmp_path)


def test_time_limit_default_and_knob(monkeypatch):
    monkeypatch.delenv(LIMIT.knob, raising=False)
    assert LIMIT.seconds() == 60.0
    monkeypatch.setenv(LIMIT.knob, " 7200 ")
    assert LIMIT.seconds() == 7200.0
    for bad in ("soon", "0", "-5", "inf", "nan"):
        monkeypatch.setenv(LIMIT.knob, bad)
        with pytest.raises(ToolError, match=f"FAKE_TOOL_TIMEOUT must be a positive number of seconds, not '{bad}'"):
            LIMIT.seconds()
