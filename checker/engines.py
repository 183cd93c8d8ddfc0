"""One entry point per engine, all reading the same IR and answering with Results."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from interpcheck.model.ir import System

from .explicit import Limits, Options, Reporter, SilentReporter, check
from .result import Result

ENGINES = ("explicit", "bmc", "induction", "spin", "parametric")


class Family(Protocol):
    """The systems of one scenario for every number of threads of one thread table."""
    table: str
    build: Callable[[int], System]


@dataclass(frozen=True)
class EngineOptions:
    engine: str = "explicit"
    order: str = "bfs"
    limits: Limits = Limits()
    seed: int = 0
    walks: int = 1000
    depth: int = 30            # BMC unrolling depth, k-induction's max k, or a random walk's length
    symmetry: str = "auto"     # explicit engine reductions (checker/explicit/__init__.py Options)
    por: str = "auto"
    fingerprint: bool = False
    workers: int = 1
    backend: str = "auto"      # the plain explicit search in C (checker/explicit/native)


def run(system: System, names: list[str] | None, opts: EngineOptions,
        reporter: Reporter = SilentReporter(), family: Family | None = None) -> list[Result]:
    if opts.engine == "explicit":
        return check(system, names, Options(opts.order, opts.limits, opts.seed, opts.walks, opts.depth,
                                            opts.symmetry, opts.por, opts.fingerprint, opts.workers,
                                            opts.backend), reporter)
    if opts.engine == "bmc":
        from .smt import check_bmc
        return check_bmc(system, names, depth=opts.depth, time_limit=opts.limits.time_limit,
                         max_memory=opts.limits.max_memory)
    if opts.engine == "induction":
        from .smt import check_induction
        return check_induction(system, names, max_k=opts.depth, assume=list(system.kinds.get("lemmas", ())),
                               time_limit=opts.limits.time_limit, max_memory=opts.limits.max_memory)
    if opts.engine == "spin":
        from .export.spin import check_spin
        limits = opts.limits
        memory = (f"-DMEMLIM={limits.max_memory}",) if limits.max_memory is not None else ()
        return check_spin(system, names, timeout=limits.time_limit or 600, cflags=("-O2",) + memory)
    if opts.engine == "parametric":
        from .parametric import check_parametric, no_family
        if family is None:
            return no_family(system, names)
        return check_parametric(family.build, family.table, names, opts.limits, reporter)
    raise ValueError(f"unknown engine {opts.engine}")
