"""Compiles a System into Python functions once, as SPIN generates C: the explicit engine's
hot loop then runs plain tuple indexing. `expr.evaluate` stays the reference semantics and
the tests compare the two on whole state graphs.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Callable

from .expr import Const, Expr, Ite, Op, Read
from .system import Action, Invariant, System

_CMP = ("==", "!=", "<", "<=", ">", ">=")


class BoundExceeded(Exception):
    """A step wrote a value outside its variable's domain: the model's bound is too small."""

    def __init__(self, action: int, variable: str, value: int):
        super().__init__(f"{variable} = {value}")
        self.action, self.variable, self.value = action, variable, value


def value_range(expr: Expr) -> tuple[int, int] | None:
    """A conservative range of `expr`, or None when unknown."""
    if isinstance(expr, Const):
        return expr.value, expr.value
    if isinstance(expr, Read):
        return expr.var.domain.lo, expr.var.domain.hi
    if isinstance(expr, Ite):
        a, b = value_range(expr.then), value_range(expr.other)
        return (min(a[0], b[0]), max(a[1], b[1])) if a and b else None
    if isinstance(expr, Op):
        if expr.name in _CMP or expr.name in ("and", "or", "not"):
            return 0, 1
        rs = [value_range(a) for a in expr.args]
        if any(r is None for r in rs):
            return None
        if expr.name == "+":
            return rs[0][0] + rs[1][0], rs[0][1] + rs[1][1]
        if expr.name == "-":
            return rs[0][0] - rs[1][1], rs[0][1] - rs[1][0]
    return None


class _Codegen:
    def __init__(self) -> None:
        self.temps = 0

    def index(self, read: Read, tup: str) -> str:
        if isinstance(read.index, Const):
            if not 0 <= read.index.value < read.var.length:
                raise IndexError(f"{read.var.name}[{read.index.value}] out of range")
            return str(read.var.base + read.index.value)
        inner = self.val(read.index)
        r = value_range(read.index)
        if r is not None and 0 <= r[0] and r[1] < read.var.length:
            return f"{read.var.base}+{inner}"
        # Not provably in range: check inline (no call), with a fresh temporary per read.
        self.temps += 1
        tmp = f"_t{self.temps}"
        return (f"{read.var.base}+({tmp} if 0 <= ({tmp} := {inner}) < {read.var.length} "
                f"else _ix({tmp},{read.var.length},{read.var.name!r}))")

    def val(self, e: Expr) -> str:
        """Python source producing an int."""
        if isinstance(e, Const):
            return str(e.value)
        if isinstance(e, Read):
            return f"{'n' if e.primed else 's'}[{self.index(e, 'n' if e.primed else 's')}]"
        if isinstance(e, Ite):
            return f"({self.val(e.then)} if {self.cond(e.cond)} else {self.val(e.other)})"
        if isinstance(e, Op):
            if e.name in _CMP or e.name in ("and", "or", "not"):
                return f"(1 if {self.cond(e)} else 0)"
            if e.name == "neg":
                return f"(-{self.val(e.args[0])})"
            return f"({self.val(e.args[0])} {e.name} {self.val(e.args[1])})"
        raise TypeError(e)

    def cond(self, e: Expr) -> str:
        """Python source producing a truth value (no 0/1 boxing in guards)."""
        if isinstance(e, Op):
            if e.name in _CMP:
                return f"{self.val(e.args[0])} {e.name} {self.val(e.args[1])}"
            if e.name in ("and", "or"):
                return "(" + f" {e.name} ".join(self.cond(a) for a in e.args) + ")"
            if e.name == "not":
                return f"(not {self.cond(e.args[0])})"
        return self.val(e)


def _ix(value: int, length: int, name: str) -> int:
    if not 0 <= value < length:
        raise IndexError(f"{name}[{value}] out of range")
    return value


@dataclass
class Compiled:
    """The system's hot functions. `successors(s)` lists (action index, next state)."""
    successors: Callable[[tuple], list]
    invariants: Callable[[tuple], list]          # indices (into System.properties) violated in s
    action_checks: Callable[[int, tuple, tuple], list]  # property indices a transition violates
    finished: list[Callable[[tuple], bool]]
    halted: Callable[[tuple], bool]
    predicate: Callable[[Expr], Callable[[tuple], bool]]
    source: str


def _action_body(gen: _Codegen, k: int, action: Action, lines: list[str]) -> None:
    lines.append(f"    if {gen.cond(action.guard)}:")
    lines.append("        n = list(s)")
    computed = []
    for j, upd in enumerate(action.updates):
        slot = gen.index(upd.target, "s")
        lines.append(f"        _i{j} = {slot}; _v{j} = {gen.val(upd.value)}")
        computed.append((j, upd))
    for j, upd in computed:
        dom = upd.target.var.domain
        r = value_range(upd.value)
        if r is None or r[0] < dom.lo or r[1] > dom.hi:
            lines.append(f"        if not {dom.lo} <= _v{j} <= {dom.hi}: "
                         f"raise BoundExceeded({k}, {upd.target.var.name!r}, _v{j})")
        lines.append(f"        n[_i{j}] = _v{j}")
    lines.append(f"        out.append(({k}, tuple(n)))")


