"""Predicates of a spec's [queries] and [invariants] over the shared vocabulary, compiled to IR.

    [queries]
    guard_after_finalizing = "finalizing(main) and guards(main) > 0"
    [invariants]
    no_guard_once_finalizing = "not finalizing(main) or guards(main) == 0"

A query becomes a `Sometimes` property: `holds` means reachable (with a witness trace),
`violated` means no schedule gets there. An invariant becomes an `Invariant`, which
k-induction also assumes once proven. Predicates (Python expression syntax):
`finalizing(I)`, `guards_closed(I)`, `deleted(I)`, `guards(I)` (a count), `hung(T)`,
`finished(T)`, `at(T, LINE)` (T's next step is the call on that spec line),
`attached(T)` / `attached(T, I)`, `holds_gil(T, I)`, `holds_lock(T, L)`, `event(E)`,
`crashed`, integers, comparisons, `and`, `or`, `not`.
"""
from __future__ import annotations

import ast
from typing import Callable

from ..ir import Expr, all_of, any_of, lift
from ..vocabulary import DELETED, FINALIZING, GUARDS_CLOSED, T_HUNG, Vocabulary
from .parse import ProgramError

_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__", ast.GtE: "__ge__"}


class QueryCompiler:
    """`what` names the predicate's use in messages: "query" or "invariant"."""

    def __init__(self, v: Vocabulary, threads: tuple[str, ...], interps: tuple[str, ...],
                 finished: Callable[[int], Expr], at: Callable[[int, int], Expr | None], line: int,
                 what: str = "query"):
        self.v, self.threads, self.interps, self.finished, self.at = v, threads, interps, finished, at
        self.line, self.what = line, what

    def compile(self, text: str) -> Expr:
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as err:
            raise ProgramError(f"{self.what} `{text}` is not an expression: {err.msg}", self.line) from err
        except (RecursionError, MemoryError) as err:   # the parser's own limit (about 200 levels)
            raise self._fail(f"{_a(self.what)} nested too deeply to read: at most {MAX_DEPTH} levels") from err
        if _depth(tree.body) > MAX_DEPTH:   # every later pass recurses over it
            raise self._fail(f"{_a(self.what)} nested more than {MAX_DEPTH} levels deep: write it flatter")
        self._condition(tree.body)
        return lift(self._node(tree.body))

    def _condition(self, node: ast.AST) -> None:
        """A count or an integer where a condition belongs is a mistake, not `!= 0`."""
        if isinstance(node, ast.BoolOp):
            for part in node.values:
                self._condition(part)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._condition(node.operand)
        elif isinstance(node, ast.Constant) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                                                 and node.func.id == "guards"):
            raise self._fail(f"`{ast.unparse(node)}` is a number, not a condition: compare it, "
                             f"e.g. `{ast.unparse(node)} == 0`")

    @property
    def _a_what(self) -> str:
        return _a(self.what)

    def _fail(self, message: str) -> ProgramError:
        return ProgramError(message + "; see docs/specs.md for the predicates", self.line)

    def _node(self, node: ast.AST):
        if isinstance(node, ast.BoolOp):
            parts = [self._node(v) for v in node.values]
            return all_of(*parts) if isinstance(node.op, ast.And) else any_of(*parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~lift(self._node(node.operand))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
            left, right = lift(self._node(node.left)), self._node(node.comparators[0])
            return getattr(left, _CMP[type(node.ops[0])])(right)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return int(node.value)
        if isinstance(node, ast.Name) and node.id == "crashed":
            return self.v.crash.ne(0)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords and \
                all(isinstance(a, ast.Name) or _is_int(a) for a in node.args):
            return self._predicate(node.func.id, [a.id if isinstance(a, ast.Name) else a.value for a in node.args])
        raise self._fail(f"cannot read `{ast.unparse(node)}` in {self._a_what}")

    def _thread(self, name) -> int:
        if name not in self.threads:
            raise self._fail(f"unknown thread `{name}` in {self._a_what} (threads: {', '.join(self.threads)})")
        return self.threads.index(name)

    def _interp(self, name) -> int:
        if name not in self.interps:
            raise self._fail(f"unknown interpreter `{name}` in {self._a_what}")
        return self.interps.index(name) + 1

    def _predicate(self, name: str, args: list) -> Expr:
        v = self.v
        one_interp = {"finalizing": lambda i: v.phase_of(i) >= FINALIZING,
                      "guards_closed": lambda i: v.phase_of(i) >= GUARDS_CLOSED,
                      "deleted": lambda i: v.phase_of(i).eq(DELETED),
                      "guards": lambda i: v.guards[i - 1]}
        if name in one_interp and len(args) == 1:
            return one_interp[name](self._interp(args[0]))
        if name == "hung" and len(args) == 1:
            return v.status[self._thread(args[0])].eq(T_HUNG)
        if name == "finished" and len(args) == 1:
            return self.finished(self._thread(args[0]))
        if name == "at" and len(args) == 2 and isinstance(args[1], int):
            at = self.at(self._thread(args[0]), args[1])
            if at is None:
                raise self._fail(f"thread {args[0]} has no call on line {args[1]} of the spec")
            return at
        if name == "attached" and len(args) == 1:
            return v.attached[self._thread(args[0])].ne(0)
        if name == "attached" and len(args) == 2:
            return v.interp_of(v.attached[self._thread(args[0])]).eq(self._interp(args[1]))
        if name == "holds_gil" and len(args) == 2:
            return v.gil_of(self._interp(args[1])).eq(self._thread(args[0]) + 1)
        if name == "holds_lock" and len(args) == 2 and v.lock is not None and args[1] in v.layout.locks:
            return v.lock[v.layout.locks.index(args[1])].eq(self._thread(args[0]) + 1)
        if name == "event" and len(args) == 1 and v.event is not None and args[0] in v.layout.events:
            return v.event[v.layout.events.index(args[0])].eq(1)
        raise self._fail(f"unknown predicate `{name}({', '.join(map(str, args))})` in {self._a_what}")


def _is_int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


MAX_DEPTH = 64   # nesting of a query or invariant; the compilers and engines recurse over it


def _a(what: str) -> str:
    return f"an {what}" if what[0] in "aeiou" else f"a {what}"


def _depth(node: ast.AST) -> int:
    """How deeply the expression nests (iteratively: the tree may be deeper than the stack)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(n))
    return deepest
