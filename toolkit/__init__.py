"""What every command of the project shares: the command-line error policy
(:mod:`toolkit.cli`), output checks and atomic file writes (:mod:`toolkit.files`),
the one way to run an external program (:mod:`toolkit.run`), content-addressed
JSON results (:mod:`toolkit.cache`) and figure output (:mod:`toolkit.figures`).

It imports no other package of the project, so every package may use it.
"""
