"""Compiles a System into Python functions once, as SPIN generates C: the explicit engine's
hot loop then runs plain indexing. `expr.evaluate` stays the reference semantics and the
tests compare the two on whole state graphs.

Two state representations share one code generator: tuples of ints (the IR's own, used by
replay, rendering and the SMT engine) and packed states, one byte per slot in a `bytes`
object (the explicit engine's: hashing is cheap and cached, a state is ~200 bytes). The
generated code avoids repeated work: conjuncts shared by a group of actions (the process
is alive, the thread runs, its program counter) are tested once, actions are dispatched on
program counters, and index checks are dropped where the guard already proves the index in
range (`ts != 0` before `ts_status[ts - 1]`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Callable, Sequence

from .expr import Const, Expr, Ite, Op, Read
from .system import Action, Invariant, System

_CSE = True
_CMP = ("==", "!=", "<", "<=", ">", ">=")
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


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


_SKEYS: dict[int, tuple] = {}   # id -> (node, key) while one compilation runs; cleared after it


def skey(e: Expr) -> tuple:
    """A structural key: equal for expressions that read the same thing the same way."""
    hit = _SKEYS.get(id(e))
    if hit is None:
        hit = _SKEYS[id(e)] = (e, _skey(e))   # keeps e alive, so its id is not reused meanwhile
    return hit[1]


def _skey(e: Expr) -> tuple:
    if isinstance(e, Const):
        return ("c", e.value)
    if isinstance(e, Read):
        return ("r", e.var.base, skey(e.index), e.primed)
    if isinstance(e, Ite):
        return ("?", skey(e.cond), skey(e.then), skey(e.other))
    return (e.name,) + tuple(skey(a) for a in e.args)


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
        if expr.name in _CMP or expr.name in ("and", "or", "not"):
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
    elif cond.name in _CMP:
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


@dataclass(frozen=True)
class Packing:
    """How IR slots sit in a packed state: slot i at byte `position[i]`, stored as value + offset[i]."""
    position: tuple[int, ...]
    offset: tuple[int, ...]

    @staticmethod
    def of(system: System, order: Sequence[int] | None = None,
           shift: Sequence[int] | None = None) -> "Packing | None":
        """One byte per slot, in `order` (IR slot order by default), each value stored plus
        `shift[slot]` (0 by default; negative domains are lifted to start at 0 first).
        None when some slot's values do not fit in a byte."""
        width = system.width
        order = list(range(width)) if order is None else list(order)
        if sorted(order) != list(range(width)):
            raise ValueError("a packing order must list every slot once")
        position = [0] * width
        for p, slot in enumerate(order):
            position[slot] = p
        offset = [0] * width
        for v in system.variables:
            lo, hi = v.domain.lo, v.domain.hi
            for k in range(v.length):
                off = (-lo if lo < 0 else 0) + (shift[v.base + k] if shift is not None else 0)
                if lo + off < 0 or hi + off > 255:
                    return None
                offset[v.base + k] = off
        return Packing(tuple(position), tuple(offset))


