"""The cost side: what one datapath configuration costs (synthesis, energy per output,
place and route, the analytic model) and campaigns of configurations (sweeps on a
local pool or a Dask cluster, the variant comparison, the design-space explorer).

It runs the external tools through :mod:`eda` and publishes JSON documents whose
schema and loaders are in :mod:`costmodel.published`, the one module of this package
that the report and the accuracy side may read (it runs no tool).
"""
