"""Random small IR systems, checked by breadth-first search and by the Z3 engines.

BFS is the reference: BMC must agree with it on violated-or-not and on the shortest trace
length, and k-induction must never prove what BFS refutes. The systems use every IR form the
Z3 translation handles: dynamic indices (guarded by short-circuit `and` or by `ite` where they
could leave the array), writes to the same variable twice in one action, primed reads in action
checks, and unclamped updates that overflow their domain.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpcheck.checker.explicit import check
from interpcheck.checker.result import Verdict
from interpcheck.checker.smt import check_bmc, check_induction
from interpcheck.model.ir import (BOOL, FALSE, Action, ActionProperty, Builder, Check, Const, Domain, Expr,
                                  Invariant, NoDeadlock, Op, Read, Var, all_of, assign, ite)

BMC_DEPTH = 10
MAX_K = 3
RANDOM = settings(max_examples=200, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Exprs:
    """Draws random expressions over the system's variables; `depth` bounds their nesting."""

    def __init__(self, draw, scalars: list[Read], arrays: list[Var], overflow: bool):
        self.draw, self.scalars, self.arrays = draw, scalars, arrays
        self.overflow = overflow  # whether some updates may leave their domain

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def int_(self, depth: int, primed: bool = False) -> Expr:
        kind = self.pick(["const", "read", "read"] + ["arith", "ite"] * (depth > 0))
        if kind == "const":
            return Const(self.draw(st.integers(-1, 2)))
        if kind == "read":
            return self.read(depth, primed)
        if kind == "arith":
            op = self.pick(["+", "-", "+", "*"])
            right = Const(self.draw(st.integers(-1, 2))) if op == "*" else self.int_(depth - 1, primed)
            return Op(op, (self.int_(depth - 1, primed), right))
        return ite(self.bool_(depth - 1, primed), self.int_(depth - 1, primed), self.int_(depth - 1, primed))

    def read(self, depth: int, primed: bool = False) -> Expr:
        kinds = ["scalar"] * bool(self.scalars) + ["element"] * bool(self.arrays)
        kinds += ["dynamic", "guarded"] * bool(self.arrays and depth > 0)
        kind = self.pick(kinds)
        if kind == "scalar":
            r = self.pick(self.scalars)
        else:
            arr = self.pick(self.arrays)
            if kind == "element":
                r = arr[self.draw(st.integers(0, arr.length - 1))]
            elif kind == "dynamic":
                r = arr[self.in_range_index(depth - 1)]
            else:  # any index, read only where the ite's condition keeps it in range
                i = self.any_index(depth - 1, arr)
                read = r = arr[i]
                if primed and self.draw(st.booleans()):
                    read = r.prime()
                return ite(all_of(i >= 0, i < arr.length), read, self.draw(st.integers(0, 1)))
        return r.prime() if primed and self.draw(st.booleans()) else r

    def any_index(self, depth: int, arr: Var) -> Expr:
        """An index that may leave the array at run time (a constant one is rejected when compiled)."""
        i = self.int_(depth)
        return Const(min(max(i.value, 0), arr.length - 1)) if isinstance(i, Const) else i

    def in_range_index(self, depth: int) -> Expr:
        small = [s for s in self.scalars if s.var.domain.hi <= 1]
        if small and self.draw(st.booleans()):
            return self.pick(small)
        return ite(self.bool_(depth), 1, 0)

    def bool_(self, depth: int, primed: bool = False) -> Expr:
        kinds = ["compare", "compare", "truthy"] + ["not", "and", "or", "guarded"] * (depth > 0)
        kind = self.pick(kinds)
        if kind == "compare":
            op = self.pick(["==", "!=", "<", "<=", ">", ">="])
            return Op(op, (self.int_(depth, primed), self.int_(0, primed)))
        if kind == "truthy":
            return self.read(0, primed)
        if kind == "not":
            return Op("not", (self.bool_(depth - 1, primed),))
        if kind in ("and", "or"):
            return Op(kind, tuple(self.bool_(depth - 1, primed) for _ in range(self.draw(st.integers(2, 3)))))
        if not self.arrays:
            return self.bool_(depth - 1, primed)
        # Short-circuit `and` keeps the read in range: the compiled code never evaluates it otherwise.
        arr = self.pick(self.arrays)
        i = self.any_index(depth - 1, arr)
        return Op("and", (i >= 0, i < arr.length, arr[i].eq(self.draw(st.integers(0, 2)))))

    def atom(self, primed: bool = False) -> Expr:
        """`read op constant`: the regions that make long runs and deep violations."""
        op = self.pick(["==", "!=", "<=", ">="])
        return Op(op, (self.read(0, primed), Const(self.draw(st.integers(0, 2)))))

    def region(self) -> Expr:
        """Where an invariant fails: mostly away from the all-zero initial state."""
        if self.draw(st.integers(0, 3)) == 0:
            return self.bool_(1)
        atoms = [Op(self.pick(["==", ">="]), (self.read(0), Const(self.draw(st.integers(1, 3)))))
                 for _ in range(self.draw(st.integers(1, 3)))]
        return all_of(*atoms)

    def guard(self) -> Expr:
        if self.draw(st.integers(0, 2)) == 0:
            return self.bool_(1)
        return all_of(*[self.atom() for _ in range(self.draw(st.integers(0, 2)))])

    def step_check(self) -> Expr:
        """An action check relating the successor to the pre state."""
        if self.draw(st.booleans()):
            return self.bool_(1, primed=True)
        op = self.pick(["==", "!=", "<=", ">="])
        return Op(op, (self.read(1, primed=True), self.read(0)))

    def target(self) -> Read:
        kinds = ["scalar"] * bool(self.scalars) + ["element", "dynamic"] * bool(self.arrays)
        kind = self.pick(kinds)
        if kind == "scalar":
            return self.pick(self.scalars)
        arr = self.pick(self.arrays)
        if kind == "element":
            return arr[self.draw(st.integers(0, arr.length - 1))]
        return arr[self.in_range_index(0)]

    def value_for(self, target: Read) -> Expr:
        kind = self.pick(["up", "up", "down", "toggle", "any"])
        # Counters and toggles make longer runs than arbitrary values do.
        if kind in ("up", "down"):
            e = Op("+" if kind == "up" else "-", (target, Const(1)))
        elif kind == "toggle":
            e = Op("-", (Const(target.var.domain.hi), target))
        else:
            e = self.int_(1)
        if self.overflow and self.draw(st.integers(0, 3)) == 0:
            return e  # may leave the domain: both engines must then report the bound
        lo, hi = target.var.domain.lo, target.var.domain.hi
        return ite(e < lo, lo, ite(e > hi, hi, e))


