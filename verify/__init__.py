"""Verification of the generated hardware against the golden model, by simulation and by proof.

Simulation: :mod:`verify.vectors` (operands and expected outputs shared by every
testbench), :mod:`verify.runner` (build a design and run a cocotb testbench on it),
:mod:`verify.harness` (the multi-lane block harness the rescaler regression runs on),
:mod:`verify.coverage` (what a regression's stimulus exercised). The cocotb
testbenches themselves live in ``verify/testbenches/``, outside the installed
package: cocotb is a test-time dependency only.

Proof (``python -m verify formal | formal-netlist``): :mod:`verify.rescaler_proof`
(one rescaler configuration equal to Eq. (1), each pipeline depth a pure delay),
:mod:`verify.variant_proofs` (``make formal``: every named variant, ``k`` and depth,
then one netlist), :mod:`verify.netlist_chain` (a synthesized netlist equal to its
RTL, in links small enough for ABC), :mod:`verify.sweep_netlists`
(``make formal-netlist``: every point of the liberty sweep, and its table) and
:mod:`verify.rtlil` (the edits of RTLIL text the proofs make).
"""
