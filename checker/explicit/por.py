"""Partial-order reduction: in a state, expand only the steps of one thread when they
commute with everything the other threads can still do (an ample set).

Static analysis first. Each thread's actions are guarded by its program counter; for each
counter value we know the slots its actions read and write (a computed index counts as the
whole array). From the counter updates we know which counter values a thread can still
reach, hence what it can still read and write (its future footprint). The steps of thread
t at counter v form an ample set in state s when
  * none writes a slot a property reads, and none carries an action check (invisible);
  * for every other thread u at its counter in s, t's steps write nothing u can still read
    or write, and read nothing u can still write (independent, and nothing u does can
    enable or disable them). Every guard reads the "halted" flag: a step that may set it
    stops every other thread, so it is dependent on all of them and never ample alone.
    Only the other direction is exempt: t's invisible step, disabled by u halting later,
    leaves u's halting step enabled and the halted states stutter-equivalent;
  * (cycle proviso) every successor they lead to is a state not yet visited, so a cycle of
    reduced states cannot postpone the other threads forever.
Those are the conditions (C0-C3) under which invariants, action properties, deadlocks and
reachability (witnesses) are preserved. Traces found this way may be longer than the
shortest; the engine re-derives shortest traces unless asked not to (docs/performance.md).
"""
from __future__ import annotations

from operator import itemgetter
from typing import Callable

from interpcheck.model.ir import (ActionProperty, Const, Expr, Invariant, Ite, NoDeadlock, Op, Read, Sometimes,
                                  System, slots_read)
from .semantics import Compiled
from interpcheck.model.ir.facts import skey


def _reads(e: Expr, out: set[int]) -> None:
    out |= slots_read(e)


def _mask(slots) -> int:
    m = 0
    for s in slots:
        m |= 1 << s
    return m


def _conjuncts(e: Expr) -> list[Expr]:
    return list(e.args) if isinstance(e, Op) and e.name == "and" else [e]


def _halt_conjuncts(system: System) -> set[tuple]:
    """Guard conjuncts `h == c` such that halted is `h != c` (or a disjunction of such) and
    every action's guard has them: a write to h keeps the system running or stops it."""
    parts = system.halted.args if isinstance(system.halted, Op) and system.halted.name == "or" else (system.halted,)
    keys = set()
    for p in parts:
        if not (isinstance(p, Op) and p.name == "!=" and isinstance(p.args[0], Read)
                and isinstance(p.args[0].index, Const) and isinstance(p.args[1], Const)):
            return set()
        keys.add(skey(Op("==", p.args)))
    for a in system.actions:
        have = {skey(c) for c in _conjuncts(a.guard)}
        if not keys <= have:
            return set()
    return keys


def _pc_slot(system: System, actions: list[int]) -> int | None:
    """A thread's location: a slot all its guards compare with a constant and only it
    writes; of those, the one with most values (its program counter)."""
    seen: dict[int, set[int]] | None = None
    for k in actions:
        here: dict[int, set[int]] = {}
        for c in _conjuncts(system.actions[k].guard):
            if isinstance(c, Op) and c.name == "==" and isinstance(c.args[0], Read) \
                    and isinstance(c.args[0].index, Const) and isinstance(c.args[1], Const):
                here.setdefault(c.args[0].var.base + c.args[0].index.value, set()).add(c.args[1].value)
        if seen is None:
            seen = here
        else:   # in place: a fresh union per action made this quadratic in the program's length
            for slot in list(seen):
                if slot in here:
                    seen[slot] |= here[slot]
                else:
                    del seen[slot]
    if not seen:
        return None
    mine = set(actions)
    for slot in sorted(seen, key=lambda s: (-len(seen[s]), s)):
        if not any(_writes_slot(u, slot) for k, a in enumerate(system.actions) if k not in mine for u in a.updates):
            return slot
    return None


def _writes_slot(update, slot: int) -> bool:
    var = update.target.var
    if isinstance(update.target.index, Const):
        return var.base + update.target.index.value == slot
    return var.base <= slot < var.base + var.length


def _value_of(system: System, slot: int, action, guard_value: int) -> set[int] | None:
    """The counter values an action can leave: its constants, or None when computed."""
    for u in action.updates:
        if _writes_slot(u, slot):
            if not isinstance(u.target.index, Const):
                return None
            out: set[int] = set()
            stack = [u.value]
            while stack:
                e = stack.pop()
                if isinstance(e, Const):
                    out.add(e.value)
                elif isinstance(e, Ite):
                    stack += [e.then, e.other]
                else:
                    return None
            return out
    return {guard_value}


