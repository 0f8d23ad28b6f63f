"""The specification: the golden model of Eq. (1) (:mod:`sim.golden`), the datapath's
ports (:mod:`sim.ports`) and whole layers on the engine's beat schedule
(:mod:`sim.layers`). Everything else is checked against it; it imports no other
package of the project.
"""
