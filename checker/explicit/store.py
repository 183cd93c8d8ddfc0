"""The visited-state store: exact (every state kept) or 64-bit fingerprints (hash compaction).

The exact store keeps each state (packed, ~200 bytes for a 160-slot model) in a set and in
the discovery-order list traces are rebuilt from. The fingerprint store keeps only a 64-bit
hash per state, as TLC does: a few dozen bytes per state, at the price of a small chance
that two states share a fingerprint and the second is wrongly taken as visited (so part
of the state space could be missed). `collision_probability` is TLC's estimate of that
chance: with n states among 2^64 fingerprints, about n^2 / 2^65.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Store:
    exact: bool
    seen: set = field(default_factory=set)
    index: dict = field(default_factory=dict)      # state -> id, only when the graph is kept
    key: Callable | None = None                    # state -> what `seen` holds (None: the state itself)

    def add(self, key, sid: int) -> None:
        self.seen.add(key)
        if self.exact and self.index is not None:
            self.index[key] = sid

    def bytes_per_state(self, ex) -> float | None:
        """Memory of the store and the per-state arrays, divided by the states stored."""
        n = len(ex.parent)
        if not n:
            return None
        total = sys.getsizeof(self.seen) + sum(a.itemsize * len(a) for a in (ex.parent, ex.via, ex.depth))
        if self.exact:
            sample = ex.states[0] if ex.states else None
            total += sys.getsizeof(ex.states) + (sys.getsizeof(sample) if sample is not None else 0) * n
            if self.index:
                total += sys.getsizeof(self.index)
        else:
            total += 32 * n   # one int object per fingerprint
        return total / n

    def collision_probability(self, states: int) -> float | None:
        """TLC's estimate of the chance a fingerprint collision hid a state (None when exact)."""
        return None if self.exact else states * states / 2.0 ** 65


def exact_store(keep_index: bool = False) -> Store:
    return Store(True, index={} if keep_index else None)


def fingerprint_store() -> Store:
    """Python's hash of a packed state is a 64-bit SipHash, computed once and cached in it."""
    return Store(False, index=None, key=hash)
