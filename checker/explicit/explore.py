"""Explicit-state exploration: breadth-first (shortest counterexamples) or depth-first.

States are stored once, in discovery order, with a parent pointer and the action that
reached them, so traces are rebuilt without storing paths. Safety violations (invariants,
action checks, deadlock) and witnesses (`Sometimes`) are recorded as they are met; BFS
meets each one first at its shortest depth. Edges are kept only when a graph property
(hang, liveness) needs them.

The loop works on whatever state representation `compiled` uses (tuples, or the packed
bytes the engine compiles for speed); traces are decoded to the IR's tuples. Two optional
reductions plug in: `canon` maps a state to its symmetry representative, `ample` picks a
partial-order-reduced subset of the successors (see symmetry.py, por.py).
"""
from __future__ import annotations

import time
from array import array
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from interpcheck.model.ir import ActionProperty, Invariant, NoDeadlock, Sometimes, System, all_of, any_of, slots_read
from .semantics import Compiled

from ..options import Limits
from ..result import Limit
from .exploration import Exploration, ExplorationStats, finish
from .progress import Reporter, SilentReporter, checkpoint, stopping
from .por import Ample
from .store import Store, exact_store

if TYPE_CHECKING:
    from .symmetry import Canonicalizer


def stuck_test(compiled: Compiled) -> Callable:
    """A state without successors is a deadlock unless the run halted or every thread finished."""
    finished, halted = compiled.finished, compiled.halted
    return lambda state: not halted(state) and not all(f(state) for f in finished)


class Goals:
    """The invariants not yet broken and the witnesses not yet met, each as one compiled
    predicate over states; `met` records what a new state decides and recompiles the rest."""

    def __init__(self, system: System, compiled: Compiled, ex: "Exploration", inv_left: set[int],
                 some_left: set[int]):
        self.props, self.compiled, self.ex = system.properties, compiled, ex
        self.inv_left, self.some_left = inv_left, some_left
        self.inv_ok = self._predicate(inv_left, "holds", all_of)
        self.some_hit = self._predicate(some_left, "expr", any_of)

    def _predicate(self, indices: set[int], field_: str, combine: Callable) -> Callable | None:
        if not indices:
            return None
        return self.compiled.predicate(combine(*[getattr(self.props[i], field_) for i in sorted(indices)]))

    def hit(self, state) -> bool:
        """Whether `state` breaks an undecided invariant or meets an unfound witness."""
        return (self.inv_ok is not None and not self.inv_ok(state)) or \
            (self.some_hit is not None and self.some_hit(state))

    def met(self, sid: int, state) -> None:
        if self.inv_ok is not None and not self.inv_ok(state):
            for i in sorted(self.inv_left):
                if not self.compiled.holds[i](state):
                    self.ex.found[i] = self.ex.trace_to(sid)
                    self.inv_left.discard(i)
            self.inv_ok = self._predicate(self.inv_left, "holds", all_of)
        if self.some_hit is not None and self.some_hit(state):
            for i in sorted(self.some_left):
                if self.compiled.predicate(self.props[i].expr)(state):
                    self.ex.witness[i] = sid
                    self.some_left.discard(i)
            self.some_hit = self._predicate(self.some_left, "expr", any_of)


