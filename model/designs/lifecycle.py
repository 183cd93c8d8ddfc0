"""Interpreter lifecycle: Py_FinalizeEx, Py_NewInterpreter, Py_EndInterpreter.

Finalization is split into phases so that a spec's atexit handlers and object finalizers
run on the finalizing thread between them (the program compiler splices them in):
  begin    – PREFINAL: wait_for_thread_shutdown, then atexit handlers run
  close    – legacy: nothing; PEP 788: CAS guards 0 → NOT_ALLOWED, else park until 0
  flag     – `_finalizing` set: Py_IsFinalizing() true; object finalizers run
  teardown – zapthreads + free the interpreter (Python/pylifecycle.c, Python/pystate.c)
"""
from __future__ import annotations

from dataclasses import replace

from ..ir import TRUE, Expr, all_of, any_of, assign, ite, lift
from ..vocabulary import (LEAVE, C_FATAL, C_NO_TSTATE, DELETED, FINALIZING, GUARDS_CLOSED, O_FREED, O_LIVE, O_SHUTDOWN,
                          PREFINAL, RUNNING, Outcome, Vocabulary)
from .api import Api, Site, Steps


def _require_current(v: Vocabulary, t: int, interp: Expr, what: str) -> list[Outcome]:
    """The caller must have a thread state of `interp` attached (Py_FinalizeEx/EndInterpreter)."""
    cur = v.attached[t]
    return [Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), f"{what}: no thread state", stop=True),
            Outcome(cur.ne(0) & v.interp_of(cur).ne(interp), v.crash_with(C_FATAL),
                    f"{what}: thread state of another interpreter", stop=True)]


def begin(v: Vocabulary, t: int, interp: Expr, what: str) -> Steps:
    """Enter PREFINAL and become the finalizer (pylifecycle.c _Py_Finalize / Py_EndInterpreter)."""
    start = [assign(v.phase_of(interp), PREFINAL), assign(v.finalizer[interp - 1], t + 1)]
    if what == "Py_FinalizeEx":
        return [_finalize_caller(v, t, start)]
    ok = v.attached[t].ne(0) & v.interp_of(v.attached[t]).eq(interp)
    return [_require_current(v, t, interp, what) + [
        Outcome(ok, start, "pre-finalization: thread join, atexit handlers")]]


def _finalize_caller(v: Vocabulary, t: int, start: list) -> list[Outcome]:
    """Py_FinalizeEx never checks which interpreter the attached thread state belongs to
    (`// XXX assert(_Py_IsMainInterpreter(tstate->interp))`, Python/pylifecycle.c:1766
    (v3.12.0)): with a subinterpreter's it goes on and returns 0 (3.11-3.13; up to 3.12 it
    finalizes that interpreter in main's stead, which the model does not follow). With none,
    up to 3.12 it dereferences the NULL thread state (:1761 (v3.11.2), :1770 (v3.12.0)); from
    3.13 resolve_final_tstate swaps main's thread state in on the main thread (:1988 (v3.13.5))."""
    cur = v.attached[t]
    work = "pre-finalization: thread join, atexit handlers"
    outs = [Outcome(cur.ne(0), start, work)]
    if v.runtime.finalize_swaps_main and t == v.main_thread:
        main_ts = t * v.layout.tstates_per_thread + 1
        outs.append(Outcome(cur.eq(0) & v.ts_alive(main_ts) & v.gil_of(MAIN).eq(0),
                            [assign(cur, main_ts), assign(v.gil_of(MAIN), t + 1)] + start,
                            "pre-finalization, main's thread state swapped in (none was attached): "
                            "thread join, atexit handlers"))
    else:
        outs.insert(0, Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "Py_FinalizeEx: no thread state", stop=True))
    return outs


