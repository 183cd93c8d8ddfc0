"""What conditions prove about expressions: value ranges of reads narrowed by the comparisons
known true on a path, and conditions those ranges decide. The program compiler uses it to
drop outcomes that cannot happen; the engines' code generators to drop index checks and
dead branches."""
from __future__ import annotations

from .expr import Const, Expr, Ite, Op, Read

CMP = ("==", "!=", "<", "<=", ">", ">=")
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


_SKEYS: dict[int, tuple] = {}   # id -> (node, key) while one compilation runs; cleared after it


def skey(e: Expr) -> tuple:
    """A structural key: equal for expressions that read the same thing the same way."""
    hit = _SKEYS.get(id(e))
    if hit is None:
        hit = _SKEYS[id(e)] = (e, _skey(e))   # keeps e alive, so its id is not reused meanwhile
    return hit[1]


def structural_key(e: Expr) -> tuple:
    """skey without its per-compilation cache, for use outside a compilation."""
    return _structure(e, structural_key)


def _skey(e: Expr) -> tuple:
    return _structure(e, skey)


def _structure(e: Expr, key) -> tuple:
    """The node's own part of a structural key, with `key` for its children."""
    if isinstance(e, Const):
        return ("c", e.value)
    if isinstance(e, Read):
        return ("r", e.var.base, key(e.index), e.primed)
    if isinstance(e, Ite):
        return ("?", key(e.cond), key(e.then), key(e.other))
    return (e.name,) + tuple(key(a) for a in e.args)


Facts = dict  # skey(read) -> (lo, hi): what the surrounding conditions prove about a read


def value_range(expr: Expr, facts: Facts | None = None) -> tuple[int, int] | None:
    """A conservative range of `expr` (narrowed by `facts`, when given), or None when unknown."""
    if isinstance(expr, Const):
        return expr.value, expr.value
    if facts:
        known = facts.get(skey(expr))
        if known is not None:
            return known
    if isinstance(expr, Read):
        return expr.var.domain.lo, expr.var.domain.hi
    if isinstance(expr, Ite):
        a = value_range(expr.then, assume(expr.cond, True, facts) if facts is not None else None)
        b = value_range(expr.other, assume(expr.cond, False, facts) if facts is not None else None)
        return (min(a[0], b[0]), max(a[1], b[1])) if a and b else None
    if isinstance(expr, Op):
        if expr.name in CMP or expr.name in ("and", "or", "not"):
            return 0, 1
        rs = [value_range(a, facts) for a in expr.args]
        if any(r is None for r in rs):
            return None
        if expr.name == "+":
            return rs[0][0] + rs[1][0], rs[0][1] + rs[1][1]
        if expr.name == "-":
            return rs[0][0] - rs[1][1], rs[0][1] - rs[1][0]
        if expr.name == "neg":
            return -rs[0][1], -rs[0][0]
    return None


def assume(cond: Expr, truth: bool, facts: Facts | None) -> Facts:
    """`facts` plus what `cond` being `truth` proves about reads compared with constants."""
    out = dict(facts or {})
    _learn(cond, truth, out)
    return out


def _learn(cond: Expr, truth: bool, facts: Facts) -> None:
    if not isinstance(cond, Const):
        facts[("cond", skey(cond))] = truth
    if not isinstance(cond, Op):
        if isinstance(cond, Read):   # a read used as a truth value: nonzero when true
            _narrow(facts, cond, "!=" if truth else "==", 0)
        return
    if cond.name == "not":
        _learn(cond.args[0], not truth, facts)
    elif (cond.name == "and" and truth) or (cond.name == "or" and not truth):
        for a in cond.args:
            _learn(a, truth, facts)
    elif cond.name in CMP:
        a, b = cond.args
        op = cond.name
        if isinstance(a, Const) and isinstance(b, Read):
            a, b, op = b, a, _FLIP[op]
        if isinstance(a, Read) and isinstance(b, Const):
            if not truth:
                op = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
            _narrow(facts, a, op, b.value)


def _narrow(facts: Facts, read: Read, op: str, k: int) -> None:
    key = skey(read)
    lo, hi = facts.get(key, (read.var.domain.lo, read.var.domain.hi))
    if op == "==":
        lo, hi = max(lo, k), min(hi, k)
    elif op == "!=":
        if k == lo:
            lo += 1
        elif k == hi:
            hi -= 1
    elif op == "<":
        hi = min(hi, k - 1)
    elif op == "<=":
        hi = min(hi, k)
    elif op == ">":
        lo = max(lo, k + 1)
    elif op == ">=":
        lo = max(lo, k)
    facts[key] = (lo, hi)


def in_range(index: Expr, length: int, facts: Facts) -> bool:
    r = value_range(index, facts)
    return r is not None and 0 <= r[0] and r[1] < length


def total(e: Expr, facts: Facts) -> bool:
    """Evaluating `e` cannot raise under `facts`: every index is constant or provably in range."""
    if isinstance(e, Const):
        return True
    if isinstance(e, Read):
        if isinstance(e.index, Const):
            return 0 <= e.index.value < e.var.length
        return total(e.index, facts) and in_range(e.index, e.var.length, facts)
    if isinstance(e, Ite):
        return total(e.cond, facts) and total(e.then, assume(e.cond, True, facts)) \
            and total(e.other, assume(e.cond, False, facts))
    return all(total(a, facts) for a in e.args)


def decide(cond: Expr, facts: Facts) -> bool | None:
    """The truth of `cond` when `facts` alone settle it (and evaluating it could not raise)."""
    if isinstance(cond, Const):
        return bool(cond.value)
    if not facts:
        return None
    known = _known(cond, facts)   # evaluated before on this path
    if known is not None:
        return known
    if not total(cond, facts):
        return None
    return _decide(cond, facts)


def _known(cond: Expr, facts: Facts) -> bool | None:
    if isinstance(cond, Op) and cond.name == "not":
        inner = _known(cond.args[0], facts)
        return None if inner is None else not inner
    return facts.get(("cond", skey(cond)))


def _decide(cond: Expr, facts: Facts) -> bool | None:
    known = facts.get(("cond", skey(cond)))
    if known is not None:
        return known
    if isinstance(cond, Op):
        if cond.name == "not":
            d = _decide(cond.args[0], facts)
            return None if d is None else not d
        if cond.name in ("and", "or"):
            ds = [_decide(a, facts) for a in cond.args]
            stop = cond.name == "or"
            if any(d is stop for d in ds):
                return stop
            return (not stop) if all(d is (not stop) for d in ds) else None
        if cond.name in CMP:
            a, b = (value_range(x, facts) for x in cond.args)
            if a is None or b is None:
                return None
            return _compare(cond.name, a, b)
        return None
    r = value_range(cond, facts)
    if r is None:
        return None
    if r == (0, 0):
        return False
    return True if r[0] > 0 or r[1] < 0 else None


def _compare(op: str, a: tuple[int, int], b: tuple[int, int]) -> bool | None:
    if op in ("==", "!="):
        if a[0] == a[1] == b[0] == b[1]:
            return op == "=="
        if a[1] < b[0] or b[1] < a[0]:
            return op == "!="
        return None
    if op in (">", ">="):
        a, b, op = b, a, "<" if op == ">" else "<="
    if op == "<":
        return True if a[1] < b[0] else False if a[0] >= b[1] else None
    return True if a[1] <= b[0] else False if a[0] > b[1] else None


def clear_keys() -> None:
    """Forget the structural keys of one compilation (they keep its expressions alive)."""
    _SKEYS.clear()
