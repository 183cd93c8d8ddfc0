"""Mutation testing of the models: does some bundled spec notice when a C call's model is wrong?

A mutant changes one outcome of one atomic step of one C function as the designs build it
(model/designs/, model/vocabulary.py): it drops one of the outcome's updates, turns a
returning outcome into one that stops the thread (or back), drops the outcome altogether (the
call blocks there), or forgets that it acts on a stale Py_IsFinalizing() answer. (An outcome
that crashes, hangs or exits stops its thread whatever `stop` says: no mutant flips that.) A mutant is
applied wherever the same step builder is used (a legacy function reused by a PEP 788 design
is one mutant), and it is killed when some cell of `interpcheck matrix` (spec × design ×
property, the cells the CI gate compares) gets another verdict or another shortest
counterexample length, or the model stops being a model (an index or bound error).

    python benchmarks/mutation.py [--designs legacy,final] [--only TEXT] [--markdown docs/mutation.md]

prints killed/total and every surviving mutant with why it survives, decided on the state
graphs of the specs that build its step (`_explain`): no spec's run takes the outcome (not
reached); every spec that takes it steps exactly the same under the mutant (equivalent on the
bundled specs); or the run changes and no verdict or shortest trace shows it. Runs the specs
in two processes; several minutes on this kind of machine.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interpcheck.checker.cli.matrix import applicable  # noqa: E402
from interpcheck.checker.explicit import Options, check  # noqa: E402
from interpcheck.model.designs import DESIGNS  # noqa: E402
from interpcheck.checker.explicit.semantics import compile_system  # noqa: E402
from interpcheck.model.ir import BoundExceeded, Const, Op, Read  # noqa: E402
from interpcheck.model.ir.expr import slots_read  # noqa: E402
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
_ACTIONS: dict[Point, list] = {}             # points -> their action indices in the system last built
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
    ends = {u.target.var.name for u in o.updates} & {"crash", "status", "process"}
    if not (o.stop and ends):   # a crash, hang or exit stops the thread anyway: no mutant there
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
    """Emits the outcomes one by one (the original loop treats each alone), noting which
    actions of the system being built each point became."""
    step = flow[0].index(pc)
    builder = _builder(self, call, pc, t)
    for j, o in enumerate(outcomes):
        point = Point(builder, step, j, o.note)
        if _BUILDING is not None:
            _SEEN.setdefault(point, _operators(o))
            _WHERE.setdefault(point, set()).add(_BUILDING)
        if _ACTIVE is not None and _ACTIVE.point == point:
            o = _mutated(o, _ACTIVE.op)
        if o is None:
            continue
        first = len(self.b.actions)
        _ORIGINAL_EMIT(self, t, pc, call, [o], flow, text, result)
        _ACTIONS.setdefault(point, []).extend(range(first, len(self.b.actions)))


programs.ProgramCompiler._emit = _emit


def cells(pairs: list[tuple[str, str]]) -> dict:
    """(spec, design, property) -> (verdict, shortest trace length) for the gate's cells."""
    out = {}
    for path, design in pairs:
        spec = load_spec(path)
        props = sorted({p for table in spec.expect.values() for p in table})
        try:
            results = check(spec.fresh_system(design), props, Options(backend="python"))
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
                spec.fresh_system(design)
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


# Why a mutant survives, decided on the state graphs of the specs that build its step: the
# unmutated model's reachable states, and the mutant's steps out of each of them.

NOT_REACHED = "not reached"
EQUIVALENT = "equivalent"
UNSEEN = "reached, not seen"

SAME_STEPS = {
    "drop_update": "wherever a spec takes this outcome the variable already holds what it writes",
    "not_stale": "wherever a spec takes this outcome no Py_IsFinalizing() answer is pending "
                 "(the ghost `checked_not_finalizing` is clear), so the check cannot fire",
    "drop_outcome": "wherever a spec takes this outcome another one makes the same step",
    "stop": "wherever a spec takes this outcome the thread has nothing left to do",
    "continue": "wherever a spec takes this outcome the thread has nothing left to do",
}


@dataclass(frozen=True)
class Reach:
    """One (spec, design) cell under the unmutated model: its reachable states with the steps
    out of each (action index, next state), the actions that fire, and each point's actions."""
    system: object
    steps: dict
    fired: frozenset
    compiled: object
    actions: dict


