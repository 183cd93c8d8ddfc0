"""One abstract state's successors and property facts, computed on a concrete instance.

Every state with a view of count MANY stands for every number m >= 2 of threads per such
view. Its counters must be past every threshold the model compares them with (counters.py),
which proves the comparisons the same for all m; and it is computed twice, on instances with
two and with three threads per such view, which must agree (same successors, same
properties): a second line of defence for everything else that could count threads.
"""
from __future__ import annotations

from dataclasses import dataclass

from interpcheck.model.ir import ActionProperty, BoundExceeded, Invariant, NoDeadlock, Sometimes

from .counters import STEPS, Comparisons, comparisons, sensitive
from .views import MANY, Abstract, Abstraction, Instance, NotAbstractable


@dataclass(frozen=True)
class Step:
    label: str                  # "T: PyThreadState_Ensure(g)": the thread table for a group thread
    target: Abstract
    broken: frozenset[str]      # action properties the step breaks


@dataclass(frozen=True)
class Facts:
    steps: tuple[Step, ...]
    violated: frozenset[str]    # invariants false here
    deadlock: bool
    reached: frozenset[str]     # Sometimes predicates true here


class Stepper:
    def __init__(self, abstraction: Abstraction, wanted: list[str]):
        self.abs = abstraction
        # the threads an instance puts in a view of count MANY: every count it stands for up to 3
        self.copies = (1, 2, 3) if abstraction.coarse else (2, 3)
        self.wanted = wanted
        self._predicates: dict[int, dict[str, object]] = {}
        self.counting: dict[str, str] = {}   # property -> why its value depends on how many threads
        self._comparisons: dict[int, Comparisons] = {}   # instance size -> how its model compares counters
        self._steps_at: dict[str, list[str]] | None = None   # the threads' steps at every size from 2 on

    def facts(self, a: Abstract) -> Facts:
        """The steps must not depend on how many threads share a view, or nothing the search
        finds is sound; a property whose value does is left undecided, the others stand."""
        copies = self.copies
        first = self._facts(a, copies[0])
        if any(n == MANY for _, n in a[1]):
            for c in copies[1:]:
                other = self._facts(a, c)
                if frozenset(first.steps) != frozenset(other.steps):
                    raise NotAbstractable(self._counts("the steps taken"))
                for name in sorted((first.violated ^ other.violated) | (first.reached ^ other.reached)):
                    self.counting.setdefault(name, self._counts(f"whether {name} holds"))
                if first.deadlock != other.deadlock:
                    self.counting.setdefault("deadlock", self._counts("whether it is a deadlock"))
            self._counters_fixed(a)
        return first

    def _counters_fixed(self, a: Abstract) -> None:
        """Refuses the run when a step's comparison of a counter may change with the number of
        threads in a MANY view; leaves such a property undecided."""
        uses = self._comparisons[min(self._comparisons)]
        for reader, thresholds in uses.thresholds.items():
            moving = sensitive(a, self.abs.counters, thresholds, self.copies[0])
            if not moving:
                continue
            k = moving[0]
            name, t = self.abs.shared_names[self.abs.counters[k]], thresholds[k]
            why = (f"the model counts threads: {'a step' if reader == STEPS else reader} compares {name} "
                   f"with {t}, and with two or more threads of {self.abs.table} in one local state that count "
                   f"is not provably past {t} (or may fall)")
            if reader == STEPS:
                raise NotAbstractable(why)
            self.counting.setdefault(reader, why)

    def _compare(self, lay) -> None:
        """How this instance size's model compares counters; the same for every size, or the
        family is not one model with more threads."""
        size = len(lay.group.threads)
        if size in self._comparisons:
            return
        uses = comparisons(lay.system, [lay.shared[i] for i in self.abs.counters], self.wanted,
                           frozenset(lay.group.threads[1:]))
        for other in self._comparisons.values():
            if other.thresholds != uses.thresholds or other.refused != uses.refused:
                raise NotAbstractable(f"the model compares its counters differently with {size} threads "
                                      f"of {self.abs.table} than with fewer")
        # From 2 threads on, each thread outside the table and the table's first thread have
        # the same steps at every size (with 1, a thread may have fewer: no other to join).
        steps = self._steps_of(lay)
        if size >= 2:
            if self._steps_at is not None and steps != self._steps_at:
                raise NotAbstractable(f"the model's threads take other steps with {size} threads of "
                                      f"{self.abs.table} than with fewer: it is not one model with more threads")
            self._steps_at = steps
        self._comparisons[size] = uses
        for name, why in uses.refused.items():
            self.counting.setdefault(name, f"the model counts threads: {why}")

    def _steps_of(self, lay) -> dict[str, list[str]]:
        """Per thread outside the table, and for the table's first thread: its steps' calls."""
        first = lay.group.threads[0]
        out: dict[str, list[str]] = {}
        for action in lay.system.actions:
            t = action.thread
            if t is None or t == first or t not in lay.position:
                out.setdefault("environment" if t is None else lay.system.threads[t], []).append(action.call)
        return out

    def _facts(self, a: Abstract, copies: int) -> Facts:
        inst = self.abs.instance(a, copies)
        lay = inst.layout
        self._compare(lay)
        system, compiled = lay.system, lay.compiled
        s = inst.state
        # A sibling in a view of count MANY takes the same abstract steps as its entry's first
        # thread (the model's symmetry): its steps are not computed.
        try:
            succ = compiled.successors(s, inst.siblings)
        except BoundExceeded as err:
            raise NotAbstractable(f"limit reached: {err.message(system)}", limit=err.message(system)) from err
        steps = []
        for k, n in succ:
            action = system.actions[k]
            j = lay.position.get(action.thread)
            if j is not None and not inst.first[j]:
                continue   # a sibling in the same view: the same abstract step
            broken = frozenset(system.properties[i].name for i in compiled.action_checks(k, s, n))
            who = self.abs.table if j is not None else system.threads[action.thread] \
                if action.thread is not None else "environment"
            for target in self.abs.abstract(lay, n, self._contributions(inst, s, n, j), inst, j, k):
                steps.append(Step(f"{who}: {action.call}", target, broken))
        invariants = frozenset(system.properties[i].name for i in compiled.invariants(s))
        deadlock = not succ and not compiled.halted(s) and not all(f(s) for f in compiled.finished)
        reached = frozenset(name for name, p in self._sometimes(lay).items() if p(s))
        return Facts(tuple(steps), invariants, deadlock, reached)

    def _contributions(self, inst: Instance, s: tuple, n: tuple, j: int | None) -> list[tuple]:
        """A thread of the table owns what its step adds to a counter; other threads' steps
        change the residue."""
        out = list(inst.contributions)
        if j is None or not self.abs.counters:
            return out
        lay = inst.layout
        delta = [n[lay.shared[i]] - s[lay.shared[i]] for i in self.abs.counters]
        out[j] = tuple(c + d for c, d in zip(out[j], delta))
        return out

    def _sometimes(self, lay) -> dict:
        key = id(lay)
        if key not in self._predicates:
            self._predicates[key] = {p.name: lay.compiled.predicate(p.expr) for p in lay.system.properties
                                     if isinstance(p, Sometimes) and p.name in self.wanted}
        return self._predicates[key]

    def _counts(self, what: str) -> str:
        return (f"the model counts threads: with {' and with '.join(map(str, self.copies))} threads of "
                f"{self.abs.table} in one local state, {what} differs")


SAFETY = (Invariant, ActionProperty, NoDeadlock)
