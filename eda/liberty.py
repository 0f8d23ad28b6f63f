"""Liberty files: checking one, reading its cells and their functions, and
zero-delay Verilog models of those cells for gate-level simulation.

The models are generated from each cell's ``function``, ``ff`` and ``latch``
groups (:func:`cell_models`), so the vendor's timing models are not needed and
their UDPs and specify blocks (the slow part of a gate-level simulation) are
avoided. The reader understands enough of the format for that: groups, simple
attributes, comments and line continuations; lines it does not understand are
skipped.
"""

import re
from pathlib import Path

from toolkit.cli import ToolError

__all__ = ["DEFAULT_LIBERTY", "check_liberty", "read_cells", "function_to_verilog", "cell_models"]

#: Open standard cells from Debian's ``qflow-tech-osu018`` (OSU 0.18 um).
DEFAULT_LIBERTY = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")


def check_liberty(path):
    """Return ``path`` if it looks like a liberty file, else raise one clear error."""
    path = Path(path)
    if path.is_dir():
        raise ToolError(f"liberty file {path} is a directory: give the .lib file in it")
    if not path.is_file():
        hint = (" (install Debian's qflow-tech-osu018, or give LIB=/path/to/cells.lib)"
                if path == DEFAULT_LIBERTY else "")
        raise ToolError(f"liberty file {path} does not exist{hint}")
    try:
        head = path.read_text(errors="replace")[:200_000]
    except OSError as exc:
        raise ToolError(f"liberty file {path} cannot be read: {exc.strerror}") from None
    if not re.search(r"^\s*library\s*\(", head, re.M) or not re.search(r"\bcell\s*\(", head):
        raise ToolError(f"{path} is not a liberty (.lib) file: no 'library' or 'cell' groups in it")
    return path


def _groups(text):
    """Parse liberty text into nested ``(kind, args, attrs, children)`` tuples (enough for cells)."""
    token = re.compile(r'\s*(?:(/\*.*?\*/)|(\\\n)|([A-Za-z_][\w.]*)\s*\(([^)]*)\)\s*(\{|;)'
                       r'|([A-Za-z_][\w.]*)\s*:\s*("[^"]*"|[^;]*?)\s*;|(\}))', re.S)
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
    """Cells of a liberty file: what :func:`cell_models` and the netlist reader need.

    Returns
    -------
    dict
        ``{cell: {"inputs": [pin], "outputs": {pin: function or ""},
        "ff": {...} or None, "latch": {...} or None}}``; ``ff`` and ``latch``
        hold the group's two variable names (``"vars"``) and its attributes.
    """
    try:
        text = Path(liberty).read_text(errors="replace")
    except OSError as exc:
        raise ToolError(f"liberty file {liberty} cannot be read: {exc.strerror}") from None
    root = _groups(text)
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

