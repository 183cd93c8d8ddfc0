"""The Z3 engines: bounded model checking and k-induction, both reading the same IR as the
explicit engine (no second, hand-written model) and both replaying every trace they report."""
from .bmc import ReplayError, check_bmc
from .induction import check_induction
from .solver import SolverUnknown

__all__ = ["check_bmc", "check_induction", "ReplayError", "SolverUnknown"]
