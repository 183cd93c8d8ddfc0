"""PEP 788 revision R0, "Reimagining native threads" (PEP@764aba9f1 /
b0cc506ff): interpreter reference counts and non-daemon thread states.

The interpreter's count (references from Hold/Lookup plus non-daemon thread states) is the
vocabulary's `guards` counter; finalization waits for it to reach 0 like the Final design
waits for guards (GUARDS_CLOSED = "finished waiting": threads cannot start any more).
`PyThreadState_Ensure(interp)` steals the reference: it moves into the Ensure's frame on the
implicit per-thread stack (`ensure_guard`, the slot EnsureFromView's implicit guard uses in
Final), which makes the thread state non-daemon until the matching `PyThreadState_Release()`
drops it. `PyThreadState_SetDaemon` moves the top frame's reference in or out.
"""
from __future__ import annotations

from dataclasses import replace

from ..ir import Check, Expr, assign, ite
from ..vocabulary import (C_FATAL, C_NO_TSTATE, C_UAF, DELETED, GUARDS_CLOSED, UNBORN, Outcome, Vocabulary)
from .api import Api, Design, Site, Steps, table
from .legacy import LEGACY

R0 = "PEP@764aba9f1"


def _done_waiting(v: Vocabulary, interp: Expr) -> Expr:
    return v.phase_of(interp) >= GUARDS_CLOSED


def _count(v: Vocabulary, interp: Expr):
    return v.guards[interp - 1]


def hold(s: Site) -> Steps:
    # R0 PyInterpreterState_Hold (PEP@764aba9f1): needs a thread state; +1, never
    # NULL, "Failures are always a fatal error" (here: after the interpreter finished waiting,
    # a modelling choice, see docs/modeling.md).
    v, t = s.v, s.t
    cur = v.attached[t]
    interp = v.interp_of(cur)
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "needs an attached thread state", stop=True),
             Outcome(cur.ne(0) & _done_waiting(v, interp), v.crash_with(C_FATAL),
                     "interpreter finished waiting for references: Py_FatalError", stop=True),
             Outcome(cur.ne(0) & ~_done_waiting(v, interp),
                     [assign(_count(v, interp), _count(v, interp) + 1)] + s.ret(interp), "reference count + 1")]]


def lookup(s: Site) -> Steps:
    # R0 PyInterpreterState_Lookup(id) (PEP@764aba9f1): no thread state; NULL
    # without an exception once threads cannot start or the interpreter no longer exists. The
    # model never reuses an interpreter's number, so it serves as the ID.
    v = s.v
    interp = s.args[0]
    gone = interp.eq(0) | v.phase_of(interp).eq(UNBORN) | _done_waiting(v, interp)
    return [[Outcome(gone, s.ret(0), "no such interpreter, or threads can no longer start: NULL"),
             Outcome(~gone, [assign(_count(v, interp), _count(v, interp) + 1)] + s.ret(interp),
                     "reference count + 1")]]


def get_id(s: Site) -> Steps:
    # R0 PyInterpreterState_GetID (Python/pystate.c): reads the interpreter, so it must be alive.
    v = s.v
    interp = s.args[0]
    bad = interp.eq(0) | v.phase_of(interp).eq(DELETED)
    return [[Outcome(bad, v.crash_with(C_UAF), "interpreter is NULL or freed", stop=True),
             Outcome(~bad, s.ret(interp), "")]]


def interp_release(s: Site) -> Steps:
    # R0 PyInterpreterState_Release (PEP@764aba9f1): -1; "cannot fail, other than
    # with a fatal error" (a count below zero).
    v = s.v
    interp = s.args[0]
    bad = interp.eq(0) | v.phase_of(interp).eq(DELETED)
    return [[Outcome(bad, v.crash_with(C_UAF), "interpreter is NULL or freed", stop=True),
             Outcome(~bad & _count(v, interp).eq(0), v.crash_with(C_FATAL),
                     "reference count below zero: Py_FatalError", stop=True),
             Outcome(~bad & (_count(v, interp) > 0), [assign(_count(v, interp), _count(v, interp) - 1)],
                     "reference count - 1")]]


def ensure(s: Site) -> Steps:
    # R0 PyThreadState_Ensure(interp) (PEP@764aba9f1): steals the reference; an
    # attached tstate of `interp` is reused (non-daemon until Release), else a new non-daemon one
    # is made. Fails (non-zero, nothing stolen) only if the interpreter finished waiting, which
    # needs a caller holding no reference (a modelling choice, docs/modeling.md); on a freed
    # interpreter it is a use after free.
    v, t = s.v, s.t
    interp = s.args[0]
    cur = v.attached[t]
    bad = interp.eq(0) | v.phase_of(interp).eq(DELETED)
    ok = ~bad & ~_done_waiting(v, interp)
    same = cur.ne(0) & v.interp_of(cur).eq(interp)
    new = v.new_tstate(t)
    step0 = [
        Outcome(bad, v.crash_with(C_UAF), "interpreter is NULL or freed", stop=True),
        Outcome(~bad & _done_waiting(v, interp), s.ret(-1), "interpreter finished waiting: fails, old state kept"),
        Outcome(ok & same, v.push(t, cur, interp) + s.ret(0),
                "attached thread state belongs to this interpreter: non-daemon until Release"),
        Outcome(ok & ~same, v.create_tstate(t, new, interp, owned=1, counter=1) + [assign(v.to_attach[t], new)]
                + v.push(t, cur, interp) + v.detach(t), "new non-daemon thread state holds the reference", goto=1),
    ]
    step1 = v.attach_outcomes(t, v.to_attach[t], [assign(v.to_attach[t], 0)] + s.ret(0), "attached")
    return [step0, step1]


