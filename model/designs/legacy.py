"""The API C extensions use today: PyGILState, raw thread states, Py_IsFinalizing; one design
per CPython release whose behaviour differs (cpython_3_11 ... cpython_3_14).

The functions are written once; what differs between releases is a `Runtime` of the
vocabulary (attach, finalization, gilstate binding), cited where it is used. A fresh thread's
PyGILState_Ensure always picks the main interpreter, and raw PyInterpreterState* pointers
can dangle.
"""
from __future__ import annotations

from dataclasses import replace

from ..ir import TRUE, Check, any_of, assign, ite
from ..vocabulary import (LEAVE, C_FATAL, C_NO_TSTATE, C_NULL, C_UAF, DELETED, O_FREED, O_LIVE, O_SHUTDOWN, RUNTIME_3_11,
                          RUNTIME_3_12, RUNTIME_3_13, RUNTIME_3_13_8, RUNTIME_3_14, T_HUNG, UNBORN, Outcome)
from .api import Api, Design, Site, Steps, table
from .client import CLIENT
from .lifecycle import lifecycle_apis, new_interpreter_from_config

LOCKED, UNLOCKED = 0, 1


def is_finalizing(s: Site) -> Steps:
    # Python/pylifecycle.c Py_IsFinalizing: reads the runtime flag, atomic with nothing (PEP 788
    # "Py_IsFinalizing cannot be used atomically").
    v, t = s.v, s.t
    fin = v.runtime_finalizing()
    return [[Outcome(TRUE, s.ret(ite(fin, 1, 0)) + [assign(v.checked[t], ite(fin, 0, 1))], "")]]


def gilstate_ensure(s: Site) -> Steps:
    # PyGILState_Ensure (Python/pystate.c:1666 (v3.11.2), :2746 (v3.13.5)): the thread's gilstate
    # tstate, else a new one in autoInterpreterState (= main, gh-59956) with gilstate_counter 0;
    # PyEval_RestoreThread unless it holds the GIL; then gilstate_counter + 1.
    v, t = s.v, s.t
    tcur, cur = v.gilstate[t], v.attached[t]
    main_gone = v.phase[0].eq(DELETED)
    new = v.new_tstate(t)
    after_fini: list[Outcome]
    if v.runtime.ensure_after_fini_hangs:
        # main (3.15; the PEP 788 designs): autoInterpreterState == NULL → PyThread_hang_thread()
        # (gh-131185, PR #132510; not in 3.14)
        after_fini = [Outcome(main_gone, v.hang(t), "main interpreter finalized: PyThread_hang_thread()",
                              stop=True, stale_use=True)]
        tcur_ok = ~main_gone
    else:
        # <= 3.14: _PyGILState_Fini set autoInterpreterState = NULL (Python/pystate.c:1563 (v3.11.2),
        # :2073 (v3.12.0), :2679 (v3.13.5), :2810 (v3.14.7)); new_threadstate(NULL) dereferences it
        # (Python/pystate.c:801 (v3.11.2), :2160 → :1334 (v3.12.0), :2897 → :1630 → :1499 (v3.14.7))
        after_fini = [Outcome(tcur.eq(0) & main_gone, v.crash_with(C_NULL),
                              "new thread state in the NULL autoInterpreterState: SIGSEGV", stop=True)]
        tcur_ok = tcur.ne(0) | ~main_gone
    freed = v.ts_state(tcur).eq(O_FREED)
    step0 = after_fini + [
        Outcome(tcur_ok & tcur.eq(0), v.create_tstate(t, new, 1, gil_counter=0) + [assign(v.to_attach[t], new)],
                "new thread state in main interpreter", goto=1),
        Outcome(tcur_ok & tcur.ne(0) & ~freed & cur.eq(tcur),
                [assign(v.gil_counter[tcur - 1], v.gil_counter[tcur - 1] + 1)] + v.push(t, cur) + s.ret(LOCKED),
                "already holds the GIL"),
        # PyThreadState_IsCurrent(tcur) only compares pointers: a freed tcur is first touched by
        # the attach, where up to 3.13 take_gil's finalizing check comes first (the thread exits
        # or hangs; replayed on 3.10-3.13) and else it is a use after free
        Outcome(tcur_ok & tcur.ne(0) & (freed | cur.ne(tcur)), [assign(v.to_attach[t], tcur)],
                "reuses the thread's gilstate thread state", goto=1),
    ]
    ts = v.to_attach[t]
    attach = v.restore_outcomes(t, ts, [assign(v.gil_counter[ts - 1], v.gil_counter[ts - 1] + 1),
                                        assign(v.to_attach[t], 0)] + v.push(t, 0) + s.ret(UNLOCKED),
                                "attached")
    return [step0, attach]


