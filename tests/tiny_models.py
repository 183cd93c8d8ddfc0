"""Tiny purpose-built IR models for engine tests: small enough to count states by hand."""
from __future__ import annotations

from interpcheck.model.ir import (BOOL, Action, ActionProperty, Builder, Check, Domain, Invariant, LeadsTo,
                                  NoDeadlock, NoHang, Sometimes, System, all_of, assign, enum)

PC = enum("idle", "want", "crit", "done")


def mutex(n: int = 2, broken: bool = False) -> System:
    """n threads: idle → want → crit → done, with a lock; `broken` skips the lock test.

    Properties: mutual exclusion (invariant), an action check (entering takes the lock),
    no deadlock, no hang, everyone eventually done, and a witness that crit is reachable.
    """
    names = [f"T{i}" for i in range(n)]
    b = Builder("mutex" + ("-broken" if broken else ""), names)
    pc = b.array("pc", n, PC, labels=names)
    lock = b.scalar("lock", BOOL)
    for t in range(n):
        b.action(Action("want", t, pc[t].eq(0), (assign(pc[t], 1),), "want()"))
        enter_guard = pc[t].eq(1) if broken else all_of(pc[t].eq(1), lock.eq(0))
        b.action(Action("lock", t, enter_guard, (assign(pc[t], 2), assign(lock, 1)), "lock(L)",
                        checks=(Check("lock_was_free", lock.eq(0)),)))
        b.action(Action("unlock", t, pc[t].eq(2), (assign(pc[t], 3), assign(lock, 0)), "unlock(L)"))
    crit = [pc[t].eq(2) for t in range(n)]
    pairs = [~(crit[i] & crit[j]) for i in range(n) for j in range(i + 1, n)]
    b.prop(Invariant("mutual_exclusion", all_of(*pairs), "at most one thread in crit"))
    b.prop(ActionProperty("lock_was_free", "lock() only succeeds on a free lock"))
    b.prop(NoDeadlock())
    b.prop(NoHang())
    b.prop(LeadsTo("all_done", all_of(True), all_of(*[pc[t].eq(3) for t in range(n)]), "everyone finishes"))
    b.prop(Sometimes("crit_reachable", crit[0], "T0 can enter"))
    b.prop(Sometimes("never_reachable", pc[0].eq(3) & pc[0].eq(0), "impossible on purpose"))
    return b.build([pc[t].eq(3) for t in range(n)])


def counter(limit: int = 5, bound: int = 5) -> System:
    """One thread counts 0..limit; a variable bounded by `bound` (limit > bound overflows)."""
    b = Builder("counter", ["T"])
    x = b.scalar("x", Domain(0, bound))
    b.action(Action("inc", 0, x < limit, (assign(x, x + 1),), "inc()"))
    b.prop(Invariant("below_three", x < 3, "x stays below 3"))
    b.prop(NoDeadlock())
    return b.build([x.eq(limit)])


def philosophers(n: int = 3) -> System:
    """Each philosopher takes the left fork, then the right: the classic deadlock."""
    names = [f"P{i}" for i in range(n)]
    b = Builder(f"philosophers-{n}", names)
    pc = b.array("pc", n, enum("think", "left", "eat", "done"), labels=names)
    fork = b.array("fork", n, Domain(0, n))  # 0 free, else holder+1
    for t in range(n):
        left, right = t, (t + 1) % n
        b.action(Action("take_left", t, pc[t].eq(0) & fork[left].eq(0),
                        (assign(pc[t], 1), assign(fork[left], t + 1)), f"lock(fork{left})"))
        b.action(Action("take_right", t, pc[t].eq(1) & fork[right].eq(0),
                        (assign(pc[t], 2), assign(fork[right], t + 1)), f"lock(fork{right})"))
        b.action(Action("put", t, pc[t].eq(2),
                        (assign(pc[t], 3), assign(fork[left], 0), assign(fork[right], 0)), "unlock(both)"))
    b.prop(NoDeadlock())
    b.prop(NoHang())
    return b.build([pc[t].eq(3) for t in range(n)])


def spinner() -> System:
    """T toggles a flag forever; U waits for a flag that only T's unfair partner could set.

    `eventually_done` is violated by a fair cycle (T keeps toggling while U is disabled),
    `toggles_back` (on ~> off) holds under weak fairness.
    """
    b = Builder("spinner", ["T", "U"])
    on = b.scalar("on", BOOL)
    done = b.scalar("done", BOOL)
    gate = b.scalar("gate", BOOL)
    b.action(Action("toggle", 0, done.eq(0), (assign(on, 1 - on),), "toggle()"))
    b.action(Action("finish", 1, gate.eq(1) & done.eq(0), (assign(done, 1),), "finish()"))
    b.prop(LeadsTo("eventually_done", all_of(True), done.eq(1), "U finishes"))
    b.prop(LeadsTo("toggles_back", on.eq(1), on.eq(0), "an on is followed by an off"))
    b.prop(NoHang())
    return b.build([on.eq(on), done.eq(1)])
