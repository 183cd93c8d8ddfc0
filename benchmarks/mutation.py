"""Mutation testing of the models: does some bundled spec notice when a C call's model is wrong?

A mutant changes one outcome of one atomic step of one C function as the designs build it
(model/designs/, model/vocabulary.py): it drops one of the outcome's updates, turns a
returning outcome into one that stops the thread (or back), drops the outcome altogether (the
call blocks there), or forgets that it acts on a stale Py_IsFinalizing() answer. A mutant is
applied wherever the same step builder is used (a legacy function reused by a PEP 788 design
is one mutant), and it is killed when some cell of `interpcheck matrix` (spec × design ×
property, the cells the CI gate compares) gets another verdict or another shortest
counterexample length, or the model stops being a model (an index or bound error).

    python benchmarks/mutation.py [--designs legacy,final] [--only TEXT] [--markdown docs/mutation.md]

prints killed/total and every surviving mutant, with the spec line that would kill it left to
the reader. Runs the specs in two processes; a few minutes on this kind of machine.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interpcheck.checker.cli.matrix import applicable  # noqa: E402
from interpcheck.checker.explicit import Options, check  # noqa: E402
from interpcheck.model.designs import DESIGNS  # noqa: E402
from interpcheck.model.ir import BoundExceeded  # noqa: E402
from interpcheck.model.programs import compile as programs  # noqa: E402
from interpcheck.model.spec import SpecError, load_spec  # noqa: E402
from interpcheck.model.vocabulary import Outcome  # noqa: E402


@dataclass(frozen=True)
class Point:
    """One outcome of one atomic step of a C function, wherever its builder is used."""
    builder: str        # the step builder, e.g. "legacy.gilstate_release" or "finalize:teardown"
    step: int           # which atomic step of the call
    outcome: int        # which outcome of that step
    note: str


@dataclass(frozen=True)
class Mutant:
    point: Point
    op: str             # drop_update:K | stop | continue | drop_outcome | not_stale
    what: str           # the change, in words

    def __str__(self) -> str:
        p = self.point
        return f"{p.builder} step {p.step + 1} outcome {p.outcome + 1} ({p.note}): {self.what}"


_ACTIVE: Mutant | None = None
_SEEN: dict[Point, tuple] = {}               # points met while building -> their operators
_WHERE: dict[Point, set] = {}                # points -> the (spec, design) cells that build them
_BUILDING: tuple | None = None               # the (spec, design) being built while enumerating
_ORIGINAL_EMIT = programs.ProgramCompiler._emit


def _builder(compiler, call, pc: int, t: int) -> str:
    label = compiler.pcs[t][pc]
    phase = next((w for w in ("begin", "guards", "finalizing", "teardown") if f" {w}" in label), None)
    if phase is not None:
        return f"{call.name}:{phase}"
    api = compiler.design.function(call.name)
    build = api.build if api is not None else None
    while isinstance(build, partial):
        build = build.func
    return f"{build.__module__.rsplit('.', 1)[-1]}.{build.__qualname__}" if build else call.name


def _operators(o: Outcome) -> tuple:
    ops = [(f"drop_update:{k}", f"does not write {u.target.var.name}") for k, u in enumerate(o.updates)]
    ops.append(("continue", "returns instead of stopping the thread") if o.stop
               else ("stop", "stops the thread instead of returning"))
    ops.append(("drop_outcome", "never happens (the call blocks there)"))
    if o.stale_use:
        ops.append(("not_stale", "is not checked as acting on a stale Py_IsFinalizing()"))
    return tuple(ops)


def _mutated(o: Outcome, op: str) -> Outcome | None:
    if op.startswith("drop_update:"):
        k = int(op.split(":")[1])
        return dataclasses.replace(o, updates=[u for i, u in enumerate(o.updates) if i != k])
    if op == "drop_outcome":
        return None
    if op in ("stop", "continue"):
        return dataclasses.replace(o, stop=op == "stop")
    return dataclasses.replace(o, stale_use=False)


def _emit(self, t, pc, call, outcomes, flow, text, result):
    step = flow[0].index(pc)
    builder = _builder(self, call, pc, t)
    out = []
    for j, o in enumerate(outcomes):
        point = Point(builder, step, j, o.note)
        if _BUILDING is not None:
            _SEEN.setdefault(point, _operators(o))
            _WHERE.setdefault(point, set()).add(_BUILDING)
        if _ACTIVE is not None and _ACTIVE.point == point:
            o = _mutated(o, _ACTIVE.op)
        if o is not None:
            out.append(o)
    return _ORIGINAL_EMIT(self, t, pc, call, out, flow, text, result)


programs.ProgramCompiler._emit = _emit


def cells(pairs: list[tuple[str, str]]) -> dict:
    """(spec, design, property) -> (verdict, shortest trace length) for the gate's cells."""
    out = {}
    for path, design in pairs:
        spec = load_spec(path)
        props = sorted({p for table in spec.expect.values() for p in table})
        try:
            results = check(spec.system(design), props, Options(backend="python"))
        except (BoundExceeded, IndexError, SpecError) as err:
            out[(spec.name, design, "*")] = ("model error", str(err))
            continue
        for r in results:
            out[(spec.name, design, r.prop)] = (r.verdict.value, r.trace.length if r.trace else None)
    return out


