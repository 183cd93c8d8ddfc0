"""k-induction over simple paths, with strengthening lemmas.

A safety property P becomes a state predicate (an ActionProperty: "every checked step out of
here passes its check"; NoDeadlock: "some action is enabled, or the run is over"), conjoined
with "no step from here leaves a domain", so HOLDS also means the explicit engine would never
stop at a bound. P is proven at k when no path violates it within depth k (the base case, which
is BMC and yields the shortest trace) and every simple path of k+1 P-states continues in a
P-state (the step case). Lemmas are assumed in the step only once they are proven themselves,
alone or together with the property they help.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial
from typing import Callable

import z3

from interpcheck.model.ir import (ActionProperty, BoundExceeded, Const, Invariant, NoDeadlock, Read, Sometimes,
                                  System, evaluate, walk)
from ..explicit.semantics import Compiled

from ..result import Result, Stats, Trace, Verdict, not_decided
from .bmc import LIVENESS, complete_result, STATE_GOALS, BaseCase, Unrolling, searched_up_to, solver_for
from .solver import Solver, SolverUnknown
from .translate import State, Translator

ENGINE = "k-induction"
SAFETY = (Invariant, ActionProperty, NoDeadlock)


@dataclass(frozen=True)
class Cti:
    """A counterexample to induction: the last two states of the step case's path. `before`
    satisfies the goals and every proven lemma, yet its step `action` (None: not found) leads
    to `after`, where `fails` says what goes wrong. `shown` are the slots of `before` worth
    reading: those the property and the step's guard read, those the step changes, and the
    program counters."""
    before: tuple[int, ...]
    after: tuple[int, ...]
    action: int | None = None
    fails: str = ""
    shown: tuple[int, ...] = ()


@dataclass
class StepCase:
    """Simple paths t_0 → … → t_{k+1} from anywhere, the goals holding on all but the last."""

    def __init__(self, tr: Translator, solver: Solver, goals: list[int], lemmas: list[int]):
        self.tr, self.solver, self.goals = tr, solver, goals
        self.paths = Unrolling(tr, self.solver, tag="t")
        self.lemmas: list[int] = []
        self.holding = 0  # how many leading states are asserted to satisfy the goals
        for lemma in lemmas:
            self.assume(lemma)

    def assume(self, lemma: int) -> None:
        """A proven invariant holds on every reachable state, so on every state of the path."""
        self.lemmas.append(lemma)
        prop = self.tr.system.properties[lemma]
        self.solver.add(*[z3.Not(self.tr.bad(prop, s)) for s in self.paths.states])

    def _good(self, s: State) -> z3.BoolRef:
        props = self.tr.system.properties
        return z3.And(z3.Not(self.tr.fault(s)), *[z3.Not(self.tr.bad(props[g], s)) for g in self.goals])

    def inductive(self, k: int) -> Cti | None:
        """None when k+1 goal states are always followed by a goal state, else the two last states."""
        props = self.tr.system.properties
        while self.paths.depth < k + 1:
            self.paths.extend()
            s = self.paths.last
            self.solver.add(*[z3.Not(self.tr.bad(props[lemma], s)) for lemma in self.lemmas])
        while self.holding <= k:
            self.solver.add(self._good(self.paths.states[self.holding]))
            self.holding += 1
        states = self.paths.find(z3.Not(self._good(self.paths.states[k + 1])))
        return None if states is None else Cti(states[k], states[k + 1])


@dataclass
class _Run:
    """What is known about each property so far."""
    system: System
    base: BaseCase
    lemmas: list[int]
    found: dict[int, Trace]
    proved: dict[int, str]
    cti: dict[int, Cti]
    steps: dict[tuple[int, ...], StepCase]
    new_solver: Callable[[], Solver]

    def open(self, i: int) -> bool:
        return i not in self.found and i not in self.proved

    def step(self, goals: list[int], k: int) -> Cti | None:
        key = tuple(goals)
        assumed = [m for m in self.lemmas if m in self.proved and m not in goals]
        if key not in self.steps:
            self.steps[key] = StepCase(self.base.tr, self.new_solver(), goals, assumed)
        case = self.steps[key]
        for m in assumed:
            if m not in case.lemmas:
                case.assume(m)
        return case.inductive(k)

    def prove(self, goals: list[int], k: int) -> bool:
        cti = self.step(goals, k)
        if cti is not None:
            if len(goals) == 1 or goals[0] not in self.cti:  # the goal's own CTI reads best
                self.cti[goals[0]] = cti
            return False
        props = self.system.properties
        used = [props[m].name for m in self.steps[tuple(goals)].lemmas]
        how = f"{k}-inductive"
        if len(goals) > 1:
            how += " together with " + ", ".join(props[g].name for g in goals[1:])
        if used:
            how += " assuming " + ", ".join(used)
        for g in goals:
            self.proved[g] = how
        return True


def check_induction(system: System, names: list[str] | None = None, max_k: int = 10,
                    assume: list[str] | None = None, time_limit: float | None = None,
                    max_memory: int | None = None) -> list[Result]:
    """A Result per property named (all when None), in the system's order. `assume` names
    Invariants to use as strengthening lemmas once they are proven."""
    start = time.perf_counter()
    tr = Translator(system, z3.Context())
    props = system.properties
    wanted = [i for i, p in enumerate(props) if names is None or p.name in names]
    lemmas = [_lemma(system, name) for name in (assume or [])]
    # A Sometimes is refuted by proving its negation invariant, like any other target.
    targets = [i for i in wanted if isinstance(props[i], SAFETY + (Sometimes,)) and i not in lemmas]
    searched = sorted(set(lemmas) | {i for i in wanted if isinstance(props[i], SAFETY + (Sometimes,))})
    new_solver = partial(solver_for, tr, start, time_limit, max_memory)
    run = _Run(system, BaseCase(system, tr, new_solver()), lemmas, {}, {}, {}, {}, new_solver)
    complete_at: int | None = None
    limit: str | None = None
    reached = 0
    try:
        for k in range(max_k + 1):
            if k > 0 and not run.base.extend():
                complete_at = k - 1
                break
            reached = k
            if run.base.eventful([i for i in searched if run.open(i)], steps=True):
                _base(run, searched, STATE_GOALS)
                limit = run.base.fault()
                if limit:
                    max_k = k
                    break
                _base(run, searched, ActionProperty)
            _steps(run, targets, k)
            if not any(run.open(i) for i in searched):
                break
    except SolverUnknown as err:
        limit = f"{err} at depth {run.base.depth}"
        max_k = run.base.depth - 1   # the base case searched every shorter path
    stats = Stats(depth=reached, seconds=time.perf_counter() - start)
    return [_result(run, i, complete_at, limit, max_k, stats) for i in wanted]


def _lemma(system: System, name: str) -> int:
    for i, p in enumerate(system.properties):
        if p.name == name:
            if not isinstance(p, Invariant):
                raise ValueError(f"lemma {name} is a {type(p).__name__}, not an Invariant")
            return i
    raise ValueError(f"no property named {name} to assume")


def _base(run: _Run, searched: list[int], kinds) -> None:
    for i in searched:
        if run.open(i) and isinstance(run.system.properties[i], kinds):
            trace = run.base.violation(i)
            if trace is not None:
                run.found[i] = trace


def _steps(run: _Run, targets: list[int], k: int) -> None:
    """Lemmas first, then each target alone, then each target together with the lemmas still
    open (a joint proof proves them all)."""
    while any([run.prove([m], k) for m in run.lemmas if run.open(m)]):
        pass  # until none more is proven: one lemma may need another
    for t in targets:
        if run.open(t):
            run.prove([t], k)
    for t in targets:
        helpers = [m for m in run.lemmas if run.open(m)]
        if run.open(t) and helpers:
            run.prove([t] + helpers, k)


def _result(run: _Run, i: int, complete_at: int | None, limit: str | None, max_k: int,
            stats: Stats) -> Result:
    prop = run.system.properties[i]
    if isinstance(prop, LIVENESS):
        return not_decided(prop.name, ENGINE, stats, "k-induction decides safety properties; use --engine "
                                                     "explicit for hangs and liveness")
    witness = isinstance(prop, Sometimes)
    if i in run.found:
        if witness:
            return Result(prop.name, Verdict.HOLDS, ENGINE, run.found[i], stats, "witness")
        return Result(prop.name, Verdict.VIOLATED, ENGINE, run.found[i], stats, "base case")
    if i in run.proved:
        if witness:
            return Result(prop.name, Verdict.VIOLATED, ENGINE, None, stats,
                          f"never reached: the scenario never gets there (vacuous); its negation is "
                          f"{run.proved[i]}")
        return Result(prop.name, Verdict.HOLDS, ENGINE, None, stats, run.proved[i])
    if limit is not None:
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, stats, f"{limit}; {searched_up_to(prop, max_k)}",
                      limit=limit)
    if complete_at is not None:
        return complete_result(prop, complete_at, ENGINE, stats)
    cti = run.cti.get(i)
    if witness:
        why = f"no witness up to depth {max_k} and its negation is not {max_k}-inductive"
    else:
        why = f"not {max_k}-inductive and no violation up to depth {max_k}"
    if cti is None:
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, stats, why)
    cti = explain_cti(run.system, run.base.compiled, i, cti)
    step = "some step" if cti.action is None else _call(run.system, cti.action)
    why += f"; counterexample to induction: {step} leads to a state where {cti.fails}"
    return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, stats, why, cti=cti)


def explain_cti(system: System, compiled: Compiled, index: int, cti: Cti) -> Cti:
    """The CTI with its step, what fails after it, and the slots of its first state to show."""
    prop = system.properties[index]
    action = _step(compiled, cti.before, cti.after)
    exprs = [prop.holds] if isinstance(prop, Invariant) else [prop.expr] if isinstance(prop, Sometimes) else []
    if action is not None:
        exprs.append(system.actions[action].guard)
    read = {j for e in exprs for j in _slots_read(e)}
    pcs = {system.var(pc).base for pc in system.facts.program_counters.values()}
    changed = {j for j, (a, b) in enumerate(zip(cti.before, cti.after)) if a != b}
    shown = tuple(sorted(read | pcs | changed))
    return replace(cti, action=action, fails=_what_fails(system, compiled, index, cti.after), shown=shown)


def _slots_read(expr) -> set[int]:
    out = set()
    for n in walk(expr):
        if isinstance(n, Read):
            at = [n.index.value] if isinstance(n.index, Const) else range(n.var.length)
            out.update(n.var.base + k for k in at)
    return out


def _call(system: System, k: int) -> str:
    action = system.actions[k]
    return action.call if action.thread is None else f"{system.threads[action.thread]}: {action.call}"


def _step(compiled: Compiled, before: tuple, after: tuple) -> int | None:
    try:
        return next((k for k, n in compiled.successors(before) if n == after), None)
    except (BoundExceeded, IndexError):
        return None


def _indexing_out_of_range(system: System, state: tuple) -> int | None:
    """The first action whose guard or updates index out of range in `state`, by the reference
    evaluator (the compiled successor function only says that one does)."""
    for k, action in enumerate(system.actions):
        try:
            if evaluate(action.guard, state):
                for u in action.updates:
                    evaluate(u.target.index, state)
                    evaluate(u.value, state)
        except IndexError:
            return k
    return None


def _what_fails(system: System, compiled: Compiled, index: int, state: tuple) -> str:
    prop = system.properties[index]
    try:
        succ = compiled.successors(state)
    except BoundExceeded as err:
        return f"{_call(system, err.action)} would set {err.variable} to {err.value}, outside its domain"
    except IndexError as err:
        k = _indexing_out_of_range(system, state)
        who = "a step" if k is None else _call(system, k)
        return f"{who} would index out of range ({err}): the state mixes values no run produces"
    if isinstance(prop, Invariant) and index in compiled.invariants(state):
        return f"{prop.name} is false"
    if isinstance(prop, Sometimes) and compiled.predicate(prop.expr)(state):
        return f"{prop.name} is reached"
    if isinstance(prop, NoDeadlock) and not succ:
        return "no action is enabled"
    if isinstance(prop, ActionProperty):
        for k, n in succ:
            if index in compiled.action_checks(k, state, n):
                return f"{_call(system, k)} would break {prop.name}"
    return "a lemma checked together with it fails"
