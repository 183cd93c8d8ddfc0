"""A replayed trace as a plan for the real runtime: what each thread's C code does at which
step, and what the model predicts each step shows.

One model step is not always one C call: `PyGILState_Ensure` is two steps (create, attach),
`Py_FinalizeEx` three (pre-finalization, flag, teardown). A step that starts a call releases
its thread; a later step of the same call either has a boundary the harness can stop at (a
hook CPython runs: atexit, the flush of sys.stdout after the finalizing flag) and releases the
thread again, or has none, and then the call runs on freely and only its outcome is checked
at the step where the model completes it. A step that needs a boundary the runtime does not
offer makes the trace not replayable (NotReplayable), never a guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from interpcheck.model.ir import Op, Read, System, walk
from ..explicit.semantics import compile_system

from ..render.steps import steps_of
from ..result import Trace

# The C calls the harness can make, by the model's function name (Action.name).
CALLS = {"PyGILState_Ensure", "PyGILState_Release", "PyGILState_GetThisThreadState", "Py_IsFinalizing", "PyGILState_Check",
         "Py_FinalizeEx", "run_python", "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS", "PyEval_SaveThread",
         "PyEval_RestoreThread", "lock", "unlock", "work", "set", "wait", "Py_NewInterpreter",
         "PyInterpreterState_Get", "PyInterpreterState_Main", "Py_EndInterpreter", "PyThreadState_New",
         "PyThreadState_Swap", "PyThreadState_Delete", "PyThreadState_Get", "PyMutex_Lock", "PyMutex_Unlock",
         "PyThreadState_Clear", "PyInterpreterState_GetID", "Py_AddPendingCall", "Py_AtExit", "Py_NewInterpreterFromConfig",
         "python_thread_exit", "PyUnstable_AtExit"}
# The runtime's own steps that call a function a spec gave (compile.py `_hook`): the event the
# harness's callback reports when it runs one (runtime.c pending_hook, exit_hook).
HOOKS = {"_Py_FinishPendingCalls": "hook pending",
         "call_ll_exitfuncs": "hook exitfunc",
         "_PyAtExit_Fini": "hook unstable_atexit"}
PHASED = {"Py_FinalizeEx", "Py_EndInterpreter"}
# A phased call's steps, by the start of the model's note: what the harness stops at.
PHASES = (("pre-finalization", "hook atexit"), ("finalizing flag set", "hook flag"),
          ("thread states freed", "returned"), ("threading._shutdown: waits", "inside"),
          ("threading._shutdown: every", "hook atexit"), ("non-daemon threads joined", "hook atexit"))
# threading._shutdown's join runs before the atexit hook, with no boundary of its own: the hook
# comes at the join's last step, and the steps before it go on inside Py_FinalizeEx.
JOIN = ("threading._shutdown", "non-daemon threads joined")
# PyGILState_Release whose PyThreadState_Clear runs the spec's `tstate_clear` destructors: the
# harness stores an object in the thread state's dict whose __del__ is the hook (runtime.c).
CLEARING = ("counter 0: PyThreadState_Clear runs", "destructors done")
# Model calls the harness cannot make happen on the real runtime, and why.
NOT_FORCEABLE = {
    "use_object": "using an object under the wrong interpreter has no outcome the process shows "
                  "(nothing crashes at that call)",
    "lock_buffered_io": "a buffered stream's lock (`buffered->lock`, Modules/_io/bufferedio.c) is not reachable "
                        "through the C API, and CPython takes it only from an attached thread (ENTER_BUFFERED runs "
                        "with the GIL held; only the raw write inside it runs detached): the spec's order, the lock "
                        "taken inside Py_BEGIN_ALLOW_THREADS, cannot be forced",
}
_START = re.compile(r"line \d+( begin)?( #\d+)?")


class NotReplayable(Exception):
    """The trace cannot be replayed on the real runtime: the message says which step and why."""


@dataclass(frozen=True)
class CCall:
    """One thing a thread's C code does, released at `step`: a call, or `resume` (let a
    phased call go on past the hook it is stopped at)."""
    step: int
    function: str
    args: tuple[str, ...] = ()
    result: str | None = None     # the C variable the call's value goes to
    label: str = ""               # the model's call, for the program's log


@dataclass(frozen=True)
class Expect:
    """What the model predicts the step shows. `outcome`: inside (the call goes on, nothing to
    see), hook atexit / hook flag, yielded, returned, exited, hung, blocked, crash:<kind>."""
    step: int
    thread: str
    label: str
    note: str
    outcome: str
    result: str | None = None
    attached: bool | None = None
    gilstate: bool | None = None


@dataclass
class ThreadPlan:
    name: str
    main: bool                    # holds the main interpreter's first thread state at the start
    attached: bool
    python: bool = False          # a Python thread of main with a thread state of its own, detached
    threading: str | None = None  # ... started as a threading.Thread: "joined" (non-daemon) or "daemon"
    ops: list[CCall] = field(default_factory=list)


@dataclass
class Plan:
    spec: str
    design: str
    prop: str
    threads: list[ThreadPlan]
    steps: list[Expect]           # one per model step, then one per thread stuck at the end
    variables: list[str]          # C variables (program variables of the spec)
    locks: tuple[str, ...]
    events: tuple[str, ...]

    @property
    def length(self) -> int:
        return max((e.step for e in self.steps), default=0)


def make_plan(system: System, trace: Trace, spec_name: str, design: str, prop: str, scenario) -> Plan:
    """The plan of `trace` (a trace the model replays) for `system` built from `scenario`.
    Long because it is one pass over the trace's steps that keeps, per thread, where its
    program is (inside a hook, a blocked call, a call split in parts); splitting it would
    pass that state between the pieces."""
    if trace.loop is not None and trace.length >= len(trace.states):
        raise NotReplayable("the trace ends in a cycle the model repeats forever: a run of the cycle once "
                            "would show nothing about forever")
    threads = []
    for t in scenario.threads:
        if t.tstate not in (None, "main"):
            raise NotReplayable(f"thread {t.name} starts with a thread state of {t.tstate}: only main's is set up")
        threads.append(ThreadPlan(t.name, False, t.attached, python=t.tstate == "main" and not t.python,
                                  threading=t.python))
    # The thread that starts attached (else the first) runs on the process's main thread with the
    # thread state Py_Initialize made; every other thread of the main interpreter is a Python
    # thread the harness starts inside Py_BEGIN_ALLOW_THREADS, with a thread state of its own.
    holders = [t for t in threads if t.python]   # threading threads are never the main thread
    if holders:
        first = next((t for t in holders if t.attached), holders[0])
        first.main, first.python = True, False
    by_name = {t.name: t for t in threads}
    names = system.slot_names()
    slot = {n: i for i, n in enumerate(names)}

    def cell(state: tuple, name: str) -> str | None:
        return system.show_slot(slot[name], state[slot[name]]) if name in slot else None

    steps: list[Expect] = []
    in_hook: dict[str, object] = {}   # the thread is inside a hook's callback (its `resume` leaves it)
    flag_left: set[str] = set()       # a PyUnstable_AtExit callback left the flag hook before teardown
    for row in steps_of(system, trace):
        action = system.actions[row.action]
        pre, post = trace.states[row.index - 1], trace.states[row.index] if row.index < len(trace.states) \
            else trace.states[trace.loop]
        t = row.thread
        label = f"{t}: {row.call}" + (f" -> {row.result}" if row.result is not None else "")
        if action.name in NOT_FORCEABLE:
            raise NotReplayable(f"step {row.index} ({label}): {NOT_FORCEABLE[action.name]}")
        if action.name == "_PyAtExit_Fini" and row.note.endswith("runs") and t not in in_hook:
            by_name[t].ops.append(CCall(row.index, "resume", label=f"{t}: {row.call}"))   # leave the flag hook
            flag_left.add(t)
        if action.name in HOOKS:
            steps.append(_hook_step(row, action, t, by_name[t], in_hook, steps))
            continue
        if action.name == "run_python" and row.note == "pending call runs":   # make_pending_calls
            if t not in in_hook:
                by_name[t].ops.append(CCall(row.index, "run_python:pending", label=label))
            else:
                by_name[t].ops.append(CCall(row.index, "resume", label=label))   # leave the previous call
            in_hook[t] = cell(pre, system.facts.pc_of(t))     # where this run_python goes on once the queue is empty
            steps.append(Expect(row.index, t, label, row.note, "hook pending"))
            continue
        if action.name not in CALLS:
            raise NotReplayable(f"step {row.index} ({label}): no C translation of `{action.name}` yet")
        starts = bool(_START.fullmatch(cell(pre, system.facts.pc_of(t)) or ""))
        outcome = _outcome(system, cell, post, t)
        if action.name == "PyGILState_Release" and row.note.startswith(CLEARING[0]):
            op = _op(row.index, action, row.call, t, system)
            by_name[t].ops.append(replace(op, function="PyGILState_Release:clear"))
            steps.append(Expect(row.index, t, label, row.note, "hook clear"))
            continue
        if action.name == "PyGILState_Release" and row.note.startswith(CLEARING[1]):
            by_name[t].ops.append(CCall(row.index, "resume", label=label))   # the __del__ returns
            starts = False
        if action.name in PHASED and row.note.startswith(JOIN):
            at = next((k for k in range(len(steps) - 1, -1, -1) if steps[k].thread == t), None)
            if at is not None and steps[at].outcome == "hook atexit":   # the begin step: the join comes first
                steps[at] = replace(steps[at], outcome="inside")
        if action.name in PHASED and outcome in ("returned", "inside"):
            outcome = next((o for prefix, o in PHASES if row.note.startswith(prefix)), None)
            if outcome is None:
                raise NotReplayable(f"step {row.index} ({label}): no hook in the runtime marks `{row.note}`")
        elif action.name == "run_python" and row.note.startswith("eval breaker"):
            outcome = "yielded"
        elif outcome == "inside" and _clearing_resumes(system, system.threads.index(t), post,
                                                         cell(post, system.facts.pc_of(t))):
            outcome = "returned"   # the destructor's last call returned; the __del__ returns at the next step
        if action.name == "run_python" and t in in_hook and in_hook[t] == cell(pre, system.facts.pc_of(t)):
            # the queue is empty: leave the pending call's callback; this run_python's PyRun goes on
            in_hook.pop(t)
            if outcome != "returned":
                raise NotReplayable(f"step {row.index} ({label}): an eval-breaker hand-over after pending calls")
            by_name[t].ops.append(CCall(row.index, "resume", label=label))
            steps.append(Expect(row.index, t, label, row.note, outcome, None, cell(post, f"attached[{t}]") != "NULL",
                                cell(post, f"gilstate[{t}]") != "NULL"))
            continue
        if action.name == "PyGILState_Release" and row.note.startswith(CLEARING[1]):
            pass
        elif starts:
            op = _op(row.index, action, row.call, t, system)
            by_name[t].ops.append(CCall(op.step, "run_python:yield", label=op.label) if outcome == "yielded" else op)
        elif action.name in PHASED and not row.note.startswith(JOIN) and t in flag_left:
            flag_left.discard(t)   # the callback's hook was left already; Py_FinalizeEx returns on its own
        elif action.name in PHASED and not row.note.startswith(JOIN):   # the join is not a hook to leave
            by_name[t].ops.append(CCall(row.index, "resume", label=row.call))
        elif by_name[t].ops and (later := _op(row.index, action, row.call, t, system)).result:
            by_name[t].ops[-1] = replace(by_name[t].ops[-1], result=later.result)   # Ensure's attach step has it
        elif action.name == "run_python":
            by_name[t].ops.append(CCall(row.index, "run_python:resume", label=row.call))
        returned = outcome == "returned"
        if action.name == "python_thread_exit" and returned:
            # reported just before the target returns to Python, attached; threading deletes the
            # thread state after it, with nothing to report from
            steps.append(Expect(row.index, t, label, row.note, outcome))
            continue
        steps.append(Expect(row.index, t, label, row.note, outcome, row.result if returned else None,
                            cell(post, f"attached[{t}]") != "NULL" if returned else None,
                            cell(post, f"gilstate[{t}]") != "NULL" if returned else None))
    steps += _stuck(system, trace, by_name, cell, len(steps))
    variables = [v.name for v in system.variables if _program_variable(v.name, threads)]
    return Plan(spec_name, design, prop, threads, steps, variables, scenario.locks, scenario.events)


def _hook_step(row, action, t: str, plan: ThreadPlan, in_hook: dict[str, bool], steps: list[Expect]) -> Expect:
    """A step of _Py_FinishPendingCalls / call_ll_exitfuncs: one that runs the spec's function
    is the harness callback's event (the call made earlier, by Py_FinalizeEx or the `resume`
    that left the previous callback); one that finds nothing left leaves the callback
    (`resume`), and Py_FinalizeEx goes on to its atexit hook or returns."""
    label = f"{t}: {row.call}"
    event = HOOKS[action.name]
    if row.note.endswith("runs"):
        if t in in_hook:
            plan.ops.append(CCall(row.index, "resume", label=label))
        elif action.name != "_PyAtExit_Fini" and steps and steps[-1].thread == t \
                and steps[-1].outcome in ("hook atexit", "returned"):
            steps[-1] = replace(steps[-1], outcome="inside", result=None, attached=None, gilstate=None)
        in_hook[t] = True
        return Expect(row.index, t, label, row.note, event)
    if not in_hook.get(t):
        return Expect(row.index, t, label, row.note, "inside")
    plan.ops.append(CCall(row.index, "resume", label=label))
    del in_hook[t]
    if action.name == "_Py_FinishPendingCalls":
        return Expect(row.index, t, label, row.note, "hook atexit")
    if action.name == "_PyAtExit_Fini":   # teardown goes on; its step sees Py_FinalizeEx return
        return Expect(row.index, t, label, row.note, "inside")
    return Expect(row.index, t, label, row.note, "returned", None, False, False)


def _outcome(system: System, cell, post: tuple, t: str) -> str:
    crash = cell(post, "crash")
    if crash not in (None, "none"):
        return f"crash:{crash}"
    status = cell(post, f"status[{t}]")
    if status in ("exited", "hung"):
        return status
    pc = cell(post, system.facts.pc_of(t)) or ""
    return "returned" if pc == "returned" or _START.fullmatch(pc) or not pc.startswith("line") else "inside"


def _op(step: int, action, call: str, thread: str, system: System) -> CCall:
    m = re.fullmatch(r"\s*[A-Za-z_]\w*\s*(?:\((.*)\))?\s*", call)
    args = tuple(a.strip() for a in (m.group(1) or "").split(",") if a.strip()) if m else ()
    known = {v.name for v in system.variables}
    args = tuple(_c_name(a, thread, known) for a in args)
    target = action.result.var.name if action.result is not None else ""
    result = _c_name(target, thread, known) if "." in target else None    # a program variable: T1.st
    return CCall(step, action.name, args, result, call)


def _c_name(name: str, thread: str, known: set[str]) -> str:
    """A program variable as a C identifier: T1.st -> T1_st, shared.S -> shared_S; a literal stays."""
    for full in (name, f"{thread}.{name}", f"shared.{name}"):
        if full in known and "." in full:
            return full.replace(".", "_")
    return name


def _program_variable(name: str, threads: list[ThreadPlan]) -> bool:
    head = name.split(".")[0]
    return "." in name and head != "pc" and (head == "shared" or head in {t.name for t in threads})


def _stuck(system: System, trace: Trace, by_name: dict[str, ThreadPlan], cell, done: int) -> list[Expect]:
    """Threads the model says can never move again at the end of the trace (a deadlock, a
    hang): each makes its next call, and must then be blocked."""
    compiled = compile_system(system)
    last = trace.states[-1]
    if compiled.halted(last) or trace.loop is not None and trace.length >= len(trace.states):
        return []
    moving = {system.actions[k].thread for k, _ in compiled.successors(last)}
    out = []
    for t, name in enumerate(system.threads):
        if t in moving or compiled.finished[t](last) or cell(last, f"status[{name}]") != "running":
            continue
        pc = cell(last, system.facts.pc_of(name)) or ""
        step = done + len(out) + 1
        label = f"{name}: (stuck)"
        if _START.fullmatch(pc):
            calls = _calls_at(system, t, last[system.var(system.facts.pc_of(name)).base])
            if len(calls) != 1:
                raise NotReplayable(f"{name} is stuck at {pc} but the model has {len(calls)} calls there")
            action = calls[0]
            if action.name not in CALLS or action.name in PHASED:
                raise NotReplayable(f"{name} is stuck at `{action.call}`: no C translation of it yet")
            by_name[name].ops.append(_op(step, action, action.call, name, system))
            label = f"{name}: {action.call}"
        out.append(Expect(step, name, label, "the model says this thread never moves again", "blocked"))
    return out


def _clearing_resumes(system: System, t: int, state: tuple, label: str | None) -> bool:
    """Whether thread t's next step is the one after the `tstate_clear` destructors (the
    destructor's last call has returned)."""
    if not label or not label.startswith("line"):
        return False
    pc = state[system.var(system.facts.pc_of(system.threads[t])).base]
    return any(a.name == "PyGILState_Release" and a.note.startswith(CLEARING[1]) for a in _calls_at(system, t, pc))


def _calls_at(system: System, t: int, pc: int) -> list:
    var = system.var(system.facts.pc_of(system.threads[t]))
    found = {}
    for action in system.actions:
        if action.thread != t:
            continue
        for node in walk(action.guard):
            if isinstance(node, Op) and node.name == "==" and any(
                    isinstance(a, Read) and a.var is var for a in node.args) and any(
                    getattr(a, "value", None) == pc for a in node.args):
                found[action.call] = action
    return list(found.values())


__all__ = ["Plan", "ThreadPlan", "CCall", "Expect", "NotReplayable", "make_plan", "CALLS"]
