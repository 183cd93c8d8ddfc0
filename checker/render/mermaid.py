"""Traces as sequence diagrams: threads and interpreters as lifelines, one message per step.

`sequence_of` reads a trace (through `render.steps`) into a small diagram model that two
renderers share: `to_mermaid` here, and `render.svg` for the HTML report. A step goes from
its thread to the interpreter whose state it changed (its phase, GIL, guards, or a thread
state it created in it); a step that touches no interpreter is a message to itself.
Interpreters are the element labels of the `phase` variable; a system without one (a tiny
test model) has thread lifelines only.
"""
from __future__ import annotations

from dataclasses import dataclass

from interpcheck.model.ir import NoDeadlock, Op, Read, System, evaluate, walk

from ..result import Result, Verdict
from .steps import HIDDEN_PREFIXES, steps_of
from .text import _ending


@dataclass(frozen=True)
class Participant:
    id: str         # identifier safe in Mermaid and in HTML ids
    label: str
    kind: str       # "thread" | "interpreter"


@dataclass(frozen=True)
class Note:
    over: str                  # participant id
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    step: int                  # 1-based, as in the text rendering
    source: str
    target: str
    call: str                  # the C call with its result: "Py_IsFinalizing() → 0"
    detail: str                # what happened inside, or ""
    notes: tuple[Note, ...]    # state that changed, on the lifeline it belongs to
    violating: bool            # the step that breaks the property


@dataclass(frozen=True)
class Sequence:
    title: str
    participants: tuple[Participant, ...]
    messages: tuple[Message, ...]
    loop_from: int | None      # first step of a cycle that repeats forever
    ending: str                # why the trace is a counterexample, one sentence
    ending_over: tuple[str, ...]
    violated: bool


def interpreters(system: System) -> tuple[str, ...]:
    try:
        return system.var("phase").labels or ()
    except KeyError:
        return ()


def _thread_id(name: str) -> str:
    return f"t_{name}"


def _interp_id(name: str) -> str:
    return "i_" + "".join(c if c.isalnum() else "_" for c in name)


def sequence_of(system: System, result: Result) -> Sequence:
    trace = result.trace
    if trace is None:
        raise ValueError(f"{result.prop}: no trace to draw")
    interps = interpreters(system)
    people = tuple(Participant(_thread_id(t), t, "thread") for t in system.threads) + \
        tuple(Participant(_interp_id(i), f"interp {i}", "interpreter") for i in interps)
    owner = _slot_owners(system, interps)
    violated = result.verdict is Verdict.VIOLATED
    cycle = trace.loop is not None and trace.length >= len(trace.states)
    messages = []
    for step in steps_of(system, trace):
        src = _thread_id(step.thread) if step.thread in system.threads else people[0].id
        notes: dict[str, list[str]] = {}
        target = None
        for name, value in step.changes:
            where, shown, points_at = owner.get(name, (None, name, False))
            where = where or src
            notes.setdefault(where, []).append(f"{shown} = {value}")
            if where.startswith("i_") and target is None:
                target = where
            if points_at and value in interps and target is None:
                target = _interp_id(value)
        call = step.call + (f" → {step.result}" if step.result is not None else "")
        last = step.index == trace.length and violated and not cycle
        messages.append(Message(step.index, src, target or src, call, step.note,
                                tuple(Note(k, tuple(v)) for k, v in notes.items()), last))
    ending = _ending(system, trace, result, _why(system, result)).strip().removeprefix("=> ")
    over = tuple(dict.fromkeys((people[0].id, people[-1].id)))
    if trace.thread is not None:
        name = system.threads[trace.thread]
        over = (_thread_id(name),)
        reason = blocked_by(system, trace.states[-1], trace.thread)
        ending += f" ({reason})" if reason else ""
    elif violated and (isinstance(system.prop(result.prop), NoDeadlock) or (trace.loop is not None and not cycle)):
        reasons = _stuck_threads(system, trace.states[-1])
        ending += f" ({'; '.join(reasons)})" if reasons else ""
    title = f"{system.name} [{system.kinds.get('interpcheck', {}).get('design', '')}]: {result.prop} " \
            f"{result.verdict.value}".replace(" []", "")
    loop_from = trace.loop + 1 if cycle else None
    return Sequence(title, people, tuple(messages), loop_from, ending, over, violated)


def _stuck_threads(system: System, state: tuple[int, ...]) -> list[str]:
    """For a state where nothing moves: what each unfinished thread is stuck on."""
    out = []
    for t, name in enumerate(system.threads):
        reason = "" if evaluate(system.finished[t], state) else blocked_by(system, state, t)
        if reason:
            out.append(f"{name} {reason}")
    return out


def _why(system: System, result: Result) -> str:
    prop = system.prop(result.prop)
    return getattr(prop, "why", "") or getattr(prop, "doc", "")


def _slot_owners(system: System, interps: tuple[str, ...]) -> dict[str, tuple[str | None, str, bool]]:
    """slot name → (lifeline id or None for the acting thread, name to show, holds an interpreter)."""
    out = {}
    for var in system.variables:
        names = var.domain.labels or ()
        points_at = bool(interps) and tuple(names[1:]) == interps
        for k in range(var.length):
            slot = var.slot_name(k)
            where, shown = None, slot
            if not var.scalar and var.labels == interps and interps:
                where, shown = _interp_id(var.labels[k]), var.name
            elif not var.scalar and var.labels == system.threads:
                where, shown = _thread_id(var.labels[k]), var.name
            out[slot] = (where, shown, points_at)
    return out


