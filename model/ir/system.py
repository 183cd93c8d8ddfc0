"""The transition system every engine reads: variables, actions, properties.

A state is a tuple of ints, one slot per scalar or array element. An action is a guarded
command (guard + simultaneous assignments) taken by one thread; blocking is a false guard.
Actions carry the C call they stand for, so a trace reads as the schedule of a C program.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence, Union

from .expr import FALSE, TRUE, Const, Expr, ExprLike, Read, lift


@dataclass(frozen=True)
class Domain:
    """Integers lo..hi; `labels[v - lo]` is how value v is printed (enum names, handles)."""
    lo: int
    hi: int
    labels: tuple[str, ...] | None = None

    def show(self, value: int) -> str:
        if self.labels is not None and self.lo <= value <= self.hi:
            return self.labels[value - self.lo]
        return str(value)

    def values(self) -> range:
        return range(self.lo, self.hi + 1)

    @property
    def is_enum(self) -> bool:
        return self.labels is not None


BOOL = Domain(0, 1)


def enum(*labels: str) -> Domain:
    return Domain(0, len(labels) - 1, tuple(labels))


@dataclass(frozen=True, eq=False)
class Var:
    """A state variable: a scalar (length 1) or a fixed array, stored in slots base..base+length-1."""
    name: str
    domain: Domain
    length: int
    base: int
    scalar: bool
    labels: tuple[str, ...] | None = None  # element names, e.g. thread names for per-thread arrays

    def __getitem__(self, index: ExprLike) -> Read:
        return Read(self, lift(index))

    def slot_name(self, offset: int) -> str:
        if self.scalar:
            return self.name
        key = self.labels[offset] if self.labels else str(offset)
        return f"{self.name}[{key}]"


@dataclass(frozen=True)
class Assign:
    target: Read
    value: Expr


@dataclass(frozen=True)
class Check:
    """An action property's obligation on one action: `holds` over the pre state and primed reads."""
    prop: str
    holds: Expr


@dataclass(frozen=True)
class Action:
    name: str                       # what it models (API function or program step)
    thread: int | None              # index into System.threads; None for the environment
    guard: Expr
    updates: tuple[Assign, ...]
    call: str                       # the C call as written, e.g. "PyThreadState_Ensure(g)"
    result: Read | None = None      # read in the successor state and printed as "-> value"
    checks: tuple[Check, ...] = ()
    note: str = ""                  # what the step did internally, e.g. "interpreter main: finalizing"

    def slots_written(self) -> set[int]:
        """The slots this step may write: a computed index counts as the whole array."""
        out: set[int] = set()
        for u in self.updates:
            var = u.target.var
            if isinstance(u.target.index, Const):
                out.add(var.base + u.target.index.value)
            else:
                out.update(range(var.base, var.base + var.length))
        return out


@dataclass(frozen=True)
class Invariant:
    name: str
    holds: Expr
    doc: str = ""
    why: str = ""  # printed at the violating step


@dataclass(frozen=True)
class ActionProperty:
    """Holds when every Check named after it holds on every reachable transition."""
    name: str
    doc: str = ""
    why: str = ""


@dataclass(frozen=True)
class NoDeadlock:
    """No reachable state without successors, unless every thread finished or the system halted."""
    name: str = "no_deadlock"
    doc: str = "Some thread can always move until every thread has finished."
    why: str = "no thread can take a step, yet not every thread has finished"


@dataclass(frozen=True)
class NoHang:
    """No reachable state from which some unfinished thread can never take a step again."""
    name: str = "no_thread_hung"
    doc: str = "Every thread that has not finished can eventually take another step."
    why: str = "it is blocked or hung for good"


@dataclass(frozen=True)
class LeadsTo:
    """trigger ~> goal under weak fairness per thread (`eventually goal` when trigger is TRUE)."""
    name: str
    trigger: Expr
    goal: Expr
    doc: str = ""
    why: str = ""


@dataclass(frozen=True)
class Sometimes:
    """A witness: fails when no reachable state satisfies `expr` (vacuity alarm), or a user's
    reachability query (`query`): then the witness trace is the answer and is shown."""
    name: str
    expr: Expr
    doc: str = ""
    why: str = ""
    query: bool = False


Property = Union[Invariant, ActionProperty, NoDeadlock, NoHang, LeadsTo, Sometimes]


@dataclass(frozen=True)
class ThreadGroup:
    """Threads that are interchangeable: same program, same start (a spec's `count`).

    `slots[j]` lists the slots that belong to `threads[j]` (its program counter, registers,
    its elements of per-thread arrays, the handle slots its call sites create), in the same
    order for every thread, so `slots[j][m]` and `slots[i][m]` play the same role.
    `values[c][j]` lists, for value class `c`, the values that name `threads[j]` or one of
    its objects (a holder domain's `t + 1`, its thread-state handles), again role by role."""
    threads: tuple[int, ...]
    slots: tuple[tuple[int, ...], ...]
    values: tuple[tuple[str, tuple[tuple[int, ...], ...]], ...] = ()


@dataclass(frozen=True)
class Symmetry:
    """Permutations of each group's threads, moving their slots and renaming the values that
    name them, map the system onto itself: reachable states to reachable states, actions of
    one thread to the same actions of another. `classes[slot]` names the value class a slot
    holds (None when its values name no thread). The model compiler that builds a System
    vouches for this; the explicit engine checks the properties it is used with."""
    groups: tuple[ThreadGroup, ...]
    classes: tuple[str | None, ...]


