"""Exporters: the IR written for other model checkers (Promela for SPIN), and SPIN run as an
engine that answers with interpcheck Results, so users can cross-check a verdict."""
from .promela import PromelaModel, to_promela, translate
from .spin import SpinFailure, SpinStats, check_spin, spin_available, state_space

__all__ = ["to_promela", "translate", "PromelaModel", "check_spin", "spin_available", "state_space",
           "SpinStats", "SpinFailure"]
