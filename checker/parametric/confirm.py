"""Confirms abstract violations on the concrete model: the explicit engine, N = 1, 2, ...

The counter abstraction may invent behaviour (a "two or more" that lost a thread), so only a
trace the explicit engine finds on the model with some concrete N is reported. The first N
that shows it gives the shortest trace for that N, in the usual C-call form.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

from interpcheck.model.ir import Sometimes, System

from ..explicit import Limits, Options, check
from ..result import Result, Stats, Verdict

BUDGET = 60.0        # seconds for confirming, unless --time-limit gives another
MAX_THREADS = 8


def confirm(family: Callable[[int], System], table: str, depths: dict[str, int], limits: Limits,
            stats: Stats) -> dict[str, Result]:
    """For each property the abstraction broke (or reached) at the given depth, the explicit
    engine's trace at the smallest N that has one, or an unknown verdict."""
    if not depths:
        return {}
    start = time.perf_counter()
    budget = limits.time_limit if limits.time_limit is not None else BUDGET
    top = min(MAX_THREADS, max(depths.values()) + 2)
    out: dict[str, Result] = {}
    tried, stopped = 0, ""
    for n in range(1, top + 1):
        left = budget - (time.perf_counter() - start)
        pending = [name for name in depths if name not in out]
        if not pending:
            break
        if left <= 0:
            stopped = f"; the {budget:g}s for confirming ran out"
            break
        system = family(n)
        for r in check(system, pending, Options(limits=replace(limits, time_limit=left))):
            what = "reaches it" if isinstance(system.prop(r.prop), Sometimes) else "breaks it"
            if r.trace is not None:
                out[r.prop] = Result(r.prop, r.verdict, "parametric", r.trace, stats,
                                     f"the abstraction {what} at depth {depths[r.prop]}; the explicit engine "
                                     f"confirms it with {n} {table} thread{'s' if n > 1 else ''}", system)
            elif r.verdict is Verdict.UNKNOWN:
                stopped = f"; with {n} threads: {r.reason}"
        tried = n
        if stopped:
            break
    for name, depth in depths.items():
        if name not in out:
            out[name] = Result(name, Verdict.UNKNOWN, "parametric", None, stats,
                               f"the abstraction breaks or reaches it at depth {depth}, but the explicit engine "
                               f"finds no such trace with up to {tried} {table} threads{stopped}: it may be "
                               f"spurious (no verdict for every N)")
    return out
