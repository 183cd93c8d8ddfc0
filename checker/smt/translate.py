"""IR expressions and guarded commands as Z3 terms over the states of one unrolling step.

A state is one Z3 Int per slot, kept inside its variable's domain. A read with a dynamic
index becomes an ite chain over the elements the index can reach; a primed read takes the
successor state (real variables, or an action's computed successor). Every term carries the
condition under which the explicit engine's compiled code would fail evaluating it (an index
out of range), following that code's short-circuit `and`/`or` and lazy `ite`, so both engines
meet the same model errors. Nothing here is hand-written per model: it all comes from the IR.
"""
from __future__ import annotations

from dataclasses import dataclass

import z3

from interpcheck.model.ir import (ActionProperty, Const, Expr, Invariant, Ite, NoDeadlock, Op, Read,
                                  Sometimes, System)
from interpcheck.model.ir.facts import value_range

State = tuple[z3.ArithRef, ...]

_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


@dataclass(frozen=True)
class Term:
    value: z3.ExprRef               # a BoolRef or an ArithRef
    error: z3.BoolRef | None = None  # when evaluating it would fail; None: it never does


class Translator:
    """Builds Z3 terms for one System in one Z3 context."""

    def __init__(self, system: System, ctx: z3.Context):
        self.system, self.ctx = system, ctx
        self.true, self.false = z3.BoolVal(True, ctx), z3.BoolVal(False, ctx)
        self.slot_names = system.slot_names()
        self.domains = [None] * system.width
        for var in system.variables:
            for k in range(var.length):
                self.domains[var.base + k] = var.domain
        self._states: dict[str, State] = {}
        self._memo: dict[tuple, tuple] = {}

    # -- states ---------------------------------------------------------------------------

    def state(self, tag: str) -> State:
        """The state named `tag`; the same tuple every time, so translations of it are reused."""
        if tag not in self._states:
            self._states[tag] = tuple(z3.Int(f"{name}@{tag}", self.ctx) for name in self.slot_names)
        return self._states[tag]

    def memo(self, kind: tuple, objects: tuple, compute):
        """compute(), once per kind and identity of `objects` (expressions, states)."""
        key = kind + tuple(id(o) for o in objects)
        hit = self._memo.get(key)
        # An entry keeps its objects alive, so their ids are not reused while it exists.
        if hit is None or any(a is not b for a, b in zip(hit[0], objects)):
            hit = self._memo[key] = (objects, compute())
        return hit[1]

    def in_domain(self, s: State) -> z3.BoolRef:
        return self._and([z3.And(v >= d.lo, v <= d.hi) for v, d in zip(s, self.domains)])

    def initial(self, s: State) -> z3.BoolRef:
        return self._or([self._and([v == x for v, x in zip(s, init)]) for init in self.system.initial])

    def distinct(self, a: State, b: State) -> z3.BoolRef:
        return self._or([x != y for x, y in zip(a, b)])

    # -- expressions ----------------------------------------------------------------------

    def holds(self, expr: Expr, pre: State, post: State | None = None) -> z3.BoolRef:
        return self.as_bool(self.term(expr, pre, post).value)

    def fails(self, expr: Expr, pre: State, post: State | None = None) -> z3.BoolRef:
        """`expr` is false, or evaluating it would fail (the replay then shows which)."""
        t = self.term(expr, pre, post)
        return self._any(z3.Not(self.as_bool(t.value)), t.error)

    def term(self, e: Expr, pre: State, post: State | None = None) -> Term:
        return self.memo(("term",), (e, pre, post), lambda: self._term(e, pre, post))

    def _term(self, e: Expr, pre: State, post: State | None) -> Term:
        if isinstance(e, Const):
            return Term(z3.IntVal(e.value, self.ctx))
        if isinstance(e, Read):
            return self._read(e, pre, post)
        if isinstance(e, Ite):
            c, t, o = (self.term(x, pre, post) for x in (e.cond, e.then, e.other))
            cond = self.as_bool(c.value)
            if z3.is_bool(t.value) and z3.is_bool(o.value):
                value = z3.If(cond, t.value, o.value)
            else:
                value = z3.If(cond, self.as_int(t.value), self.as_int(o.value))
            branch = None
            if t.error is not None or o.error is not None:
                branch = z3.If(cond, t.error if t.error is not None else self.false,
                               o.error if o.error is not None else self.false)
            return Term(value, self._any(c.error, branch))
        if isinstance(e, Op):
            return self._op(e, pre, post)
        raise TypeError(f"unknown node {e!r}")

    def _op(self, e: Op, pre: State, post: State | None) -> Term:
        args = [self.term(a, pre, post) for a in e.args]
        if e.name in ("and", "or"):
            # Python's `and`/`or` stop at the first deciding operand: later errors need earlier ones.
            error = None
            for a in reversed(args):
                goes_on = self.as_bool(a.value) if e.name == "and" else z3.Not(self.as_bool(a.value))
                error = self._any(a.error, None if error is None else z3.And(goes_on, error))
            bools = [self.as_bool(a.value) for a in args]
            return Term(z3.And(*bools) if e.name == "and" else z3.Or(*bools), error)
        error = self._any(*(a.error for a in args))
        if e.name == "not":
            return Term(z3.Not(self.as_bool(args[0].value)), error)
        if e.name == "neg":
            return Term(-self.as_int(args[0].value), error)
        if e.name in _COMPARE:
            return Term(_COMPARE[e.name](self.as_int(args[0].value), self.as_int(args[1].value)), error)
        if e.name in _ARITH:
            return Term(_ARITH[e.name](self.as_int(args[0].value), self.as_int(args[1].value)), error)
        raise TypeError(f"unknown operator {e.name!r}")

    def _read(self, e: Read, pre: State, post: State | None) -> Term:
        tup = post if e.primed else pre
        if tup is None:
            raise ValueError(f"primed read of {e.var.name} outside an action check")
        index, lo, hi, error = self._index(e, pre, post)
        base = e.var.base
        if isinstance(index, int):
            return Term(tup[base + index])
        value = tup[base + hi]
        for j in range(hi - 1, lo - 1, -1):
            value = z3.If(index == j, tup[base + j], value)
        return Term(value, error)

    def _index(self, e: Read, pre: State, post: State | None):
        """(index as int or term, lowest and highest reachable element, error condition)."""
        length = e.var.length
        if isinstance(e.index, Const):
            if not 0 <= e.index.value < length:
                raise IndexError(f"{e.var.name}[{e.index.value}] out of range")
            return e.index.value, e.index.value, e.index.value, None
        t = self.term(e.index, pre, post)
        index = self.as_int(t.value)
        r = value_range(e.index)
        lo, hi = (max(0, r[0]), min(length - 1, r[1])) if r is not None else (0, length - 1)
        error = t.error
        if r is None or r[0] < 0 or r[1] >= length:
            error = self._any(error, z3.Not(z3.And(index >= 0, index < length)))
        if lo > hi:  # never in range: every evaluation fails
            lo = hi = 0
        return index, lo, hi, error

    # -- actions --------------------------------------------------------------------------

    def enabled(self, k: int, pre: State) -> z3.BoolRef:
        return self.holds(self.system.actions[k].guard, pre)

    def updates(self, k: int, pre: State):
        """(slot → value in the successor for each slot the action may write, error, overflow).

        All targets and values are computed on the pre state, then written in order, as the
        compiled `successors` does; overflow is a value outside its variable's domain."""
        return self.memo(("updates", k), (pre,), lambda: self._updates(k, pre))

    def _updates(self, k: int, pre: State):
        written: dict[int, z3.ArithRef] = {}
        errors, overflows = [], []
        for upd in self.system.actions[k].updates:
            var = upd.target.var
            index, lo, hi, error = self._index(upd.target, pre, None)
            value = self.term(upd.value, pre)
            v = self.as_int(value.value)
            errors += [error, value.error]
            dom, r = var.domain, value_range(upd.value)
            if r is None or r[0] < dom.lo or r[1] > dom.hi:
                overflows.append(z3.Not(z3.And(v >= dom.lo, v <= dom.hi)))
            for j in range(lo, hi + 1):
                slot = var.base + j
                old = written.get(slot, pre[slot])
                written[slot] = v if isinstance(index, int) else z3.If(index == j, v, old)
        return written, self._any(*errors), self._any(*overflows)

    def successor(self, k: int, pre: State) -> State:
        def compute() -> State:
            written = self.updates(k, pre)[0]
            return tuple(written.get(j, v) for j, v in enumerate(pre))
        return self.memo(("successor", k), (pre,), compute)

    def step(self, pre: State, nxt: State, chosen: z3.ArithRef) -> z3.BoolRef:
        """nxt follows pre by action number `chosen` (the trace's action is re-derived on replay)."""
        n = len(self.system.actions)
        if n == 0:
            return self.false
        guard = self.enabled(n - 1, pre)
        for k in range(n - 2, -1, -1):
            guard = z3.If(chosen == k, self.enabled(k, pre), guard)
        parts = [chosen >= 0, chosen < n, guard]
        values = list(pre)
        for k in range(n - 1, -1, -1):
            for j, v in self.updates(k, pre)[0].items():
                values[j] = z3.If(chosen == k, v, values[j])
        parts += [x == v for x, v in zip(nxt, values)]
        return z3.And(*parts)

    def fault(self, pre: State) -> z3.BoolRef:
        """Some step from pre would stop the explicit engine: an index out of range or a value
        outside its domain (BoundExceeded)."""
        return self.memo(("fault",), (pre,), lambda: self._fault(pre))

    def _fault(self, pre: State) -> z3.BoolRef:
        faults = []
        for k, action in enumerate(self.system.actions):
            guard = self.term(action.guard, pre)
            _, error, overflow = self.updates(k, pre)
            inner = self._any(error, overflow)
            faults.append(guard.error)
            if inner is not None:
                faults.append(z3.And(self.as_bool(guard.value), inner))
        return self._or([f for f in faults if f is not None])

    # -- properties -----------------------------------------------------------------------

    def bad(self, prop, s: State) -> z3.BoolRef:
        """A state where the property fails: for an action property, one from which a checked
        step fails its check; for Sometimes, a witness."""
        return self.memo(("bad",), (prop, s), lambda: self._bad(prop, s))

    def _bad(self, prop, s: State) -> z3.BoolRef:
        if isinstance(prop, Invariant):
            return self.fails(prop.holds, s)
        if isinstance(prop, NoDeadlock):
            stuck = z3.Not(self._or([self.enabled(k, s) for k in range(len(self.system.actions))]))
            stop = self.fails(self.system.halted, s)
            done = self._or([self.fails(f, s) for f in self.system.finished])
            return z3.And(stuck, stop, done)
        if isinstance(prop, ActionProperty):
            cases = []
            for k, action in enumerate(self.system.actions):
                for check in action.checks:
                    if check.prop == prop.name:
                        cases.append(z3.And(self.enabled(k, s),
                                            self.fails(check.holds, s, self.successor(k, s))))
            return self._or(cases)
        if isinstance(prop, Sometimes):
            return self.holds(prop.expr, s)
        raise TypeError(f"no state predicate for {type(prop).__name__}")

    # -- small term helpers -----------------------------------------------------------------

    def as_bool(self, t: z3.ExprRef) -> z3.BoolRef:
        return t if z3.is_bool(t) else t != 0

    def as_int(self, t: z3.ExprRef) -> z3.ArithRef:
        return z3.If(t, z3.IntVal(1, self.ctx), z3.IntVal(0, self.ctx)) if z3.is_bool(t) else t

    def _and(self, terms: list) -> z3.BoolRef:
        return self.true if not terms else terms[0] if len(terms) == 1 else z3.And(*terms)

    def _or(self, terms: list) -> z3.BoolRef:
        return self.false if not terms else terms[0] if len(terms) == 1 else z3.Or(*terms)

    def _any(self, *terms: z3.BoolRef | None) -> z3.BoolRef | None:
        present = [t for t in terms if t is not None]
        return None if not present else self._or(present)
