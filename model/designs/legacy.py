"""The API C extensions use today: PyGILState, raw thread states, Py_IsFinalizing.

Follows Python/pystate.c and Python/pylifecycle.c as of 3.14 (SEMANTICS.md §2.6–2.7): a
non-finalizer attaching during finalization hangs forever (`legacy_313` exits instead), a
fresh thread's PyGILState_Ensure always picks the main interpreter, and raw
PyInterpreterState* pointers can dangle.
"""
from __future__ import annotations

from ..ir import TRUE, Check, all_of, assign, ite
from ..vocabulary import C_FATAL, C_NO_TSTATE, C_UAF, DELETED, O_LIVE, Outcome
from .api import Api, Design, Site, Steps, table
from .client import CLIENT
from .lifecycle import lifecycle_apis

LOCKED, UNLOCKED = 0, 1


def is_finalizing(s: Site) -> Steps:
    # Python/pylifecycle.c Py_IsFinalizing: reads the runtime flag, atomic with nothing (PEP 788
    # "Py_IsFinalizing cannot be used atomically").
    v, t = s.v, s.t
    fin = v.runtime_finalizing()
    return [[Outcome(TRUE, s.ret(ite(fin, 1, 0)) + [assign(v.checked[t], ite(fin, 0, 1))], "")]]


def gilstate_ensure(s: Site) -> Steps:
    # Python/pystate.c PyGILState_Ensure: the thread's gilstate tstate, else a new one in
    # autoInterpreterState (= main, gh-59956); attach unless it already holds the GIL.
    v, t = s.v, s.t
    tcur, cur = v.gilstate[t], v.attached[t]
    main_gone = v.phase[0].eq(DELETED)
    new = v.new_tstate(t)
    step0 = [
        Outcome(tcur.eq(0) & main_gone, v.crash_with(C_UAF),
                "creates a thread state in the freed main interpreter (gh-124619)", stop=True),
        Outcome(tcur.eq(0) & ~main_gone & cur.ne(0), v.crash_with(C_FATAL),
                "another thread state is attached: 'non-NULL old thread state' (gh-142135)", stop=True),
        Outcome(tcur.eq(0) & ~main_gone & cur.eq(0), v.create_tstate(t, new, 1) + [assign(v.scratch[t], new)],
                "new thread state in main interpreter", goto=1),
        Outcome(tcur.ne(0) & v.ts_status[tcur - 1].ne(O_LIVE), v.crash_with(C_UAF),
                "gilstate thread state was freed by finalization", stop=True),
        Outcome(tcur.ne(0) & v.ts_status[tcur - 1].eq(O_LIVE) & cur.eq(tcur),
                [assign(v.ts_counter[tcur - 1], v.ts_counter[tcur - 1] + 1)] + v.push(t, cur) + s.ret(LOCKED),
                "already holds the GIL"),
        Outcome(tcur.ne(0) & v.ts_status[tcur - 1].eq(O_LIVE) & cur.ne(tcur) & cur.ne(0), v.crash_with(C_FATAL),
                "another thread state is attached: 'non-NULL old thread state' (gh-142135)", stop=True),
        Outcome(tcur.ne(0) & v.ts_status[tcur - 1].eq(O_LIVE) & cur.eq(0), [assign(v.scratch[t], tcur)],
                "reuses the thread's gilstate thread state", goto=1),
    ]
    ts = v.scratch[t]
    attach = v.attach_outcomes(t, ts, [assign(v.ts_counter[ts - 1], v.ts_counter[ts - 1] + 1),
                                       assign(v.scratch[t], 0)] + v.push(t, 0) + s.ret(UNLOCKED),
                               "attached")
    return [step0, attach]


def gilstate_release(s: Site) -> Steps:
    # Python/pystate.c PyGILState_Release: fatal without a gilstate tstate or when it is not
    # current; --counter; at 0 Clear + DeleteCurrent, else detach if the Ensure attached.
    v, t = s.v, s.t
    ts, cur, old = v.gilstate[t], v.attached[t], s.args[0]
    count = v.ts_counter[ts - 1]
    ok = ts.ne(0) & cur.eq(ts)
    checks = (Check("release_restores", v.restored(t)),)
    return [[
        Outcome(ts.eq(0), v.crash_with(C_FATAL), "no thread state for this thread: fatal", stop=True),
        Outcome(ts.ne(0) & cur.ne(ts), v.crash_with(C_FATAL), "thread state must be current: fatal", stop=True),
        Outcome(ok & count.eq(0), v.crash_with(C_FATAL), "counter below zero", stop=True),
        Outcome(ok & count.eq(1), [assign(count, 0)] + v.delete_tstate(t, ts) + v.detach(t) + v.pop(t),
                "counter 0: thread state cleared and deleted", checks=checks),
        Outcome(ok & (count > 1) & old.eq(UNLOCKED), [assign(count, count - 1)] + v.detach(t) + v.pop(t),
                "detached", checks=checks),
        Outcome(ok & (count > 1) & old.ne(UNLOCKED), [assign(count, count - 1)] + v.pop(t),
                "stays attached", checks=checks),
    ]]


def gilstate_get(s: Site) -> Steps:
    # Python/pystate.c PyGILState_GetThisThreadState: the thread's gilstate slot.
    return [[Outcome(TRUE, s.ret(s.v.gilstate[s.t]), "")]]


