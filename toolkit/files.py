"""Output files: checked before any work starts, written whole or not at all.

:func:`check_output` and :func:`check_output_dir` raise :class:`toolkit.cli.UsageError`
(one ``error:`` line) for an output that cannot be written, so that a long run never
ends in an unwritable file; :func:`write_atomically` replaces a file through a
uniquely named temporary file, so that it is either untouched or complete, even with
several writers at once; :func:`write_together` writes a set of files that belong
together as one unit; :func:`scratch` gives a run a folder of its own for a tool's
scripts and logs, removed on every way out but a tool's failure (whose message
names the logs), and removes those of runs killed before.
"""

import contextlib
import os
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from .cli import UsageError

__all__ = ["check_output", "check_output_dir", "write_atomically", "write_together", "scratch",
           "sweep_scratch"]

#: Longest file name (one path component, in bytes) of the usual Linux file systems.
_NAME_MAX = 255


def _is_special(path):
    """``path`` exists and is neither a regular file nor a directory (``/dev/stdout``, a FIFO)."""
    return os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path)


def check_output(path, *, parents=False, inputs=()):
    """Raise :class:`UsageError` if ``path`` cannot be written; ``"-"`` is stdout.
    With ``parents``, a missing directory is fine if it can be created; a file of
    ``inputs`` (what the command reads) is refused as the output, which would
    overwrite it; so is a file name longer than the file system allows, and a
    symbolic link (writing would replace the file it links to, perhaps one of the
    committed study). A folder reached through a link is stated on stderr, once it
    passed every check.

    Called before any work starts, so that a long run never ends in an unwritable file.
    """
    path = os.fspath(path)
    if path == "-":
        return
    if not path:
        raise UsageError("the output file name is empty (use '-' for stdout)")
    for source in inputs:
        if os.path.exists(path) and os.path.exists(source) and os.path.samefile(path, source):
            raise UsageError(f"cannot write {path}: it is the input {source}; name another output")
    _check_names(path)
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a directory")
    if _is_special(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"cannot write {path}: permission denied")
        return
    if os.path.islink(path):
        raise UsageError(f"cannot write {path}: it is a symbolic link (to {os.readlink(path)}), and writing "
                         "would replace what it links to; remove the link, or name that file itself")
    real = os.path.realpath(path)
    directory = os.path.dirname(real)
    shown = os.path.dirname(path) or "."
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
    if os.path.realpath(shown) != os.path.abspath(shown):  # on stderr: stdout may be the command's data
        print(f"note: {shown} is reached through a symbolic link: writing into {directory}", file=sys.stderr,
              flush=True)


def _check_names(path):
    """Raise :class:`UsageError` if a component of ``path`` is longer than the file system allows."""
    for part in path.split(os.sep):
        if len(part.encode()) > _NAME_MAX:
            raise UsageError(f"cannot write {path[:60]}...: a name in it is longer than {_NAME_MAX} bytes")


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
    _check_names(path)
    ancestor = path
    while ancestor and not os.path.lexists(ancestor):
        ancestor = os.path.dirname(ancestor.rstrip(os.sep))
    ancestor = ancestor or "."
    if not os.path.isdir(ancestor):
        raise UsageError(f"cannot write into {path}: {ancestor} is not a directory")
    _probe(ancestor, path)


def _stage(path, data):
    """Write ``data`` to a uniquely named temporary file next to ``path`` (through a
    symlink, next to its target), flushed to disk with the permissions ``path`` will
    have; returns ``(temporary, final path)``. Removed again if anything fails."""
    binary = isinstance(data, bytes)
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
    except BaseException:
        _remove(tmp)
        raise
    return tmp, path


def _remove(tmp):
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_atomically(path, data):
    """Write ``data`` (str or bytes) to ``path`` through a uniquely named temporary
    file in the same directory and :func:`os.replace`, so that ``path`` is either
    untouched or complete, even with several writers at once.

    A new file gets the permissions ``open()`` would give it, an existing file
    keeps its own; special files (``/dev/stdout``, FIFOs) are written in place."""
    path = os.fspath(path)
    if _is_special(path):
        binary = isinstance(data, bytes)
        with open(path, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as file:
            file.write(data)
        return
    tmp, final = _stage(path, data)
    try:
        os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise


def write_together(files):
    """Write several files (``{path: data}``) that belong together as one unit: every
    file is first written in full to a temporary next to it (where a full disk or
    any other failure stops the set, the old files untouched), and only then are
    all renamed into place, renames needing no space; the last one named is the
    one readers trust (e.g. a sweep's CSV, then its JSON, which records the CSV's
    digest).

    Writers of the same directory are serialized by a lock on the directory
    itself, so two runs at once never leave one's JSON next to the other's CSV.
    """
    import fcntl

    directories = sorted({os.path.dirname(os.path.realpath(os.fspath(p))) for p in files})
    fds = [os.open(d, os.O_RDONLY) for d in directories]
    staged = []
    try:
        for fd in fds:
            fcntl.flock(fd, fcntl.LOCK_EX)
        for path, data in files.items():
            staged.append(_stage(os.fspath(path), data))
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                _remove(tmp)
        for fd in fds:
            os.close(fd)  # closing releases the lock


def _owner():
    """``<host>-<pid>``: which process a scratch folder belongs to."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_scratch(parent):
    """Remove the scratch folders in ``parent`` (:func:`scratch`) of this host's
    processes that are gone: runs killed (``kill -9``, a power cut) before their own
    clean-up. Folders of other hosts (a shared disk) and of live processes stay."""
    owner = re.compile(rf"\.{re.escape(socket.gethostname())}-(\d+)\.[^.]+$")
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        match = owner.search(entry.name)
        if match and entry.is_dir(follow_symlinks=False) and not _alive(int(match.group(1))):
            shutil.rmtree(entry.path, ignore_errors=True)


@contextlib.contextmanager
def scratch(parent, name, *, keep_on=()):
    """A new folder ``parent/<name>.<host>-<pid>.<random>`` for one run, after
    :func:`sweep_scratch`; removed when the block ends, however it ends (an error,
    ``Ctrl-C``, SIGTERM turned into an exception), except by one of the exceptions
    ``keep_on`` (a tool's failure, whose message names the logs kept there)."""
    Path(parent).mkdir(parents=True, exist_ok=True)
    sweep_scratch(parent)
    workdir = Path(tempfile.mkdtemp(dir=parent, prefix=f"{name}.{_owner()}."))
    try:
        yield workdir
    except keep_on:
        raise
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    shutil.rmtree(workdir, ignore_errors=True)
