"""Amaranth 0.5 generators of the datapath: the k-bit rescaler, the int8 dot-product
engine and the systolic array, all built from one frozen :class:`hw.config.DatapathConfig`
(named variants in :mod:`hw.variants`), exported as Verilog or RTLIL (``python -m hw``).
"""