def _build(path: str, design: str, mutant: Mutant | None):
    """The cell's system with `mutant` applied, and each point's action indices in it."""
    global _ACTIVE
    spec = load_spec(path)   # loading builds the spec's systems too: clear the record after it
    _ACTIVE = mutant
    _ACTIONS.clear()
    try:
        return spec.fresh_system(design), {p: tuple(ix) for p, ix in _ACTIONS.items()}
    finally:
        _ACTIVE = None


@lru_cache(maxsize=24)
def _reach(path: str, design: str) -> Reach:
    system, actions = _build(path, design, None)
    compiled = compile_system(system)
    steps, todo = {s: None for s in system.initial}, list(system.initial)
    while todo:
        s = todo.pop()
        steps[s] = compiled.successors(s)
        for _, n in steps[s]:
            if n not in steps:
                steps[n] = None
                todo.append(n)
    fired = frozenset(k for out in steps.values() for k, _ in out)
    return Reach(system, steps, fired, compiled, actions)


def _steps(compiled, s) -> frozenset:
    """The steps out of `s` as states reached and the action properties each breaks."""
    return frozenset((n, tuple(compiled.action_checks(k, s, n))) for k, n in compiled.successors(s))


def _same_steps(mutant: Mutant, cell: tuple[str, str]) -> bool:
    """Whether the mutant steps exactly as the model does from every reachable state: then it
    reaches the same graph, so no property of that spec can tell them apart."""
    r = _reach(*cell)
    try:
        compiled = compile_system(_build(*cell, mutant)[0])
        return all(_steps(compiled, s) == _steps(r.compiled, s) for s in r.steps)
    except (BoundExceeded, IndexError, SpecError):
        return False


def _guard_atoms(guard) -> list[tuple[int, int]]:
    """The `slot == constant` conjuncts of a guard (pc, status, crash tests): when one is
    false in a state, the guard is false there whatever the other slots hold."""
    parts = guard.args if isinstance(guard, Op) and guard.name == "and" else (guard,)
    return [(a.args[0].var.base + a.args[0].index.value, a.args[1].value) for a in parts
            if isinstance(a, Op) and a.name == "==" and isinstance(a.args[0], Read)
            and isinstance(a.args[0].index, Const) and not a.args[0].primed and isinstance(a.args[1], Const)]


def _read_everywhere(system, slot: int) -> bool:
    """Whether a property, a query, a spec invariant, `finished` or `halted` reads the slot:
    then it matters in every state."""
    exprs = [system.halted, *system.finished]
    for prop in system.properties:
        exprs += [getattr(prop, f) for f in ("holds", "expr", "trigger", "goal") if hasattr(prop, f)]
    return any(slot in slots_read(e) for e in exprs)


def _live(r: Reach, slot: int, not_writers: set[int]) -> set:
    """The reachable states from which some run reads `slot` before an action outside
    `not_writers` overwrites it. A step reads it when its guard may (unless a `slot ==
    constant` test of another slot is false there), or when it is taken and its updates or
    checks read it; reads are over-approximated, so a state left out is truly dead for it."""
    actions = r.system.actions
    guard_reads = {k for k, a in enumerate(actions) if slot in slots_read(a.guard)}
    body_reads = {k for k, a in enumerate(actions)
                  if any(slot in slots_read(u.value) | slots_read(u.target.index) for u in a.updates)
                  or any(slot in slots_read(c.holds) for c in a.checks)}
    writes = {k for k, a in enumerate(actions) if k not in not_writers and k not in body_reads and any(
        isinstance(u.target.index, Const) and u.target.var.base + u.target.index.value == slot for u in a.updates)}
    atoms = {k: _guard_atoms(actions[k].guard) for k in guard_reads}
    live, back = set(), {}
    for s, out in r.steps.items():
        taken = {k for k, _ in out}
        if (taken & body_reads) or any(all(s[i] == v or i == slot for i, v in atoms[k]) for k in guard_reads):
            live.add(s)
        for k, n in out:
            if k not in writes:
                back.setdefault(n, []).append(s)
    todo = list(live)
    while todo:
        for s in back.get(todo.pop(), ()):
            if s not in live:
                live.add(s)
                todo.append(s)
    return live