class _Codegen:
    """Python source for expressions over `s` (the state) and `n` (the successor, primed reads).

    `facts` (what enclosing conditions prove) drop index checks and decide conditions
    statically; `cache` maps subexpressions to the locals they were computed into."""

    def __init__(self, packing: Packing | None) -> None:
        self.packing = packing
        self.temps = 0
        self.tables: dict[int, tuple[int, ...]] = {}   # var base -> positions, for moved arrays
        self.cache: dict[tuple, str] = {}   # subexpression -> local computed before use
        self.lazy: dict[tuple, str] = {}    # condition -> local, computed where first needed
        self.eager: dict[tuple, str] = {}   # condition -> local, computed before the group's guards

    def position(self, var, index: Expr, facts: Facts) -> str:
        """Source of the state position of `var[index]`, the index checked unless provably in range."""
        if isinstance(index, Const):
            if not 0 <= index.value < var.length:
                raise IndexError(f"{var.name}[{index.value}] out of range")
            slot = var.base + index.value
            return str(self.packing.position[slot] if self.packing else slot)
        shift = 0
        if _in_range(index, var.length, facts):
            # `x - 1` as an index: fold the constant into the base (s[16+x], not s[17+(x - 1)]).
            shift, index = _linear(index, facts)
            inner = self.val(index, facts)
        else:
            # Not provably in range: check inline (no call) with a walrus temporary.
            self.temps += 1
            tmp = f"_t{self.temps}"
            inner = (f"({tmp} if 0 <= ({tmp} := {self.val(index, facts)}) < {var.length} "
                     f"else _ix({tmp},{var.length},{var.name!r}))")
        if self.packing is None:
            start = var.base + shift
            return f"{start}+{inner}" if start else inner
        pos = self.packing.position
        start = pos[var.base]
        if all(pos[var.base + k] == start + k for k in range(var.length)):
            start += shift
            return f"{start}+{inner}" if start else inner
        if shift:
            inner = f"{inner}{shift:+d}"
        self.tables[var.base] = tuple(pos[var.base:var.base + var.length])
        return f"_pos{var.base}[{inner}]"

    def read(self, e: Read, facts: Facts) -> str:
        src = f"{'n' if e.primed else 's'}[{self.position(e.var, e.index, facts)}]"
        off = self.packing.offset[e.var.base] if self.packing else 0
        return f"({src}-{off})" if off else src

    def val(self, e: Expr, facts: Facts) -> str:
        """Python source producing an int."""
        if isinstance(e, Const):
            return str(e.value)
        if self.cache:
            local = self.cache.get(skey(e))
            if local is not None:
                return local
        if isinstance(e, Read):
            return self.read(e, facts)
        if isinstance(e, Ite):
            known = decide(e.cond, facts)
            if known is not None:
                return self.val(e.then if known else e.other, facts)
            return (f"({self.val(e.then, assume(e.cond, True, facts))} if {self.cond(e.cond, facts)} "
                    f"else {self.val(e.other, assume(e.cond, False, facts))})")
        if isinstance(e, Op):
            if e.name in _CMP or e.name in ("and", "or", "not"):
                return f"(1 if {self.cond(e, facts)} else 0)"
            if e.name == "neg":
                return f"(-{self.val(e.args[0], facts)})"
            return f"({self.val(e.args[0], facts)} {e.name} {self.val(e.args[1], facts)})"
        raise TypeError(e)

    def cond(self, e: Expr, facts: Facts) -> str:
        """Python source producing a truth value (no 0/1 boxing in guards)."""
        known = decide(e, facts)
        if known is not None:
            return str(known)
        if self.eager:
            local = self.eager.get(skey(e))
            if local is not None:
                return local
        if self.lazy:
            local = self.lazy.get(skey(e))
            if local is not None:
                lazy, self.lazy = self.lazy, {}
                src = self.cond(e, facts)
                self.lazy = lazy
                return f"({local} if {local} is not None else ({local} := {src}))"
        if isinstance(e, Op):
            if e.name in _CMP:
                return f"{self.val(e.args[0], facts)} {e.name} {self.val(e.args[1], facts)}"
            if e.name in ("and", "or"):
                parts, known_facts = [], facts
                for a in e.args:  # each operand knows the ones before it held (and) or failed (or)
                    d = decide(a, known_facts)
                    if d is None:
                        parts.append(self.cond(a, known_facts))
                    elif d != (e.name == "and"):   # false in an and, true in an or: decides it
                        parts.append(str(d))
                        break
                    known_facts = assume(a, e.name == "and", known_facts)
                if not parts:
                    return str(e.name == "and")
                return parts[0] if len(parts) == 1 else "(" + f" {e.name} ".join(parts) + ")"
            if e.name == "not":
                return f"(not {self.cond(e.args[0], facts)})"
        return self.val(e, facts)

    def conj(self, parts: Sequence[Expr], facts: Facts) -> tuple[str, Facts]:
        """Source of a conjunction and the facts that hold after it."""
        srcs = []
        for p in parts:
            d = decide(p, facts)
            if d is True:
                continue
            srcs.append(self.cond(p, facts))
            if d is False:
                break
            facts = assume(p, True, facts)
        return " and ".join(srcs) if srcs else "True", facts


