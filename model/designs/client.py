"""Client-side primitives every design shares: C mutexes and events, the ALLOW_THREADS
macros, and running Python code (which needs an attached thread state)."""
from __future__ import annotations

from dataclasses import replace

from ..ir import TRUE, assign
from ..vocabulary import C_FATAL, C_NO_TSTATE, C_UAF, C_WRONG, DELETED, O_LIVE, Outcome
from .api import Api, Site, Steps, table


def _lock(s: Site) -> Steps:
    # A plain C mutex (PyThread_acquire_lock / pthread_mutex_lock): blocks while held,
    # without releasing the GIL, which is exactly how GIL-vs-mutex deadlocks arise.
    held = s.v.lock[s.args[0]]
    return [[Outcome(held.eq(0), [assign(held, s.t + 1)], "acquired")]]


def _lock_buffered_io(s: Site) -> Steps:
    # Modules/_io/bufferedio.c:290 _enter_buffered_busy, :317 (v3.13.5) (gh-129536): a buffered stream's lock
    # (sys.stderr's); once the interpreter is finalizing the acquire is timed (1 s) and a timeout
    # is Py_FatalError("could not acquire lock ... at interpreter shutdown, possibly due to daemon
    # threads"). The timeout may fire whenever another thread holds the lock.
    v = s.v
    held = v.lock[s.args[0]]
    fin = v.runtime_finalizing()
    return [[Outcome(held.eq(0), [assign(held, s.t + 1)], "acquired"),
             Outcome(fin & held.ne(0) & held.ne(s.t + 1), v.crash_with(C_FATAL),
                     "interpreter finalizing: timed acquire failed, Py_FatalError (could not acquire lock)",
                     stop=True)]]


def _unlock(s: Site) -> Steps:
    return [[Outcome(TRUE, [assign(s.v.lock[s.args[0]], 0)], "released")]]


def _wait(s: Site) -> Steps:
    return [[Outcome(s.v.event[s.args[0]].eq(1), [], "event is set")]]


def _set(s: Site) -> Steps:
    return [[Outcome(TRUE, [assign(s.v.event[s.args[0]], 1)], "event set")]]


def _begin_allow_threads(s: Site) -> Steps:
    # Include/ceval.h: Py_BEGIN_ALLOW_THREADS is `_save = PyEval_SaveThread()`.
    v, t = s.v, s.t
    cur = v.attached[t]
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "PyEval_SaveThread: no thread state", stop=True),
             Outcome(cur.ne(0), [assign(v.saved[t], cur)] + v.detach(t), "detached, GIL released")]]


def _end_allow_threads(s: Site) -> Steps:
    # Include/ceval.h: Py_END_ALLOW_THREADS is `PyEval_RestoreThread(_save)`, which exits the
    # thread during finalization up to 3.13.7 and hangs from 3.13.8 (gh-87135): gh-129536.
    v, t = s.v, s.t
    return [v.restore_outcomes(t, v.saved[t], [assign(v.saved[t], 0)], "re-attached")]


def _run_python(s: Site) -> Steps:
    # Any Python code needs an attached thread state of a live interpreter. While it runs,
    # the eval breaker may hand the GIL to a waiting thread (Python/ceval_gil.c drop_gil /
    # take_gil); on taking it back a non-finalizer hangs once the interpreter is finalizing
    # (take_gil → _PyThreadState_MustExit), the mechanism of gh-129536.
    v, t = s.v, s.t
    cur = v.attached[t]
    interp = v.interp_of(cur)
    live = cur.ne(0) & v.ts_status[cur - 1].eq(O_LIVE) & v.phase_of(interp).ne(DELETED)
    step0 = [Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "no thread state attached", stop=True),
             Outcome(cur.ne(0) & ~live, v.crash_with(C_UAF), "thread state or interpreter freed", stop=True),
             Outcome(live, [], "ran"),
             Outcome(live, [assign(v.gil_of(interp), 0)], "eval breaker: GIL handed to another thread", goto=1)]
    return [step0, v.retake_gil_outcomes(t, "took the GIL back")]