def join_threads(v: Vocabulary, t: int) -> Steps:
    """wait_for_thread_shutdown (Python/pylifecycle.c:1764 (v3.11.2), :2035 (v3.13.5)), before
    pending calls and atexit: threading._shutdown waits, GIL released, for each non-daemon
    thread's thread state to be deleted; daemon threads are not waited for."""
    done = all_of(*[v.thread_done[k].eq(1) for k in v.layout.joined if k != t])
    me = v.attached[t]
    wait = [Outcome(done, [], "threading._shutdown: every non-daemon thread has ended"),
            Outcome(~done, [assign(v.saved[t], me)] + v.detach(t),
                    "threading._shutdown: waits for the non-daemon threads, GIL released", goto=1)]
    wake = v.attach_outcomes(t, v.saved[t], [assign(v.saved[t], 0)], "non-daemon threads joined: re-attached")
    return [wait, [replace(o, guard=all_of(done, o.guard)) for o in wake]]


def close_guards(v: Vocabulary, t: int, interp: Expr, loop: bool = False) -> Steps:
    """PR #149116 make_pre_finalization_calls: CAS the guard word 0 → NOT_ALLOWED; else detach
    and park on the word until it reaches 0, re-attach, and try again. `loop`: before trying
    again, go back through the pre-finalization calls (goto LEAVE: the program compiler puts
    the thread join and the pending calls there; atexit handlers already ran and were cleared)."""
    count = v.guards[interp - 1]
    me = v.attached[t]
    cas = Outcome(count.eq(0), [assign(v.phase_of(interp), GUARDS_CLOSED)],
                  "guards closed: CAS 0 → NOT_ALLOWED, no new guard can be taken")
    park = Outcome(count > 0, [assign(v.saved[t], me)] + v.detach(t),
                   "guards held: finalizer detaches and parks until they are closed", goto=1)
    wake = v.attach_outcomes(t, v.saved[t], [assign(v.saved[t], 0)], "guard count reached 0: finalizer wakes")
    again = LEAVE if loop else 0
    wake = [replace(o, guard=all_of(count.eq(0), o.guard), goto=again if not o.stop else None) for o in wake]
    return [[cas, park], wake]


def flag(v: Vocabulary, t: int, interp: Expr, what: str) -> Steps:
    """_PyInterpreterState_SetFinalizing (and _PyRuntimeState_SetFinalizing for main), then the
    other thread states: <= 3.13 frees them (_PyThreadState_DeleteExcept,
    Python/pylifecycle.c:1808 (v3.11.2), :1821 (v3.12.0); _PyThreadState_DeleteList, :2090
    (v3.13.5)); 3.14+ marks them shutting down and only drops its reference (gh-124878;
    Python/pylifecycle.c:2092-2103, Python/pystate.c:2040-2043 (v3.14.7))."""
    me = v.attached[t]
    others = []
    for k in range(v.layout.n_tstates):
        other = all_of(v.ts_interp[k].eq(interp), v.ts_status[k].eq(O_LIVE), me.ne(k + 1))
        fate = O_SHUTDOWN if v.runtime.refcounted_tstates else O_FREED
        others.append(assign(v.ts_status[k], ite(other, fate, v.ts_status[k])))
    stop = "exits" if v.runtime.exit_on_finalize else "hangs"
    done = "other thread states marked shutting down" if v.runtime.refcounted_tstates \
        else "other thread states freed"
    steps = [[Outcome(TRUE, [assign(v.phase_of(interp), FINALIZING)] + others,
                      f"finalizing flag set: any other thread now {stop} on attach; {done}")]]
    if what == "Py_EndInterpreter" and v.runtime.end_interpreter_last_thread_fatal:
        steps[0] = [last_thread_check(v, t, interp)] + [replace(o, guard=~_others_alive(v, t, interp)) for o in steps[0]]
    return steps


def _others_alive(v: Vocabulary, t: int, interp: Expr) -> Expr:
    me = v.attached[t]
    return any_of(*[all_of(v.ts_interp[k].eq(interp), v.ts_status[k].eq(O_LIVE), me.ne(k + 1))
                    for k in range(v.layout.n_tstates)])


