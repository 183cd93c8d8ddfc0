"""A trace as rows of C calls: the one reading of a Trace that every output format shares."""
from __future__ import annotations

from dataclasses import dataclass

from interpcheck.model.ir import System, evaluate

from ..result import Trace

HIDDEN_PREFIXES = ("pc.",)   # program counters are shown as calls, not as state


@dataclass(frozen=True)
class Step:
    index: int                      # 1-based step number
    thread: str
    call: str
    result: str | None
    note: str
    changes: tuple[tuple[str, str], ...]   # (slot name, new value), state that changed
    action: int
    where: str = ""                 # the C source file:line of the call (programs translated from C)


def describe_state(system: System, state: tuple[int, ...], hide_pc: bool = True) -> list[tuple[str, str]]:
    names = system.slot_names()
    return [(names[i], system.show_slot(i, value)) for i, value in enumerate(state)
            if not (hide_pc and names[i].startswith(HIDDEN_PREFIXES))]


def steps_of(system: System, trace: Trace) -> list[Step]:
    names = system.slot_names()
    source = system.kinds.get("source", {})
    rows = []
    for i, k in enumerate(trace.actions):
        action = system.actions[k]
        pre = trace.states[i]
        post = trace.states[i + 1] if i + 1 < len(trace.states) else trace.states[trace.loop]
        result = None
        if action.result is not None:
            result = action.result.var.domain.show(evaluate(action.result, post))
        changes = tuple((names[j], system.show_slot(j, post[j])) for j in range(len(pre))
                        if pre[j] != post[j] and not names[j].startswith(HIDDEN_PREFIXES))
        thread = system.threads[action.thread] if action.thread is not None else "env"
        rows.append(Step(i + 1, thread, action.call, result, action.note, changes, k, source.get(k, "")))
    return rows