def tstate_new(s: Site) -> Steps:
    # Python/pystate.c PyThreadState_New: links a new tstate into the interpreter's list; on a
    # freed interpreter this is the use after free of PEP 788 R1 "An interpreter can concurrently deallocate".
    v, t = s.v, s.t
    interp = s.args[0]
    new = v.new_tstate(t)
    return [[
        Outcome(interp.eq(0), v.crash_with(C_FATAL), "NULL interpreter", stop=True),
        Outcome(interp.ne(0) & v.phase_of(interp).eq(DELETED), v.crash_with(C_UAF),
                "interpreter already freed (dangling PyInterpreterState*)", stop=True),
        Outcome(interp.ne(0) & v.phase_of(interp).ne(DELETED), v.create_tstate(t, new, interp) + s.ret(new),
                "new thread state"),
    ]]


def tstate_swap(s: Site) -> Steps:
    # Python/pystate.c PyThreadState_Swap: detach the current tstate, attach the new one
    # (which hangs during finalization like any attach).
    v, t = s.v, s.t
    new = s.args[0]
    step0 = [Outcome(new.eq(0), s.ret(v.attached[t]) + v.detach(t), "detached"),
             Outcome(new.ne(0), s.ret(v.attached[t]) + v.detach(t) + [assign(v.scratch[t], new)],
                     "detached old thread state", goto=1)]
    return [step0, v.attach_outcomes(t, v.scratch[t], [assign(v.scratch[t], 0)], "attached")]


def tstate_delete(s: Site) -> Steps:
    # Python/pystate.c PyThreadState_Clear + PyThreadState_Delete: a tstate must not be current.
    v, t = s.v, s.t
    ts = s.args[0]
    live = ts.ne(0) & v.ts_status[ts - 1].eq(O_LIVE)
    return [[Outcome(~live, v.crash_with(C_UAF), "thread state already freed", stop=True),
             Outcome(live & v.attached[t].eq(ts), v.crash_with(C_FATAL), "tstate is still current", stop=True),
             Outcome(live & v.attached[t].ne(ts), v.delete_tstate(t, ts), "deleted")]]


def save_thread(s: Site) -> Steps:
    # Python/ceval_gil.c PyEval_SaveThread: detach and return the tstate.
    v, t = s.v, s.t
    cur = v.attached[t]
    return [[Outcome(cur.eq(0), v.crash_with(C_FATAL), "no current thread state", stop=True),
             Outcome(cur.ne(0), s.ret(cur) + v.detach(t), "detached, GIL released")]]


def restore_thread(s: Site) -> Steps:
    # Python/ceval_gil.c PyEval_RestoreThread: attach; hangs during finalization (gh-87135).
    v, t = s.v, s.t
    return [[Outcome(v.attached[t].ne(0), v.crash_with(C_FATAL), "non-NULL old thread state", stop=True)]
            + [Outcome(all_of(v.attached[t].eq(0), o.guard), o.updates, o.note, o.stop, o.goto, o.stale_use)
               for o in v.attach_outcomes(t, s.args[0], [], "attached")]]


def interp_get(s: Site) -> Steps:
    # Python/pystate.c PyInterpreterState_Get: fatal without a current thread state.
    v, t = s.v, s.t
    cur = v.attached[t]
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "no current thread state", stop=True),
             Outcome(cur.ne(0), s.ret(v.interp_of(cur)), "")]]


def interp_main(s: Site) -> Steps:
    # Python/pystate.c PyInterpreterState_Main: a raw pointer, valid until main is freed.
    return [[Outcome(TRUE, s.ret(1), "")]]


def tstate_get(s: Site) -> Steps:
    # Python/pystate.c PyThreadState_Get: fatal error when no tstate is attached.
    v, t = s.v, s.t
    cur = v.attached[t]
    return [[Outcome(cur.eq(0), v.crash_with(C_FATAL), "no current thread state", stop=True),
             Outcome(cur.ne(0), s.ret(cur), "")]]


LEGACY_API = table(
    Api("Py_IsFinalizing", (), "int", is_finalizing, "pylifecycle.c Py_IsFinalizing; PEP 788 'Py_IsFinalizing is insufficient'"),
    Api("PyGILState_Ensure", (), "gilstate", gilstate_ensure, "Python/pystate.c PyGILState_Ensure"),
    Api("PyGILState_Release", ("gilstate",), None, gilstate_release, "Python/pystate.c PyGILState_Release"),
    Api("PyGILState_GetThisThreadState", (), "tstate", gilstate_get, "Python/pystate.c PyGILState_GetThisThreadState"),
    Api("PyThreadState_New", ("interp",), "tstate", tstate_new, "Python/pystate.c PyThreadState_New"),
    Api("PyThreadState_Swap", ("tstate",), "tstate", tstate_swap, "Python/pystate.c PyThreadState_Swap"),
    Api("PyThreadState_Delete", ("tstate",), None, tstate_delete, "Python/pystate.c PyThreadState_Delete"),
    Api("PyThreadState_Get", (), "tstate", tstate_get, "Python/pystate.c PyThreadState_Get"),
    Api("PyEval_SaveThread", (), "tstate", save_thread, "Python/ceval_gil.c PyEval_SaveThread"),
    Api("PyEval_RestoreThread", ("tstate",), None, restore_thread, "Python/ceval_gil.c PyEval_RestoreThread; gh-87135"),
    Api("PyInterpreterState_Get", (), "interp", interp_get, "Python/pystate.c PyInterpreterState_Get"),
    Api("PyInterpreterState_Main", (), "interp", interp_main, "Python/pystate.c PyInterpreterState_Main"),
)

LEGACY = Design(
    "legacy", "PyGILState and raw thread states as in CPython 3.14: attach during finalization hangs.",
    {**CLIENT, **LEGACY_API, **lifecycle_apis()}, "SEMANTICS.md §2.6-2.7")

LEGACY_313 = Design(
    "legacy_313", "As legacy, but CPython <= 3.13: attach during finalization exits the thread.",
    LEGACY.api, "SEMANTICS.md §2.6 (PyThread_exit_thread before gh-87135)", exit_on_finalize=True)
