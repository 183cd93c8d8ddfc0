"""The engine registry: one entry per engine, each reading the same IR and Options and
answering with Results. A new engine is one function here and one line in ENGINES."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Callable, Iterator, Protocol

from interpcheck.model.ir import System

from .explicit import Reporter, SilentReporter, check
from .options import Options
from .result import Result


class Family(Protocol):
    """The systems of one scenario for every number of threads of one thread table."""
    table: str
    build: Callable[[int], System]


def _explicit(system: System, names: list[str] | None, opts: Options, reporter: Reporter,
              family: Family | None) -> list[Result]:
    return check(system, names, opts, reporter)


def _bmc(system: System, names: list[str] | None, opts: Options, reporter: Reporter,
         family: Family | None) -> list[Result]:
    from .smt import check_bmc
    return check_bmc(system, names, depth=opts.depth, time_limit=opts.limits.time_limit,
                     max_memory=opts.limits.max_memory)


def _induction(system: System, names: list[str] | None, opts: Options, reporter: Reporter,
               family: Family | None) -> list[Result]:
    from .smt import check_induction
    return check_induction(system, names, max_k=opts.depth, assume=list(system.facts.lemmas),
                           time_limit=opts.limits.time_limit, max_memory=opts.limits.max_memory)


def _spin(system: System, names: list[str] | None, opts: Options, reporter: Reporter,
          family: Family | None) -> list[Result]:
    from .export.spin import check_spin
    limits = opts.limits
    memory = (f"-DMEMLIM={limits.max_memory}",) if limits.max_memory is not None else ()
    return check_spin(system, names, timeout=limits.time_limit or 600, cflags=("-O2",) + memory)


def _parametric(system: System, names: list[str] | None, opts: Options, reporter: Reporter,
                family: Family | None) -> list[Result]:
    from .parametric import check_parametric, no_family
    if family is None:
        return no_family(system, names)
    return check_parametric(family.build, family.table, names, opts.limits, reporter)


Engine = Callable[[System, "list[str] | None", Options, Reporter, "Family | None"], "list[Result]"]

# Name → engine, in the order `--engine` lists them; the Z3, SPIN and parametric engines are
# imported when used, so a run that does not use them does not pay for loading them.
ENGINES: dict[str, Engine] = {"explicit": _explicit, "bmc": _bmc, "induction": _induction, "spin": _spin,
                              "parametric": _parametric}


def run(system: System, names: list[str] | None, opts: Options,
        reporter: Reporter = SilentReporter(), family: Family | None = None) -> list[Result]:
    if opts.engine not in ENGINES:
        raise ValueError(f"unknown engine {opts.engine}")
    with fewer_collections():
        return ENGINES[opts.engine](system, names, opts, reporter, family)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The engines build many long-lived objects (each model's IR, compiled code, the states
    met) and few cycles; at CPython's default threshold (a collection every 700 allocations)
    the collector rescans them all the time: 30% of a parametric run
    (benchmarks/PARAMETRIC.md, "Fourth pass")."""
    old = gc.get_threshold()
    gc.set_threshold(10_000, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
