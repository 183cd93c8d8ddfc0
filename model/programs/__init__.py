"""Client programs: the per-thread C call sequences of a spec, parsed and compiled to IR."""
from .compile import Scenario, ThreadSpec, build_system, resize
from .parse import ProgramError, parse_program

__all__ = ["Scenario", "ThreadSpec", "build_system", "resize", "ProgramError", "parse_program"]
