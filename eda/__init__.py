"""Adapters to the external EDA tools: each writes its tool's script, runs it through
:func:`toolkit.run.run_tool` and parses its output (Yosys and the synthesis flows'
scripts, OpenSTA, nextpnr, qflow).

It imports only :mod:`toolkit` and knows nothing of sweeps, caches or reports.
"""
