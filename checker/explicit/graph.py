"""Properties decided on the whole reachable graph: hangs and leads-to under weak fairness.

Fairness is weak and per thread: a thread that stays able to move eventually moves. A
state without successors stutters forever, which every fairness condition allows.
"""
from __future__ import annotations

from collections import deque

from interpcheck.model.ir import LeadsTo, System
from .semantics import Compiled

from ..result import Trace
from .exploration import Exploration
from .native import Undecided


def _thread_of(system: System, action: int) -> int | None:
    return system.actions[action].thread


def _backward_closure(ex: Exploration, seeds: set[int], allowed: set[int] | None = None) -> set[int]:
    preds: list[list[int]] = [[] for _ in ex.states]
    for src, out in enumerate(ex.edges):
        for _, dst in out:
            preds[dst].append(src)
    seen = set(seeds)
    queue = deque(seeds)
    while queue:
        node = queue.popleft()
        for p in preds[node]:
            if p not in seen and (allowed is None or p in allowed):
                seen.add(p)
                queue.append(p)
    return seen


def find_hang(system: System, compiled: Compiled, ex: Exploration) -> Trace | None:
    """The shallowest state where an unfinished thread can never take a step again (the C
    search's graph searches for it in C, the same way)."""
    try:
        best = ex.edges.hang() if hasattr(ex.edges, "hang") else _hang(system, compiled, ex)
    except Undecided:
        best = _hang(system, compiled, ex)
    if best is None:
        return None
    trace = ex.trace_to(best[0])
    return Trace(trace.states, trace.actions, thread=best[1])


def _hang(system: System, compiled: Compiled, ex: Exploration) -> tuple[int, int] | None:
    """(state, thread) of the shallowest hang: for each thread, the first state (ids are in
    breadth-first order) from which it never moves again, unfinished and not halted."""
    best: tuple[int, int] | None = None
    for t in range(len(system.threads)):
        movers = {sid for sid, out in enumerate(ex.edges)
                  if any(_thread_of(system, k) == t for k, _ in out)}
        can_move = _backward_closure(ex, movers)
        fin = compiled.finished[t]
        for sid, state in enumerate(ex.states):  # ids are in BFS order: the first is shallowest
            if sid not in can_move and not fin(state) and not compiled.halted(state):
                if best is None or ex.depth[sid] < ex.depth[best[0]]:
                    best = (sid, t)
                break
    return best


def _path_within(ex: Exploration, src: int, targets: set[int], allowed: set[int]) -> list[tuple[int, int]]:
    """Shortest list of (action, state id) steps from src to a target, staying inside `allowed`."""
    if src in targets:
        return []
    back = {src: None}
    queue = deque([src])
    while queue:
        node = queue.popleft()
        for k, dst in ex.edges[node]:
            if dst in allowed and dst not in back:
                back[dst] = (node, k)
                if dst in targets:
                    steps = []
                    cur = dst
                    while back[cur] is not None:
                        prev, act = back[cur]
                        steps.append((act, cur))
                        cur = prev
                    return steps[::-1]
                queue.append(dst)
    raise AssertionError("target unreachable inside the component")


def _fair_components(system: System, ex: Exploration, bad: set[int]) -> list[set[int]]:
    """Components of the ¬goal subgraph in which a weakly fair run can stay forever."""
    import networkx as nx   # here: 0.1 s to import, and only liveness checks need it
    graph = nx.DiGraph()
    graph.add_nodes_from(bad)
    for src in bad:
        for _, dst in ex.edges[src]:
            if dst in bad:
                graph.add_edge(src, dst)
    fair = []
    for comp in nx.strongly_connected_components(graph):
        if len(comp) == 1:
            (only,) = comp
            if not ex.edges[only]:
                fair.append(comp)        # terminal: stutters forever
                continue
            if not graph.has_edge(only, only):
                continue
        ok = True
        for t in range(len(system.threads)):
            moves_inside = any(_thread_of(system, k) == t and dst in comp
                               for s in comp for k, dst in ex.edges[s])
            disabled_somewhere = any(all(_thread_of(system, k) != t for k, _ in ex.edges[s])
                                     for s in comp)
            if not (moves_inside or disabled_somewhere):
                ok = False
                break
        if ok:
            fair.append(comp)
    return fair