class Ample:
    """The runtime part: picks a thread whose enabled steps form an ample set."""

    def __init__(self, threads: list[tuple[int, int, dict, dict]], others: tuple[int, int],
                 owner: list[int | None], pc_slots: list[int]):
        # threads: (thread, position of its counter, stored value -> (reads, writes) when its
        # steps there are invisible, stored value -> (reads | writes, writes) of its future)
        self.owner = owner
        self.others = others        # footprint (rw, w) of actions outside any counter structure
        self.thread = [t for t, _, _, _ in threads]
        size = 1 + max([0] + [v for _, _, local, future in threads for v in (*local, *future)])
        self.local = [tuple(local.get(v) for v in range(size)) for _, _, local, _ in threads]
        self.future = [tuple(future.get(v, (0, 0)) for v in range(size)) for _, _, _, future in threads]
        positions = [pos for _, pos, _, _ in threads]
        self.counters = itemgetter(*positions) if len(positions) > 1 else (lambda s: (s[positions[0]],))
        self.cache: dict[tuple, list[int]] = {}   # counters -> independent threads (depends on nothing else)
        self.reduced = 0                          # states expanded with an ample set so far
        self.pc_slots = pc_slots                  # per thread, its counter's IR slot (for the C search's tables)

    def independent(self, values: tuple) -> list[int]:
        """Threads whose steps at these counters commute with every other thread's future."""
        out = []
        for i, v in enumerate(values):
            mine = self.local[i][v]
            if mine is None:
                continue
            reads, writes = mine
            rw_all, w_all = self.others
            if writes & rw_all or reads & w_all:
                continue
            future = self.future
            if any(j != i and (writes & future[j][u][0] or reads & future[j][u][1]) for j, u in enumerate(values)):
                continue
            out.append(self.thread[i])
        return out

    def __call__(self, state, succ: list, is_new: Callable) -> list:
        values = self.counters(state)
        threads = self.cache.get(values)
        if threads is None:
            threads = self.cache[values] = self.independent(values)
        owner = self.owner
        for t in threads:
            steps = [(k, n) for k, n in succ if owner[k] == t]
            if steps and len(steps) < len(succ) and all(is_new(n) for _, n in steps):
                self.reduced += 1
                return steps
        return succ


