"""The IR's reference semantics of a step, by the expression evaluator: what the compiled
successor functions of every engine are tested against on whole state graphs."""
from __future__ import annotations

from .expr import evaluate
from .system import System


def interpret_successors(system: System, state: tuple) -> list:
    """The same relation as `successors`, by the reference evaluator (for tests)."""
    out = []
    for k, action in enumerate(system.actions):
        if evaluate(action.guard, state):
            n = list(state)
            writes = [(u.target.var.base + evaluate(u.target.index, state), evaluate(u.value, state))
                      for u in action.updates]
            for slot, value in writes:
                n[slot] = value
            out.append((k, tuple(n)))
    return out