def _linear(e: Expr, facts: Facts) -> tuple[int, Expr]:
    """(c, x) with e == c + x, constants gathered from +/- chains (and decided conditionals)."""
    if isinstance(e, Ite):
        known = decide(e.cond, facts)
        if known is not None:
            return _linear(e.then if known else e.other, facts)
    if isinstance(e, Op) and e.name in ("+", "-"):
        a, b = e.args
        if isinstance(b, Const):
            c, x = _linear(a, facts)
            return c + (b.value if e.name == "+" else -b.value), x
        if isinstance(a, Const) and e.name == "+":
            c, x = _linear(b, facts)
            return c + a.value, x
    return 0, e


def _checked_index(index: Expr, length: int, facts: Facts) -> Facts:
    """`facts` plus: `index` is in range (the code after a passed index check may rely on it)."""
    r = value_range(index, facts)
    if r is None or not _total(index, facts):
        return facts
    out = dict(facts)
    out[skey(index)] = (max(r[0], 0), min(r[1], length - 1))
    return out


def _in_range(index: Expr, length: int, facts: Facts) -> bool:
    r = value_range(index, facts)
    return r is not None and 0 <= r[0] and r[1] < length


def _total(e: Expr, facts: Facts) -> bool:
    """Evaluating `e` cannot raise under `facts`: every index is constant or provably in range."""
    if isinstance(e, Const):
        return True
    if isinstance(e, Read):
        if isinstance(e.index, Const):
            return 0 <= e.index.value < e.var.length
        return _total(e.index, facts) and _in_range(e.index, e.var.length, facts)
    if isinstance(e, Ite):
        return _total(e.cond, facts) and _total(e.then, assume(e.cond, True, facts)) \
            and _total(e.other, assume(e.cond, False, facts))
    return all(_total(a, facts) for a in e.args)


def decide(cond: Expr, facts: Facts) -> bool | None:
    """The truth of `cond` when `facts` alone settle it (and evaluating it could not raise)."""
    if isinstance(cond, Const):
        return bool(cond.value)
    if not facts:
        return None
    known = _known(cond, facts)   # evaluated before on this path
    if known is not None:
        return known
    if not _total(cond, facts):
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
        if cond.name in _CMP:
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


def _ix(value: int, length: int, name: str) -> int:
    if not 0 <= value < length:
        raise IndexError(f"{name}[{value}] out of range")
    return value


@dataclass
class Compiled:
    """The system's hot functions over one state representation (tuples, or packed bytes).

    `successors(s)` lists (action index, next state) in action order. `encode`/`decode`
    convert from/to the IR's tuples; both are `tuple` for the tuple representation."""
    successors: Callable[[tuple], list]
    invariants: Callable[[tuple], list]          # indices (into System.properties) violated in s
    action_checks: Callable[[int, tuple, tuple], list]  # property indices a transition violates
    finished: list[Callable[[tuple], bool]]
    halted: Callable[[tuple], bool]
    predicate: Callable[[Expr], Callable[[tuple], bool]]
    source: str
    encode: Callable = tuple
    decode: Callable = tuple
    packing: Packing | None = None
    checks: dict = field(default_factory=dict)   # action index -> check(s, n) -> violated property indices
    holds: dict = field(default_factory=dict)    # invariant property index -> predicate(s)


def _conjuncts(expr: Expr) -> list[Expr]:
    return list(expr.args) if isinstance(expr, Op) and expr.name == "and" else [expr]


def _atom(e: Expr) -> tuple[int, int] | None:
    """(slot, value) when `e` is `scalar-or-constant-index read == constant` (safe to test anywhere)."""
    if isinstance(e, Op) and e.name == "==" and isinstance(e.args[0], Read) and isinstance(e.args[1], Const) \
            and isinstance(e.args[0].index, Const) and not e.args[0].primed:
        return e.args[0].var.base + e.args[0].index.value, e.args[1].value
    return None


def _safe(e: Expr) -> bool:
    """Evaluating `e` can never raise: every read has a constant, in-range index."""
    if isinstance(e, Const):
        return True
    if isinstance(e, Read):
        return isinstance(e.index, Const) and 0 <= e.index.value < e.var.length
    if isinstance(e, Ite):
        return _safe(e.cond) and _safe(e.then) and _safe(e.other)
    return all(_safe(a) for a in e.args)