def gilstate_release(s: Site) -> Steps:
    # PyGILState_Release (Python/pystate.c:1714 (v3.11.2), :2799 (v3.13.5)): fatal without a
    # gilstate tstate or when it is not current; --gilstate_counter; at 0 Clear + DeleteCurrent,
    # else PyEval_SaveThread if the Ensure attached.
    v, t = s.v, s.t
    ts, cur, old = v.gilstate[t], v.attached[t], s.args[0]
    count = v.gil_counter[ts - 1]
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


def gilstate_release_clearing(s: Site) -> Steps:
    # PyGILState_Release whose PyThreadState_Clear runs the spec's `tstate_clear` destructors,
    # with the thread state attached. On 3.11 and 3.12 gilstate_counter is 0 then, so a
    # destructor's PyGILState_Ensure/Release pair deletes the thread state under the outer
    # Clear, which goes on with it freed (gh-119585; run: SIGSEGV, valgrind: reads inside the
    # freed block); 3.13 keeps it at 1 while Clear runs (Python/pystate.c:2832-2834 (v3.13.5);
    # later 3.12 releases too, backport PR #119861, not modelled: cpython_3_12 follows 3.12.1).
    v, t = s.v, s.t
    ts, cur = v.gilstate[t], v.attached[t]
    count = v.gil_counter[ts - 1]
    kept = v.runtime.clear_keeps_counter
    step0 = [o if o.note != "counter 0: thread state cleared and deleted" else
             Outcome(o.guard, [] if kept else [assign(count, 0)],
                     "counter 0: PyThreadState_Clear runs the thread state's destructors"
                     + (" (gilstate_counter kept at 1 meanwhile)" if kept else ""), goto=LEAVE)
             for o in gilstate_release(s)[0]]
    checks = (Check("release_restores", v.restored(t)),)
    gone = [assign(v.gil_counter[cur - 1], 0)] if kept else []
    step1 = [Outcome(cur.eq(0), v.crash_with(C_UAF), "destructors done, but one of them deleted the thread state: "
                     "PyThreadState_Clear goes on with it freed", stop=True),
             Outcome(cur.ne(0), gone + v.delete_tstate(t, cur) + v.detach(t) + v.pop(t),
                     "destructors done: thread state deleted", checks=checks)]
    return [step0, step1]


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
        Outcome(interp.eq(0), v.crash_with(C_NULL), "NULL interpreter: new_threadstate dereferences it, SIGSEGV",
                stop=True),
        Outcome(interp.ne(0) & v.phase_of(interp).eq(DELETED), v.crash_with(C_UAF),
                "interpreter already freed (dangling PyInterpreterState*)", stop=True),
        Outcome(interp.ne(0) & v.phase_of(interp).ne(DELETED), v.create_tstate(t, new, interp) + s.ret(new),
                "new thread state"),
    ]]


def tstate_swap(s: Site) -> Steps:
    # PyThreadState_Swap: 3.12+ detach the current tstate, attach the new one (which exits or
    # hangs during finalization like any attach; Python/pystate.c:1847-1856 (v3.12.0), :2432 (v3.13.5),
    # :2565 (v3.14.7)); 3.11 only
    # switches the current pointer and leaves the GIL as it is (Python/pystate.c:1198 (v3.11.2)).
    v, t = s.v, s.t
    new = s.args[0]
    if not v.runtime.per_interpreter_gil:
        return [[Outcome(TRUE, s.ret(v.attached[t]) + [assign(v.attached[t], new)],
                         "current thread state switched, the GIL left as it is")]]
    step0 = [Outcome(new.eq(0), s.ret(v.attached[t]) + v.detach(t), "detached"),
             Outcome(new.ne(0), s.ret(v.attached[t]) + v.detach(t) + [assign(v.to_attach[t], new)],
                     "detached old thread state", goto=1)]
    return [step0, v.attach_outcomes(t, v.to_attach[t], [assign(v.to_attach[t], 0)], "attached")]


