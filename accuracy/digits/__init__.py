"""The digits workload: a small int8 CNN on scikit-learn's 8x8 handwritten digits,
run integer-only through the golden model, with its rescale-aware fine-tuning,
experiments and its export to (and parity with) LiteRT."""
