"""Breadth-first search with worker processes: level by level, the frontier is cut into
batches that workers expand (successors, representatives, action checks, property hits),
and the parent process merges the batches in frontier order. Batches travel as concatenated packed states and
results as flat arrays, which cost a fraction of pickling lists of tuples.

Merging in order is what keeps the result identical to one process: every state gets the
same id, parent and action, so the same shortest traces and the same statistics. Workers
drop a successor they have produced before (the parent already has it, from this worker,
earlier in the order), which cuts what crosses the process boundary by the share of
duplicate successors (about three in four on the reference models).

Workers are forked after the model is compiled, so they share the compiled code. Partial-
order reduction needs the global visited set at each step and is not used here (noted).
"""
from __future__ import annotations

import copy
import gc
import multiprocessing
import time
from array import array
from collections import deque

from interpcheck.model.ir import ActionProperty, BoundExceeded, Invariant, NoDeadlock, Sometimes, System

from ..options import Limits
from ..result import Limit
from .exploration import Exploration, ExplorationStats
from .explore import Goals, _replayer, roots, stuck_test
from .progress import Reporter, SilentReporter
from .store import Store, exact_store

BATCH = 2000
_WORK: dict = {}     # set in the parent before forking: what a worker needs


def _expand(blob: bytes) -> tuple:
    """Expands a batch of packed states (concatenated). Returns flat arrays, cheap to ship:
    per state (transitions, dead, fresh successors, broken checks); the fresh successors
    concatenated, their actions and property-hit flags; the broken checks as a list; and a
    bound error, if one stopped the batch."""
    w = _WORK
    successors, canon, key, checks, seen = w["successors"], w["canon"], w["key"], w["checks"], w["local"]
    bad, stuck, act, width = w["bad"], w["stuck"], w["act"], w["width"]
    info, acts, hits, fresh, broke = array("i"), array("i"), bytearray(), [], []
    for at in range(0, len(blob), width):
        state = blob[at:at + width]
        try:
            succ = successors(state)
        except BoundExceeded as err:
            return info.tobytes(), b"".join(fresh), acts.tobytes(), bytes(hits), broke, \
                (err.action, err.variable, err.value)
        dead = not succ and stuck(state)
        nfresh, nbroke = len(acts), len(broke)
        for k, nxt in succ:
            if k in checks:
                for i in checks[k](state, nxt):
                    if i in act:
                        broke.append((i, k, nxt))
            if canon is not None:
                nxt = canon(nxt)
            kn = nxt if key is None else key(nxt)
            if kn in seen:
                continue
            seen.add(kn)
            fresh.append(nxt)
            acts.append(k)
            hits.append(bad is not None and bad(nxt))
        info.extend((len(succ), dead, len(acts) - nfresh, len(broke) - nbroke))
    return info.tobytes(), b"".join(fresh), acts.tobytes(), bytes(hits), broke, None


