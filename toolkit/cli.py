"""The one error policy of every ``python -m`` entry point, and atomic writes.

A command is a function ``handler(args) -> exit status``; :func:`main` parses the
command line with a :class:`Parser`, dispatches on ``args.command`` through a
table of handlers, and turns every failure a user can cause into one line
``error: ...`` on stderr:

* :class:`UsageError` (bad arguments, bad input file, unwritable output) and
  :class:`toolkit.tools.ToolError` (a missing or failing external tool): exit 2;
* any other ``OSError`` (a full disk, a read-only folder): exit 1;
* ``KeyboardInterrupt``: exit 130; a closed stdout (``... | head``): exit 1, quietly.

Anything else is a bug and keeps its traceback. Output files are replaced whole
(:func:`write_atomically`) or not at all.
"""

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from .tools import ToolError

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "UsageError", "Parser", "usage_errors", "integer",
           "STUDY_DIR", "RUNS_DIR", "reports_dir", "add_publish_argument", "check_output", "check_output_dir", "write_atomically", "write_together", "main"]

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


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one ``error:`` line, not usage plus message."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


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


def _is_special(path):
    """``path`` exists and is neither a regular file nor a directory (``/dev/stdout``, a FIFO)."""
    return os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path)


def check_output(path, *, parents=False):
    """Raise :class:`UsageError` if ``path`` cannot be written; ``"-"`` is stdout.
    With ``parents``, a missing directory is fine if it can be created.

    Called before any work starts, so that a long run never ends in an unwritable file.
    """
    path = os.fspath(path)
    if path == "-":
        return
    if not path:
        raise UsageError("the output file name is empty (use '-' for stdout)")
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a directory")
    if _is_special(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"cannot write {path}: permission denied")
        return
    real = os.path.realpath(path)
    directory = os.path.dirname(real)
    shown = directory if os.path.islink(path) else (os.path.dirname(path) or ".")
    if not os.path.exists(directory):
        if parents:
            check_output_dir(directory)
            return
        raise UsageError(f"cannot write {path}: directory {shown} does not exist")
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {path}: {shown} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {path}: directory {shown} is not writable")
    _probe(directory, shown)


def _probe(directory, shown):
    """Create and remove a file in ``directory``: the only test that also holds for
    root (who ignores mode bits), immutable folders and read-only mounts."""
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".write-test.")
    except OSError as exc:
        raise UsageError(f"cannot write into {shown}: {exc.strerror}") from None
    os.close(fd)
    os.unlink(tmp)


def check_output_dir(path):
    """Raise :class:`UsageError` naming the obstacle unless files can be created in
    directory ``path``, or ``path`` can be created (nothing is created here).

    Called before any work starts, so that a long run never ends in an unwritable
    folder (a file in the way, a read-only or immutable folder or mount).
    """
    path = os.fspath(path)
    if not path:
        raise UsageError("the output directory name is empty")
    ancestor = path
    while ancestor and not os.path.lexists(ancestor):
        ancestor = os.path.dirname(ancestor.rstrip(os.sep))
    ancestor = ancestor or "."
    if not os.path.isdir(ancestor):
        raise UsageError(f"cannot write into {path}: {ancestor} is not a directory")
    _probe(ancestor, path)


def write_atomically(path, data):
    """Write ``data`` (str or bytes) to ``path`` through a uniquely named temporary
    file in the same directory and :func:`os.replace`, so that ``path`` is either
    untouched or complete, even with several writers at once.

    A new file gets the permissions ``open()`` would give it, an existing file
    keeps its own; special files (``/dev/stdout``, FIFOs) are written in place."""
    path = os.fspath(path)
    binary = isinstance(data, bytes)
    if _is_special(path):
        with open(path, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as file:
            file.write(data)
        return
    path = os.path.realpath(path)  # through a symlink, replace its target
    directory = os.path.dirname(path)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_together(files):
    """Write several files (``{path: data}``) that belong together, each atomically,
    the last one named being the one readers trust (e.g. a sweep's CSV, then its
    JSON, which records the CSV's digest).

    Writers of the same directory are serialized by a lock on the directory
    itself, so two runs at once never leave one's JSON next to the other's CSV.
    """
    import fcntl

    directories = sorted({os.path.dirname(os.path.realpath(os.fspath(p))) for p in files})
    fds = [os.open(d, os.O_RDONLY) for d in directories]
    try:
        for fd in fds:
            fcntl.flock(fd, fcntl.LOCK_EX)
        for path, data in files.items():
            write_atomically(path, data)
    finally:
        for fd in fds:
            os.close(fd)  # closing releases the lock


def main(parser, handlers, argv=None):
    """Parse ``argv`` with ``parser``, run ``handlers[args.command](args)`` and return
    its exit status, every expected failure reported as one ``error:`` line."""
    try:
        args = parser.parse_args(argv)
        return handlers[args.command](args)
    except (UsageError, ToolError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `python -m hw verilog --k 4 | head`: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as exc:  # a full disk, a read-only folder, a closed stdout...
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
