"""What a run may do: the one options object every engine reads, and its limits."""
from __future__ import annotations

from dataclasses import dataclass

from .memory import resident_mib


@dataclass(frozen=True)
class Limits:
    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None
    max_memory: int | None = None      # MiB of this process (resident), like SPIN's -DMEMLIM

    def overrun(self, seconds: float) -> str | None:
        """Which of the time and memory limits the run is past, `seconds` after its start."""
        if self.time_limit is not None and seconds > self.time_limit:
            return f"time-limit {self.time_limit:g}s"
        if self.max_memory is not None and (used := resident_mib()) > self.max_memory:
            return f"max-memory {self.max_memory} MiB ({used:,} MiB in use)"
        return None


@dataclass(frozen=True)
class Options:
    engine: str = "explicit"    # a name in checker/engines.py ENGINES
    order: str = "bfs"          # explicit: bfs | dfs | simulate
    limits: Limits = Limits()
    seed: int = 0               # simulate: the walks' seed
    walks: int = 1000
    depth: int = 30             # BMC unrolling depth, k-induction's max k, or a random walk's length
    symmetry: str = "auto"      # explicit: auto (where sound) | on (also note where not) | off
    por: str = "auto"           # explicit: auto (where sound, traces from an unreduced rerun) | on | off
    fingerprint: bool = False   # explicit: 64-bit fingerprints instead of whole states
    backend: str = "auto"       # explicit: the plain search in C: auto (once it grows) | c | python (native/)