def _dispatch(system: System) -> tuple[list[tuple[int, dict[int, list[int]]]], list[int]]:
    """Group actions by the most selective `slot == value` conjunct of their guards (in
    practice a thread's program counter), so a state only evaluates the guards of actions
    its threads can be at. The full guard is still evaluated: this only skips work."""
    conj = [[a for c in _conjuncts(act.guard) if (a := _atom(c))] for act in system.actions]
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
    return sorted(groups.items()), rest


class _SystemCodegen:
    """Writes the successor function and the property checks of one system."""

    def __init__(self, system: System, packing: Packing | None):
        self.system = system
        self.gen = _Codegen(packing)
        self.packing = packing
        self.lines: list[str] = []

    # ----- successors -----------------------------------------------------------------------
    def successors(self) -> None:
        """`successors(s)`: safe conjuncts every action shares (the process has not crashed)
        are tested once; then one function per program-counter value of each thread, found
        through a table indexed by that counter, so a state runs only the guards of the
        actions its threads are at."""
        system = self.system
        guards = [_conjuncts(a.guard) for a in system.actions]
        common = [c for c in guards[0] if _safe(c) and all(any(skey(c) == skey(d) for d in g) for g in guards[1:])] \
            if guards else []
        common_keys = {skey(c) for c in common}
        facts: Facts = {}
        body = ["def successors(s):"]
        if common:
            src, facts = self.gen.conj(common, {})
            body.append(f"    if not ({src}): return []")
        body += ["    out = []", "    add = out.append"]
        groups, rest = _dispatch(system)
        order = []
        for slot, by_value in groups:
            off = self.packing.offset[slot] if self.packing else 0
            pos = self.packing.position[slot] if self.packing else slot
            body.append(f"    v = s[{pos}]")
            branches = []
            for value, ks in sorted(by_value.items()):
                self.lines, outer = [], self.lines
                done = common_keys | {_eq_key(system, slot, value)}
                self._group(ks, guards, done, assume(_eq(system, slot, value), True, facts), "")
                self.lines, lines = outer, self.lines
                branches.append((value + off, lines or ["pass"]))
            body += _search_tree(branches, "    ")
            order.append([k for ks in by_value.values() for k in ks])
        if rest:
            self.lines, outer = body, self.lines
            for k in rest:
                self._action(k, [c for c in guards[k] if skey(c) not in common_keys], facts, "    ")
            self.lines, body = outer, self.lines
            order.append(rest)
        if not _in_order(order):
            body.append("    out.sort(key=_first)  # action order, as without dispatch: traces stay the same")
        body.append("    return out")
        self.lines += body

    def _group(self, ks: list[int], guards: list[list[Expr]], done: set, facts: Facts, indent: str) -> None:
        """The actions `ks` of one dispatch branch: safe conjuncts they all share are tested
        once, and subexpressions they repeat (that cannot raise) are computed once."""
        rests = [[c for c in guards[k] if skey(c) not in done] for k in ks]
        shared: list[Expr] = []
        if len(ks) > 1:
            shared = [c for c in rests[0] if _safe(c) and all(any(skey(c) == skey(d) for d in r) for r in rests[1:])]
        if shared:
            src, facts = self.gen.conj(shared, facts)
            self.lines.append(f"{indent}if {src}:")
            indent += "    "
            keys = {skey(c) for c in shared}
            rests = [[c for c in r if skey(c) not in keys] for r in rests]
        # A condition several guards test (an outcome's guard is often the negation of the
        # ones before it) is evaluated where first needed and remembered in a local.
        self.gen.lazy = {}
        for key in _repeated_conditions(rests):
            self.gen.lazy[key] = f"_b{len(self.gen.lazy)}"
        if self.gen.lazy:
            self.lines.append(f"{indent}{' = '.join(self.gen.lazy.values())} = None")
        # Outcomes of one step exclude each other: an elif chain stops at the one that holds,
        # and a one-conjunct guard that failed is known false in the branches after it.
        run: list[list[Expr]] = []
        known = facts
        first = True
        for k, rest in zip(ks, rests):
            chained = bool(run) and bool(rest) and all(_exclusive(g, rest, facts) for g in run)
            if not chained:
                known = facts
            if _refuted(rest, known):
                continue      # never enabled here
            if first and rest and skey(rest[0]) in self.gen.lazy:
                # Evaluated first anyway: compute it now, and read the local everywhere.
                name = self.gen.lazy.pop(skey(rest[0]))
                self.lines.append(f"{indent}{name} = {self.gen.cond(rest[0], facts)}")
                self.gen.eager[skey(rest[0])] = name
            first = False
            self._action(k, rest, known, indent, "elif" if chained else "if")
            run = run + [rest] if chained else ([rest] if rest else [])
            undecided = [c for c in rest if decide(c, known) is None]
            if len(undecided) == 1:
                known = assume(undecided[0], False, known)
            elif undecided:   # the conjunction failed: a later `not (a and b)` is known true
                known = dict(known)
                known[("cond", ("and",) + tuple(skey(c) for c in undecided))] = False
        self.gen.eager = {}
        self.gen.lazy = {}

    def _action(self, k: int, guard: list[Expr], facts: Facts, indent: str, keyword: str = "if") -> None:
        action: Action = self.system.actions[k]
        lines, gen = self.lines, self.gen
        if guard:
            src, facts = gen.conj(guard, facts)
            lines.append(f"{indent}{keyword} {src}:")
            indent += "    "
        packed = self.packing is not None
        lines.append(f"{indent}n = {'bytearray(s)' if packed else 'list(s)'}")
        # Subexpressions the updates repeat (a fresh thread-state slot, say) are computed
        # once; only ones that cannot raise, so errors still surface in the reference's order.
        exprs = [e for u in action.updates for e in (u.value, _linear(u.target.index, facts)[1])]
        cached = []
        for key, e in _repeated(exprs, facts):
            name = f"_c{len(gen.cache)}"
            lines.append(f"{indent}{name} = {gen.val(e, facts)}")
            gen.cache[key] = name
            cached.append(key)
        # Simultaneous assignment: every index and value reads the pre-state `s`. Those that
        # may raise are computed first, in update order, as the reference does; the rest
        # are written directly.
        later = []
        for j, upd in enumerate(action.updates):
            var = upd.target.var
            dom = var.domain
            target = gen.position(var, upd.target.index, facts)
            if not (isinstance(upd.target.index, Const) or _total(upd.target.index, facts)
                    and _in_range(upd.target.index, var.length, facts)):
                lines.append(f"{indent}_i{j} = {target}")
                target = f"_i{j}"
                facts = _checked_index(upd.target.index, var.length, facts)
            r = value_range(upd.value, facts)
            checked = r is None or r[0] < dom.lo or r[1] > dom.hi
            off = self.packing.offset[var.base] if packed else 0
            value = gen.val(upd.value, facts)
            if checked or not _total(upd.value, facts):
                lines.append(f"{indent}_v{j} = {value}")
                value = f"_v{j}"
            if checked:
                later.append(f"{indent}if not {dom.lo} <= {value} <= {dom.hi}: "
                             f"raise BoundExceeded({k}, {var.name!r}, {value})")
            later.append(f"{indent}n[{target}] = {value}{f' + {off}' if off else ''}")
        lines += later
        lines.append(f"{indent}add(({k}, {'bytes(n)' if packed else 'tuple(n)'}))")
        for key in cached:
            del gen.cache[key]

    # ----- properties --------------------------------------------------------------------------
    def properties(self) -> None:
        system, lines, gen = self.system, self.lines, self.gen
        lines.append("def invariants(s):")
        lines.append("    bad = []")
        invariants = [(i, p) for i, p in enumerate(system.properties) if isinstance(p, Invariant)]
        for i, p in invariants:
            lines.append(f"    if not ({gen.cond(p.holds, {})}): bad.append({i})")
        lines.append("    return bad")
        for i, p in invariants:
            lines.append(f"def holds_{i}(s): return bool({gen.cond(p.holds, {})})")
        prop_index = {p.name: i for i, p in enumerate(system.properties)}
        self.checked = []
        for k, action in enumerate(system.actions):
            tests = [(prop_index[c.prop], c) for c in action.checks if c.prop in prop_index]
            if tests:
                self.checked.append(k)
                lines.append(f"def check_{k}(s, n):")
                lines.append("    bad = []")
                for i, check in tests:
                    lines.append(f"    if not ({gen.cond(check.holds, {})}): bad.append({i})")
                lines.append("    return bad")
        lines.append("def action_checks(k, s, n):")
        lines.append("    f = _checks.get(k)")
        lines.append("    return f(s, n) if f is not None else []")
        for t, fin in enumerate(system.finished):
            lines.append(f"def finished_{t}(s): return {gen.cond(fin, {})}")
        lines.append(f"def halted(s): return {gen.cond(system.halted, {})}")


