"""The explicit-state engine: one exploration, then a verdict for every asked property.

Reductions (docs/performance.md): symmetry over interchangeable threads, partial-order
reduction of thread-local steps, a fingerprint store, several worker processes. Each is
used only for the properties it is sound for. With the defaults, every trace is the one the
unreduced breadth-first search finds: when a partial-order-reduced search finds a violation
or a witness, the trace comes from a second, unreduced search that stops once it has it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from interpcheck.model.ir import ActionProperty, Invariant, LeadsTo, NoDeadlock, NoHang, Sometimes, System
from .semantics import compile_system, Compiled

from ..options import Limits, Options
from ..result import Result, Trace, Verdict
from . import por as por_module
from . import symmetry as symmetry_module
from .exploration import Exploration
from .explore import explore
from .progress import Reporter, SilentReporter, StderrReporter
from .graph import find_hang, find_leads_to_violation
from .simulate import simulate
from .store import exact_store, fingerprint_store
from .vacuity import early_stop

SAFETY = (Invariant, ActionProperty, NoDeadlock)
REDUCIBLE = (Invariant, ActionProperty, NoDeadlock, Sometimes)   # decided without the whole graph


@dataclass
class _Plan:
    """What one exploration uses: the compiled system and the reductions."""
    compiled: Compiled
    canon: object = None        # symmetry.Canonicalizer
    ample: object = None        # por.Ample


def check(system: System, names: list[str] | None = None, options: Options = Options(),
          reporter: Reporter = SilentReporter()) -> list[Result]:
    """A Result per property named (all of the system's when None), in the system's order."""
    wanted = [i for i, p in enumerate(system.properties) if names is None or p.name in names]
    if options.order == "simulate":
        return _simulated(system, compile_system(system), wanted, options)
    props = system.properties
    graph = [i for i in wanted if isinstance(props[i], (NoHang, LeadsTo))]
    notes: dict[int, str] = {}
    if graph and (options.symmetry == "on" or options.por == "on" or options.fingerprint):
        # One exploration serves every property: hangs and liveness need the whole graph.
        used = [what for what, on in (("symmetry", options.symmetry == "on"), ("partial-order reduction",
                options.por == "on"), ("fingerprints", options.fingerprint)) if on]
        for i in wanted:
            notes[i] = f"{' and '.join(used)} not used: {props[graph[0]].name} needs the whole state graph"
    plan = _plan(system, wanted, options, notes, reduce=not graph)
    if options.backend == "c" and (why := _not_in_c(system, plan, options)):
        for i in wanted:
            notes[i] = f"{notes[i]}; C search not used: {why}" if i in notes else f"C search not used: {why}"
    only_safety = all(isinstance(props[i], SAFETY) for i in wanted)
    def search(plan: _Plan):
        store = fingerprint_store() if options.fingerprint and not graph else exact_store(keep_index=bool(graph))
        return store, _explore(system, plan, wanted, options, store, keep_edges=bool(graph),
                               stop_early=only_safety, reporter=reporter)
    store, ex = search(plan)
    if plan.ample is not None and plan.ample.reduced and options.por == "auto" and _bound(ex):
        # A bound met under partial-order reduction can come before a violation the whole search
        # meets first (the ample set postponed the step leading to it): search again without it.
        plan = _Plan(plan.compiled, plan.canon)
        store, ex = search(plan)
    engine = f"explicit-{options.order}"
    results = [_verdict(system, plan.compiled, ex, i, engine) for i in wanted]
    if plan.ample is not None and plan.ample.reduced and options.por == "auto":
        results = _shortest_traces(system, wanted, results, options, plan, reporter)
        results = _shortest_early_stops(system, wanted, results, options, plan, reporter)
    elif plan.ample is not None:
        for r in results:
            if r.trace is not None and plan.ample.reduced:
                r.reason = ("partial-order reduction: the trace may not be the shortest; " + r.reason).rstrip("; ")
    return [_noted(r, notes.get(i), store) for i, r in zip(wanted, results)]


def _bound(ex: Exploration) -> bool:
    """The search stopped at a value leaving its domain (model/ir BoundExceeded's message)."""
    return (ex.limit or "").startswith("bound:")


def explore_graph(system: System, names: list[str], limits: Limits) -> tuple[Exploration, Compiled, list[Result]]:
    """The whole reachable graph (edges kept, no reduction) and the verdicts it gives, in one
    search: what `interpcheck graph` draws, with its counterexamples inside the drawing."""
    wanted = [i for i, p in enumerate(system.properties) if p.name in names]
    compiled = compile_system(system)
    ex = explore(system, compiled, set(wanted), limits=limits, keep_edges=True, stop_early=False)
    return ex, compiled, [_verdict(system, compiled, ex, i, "explicit-bfs") for i in wanted]


def _plan(system: System, wanted: list[int], options: Options, notes: dict, reduce: bool) -> _Plan:
    """Chooses the reductions sound for every wanted property; notes what was left out."""
    props = system.properties
    canon = None
    if reduce and options.symmetry != "off" and system.symmetry is not None:
        bad = symmetry_module.unsupported(system, wanted)
        if not bad:
            made = symmetry_module.canonicalizer(system, lambda order, shift: compile_system(system, True, order, shift))
            if isinstance(made, str):
                if options.symmetry == "on":
                    notes.update({i: f"symmetry not used: {made}" for i in wanted})
            else:
                canon = made
        elif options.symmetry == "on":
            i, why = next(iter(bad.items()))
            notes.update({j: f"symmetry not used: {props[i].name}: {why}" for j in wanted})
    elif options.symmetry == "on" and system.symmetry is None:
        notes.update({i: "symmetry not used: the model declares no interchangeable threads" for i in wanted})
    compiled = canon.compiled if canon is not None else compile_system(system, packed=True)
    ample = None
    if reduce and options.por != "off":
        ample = por_module.ample_sets(system, compiled, wanted)
    return _Plan(compiled, canon, ample)


def _explore(system: System, plan: _Plan, wanted: list[int], options: Options, store, *, keep_edges: bool,
             stop_early: bool, reporter: Reporter, targets: set[int] | None = None, ample=True) -> Exploration:
    canon = plan.canon
    kwargs = dict(order=options.order, limits=options.limits, keep_edges=keep_edges, stop_early=stop_early,
                  reporter=reporter, store=store, symmetry=canon, ample=plan.ample if ample else None,
                  targets=targets, backend=options.backend)
    return explore(system, plan.compiled, set(wanted), **kwargs)


def _not_in_c(system: System, plan: _Plan, options: Options) -> str | None:
    """Why --backend c cannot run this search (the C search is breadth-first, with or without
    symmetry and the state graph)."""
    from .native import unavailable_for
    for what, used in (("depth-first order", options.order != "bfs"), ("fingerprints", options.fingerprint)):
        if used:
            return f"it runs breadth-first without fingerprints, and {what} is on"
    return unavailable_for(system, plan.compiled)


def _shortest_traces(system: System, wanted: list[int], results: list[Result], options: Options,
                     reduced: _Plan, reporter: Reporter) -> list[Result]:
    """Traces found under partial-order reduction may be longer than necessary: find them
    again without it, stopping as soon as each is found, so defaults keep shortest traces."""
    with_trace = {i for i, r in zip(wanted, results) if r.trace is not None}
    if not with_trace:
        return results
    plan = _Plan(reduced.compiled, reduced.canon)   # the same model and symmetry, no POR
    store = fingerprint_store() if options.fingerprint else exact_store()
    ex = _explore(system, plan, sorted(with_trace), replace(options, por="off"), store, keep_edges=False,
                  stop_early=True, reporter=reporter, targets=with_trace, ample=False)
    engine = f"explicit-{options.order}"
    out = []
    for i, r in zip(wanted, results):
        if i in with_trace:
            again = _verdict(system, plan.compiled, ex, i, engine)
            if again.verdict is r.verdict and again.trace is not None:
                r = again
        out.append(r)
    return out


def _shortest_early_stops(system: System, wanted: list[int], results: list[Result], options: Options,
                          reduced: _Plan, reporter: Reporter) -> list[Result]:
    """A reduced search keeps every run's end but not every shortest path to it: a witness
    never reached takes its early stop from the unreduced search, explored once."""
    never = [r for r in results if r.early_stop is not None]
    if not never:
        return results
    plan = _Plan(reduced.compiled, reduced.canon)
    ex = _explore(system, plan, wanted, replace(options, por="off"), exact_store(), keep_edges=False,
                  stop_early=False, reporter=reporter, ample=False)
    shortest = early_stop(plan.compiled, ex)
    for r in never:
        r.early_stop = shortest or r.early_stop
    return results


def _noted(r: Result, note: str | None, store) -> Result:
    if store is not None and not store.exact:
        chance = getattr(r.stats, "fingerprint_collision", None)
        if chance is not None:
            fp = f"64-bit fingerprints: chance a collision hid a state ~ {chance:.1e}"
            note = f"{note}; {fp}" if note else fp
    if note:
        r.reason = f"{r.reason}; {note}" if r.reason else note
    return r


def _verdict(system, compiled, ex: Exploration, i: int, engine: str) -> Result:
    prop = system.properties[i]
    stats = replace(ex.stats)
    note = "" if ex.order == "bfs" else "depth-first: the trace may not be the shortest"
    if isinstance(prop, SAFETY):
        if i in ex.found:
            return Result(prop.name, Verdict.VIOLATED, engine, ex.found[i], stats, note)
        if ex.complete:
            return Result(prop.name, Verdict.HOLDS, engine, None, stats)
        return Result(prop.name, Verdict.UNKNOWN, engine, None, stats, f"limit reached: {ex.limit}",
                      limit=ex.limit)
    if isinstance(prop, Sometimes):
        hit = ex.witness.get(i)
        if hit is not None:
            return Result(prop.name, Verdict.HOLDS, engine, ex.trace_to(hit), stats, "witness")
        if ex.complete:
            return Result(prop.name, Verdict.VIOLATED, engine, None, stats,
                          "unreachable: no schedule gets there" if prop.query else
                          "never reached: the scenario never gets there (vacuous)",
                          early_stop=early_stop(compiled, ex))
        return Result(prop.name, Verdict.UNKNOWN, engine, None, stats, f"limit reached: {ex.limit}",
                      limit=ex.limit)
    if not ex.complete:
        # A hang or a lasso on a partial graph may vanish once the rest is explored.
        return Result(prop.name, Verdict.UNKNOWN, engine, None, stats, f"limit reached: {ex.limit}",
                      limit=ex.limit)
    trace: Trace | None
    if isinstance(prop, NoHang):
        trace = find_hang(system, compiled, ex)
    else:
        trace = find_leads_to_violation(system, compiled, ex, prop)
    verdict = Verdict.VIOLATED if trace is not None else Verdict.HOLDS
    return Result(prop.name, verdict, engine, trace, stats, note if trace else "")


def _simulated(system, compiled, wanted: list[int], options: Options) -> list[Result]:
    found, stats, limit = simulate(system, compiled, set(wanted), seed=options.seed,
                                   walks=options.walks, depth=options.depth, limits=options.limits)
    engine = f"simulate(seed={options.seed})"
    out = []
    for i in wanted:
        name = system.properties[i].name
        if i in found:
            out.append(Result(name, Verdict.VIOLATED, engine, found[i], stats, "random walk: may not be shortest"))
        else:
            why = f"limit reached: {limit}" if limit else \
                f"not violated in {options.walks} random walks (simulation never proves)"
            out.append(Result(name, Verdict.UNKNOWN, engine, None, stats, why, limit=limit or None))
    return out


__all__ = ["check", "explore_graph", "Options", "Limits", "StderrReporter", "SilentReporter", "explore", "Exploration"]
