"""Why a witness is never reached: the shortest run that stops before every thread finished.

A `completes` witness (or a query) that no schedule reaches leaves the reader with
"vacuous" and no cause. The breadth-first search already stored every reachable state in
order of depth, so the first one where the run ends early (the system halted: a crash, the
process exiting; or no step is enabled while some thread has not finished) is the end of
the shortest such run.
"""
from __future__ import annotations

from .semantics import Compiled

from ..result import Trace
from .exploration import Exploration


def early_stop(compiled: Compiled, ex: Exploration) -> Trace | None:
    """The shortest trace to a halted state or a state without successors where some thread
    has not finished; None when the states were not kept (fingerprints) or the run never stops."""
    if not ex.complete or not len(ex.states):
        return None
    finished, halted, successors = compiled.finished, compiled.halted, compiled.successors
    best = None
    for sid in range(len(ex.states)):
        if best is not None and ex.depth[sid] >= ex.depth[best]:
            if ex.order == "bfs":
                break   # ids are in breadth-first order: nothing later is shallower
            continue
        state = ex.states[sid]
        if halted(state) or (not successors(state) and not all(f(state) for f in finished)):
            best = sid
    return ex.trace_to(best) if best is not None else None