def explore(system: System, compiled: Compiled, wanted: set[int], *, order: str = "bfs",
            limits: Limits = Limits(), keep_edges: bool = False, stop_early: bool = True,
            reporter: Reporter = SilentReporter(), store: Store | None = None,
            canon: Callable | None = None, ample: Callable | None = None,
            unfold: Callable | None = None, targets: set[int] | None = None,
            backend: str = "python", symmetry: "Canonicalizer | None" = None) -> Exploration:
    """Explore from the initial states. With `stop_early`, stop once every wanted property
    is decided: every wanted safety property violated (and, when `targets` names them,
    every targeted witness found), since the rest of the graph could not change a verdict.
    `symmetry` (a Canonicalizer) gives `canon` and `unfold`. `backend` runs the
    breadth-first search without fingerprints (with or without symmetry, partial-order
    reduction by por.Ample, the graph) in C: "c" always, "auto" once it outgrows
    HANDOVER_STATES (native/).

    Long because it is the search loop with its hooks (symmetry, partial-order reduction,
    edges for graph properties) inline: in CPython a function call per transition costs more
    than the rest of the loop's work, so the loop keeps its state in locals."""
    if symmetry is not None:
        canon, unfold = symmetry.canon, symmetry.unfold
    props = system.properties
    inv_left = {i for i in wanted if isinstance(props[i], Invariant)}
    act_wanted = {i for i in wanted if isinstance(props[i], ActionProperty)}
    some_left = {i for i in wanted if isinstance(props[i], Sometimes)}
    deadlock = next((i for i in wanted if isinstance(props[i], NoDeadlock)), None)
    goal = inv_left | act_wanted | ({deadlock} if deadlock is not None else set())
    if targets is not None:
        goal = set(targets)
    store = store if store is not None else exact_store(keep_index=keep_edges)
    if keep_edges and not store.exact:
        raise ValueError("the state graph needs the exact store")

    ex = Exploration([], array("q"), array("i"), array("i"), [] if keep_edges else None, {}, ExplorationStats(),
                     order=order, decode=compiled.decode, unfold=unfold)
    if keep_edges:
        if store.index is None:
            store.index = {}
        ex.index = store.index
    keep_states = store.exact
    if not keep_states:
        ex.replay = _replayer(compiled, canon)
    states, parent, via, depth = ex.states, ex.parent, ex.via, ex.depth
    found = ex.found
    start = time.perf_counter()
    successors, stuck = compiled.successors, stuck_test(compiled)
    checks = {k: f for k, f in compiled.checks.items()
              if any(c.prop in {props[i].name for i in act_wanted} for c in system.actions[k].checks)}
    seen = store.seen
    key = store.key

    goals = Goals(system, compiled, ex, inv_left, some_left)
    met = goals.met

    frontier = roots(ex, system, compiled, store, canon, met)
    pop = frontier.popleft if order == "bfs" else frontier.pop
    push = frontier.append
    add = seen.add
    index = store.index if keep_edges else None

    def is_new(nxt) -> bool:
        if canon is not None:
            nxt = canon(nxt)
        return (nxt if key is None else key(nxt)) not in seen
    max_depth, max_states = limits.max_depth, limits.max_states
    check_of = tuple(checks.get(k) for k in range(len(system.actions)))
    plain = canon is None and key is None and not keep_edges   # the hot loop without hooks

    def decided() -> bool:
        return stop_early and bool(goal) and goal <= (found.keys() | ex.witness.keys())

    tick = transitions = 0
    n = len(parent)
    done = decided()
    in_c = key is None and keep_states and order == "bfs" and (canon is None or symmetry is not None) and \
        (ample is None or isinstance(ample, Ample))
    if in_c and canon is None and ample is None and not keep_edges:
        search = _PlainSearch(ex, system, compiled, frontier, seen, check_of, act_wanted, deadlock,
                              (inv_left, some_left), met, decided, limits, reporter, start, store)
        return search.run(backend, wanted, goal, stop_early)
    c_search = handover = None
    in_c_args = (wanted, goal, stop_early, limits, reporter, start, symmetry, keep_edges, ample)
    if in_c and backend != "python":   # with symmetry, POR or the graph: the general loop, or C
        from . import native
        c_search = native.Choice(system, compiled, backend, symmetry, ample)
        lib = c_search.load() if c_search.now else None
        if lib is not None:
            return native.breadth_first(system, compiled, lib, *in_c_args)
        handover = c_search.handover if c_search.later else None
    lib = None
    with stopping(ex, system):
        while frontier and not done:
            sid, state = pop()
            d = depth[sid]
            if max_depth is not None and d >= max_depth:
                ex.limit = f"max-depth {max_depth}"
                continue
            succ = successors(state)
            if not succ:
                if deadlock is not None and deadlock not in found and stuck(state):
                    found[deadlock] = ex.trace_to(sid)
                    done = decided()
            elif ample is not None:
                succ = ample(state, succ, is_new)
            transitions += len(succ)
            d1 = d + 1
            for k, nxt in succ:
                check = check_of[k]
                if check is not None:
                    for i in check(state, nxt):
                        if i in act_wanted and i not in found:
                            found[i] = ex.trace_to(sid, (k, nxt), i)
                            done = decided()
                if plain:
                    if nxt in seen:
                        continue
                    add(nxt)
                else:
                    if canon is not None:
                        nxt = canon(nxt)
                    kn = nxt if key is None else key(nxt)
                    if kn in seen:
                        if keep_edges:
                            ex.edges[sid].append((k, index[kn]))
                        continue
                    add(kn)
                    if keep_edges:
                        index[kn] = n
                        ex.edges.append([])
                        ex.edges[sid].append((k, n))
                if keep_states:
                    states.append(nxt)
                parent.append(sid)
                via.append(k)
                depth.append(d1)
                if goals.hit(nxt):
                    met(n, nxt)
                    done = decided()
                push((n, nxt))
                n += 1
            tick += 1
            if tick == 4096 and ample is not None and not ample.reduced:
                ample = None   # no step was independent so far: stop paying for the search (always sound)
            if tick & 1023 == 0:
                checkpoint(ex, n, transitions, d1, len(frontier), start, reporter, limits)
                if handover is not None and (lib := handover(n)) is not None:
                    break
            if max_states is not None and n >= max_states and frontier:
                raise Limit(f"max-states {max_states}")
    if c_search is not None:
        c_search.cancel()
    if lib is not None:
        _forget(ex, reporter, seen, frontier, store.index)
        return native.breadth_first(system, compiled, lib, *in_c_args)
    return finish(ex, store, bool(frontier), n, transitions, start)


