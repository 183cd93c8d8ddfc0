"""Seeded random simulation: many random walks from the initial state. It finds safety
violations fast in big state spaces but never proves a property (TLC's -simulate)."""
from __future__ import annotations

import random
import time

from interpcheck.model.ir import ActionProperty, BoundExceeded, Invariant, NoDeadlock, System
from .semantics import Compiled

from ..result import Limit, Stats, Trace
from ..options import Limits


def simulate(system: System, compiled: Compiled, wanted: set[int], *, seed: int, walks: int,
             depth: int, limits: Limits = Limits()) -> tuple[dict[int, Trace], Stats, str | None]:
    """Returns the shortest violation met per property, the stats and the limit hit (if any)."""
    props = system.properties
    rng = random.Random(seed)
    found: dict[int, Trace] = {}
    stats = Stats()
    start = time.perf_counter()
    seen: set[tuple] = set()
    inv = {i for i in wanted if isinstance(props[i], Invariant)}
    act = {i for i in wanted if isinstance(props[i], ActionProperty)}
    deadlock = next((i for i in wanted if isinstance(props[i], NoDeadlock)), None)

    def keep(i: int, states: list, actions: list) -> None:
        if i not in found or found[i].length > len(actions):
            found[i] = Trace(tuple(states), tuple(actions))

    limit = None
    try:
        for _ in range(walks):
            state = system.initial[0]
            states, actions = [state], []
            for i in compiled.invariants(state):
                if i in inv:
                    keep(i, states, actions)
            for _ in range(depth):
                seen.add(state)
                succ = compiled.successors(state)
                stats.transitions += len(succ)
                if not succ:
                    if deadlock is not None and not compiled.halted(state) and \
                            not all(f(state) for f in compiled.finished):
                        keep(deadlock, states, actions)
                    break
                k, nxt = succ[rng.randrange(len(succ))]
                for i in compiled.action_checks(k, state, nxt):
                    if i in act:
                        keep(i, states + [nxt], actions + [k])
                states.append(nxt)
                actions.append(k)
                state = nxt
                for i in compiled.invariants(state):
                    if i in inv:
                        keep(i, states, actions)
                stats.depth = max(stats.depth, len(actions))
            if over := limits.overrun(time.perf_counter() - start):
                raise Limit(over)
    except BoundExceeded as err:
        limit = err.message(system)
    except Limit as hit:
        limit = hit.what
    except KeyboardInterrupt:
        limit = "interrupted"
    stats.states = len(seen)
    stats.seconds = time.perf_counter() - start
    return found, stats, limit
