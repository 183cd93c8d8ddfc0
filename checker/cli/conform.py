"""`interpcheck conform` and `replay --cpython`: the models held to the real runtime.

Exit codes: 0 every step agrees; 12 a divergence (the first: step, thread, predicted,
observed); 150 bad input, or a trace that cannot be replayed on that version (which step
and why); 152 the time limit.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from interpcheck.model.spec import Spec, SpecError

from ..cpython.conform import as_json, design_for, markdown, run_suite
from ..cpython.interpreters import Interpreter, NoInterpreter, found, inspect
from ..cpython.observe import TimeLimit
from ..cpython.plan import NotReplayable
from ..cpython.replay import SETTLE, TIME_LIMIT, replay_trace, trace_of
from ..explicit.native.build import BuildError
from .app import main
from .runner import EXIT_LIMIT, EXIT_OK, EXIT_SAFETY, load_all
from .usage import FiniteFloat


def interpreter(python: str, where: str) -> Interpreter:
    try:
        return inspect(python)
    except NoInterpreter as err:
        raise SpecError(where, 0, f"{err}; pass a CPython built with --enable-shared") from err


def replay_on_cpython(trace_file: str, doc: dict, spec: Spec, design: str, python: str, keep: str | None,
                      settle: float, time_limit: float) -> None:
    """`replay TRACE --cpython PYTHON`: prints each step, predicted and observed, and exits."""
    interp = interpreter(python, trace_file)
    prop = doc.get("#meta", {}).get("property", "?")
    try:
        trace = trace_of(spec.system(design), doc)
        done = replay_trace(spec, design, prop, trace, trace_file, interp, settle, time_limit,
                            Path(keep) if keep else None)
    except NotReplayable as err:
        raise SpecError(trace_file, 0, f"not replayable on CPython {interp.short}: {err}") from err
    except BuildError as err:
        raise SpecError(trace_file, 0, str(err)) from err
    except TimeLimit as err:
        click.echo(f"{trace_file}: {err}")
        sys.exit(EXIT_LIMIT)
    if done.outcome is None:
        raise SpecError(trace_file, 0, f"not replayable on CPython {interp.short}: {done.why_not}")
    click.echo(f"{trace_file} on CPython {interp.short} ({interp.executable}): {spec.name} [{design}], {prop}"
               + (" (under valgrind)" if done.valgrind else ""))
    rows = [(str(s.expect.step), s.expect.thread, s.expect.label.split(": ", 1)[-1], s.expect.outcome
             + (f" {s.expect.result}" if s.expect.result else ""), s.observed,
             "" if s.skipped else ("ok" if s.agrees else "DIVERGES")) for s in done.outcome.steps]
    head = ("step", "thread", "call", "model predicts", "CPython did", "")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        click.echo("  " + "  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip())
    if keep:
        click.echo(f"wrote {keep}/replay.c and {keep}/build.sh")
    d = done.outcome.divergence
    if d is not None:
        click.echo(f"diverges at step {d.expect.step} (thread {d.expect.thread}): {d.why}")
        click.echo(f"  predicted: {d.expect.outcome}; observed: {d.observed}; the process: {done.outcome.exit}")
        sys.exit(EXIT_SAFETY)
    n = sum(not s.skipped for s in done.outcome.steps)
    click.echo(f"agrees: {n} observed step{'s' if n != 1 else ''} as the model predicts "
               f"({len(done.outcome.steps) - n} without a boundary to observe)")
    sys.exit(EXIT_OK)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--cpython", "pythons", multiple=True, metavar="PYTHON",
              help="a CPython executable with a shared libpython (repeatable; default: every one found)")
@click.option("--baseline", default="counterexamples", show_default=True, type=click.Path(file_okay=False),
              help="where the saved counterexamples are")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--settle", type=FiniteFloat(0.01, inclusive=True), default=SETTLE, show_default=True,
              help="seconds a step may take before its thread counts as not moving")
@click.option("--time-limit", type=FiniteFloat(1, inclusive=True), default=TIME_LIMIT, show_default=True,
              help="seconds for one replay program")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="replays run at a time")
def conform(paths, pythons, baseline, fmt, settle, time_limit, workers):
    """Replay every counterexample and every spec's witness run (default specs/) on real
    CPythons and say, per spec, design and version, whether the runtime agrees with the model.

    A version is held to one design (see docs/conformance.md). Exit 0: no divergence; 12:
    some trace diverges; 152: a replay hit the time limit."""
    if not Path(baseline).is_dir():   # not an empty baseline: the counterexamples would go unchecked
        raise SpecError(baseline, 0, "no such folder: pass --baseline with the saved counterexamples "
                                     "(`interpcheck check --write-counterexamples DIR` writes them)")
    interps = [interpreter(p, p) for p in pythons] if pythons else found()
    if not interps:
        raise SpecError("--cpython", 0, "no CPython with a shared libpython found (pyenv builds under "
                                        "~/.pyenv/versions, or the system python3): pass --cpython PYTHON")
    specs = load_all(paths)
    if fmt == "text":
        for i in interps:
            held = design_for(i.version)
            click.echo(f"CPython {i.short} ({i.executable}): "
                       + (f"held to {held}" if held else "no design models it: skipped"), err=True)
    rows = run_suite(specs, interps, Path(baseline), settle, time_limit, workers)
    if fmt == "json":
        click.echo(json.dumps({"results": as_json(rows)}, indent=2))
    elif fmt == "markdown":
        click.echo(markdown(rows), nl=False)
    else:
        for r in rows:
            click.echo(f"{r.interp.short:8} {r.case.spec.name} [{r.case.design}] {r.case.prop}: {r.verdict}"
                       + (f": {r.detail}" if r.verdict != "agrees" else ""))
        counts = {v: sum(r.verdict == v for r in rows) for v in ("agrees", "diverges", "not replayable", "no witness", "time limit")}
        click.echo(", ".join(f"{n} {v}" for v, n in counts.items()))
    if any(r.verdict == "diverges" for r in rows):
        sys.exit(EXIT_SAFETY)
    sys.exit(EXIT_LIMIT if any(r.verdict == "time limit" for r in rows) else EXIT_OK)
