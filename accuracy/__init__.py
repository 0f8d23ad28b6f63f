"""The accuracy side of the trade-off: int8 networks run integer-only through the
golden model (:mod:`sim.golden`) at any rescaler width, the per-layer error model,
rescale-aware fine-tuning, TFLite interop and the accuracy-vs-cost Pareto view.

Imports :mod:`sim` and :mod:`toolkit` only; the cost side reaches it as data (the
sweep JSON files under ``reports/``).
"""