def tstate_delete(s: Site) -> Steps:
    # PyThreadState_Delete (Python/pystate.c:1113 (v3.11.2), :1847 (v3.13.5)): fatal "still current",
    # unlink, free. It does not clear: an uncleared thread state's objects leak, no crash in a
    # release build (only a debug assert, Python/pystate.c:1769 (v3.13.5)).
    # "Current" is the calling thread's attached thread state from 3.12 (thread-local); up to 3.11
    # it is the one current for the whole process (_PyRuntimeGILState_GetThreadState, pystate.c:1102
    # (v3.11.2)): a thread state attached on another thread is "still current" too (run on 3.11.7).
    v, t = s.v, s.t
    ts = s.args[0]
    live = ts.ne(0) & v.ts_status[ts - 1].eq(O_LIVE)
    threads = range(v.attached.length) if not v.runtime.rebind_gilstate else [t]
    current = any_of(*[v.attached[u].eq(ts) for u in threads])
    return [[Outcome(~live, v.crash_with(C_UAF), "thread state already freed", stop=True),
             Outcome(live & current, v.crash_with(C_FATAL), "tstate is still current", stop=True),
             Outcome(live & ~current, v.delete_tstate(t, ts), "deleted")]]


def tstate_clear(s: Site) -> Steps:
    # PyThreadState_Clear (Python/pystate.c:1011-1013 (v3.11.2), :1664-1669 (v3.13.5)): first
    # touches tstate (NULL: SIGSEGV), then drops its objects; it neither unlinks nor frees it.
    v, t = s.v, s.t
    ts = s.args[0]
    bad = ~v.ts_alive(ts) & v.ts_state(ts).ne(O_SHUTDOWN)
    return [[Outcome(ts.eq(0), v.crash_with(C_NULL), "NULL thread state: SIGSEGV", stop=True),
             Outcome(ts.ne(0) & bad, v.crash_with(C_UAF), "thread state already freed", stop=True),
             Outcome(ts.ne(0) & ~bad, [], "thread state cleared (still linked, not freed)")]]


def interp_get_id(s: Site) -> Steps:
    # PyInterpreterState_GetID (Python/pystate.c:583 (v3.11.2), :1234 (v3.13.5)): NULL gives -1
    # (RuntimeError set); else reads interp->id: a freed interpreter is a use after free. Main's
    # ID is 0; the model's int domain (-1..1) gives every subinterpreter 1, as the first made has.
    v = s.v
    interp = s.args[0]
    freed = interp.ne(0) & v.phase_of(interp).eq(DELETED)
    return [[Outcome(interp.eq(0), s.ret(-1), "no interpreter provided: -1, RuntimeError set"),
             Outcome(freed, v.crash_with(C_UAF), "interpreter already freed (dangling PyInterpreterState*)",
                     stop=True),
             Outcome(interp.ne(0) & ~freed, s.ret(ite(interp.eq(1), 0, 1)), "")]]


def add_pending_call(s: Site) -> Steps:
    # Py_AddPendingCall (Python/ceval.c:641 (v3.11.2), Python/ceval_gil.c:804 (v3.13.5)): needs no
    # thread state; queues the spec's `pending_calls` function for the main thread, which runs it
    # at its next eval-breaker check or in _Py_FinishPendingCalls before atexit. Returns 0.
    # Up to 3.12 only a call from the main thread itself sets its eval breaker (Python/ceval.c:247
    # (v3.11.2); Python/ceval_gil.c:858, :72-73 (v3.12.0)); 3.13 sets the main thread's bit from any
    # thread (Python/ceval_gil.c:790 (v3.13.5), :793 (v3.14.7)).
    v = s.v
    queued = [] if v.pending_calls is None else [assign(v.pending_calls, v.pending_calls + 1)]
    if v.pending_seen is not None and s.t == v.main_thread:
        queued.append(assign(v.pending_seen, 1))
    return [[Outcome(TRUE, queued + s.ret(0), "queued for the main thread")]]


