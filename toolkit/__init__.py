"""What every command of the project shares: the command-line error policy and
atomic file writes (:mod:`toolkit.cli`), finding and running external EDA tools
(:mod:`toolkit.tools`) and figure output (:mod:`toolkit.figures`).

It imports no other package of the project, so every package may use it.
"""