def last_thread_check(v: Vocabulary, t: int, interp: Expr) -> Outcome:
    """Py_EndInterpreter after atexit, before the flag: Py_FatalError("not the last thread")
    when the interpreter has another thread state (Python/pylifecycle.c:2088 (v3.11.2),
    :2163 (v3.12.0), :2455 (v3.13.5)). Not so from 3.14.1 and on main (gh-128639): v3.14.7 marks
    the others shutting down as Py_FinalizeEx does (Python/pylifecycle.c:2464-2470), which the
    flag step does when the runtime has no such check (cpython_3_14 models 3.14.1+)."""
    return Outcome(_others_alive(v, t, interp), v.crash_with(C_FATAL),
                   "another thread state of the interpreter exists: Py_FatalError(\"not the last thread\")", stop=True)


def teardown(v: Vocabulary, t: int, interp: Expr, s: Site, what: str) -> Steps:
    """zapthreads + PyInterpreterState_Delete: every thread state of the interpreter is freed,
    whichever OS thread still points at it (pystate.c); the finalizer ends detached."""
    me = v.attached[t]
    updates = []
    for k in range(v.layout.n_tstates):   # 3.14+: those marked shutting down stay with their threads
        mine = all_of(v.ts_interp[k].eq(interp), v.ts_status[k].eq(O_LIVE))
        updates.append(assign(v.ts_status[k], ite(mine, O_FREED, v.ts_status[k])))
    updates += [assign(v.phase_of(interp), DELETED), assign(v.attached[t], 0),
                assign(v.gil_of(interp), 0), assign(v.finalizer[interp - 1], 0)]
    if what == "Py_FinalizeEx":
        # The runtime's PyGILState TSS key is deleted: every thread's binding is gone, and
        # PyGILState_GetThisThreadState() answers NULL everywhere (_PyGILState_Fini,
        # Python/pystate.c:1559-1563 (v3.11.2); gilstate_tss_fini in _PyRuntimeState_Fini,
        # Python/pystate.c:505 (v3.12.0), :487, from _Py_Finalize's _PyRuntime_Finalize (v3.13.5),
        # :491 (v3.14.7)); run on 3.11-3.13. On main the binding is a C thread-local (PR #132510)
        # and only the finalizer's is cleared: final keeps 3.14's behaviour here.
        updates += [assign(v.gilstate[k], 0) for k in range(len(v.layout.threads))]
    else:
        updates += [assign(v.gilstate[t], ite(v.gilstate[t].eq(me), 0, v.gilstate[t]))]
    return [[Outcome(TRUE, updates + s.ret(0), "thread states freed, interpreter freed")]]


def finalize_phases(v: Vocabulary, t: int, interp: Expr, s: Site, waits_for_guards: bool,
                    what: str, loop: bool = False) -> dict[str, Steps]:
    phases = {"begin": begin(v, t, interp, what)}
    if waits_for_guards:
        phases["close"] = close_guards(v, t, interp, loop)
    phases["flag"] = flag(v, t, interp, what)
    phases["teardown"] = teardown(v, t, interp, s, what)
    return phases


MAIN = lift(1)