def at_exit(s: Site) -> Steps:
    # Py_AtExit (Python/pylifecycle.c:2913 (v3.11.2), :3477 (v3.13.5)): stores the spec's `c_atexit` function;
    # call_ll_exitfuncs runs it at the very end of Py_FinalizeEx, with no thread state
    # (Python/pylifecycle.c:1929 (v3.11.2), :2250 (v3.13.5)). Returns 0.
    v = s.v
    queued = [] if v.exitfuncs is None else [assign(v.exitfuncs, v.exitfuncs + 1)]
    return [[Outcome(TRUE, queued + s.ret(0), "registered for after finalization")]]


def unstable_at_exit(s: Site) -> Steps:
    # PyUnstable_AtExit (3.13+, Modules/atexitmodule.c:27-52 (v3.13.5)): needs a thread state
    # (_Py_EnsureTstateNotNULL: Py_FatalError without one) and stores the spec's
    # `unstable_atexit` function for interpreter `interp`. It runs in _PyAtExit_Fini
    # (Modules/atexitmodule.c:103-120), from interpreter_clear (Python/pystate.c:866 (v3.13.5)):
    # in the interpreter's teardown, after its object finalizers, on the finalizing thread with
    # its thread state attached; not in the atexit phase. Returns 0.
    v, t = s.v, s.t
    interp = s.args[0]
    gone = interp.eq(0) | v.phase_of(interp).eq(DELETED)
    queue = v.unstable_exitfuncs
    stored = [] if queue is None else [assign(queue[interp - 1], queue[interp - 1] + 1)]
    return [[Outcome(v.attached[t].eq(0), v.crash_with(C_FATAL), "no thread state: Py_FatalError", stop=True),
             Outcome(v.attached[t].ne(0) & gone, v.crash_with(C_UAF), "interpreter NULL or freed", stop=True),
             Outcome(v.attached[t].ne(0) & ~gone, stored + s.ret(0), "registered for the interpreter's teardown")]]


def save_thread(s: Site) -> Steps:
    # Python/ceval_gil.c PyEval_SaveThread: detach and return the tstate. With none, up to 3.12
    # _Py_EnsureTstateNotNULL calls Py_FatalError (:727 (v3.12.0)); 3.13+ dereferences NULL in
    # detach_thread (Python/pystate.c:2132 (v3.13.5)): both "no thread state", as Py_BEGIN_ALLOW_THREADS.
    v, t = s.v, s.t
    cur = v.attached[t]
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "no current thread state", stop=True),
             Outcome(cur.ne(0), s.ret(cur) + v.detach(t), "detached, GIL released")]]


def restore_thread(s: Site) -> Steps:
    # PyEval_RestoreThread (Python/ceval_gil.c:736 (v3.12.0), :647 (v3.14.7)): attach; exits or hangs
    # during finalization (gh-87135).
    return [s.v.restore_outcomes(s.t, s.args[0], [], "attached")]


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



def is_initialized(s: Site) -> Steps:
    # Py_IsInitialized: _PyRuntime.initialized, cleared with the finalizing flag
    # (Python/pylifecycle.c:1797 (v3.11.2), :2074 (v3.13.5)); as racy as Py_IsFinalizing.
    v, t = s.v, s.t
    fin = v.runtime_finalizing()
    return [[Outcome(TRUE, s.ret(ite(fin, 0, 1)) + [assign(v.checked[t], ite(fin, 0, 1))], "")]]


def gilstate_check(s: Site) -> Steps:
    # PyGILState_Check (Python/pystate.c:1646 (v3.11.2), :2725 (v3.13.5)): the attached thread
    # state is the thread's gilstate one (0 with none attached). But 1 whatever holds once any
    # subinterpreter was made (new_interpreter clears check_enabled: Python/pylifecycle.c:1972
    # (v3.11.2), :2020 (v3.12.0), :2300 (v3.13.5); run on 3.11.7, 3.12.1, 3.13.0), and up to 3.13
    # once finalization deleted its TSS key (Runtime.gilstate_check_after_fini).
    v, t = s.v, s.t
    cur = v.attached[t]
    disabled = any_of(*[v.phase[i].ne(UNBORN) for i in range(1, v.phase.length)])
    if v.runtime.gilstate_check_after_fini:
        disabled = disabled | v.phase[0].eq(DELETED)
    return [[Outcome(TRUE, s.ret(ite(disabled | (cur.ne(0) & cur.eq(v.gilstate[t])), 1, 0)), "")]]


