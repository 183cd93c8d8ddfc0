"""Explicit-state exploration: breadth-first (shortest counterexamples) or depth-first.

States are stored once, in discovery order, with a parent pointer and the action that
reached them, so traces are rebuilt without storing paths. Safety violations (invariants,
action checks, deadlock) are recorded as they are met; BFS meets each one first at its
shortest depth. Edges are kept only when a graph property (hang, liveness) needs them.
"""
from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from interpcheck.model.ir import ActionProperty, BoundExceeded, Compiled, Invariant, NoDeadlock, System

from ..result import Limit, Stats, Trace


@dataclass(frozen=True)
class Limits:
    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None


class Reporter(Protocol):
    def progress(self, stats: Stats, queue: int) -> None: ...


class SilentReporter:
    def progress(self, stats: Stats, queue: int) -> None:
        pass


class StderrReporter:
    """Prints a progress line every `every` seconds, after the first `after` seconds."""

    def __init__(self, label: str = "", after: float = 2.0, every: float = 2.0):
        self.label, self.after, self.every = label, after, every
        self.next_at = after

    def progress(self, stats: Stats, queue: int) -> None:
        if stats.seconds < self.next_at:
            return
        self.next_at = stats.seconds + self.every
        rate = stats.transitions / stats.seconds if stats.seconds else 0.0
        print(f"{self.label}{stats.states} distinct states, {stats.transitions} transitions "
              f"({rate:,.0f}/s), depth {stats.depth}, queue {queue}, {stats.seconds:.1f}s",
              file=sys.stderr, flush=True)


@dataclass
class Exploration:
    """The part of the reachable graph that was explored, and the safety violations met."""
    states: list[tuple]
    parent: list[int]
    via: list[int]
    depth: list[int]
    edges: list[list[tuple[int, int]]] | None
    found: dict[int, Trace]                   # property index → shortest (BFS) trace
    stats: Stats
    limit: str | None = None                  # which limit stopped it, None when complete
    order: str = "bfs"
    index: dict = field(default_factory=dict)
    early: bool = False                       # stopped once every wanted property was violated

    @property
    def complete(self) -> bool:
        return self.limit is None

    def path_to(self, sid: int) -> tuple[list[tuple], list[int]]:
        ids = []
        while sid != -1:
            ids.append(sid)
            sid = self.parent[sid]
        ids.reverse()
        return [self.states[i] for i in ids], [self.via[i] for i in ids[1:]]

    def trace_to(self, sid: int, extra: tuple[int, tuple] | None = None) -> Trace:
        states, actions = self.path_to(sid)
        if extra is not None:
            actions.append(extra[0])
            states.append(extra[1])
        return Trace(tuple(states), tuple(actions))


def explore(system: System, compiled: Compiled, wanted: set[int], *, order: str = "bfs",
            limits: Limits = Limits(), keep_edges: bool = False, stop_early: bool = True,
            reporter: Reporter = SilentReporter()) -> Exploration:
    """Explore from the initial states. With `stop_early`, stop once every wanted safety
    property is violated: the rest of the graph could not change a verdict."""
    props = system.properties
    inv_wanted = {i for i in wanted if isinstance(props[i], Invariant)}
    act_wanted = {i for i in wanted if isinstance(props[i], ActionProperty)}
    deadlock = next((i for i in wanted if isinstance(props[i], NoDeadlock)), None)
    safety = inv_wanted | act_wanted | ({deadlock} if deadlock is not None else set())

    ex = Exploration([], [], [], [], [] if keep_edges else None, {}, Stats(), order=order)
    index = ex.index
    start = time.perf_counter()
    successors, invariants, checks = compiled.successors, compiled.invariants, compiled.action_checks
    finished, halted = compiled.finished, compiled.halted
    checked_actions = {k for k, a in enumerate(system.actions) if a.checks}

    def add(state: tuple, parent: int, action: int, d: int) -> int | None:
        if state in index:
            return None
        sid = len(ex.states)
        index[state] = sid
        ex.states.append(state)
        ex.parent.append(parent)
        ex.via.append(action)
        ex.depth.append(d)
        if keep_edges:
            ex.edges.append([])
        if d > ex.stats.depth:
            ex.stats.depth = d
        for i in invariants(state):
            if i in inv_wanted and i not in ex.found:
                ex.found[i] = ex.trace_to(sid)
        return sid

    frontier: deque[int] = deque()
    for init in system.initial:
        sid = add(init, -1, -1, 0)
        if sid is not None:
            frontier.append(sid)
    pop = frontier.popleft if order == "bfs" else frontier.pop
    tick = 0
    try:
        while frontier:
            if stop_early and safety and safety <= ex.found.keys():
                break
            sid = pop()
            state = ex.states[sid]
            d = ex.depth[sid]
            if limits.max_depth is not None and d >= limits.max_depth:
                ex.limit = f"max-depth {limits.max_depth}"
                continue
            try:
                succ = successors(state)
            except BoundExceeded as err:
                raise Limit(f"bound: {err.variable} would become {err.value} in "
                            f"{system.actions[err.action].call}; raise the bound in the spec") from err
            ex.stats.transitions += len(succ)
            if not succ and deadlock is not None and deadlock not in ex.found:
                if not halted(state) and not all(f(state) for f in finished):
                    ex.found[deadlock] = ex.trace_to(sid)
            for k, nxt in succ:
                if k in checked_actions:
                    for i in checks(k, state, nxt):
                        if i in act_wanted and i not in ex.found:
                            ex.found[i] = ex.trace_to(sid, (k, nxt))
                nid = add(nxt, sid, k, d + 1)
                if nid is not None:
                    frontier.append(nid)
                if keep_edges:
                    ex.edges[sid].append((k, index[nxt]))
            tick += 1
            if tick & 1023 == 0:
                ex.stats.states = len(ex.states)
                ex.stats.seconds = time.perf_counter() - start
                reporter.progress(ex.stats, len(frontier))
                if limits.time_limit is not None and ex.stats.seconds > limits.time_limit:
                    raise Limit(f"time-limit {limits.time_limit:g}s")
            if limits.max_states is not None and len(ex.states) >= limits.max_states and frontier:
                raise Limit(f"max-states {limits.max_states}")
    except Limit as hit:
        ex.limit = hit.what
    except KeyboardInterrupt:
        ex.limit = "interrupted"
    ex.early = bool(frontier) and ex.limit is None
    ex.stats.states = len(ex.states)
    ex.stats.seconds = time.perf_counter() - start
    return ex