@dataclass
class SystemFacts:
    """What a model builder declares beyond the transition system, for engines and renderers
    to read instead of guessing from names: the design it was built for, each thread's
    program counter, the interpreters, the invariants k-induction may assume once proven, and
    where each call is in the user's source."""
    design: str = ""
    program_counters: dict[str, str] = field(default_factory=dict)   # thread -> its program counter variable
    interpreters: tuple[str, ...] = ()
    lemmas: tuple[str, ...] = ()
    call_sites: dict[int, str] = field(default_factory=dict)         # action index -> "file:line"
    thread_slots: tuple[tuple[int, ...], ...] = ()   # per thread, the slots it owns (stores keep them together)

    def pc_of(self, thread: str) -> str | None:
        return self.program_counters.get(thread)


@dataclass(frozen=True)
class System:
    name: str
    variables: tuple[Var, ...]
    initial: tuple[tuple[int, ...], ...]
    actions: tuple[Action, ...]
    properties: tuple[Property, ...]
    threads: tuple[str, ...]
    finished: tuple[Expr, ...]      # per thread: it has returned (not merely blocked)
    halted: Expr = FALSE            # the whole system stopped on purpose (e.g. the process crashed)
    bounds: dict[str, str] = field(default_factory=dict, compare=False)  # variable -> the spec bound sizing it
    symmetry: Symmetry | None = field(default=None, compare=False)  # interchangeable threads, if any
    facts: SystemFacts = field(default_factory=lambda: SystemFacts(), compare=False)   # declared by the builder

    @property
    def width(self) -> int:
        return sum(v.length for v in self.variables)

    def prop(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    def slot_names(self) -> list[str]:
        names = [""] * self.width
        for v in self.variables:
            for k in range(v.length):
                names[v.base + k] = v.slot_name(k)
        return names

    def show_slot(self, slot: int, value: int) -> str:
        for v in self.variables:
            if v.base <= slot < v.base + v.length:
                return v.domain.show(value)
        raise IndexError(slot)

    def var(self, name: str) -> Var:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)


class Builder:
    """Allocates slots and collects actions; `build()` freezes the result into a System."""

    def __init__(self, name: str, threads: Sequence[str]):
        self.name = name
        self.threads = tuple(threads)
        self.variables: list[Var] = []
        self.init: list[int] = []
        self.actions: list[Action] = []
        self.properties: list[Property] = []
        self.facts = SystemFacts()
        self.bounds: dict[str, str] = {}    # variable name -> the spec's bound that sizes it

    def _add(self, name: str, domain: Domain, length: int, scalar: bool,
             init: Sequence[int], labels: Sequence[str] | None) -> Var:
        if any(v.name == name for v in self.variables):
            raise ValueError(f"variable {name} declared twice")
        for value in init:
            if not domain.lo <= value <= domain.hi:
                raise ValueError(f"initial value {value} of {name} outside {domain.lo}..{domain.hi}")
        var = Var(name, domain, length, len(self.init), scalar, tuple(labels) if labels else None)
        self.variables.append(var)
        self.init.extend(init)
        return var

    def scalar(self, name: str, domain: Domain, init: int = 0) -> Read:
        """A scalar variable, returned as the expression that reads it (also an assignment target)."""
        return self._add(name, domain, 1, True, [init], None)[0]

    def array(self, name: str, length: int, domain: Domain, init: int | Sequence[int] = 0,
              labels: Sequence[str] | None = None) -> Var:
        values = [init] * length if isinstance(init, int) else list(init)
        if len(values) != length:
            raise ValueError(f"{name}: {len(values)} initial values for {length} elements")
        return self._add(name, domain, length, False, values, labels)

    def action(self, action: Action) -> None:
        self.actions.append(action)

    def prop(self, prop: Property) -> None:
        self.properties.append(prop)

    def build(self, finished: Sequence[ExprLike], halted: ExprLike = FALSE) -> System:
        if len(finished) != len(self.threads):
            raise ValueError("one `finished` predicate per thread")
        return System(self.name, tuple(self.variables), (tuple(self.init),), tuple(self.actions),
                      tuple(self.properties), self.threads, tuple(lift(f) for f in finished),
                      lift(halted), bounds=dict(self.bounds), facts=replace(self.facts))


def assign(target: Read, value: ExprLike) -> Assign:
    if target.primed:
        raise ValueError("cannot assign to a primed read")
    return Assign(target, lift(value))


__all__ = ["Domain", "BOOL", "enum", "Var", "Assign", "Check", "Action", "Invariant",
           "ActionProperty", "NoDeadlock", "NoHang", "LeadsTo", "Sometimes", "Property",
           "System", "SystemFacts", "Builder", "assign", "TRUE", "FALSE", "Const", "ThreadGroup", "Symmetry"]


class BoundExceeded(Exception):
    """A step wrote a value outside its variable's domain: the model's bound is too small."""

    def __init__(self, action: int, variable: str, value: int):
        super().__init__(f"{variable} = {value}")
        self.action, self.variable, self.value = action, variable, value

    def message(self, system) -> str:
        """What every engine tells the user: the call that overflows and which bound to raise."""
        bound = system.bounds.get(self.variable)
        advice = f"raise `{bound}` under [bounds] in the spec" if bound else "raise the bound in the spec"
        return f"bound: {self.variable} would become {self.value} in {system.actions[self.action].call}; {advice}"