def _run(mutant: Mutant | None, pairs: list[tuple[str, str]]) -> dict:
    global _ACTIVE
    _ACTIVE = mutant
    try:
        return cells(pairs)
    finally:
        _ACTIVE = None


def _points(spec_paths: list[str], designs: list[str]) -> tuple[dict[Point, tuple], list[tuple[str, str]]]:
    """Every mutation point the bundled specs build, with its operators; the (spec, design)
    pairs that can be checked."""
    global _BUILDING
    _SEEN.clear()
    _WHERE.clear()
    pairs = []
    for path in spec_paths:
        spec = load_spec(path)
        for design in designs:
            if applicable(spec, design):
                _BUILDING = (path, design)
                spec.system(design)
                _BUILDING = None
                pairs.append((path, design))
    _BUILDING = None
    return dict(sorted(_SEEN.items(), key=lambda pv: (pv[0].builder, pv[0].step, pv[0].outcome))), pairs


def _verdict_of(mutant: Mutant, where: dict, base: dict) -> tuple[Mutant, str]:
    """Killed or not: only the cells whose systems contain the mutated step can change."""
    got = _run(mutant, sorted(where[mutant.point]))
    for key, value in got.items():
        if base.get(key) != value:
            spec, design, prop = key
            kind = "model error" if value[0] == "model error" else \
                "verdict" if base.get(key, (None,))[0] != value[0] else "trace"
            return mutant, f"{kind}: {spec} [{design}] {prop}"
    return mutant, ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", default="legacy,legacy_313,final", help="comma-separated designs to mutate and run")
    ap.add_argument("--specs", default=str(ROOT / "specs"))
    ap.add_argument("--only", default="", help="only mutants whose description contains this text")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--markdown", default=None, help="also write the result as markdown to this file")
    args = ap.parse_args()
    designs = [d for d in args.designs.split(",") if d]
    unknown = [d for d in designs if d not in DESIGNS]
    if unknown:
        ap.error(f"no such design: {', '.join(unknown)}")
    spec_paths = sorted(str(p) for p in Path(args.specs).glob("*.toml"))
    start = time.perf_counter()
    points, pairs = _points(spec_paths, designs)
    mutants = [Mutant(p, op, what) for p, ops in points.items() for op, what in ops]
    mutants = [m for m in mutants if args.only in str(m)]
    base = _run(None, pairs)
    where = {p: _WHERE[p] for p in points}
    with ProcessPoolExecutor(args.workers) as pool:
        outcomes = list(pool.map(partial(_verdict_of, where=where, base=base), mutants))
    killed = [(m, why) for m, why in outcomes if why]
    alive = [m for m, why in outcomes if not why]
    seconds = time.perf_counter() - start
    lines = [f"# Mutation testing of the models", "",
             f"`python benchmarks/mutation.py --designs {','.join(designs)}`: mutants of every C function's "
             f"steps as the bundled specs build them, run against every spec under {', '.join(designs)}.", "",
             f"**{len(killed)} of {len(mutants)} mutants killed** "
             f"({100 * len(killed) / max(1, len(mutants)):.0f}%), {seconds:.0f} s.", "",
             "| how killed | mutants |", "|---|---|"]
    for kind in ("verdict", "trace", "model error"):
        lines.append(f"| {kind} | {sum(why.startswith(kind) for _, why in killed)} |")
    lines += ["", f"## Surviving mutants ({len(alive)})", ""]
    lines += [f"- {m}" for m in alive] or ["none"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