def tstate_get_unchecked(s: Site) -> Steps:
    # PyThreadState_GetUnchecked (Python/pystate.c:2417 (v3.13.5)): the attached thread state or NULL.
    return [[Outcome(TRUE, s.ret(s.v.attached[s.t]), "")]]


def acquire_thread(s: Site) -> Steps:
    # PyEval_AcquireThread: take_gil, then "non-NULL old thread state" if one was attached
    # (Python/ceval.c:452 (v3.11.2)); 3.13 _PyThreadState_Attach (Python/ceval_gil.c:599 (v3.13.5)).
    return [s.v.restore_outcomes(s.t, s.args[0], [], "attached")]


def release_thread(s: Site) -> Steps:
    # PyEval_ReleaseThread: Py_FatalError("wrong thread state") unless `tstate` is the attached one
    # (Python/ceval.c:465 (v3.11.2)); then detach.
    v, t = s.v, s.t
    ts = s.args[0]
    return [[Outcome(v.attached[t].ne(ts) | ts.eq(0), v.crash_with(C_FATAL), "wrong thread state: Py_FatalError",
                     stop=True),
             Outcome(v.attached[t].eq(ts) & ts.ne(0), v.detach(t), "detached, GIL released")]]


def tstate_delete_current(s: Site) -> Steps:
    # PyThreadState_DeleteCurrent (Python/pystate.c:1131 (v3.11.2), :1869 (v3.13.5)): deletes the
    # attached thread state and releases the GIL; none attached is Py_FatalError.
    v, t = s.v, s.t
    cur = v.attached[t]
    return [[Outcome(cur.eq(0), v.crash_with(C_FATAL), "no current thread state: Py_FatalError", stop=True),
             Outcome(cur.ne(0), v.delete_tstate(t, cur) + v.detach(t), "thread state deleted, GIL released")]]


def tstate_interpreter(s: Site) -> Steps:
    # PyThreadState_GetInterpreter (Python/pystate.c:1260 (v3.11.2)): reads tstate->interp.
    v = s.v
    ts = s.args[0]
    bad = ~v.ts_alive(ts) & v.ts_state(ts).ne(O_SHUTDOWN)
    return [[Outcome(ts.eq(0), v.crash_with(C_NULL), "NULL thread state: SIGSEGV", stop=True),
             Outcome(ts.ne(0) & bad, v.crash_with(C_UAF), "thread state already freed", stop=True),
             Outcome(ts.ne(0) & ~bad, s.ret(v.interp_of(ts)), "")]]


def hang_thread(s: Site) -> Steps:
    # PyThread_hang_thread (gh-87135): blocks the calling thread forever. In v3.14.7 it is exported but
    # declared only in Include/internal/pycore_pythread.h:167, as in v3.13.15.
    return [[Outcome(TRUE, [assign(s.v.status[s.t], T_HUNG)], "the thread hangs forever", stop=True)]]


def mutex_lock(s: Site) -> Steps:
    # PyMutex_Lock (Python/lock.c:53, :582 (v3.13.5)): one CAS; when contended the thread parks
    # detached (Python/parking_lot.c:206 _PySemaphore_Wait) and re-attaches with
    # PyEval_AcquireThread before retrying, a re-attach that exits or hangs during finalization
    # (hangs: Python/lock.c:591, Python/parking_lot.c:224 (v3.13.15); Python/lock.c:618,
    # Python/parking_lot.c:386, the detach moved into _PyParkingLot_Park (v3.14.7)).
    v, t = s.v, s.t
    held, cur = v.lock[s.args[0]], v.attached[t]
    park = [Outcome(held.eq(0), [assign(held, t + 1)], "acquired"),
            Outcome(held.ne(0) & cur.ne(0), [assign(v.to_attach[t], cur)] + v.detach(t),
                    "contended: detached, parked", goto=1),
            Outcome(held.ne(0) & cur.eq(0), [], "contended: parked", goto=2)]
    woken = [Outcome(held.eq(0), [], "woken", goto=3)]
    plain = [Outcome(held.eq(0), [assign(held, t + 1)], "acquired")]
    reattach = [o if o.stop else replace(o, goto=0)
                for o in v.attach_outcomes(t, v.to_attach[t], [assign(v.to_attach[t], 0)], "re-attached")]
    return [park, woken, plain, reattach]