def _fair_cycle(system: System, ex: Exploration, comp: set[int], entry: int) -> list[tuple[int, int]]:
    """A cycle from `entry` through `comp` that satisfies weak fairness for every thread."""
    if len(comp) == 1 and not ex.edges[entry]:
        return []
    steps: list[tuple[int, int]] = []
    cur = entry
    for t in range(len(system.threads)):
        edges_t = [(s, k, dst) for s in comp for k, dst in ex.edges[s]
                   if _thread_of(system, k) == t and dst in comp]
        if any(all(_thread_of(system, k) != t for k, _ in ex.edges[s]) for s in comp):
            target = next(s for s in sorted(comp) if all(_thread_of(system, k) != t for k, _ in ex.edges[s]))
            steps += _path_within(ex, cur, {target}, comp)
            cur = target
        elif edges_t:
            s, k, dst = min(edges_t)
            steps += _path_within(ex, cur, {s}, comp)
            steps.append((k, dst))
            cur = dst
    if cur != entry or not steps:
        steps += _path_within_cycle(ex, cur, entry, comp)
    return steps


def _path_within_cycle(ex: Exploration, src: int, dst: int, comp: set[int]) -> list[tuple[int, int]]:
    if src != dst:
        return _path_within(ex, src, {dst}, comp)
    for k, nxt in ex.edges[src]:  # a non-empty loop back to src
        if nxt in comp:
            return [(k, nxt)] + (_path_within(ex, nxt, {src}, comp) if nxt != src else [])
    raise AssertionError("no cycle through the component")


def find_leads_to_violation(system: System, compiled: Compiled, ex: Exploration, prop: LeadsTo) -> Trace | None:
    """A lasso: reach a trigger state, then stay in ¬goal forever along a fair path (the C
    search's graph finds where it starts in C, the same way)."""
    try:
        found = _lasso_start_in_c(system, ex, prop) if hasattr(ex.edges, "leads_to") else \
            _lasso_start(system, compiled, ex, prop)
    except Undecided:
        found = _lasso_start(system, compiled, ex, prop)
    if found is None:
        return None
    start, bad, fair = found
    fair_states = set().union(*fair)
    prefix_states, prefix_actions = ex.path_to(start)
    to_comp = _path_within(ex, start, fair_states, bad)
    entry = to_comp[-1][1] if to_comp else start
    comp = next(c for c in fair if entry in c)
    cycle = _fair_cycle(system, ex, comp, entry)
    states = list(prefix_states) + [ex.decode(ex.states[s]) for _, s in to_comp]
    actions = list(prefix_actions) + [k for k, _ in to_comp]
    loop = len(states) - 1
    # A cycle's last step returns to states[loop], so a lasso has one action more than states.
    states += [ex.decode(ex.states[s]) for _, s in cycle[:-1]]
    actions += [k for k, _ in cycle]
    return Trace(tuple(states), tuple(actions), loop=loop)


def _lasso_start(system: System, compiled: Compiled, ex: Exploration,
                 prop: LeadsTo) -> tuple[int, set[int], list[set[int]]] | None:
    """The shallowest trigger state from which a fair run can stay in ¬goal forever, the ¬goal
    states and the fair components of their graph; None when there is none."""
    goal = compiled.predicate(prop.goal)
    trigger = compiled.predicate(prop.trigger)
    bad = {sid for sid, st in enumerate(ex.states) if not goal(st)}
    fair = _fair_components(system, ex, bad)
    if not fair:
        return None
    doomed = _backward_closure(ex, set().union(*fair), bad)
    starts = [sid for sid in sorted(doomed) if trigger(ex.states[sid])]
    if not starts:
        return None
    return min(starts, key=lambda sid: (ex.depth[sid], sid)), bad, fair


def _lasso_start_in_c(system: System, ex: Exploration, prop: LeadsTo) -> tuple[int, set[int], list[set[int]]] | None:
    """_lasso_start, searched by the C library over its graph."""
    found = ex.edges.leads_to(system.properties.index(prop))
    if found is None:
        return None
    start, bad, comp = found
    fair: dict[int, set[int]] = {}
    for sid, c in enumerate(comp):
        if c >= 0:
            fair.setdefault(c, set()).add(sid)
    return start, {sid for sid, b in enumerate(bad) if b}, list(fair.values())