def _var_of(system: System, slot: int):
    for v in system.variables:
        if v.base <= slot < v.base + v.length:
            return v
    raise IndexError(slot)


def _eq(system: System, slot: int, value: int) -> Expr:
    v = _var_of(system, slot)
    return Op("==", (Read(v, Const(slot - v.base)), Const(value)))


def _size(e: Expr) -> int:
    if isinstance(e, (Const,)):
        return 1
    if isinstance(e, Read):
        return 1 + _size(e.index)
    if isinstance(e, Ite):
        return 1 + _size(e.cond) + _size(e.then) + _size(e.other)
    return 1 + sum(_size(a) for a in e.args)


def _repeated(exprs: list[Expr], facts: Facts) -> list[tuple[tuple, Expr]]:
    """Subexpressions worth computing once: arithmetic, conditionals and computed-index
    reads that occur more than once, outermost first found, innermost first returned (so
    a definition can use the ones before it). Reads of primed state are never shared."""
    counts: dict[tuple, int] = {}
    nodes: dict[tuple, Expr] = {}

    def count(e: Expr) -> None:
        if isinstance(e, Const) or (isinstance(e, Read) and isinstance(e.index, Const)):
            return
        if isinstance(e, Read) and e.primed:
            return
        k = skey(e)
        counts[k] = counts.get(k, 0) + 1
        nodes[k] = e
        for c in _children(e):
            count(c)

    for e in exprs:
        count(e)
    chosen: dict[tuple, Expr] = {}

    def pick(e: Expr) -> None:
        if isinstance(e, Const) or (isinstance(e, Read) and isinstance(e.index, Const)):
            return
        k = skey(e)
        if counts.get(k, 0) >= 2 and _total(e, facts) and not _primed(e) and not _is_bool(e):
            chosen[k] = e
            return
        for c in _children(e):
            pick(c)

    for e in exprs:
        pick(e)
    return sorted(chosen.items(), key=lambda kv: _size(kv[1]))


