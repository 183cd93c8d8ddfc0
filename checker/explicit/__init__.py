"""The explicit-state engine: one exploration, then a verdict for every asked property."""
from __future__ import annotations

from dataclasses import dataclass

from interpcheck.model.ir import (ActionProperty, Invariant, LeadsTo, NoDeadlock, NoHang, Sometimes,
                                  System, compile_system)

from ..result import Result, Stats, Trace, Verdict
from .explore import Exploration, Limits, Reporter, SilentReporter, StderrReporter, explore
from .graph import find_hang, find_leads_to_violation
from .simulate import simulate

SAFETY = (Invariant, ActionProperty, NoDeadlock)


@dataclass(frozen=True)
class Options:
    order: str = "bfs"          # bfs | dfs | simulate
    limits: Limits = Limits()
    seed: int = 0               # simulate only
    walks: int = 1000
    walk_depth: int = 100


def check(system: System, names: list[str] | None = None, options: Options = Options(),
          reporter: Reporter = SilentReporter()) -> list[Result]:
    """A Result per property named (all of the system's when None), in the system's order."""
    wanted = [i for i, p in enumerate(system.properties) if names is None or p.name in names]
    compiled = compile_system(system)
    if options.order == "simulate":
        return _simulated(system, compiled, wanted, options)
    needs_graph = any(isinstance(system.properties[i], (NoHang, LeadsTo)) for i in wanted)
    only_safety = all(isinstance(system.properties[i], SAFETY) for i in wanted)
    ex = explore(system, compiled, set(wanted), order=options.order, limits=options.limits,
                 keep_edges=needs_graph, stop_early=only_safety, reporter=reporter)
    engine = f"explicit-{options.order}"
    return [_verdict(system, compiled, ex, i, engine) for i in wanted]


def _verdict(system, compiled, ex: Exploration, i: int, engine: str) -> Result:
    prop = system.properties[i]
    stats = Stats(ex.stats.states, ex.stats.transitions, ex.stats.depth, ex.stats.seconds)
    note = "" if ex.order == "bfs" else "depth-first: the trace may not be the shortest"
    if isinstance(prop, SAFETY):
        if i in ex.found:
            return Result(prop.name, Verdict.VIOLATED, engine, ex.found[i], stats, note)
        if ex.complete:
            return Result(prop.name, Verdict.HOLDS, engine, None, stats)
        return Result(prop.name, Verdict.UNKNOWN, engine, None, stats, f"limit reached: {ex.limit}")
    if isinstance(prop, Sometimes):
        pred = compiled.predicate(prop.expr)
        hit = next((sid for sid, st in enumerate(ex.states) if pred(st)), None)
        if hit is not None:
            return Result(prop.name, Verdict.HOLDS, engine, ex.trace_to(hit), stats, "witness")
        if ex.complete:
            return Result(prop.name, Verdict.VIOLATED, engine, None, stats,
                          "unreachable: no schedule gets there" if prop.query else
                          "never reached: the scenario never gets there (vacuous)")
        return Result(prop.name, Verdict.UNKNOWN, engine, None, stats, f"limit reached: {ex.limit}")
    if not ex.complete:
        # A hang or a lasso on a partial graph may vanish once the rest is explored.
        return Result(prop.name, Verdict.UNKNOWN, engine, None, stats, f"limit reached: {ex.limit}")
    trace: Trace | None
    if isinstance(prop, NoHang):
        trace = find_hang(system, compiled, ex)
    else:
        trace = find_leads_to_violation(system, compiled, ex, prop)
    verdict = Verdict.VIOLATED if trace is not None else Verdict.HOLDS
    return Result(prop.name, verdict, engine, trace, stats, note if trace else "")


def _simulated(system, compiled, wanted: list[int], options: Options) -> list[Result]:
    found, stats, limit = simulate(system, compiled, set(wanted), seed=options.seed,
                                   walks=options.walks, depth=options.walk_depth, limits=options.limits)
    engine = f"simulate(seed={options.seed})"
    out = []
    for i in wanted:
        name = system.properties[i].name
        if i in found:
            out.append(Result(name, Verdict.VIOLATED, engine, found[i], stats, "random walk: may not be shortest"))
        else:
            why = f"limit reached: {limit}" if limit else \
                f"not violated in {options.walks} random walks (simulation never proves)"
            out.append(Result(name, Verdict.UNKNOWN, engine, None, stats, why))
    return out


__all__ = ["check", "Options", "Limits", "StderrReporter", "SilentReporter", "explore", "Exploration"]