def ample_sets(system: System, compiled: Compiled, wanted: list[int]) -> Ample | None:
    """The ample-set chooser for these properties, or None when no step can ever be reduced
    (or a wanted property is not one partial-order reduction preserves)."""
    props = system.properties
    if any(not isinstance(props[i], (Invariant, ActionProperty, NoDeadlock, Sometimes)) for i in wanted):
        return None
    checked_props = {props[i].name for i in wanted if isinstance(props[i], ActionProperty)}
    vis = _mask(_visible(system, wanted, checked_props))
    halt = _halt_conjuncts(system)
    # Every action reads the halt slots in its guard; kept out of `reads` (being stopped by
    # another thread's halt is harmless) but in every future footprint, so that a step that
    # writes them (halts the system) is dependent on every thread that can still move.
    halt_reads = _mask(slots_read(system.halted)) if halt else 0
    reads, writes = _footprints(system, halt)
    checked = [any(c.prop in checked_props for c in a.checks) for a in system.actions]
    by_thread: dict[int | None, list[int]] = {}
    for k, a in enumerate(system.actions):
        by_thread.setdefault(a.thread, []).append(k)
    packing = compiled.packing
    position = (lambda slot: packing.position[slot]) if packing else (lambda slot: slot)
    offset = (lambda slot: packing.offset[slot]) if packing else (lambda slot: 0)
    threads, pc_slots = [], []
    others_rw = others_w = 0
    for t, ks in sorted(by_thread.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        pc = _pc_slot(system, ks) if t is not None else None
        if pc is None:
            for k in ks:
                others_rw |= reads[k] | writes[k] | halt_reads
                others_w |= writes[k]
            continue
        at = _actions_at(system, ks, pc)
        dom = _domain_values(system, pc)
        own = {}
        for value in dom:
            r, w = _access(at.get(value, []), reads, writes)
            own[value] = (r | w | (halt_reads if at.get(value) else 0), w)
        future = {value + offset(pc): fp for value, fp in _reachable_union(dom, _pc_edges(system, pc, at, dom),
                                                                           own).items()}
        local = {}
        for value, acts in at.items():
            r, w = _access(acts, reads, writes)
            if not (w & vis) and not any(checked[k] for k in acts):
                local[value + offset(pc)] = (r, w)
        threads.append((t, position(pc), local, future))
        pc_slots.append(pc)
    if not any(local for _, _, local, _ in threads):
        return None
    return Ample(threads, (others_rw, others_w), [a.thread for a in system.actions], pc_slots)


def _visible(system: System, wanted: list[int], checked_props: set[str]) -> set[int]:
    """The slots a wanted property reads: a step writing one is never taken alone."""
    visible: set[int] = set()
    for i in wanted:
        p = system.properties[i]
        if isinstance(p, Invariant):
            _reads(p.holds, visible)
        elif isinstance(p, Sometimes):
            _reads(p.expr, visible)
    for a in system.actions:
        for c in a.checks:
            if c.prop in checked_props:
                _reads(c.holds, visible)
    return visible


def _footprints(system: System, halt: set) -> tuple[list[int], list[int]]:
    """Per action, the slots it reads (guard conjuncts but the halt test, update values and
    indices) and may write (a whole array for a computed index), as bit masks."""
    reads, writes = [], []
    for a in system.actions:
        r: set[int] = set()
        for c in _conjuncts(a.guard):
            if skey(c) not in halt:
                _reads(c, r)
        w: set[int] = set()
        for u in a.updates:
            _reads(u.value, r)
            if isinstance(u.target.index, Const):
                w.add(u.target.var.base + u.target.index.value)
            else:
                _reads(u.target.index, r)
                w.update(range(u.target.var.base, u.target.var.base + u.target.var.length))
        reads.append(_mask(r))
        writes.append(_mask(w))
    return reads, writes


def _access(acts: list[int], reads: list[int], writes: list[int]) -> tuple[int, int]:
    r = w = 0
    for k in acts:
        r |= reads[k]
        w |= writes[k]
    return r, w


def _actions_at(system: System, ks: list[int], pc: int) -> dict[int, list[int]]:
    """A thread's actions by the program location their guard requires (`pc == value`)."""
    at: dict[int, list[int]] = {}
    for k in ks:
        value = next(c.args[1].value for c in _conjuncts(system.actions[k].guard)
                     if isinstance(c, Op) and c.name == "==" and isinstance(c.args[0], Read)
                     and isinstance(c.args[0].index, Const) and c.args[0].var.base + c.args[0].index.value == pc
                     and isinstance(c.args[1], Const))
        at.setdefault(value, []).append(k)
    return at


def _pc_edges(system: System, pc: int, at: dict[int, list[int]], dom: list[int]) -> dict[int, set[int]]:
    """Location → the locations its actions may move to (every location when an action's
    target is not a constant)."""
    nxt: dict[int, set[int] | None] = {}
    for value, acts in at.items():
        targets: set[int] | None = set()
        for k in acts:
            got = _value_of(system, pc, system.actions[k], value)
            targets = None if got is None or targets is None else targets | got
        nxt[value] = targets
    return {v: (set(dom) if nxt.get(v, set()) is None else nxt.get(v, set())) for v in dom}


def _reachable_union(nodes: list[int], edges: dict[int, set[int]], own: dict[int, tuple[int, int]]) \
        -> dict[int, tuple[int, int]]:
    """For each node, the union of `own` over the nodes it reaches (itself included): strongly
    connected components (Tarjan, iterative) in reverse topological order, so a straight-line
    program of n locations costs O(n), not O(n^2)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    comp_of: dict[int, int] = {}
    comps: list[list[int]] = []          # in reverse topological order (sinks first)
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for x in it:
                if x not in index:
                    index[x] = low[x] = len(index)
                    stack.append(x)
                    on_stack.add(x)
                    work.append((x, iter(sorted(edges.get(x, ())))))
                    break
                if x in on_stack:
                    low[v] = min(low[v], index[x])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        x = stack.pop()
                        on_stack.discard(x)
                        comp_of[x] = len(comps)
                        comp.append(x)
                        if x == v:
                            break
                    comps.append(comp)
    total: list[tuple[int, int]] = []
    for c, comp in enumerate(comps):      # successors' components come earlier
        rw = w = 0
        for v in comp:
            rw |= own.get(v, (0, 0))[0]
            w |= own.get(v, (0, 0))[1]
            for x in edges.get(v, ()):
                if comp_of[x] != c:
                    rw |= total[comp_of[x]][0]
                    w |= total[comp_of[x]][1]
        total.append((rw, w))
    return {v: total[comp_of[v]] for v in nodes}


def _domain_values(system: System, slot: int) -> list[int]:
    for v in system.variables:
        if v.base <= slot < v.base + v.length:
            return list(v.domain.values())
    raise IndexError(slot)