def _search_tree(branches: list[tuple[int, list[str]]], indent: str) -> list[str]:
    """Nested ifs on `v` (sorted branch values) that reach any branch in log2 comparisons."""
    if len(branches) <= 2:
        out = []
        for i, (value, lines) in enumerate(branches):
            out.append(f"{indent}{'if' if i == 0 else 'elif'} v == {value}:")
            out += [indent + "    " + line for line in lines]
        return out
    mid = len(branches) // 2
    return ([f"{indent}if v < {branches[mid][0]}:"] + _search_tree(branches[:mid], indent + "    ")
            + [f"{indent}else:"] + _search_tree(branches[mid:], indent + "    "))


def _refuted(guard: list[Expr], facts: Facts) -> bool:
    """Whether the facts, with the conjuncts before each, make some conjunct false."""
    for c in guard:
        if decide(c, facts) is False:
            return True
        facts = assume(c, True, facts)
    return False


def _exclusive(a: list[Expr], b: list[Expr], facts: Facts) -> bool:
    """Whether two guards (conjunct lists) can never hold together: one negates a conjunct
    (or a conjunction of conjuncts) of the other, or facts from one refute the other."""
    for x, y in ((a, b), (b, a)):
        keys = {skey(c) for c in x}
        for c in y:
            if isinstance(c, Op) and c.name == "not":
                inner = c.args[0]
                if skey(inner) in keys or (isinstance(inner, Op) and inner.name == "and"
                                           and all(skey(p) in keys for p in inner.args)):
                    return True
    known = facts
    for c in a:
        known = assume(c, True, known)
    return any(decide(c, known) is False for c in b)


def _repeated_conditions(guards: list[list[Expr]]) -> list[tuple]:
    """Conditions (conjuncts, or what a negated conjunct negates) that more than one guard
    tests, except plain comparisons of fixed slots, which cost as much as a lookup."""
    counts: dict[tuple, int] = {}
    for guard in guards:
        for c in guard:
            inner = c.args[0] if isinstance(c, Op) and c.name == "not" else c
            if not _cheap(inner):
                k = skey(inner)
                counts[k] = counts.get(k, 0) + 1
    return [k for k, n in counts.items() if n >= 2]


