"""Bounded model checking: paths from an initial state, unrolled one step at a time in Z3.

Only simple paths (all states distinct) are unrolled: a shortest path to any state is simple,
so no shortest counterexample is lost, and once no simple path of length k+1 exists every
reachable state lies within depth k, which turns "no violation so far" into a proof.
Every trace Z3 offers is replayed with the explicit semantics before it is reported.
"""
from __future__ import annotations

import time

import z3

from interpcheck.model.ir import (ActionProperty, BoundExceeded, Invariant, LeadsTo, NoDeadlock, NoHang, Sometimes,
                                  System)
from ..explicit.semantics import compile_system, Compiled

from ..result import Result, Stats, Trace, Verdict, not_decided
from .solver import Solver, SolverUnknown, values
from .translate import State, Translator

ENGINE = "bmc"
LIVENESS = (NoHang, LeadsTo)
STATE_GOALS = (Invariant, NoDeadlock, Sometimes)  # decided on a state; an ActionProperty on a step out of it


class ReplayError(RuntimeError):
    """Z3 offered a trace the explicit semantics does not confirm: an engine bug, never a verdict."""


class Unrolling:
    """Simple paths s_0 → … → s_depth from an initial state, grown a step at a time."""

    def __init__(self, tr: Translator, solver: Solver, tag: str = ""):
        self.tr, self.solver, self.tag = tr, solver, tag
        self.states: list[State] = [tr.state(f"{tag}0")]
        solver.add(tr.in_domain(self.states[0]))

    @property
    def depth(self) -> int:
        return len(self.states) - 1

    @property
    def last(self) -> State:
        return self.states[-1]

    def extend(self) -> None:
        k = len(self.states)
        s = self.tr.state(f"{self.tag}{k}")
        chosen = z3.Int(f"action@{self.tag}{k - 1}", self.tr.ctx)
        self.solver.add(self.tr.in_domain(s), self.tr.step(self.last, s, chosen),
                        *[self.tr.distinct(s, t) for t in self.states])
        self.states.append(s)

    def find(self, condition: z3.BoolRef) -> list[tuple[int, ...]] | None:
        """Concrete states of an unrolled path where `condition` holds, or None."""
        with self.solver.new_frame():
            self.solver.add(condition)
            if not self.solver.satisfiable():
                return None
            model = self.solver.model()
            return [values(model, s) for s in self.states]


class BaseCase:
    """Checks properties on the states exactly `depth` steps from an initial state."""

    def __init__(self, system: System, tr: Translator, solver: Solver):
        self.system, self.tr, self.solver = system, tr, solver
        self.compiled = compile_system(system)
        self.paths = Unrolling(tr, self.solver)
        self.solver.add(tr.initial(self.paths.states[0]))

    @property
    def depth(self) -> int:
        return self.paths.depth

    def extend(self) -> bool:
        """One step deeper; False when no simple path that long exists (everything was seen)."""
        self.paths.extend()
        return self.solver.satisfiable()

    def eventful(self, indices: list[int], steps: bool) -> bool:
        """Whether some listed property may fail at the current depth (an ActionProperty only
        with `steps`, as the overflow check): one query that usually spares one per property."""
        props = self.system.properties
        last = self.paths.last
        events = [self.tr.bad(props[i], last) for i in indices
                  if steps or not isinstance(props[i], ActionProperty)]
        if steps:
            events.append(self.tr.fault(last))
        return bool(events) and self.paths.find(z3.Or(*events)) is not None

    def violation(self, index: int) -> Trace | None:
        """A trace ending at the current depth where property `index` fails (its witness, for
        Sometimes); an ActionProperty's trace has one more step, the failing one."""
        prop = self.system.properties[index]
        states = self.paths.find(self.tr.bad(prop, self.paths.last))
        return None if states is None else replay(self.system, self.compiled, states, index)

    def fault(self) -> str | None:
        """Why the explicit engine would stop at a state of the current depth, or None."""
        states = self.paths.find(self.tr.fault(self.paths.last))
        if states is None:
            return None
        err = replay_fault(self.system, self.compiled, states)
        return f"limit reached: {err.message(self.system)} (at depth {len(states) - 1})"


def _path_actions(system: System, compiled: Compiled, states: list[tuple[int, ...]], what: str) -> list[int]:
    """The lowest-numbered action explaining each step; ReplayError when some step has none."""
    if states[0] not in system.initial:
        raise ReplayError(f"{system.name}: the Z3 trace for {what} starts outside the initial states")
    actions = []
    for n, (pre, post) in enumerate(zip(states, states[1:])):
        k = next((k for k, nxt in compiled.successors(pre) if nxt == post), None)
        if k is None:
            raise ReplayError(f"{system.name}: no action leads from step {n} to step {n + 1} "
                              f"of the Z3 trace for {what}")
        actions.append(k)
    return actions