def _use_object(s: Site) -> Steps:
    # Touch an object owned by interpreter X (list.append, PyMem_Realloc): the attached
    # thread state must belong to X (PEP 788 "PyGILState_Ensure can use the wrong interpreter").
    v, t = s.v, s.t
    cur = v.attached[t]
    want = s.args[0]
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "no thread state attached", stop=True),
             Outcome(cur.ne(0) & v.interp_of(cur).ne(want), v.crash_with(C_WRONG),
                     "attached thread state belongs to another interpreter", stop=True),
             Outcome(cur.ne(0) & v.interp_of(cur).eq(want) & v.phase_of(want).eq(DELETED),
                     v.crash_with(C_UAF), "interpreter freed", stop=True),
             Outcome(cur.ne(0) & v.interp_of(cur).eq(want) & v.phase_of(want).ne(DELETED), [], "used")]]


def _python_thread_exit(s: Site) -> Steps:
    # A threading.Thread's target returns (a C function, attached again if it ended detached:
    # its own Py_END_ALLOW_THREADS), then thread_run deletes its thread state and releases the
    # GIL (Modules/_threadmodule.c:360-361 (v3.13.5)); for a non-daemon thread that is what
    # threading._shutdown's join waits for.
    v, t = s.v, s.t
    cur = v.attached[t]
    done = [assign(v.thread_done[t], 1)] if t in v.layout.joined else []
    ended = v.delete_tstate(t, v.saved[t]) + [assign(v.saved[t], 0), assign(v.checked[t], 0)] + done
    # re-attach and delete in one step: the GIL is taken and given back, so it stays free
    reattach = [replace(o, guard=cur.eq(0) & v.saved[t].ne(0) & o.guard, updates=o.updates if o.stop else ended)
                for o in v.attach_outcomes(t, v.saved[t], [], "target returned (re-attached): thread state deleted")]
    return [[Outcome(cur.eq(0) & v.saved[t].eq(0), v.crash_with(C_NO_TSTATE),
                     "target returns to Python with no thread state", stop=True),
             Outcome(cur.ne(0), v.delete_tstate(t, cur) + v.detach(t) + done,
                     "target returned: thread state deleted, GIL released")] + reattach]


def _choose(s: Site) -> Steps:
    # A condition the program does not model (a C frontend's `if (n > 0)`): both ways are
    # possible, each a step of its own thread only.
    return [[Outcome(TRUE, s.ret(1), "chose 1"), Outcome(TRUE, s.ret(0), "chose 0")]]


def _pass(s: Site) -> Steps:
    return [[Outcome(TRUE, [], "")]]


CLIENT = table(
    Api("lock", ("lock",), None, _lock, "C mutex acquire (blocking, GIL not released)"),
    Api("unlock", ("lock",), None, _unlock, "C mutex release"),
    Api("lock_buffered_io", ("lock",), None, _lock_buffered_io,
        "Modules/_io/bufferedio.c _enter_buffered_busy: timed during finalization (gh-129536)"),
    Api("wait", ("event",), None, _wait, "wait for an event (PyEvent_Wait / condition variable)"),
    Api("set", ("event",), None, _set, "set an event"),
    Api("Py_BEGIN_ALLOW_THREADS", (), None, _begin_allow_threads, "Include/ceval.h"),
    Api("Py_END_ALLOW_THREADS", (), None, _end_allow_threads, "Include/ceval.h; gh-87135"),
    Api("run_python", (), None, _run_python, "any Python code: needs an attached thread state"),
    Api("use_object", ("interp",), None, _use_object, "PEP 788 'PyGILState_Ensure can use the wrong interpreter'"),
    Api("work", (), None, _pass, "C work that touches no Python state"),
    Api("python_thread_exit", (), None, _python_thread_exit,
        "Modules/_threadmodule.c thread_run: the target returns, the thread state is deleted"),
    Api("choose", (), "int", _choose, "a condition not modelled: 1 or 0, either may come (nondeterministic)"),
)