def explore_parallel(system: System, plan, wanted: set[int], workers: int, *, order: str = "bfs",
                     limits: Limits = Limits(), keep_edges: bool = False, stop_early: bool = True,
                     reporter: Reporter = SilentReporter(), store: Store | None = None, canon=None, ample=None,
                     unfold=None, targets: set[int] | None = None) -> Exploration:
    """The same exploration as explore.explore (breadth-first, no graph, no partial-order
    reduction), with `workers` processes expanding states. Long because it is the parent's
    level-by-level loop: its locals are the hot path, as in explore()."""
    compiled = plan.compiled
    props = system.properties
    inv_left = {i for i in wanted if isinstance(props[i], Invariant)}
    act_wanted = {i for i in wanted if isinstance(props[i], ActionProperty)}
    some_left = {i for i in wanted if isinstance(props[i], Sometimes)}
    deadlock = next((i for i in wanted if isinstance(props[i], NoDeadlock)), None)
    goal = set(targets) if targets is not None else \
        inv_left | act_wanted | ({deadlock} if deadlock is not None else set())
    store = store if store is not None else exact_store()
    ex = Exploration([], array("q"), array("i"), array("i"), None, {}, ExplorationStats(), order="bfs",
                     decode=compiled.decode, unfold=unfold)
    if not store.exact:
        ex.replay = _replayer(compiled, canon)
    found, seen, key = ex.found, store.seen, store.key
    start = time.perf_counter()

    goals = Goals(system, compiled, ex, inv_left, some_left)
    met = goals.met
    frozen = copy.copy(goals)   # workers flag new states by the goals as they were when forked

    checks = {k: f for k, f in compiled.checks.items()
              if any(c.prop in {props[i].name for i in act_wanted} for c in system.actions[k].checks)}
    width = len(compiled.encode(system.initial[0]))
    _WORK.update(successors=compiled.successors, canon=canon, key=key, checks=checks, local=set(), width=width,
                 bad=frozen.hit if inv_left or some_left else None, stuck=stuck_test(compiled), act=act_wanted)
    level = roots(ex, system, compiled, store, canon, met)

    def done() -> bool:
        return stop_early and bool(goal) and goal <= (found.keys() | ex.witness.keys())

    decided = done()
    gc.freeze()   # forked workers would otherwise copy every page their collector touches
    try:
        pool = multiprocessing.get_context("fork").Pool(workers, initializer=gc.disable)
    finally:
        gc.unfreeze()
    n = len(ex.parent)
    d = 0
    try:
        while level:
            if limits.max_depth is not None and d >= limits.max_depth:
                ex.limit = f"max-depth {limits.max_depth}"
                break
            items = list(level)
            level = deque()
            batches = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
            results = pool.imap(_expand, [b"".join(s for _, s in b) for b in batches])
            left = len(items)
            for batch, (info_b, blob, acts_b, hits, broke, bound) in zip(batches, results):
                info, acts = array("i"), array("i")
                info.frombytes(info_b)
                acts.frombytes(acts_b)
                at = f = b = 0
                for j, (sid, state) in enumerate(batch):
                    if decided:
                        raise _Done
                    if 4 * j >= len(info):   # the batch stopped at a bound error
                        raise Limit(BoundExceeded(*bound).message(system))
                    count, dead, nfresh, nbroke = info[4 * j:4 * j + 4]
                    ex.stats.transitions += count
                    left -= 1
                    if dead and deadlock is not None and deadlock not in found:
                        found[deadlock] = ex.trace_to(sid)
                        decided = done()
                    for i, k, nxt in broke[b:b + nbroke]:
                        if i not in found:
                            found[i] = ex.trace_to(sid, (k, nxt), i)
                            decided = done()
                    b += nbroke
                    for _ in range(nfresh):
                        nxt = blob[at:at + width]
                        k, hit = acts[f], hits[f]
                        at += width
                        f += 1
                        kn = nxt if key is None else key(nxt)
                        if kn in seen:
                            continue
                        seen.add(kn)
                        if store.exact:
                            ex.states.append(nxt)
                        ex.parent.append(sid)
                        ex.via.append(k)
                        ex.depth.append(d + 1)
                        if hit:
                            met(n, nxt)
                            decided = done()
                        level.append((n, nxt))
                        n += 1
                    if limits.max_states is not None and n >= limits.max_states and (left or level):
                        raise Limit(f"max-states {limits.max_states}")
                ex.stats.states = n
                ex.stats.depth = d + 1 if level else d
                ex.stats.seconds = time.perf_counter() - start
                reporter.progress(ex.stats, len(level))
                if over := limits.overrun(ex.stats.seconds):
                    raise Limit(over)
            d += 1
    except _Done:
        ex.early = True
    except Limit as hit:
        ex.limit = hit.what
    except KeyboardInterrupt:
        ex.limit = "interrupted"
    finally:
        pool.terminate()
        _WORK.clear()
    ex.stats.states = n
    ex.stats.depth = max(ex.depth) if len(ex.depth) else 0
    ex.stats.seconds = time.perf_counter() - start
    ex.stats.bytes_per_state = store.bytes_per_state(ex)
    ex.stats.fingerprint_collision = store.collision_probability(n)
    return ex


class _Done(Exception):
    """Every wanted property is decided."""
