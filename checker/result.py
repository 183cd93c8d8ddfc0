"""What an engine answers: a verdict per property, the counterexample trace, the statistics."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from interpcheck.model.ir import System

if TYPE_CHECKING:   # for the type only: smt imports this module
    from .smt.induction import Cti


class Verdict(str, Enum):
    HOLDS = "holds"
    VIOLATED = "violated"
    UNKNOWN = "unknown"


AS_EXPECTED, UNEXPECTED, NO_VERDICT = "as expected", "unexpected", "no verdict"


def status(verdict: Verdict, expected: str | None) -> str:
    """How a verdict stands against the spec's expectation, the one reading that text, JSON and
    the report share: an unknown verdict is "no verdict" (a limit), never "unexpected"."""
    if verdict is Verdict.UNKNOWN:
        return NO_VERDICT
    return AS_EXPECTED if expected in (None, verdict.value) else UNEXPECTED


@dataclass(frozen=True)
class Trace:
    """states[0] is initial; actions[i] (an index into System.actions) leads states[i] → states[i+1].

    `loop` is the index of the state a lasso returns to (liveness): its cycle's last action
    leads from the last state back to states[loop], so it has as many actions as states. A
    lasso with one action fewer than states stutters in its last state forever. `thread` names the hung
    thread for a hang.
    """
    states: tuple[tuple[int, ...], ...]
    actions: tuple[int, ...]
    loop: int | None = None
    thread: int | None = None

    @property
    def length(self) -> int:
        return len(self.actions)


@dataclass
class Stats:
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    bytes_per_state: float | None = None

    def as_dict(self) -> dict:
        d = {"states": self.states, "transitions": self.transitions, "depth": self.depth,
             "seconds": round(self.seconds, 3)}
        if self.bytes_per_state is not None:
            d["bytes_per_state"] = round(self.bytes_per_state, 1)
        return d


@dataclass
class Result:
    prop: str
    verdict: Verdict
    engine: str
    trace: Trace | None = None
    stats: Stats = field(default_factory=Stats)
    reason: str = ""  # why a verdict is unknown (which limit), or a note on how it was decided
    system: System | None = None  # the System the trace belongs to, when not the one checked (parametric)
    cti: Cti | None = None   # k-induction's counterexample to induction, when unproven
    undecided: bool = False  # UNKNOWN because this engine does not decide this kind of property: no limit
    early_stop: Trace | None = None  # a witness never reached: the shortest run that ends before every thread finished
    limit: str | None = None  # UNKNOWN because this limit was reached (time, memory, states, a bound)


def not_decided(prop: str, engine: str, stats: Stats, why: str) -> Result:
    """An engine's answer for a property it does not decide (BMC on liveness): unknown, and no
    limit was reached, so the exit code does not claim one."""
    return Result(prop, Verdict.UNKNOWN, engine, None, stats, f"not decided by this engine: {why}", undecided=True)


class Limit(Exception):
    """A search limit was reached; `what` names it for the user."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what