@dataclass
class _PlainSearch:
    """The plain breadth-first search (no reduction, exact store, no graph) and where it runs,
    chosen before it starts: in C from the start (backend "c"), in Python ("python"), or
    tiered ("auto"): Python, handing over to C at a checkpoint once the library (compiled
    meanwhile on the other core, or cached) is ready, so small searches never wait for a
    compiler. C starts over from the initial states: the same states, verdicts and traces."""
    ex: Exploration
    system: System
    compiled: Compiled
    frontier: deque
    seen: set
    check_of: tuple
    act_wanted: set
    deadlock: int | None
    left: tuple
    met: Callable
    decided: Callable
    limits: Limits
    reporter: Reporter
    start: float
    store: Store

    def run(self, backend: str, wanted: set[int], goal: set[int], stop_early: bool) -> Exploration:
        from . import native
        c_search = native.Choice(self.system, self.compiled, backend)
        lib = c_search.load() if c_search.now else None
        if lib is None:
            try:
                lib = self.python(c_search.handover if c_search.later else None)
            finally:
                c_search.cancel()
            if lib is None:
                return self.ex
            _forget(self.ex, self.reporter, self.seen, self.frontier)
        return native.breadth_first(self.system, self.compiled, lib, wanted, goal, stop_early, self.limits,
                                    self.reporter, self.start)

    def python(self, handover: Callable | None) -> object:
        """The plain search in Python: the same states in the same
        order as the general loop, with less work per transition. The queue is the discovery
        order itself (BFS expands states in the order it finds them). A transition is looked at
        closely only when its action carries a wanted check or writes a slot that a property
        still undecided reads: every stored state satisfies the invariants still undecided and
        misses the witnesses still unfound, so only such a write can change that. `handover`,
        called at each checkpoint with the states stored, may answer with the C library: the
        search then stops and returns it, for the C search to start over; otherwise it fills
        `ex` and returns None. Long because, as in explore(), the loop keeps its state in locals."""
        ex, system, compiled, frontier, seen = self.ex, self.system, self.compiled, self.frontier, self.seen
        check_of, act_wanted, deadlock, left, met = self.check_of, self.act_wanted, self.deadlock, self.left, self.met
        decided, limits, reporter, start, store = self.decided, self.limits, self.reporter, self.start, self.store
        states, parent, via, depth, found = ex.states, ex.parent, ex.via, ex.depth, ex.found
        successors, stuck = compiled.successors, stuck_test(compiled)
        props = system.properties
        writes = [a.slots_written() for a in system.actions]
        watch = [False] * len(system.actions)

        def rewatch() -> None:
            reads: set[int] = set()
            for i in left[0] | left[1]:
                reads |= slots_read(props[i].holds if isinstance(props[i], Invariant) else props[i].expr)
            for k, w in enumerate(writes):
                watch[k] = check_of[k] is not None or not w.isdisjoint(reads)

        def look(sid: int, state, k: int, nxt) -> bool:
            """The general loop's work for one transition; whether it stored a new state."""
            check = check_of[k]
            if check is not None:
                for i in check(state, nxt):
                    if i in act_wanted and i not in found:
                        found[i] = ex.trace_to(sid, (k, nxt), i)
            if nxt in seen:
                return False
            seen.add(nxt)
            states.append(nxt)
            parent.append(sid)
            via.append(k)
            depth.append(depth[sid] + 1)
            before = len(left[0]) + len(left[1])
            met(len(states) - 1, nxt)
            if len(left[0]) + len(left[1]) != before:
                rewatch()
            return True

        rewatch()
        add, store_state, to_parent, to_via, to_depth = seen.add, states.append, parent.append, via.append, depth.append
        max_depth, max_states = limits.max_depth, limits.max_states
        head = frontier[0][0] if frontier else len(states)    # the initial states were queued in id order
        transitions = 0
        done = decided()
        with stopping(ex, system):
            while head < len(states) and not done:
                sid, state = head, states[head]
                d = depth[sid]
                if max_depth is not None and d >= max_depth:
                    ex.limit = f"max-depth {max_depth}"
                    head += 1
                    continue
                head += 1
                succ = successors(state)
                if not succ:
                    if deadlock is not None and deadlock not in found and stuck(state):
                        found[deadlock] = ex.trace_to(sid)
                        done = decided()
                transitions += len(succ)
                d1 = d + 1
                for k, nxt in succ:
                    if watch[k]:
                        if look(sid, state, k, nxt):
                            done = decided()
                        elif check_of[k] is not None:
                            done = decided()
                        continue
                    if nxt in seen:
                        continue
                    add(nxt)
                    store_state(nxt)
                    to_parent(sid)
                    to_via(k)
                    to_depth(d1)
                if head & 1023 == 0:
                    checkpoint(ex, len(states), transitions, d1, len(states) - head, start, reporter, limits)
                    if handover is not None and (lib := handover(len(states))) is not None:
                        return lib
                if max_states is not None and len(states) >= max_states and head < len(states):
                    raise Limit(f"max-states {max_states}")
        finish(ex, store, head < len(states), len(states), transitions, start)
        return None


