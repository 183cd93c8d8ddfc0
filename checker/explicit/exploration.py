"""What a search found: the explored part of the graph (states in discovery order, parent
pointers and the actions that reached them), the safety violations met, and the stats."""
from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..result import Stats, Trace

if TYPE_CHECKING:
    from .store import Store


@dataclass
class ExplorationStats(Stats):
    """Stats plus, with the fingerprint store, TLC's estimate of the chance that a collision
    made the search miss a state (n^2 / 2^65 for n states)."""
    fingerprint_collision: float | None = None

    def as_dict(self) -> dict:
        d = super().as_dict()
        if self.fingerprint_collision is not None:
            d["fingerprint_collision"] = float(f"{self.fingerprint_collision:.3g}")
        return d


@dataclass
class Exploration:
    """The part of the reachable graph that was explored, and the safety violations met.

    `states` holds states in the compiled representation (empty when the store keeps only
    fingerprints); `path_to` and `trace_to` give the IR's tuples."""
    states: list
    parent: array
    via: array
    depth: array
    edges: list[list[tuple[int, int]]] | None
    found: dict[int, Trace]                   # property index → shortest (BFS) trace
    stats: Stats
    limit: str | None = None                  # which limit stopped it, None when complete
    order: str = "bfs"
    index: dict = field(default_factory=dict)
    early: bool = False                       # stopped once every wanted property was decided
    decode: Callable = tuple
    replay: Callable | None = None            # (first state, actions) -> states, when states are not kept
    witness: dict[int, int] = field(default_factory=dict)   # Sometimes property → first state id
    unfold: Callable | None = None            # representative path -> concrete path (symmetry)
    initial: list = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.limit is None

    def raw_path(self, sid: int) -> tuple[list, list[int]]:
        """States (compiled representation) and actions from an initial state to `sid`."""
        ids = []
        while sid != -1:
            ids.append(sid)
            sid = self.parent[sid]
        ids.reverse()
        actions = [self.via[i] for i in ids[1:]]
        if self.states:
            return [self.states[i] for i in ids], actions
        return self.replay(self.initial[ids[0]], actions), actions

    def path_to(self, sid: int) -> tuple[list[tuple], list[int]]:
        states, actions = self.raw_path(sid)
        if self.unfold is not None:
            states, actions = self.unfold(states, actions)
        return [self.decode(s) for s in states], actions

    def trace_to(self, sid: int, extra: tuple[int, object] | None = None, prop: int | None = None) -> Trace:
        """The trace to `sid`; `extra` (action, successor) appends the transition that broke
        action property `prop`."""
        states, actions = self.raw_path(sid)
        if extra is not None:
            actions.append(extra[0])
            states.append(extra[1])
        if self.unfold is not None:
            states, actions = self.unfold(states, actions, prop if extra is not None else None)
        return Trace(tuple(self.decode(s) for s in states), tuple(actions))


def finish(ex: Exploration, store: Store, queued: bool, n: int, transitions: int, start: float) -> Exploration:
    """The final stats; a search that stopped with states still queued and no limit hit stopped
    early, every wanted property decided."""
    ex.early = queued and ex.limit is None
    ex.stats.states, ex.stats.transitions = n, transitions
    ex.stats.depth = max(ex.depth) if len(ex.depth) else 0
    ex.stats.seconds = time.perf_counter() - start
    ex.stats.bytes_per_state = store.bytes_per_state(ex)
    ex.stats.fingerprint_collision = store.collision_probability(n)
    return ex
