"""Reachability queries of a spec: a predicate over the shared vocabulary, compiled to IR.

    [queries]
    guard_after_finalizing = "finalizing(main) and guards(main) > 0"

Each becomes a `Sometimes` property: `holds` means reachable (with a witness trace),
`violated` means no schedule gets there. Predicates (Python expression syntax):
`finalizing(I)`, `guards_closed(I)`, `deleted(I)`, `guards(I)` (a count), `hung(T)`,
`finished(T)`, `attached(T)` / `attached(T, I)`, `holds_gil(T, I)`, `holds_lock(T, L)`,
`event(E)`, `crashed`, integers, comparisons, `and`, `or`, `not`.
"""
from __future__ import annotations

import ast
from typing import Callable

from ..ir import Expr, all_of, any_of, lift
from ..vocabulary import DELETED, FINALIZING, GUARDS_CLOSED, T_HUNG, Vocabulary
from .parse import ProgramError

_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__", ast.GtE: "__ge__"}


class QueryCompiler:
    def __init__(self, v: Vocabulary, threads: tuple[str, ...], interps: tuple[str, ...],
                 finished: Callable[[int], Expr], line: int):
        self.v, self.threads, self.interps, self.finished, self.line = v, threads, interps, finished, line

    def compile(self, text: str) -> Expr:
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as err:
            raise ProgramError(f"query `{text}` is not an expression: {err.msg}", self.line) from err
        return lift(self._node(tree.body))

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
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                all(isinstance(a, ast.Name) for a in node.args):
            return self._predicate(node.func.id, [a.id for a in node.args])
        raise self._fail(f"cannot read `{ast.unparse(node)}` in a query")

    def _thread(self, name: str) -> int:
        if name not in self.threads:
            raise self._fail(f"unknown thread `{name}` in a query (threads: {', '.join(self.threads)})")
        return self.threads.index(name)

    def _interp(self, name: str) -> int:
        if name not in self.interps:
            raise self._fail(f"unknown interpreter `{name}` in a query")
        return self.interps.index(name) + 1

    def _predicate(self, name: str, args: list[str]) -> Expr:
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
        if name == "attached" and len(args) == 1:
            return v.attached[self._thread(args[0])].ne(0)
        if name == "attached" and len(args) == 2:
            return v.interp_of(v.attached[self._thread(args[0])]).eq(self._interp(args[1]))
        if name == "holds_gil" and len(args) == 2:
            return v.gil[self._interp(args[1]) - 1].eq(self._thread(args[0]) + 1)
        if name == "holds_lock" and len(args) == 2 and v.lock is not None and args[1] in v.layout.locks:
            return v.lock[v.layout.locks.index(args[1])].eq(self._thread(args[0]) + 1)
        if name == "event" and len(args) == 1 and v.event is not None and args[0] in v.layout.events:
            return v.event[v.layout.events.index(args[0])].eq(1)
        raise self._fail(f"unknown predicate `{name}({', '.join(args)})` in a query")
