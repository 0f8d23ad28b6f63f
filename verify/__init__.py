"""Verification of the generated RTL against the golden model.

:mod:`verify.vectors` (operands and expected outputs shared by every testbench),
:mod:`verify.runner` (build a design and run a cocotb testbench on it),
:mod:`verify.harness` (the multi-lane block harness the rescaler regression runs on),
:mod:`verify.coverage` (what a regression's stimulus exercised) and
:mod:`verify.formal` (SAT proofs that each rescaler variant equals Eq. (1)).
The cocotb testbenches themselves live in ``verify/testbenches/``, outside the
installed package: cocotb is a test-time dependency only.
"""
