"""Exporters: the IR written for other model checkers (Promela for SPIN, TLA+ for TLC), and
SPIN run as an engine answering with interpcheck Results, so users can cross-check verdicts."""
from .promela import PromelaModel, to_promela, translate
from .spin import SpinFailure, SpinStats, check_spin, spin_available, state_space
from .tla import module_name, tla_config, to_tla

__all__ = ["to_promela", "translate", "PromelaModel", "check_spin", "spin_available", "state_space",
           "SpinStats", "SpinFailure", "to_tla", "tla_config", "module_name"]