def _cheap(e: Expr) -> bool:
    if isinstance(e, Const) or (isinstance(e, Read) and isinstance(e.index, Const)):
        return True
    return isinstance(e, Op) and e.name in _CMP and all(
        isinstance(a, Const) or (isinstance(a, Read) and isinstance(a.index, Const)) for a in e.args)


def _children(e: Expr) -> tuple:
    if isinstance(e, Read):
        return (e.index,)
    if isinstance(e, Ite):
        return (e.cond, e.then, e.other)
    if isinstance(e, Op):
        return e.args
    return ()


def _primed(e: Expr) -> bool:
    return (isinstance(e, Read) and e.primed) or any(_primed(c) for c in _children(e))


def _is_bool(e: Expr) -> bool:
    return isinstance(e, Op) and (e.name in _CMP or e.name in ("and", "or", "not"))


def _eq_key(system: System, slot: int, value: int) -> tuple:
    return skey(_eq(system, slot, value))


def _in_order(groups: list[list[int]]) -> bool:
    """Whether emitting the groups one after another (at most one branch of each runs)
    already lists actions in index order."""
    prev = -1
    for ks in groups:
        if min(ks) < prev:
            return False
        prev = max(ks)
    return True


def compile_system(system: System, packed: bool = False, order: Sequence[int] | None = None,
                   shift: Sequence[int] | None = None) -> Compiled:
    """The system's functions over tuples, or (`packed`) over bytes with slots laid out in
    `order` and values shifted by `shift` (see Packing.of); `packed` falls back to tuples
    when some domain does not fit in a byte."""
    packing = Packing.of(system, order, shift) if packed else None
    cg = _SystemCodegen(system, packing)
    try:
        cg.successors()
        cg.properties()
    finally:
        _SKEYS.clear()
    source = "\n".join(cg.lines) + "\n"
    env: dict = {"BoundExceeded": BoundExceeded, "_ix": _ix, "_first": itemgetter(0)}
    for base, positions in cg.gen.tables.items():
        env[f"_pos{base}"] = positions
    exec(compile(source, f"<compiled {system.name}>", "exec"), env)
    checks = {k: env[f"check_{k}"] for k in cg.checked}
    env["_checks"] = checks
    holds = {i: env[f"holds_{i}"] for i, p in enumerate(system.properties) if isinstance(p, Invariant)}

    def predicate(expr: Expr) -> Callable[[tuple], bool]:
        g = _Codegen(packing)
        try:
            src = f"def p(s): return bool({g.cond(expr, {})})"
        finally:
            _SKEYS.clear()
        fenv: dict = {"_ix": _ix, **{f"_pos{b}": t for b, t in g.tables.items()}}
        exec(src, fenv)
        return fenv["p"]

    encode, decode = _codecs(packing)
    return Compiled(env["successors"], env["invariants"], env["action_checks"],
                    [env[f"finished_{t}"] for t in range(len(system.finished))],
                    env["halted"], predicate, source, encode, decode, packing, checks, holds)


def _codecs(packing: Packing | None) -> tuple[Callable, Callable]:
    if packing is None:
        return tuple, tuple
    position, offset = packing.position, packing.offset
    width = len(position)
    gather = itemgetter(*position) if width > 1 else (lambda b: (b[position[0]],))
    if any(offset):
        def encode(state: tuple) -> bytes:
            out = bytearray(width)
            for slot, value in enumerate(state):
                out[position[slot]] = value + offset[slot]
            return bytes(out)

        def decode(packed: bytes) -> tuple:
            return tuple(v - o for v, o in zip(gather(packed), offset))
        return encode, decode
    if list(position) == list(range(width)):
        return bytes, tuple

    def encode_moved(state: tuple) -> bytes:
        out = bytearray(width)
        for slot, value in enumerate(state):
            out[position[slot]] = value
        return bytes(out)

    def decode_moved(packed: bytes) -> tuple:
        return gather(packed) if width > 1 else (packed[position[0]],)
    return encode_moved, decode_moved


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
