"""Replays a saved ITF trace against the current model, as TLC's -loadTrace does.

Step by step, the recorded C call must be an enabled action of the model whose successor
is the recorded state; the first step where that fails is the divergence, reported with
the state the trace expected and the closest state the model reaches instead. A trace that
replays is then checked to still violate its property at its end.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from interpcheck.model.ir import ActionProperty, Invariant, LeadsTo, NoDeadlock, NoHang, Sometimes, System
from .explicit.semantics import compile_system, Compiled

from .render.itf import INIT, ITFError, show_slot, state_from_itf, step_label
from .render.steps import steps_of
from .result import Trace


@dataclass
class Replay:
    steps: int                                   # steps that replayed
    diverged_at: int | None = None               # step number (0: the initial state)
    action: str = ""                             # the recorded C call at the divergence
    reason: str = ""
    differences: list[tuple[str, str, str]] = field(default_factory=list)  # (slot, expected, found)
    still_violated: bool = False
    verdict: str = ""                            # what the end of the trace shows
    trace: Trace | None = None                   # the replayed trace (states and the model's actions)

    @property
    def ok(self) -> bool:
        return self.diverged_at is None and self.still_violated


def replay(system: System, doc: dict) -> Replay:
    compiled = compile_system(system)
    raw = doc.get("states")
    if not isinstance(raw, list) or not raw:
        raise ITFError("no `states` in the trace")
    meta = doc.get("#meta", {})
    labels = [s.get("#meta", {}).get("action", INIT) for s in raw]
    states = []
    for i, values in enumerate(raw):
        try:
            states.append(state_from_itf(system, values))
        except ITFError as err:
            return Replay(max(i - 1, 0), i, labels[i], f"state {i} does not fit the model: {err}")
    if states[0] not in system.initial:
        return _diverged(system, 0, INIT, "the initial state differs", states[0], [system.initial[0]])
    actions = []
    for i in range(1, len(states)):
        k, report = _step(system, compiled, states[i - 1], labels[i], states[i], i)
        if report is not None:
            return report
        actions.append(k)
    loop = doc.get("loop", meta.get("loop"))
    if loop is not None and meta.get("loop_action"):
        k, report = _step(system, compiled, states[-1], meta["loop_action"], states[loop], len(states))
        if report is not None:
            report.reason += " (the step that closes the cycle)"
            return report
        actions.append(k)
    trace = Trace(tuple(states), tuple(actions), loop, _thread(system, meta.get("hung_thread")))
    done = Replay(len(actions), trace=trace)
    done.still_violated, done.verdict = _still_violated(system, compiled, meta.get("property", ""), trace)
    return done


def _thread(system: System, name: str | None) -> int | None:
    return system.threads.index(name) if name in system.threads else None


def _step(system: System, compiled: Compiled, pre: tuple, label: str, post: tuple,
          index: int) -> tuple[int, Replay | None]:
    succ = compiled.successors(pre)
    named = [(k, nxt) for k, nxt in succ if _label(system, pre, k, nxt) == label]
    for k, nxt in named:
        if nxt == post:
            return k, None
    if named:
        return -1, _diverged(system, index, label, "the call is there but leads elsewhere", post,
                             [nxt for _, nxt in named])
    enabled = sorted({_label(system, pre, k, nxt) for k, nxt in succ})
    why = "no enabled action is this call; enabled here: " + ("; ".join(enabled) if enabled else "none")
    return -1, Replay(index - 1, index, label, why)


def _label(system: System, pre: tuple, k: int, post: tuple) -> str:
    return step_label(steps_of(system, Trace((pre, post), (k,)))[0])


def _diverged(system: System, index: int, label: str, reason: str, expected: tuple,
              found: list[tuple]) -> Replay:
    best = min(found, key=lambda s: sum(a != b for a, b in zip(expected, s)))
    names = system.slot_names()
    diffs = [(names[j], show_slot(system, j, expected[j]), show_slot(system, j, best[j]))
             for j in range(len(expected)) if expected[j] != best[j]]
    return Replay(max(index - 1, 0), index, label, reason, diffs)


def _still_violated(system: System, compiled: Compiled, name: str, trace: Trace) -> tuple[bool, str]:
    try:
        prop = system.prop(name)
    except KeyError:
        return False, f"the model has no property `{name}`"
    i = system.properties.index(prop)
    last = trace.states[-1]
    if isinstance(prop, Invariant):
        hit = i in compiled.invariants(last)
        return hit, "the last state violates it" if hit else "the last state satisfies it"
    if isinstance(prop, ActionProperty):
        if not trace.actions:
            return False, "no step to check"
        hit = i in compiled.action_checks(trace.actions[-1], trace.states[-2], last)
        return hit, "the last step violates it" if hit else "the last step satisfies it"
    if isinstance(prop, NoDeadlock):
        stuck = not compiled.successors(last) and not compiled.halted(last) \
            and not all(f(last) for f in compiled.finished)
        return stuck, "no thread can move in the last state" if stuck else "the last state is not a deadlock"
    if isinstance(prop, NoHang):
        return _hung(system, compiled, trace)
    if isinstance(prop, LeadsTo):
        return _lasso(system, compiled, prop, trace)
    if isinstance(prop, Sometimes):
        hit = compiled.predicate(prop.expr)(last)
        return hit, "the last state is the witness" if hit else "the last state is not a witness"
    return False, f"cannot re-check {type(prop).__name__}"


def _hung(system: System, compiled: Compiled, trace: Trace) -> tuple[bool, str]:
    t = trace.thread
    if t is None:
        return False, "the trace names no hung thread"
    last = trace.states[-1]
    if compiled.finished[t](last) or compiled.halted(last):
        return False, f"{system.threads[t]} has finished in the last state"
    seen, todo = {last}, [last]
    while todo:                    # everything reachable from the end: does the thread ever move?
        for k, nxt in compiled.successors(todo.pop()):
            if system.actions[k].thread == t:
                return False, f"{system.threads[t]} can still move after the last state"
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return True, f"{system.threads[t]} can never move again"


def _lasso(system: System, compiled: Compiled, prop: LeadsTo, trace: Trace) -> tuple[bool, str]:
    if trace.loop is None:
        return False, "the trace has no loop"
    goal, trigger = compiled.predicate(prop.goal), compiled.predicate(prop.trigger)
    start = next((i for i, s in enumerate(trace.states) if trigger(s)
                  and not any(goal(x) for x in trace.states[i:])), None)
    if start is None or start > len(trace.states) - 1:
        return False, "the goal is reached after the trigger"
    cycle = trace.states[trace.loop:]
    if trace.length < len(trace.states):          # stutters in its last state
        if compiled.successors(trace.states[-1]):
            return False, "the last state can still move, so it does not stutter forever"
        return True, "nothing moves after the last state and the goal never holds"
    moved = {system.actions[k].thread for k in trace.actions[trace.loop:]}
    for t in range(len(system.threads)):
        disabled = any(all(system.actions[k].thread != t for k, _ in compiled.successors(s)) for s in cycle)
        if t not in moved and not disabled:
            return False, f"the cycle is unfair to {system.threads[t]}"
    return True, "the fair cycle repeats forever and the goal never holds"


__all__ = ["Replay", "replay"]
