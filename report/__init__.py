"""The study's report: ``reports/REPORT.md`` and its figures, from published JSON only.

Everything here reads what the cost model published under ``reports/`` (sweeps,
point reports, the energy-beats table, the netlist proof table) through the
validated loaders of :mod:`costmodel.published`, and the analytic model's
coefficients through :mod:`costmodel.analytic`; it never runs a tool: a point
that is not published is listed with the command that makes it. The import-graph test
(``tests/test_import_graph.py``) checks that no module of this package reaches a
module that runs a tool.

A report is a :class:`report.study.Study`: a title, the commands that made it
and its sections, each a small object that holds what it read and has
``render(report_dir)`` (its Markdown lines), ``figures`` (the names it draws)
and ``draw()`` (draws them):

* :mod:`report.asic_section`: the standard-cell sweep against the paper, and its
  figures (:mod:`report.asic_figures`);
* :mod:`report.fpga_section`: an FPGA sweep (numbers in :mod:`report.fpga_rows`,
  figure in :mod:`report.fpga_figures`);
* :mod:`report.silicon_section`: energy per output and placed-and-routed silicon
  (numbers in :mod:`report.silicon_numbers`, figures in
  :mod:`report.silicon_figures`).

:mod:`report.sweep_rows` arranges a sweep document for tables and figures,
:mod:`report.figure_style` holds what every figure shares, and
``python -m report plot | report`` (:mod:`report.__main__`) is the command line
behind ``make plots`` and ``make report``.
"""