def replay(system: System, compiled: Compiled, states: list[tuple[int, ...]], index: int) -> Trace:
    """Confirms a Z3 trace with the explicit semantics and returns it as a Trace."""
    prop = system.properties[index]
    states = [tuple(s) for s in states]
    actions = _path_actions(system, compiled, states, prop.name)
    last = states[-1]
    if isinstance(prop, Invariant):
        confirmed = index in compiled.invariants(last)
    elif isinstance(prop, NoDeadlock):
        confirmed = (not compiled.successors(last) and not compiled.halted(last)
                     and not all(f(last) for f in compiled.finished))
    elif isinstance(prop, ActionProperty):
        step = next(((k, n) for k, n in compiled.successors(last)
                     if index in compiled.action_checks(k, last, n)), None)
        confirmed = step is not None
        if step is not None:
            actions.append(step[0])
            states.append(step[1])
    elif isinstance(prop, Sometimes):
        confirmed = compiled.predicate(prop.expr)(last)
    else:
        raise TypeError(f"no trace replay for {type(prop).__name__}")
    if not confirmed:
        raise ReplayError(f"{system.name}: the Z3 trace for {prop.name} does not end in a "
                          f"{'witness' if isinstance(prop, Sometimes) else 'violation'} when replayed")
    return Trace(tuple(states), tuple(actions))


def replay_fault(system: System, compiled: Compiled, states: list[tuple[int, ...]]) -> BoundExceeded:
    """Confirms that a step from the trace's last state overflows (an IndexError propagates,
    as in the explicit engine: the model itself is wrong)."""
    states = [tuple(s) for s in states]
    _path_actions(system, compiled, states, "a bound overflow")
    try:
        compiled.successors(states[-1])
    except BoundExceeded as err:
        return err
    raise ReplayError(f"{system.name}: no step from the last state of the Z3 overflow trace overflows")


def check_bmc(system: System, names: list[str] | None = None, depth: int = 20,
              time_limit: float | None = None, max_memory: int | None = None) -> list[Result]:
    """A Result per property named (all when None), in the system's order, from paths of at most
    `depth` steps; HOLDS only when the recurrence diameter shows every reachable state was seen."""
    start = time.perf_counter()
    tr = Translator(system, z3.Context())
    props = system.properties
    wanted = [i for i, p in enumerate(props) if names is None or p.name in names]
    open_ = [i for i in wanted if not isinstance(props[i], LIVENESS)]
    found: dict[int, Trace] = {}
    complete_at: int | None = None
    limit: str | None = None
    base = BaseCase(system, tr, solver_for(tr, start, time_limit, max_memory))
    try:
        for k in range(depth + 1):
            if k > 0 and not base.extend():
                complete_at = k - 1
                break
            if not base.eventful(open_, steps=k < depth):
                continue
            _search(base, open_, found, STATE_GOALS)
            if k == depth or not open_:
                break
            limit = base.fault()
            if limit:
                depth = k   # the explicit engine stops here too, after checking these states
                break
            _search(base, open_, found, ActionProperty)
    except SolverUnknown as err:
        limit = f"{err} at depth {base.depth}"
        depth = base.depth - 1   # every shorter path was searched
    reached = complete_at if complete_at is not None else base.depth
    stats = Stats(depth=reached, seconds=time.perf_counter() - start)
    return [_result(props[i], found.get(i), complete_at, limit, depth, stats) for i in wanted]


def searched_up_to(prop, depth: int) -> str:
    """What a search without a verdict established, for a Result's reason."""
    if depth < 0:
        return "nothing searched yet"
    return f"{'no witness' if isinstance(prop, Sometimes) else 'no violation'} up to depth {depth}"


def solver_for(tr: Translator, start: float, time_limit: float | None, max_memory: int | None = None) -> Solver:
    """A solver that stops answering `time_limit` seconds after `start`, or past `max_memory` MiB."""
    if time_limit is None:
        return Solver(tr.ctx, max_memory=max_memory)
    return Solver(tr.ctx, deadline=start + time_limit, limit=f"limit reached: time-limit {time_limit:g}s",
                  max_memory=max_memory)


def _search(base: BaseCase, open_: list[int], found: dict[int, Trace], kinds) -> None:
    for i in list(open_):
        if isinstance(base.system.properties[i], kinds):
            trace = base.violation(i)
            if trace is not None:
                found[i] = trace
                open_.remove(i)


def _result(prop, trace: Trace | None, complete_at: int | None, limit: str | None, depth: int,
            stats: Stats) -> Result:
    if isinstance(prop, LIVENESS):
        return not_decided(prop.name, ENGINE, stats, "bmc decides safety properties; use --engine explicit for "
                                                     "hangs and liveness")
    witness = isinstance(prop, Sometimes)
    if trace is not None:
        if witness:
            return Result(prop.name, Verdict.HOLDS, ENGINE, trace, stats, "witness")
        return Result(prop.name, Verdict.VIOLATED, ENGINE, trace, stats)
    if limit is not None:
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, stats, f"{limit}; {searched_up_to(prop, depth)}",
                      limit=limit)
    if complete_at is not None:
        return complete_result(prop, complete_at, ENGINE, stats)
    return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, stats, searched_up_to(prop, depth))


def complete_result(prop, complete_at: int, engine: str, stats: Stats) -> Result:
    """No loop-free path is longer than `complete_at`: what was not met, cannot be."""
    complete = f"complete: recurrence diameter {complete_at}"
    if isinstance(prop, Sometimes):
        return Result(prop.name, Verdict.VIOLATED, engine, None, stats,
                      f"never reached: the scenario never gets there (vacuous); {complete}")
    return Result(prop.name, Verdict.HOLDS, engine, None, stats, complete)
