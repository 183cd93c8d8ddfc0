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

from interpcheck.model.ir import BoundExceeded, Expr, Invariant, System
from interpcheck.model.ir.facts import clear_keys

from .codegen import _Codegen, _ix, _SystemCodegen
from .packing import Packing, codecs


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


def compile_system(system: System, packed: bool = False, order: Sequence[int] | None = None,
                   shift: Sequence[int] | None = None, lazy: bool = False) -> Compiled:
    """The system's functions over tuples, or (`packed`) over bytes with slots laid out in
    `order` and values shifted by `shift` (see Packing.of); `packed` falls back to tuples
    when some domain does not fit in a byte. `lazy` (tuples only) compiles each thread's
    steps at a program counter when a state first reaches it: the same successors, for a
    caller that steps few states of many systems."""
    packing = Packing.of(system, order, shift) if packed else None
    cg = _SystemCodegen(system, packing)
    try:
        if not lazy:
            cg.successors()
        cg.properties()
    finally:
        clear_keys()
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
            clear_keys()
        fenv: dict = {"_ix": _ix, **{f"_pos{b}": t for b, t in g.tables.items()}}
        exec(src, fenv)
        return fenv["p"]

    encode, decode = codecs(packing)
    successors = cg.lazy_successors(env) if lazy else env["successors"]
    return Compiled(successors, env["invariants"], env["action_checks"],
                    [env[f"finished_{t}"] for t in range(len(system.finished))],
                    env["halted"], predicate, source, encode, decode, packing, checks, holds)
