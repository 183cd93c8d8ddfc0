"""Writes the C program that replays a plan on a real CPython: runtime.c (the step counter,
the hooks, the driver) followed by one function per spec thread, whose cases are that
thread's C calls in trace order, each behind the step that releases it."""
from __future__ import annotations

from pathlib import Path

from .plan import CCall, NotReplayable, Plan

RUNTIME = Path(__file__).with_name("runtime.c")


def _call(op: CCall, thread: str) -> list[str]:
    """The C statements of one call; each ends by reporting an event (or returns 0 from a hook).
    Long because it is one branch per C function, each a few lines of the C it emits, kept
    side by side so the C a call becomes reads as one table."""
    a = op.args
    r = op.result
    store = f"{r} = (intptr_t)" if r else "(void)"
    f = op.function
    if f == "PyGILState_Ensure":
        return ["PyGILState_STATE st = PyGILState_Ensure();", *([f"{r} = st;"] if r else []),
                "returned(t, st == PyGILState_LOCKED ? \"PyGILState_LOCKED\" : \"PyGILState_UNLOCKED\");"]
    if f == "PyGILState_Release:clear":   # the hook is the __del__ of an object the thread state owns
        return ["own_clear_hook();", f"PyGILState_Release((PyGILState_STATE){_one(a, op)});", "returned(t, NULL);"]
    if f == "PyGILState_Release":
        return [f"PyGILState_Release((PyGILState_STATE){_one(a, op)});", "returned(t, NULL);"]
    if f == "Py_IsFinalizing":
        return ["char r[16];", "snprintf(r, sizeof r, \"%d\", IS_FINALIZING());", "returned(t, r);"]
    if f == "PyGILState_Check":
        return ["char r[16];", "int c = PyGILState_Check();", *([f"{r} = c;"] if r else []),
                "snprintf(r, sizeof r, \"%d\", c);", "returned(t, r);"]
    if f == "Py_FinalizeEx":
        return ["t->phase = 1;", "int r = Py_FinalizeEx();   /* the hooks run this thread's next operations */",
                "t->phase = 0;", "returned(t, r == 0 ? NULL : \"-1\");"]
    if f == "Py_EndInterpreter":
        return ["t->phase = 1;", f"Py_EndInterpreter((PyThreadState *){_one(a, op)});", "t->phase = 0;",
                "returned(t, NULL);"]
    if f == "resume":
        return ["return 0;   /* leave the hook: the phased call goes on */"]
    if f == "run_python":
        return ["PyRun_SimpleString(\"pass\");", "returned(t, NULL);"]
    if f == "run_python:yield":    # the eval breaker hands the GIL over: as a detach, then a re-attach
        return ["t->saved = PyEval_SaveThread();", "event(t, \"yielded\");"]
    if f == "run_python:pending":  # the eval breaker runs the queued pending call (pending_hook) first
        return ["PyRun_SimpleString(\"pass\");", "returned(t, NULL);"]
    if f == "PyUnstable_AtExit":   # 3.13+: its callback is unstable_hook (runtime.c)
        interp = "PyInterpreterState_Main()" if _one(a, op) == "main" else f"(PyInterpreterState *){_one(a, op)}"
        return ["#if PY_VERSION_HEX >= 0x030D0000", f"int rc = PyUnstable_AtExit({interp}, unstable_hook, NULL);",
                "#else", "int rc = -1;", "#endif", *([f"{r} = rc;"] if r else []), "char r[16];",
                "snprintf(r, sizeof r, \"%d\", rc);", "returned(t, r);"]
    if f in ("Py_AddPendingCall", "Py_AtExit"):
        hook = "pending_hook, NULL" if f == "Py_AddPendingCall" else "exit_hook"
        return [f"int rc = {f}({hook});", *([f"{r} = rc;"] if r else []), "char r[16];",
                "snprintf(r, sizeof r, \"%d\", rc);", "returned(t, r);"]
    if f == "run_python:resume":
        return ["PyEval_RestoreThread(t->saved);", "PyRun_SimpleString(\"pass\");", "returned(t, NULL);"]
    if f == "Py_BEGIN_ALLOW_THREADS":
        return ["t->saved = PyEval_SaveThread();", "returned(t, NULL);"]
    if f == "Py_END_ALLOW_THREADS":   # saved is cleared, as the model's: a target's return re-attaches only if set
        return ["PyEval_RestoreThread(t->saved);", "t->saved = NULL;", "returned(t, NULL);"]
    if f in ("PyMutex_Lock", "PyMutex_Unlock"):    # 3.13+: parks detached when contended
        return [f"{f}(&pymutex_{_one(a, op)});", "returned(t, NULL);"]
    if f in ("lock", "unlock"):
        return [f"pthread_mutex_{f}(&lock_{_one(a, op)});", "returned(t, NULL);"]
    if f == "work":
        return ["returned(t, NULL);"]
    if f == "python_thread_exit":   # the threading.Thread's target returns (runtime.c threading_target)
        return ["if (t->saved) { PyEval_RestoreThread(t->saved); t->saved = NULL; }", "t->ended = 1;",
                "returned(t, NULL);"]
    if f == "set":
        return ["pthread_mutex_lock(&mu);", f"event_{_one(a, op)} = 1;", "pthread_cond_broadcast(&cv);",
                "pthread_mutex_unlock(&mu);", "returned(t, NULL);"]
    if f == "wait":
        return ["pthread_mutex_lock(&mu);", f"while (!event_{_one(a, op)}) pthread_cond_wait(&cv, &mu);",
                "pthread_mutex_unlock(&mu);", "returned(t, NULL);"]
    if f == "Py_NewInterpreter":
        return ["PyThreadState *ts = Py_NewInterpreter();", *( [f"{r} = (intptr_t)ts;"] if r else []),
                "if (ts) install_hooks(0);", "returned(t, pointer(ts));"]
    if f == "Py_NewInterpreterFromConfig":  # 3.12+: the config's gil is the spec's argument
        return ["PyThreadState *ts = NULL;", "#if PY_VERSION_HEX >= 0x030C0000",
                f"PyInterpreterConfig cfg = {_one(a, op)} == 2 ? (PyInterpreterConfig)_PyInterpreterConfig_INIT",
                "                                : (PyInterpreterConfig)_PyInterpreterConfig_LEGACY_INIT;",
                f"cfg.gil = {_one(a, op)};",
                "if (PyStatus_Exception(Py_NewInterpreterFromConfig(&ts, &cfg))) ts = NULL;", "#endif",
                *([f"{r} = (intptr_t)ts;"] if r else []), "if (ts) install_hooks(0);", "returned(t, pointer(ts));"]
    if f == "PyInterpreterState_Get":
        return ["PyInterpreterState *interp = PyInterpreterState_Get();", f"{store}interp;",
                "returned(t, pointer(interp));"]
    if f in ("PyGILState_GetThisThreadState", "PyThreadState_Get", "PyEval_SaveThread", "PyInterpreterState_Main"):
        kind = "PyInterpreterState" if f == "PyInterpreterState_Main" else "PyThreadState"
        return [f"{kind} *p = {f}();", f"{store}p;", "returned(t, pointer(p));"]
    if f == "PyThreadState_Swap":
        return [f"PyThreadState *p = PyThreadState_Swap((PyThreadState *){_one(a, op)});", f"{store}p;",
                "returned(t, pointer(p));"]
    if f == "PyInterpreterState_GetID":
        return [f"int64_t id = PyInterpreterState_GetID((PyInterpreterState *){_one(a, op)});",
                *([f"{r} = (intptr_t)id;"] if r else []), "if (id < 0) PyErr_Clear();",
                "char r[24];", "snprintf(r, sizeof r, \"%lld\", (long long)id);", "returned(t, r);"]
    if f in ("PyEval_RestoreThread", "PyThreadState_Delete", "PyThreadState_Clear"):
        return [f"{f}((PyThreadState *){_one(a, op)});", "returned(t, NULL);"]
    if f == "PyThreadState_New":
        return [f"PyThreadState *ts = PyThreadState_New((PyInterpreterState *){_one(a, op)});", f"{store}ts;",
                "returned(t, pointer(ts));"]
    raise NotReplayable(f"step {op.step} ({thread}: {op.label}): no C translation of `{f}` yet")


