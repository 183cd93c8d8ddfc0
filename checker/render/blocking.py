"""What keeps a thread from moving: read generically off the guards of the call it is at.
Text, Mermaid and HTML renderings all explain stuck threads through this module."""
from __future__ import annotations

from interpcheck.model.ir import Op, Read, System, evaluate, walk
from interpcheck.model.ir.facts import structural_key



def stuck_threads(system: System, state: tuple[int, ...]) -> list[str]:
    """For a state where nothing moves: what each unfinished thread is stuck on."""
    out = []
    for t, name in enumerate(system.threads):
        reason = "" if evaluate(system.finished[t], state) else blocked_by(system, state, t)
        if reason:
            out.append(f"{name} {reason}")
    return out



def _holds(part, state: tuple[int, ...]) -> bool:
    """One conjunct alone; one that indexes with a NULL handle (an earlier conjunct would
    have ruled it out) counts as false."""
    try:
        return bool(evaluate(part, state))
    except IndexError:
        return False


def blocked_by(system: System, state: tuple[int, ...], thread: int) -> str:
    """What keeps `thread` from moving in `state`, read off the guards of the call it is at,
    e.g. "stuck at lock(L): lock[L] = main". A guard conjunct false in every outcome of the
    call is the reason (status[T1] = hung); otherwise the reason is the state other threads
    would have to change (the GIL's holder, a lock, a guard count). Empty when unknown."""
    pending = [a for a in system.actions if a.thread == thread and _at_call(system, a, state)]
    if not pending:
        return ""
    false_parts = [[p for p in _conjuncts(a.guard) if not _holds(p, state)] for a in pending]
    keys = [{structural_key(p) for p in parts} for parts in false_parts]
    common = set.intersection(*keys)
    if common:
        blockers = [p for p in false_parts[0] if structural_key(p) in common]
    else:
        others = {u.target.var.name for a in system.actions if a.thread != thread for u in a.updates}
        waits = [[p for p in parts if any(r.var.name in others for r in _reads(system, p))] for parts in false_parts]
        options = [(len(parts), i) for i, parts in enumerate(false_parts) if waits[i]]
        blockers = waits[min(options)[1]] if options else []
        blockers = [r for p in blockers for r in _reads(system, p) if r.var.name in others]
    shown = []
    for node in (r for p in blockers for r in (_reads(system, p) if not isinstance(p, Read) else [p])):
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


def _reads(system: System, expr) -> list[Read]:
    pcs = system.facts.program_counters.values()
    return [n for n in walk(expr) if isinstance(n, Read) and n.var.name not in pcs]


def _at_call(system: System, action, state) -> bool:
    """The thread's program counter is at this action (its pc conjuncts hold)."""
    at_pc = [p for p in _conjuncts(action.guard) if _reads_only_pc(system, p)]
    return bool(at_pc) and all(evaluate(p, state) for p in at_pc)


def _reads_only_pc(system: System, expr) -> bool:
    reads = [n for n in walk(expr) if isinstance(n, Read)]
    return bool(reads) and all(r.var.name in system.facts.program_counters.values() for r in reads)