def blocked_by(system: System, state: tuple[int, ...], thread: int) -> str:
    """What keeps `thread` from moving in `state`, read off the guards of the call it is at,
    e.g. "stuck at lock(L): lock[L] = main". A guard conjunct false in every outcome of the
    call is the reason (status[T1] = hung); otherwise the reason is the state other threads
    would have to change (the GIL's holder, a lock, a guard count). Empty when unknown."""
    pending = [a for a in system.actions if a.thread == thread and _at_call(a, state)]
    if not pending:
        return ""
    false_parts = [[p for p in _conjuncts(a.guard) if not evaluate(p, state)] for a in pending]
    keys = [{_key(p) for p in parts} for parts in false_parts]
    common = set.intersection(*keys)
    if common:
        blockers = [p for p in false_parts[0] if _key(p) in common]
    else:
        others = {u.target.var.name for a in system.actions if a.thread != thread for u in a.updates}
        waits = [[p for p in parts if any(r.var.name in others for r in _reads(p))] for parts in false_parts]
        options = [(len(parts), i) for i, parts in enumerate(false_parts) if waits[i]]
        blockers = waits[min(options)[1]] if options else []
        blockers = [r for p in blockers for r in _reads(p) if r.var.name in others]
    shown = []
    for node in (r for p in blockers for r in (_reads(p) if not isinstance(p, Read) else [p])):
        k = evaluate(node.index, state)
        text = f"{node.var.slot_name(k)} = {node.var.domain.show(state[node.var.base + k])}"
        if text not in shown:
            shown.append(text)
    calls = " / ".join(dict.fromkeys(a.call for a in pending))
    return f"stuck at {calls}" + (f": {', '.join(shown)}" if shown else "")


def _conjuncts(expr) -> list:
    if isinstance(expr, Op) and expr.name == "and":
        return [c for a in expr.args for c in _conjuncts(a)]
    return [expr]


def _reads(expr) -> list[Read]:
    return [n for n in walk(expr) if isinstance(n, Read) and not n.var.name.startswith(HIDDEN_PREFIXES)]


def _at_call(action, state) -> bool:
    """The thread's program counter is at this action (its pc conjuncts hold)."""
    at_pc = [p for p in _conjuncts(action.guard) if _reads_only_pc(p)]
    return bool(at_pc) and all(evaluate(p, state) for p in at_pc)


def _key(expr):
    """A structural key: IR nodes compare by identity, equal conditions need not be one node."""
    if isinstance(expr, Read):
        return ("read", expr.var.name, _key(expr.index), expr.primed)
    if isinstance(expr, Op):
        return (expr.name, *(_key(a) for a in expr.args))
    return (type(expr).__name__, *(_key(v) if not isinstance(v, int) else v for v in vars(expr).values()))


def _reads_only_pc(expr) -> bool:
    reads = [n for n in walk(expr) if isinstance(n, Read)]
    return bool(reads) and all(r.var.name.startswith(HIDDEN_PREFIXES) for r in reads)


# ----- Mermaid ------------------------------------------------------------------------------

HIGHLIGHT = "rgb(255, 221, 221)"


_ENTITIES = str.maketrans({"#": "#35;", ";": "#59;", "<": "#60;", ">": "#62;"})


def _esc(text: str) -> str:
    """Mermaid reads `;` as a line end and `#…;` as an entity: write such characters as entity codes."""
    return text.translate(_ENTITIES)


def to_mermaid(system: System, result: Result) -> str:
    return mermaid_of(sequence_of(system, result))


def mermaid_of(seq: Sequence) -> str:
    out = ["sequenceDiagram", f"    title {_esc(seq.title)}", "    autonumber"]
    for p in seq.participants:
        out.append(f"    participant {p.id} as {_esc(p.label)}")
    indent = "    "
    for msg in seq.messages:
        if seq.loop_from == msg.step:
            out.append(f"    rect {HIGHLIGHT}")
            out.append("        loop forever")
            indent = "            "
        if msg.violating:
            out.append(f"{indent}rect {HIGHLIGHT}")
        inner = indent + ("    " if msg.violating else "")
        text = _esc(msg.call) + (f"<br/>[{_esc(msg.detail)}]" if msg.detail else "")
        out.append(f"{inner}{msg.source}->>{msg.target}: {text}")
        for note in msg.notes:
            out.append(f"{inner}Note over {note.over}: {'<br/>'.join(_esc(x) for x in note.lines)}")
        if msg.violating:
            out.append(f"{inner}Note over {','.join(seq.ending_over)}: {_esc(seq.ending)}")
            out.append(f"{indent}end")
    if seq.loop_from is not None:
        out += ["        end", "    end"]
    if not any(m.violating for m in seq.messages):
        out.append(f"    Note over {','.join(seq.ending_over)}: {_esc(seq.ending)}")
    return "\n".join(out) + "\n"


__all__ = ["Participant", "Note", "Message", "Sequence", "sequence_of", "to_mermaid", "mermaid_of",
           "blocked_by", "interpreters"]
