"""Expressions over a finite state: one small AST that every engine reads.

The explicit engine compiles an expression to Python source (checker/explicit/semantics); the Z3 engine
and the exporters walk the same nodes. Values are integers everywhere (booleans are 0/1,
enums are indices), so one evaluator serves all domains.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Union

ExprLike = Union["Expr", int, bool]

# The operators and what they compute; the Z3 and Promela translations key on the same names.
_APPLY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "==": operator.eq,
          "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
          ">=": operator.ge}


def lift(value: ExprLike) -> "Expr":
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool):
        return Const(int(value))
    if isinstance(value, int):
        return Const(value)
    raise TypeError(f"not an expression: {value!r}")


class Expr:
    """Base of all nodes. Comparison methods are named (eq/ne) so nodes stay hashable."""

    __slots__ = ()

    def __add__(self, other: ExprLike) -> "Expr":
        return _op("+", self, other)

    def __radd__(self, other: ExprLike) -> "Expr":
        return _op("+", other, self)

    def __sub__(self, other: ExprLike) -> "Expr":
        return _op("-", self, other)

    def __rsub__(self, other: ExprLike) -> "Expr":
        return _op("-", other, self)

    def __mul__(self, other: ExprLike) -> "Expr":
        return _op("*", self, other)

    def __lt__(self, other: ExprLike) -> "Expr":
        return _op("<", self, other)

    def __le__(self, other: ExprLike) -> "Expr":
        return _op("<=", self, other)

    def __gt__(self, other: ExprLike) -> "Expr":
        return _op(">", self, other)

    def __ge__(self, other: ExprLike) -> "Expr":
        return _op(">=", self, other)

    def __and__(self, other: ExprLike) -> "Expr":
        return all_of(self, other)

    def __rand__(self, other: ExprLike) -> "Expr":
        return all_of(other, self)

    def __or__(self, other: ExprLike) -> "Expr":
        return any_of(self, other)

    def __ror__(self, other: ExprLike) -> "Expr":
        return any_of(other, self)

    def __invert__(self) -> "Expr":
        if isinstance(self, Const):
            return Const(int(not self.value))
        return Op("not", (self,))

    def eq(self, other: ExprLike) -> "Expr":
        return _op("==", self, other)

    def ne(self, other: ExprLike) -> "Expr":
        return _op("!=", self, other)

    def __bool__(self) -> bool:
        raise TypeError("an Expr has no truth value here; use & | ~ and ite()")


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: int


@dataclass(frozen=True, eq=False)
class Read(Expr):
    """The value of a state variable: var[index] for arrays, index Const(0) for scalars.

    `primed` reads the successor state; only action checks may use it.
    """
    var: "Var"
    index: Expr
    primed: bool = False

    def prime(self) -> "Read":
        return Read(self.var, self.index, True)


@dataclass(frozen=True, eq=False)
class Op(Expr):
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, eq=False)
class Ite(Expr):
    cond: Expr
    then: Expr
    other: Expr


def _op(name: str, a: ExprLike, b: ExprLike) -> Expr:
    """A binary node, folded to a constant when both sides are constants."""
    a, b = lift(a), lift(b)
    if isinstance(a, Const) and isinstance(b, Const):
        return Const(int(_APPLY[name](a.value, b.value)))
    return Op(name, (a, b))


TRUE = Const(1)
FALSE = Const(0)


def ite(cond: ExprLike, then: ExprLike, other: ExprLike) -> Expr:
    c = lift(cond)
    if isinstance(c, Const):
        return lift(then) if c.value else lift(other)
    return Ite(c, lift(then), lift(other))


def _flat(name: str, parts) -> list[Expr]:
    out: list[Expr] = []
    for p in map(lift, parts):
        out.extend(p.args if isinstance(p, Op) and p.name == name else (p,))
    return out


def all_of(*parts: ExprLike) -> Expr:
    args = _flat("and", parts)
    if any(isinstance(a, Const) and not a.value for a in args):
        return FALSE
    args = [a for a in args if not isinstance(a, Const)]
    if not args:
        return TRUE
    return args[0] if len(args) == 1 else Op("and", tuple(args))


def any_of(*parts: ExprLike) -> Expr:
    args = _flat("or", parts)
    if any(isinstance(a, Const) and a.value for a in args):
        return TRUE
    args = [a for a in args if not isinstance(a, Const)]
    if not args:
        return FALSE
    return args[0] if len(args) == 1 else Op("or", tuple(args))


def implies(a: ExprLike, b: ExprLike) -> Expr:
    return any_of(~lift(a), b)


def walk(expr: Expr):
    """Every node of `expr`, parents first."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Read):
            stack.append(node.index)
        elif isinstance(node, Op):
            stack.extend(node.args)
        elif isinstance(node, Ite):
            stack.extend((node.cond, node.then, node.other))


def slots_read(expr: Expr) -> set[int]:
    """The state slots `expr` may read: a computed index counts as the whole array."""
    out: set[int] = set()
    for node in walk(expr):
        if isinstance(node, Read):
            if isinstance(node.index, Const):
                out.add(node.var.base + node.index.value)
            else:
                out.update(range(node.var.base, node.var.base + node.var.length))
    return out


def evaluate(expr: Expr, state: tuple[int, ...], post: tuple[int, ...] | None = None) -> int:
    """Reference interpreter: slow and obviously right; tests compare compiled code to it."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Read):
        tup = post if expr.primed else state
        if tup is None:
            raise ValueError("primed read outside an action check")
        idx = evaluate(expr.index, state, post)
        if not 0 <= idx < expr.var.length:
            raise IndexError(f"{expr.var.name}[{idx}] out of range")
        return tup[expr.var.base + idx]
    if isinstance(expr, Ite):
        return evaluate(expr.then if evaluate(expr.cond, state, post) else expr.other, state, post)
    if isinstance(expr, Op):
        name = expr.name
        if name in ("and", "or"):  # short-circuit, as the compiled code does
            return _short(expr.args, state, post, name == "or")
        vals = [evaluate(a, state, post) for a in expr.args]
        if name == "not":
            return int(not vals[0])
        if name == "neg":
            return -vals[0]
        return int(_APPLY[name](*vals))
    raise TypeError(f"unknown node {expr!r}")


def _short(args, state, post, stop_on: bool) -> int:
    for a in args:
        if bool(evaluate(a, state, post)) == stop_on:
            return int(stop_on)
    return int(not stop_on)
