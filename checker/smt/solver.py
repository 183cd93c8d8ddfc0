"""A thin Z3 solver wrapper: its own context, a fixed seed, and push/pop as `with new_frame():`.

One context per engine run keeps Z3's term ids, and so its models and our traces, the same
from run to run whatever else the process did with Z3 before. Every integer here is bounded
(slots by their domains), so the finite-domain solver (bit-blasting into Z3's incremental SAT
solver) applies; on the spec models it is several times faster than the arithmetic solver.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

import z3

from ..memory import resident_mib


class SolverUnknown(Exception):
    """No answer: the time limit ran out, or Z3 said `unknown`. The message says which."""


class Solver:
    """`deadline` is a time.perf_counter() value after which every query answers SolverUnknown."""

    def __init__(self, ctx: z3.Context, seed: int = 0, deadline: float | None = None,
                 limit: str = "", max_memory: int | None = None):
        self.ctx, self.deadline, self.limit, self.max_memory = ctx, deadline, limit, max_memory
        self._solver = z3.SolverFor("QF_FD", ctx=ctx)
        self._solver.set("random_seed", seed)
        self._solver.set("sat.random_seed", seed)
        if max_memory is not None:
            self._solver.set("max_memory", max_memory)   # the SAT core stops with `unknown` there
        self.queries = 0

    def add(self, *terms: z3.BoolRef) -> None:
        self._solver.add(*terms)

    @contextmanager
    def new_frame(self) -> Iterator[None]:
        """Assertions added inside the block are retracted when it ends."""
        self._solver.push()
        try:
            yield
        finally:
            self._solver.pop()

    def satisfiable(self) -> bool:
        self.queries += 1
        if self.max_memory is not None and (used := resident_mib()) > self.max_memory:
            raise SolverUnknown(f"limit reached: max-memory {self.max_memory} MiB ({used:,} MiB in use)")
        if self.deadline is not None:
            left = self.deadline - time.perf_counter()
            if left <= 0:
                raise SolverUnknown(self.limit)
            self._solver.set("timeout", max(1, int(left * 1000)))
        answer = self._solver.check()
        if answer == z3.unknown:
            if self.deadline is not None and time.perf_counter() >= self.deadline:
                raise SolverUnknown(self.limit)
            reason = self._solver.reason_unknown()
            if self.max_memory is not None and "memory" in reason:
                raise SolverUnknown(f"limit reached: max-memory {self.max_memory} MiB ({reason})")
            raise SolverUnknown(f"solver answered unknown ({reason})")
        return answer == z3.sat

    def model(self) -> z3.ModelRef:
        return self._solver.model()


def values(model: z3.ModelRef, terms: tuple[z3.ArithRef, ...]) -> tuple[int, ...]:
    """The model's value of each term; every slot is domain-constrained, so completion is harmless."""
    return tuple(model.eval(t, model_completion=True).as_long() for t in terms)