@st.composite
def systems(draw):
    b = Builder("random", ["T0", "T1"])
    scalars: list[Read] = []
    arrays: list[Var] = []
    for v in range(draw(st.integers(2, 4))):
        kind = draw(st.sampled_from(["bool", "int", "array"]))
        if kind == "bool":
            scalars.append(b.scalar(f"b{v}", BOOL))
        elif kind == "int":
            hi = draw(st.integers(1, 3))
            scalars.append(b.scalar(f"x{v}", Domain(0, hi)))
        else:
            hi = draw(st.integers(1, 2))
            arrays.append(b.array(f"a{v}", 2, Domain(0, hi)))
    ex = Exprs(draw, scalars, arrays, overflow=draw(st.integers(0, 3)) == 0)
    n_actions = draw(st.integers(2, 6))
    checked = draw(st.integers(0, n_actions - 1))
    for k in range(n_actions):
        updates = []
        for _ in range(draw(st.integers(1, 2))):
            target = ex.target()
            updates.append(assign(target, ex.value_for(target)))
        checks = (Check("step_ok", ex.step_check()),) if k == checked else ()
        b.action(Action(f"a{k}", draw(st.integers(0, 1)), ex.guard(), tuple(updates), f"a{k}()",
                        checks=checks))
    b.prop(Invariant("inv", ~ex.region()))
    b.prop(ActionProperty("step_ok"))
    b.prop(NoDeadlock())
    finished = [ex.region() if draw(st.booleans()) else FALSE for _ in range(2)]
    halted = ex.bool_(1) if draw(st.integers(0, 3)) == 0 else FALSE
    return b.build(finished, halted)