def _forget(ex: Exploration, reporter: Reporter, seen, frontier, index: dict | None = None) -> None:
    """Says the search continues in C, where it starts over; the Python search's states (and
    graph) go first, so they do not count against --max-memory."""
    ex.stats.states = len(ex.parent)
    reporter.note(f"continuing in C: the same search starts over there, faster; progress resumes past "
                  f"{ex.stats.states:,} states", ex.stats)
    for stored in (seen, frontier, ex.states, index, ex.edges):
        if stored is not None:
            stored.clear()
    for arr in (ex.parent, ex.via, ex.depth):
        del arr[:]


def roots(ex: Exploration, system: System, compiled: Compiled, store: Store, canon: Callable | None,
          met: Callable) -> deque:
    """The initial states (their representatives under symmetry), stored as the search's roots
    and queued as (id, state)."""
    queue: deque = deque()
    for init in system.initial:
        state = compiled.encode(init)
        if canon is not None:
            state = canon(state)
        k0 = state if store.key is None else store.key(state)
        if k0 in store.seen:
            continue
        sid = len(ex.parent)
        store.add(k0, sid)
        ex.initial.append(state)
        if store.exact:
            ex.states.append(state)
        ex.parent.append(-1)
        ex.via.append(-1)
        ex.depth.append(0)
        if ex.edges is not None:
            ex.edges.append([])
        met(sid, state)
        queue.append((sid, state))
    return queue


def _replayer(compiled: Compiled, canon: Callable | None) -> Callable:
    """Rebuilds a stored path's states from its first state and actions (fingerprint store)."""
    def replay(first, actions: list[int]) -> list:
        out = [first]
        for k in actions:
            nxt = next(n for a, n in compiled.successors(out[-1]) if a == k)
            out.append(canon(nxt) if canon is not None else nxt)
        return out
    return replay