def _dead_write(mutant: Mutant, cells: list[tuple[str, str]]) -> bool:
    """A dropped update is dead when, in every spec that takes the outcome, no run reads the
    slot after the outcome before something else writes it: the mutant's runs are the
    model's with that slot differing where nothing looks at it."""
    k = int(mutant.op.split(":")[1])
    for cell in cells:
        r = _reach(*cell)
        mine = set(r.actions.get(mutant.point, ()))
        targets = {r.system.actions[a].updates[k].target for a in mine}
        if len(targets) != 1 or not isinstance((target := targets.pop()).index, Const):
            return False
        slot = target.var.base + target.index.value
        if _read_everywhere(r.system, slot):
            return False
        live = _live(r, slot, mine)
        if any(a in mine and n in live for out in r.steps.values() for a, n in out):
            return False
    return True


def _explain(mutant: Mutant, where: dict) -> tuple[Mutant, str]:
    """Why a survivor survives: no spec takes the outcome; or every spec that takes it steps
    the same under the mutant (equivalent on these specs); or the run changes and no
    verdict or shortest trace shows it (the specs that reach it are named)."""
    cells = sorted(where[mutant.point])
    reached = [c for c in cells if set(_reach(*c).actions.get(mutant.point, ())) & _reach(*c).fired]
    if not reached:
        return mutant, f"{NOT_REACHED}: no spec's run takes this outcome"
    differs = [c for c in reached if not _same_steps(mutant, c)]
    if not differs:
        return mutant, f"{EQUIVALENT}: {SAME_STEPS[mutant.op.split(':')[0]]}"
    if mutant.op.startswith("drop_update:") and _dead_write(mutant, differs):
        return mutant, f"{EQUIVALENT}: a dead write: no run of a spec that takes this outcome reads the variable " \
                       f"afterwards before something else writes it"
    specs = sorted({Path(path).stem for path, _ in differs})
    shown = ", ".join(specs[:3]) + (f" and {len(specs) - 3} more" if len(specs) > 3 else "")
    return mutant, f"{UNSEEN}: changes the runs of {shown}, but no verdict or shortest trace"


NOTES = "## What the survivors are"


def _kept_notes(path: Path) -> str:
    """The hand-written section of an earlier report (what each group of survivors is, per
    group), kept across reruns: it sits between the tables and the list of survivors."""
    text = path.read_text() if path.exists() else ""
    if NOTES not in text:
        return ""
    return text[text.index(NOTES):text.index("## Surviving mutants")].rstrip() + "\n\n"


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
    where = {p: _WHERE[p] for p in points}
    base = _run(None, sorted(set().union(*(where[m.point] for m in mutants))))   # only the cells they touch
    with ProcessPoolExecutor(args.workers) as pool:
        outcomes = list(pool.map(partial(_verdict_of, where=where, base=base), mutants))
    killed = [(m, why) for m, why in outcomes if why]
    alive = [m for m, why in outcomes if not why]
    with ProcessPoolExecutor(args.workers) as pool:   # in point order: a worker reuses its cells' graphs
        explained = list(pool.map(partial(_explain, where=where), alive, chunksize=8))
    seconds = time.perf_counter() - start
    lines = ["# Mutation testing of the models", "",
             f"`python benchmarks/mutation.py --designs {','.join(designs)}`: mutants of every C function's "
             f"steps as the bundled specs build them, run against every spec under {', '.join(designs)}.", "",
             f"**{len(killed)} of {len(mutants)} mutants killed** "
             f"({100 * len(killed) / max(1, len(mutants)):.0f}%), {seconds:.0f} s.", "",
             "| how killed | mutants |", "|---|---|"]
    for kind in ("verdict", "trace", "model error"):
        lines.append(f"| {kind} | {sum(why.startswith(kind) for _, why in killed)} |")
    lines += ["", "| why a survivor survives | mutants |", "|---|---|"]
    for kind in (NOT_REACHED, EQUIVALENT, UNSEEN):
        lines.append(f"| {kind} | {sum(why.startswith(kind) for _, why in explained)} |")
    lines += ["", f"## Surviving mutants ({len(alive)})", ""]
    lines += [f"- {m}: {why}" for m, why in explained] or ["none"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        notes = _kept_notes(Path(args.markdown))
        Path(args.markdown).write_text(text.replace("\n\n## Surviving mutants", "\n\n" + notes + "## Surviving mutants", 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
