"""Edits of Yosys' RTLIL text that the proofs make before a solver sees a design.

Both kinds of proof read the design as RTLIL after ``proc``: the proofs against
Eq. (1) cut each module's one multiplier out (:func:`cut_multiplier`) and turn a
pipeline's registers into ports (:func:`evert_registers`); the netlist = RTL
chain lists the multiplier shapes whose lowering it must check
(:func:`mul_cells`). A design that does not have the shape an edit expects is a
:class:`toolkit.run.ToolError`, never a silently different proof.
"""

import dataclasses
import re

from toolkit.run import ToolError

__all__ = ["MulCell", "mul_cells", "module_span", "cut_multiplier", "evert_registers", "wire_width"]

_MUL_CELL = re.compile(r"^\s*cell \$mul (?P<name>\S+)\n(?P<body>.*?)^\s*end\n", re.M | re.S)
_DFF_CELL = re.compile(r"^\s*cell \$dff (?P<name>\S+)\n(?P<body>.*?)^\s*end\n", re.M | re.S)


@dataclasses.dataclass(frozen=True)
class MulCell:
    """Parameters of a ``$mul`` cell (Yosys: ``Y = A * B mod 2^Y_WIDTH``)."""

    a_signed: bool
    a_width: int
    b_signed: bool
    b_width: int
    y_width: int

    @classmethod
    def parse(cls, body):
        """The cell whose RTLIL body (its ``parameter`` lines) is ``body``."""
        params = {name: int(value) for name, value in re.findall(r"parameter \\(\w+) (\d+)", body)}
        return cls(bool(params["A_SIGNED"]), params["A_WIDTH"], bool(params["B_SIGNED"]),
                   params["B_WIDTH"], params["Y_WIDTH"])


def mul_cells(rtlil):
    """The distinct ``$mul`` cells of RTLIL text (after ``proc``), as :class:`MulCell`, sorted."""
    cells = {MulCell.parse(match.group("body")) for match in _MUL_CELL.finditer(rtlil)}
    return sorted(cells, key=dataclasses.astuple)


def module_span(rtlil, module):
    """The match of ``module``'s text (``module \\<name>`` to its ``end``) in ``rtlil``."""
    match = re.search(rf"^module \\{re.escape(module)}\n.*?^end\n", rtlil, re.M | re.S)
    if match is None:
        raise ToolError(f"module {module} not found in the normalized design")
    return match


def _with_ports(rtlil, span, text, ports, links):
    """``rtlil`` with ``span``'s module replaced by ``text`` plus the wire
    declarations ``ports`` (after its header) and the ``links`` (before its end)."""
    head, rest = text.split("\n", 1)
    text = f"{head}\n{ports}{rest[:-len('end' + chr(10))]}{links}end\n"
    return rtlil[:span.start()] + text + rtlil[span.end():]


def cut_multiplier(rtlil, module):
    """Remove the one ``$mul`` cell of ``module`` from RTLIL text (after ``proc``).

    Its output becomes the input port ``mul_y``, its operands the output ports
    ``mul_a`` and ``mul_b``; nothing else changes.

    Returns
    -------
    (str, MulCell)
        The new RTLIL text and the removed cell's parameters.

    Raises
    ------
    ToolError
        When the module has no ``$mul`` cell or more than one (the split proof
        then does not apply as is).
    """
    span = module_span(rtlil, module)
    text = span.group(0)
    cells = list(_MUL_CELL.finditer(text))
    if len(cells) != 1:
        raise ToolError(f"module {module} has {len(cells)} $mul cells; the split proof needs exactly one")
    body = cells[0].group("body")
    conns = dict(re.findall(r"connect \\([ABY]) (.*)", body))
    cell = MulCell.parse(body)
    ports = (f"  wire width {cell.a_width} output 100001 \\mul_a\n"
             f"  wire width {cell.b_width} output 100002 \\mul_b\n"
             f"  wire width {cell.y_width} input 100003 \\mul_y\n")
    links = (f"  connect \\mul_a {conns['A']}\n  connect \\mul_b {conns['B']}\n"
             f"  connect {conns['Y']} \\mul_y\n")
    text = text[:cells[0].start()] + text[cells[0].end():]
    return _with_ports(rtlil, span, text, ports, links), cell


def evert_registers(rtlil, module):
    """Turn every ``$dff`` of ``module`` (RTLIL text after ``proc``) into ports: its
    output becomes input ``q_<i>``, its input output ``d_<i>``; a module of one
    clock cycle, to be chained into time frames.

    Returns
    -------
    (str, list of int)
        The new RTLIL text and the registers' widths, ``i`` in order.

    Raises
    ------
    ToolError
        For any other kind of flip-flop (the pipeline has plain ``$dff`` only).
    """
    span = module_span(rtlil, module)
    text = span.group(0)
    other = re.findall(r"^\s*cell \$(\w*(?:dff|latch|ff)\w*) ", text, re.M)
    if any(kind != "dff" for kind in other):
        raise ToolError(f"module {module} has flip-flops other than $dff: {sorted(set(other))}")
    widths, ports, links = [], [], []
    for i, cell in enumerate(_DFF_CELL.finditer(text)):
        body = cell.group("body")
        conns = dict(re.findall(r"connect \\([DQ]) (.*)", body))
        width = int(re.search(r"parameter \\WIDTH (\d+)", body).group(1))
        widths.append(width)
        ports.append(f"  wire width {width} input {200000 + 2 * i} \\q_{i}\n"
                     f"  wire width {width} output {200001 + 2 * i} \\d_{i}\n")
        links.append(f"  connect {conns['Q']} \\q_{i}\n  connect \\d_{i} {conns['D']}\n")
    return _with_ports(rtlil, span, _DFF_CELL.sub("", text), "".join(ports), "".join(links)), widths


def wire_width(rtlil, module, wire):
    """The width of ``wire`` in ``module``, or a ToolError when it has none."""
    text = module_span(rtlil, module).group(0)
    match = re.search(rf"^\s*wire (?:width (\d+) )?(?:signed )?\\{re.escape(wire)}\n", text, re.M)
    if match is None:
        raise ToolError(f"module {module} has no wire {wire}: the split proof cuts there")
    return int(match.group(1) or 1)