def mutex_unlock(s: Site) -> Steps:
    # PyMutex_Unlock (Python/lock.c (v3.13.5)).
    return [[Outcome(TRUE, [assign(s.v.lock[s.args[0]], 0)], "released")]]

LEGACY_API = table(
    Api("Py_IsFinalizing", (), "int", is_finalizing, "pylifecycle.c Py_IsFinalizing; PEP 788 'Py_IsFinalizing is insufficient'"),
    Api("PyGILState_Ensure", (), "gilstate", gilstate_ensure, "Python/pystate.c PyGILState_Ensure"),
    Api("PyGILState_Release", ("gilstate",), None, gilstate_release, "Python/pystate.c PyGILState_Release",
        clearing=gilstate_release_clearing),
    Api("PyGILState_GetThisThreadState", (), "tstate", gilstate_get, "Python/pystate.c PyGILState_GetThisThreadState"),
    Api("PyThreadState_New", ("interp",), "tstate", tstate_new, "Python/pystate.c PyThreadState_New"),
    Api("PyThreadState_Swap", ("tstate",), "tstate", tstate_swap, "Python/pystate.c PyThreadState_Swap"),
    Api("PyThreadState_Delete", ("tstate",), None, tstate_delete, "Python/pystate.c PyThreadState_Delete"),
    Api("PyThreadState_Get", (), "tstate", tstate_get, "Python/pystate.c PyThreadState_Get"),
    Api("Py_AddPendingCall", (), "int", add_pending_call,
        "Python/ceval.c:641 (v3.11.2), Python/ceval_gil.c:863 (v3.12.0), :804 (v3.13.5); "
        "the function: spec `pending_calls`"),
    Api("Py_AtExit", (), "int", at_exit,
        "Python/pylifecycle.c:2913 (v3.11.2), :3477 (v3.13.5); the function: spec `c_atexit`"),
    Api("PyThreadState_Clear", ("tstate",), None, tstate_clear, "Python/pystate.c:1011 (v3.11.2), :1664 (v3.13.5)"),
    Api("PyInterpreterState_GetID", ("interp",), "int", interp_get_id,
        "Python/pystate.c:583 (v3.11.2), :1234 (v3.13.5)"),
    Api("PyEval_SaveThread", (), "tstate", save_thread, "Python/ceval_gil.c PyEval_SaveThread"),
    Api("PyEval_RestoreThread", ("tstate",), None, restore_thread,
        "Python/ceval_gil.c:736 (v3.12.0), :647 (v3.14.7); gh-87135"),
    Api("PyInterpreterState_Get", (), "interp", interp_get, "Python/pystate.c PyInterpreterState_Get"),
    Api("PyInterpreterState_Main", (), "interp", interp_main, "Python/pystate.c PyInterpreterState_Main"),
    Api("Py_IsInitialized", (), "int", is_initialized, "Python/pylifecycle.c Py_IsInitialized"),
    Api("PyGILState_Check", (), "int", gilstate_check, "Python/pystate.c PyGILState_Check"),
    Api("PyEval_AcquireThread", ("tstate",), None, acquire_thread, "Python/ceval.c PyEval_AcquireThread"),
    Api("PyEval_ReleaseThread", ("tstate",), None, release_thread, "Python/ceval.c PyEval_ReleaseThread"),
    Api("PyThreadState_DeleteCurrent", (), None, tstate_delete_current, "Python/pystate.c PyThreadState_DeleteCurrent"),
    Api("PyThreadState_GetInterpreter", ("tstate",), "interp", tstate_interpreter,
        "Python/pystate.c PyThreadState_GetInterpreter"),
)