def by_name(results):
    return {r.prop: r for r in results}


def bound_depth(reason: str) -> int | None:
    m = re.search(r"bound: .* \(at depth (\d+)\)", reason)
    return int(m.group(1)) if m else None


@pytest.mark.slow   # random cross-checks: .ci/run runs them (pytest -m slow)
@RANDOM
@given(systems())
def test_bmc_agrees_with_breadth_first_search(system):
    explicit = by_name(check(system))
    bmc = by_name(check_bmc(system, depth=BMC_DEPTH))
    for name, e in explicit.items():
        r = bmc[name]
        if e.verdict == Verdict.VIOLATED and e.trace.length <= BMC_DEPTH:
            if r.verdict == Verdict.UNKNOWN:
                # BFS met this violation among the successors of the state where it stopped.
                assert bound_depth(r.reason) == e.trace.length - 1, (name, r.reason)
            else:
                assert r.verdict == Verdict.VIOLATED, (name, r.reason)
                assert r.trace.length == e.trace.length, name
        elif e.verdict == Verdict.VIOLATED:
            assert r.verdict == Verdict.UNKNOWN, name
        elif e.verdict == Verdict.HOLDS:
            assert r.verdict == Verdict.HOLDS or r.reason == f"no violation up to depth {BMC_DEPTH}", \
                (name, r.verdict, r.reason)
        else:  # BFS stopped at a bound overflow; BMC meets it at the same depth
            assert "bound:" in e.reason
            assert r.verdict == Verdict.UNKNOWN and (bound_depth(r.reason) is not None
                                                    or r.reason == f"no violation up to depth {BMC_DEPTH}"), \
                (name, r.reason)


@pytest.mark.slow
@RANDOM
@given(systems())
def test_induction_never_proves_what_breadth_first_search_refutes(system):
    explicit = by_name(check(system))
    for r in check_induction(system, max_k=MAX_K):
        e = explicit[r.prop]
        if r.verdict == Verdict.HOLDS:
            assert e.verdict == Verdict.HOLDS, (r.prop, r.reason, e.reason)
        if r.verdict == Verdict.VIOLATED:
            assert e.verdict == Verdict.VIOLATED, r.prop
            assert r.trace.length == e.trace.length, r.prop


def test_a_bound_met_under_partial_order_reduction_does_not_hide_an_earlier_violation():
    """Hypothesis found it: T1's step breaks `inv` at depth 1, T0's second step overflows `a0`
    at depth 2. The reduced search takes T0 first and met the overflow before T1's step:
    "unknown" where BMC and the unreduced search say violated in 1 step. The default (POR
    where sound) now searches again without POR when it stops at a bound."""
    b = Builder("random", ("T0", "T1"))
    a0 = b.array("a0", 2, Domain(0, 1))
    b2 = b.scalar("b2", Domain(0, 1))
    b.action(Action("a0", 0, b2.eq(0), (assign(a0[0], a0[0] + 1),), "a0()"))
    b.action(Action("a1", 1, Const(1), (assign(a0[1], a0[1] + 1),), "a1()"))
    b.prop(Invariant("inv", ~a0[1].eq(1)))
    system = b.build([FALSE, FALSE], FALSE)
    for r in (by_name(check(system))["inv"], by_name(check_bmc(system, depth=BMC_DEPTH))["inv"]):
        assert r.verdict == Verdict.VIOLATED and r.trace.length == 1, r.reason
