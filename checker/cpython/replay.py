"""One trace on one CPython: replay it on the model (to know each step's action), plan it,
write and build the C program, run it (under valgrind when the model predicts a use after
free or a NULL dereference and valgrind is installed) and compare."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from interpcheck.model.ir import System
from interpcheck.model.spec import Spec

from ..replay import replay as replay_on_model
from ..result import Trace
from .build import build
from .harness import to_c
from .interpreters import Interpreter
from .observe import Outcome, run
from .plan import NotReplayable, make_plan

# Predicted crashes only valgrind tells apart from other SIGSEGVs: freed memory, or a NULL pointer.
VALGRIND = ("crash:use_after_free", "crash:null_deref")
SETTLE = 0.3        # seconds a step may take before the thread counts as not moving
TIME_LIMIT = 60.0   # seconds for one run of the program


@dataclass
class CPythonReplay:
    interp: Interpreter
    outcome: Outcome | None = None     # None: not replayable
    why_not: str = ""                  # why it is not replayable
    valgrind: bool = False

    @property
    def verdict(self) -> str:
        """agrees | diverges | not replayable"""
        if self.outcome is None:
            return "not replayable"
        return "agrees" if self.outcome.divergence is None else "diverges"


def trace_of(system: System, doc: dict) -> Trace:
    """The trace's steps as the current model's actions; NotReplayable when the model no longer
    has them (the trace is stale: regenerate it)."""
    done = replay_on_model(system, doc)
    if done.diverged_at is not None or done.trace is None:
        raise NotReplayable(f"the trace no longer replays on the model (step {done.diverged_at}: "
                            f"{done.reason}); regenerate it")
    return done.trace


def replay_trace(spec: Spec, design: str, prop: str, trace: Trace, name: str, interp: Interpreter,
                 settle: float = SETTLE, time_limit: float = TIME_LIMIT, keep: Path | None = None) -> CPythonReplay:
    """Replays `trace` (of `spec` under `design`) on `interp`. TimeLimit passes through."""
    system = spec.system(design)
    try:
        plan = make_plan(system, trace, spec.name, design, prop, spec.scenario)
        source = to_c(plan, interp.short, name)
    except NotReplayable as err:
        return CPythonReplay(interp, why_not=str(err))
    exe = build(source, interp, keep)
    valgrind = any(e.outcome in VALGRIND for e in plan.steps) and shutil.which("valgrind") is not None
    try:
        return CPythonReplay(interp, run(exe, plan, settle, time_limit, valgrind), valgrind=valgrind)
    except NotReplayable as err:
        return CPythonReplay(interp, why_not=str(err))


__all__ = ["CPythonReplay", "replay_trace", "trace_of", "SETTLE", "TIME_LIMIT"]
