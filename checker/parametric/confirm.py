"""Confirms an abstract violation on the concrete model: the explicit engine, N = 1, 2, ...

The counter abstraction may invent behaviour (a "two or more" that lost a thread), so only a
trace the explicit engine finds on the model with some concrete N is reported. The first N
that shows it gives the shortest trace for that N, in the usual C-call form.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

from interpcheck.model.ir import Property, Sometimes, System

from ..explicit import Limits, Options, check
from ..result import Result, Stats, Verdict

BUDGET = 60.0        # seconds for all confirmation runs of one property, unless --time-limit says
MAX_THREADS = 8


def confirm(family: Callable[[int], System], table: str, prop: Property, depth: int, limits: Limits,
            stats: Stats, start: float) -> Result:
    budget = limits.time_limit if limits.time_limit is not None else BUDGET + (time.perf_counter() - start)
    top = min(MAX_THREADS, depth + 2)
    what = "reaches it" if isinstance(prop, Sometimes) else "breaks it"
    tried = 0
    for n in range(1, top + 1):
        left = budget - (time.perf_counter() - start)
        if left <= 0:
            break
        system = family(n)
        [r] = check(system, [prop.name], Options(limits=replace(limits, time_limit=left)))
        tried = n
        if r.trace is not None:
            return Result(prop.name, r.verdict, "parametric", r.trace, stats,
                          f"the abstraction {what} at depth {depth}; the explicit engine confirms it with "
                          f"{n} {table} thread{'s' if n > 1 else ''}", system)
        if r.verdict is Verdict.UNKNOWN:
            break
    return Result(prop.name, Verdict.UNKNOWN, "parametric", None, stats,
                  f"the abstraction {what} at depth {depth}, but the explicit engine finds no such trace with "
                  f"1 to {tried} {table} threads: it may be spurious (no verdict for every N)")