def new_interpreter(s: Site) -> Steps:
    """Py_NewInterpreter (Python/pylifecycle.c:2121 (v3.12.0), :2419 (v3.14.7)): a new interpreter
    and a thread state in it, swapped in for the caller's (not freed). Its legacy config shares
    the main GIL (PyInterpreterConfig_SHARED_GIL, Include/cpython/pylifecycle.h:102 (v3.12.0);
    one runtime GIL on 3.11): a caller holding it keeps it, any other takes it."""
    v, t = s.v, s.t
    interp = lift(s.interp_slot)
    ts = v.new_tstate(t)
    cur = v.attached[t]
    main_gil = v.gil_of(interp)
    made = [assign(v.phase_of(interp), RUNNING)] + v.create_tstate(t, ts, interp) + [assign(v.attached[t], ts)]
    made += s.ret(ts)
    if v.runtime.rebind_gilstate:   # 3.12+: attaching binds it (tstate_activate, Python/pystate.c:1714 (v3.12.0))
        made.append(assign(v.gilstate[t], ts))
    mine = v.gil_index(v.interp_of(cur)).eq(v.gil_index(interp))
    if not v.runtime.per_interpreter_gil:
        # 3.11 swaps the new thread state in without taking the GIL (Python/pylifecycle.c:1987
        # (v3.11.2)): with the GIL free, initialisation's drop_gil dies (ceval_gil.h:151); with
        # another thread holding it, the call returns and runs beside that thread; run.
        return [[Outcome(cur.ne(0), made, "new interpreter (main's GIL, already held), its thread state attached"),
                 Outcome(cur.eq(0) & main_gil.eq(0), v.crash_with(C_FATAL),
                         "no thread state, GIL free: Py_FatalError(\"drop_gil: GIL is not locked\")", stop=True),
                 Outcome(cur.eq(0) & main_gil.ne(0), made,
                         "no thread state: its thread state attached without the GIL another thread holds")]]
    return [[
        Outcome(cur.ne(0) & mine, made, "new interpreter (main's GIL, already held), its thread state attached"),
        Outcome(cur.eq(0) & main_gil.eq(0), made + [assign(main_gil, t + 1)],
                "new interpreter, main's GIL taken, its thread state attached"),
        Outcome(cur.ne(0) & ~mine & main_gil.eq(0), made + [assign(v.gil_of(v.interp_of(cur)), 0),
                                                            assign(main_gil, t + 1)],
                "new interpreter: own GIL released, main's taken, its thread state attached"),
    ]]


def new_interpreter_from_config(s: Site) -> Steps:
    """Py_NewInterpreterFromConfig (3.12+; Python/pylifecycle.c:2049, :2071 (v3.12.0), :2401
    (v3.13.5)): the config's
    `gil` decides. SHARED (or DEFAULT) is Py_NewInterpreter; OWN_GIL detaches the caller's
    thread state, releasing its GIL, and attaches the new thread state with the new
    interpreter's own GIL (new_interpreter, init_interp_create_gil)."""
    v, t = s.v, s.t
    interp = lift(s.interp_slot)
    if v.layout.gil_of and v.layout.gil_of[s.interp_slot - 1] == 0:
        return new_interpreter(s)
    ts = v.new_tstate(t)
    release = [u for u in v.detach(t) if u.target.var is not v.attached]
    made = [assign(v.phase_of(interp), RUNNING)] + v.create_tstate(t, ts, interp) + release
    made += [assign(v.attached[t], ts), assign(v.gil_of(interp), t + 1)] + s.ret(ts)
    if v.runtime.rebind_gilstate:
        made.append(assign(v.gilstate[t], ts))
    return [[Outcome(TRUE, made, "new interpreter with its own GIL: caller detached, its thread state attached")]]


LIFECYCLE_CITES = {
    "Py_FinalizeEx": "Python/pylifecycle.c _Py_Finalize; Doc/c-api/interp-lifecycle.rst 'Cautions'",
    "Py_EndInterpreter": "Python/pylifecycle.c Py_EndInterpreter",
}


def lifecycle_apis() -> dict[str, Api]:
    """The finalizing calls; their `build` gives the phases via `phases` (see programs/compile)."""
    def fin(s: Site) -> Steps:
        raise AssertionError("Py_FinalizeEx is expanded by phases")
    return {
        "Py_FinalizeEx": Api("Py_FinalizeEx", (), "int", fin, LIFECYCLE_CITES["Py_FinalizeEx"]),
        "Py_EndInterpreter": Api("Py_EndInterpreter", ("tstate",), None, fin, LIFECYCLE_CITES["Py_EndInterpreter"]),
        "Py_NewInterpreter": Api("Py_NewInterpreter", (), "tstate", new_interpreter,
                                 "Python/pylifecycle.c Py_NewInterpreter", creates="interp"),
    }