def release(s: Site) -> Steps:
    # R0 PyThreadState_Release(void) (PEP@764aba9f1): pops the implicit stack; a
    # reused tstate gets its daemon status back, one made by Ensure is deleted; either way the
    # frame's reference is dropped; then the tstate attached before Ensure is restored ("may
    # hang the thread if [it] was daemon and the interpreter was finalized"). Empty stack: fatal.
    v, t = s.v, s.t
    cur, prev, held = v.attached[t], v.top(t), v.top_guard(t)
    checks = (Check("release_restores", v.restored(t)),)
    empty = v.depth[t].eq(0)
    go = ~empty & cur.ne(0)
    under = held.ne(0) & v.guards[ite(held.eq(0), 1, held) - 1].eq(0)
    drop = v.drop_guard(held)
    step0 = [
        Outcome(empty, v.crash_with(C_FATAL), "no open PyThreadState_Ensure: implicit stack is empty, Py_FatalError",
                stop=True),
        Outcome(~empty & cur.eq(0), v.crash_with(C_FATAL), "no attached thread state: Py_FatalError", stop=True),
        Outcome(go & under, v.crash_with(C_FATAL), "reference count below zero: Py_FatalError", stop=True),
        Outcome(go & ~under & prev.eq(cur), drop + v.pop(t), "reused thread state is daemon again; reference dropped",
                checks=checks),
        Outcome(go & ~under & prev.ne(cur), drop + v.delete_tstate(t, cur) + v.detach(t) + [assign(v.to_attach[t], prev)],
                "non-daemon thread state deleted; reference dropped", goto=1),
    ]
    nothing = v.to_attach[t].eq(0)
    step1 = [Outcome(nothing, v.pop(t), "nothing to restore", checks=checks)]
    step1 += [replace(o, guard=~nothing & o.guard, updates=o.updates + ([] if o.stop else v.pop(t)))
              for o in v.attach_outcomes(t, v.to_attach[t], [assign(v.to_attach[t], 0)],
                                         "previous thread state re-attached", checks)]
    return [step0, step1]


def set_daemon(s: Site) -> Steps:
    # R0 PyThreadState_SetDaemon(is_daemon) (PEP@764aba9f1): acts on the attached
    # tstate, i.e. the top Ensure frame: daemon drops the frame's reference (finalization stops
    # waiting for it), non-daemon takes one back. Outside any Ensure the model only knows daemon
    # tstates: SetDaemon(0) there returns failure (docs/modeling.md).
    v, t = s.v, s.t
    cur, held, want_daemon = v.attached[t], v.top_guard(t), s.args[0].ne(0)
    n = v.layout.nesting
    d = v.depth[t]
    slot = v.stack_guard[t * n + ite(d.eq(0), 0, d - 1)]
    interp = v.interp_of(cur)
    framed = cur.ne(0) & d.ne(0)
    return [[
        Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "needs an attached thread state", stop=True),
        Outcome(cur.ne(0) & d.eq(0) & want_daemon, s.ret(0), "already daemon"),
        Outcome(cur.ne(0) & d.eq(0) & ~want_daemon, s.ret(-1),
                "not made by PyThreadState_Ensure: non-daemon not modelled, fails"),
        Outcome(framed & want_daemon & held.ne(0), v.drop_guard(held) + [assign(slot, 0)] + s.ret(0),
                "daemon: finalization no longer waits for this thread"),
        Outcome(framed & want_daemon & held.eq(0), s.ret(0), "already daemon"),
        Outcome(framed & ~want_daemon & held.ne(0), s.ret(0), "already non-daemon"),
        Outcome(framed & ~want_daemon & held.eq(0) & _done_waiting(v, interp), s.ret(-1),
                "interpreter finished waiting: fails"),
        Outcome(framed & ~want_daemon & held.eq(0) & ~_done_waiting(v, interp),
                [assign(_count(v, interp), _count(v, interp) + 1), assign(slot, interp)] + s.ret(0),
                "non-daemon: finalization waits for this thread again"),
    ]]


R0_API = table(
    Api("PyInterpreterState_Hold", (), "interp", hold, f"PEP 788 R0 PyInterpreterState_Hold ({R0}; "
        "fatal after the interpreter finished waiting, docs/modeling.md)"),
    Api("PyInterpreterState_Lookup", ("interp",), "interp", lookup,
        f"PEP 788 R0 PyInterpreterState_Lookup(id) ({R0}); the interpreter's number is its ID"),
    Api("PyInterpreterState_GetID", ("interp",), "interp", get_id, "Python/pystate.c PyInterpreterState_GetID"),
    Api("PyInterpreterState_Release", ("interp",), None, interp_release,
        f"PEP 788 R0 PyInterpreterState_Release ({R0})"),
    Api("PyThreadState_Ensure", ("interp",), "int", ensure, f"PEP 788 R0 PyThreadState_Ensure(interp) ({R0})"),
    Api("PyThreadState_Release", (), None, release, f"PEP 788 R0 PyThreadState_Release(void) ({R0})"),
    Api("PyThreadState_SetDaemon", ("int",), "int", set_daemon, f"PEP 788 R0 PyThreadState_SetDaemon ({R0})"),
)

R0_DESIGN = Design(
    "r0", "PEP 788 R0: Hold/Lookup interpreter references; Ensure(interp) steals one into a non-daemon "
    "thread state; finalization waits for the count to reach 0.",
    {**LEGACY.api, **R0_API}, "PEP 788 R0 (PEP@764aba9f1)", waits_for_guards=True)
