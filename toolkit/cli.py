"""The one error policy of every ``python -m`` entry point.

A command is a function ``handler(args) -> exit status``; :func:`main` parses the
command line with a :class:`Parser`, dispatches on ``args.command`` through a
table of handlers, and turns every failure a user can cause into one line
``error: ...`` on stderr:

* :class:`UsageError` (bad arguments, bad input file, unwritable output) and
  :class:`ToolError` (a missing or failing external tool, raised by :mod:`toolkit.run`
  and re-exported there): exit 2;
* any other ``OSError`` (a full disk, a read-only folder): exit 1;
* ``KeyboardInterrupt``: exit 130; SIGTERM: exit 143, after the same clean-up; a
  closed stdout (``... | head``): exit 1, quietly.

Anything else is a bug and keeps its traceback.
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "UsageError", "ToolError", "Parser", "usage_errors", "integer",
           "STUDY_DIR", "RUNS_DIR", "reports_dir", "add_publish_argument", "MAX_VALUES", "parse_int_list", "one_line",
           "main"]

#: Exit statuses.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


#: The committed study: changed only by commands given ``--publish`` (``make report``,
#: ``make sweep PUBLISH=1``, ...).
STUDY_DIR = Path("reports")
#: Where a user's own runs write their reports by default: ignored by git, so the
#: README's commands leave a clone clean.
RUNS_DIR = Path("build") / "reports"


def reports_dir(publish=False):
    """:data:`STUDY_DIR` if ``publish``, else :data:`RUNS_DIR` (both relative to the
    working directory, the clone's root under ``make``)."""
    return STUDY_DIR if publish else RUNS_DIR


def add_publish_argument(parser):
    """The ``--publish`` flag: write into the committed study instead of the user's folder."""
    parser.add_argument("--publish", action="store_true",
                        help=f"write into the committed study under {STUDY_DIR}/ instead of "
                             f"{RUNS_DIR}/ (the default, ignored by git)")


class UsageError(Exception):
    """A bad command line or input file: reported as one ``error:`` line, exit status 2."""


class ToolError(RuntimeError):
    """A tool is missing or failed; the message is meant for the user as is (exit status 2).

    Defined here, with the policy that reports it, so that code which only reports
    errors (the study's report, which never runs a tool) need not import the runner.
    """


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one ``error:`` line, not usage plus message,
    and whose ``type=Path`` options refuse an empty value (``Path('')`` is ``.``: an
    ``--out ''`` would write into the current folder)."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def _get_value(self, action, arg_string):
        if action.type is Path and not arg_string:
            raise argparse.ArgumentError(action, "a path must not be empty")
        return super()._get_value(action, arg_string)


@contextlib.contextmanager
def usage_errors():
    """Inside it, a ``ValueError`` (a validation of the user's input saying what is
    wrong) becomes a :class:`UsageError`: one ``error:`` line. Wrap only the calls
    that validate input, so that a bug elsewhere keeps its traceback."""
    try:
        yield
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def integer(text):
    """``text`` as an int if it spells one, else unchanged, so that the validation
    that follows names the bad value in its own words (``not 'abc'``)."""
    try:
        return int(text, 10)
    except ValueError:
        return text


#: Most values one list option may expand to (checked before any range is expanded).
MAX_VALUES = 1024


def parse_int_list(text, name, lo=None, hi=None):
    """``"3..6,8,12"`` -> ``[3, 4, 5, 6, 8, 12]``, with one clear error for anything else.

    With ``lo``/``hi``, every value and range end must lie in ``lo..hi``; either
    way at most :data:`MAX_VALUES` values, checked before a range is expanded, so
    ``3..99999999999`` is an error and not a ``MemoryError``.
    """
    parts = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            if ".." in part:
                first, last = (int(x) for x in part.split(".."))
                if first > last:
                    raise ValueError
            else:
                first = last = int(part)
        except ValueError:
            raise ValueError(f"--{name} must be a comma-separated list of integers or ranges "
                             f"like 3..32, not {text!r}") from None
        for value in (first, last):
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ValueError(f"--{name} values must be in {lo}..{hi}, not {value} (in {text!r})")
        parts.append((first, last))
    if sum(last - first + 1 for first, last in parts) > MAX_VALUES:
        raise ValueError(f"--{name} {text!r} has more than {MAX_VALUES} values")
    return sorted({value for first, last in parts for value in range(first, last + 1)})


def one_line(message):
    """``message`` on one line: a newline or carriage return (in a user's path, in a
    tool's output) written as ``\\n`` / ``\\r``, so it can never pose as a line of
    its own, another ``error:`` included."""
    return str(message).replace("\r", "\\r").replace("\n", "\\n")


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def main(parser, handlers, argv=None):
    """Parse ``argv`` with ``parser``, run ``handlers[args.command](args)`` and return
    its exit status, every expected failure reported as one ``error:`` line.

    SIGTERM is turned into an exception (``SystemExit``, status 143) while the
    command runs, so that it ends as ``Ctrl-C`` does: tools' process groups killed,
    scratch folders removed."""
    previous = signal.signal(signal.SIGTERM, _terminated) \
        if threading.current_thread() is threading.main_thread() else None
    try:
        args = parser.parse_args(argv)
        return handlers[args.command](args)
    except (UsageError, ToolError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `python -m hw verilog --k 4 | head`: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as exc:  # a full disk, a read-only folder, a closed stdout...
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {one_line(f'{where}{exc.strerror or exc}')}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
