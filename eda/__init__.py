"""Adapters to the external EDA tools: each writes its tool's script, runs it through
:func:`toolkit.run.run_tool` with a time limit and parses its output.

:mod:`eda.flows` (the synthesis flows as data), :mod:`eda.yosys` (a flow's
synthesis, ``stat``/``ltp``, the module-by-module netlist), :mod:`eda.sta`
(OpenSTA timing and power on one set-up), :mod:`eda.liberty` (liberty files,
zero-delay cell models), :mod:`eda.gatesim` (gate-level simulation with Icarus),
:mod:`eda.qflow` (place and route), :mod:`eda.nextpnr` (FPGA flows).

It imports only :mod:`toolkit` and knows nothing of sweeps, caches or reports.
"""