LEGACY_APIS = {**CLIENT, **LEGACY_API, **lifecycle_apis()}
# Added in 3.12 (Py_NewInterpreterFromConfig, PEP 684), 3.13 (PyMutex, PyThreadState_GetUnchecked)
# and 3.14 (PyThread_hang_thread, gh-87135).
API_3_12 = {**LEGACY_APIS, **table(
    Api("Py_NewInterpreterFromConfig", ("int",), "tstate", new_interpreter_from_config,
        "Python/pylifecycle.c:2111 (v3.12.0), :2401 (v3.13.5), :2407 (v3.14.7); the argument is the config's "
        "gil: 1 shared, 2 own (PEP 684)",
        creates="interp"))}
API_3_13 = {**API_3_12, **table(
    Api("PyThreadState_GetUnchecked", (), "tstate", tstate_get_unchecked, "Python/pystate.c:2417 (v3.13.5)"),
    Api("PyMutex_Lock", ("lock",), None, mutex_lock, "Python/lock.c:582 (v3.13.5); Python/parking_lot.c:206"),
    Api("PyMutex_Unlock", ("lock",), None, mutex_unlock, "Python/lock.c (v3.13.5)"),
    Api("PyUnstable_AtExit", ("interp",), "int", unstable_at_exit,
        "Modules/atexitmodule.c:27, :103 (v3.13.5); Doc/c-api/init.rst PyUnstable_AtExit; the function: spec "
        "`unstable_atexit`"))}
API_3_14 = {**API_3_13, **table(
    Api("PyThread_hang_thread", (), None, hang_thread,
        "Python/thread_pthread.h:434, Include/internal/pycore_pythread.h:167 (v3.14.7); gh-87135"))}
X = 99   # any patch release

CPYTHON_3_11 = Design(
    "cpython_3_11", "PyGILState and raw thread states as in CPython 3.11: attach during finalization exits the "
    "thread; PyGILState remembers a thread's first thread state; RestoreThread over an attached one self-deadlocks.",
    LEGACY_APIS, "CPython v3.11.2 Python/pystate.c, Python/ceval_gil.h, Python/pylifecycle.c", RUNTIME_3_11,
    covers=((3, 11, 0), (3, 11, X)))

CPYTHON_3_12 = Design(
    "cpython_3_12", "As cpython_3_11, but every attach rebinds the thread's gilstate thread state "
    "(bind_gilstate_tstate).", API_3_12, "CPython v3.12.0 Python/pystate.c:1713 tstate_activate", RUNTIME_3_12,
    covers=((3, 12, 0), (3, 12, X)))

CPYTHON_3_13 = Design(
    "cpython_3_13", "As cpython_3_12, but attaching over an attached thread state is the fatal "
    "'non-NULL old thread state'.", API_3_13, "CPython v3.13.5 Python/pystate.c:2084", RUNTIME_3_13,
    covers=((3, 13, 0), (3, 13, 7)), aliases=("legacy_313",))

CPYTHON_3_13_8 = Design(
    "cpython_3_13_8", "As cpython_3_13, but attach during finalization hangs (gh-87135 backported in 3.13.8).",
    API_3_13, "CPython v3.13.15 Python/ceval_gil.c:314; Misc/NEWS gh-87135 under 3.13.8", RUNTIME_3_13_8,
    covers=((3, 13, 8), (3, 13, X)))

CPYTHON_3_14 = Design(
    "cpython_3_14", "PyGILState and raw thread states as in CPython 3.14: attach during finalization hangs; "
    "finalization marks other thread states shutting down instead of freeing them (gh-124878); "
    "PyGILState_Ensure after finalization still dereferences the NULL autoInterpreterState.",
    API_3_14, "CPython v3.14.7 Python/pystate.c:3141, :2897, Python/pylifecycle.c:2092 (gh-124878)", RUNTIME_3_14,
    covers=((3, 14, 0), (3, 14, X)), aliases=("legacy",))

VERSION_DESIGNS = (CPYTHON_3_11, CPYTHON_3_12, CPYTHON_3_13, CPYTHON_3_13_8, CPYTHON_3_14)

LEGACY = CPYTHON_3_14   # the 3.14 API and lifecycle the PEP 788 revisions are written on
