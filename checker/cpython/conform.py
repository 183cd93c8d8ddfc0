"""The conformance suite: every counterexample of the design a CPython version is held to,
and every spec's witness run (`completes`), replayed on every CPython found.

Which design a version is held to is the one table below (the designs' own release ranges,
model/designs; `interpcheck list` shows them). 3.10 is claimed by no design: it is held to
cpython_3_11, the nearest, whose 3.10 behaviour was checked with gdb on 3.10.13's
Py_FinalizeEx (docs/conformance.md).
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from interpcheck.model.designs import for_cpython
from interpcheck.model.spec import Spec, SpecError

from ..explicit import check as explicit_check
from ..result import Trace, Verdict
from .interpreters import Interpreter
from .observe import TimeLimit
from .plan import NotReplayable
from .replay import SETTLE, TIME_LIMIT, CPythonReplay, replay_trace, trace_of

# 3.10 is a release no design claims; conformance holds it to 3.11's (docs/conformance.md).
NEAREST: dict[tuple[int, int], tuple[int, int, int]] = {(3, 10): (3, 11, 0)}


def design_for(version: tuple[int, int, int]) -> str | None:
    """The design whose verdicts a CPython version is held to (the models' own release table,
    Design.covers); None for a version no design models."""
    version = NEAREST.get(tuple(version[:2]), tuple(version))
    return for_cpython(".".join(map(str, version)))


@dataclass
class Case:
    """One trace to replay: a saved counterexample, or the model's witness that every thread completes."""
    spec: Spec
    design: str
    prop: str
    name: str                     # the trace file, or "witness: completes"
    trace: Trace | None = None
    why_not: str = ""             # why there is no trace to replay


@dataclass
class Row:
    case: Case
    interp: Interpreter
    result: CPythonReplay | None
    limit: str = ""               # the time limit was hit

    @property
    def verdict(self) -> str:
        if self.limit:
            return "time limit"
        if self.result is None:
            return "no witness" if self.case.prop == "completes" else "not replayable"
        return self.result.verdict

    @property
    def detail(self) -> str:
        if self.limit:
            return self.limit
        if self.result is None:
            return self.case.why_not
        if self.result.outcome is None:
            return self.result.why_not
        d = self.result.outcome.divergence
        if d is None:
            n = sum(not s.skipped for s in self.result.outcome.steps)
            return f"{n} observed steps agree" + (" (under valgrind)" if self.result.valgrind else "")
        return f"step {d.expect.step} ({d.expect.label}): {d.why}"


def cases(specs: list[Spec], design: str, baseline: Path, witnesses: bool = True) -> list[Case]:
    """The saved counterexamples of `design`, and (with `witnesses`) each spec's witness run."""
    out = []
    for spec in specs:
        for path in sorted((baseline / spec.name).glob(f"{design}.*.itf.json")):
            out.append(_saved(spec, design, path))
        if witnesses:
            out.append(_witness(spec, design))
    return [c for c in out if c is not None]


def _saved(spec: Spec, design: str, path: Path) -> Case:
    prop = path.name[len(design) + 1:-len(".itf.json")]
    case = Case(spec, design, prop, str(path))
    try:
        case.trace = trace_of(spec.system(design), json.loads(path.read_text()))
    except NotReplayable as err:
        case.why_not = str(err)
    return case


def _witness(spec: Spec, design: str) -> Case | None:
    try:
        system = spec.system(design)
    except SpecError:
        return None                  # the design cannot express this spec
    case = Case(spec, design, "completes", "witness: completes")
    result = explicit_check(system, ["completes"])[0]
    if result.verdict is Verdict.HOLDS and result.trace is not None:
        case.trace = result.trace
    else:
        case.why_not = "the model has no run in which every thread completes"
    return case


def run_suite(specs: list[Spec], interps: list[Interpreter], baseline: Path, settle: float = SETTLE,
              time_limit: float = TIME_LIMIT, workers: int = 2, witnesses: bool = True) -> list[Row]:
    """Every case on every interpreter, `workers` replays at a time."""
    todo = []
    by_design: dict[str, list[Case]] = {}
    for interp in interps:
        design = design_for(interp.version)
        if design is None:
            continue                 # no design models this version (the CLI says so)
        if design not in by_design:
            by_design[design] = cases(specs, design, baseline, witnesses)
        todo += [(case, interp) for case in by_design[design]]

    def one(item: tuple[Case, Interpreter]) -> Row:
        case, interp = item
        if case.trace is None:
            return Row(case, interp, None)
        try:
            return Row(case, interp, replay_trace(case.spec, case.design, case.prop, case.trace, case.name, interp,
                                                  settle, time_limit))
        except TimeLimit as err:
            return Row(case, interp, None, limit=str(err))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, todo))


def markdown(rows: list[Row]) -> str:
    """The table docs/conformance.md holds: spec × trace × design, one column per CPython."""
    versions = sorted({r.interp.short for r in rows}, key=lambda v: tuple(map(int, v.split("."))))
    grid: dict[tuple, dict[str, Row]] = {}
    for r in rows:
        grid.setdefault((r.case.spec.name, r.case.prop, r.case.design), {})[r.interp.short] = r
    lines = ["| spec | trace | design | " + " | ".join(f"CPython {v}" for v in versions) + " |",
             "|---|---|---|" + "---|" * len(versions)]
    for (spec, prop, design), cells in sorted(grid.items()):
        row = [spec, "witness (completes)" if prop == "completes" else prop, design]
        for v in versions:
            r = cells.get(v)
            row.append("" if r is None else _cell(r))
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in row) + " |")
    return "\n".join(lines) + "\n"


def _cell(r: Row) -> str:
    if r.verdict == "agrees":
        return "agrees"
    return f"**{r.verdict}**: {r.detail}" if r.verdict == "diverges" else f"{r.verdict}: {r.detail}"


def as_json(rows: list[Row]) -> list[dict]:
    return [{"spec": r.case.spec.name, "design": r.case.design, "property": r.case.prop, "trace": r.case.name,
             "cpython": r.interp.short, "verdict": r.verdict, "detail": r.detail} for r in rows]


__all__ = ["design_for", "Case", "Row", "cases", "run_suite", "markdown", "as_json"]