def _one(args: tuple[str, ...], op: CCall) -> str:
    if len(args) != 1:
        raise NotReplayable(f"step {op.step} ({op.label}): expected one argument")
    return args[0]


def _wait(e, releases: set[int]) -> str:
    """How the driver waits at a step (runtime.c, `drive`)."""
    if e.outcome in ("blocked", "hung"):
        return "NEVER"
    if e.outcome != "inside":
        return "EVENT"
    return "SETTLE" if e.step in releases else "GO_ON"


def to_c(plan: Plan, version: str, trace_name: str) -> str:
    """The whole program, readable: a user debugs with it (`--keep DIR`). Long because it
    writes the C file top to bottom, in the order a reader of the generated file sees it."""
    out = [f"/* Generated by interpcheck: replays {trace_name}",
           f" * ({plan.spec} [{plan.design}], {plan.prop}) on CPython {version}.",
           " * Run: ./replay SETTLE_MS   (prints one `obs STEP THREAD ...` line per step) */",
           RUNTIME.read_text(), "/* ---- the spec's variables, locks and events ---- */"]
    out += [f"static intptr_t {v.replace('.', '_')};   /* {v} */" for v in plan.variables] or ["/* none */"]
    out += [f"static pthread_mutex_t lock_{n} = PTHREAD_MUTEX_INITIALIZER;" for n in plan.locks]
    if plan.locks:
        out += ["#if PY_VERSION_HEX >= 0x030D0000   /* PyMutex is public API from 3.13 */",
                *(f"static PyMutex pymutex_{n};" for n in plan.locks), "#endif"]
    out += [f"static int event_{n};" for n in plan.events]
    for t in plan.threads:
        out += ["", f"/* thread {t.name}: its calls in trace order, each released by its step */",
                f"static int ops_{t.name}(struct thread *t, int i)", "{", "    switch (i) {"]
        for i, op in enumerate(t.ops):
            out += [f"    case {i}: {{  /* step {op.step}: {op.label}{' (go on)' if op.function == 'resume' else ''} */",
                    f"        wait_turn({op.step});"]
            out += [f"        {line}" for line in _call(op, t.name)]
            if op.function != "resume":
                out.append("        return 1;")
            out.append("    }")
        out += ["    }", "    return 1;", "}"]
    index = {t.name: k for k, t in enumerate(plan.threads)}
    releases = {op.step for t in plan.threads for op in t.ops}
    out += ["", "static struct thread threads[] = {"]
    out += [f"    {{\"{t.name}\", {len(t.ops)}, 0, ops_{t.name}, {int(t.python)}}}," for t in plan.threads]
    out += ["};", "", "/* per step: its thread, whether it releases the thread, how the driver waits (see drive) */",
            "static const struct step steps[] = {"]
    out += [f"    {{{index[e.thread]}, {int(e.step in releases)}, {_wait(e, releases)}}},  "
            f"/* {e.step}. {e.label}: {e.outcome} */" for e in sorted(plan.steps, key=lambda e: e.step)]
    main = next((k for k, t in enumerate(plan.threads) if t.main), -1)
    attached = main >= 0 and plan.threads[main].attached
    out += ["};", "", "static void *driver(void *arg)", "{",
            f"    drive(threads, steps, {len(plan.steps)});", "    return NULL;", "}", "",
            "int main(int argc, char **argv)", "{",
            "    if (argc > 1)", "        settle_ms = atol(argv[1]);",
            "    Py_InitializeEx(0);", "    install_hooks(1);", "    all_threads = threads;"]
    for k, t in enumerate(plan.threads):   # threading.Thread(target=threading_target) from the main thread
        if t.threading:
            out.append(f"    start_threading_thread({k}, {int(t.threading == 'daemon')});   /* {t.name}: a "
                       f"{'daemon' if t.threading == 'daemon' else 'non-daemon'} threading.Thread */")
    out += ["    PyThreadState *first = PyEval_SaveThread();   /* the GIL is free while Python threads start */",
            "    pthread_t pt, drv;"]
    for k, t in enumerate(plan.threads):
        if k != main and not t.threading:
            kind = "a Python thread of main, detached" if t.python else "a native thread"
            out.append(f"    pthread_create(&pt, NULL, thread_main, &threads[{k}]);   /* {t.name}: {kind} */")
    if any(t.python or t.threading for t in plan.threads):
        out.append(f"    wait_python_threads({sum(bool(t.python or t.threading) for t in plan.threads)});")
    if main < 0:
        out.append("    (void)first;   /* no spec thread holds main's thread state */")
    elif attached:
        out.append("    PyEval_RestoreThread(first);")
    else:
        out.append(f"    threads[{main}].saved = first;   /* {plan.threads[main].name} starts detached */")
    out += ["    pthread_create(&drv, NULL, driver, NULL);"]
    if main >= 0:
        out.append(f"    run_thread(&threads[{main}]);   /* {plan.threads[main].name}: on the process's main thread */")
    out += ["    pthread_join(drv, NULL);   /* the driver ends the process */", "    return 0;", "}", ""]
    return "\n".join(out)


__all__ = ["to_c"]