def _eq_conjuncts(expr: Expr) -> list[tuple[int, int]]:
    """(slot, value) for each `scalar == constant` conjunct at the top of a guard."""
    parts = expr.args if isinstance(expr, Op) and expr.name == "and" else (expr,)
    out = []
    for p in parts:
        if isinstance(p, Op) and p.name == "==" and isinstance(p.args[0], Read) and isinstance(p.args[1], Const) \
                and isinstance(p.args[0].index, Const) and not p.args[0].primed:
            out.append((p.args[0].var.base + p.args[0].index.value, p.args[1].value))
    return out


def _dispatch(system: System) -> tuple[dict[int, dict[int, list[int]]], list[int]]:
    """Group actions by the most selective `slot == value` conjunct of their guards (in
    practice a thread's program counter), so a state only evaluates the guards of actions
    its threads can be at. The full guard is still evaluated: this only skips work."""
    conj = [_eq_conjuncts(a.guard) for a in system.actions]
    values: dict[int, set[int]] = {}
    for cs in conj:
        for slot, value in cs:
            values.setdefault(slot, set()).add(value)
    groups: dict[int, dict[int, list[int]]] = {}
    rest = []
    for k, cs in enumerate(conj):
        if not cs or max(len(values[slot]) for slot, _ in cs) < 2:
            rest.append(k)
            continue
        slot, value = max(cs, key=lambda c: (len(values[c[0]]), -c[0]))
        groups.setdefault(slot, {}).setdefault(value, []).append(k)
    return groups, rest


def compile_system(system: System) -> Compiled:
    gen = _Codegen()
    lines = ["def successors(s):", "    out = []"]
    groups, rest = _dispatch(system)
    for slot, by_value in sorted(groups.items()):
        lines.append(f"    v = s[{slot}]")
        for i, (value, ks) in enumerate(sorted(by_value.items())):
            lines.append(f"    {'if' if i == 0 else 'elif'} v == {value}:")
            body: list[str] = []
            for k in ks:
                _action_body(gen, k, system.actions[k], body)
            lines += ["    " + line for line in body]
    for k in rest:
        _action_body(gen, k, system.actions[k], lines)
    lines.append("    out.sort(key=_first)  # action order, as without dispatch: traces stay the same")
    lines.append("    return out")

    lines.append("def invariants(s):")
    lines.append("    bad = []")
    for i, p in enumerate(system.properties):
        if isinstance(p, Invariant):
            lines.append(f"    if not ({gen.cond(p.holds)}): bad.append({i})")
    lines.append("    return bad")

    prop_index = {p.name: i for i, p in enumerate(system.properties)}
    lines.append("def action_checks(k, s, n):")
    lines.append("    bad = []")
    for k, action in enumerate(system.actions):
        if action.checks:
            lines.append(f"    if k == {k}:")
            for check in action.checks:
                if check.prop in prop_index:
                    lines.append(f"        if not ({gen.cond(check.holds)}): "
                                 f"bad.append({prop_index[check.prop]})")
    lines.append("    return bad")

    for t, fin in enumerate(system.finished):
        lines.append(f"def finished_{t}(s): return {gen.cond(fin)}")
    lines.append(f"def halted(s): return {gen.cond(system.halted)}")

    source = "\n".join(lines) + "\n"
    env: dict = {"BoundExceeded": BoundExceeded, "_ix": _ix, "_first": itemgetter(0)}
    exec(compile(source, f"<compiled {system.name}>", "exec"), env)

    def predicate(expr: Expr) -> Callable[[tuple], bool]:
        g = _Codegen()
        fenv: dict = {"_ix": _ix}
        exec(f"def p(s): return bool({g.cond(expr)})", fenv)
        return fenv["p"]

    return Compiled(env["successors"], env["invariants"], env["action_checks"],
                    [env[f"finished_{t}"] for t in range(len(system.finished))],
                    env["halted"], predicate, source)


def interpret_successors(system: System, state: tuple) -> list:
    """The same relation as `successors`, by the reference evaluator (for tests)."""
    from .expr import evaluate
    out = []
    for k, action in enumerate(system.actions):
        if evaluate(action.guard, state):
            n = list(state)
            writes = [(u.target.var.base + evaluate(u.target.index, state), evaluate(u.value, state))
                      for u in action.updates]
            for slot, value in writes:
                n[slot] = value
            out.append((k, tuple(n)))
    return out
