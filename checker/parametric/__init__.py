"""The parametric engine: safety properties for any number of threads of one thread table.

Breadth-first search over the counter abstraction (views.py) covers every N >= 1 at once: an
invariant, action property or deadlock-freedom that holds on every abstract state holds for
every N. The abstraction over-approximates (a view's "two or more" may lose or keep a thread),
so a violation found there is only a lead: it is reported once the explicit engine finds it
on the concrete model with some N (confirm.py), and otherwise stays unknown. The search runs
first on the coarser abstraction (a view's threads: "one or more"), which covers every run
of the finer one with far fewer states, then on the finer one for what it left open.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Callable

from interpcheck.model.ir import LeadsTo, NoDeadlock, NoHang, Sometimes, System

from ..explicit import Limits, Reporter, SilentReporter
from ..explicit.symmetry import unsupported
from ..result import Limit, Result, Stats, Verdict
from .confirm import confirm
from .step import SAFETY, Facts, Stepper
from .views import Abstract, Abstraction, NotAbstractable

ENGINE = "parametric"


class _Search:
    """The abstract states met, breadth first, with the first state or step breaking each property."""

    def __init__(self, stepper: Stepper, initial: list[Abstract]):
        self.stepper = stepper
        self.parent: dict[Abstract, Abstract | None] = {a: None for a in initial}
        self.depth = {a: 0 for a in initial}
        self.first: dict[str, Abstract] = {}      # property -> the abstract state where it is first met
        self.queue = deque(initial)
        self.transitions = 0
        self.deepest = 0        # max(self.depth.values()), kept as states are added (not recounted per state)

    def run(self, wanted: dict[str, type], limits: Limits, reporter: Reporter, start: float) -> None:
        while self.queue:
            if over := limits.overrun(time.perf_counter() - start):
                raise Limit(over)
            if limits.max_states is not None and len(self.parent) > limits.max_states:
                raise Limit(f"max-states {limits.max_states}")
            a = self.queue.popleft()
            facts = self.stepper.facts(a)
            self._record(a, facts, wanted)
            if all(self._decided(name, kind) for name, kind in wanted.items()):
                return
            for step in facts.steps:
                self.transitions += 1
                if step.target not in self.parent:
                    self.parent[step.target] = a
                    self.depth[step.target] = d = self.depth[a] + 1
                    self.deepest = max(self.deepest, d)
                    self.queue.append(step.target)
            reporter.progress(self.stats(start), len(self.queue))

    def _decided(self, name: str, kind: type) -> bool:
        """Met, or left undecided because its value counts threads: nothing further changes it."""
        return name in self.first or ("deadlock" if kind is NoDeadlock else name) in self.stepper.counting

    def _record(self, a: Abstract, facts: Facts, wanted: dict[str, type]) -> None:
        met = set(facts.violated) | set(facts.reached)
        met |= {name for step in facts.steps for name in step.broken}
        if facts.deadlock:
            met |= {name for name, kind in wanted.items() if kind is NoDeadlock}
        for name in sorted(met):
            if name in wanted and name not in self.first:
                self.first[name] = a

    def stats(self, start: float) -> Stats:
        return Stats(len(self.parent), self.transitions, self.deepest,
                     time.perf_counter() - start)


def check_parametric(family: Callable[[int], System], table: str, names: list[str] | None = None,
                     limits: Limits = Limits(), reporter: Reporter = SilentReporter(),
                     passes: tuple[bool, ...] = (True, False)) -> list[Result]:
    """A Result per property named (all when None) of the family's systems, for every
    number of threads of `table` at once. `passes`, in order, coarse or not: first with each
    view's threads counted as "one or more" (far fewer abstract states), then, for what that
    leaves open, as "one" or "two or more"."""
    start = time.perf_counter()
    system = family(1)
    props = [p for p in system.properties if names is None or p.name in names]
    asymmetric = _asymmetric(family, [p.name for p in props])
    wanted = {p.name: type(p) for p in props if isinstance(p, SAFETY + (Sometimes,)) and p.name not in asymmetric}
    found: dict[str, Result] = {}
    stats = Stats()
    for k, each in enumerate(passes):
        left = {name: kind for name, kind in wanted.items() if name not in found}
        if k and not left:
            break
        results, stats, stopped, refused = _pass(family, table, left, each, limits, reporter, start)
        for name, r in results.items():
            if stopped or k == len(passes) - 1 or _settled(r, left[name]):
                found[name] = r
        if stopped:
            break
    out = []
    for p in props:
        if p.name in found:
            out.append(found[p.name])
        elif refused is not None:
            out.append(_refused(p.name, str(refused), stats, refused.limit))
        elif p.name in asymmetric:
            out.append(_refused(p.name, asymmetric[p.name], stats))
        else:
            out.append(Result(p.name, Verdict.UNKNOWN, ENGINE, None, stats,
                              "the parametric engine decides safety properties and reachability; use the "
                              "explicit engine at a fixed number of threads for hangs and liveness"))
    return out


def _pass(family: Callable[[int], System], table: str, wanted: dict[str, type], coarse: bool, limits: Limits,
          reporter: Reporter, start: float) -> tuple[dict[str, Result], Stats, bool, NotAbstractable | None]:
    """One abstraction's search: a Result per wanted property, the search's stats, whether
    it stopped at a limit, and why the model does not fit the abstraction (None: it does)."""
    try:
        abstraction = Abstraction(family, table, coarse)
        search = _Search(Stepper(abstraction, list(wanted)), abstraction.initial())
    except NotAbstractable as err:
        stats = Stats(seconds=time.perf_counter() - start)
        return {name: _refused(name, str(err), stats, err.limit) for name in wanted}, stats, False, err
    limit = None
    try:
        search.run(wanted, limits, reporter, start)
    except NotAbstractable as err:
        stats = search.stats(start)
        return {name: _refused(name, str(err), stats, err.limit) for name in wanted}, stats, False, err
    except Limit as err:
        limit = err.what
    stats = search.stats(start)
    counting = search.stepper.counting
    confirmed = confirm(family, table, {name: search.depth[search.first[name]] for name, kind in wanted.items()
                                        if name in search.first and name not in counting
                                        and not (kind is NoDeadlock and "deadlock" in counting)},
                        limits, stats)
    out = {}
    for name, kind in wanted.items():
        why = counting.get("deadlock" if kind is NoDeadlock else name)
        if why is not None:
            out[name] = _refused(name, why, stats)
        elif name in search.first:
            out[name] = confirmed[name]
        elif limit is not None:
            out[name] = Result(name, Verdict.UNKNOWN, ENGINE, None, stats,
                               f"limit reached: {limit}; no violation in the {stats.states} abstract states met",
                               limit=limit)
        elif kind is Sometimes:
            out[name] = Result(name, Verdict.VIOLATED, ENGINE, None, stats,
                               f"unreachable for any number of {table} threads" if family(1).prop(name).query else
                               f"never reached for any number of {table} threads (vacuous)")
        else:
            out[name] = Result(name, Verdict.HOLDS, ENGINE, None, stats,
                               f"for any number of {table} threads ({stats.states} abstract states)")
    return out, stats, limit is not None, None


def _settled(r: Result, kind: type) -> bool:
    """Whether the coarse pass decided it: a proof, a confirmed trace, or a query unreachable
    (the coarse abstraction covers every behaviour the finer one does); a refusal or a lead
    the explicit engine did not confirm goes to the finer abstraction."""
    return r.verdict is Verdict.HOLDS or r.trace is not None or (kind is Sometimes and r.verdict is Verdict.VIOLATED)


def _asymmetric(family: Callable[[int], System], names: list[str]) -> dict[str, str]:
    """Properties whose truth depends on which thread of the table is which: not for every N."""
    two = family(2)
    index = [i for i, p in enumerate(two.properties) if p.name in names and not isinstance(p, (NoHang, LeadsTo))]
    return {two.properties[i].name: why for i, why in unsupported(two, index).items()}


def no_family(system: System, names: list[str] | None) -> list[Result]:
    why = "no thread table with a `count` of 2 or more: nothing to prove for any number of threads"
    return [_refused(p.name, why, Stats()) for p in system.properties if names is None or p.name in names]


def _refused(name: str, why: str, stats: Stats, limit: str | None = None) -> Result:
    return Result(name, Verdict.UNKNOWN, ENGINE, None, stats, f"no parametric proof: {why}", limit=limit)


__all__ = ["check_parametric", "no_family", "ENGINE"]
