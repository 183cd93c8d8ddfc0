"""Commands that turn traces into files people read, diff and look at: `graph`, `report`,
`replay`, and the trace files `check --itf/--mermaid` writes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click

from interpcheck.model.designs import DESIGNS, resolve
from interpcheck.model.spec import SpecError, load_spec, read_text
from interpcheck.model.spec_schema import did_you_mean

from ..explicit import Limits, explore_graph
from ..render import dot
from ..render.html import ReportItem, to_html
from ..render.itf import ITFError, check_shape, dumps, to_itf
from ..render.mermaid import to_mermaid
from ..replay import replay as replay_trace
from ..result import Verdict
from .app import main
from .options import engine_options, make_options
from .conform import replay_on_cpython
from .runner import EXIT_BAD_INPUT, EXIT_OK, EXIT_SAFETY, Checked, bundled_specs, load_all, overall_exit, run_spec
from .usage import BadUsage, FiniteFloat, inside, known_design


MAX_TRACE_BYTES = 64 << 20   # the largest committed trace is under 100 kB


def write_traces(checked: list[Checked], itf_dir: str | None, mermaid_dir: str | None) -> list[Path]:
    """One file per counterexample: DIR/<spec>/<design>.<property>.itf.json (and .mmd)."""
    written = []
    for c in checked:
        if c.result.trace is None or c.result.verdict is not Verdict.VIOLATED:
            continue
        stem = f"{c.design}.{c.result.prop}"
        if itf_dir is not None:
            written.append(_write(inside(itf_dir, c.spec.name, f"{stem}.itf.json"),
                                  dumps(to_itf(c.system, c.result, c.spec.path))))
        if mermaid_dir is not None:
            written.append(_write(inside(mermaid_dir, c.spec.name, f"{stem}.mmd"), to_mermaid(c.system, c.result)))
    return written


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as err:
        raise BadUsage(f"{path}: cannot write: {err.strerror}") from err
    return path


def _one_design(spec, design: str | None) -> str:
    if design is None:
        if len(spec.designs) > 1:
            click.echo(f"note: {spec.path} has designs {', '.join(spec.designs)}; drawing {spec.designs[0]} "
                       "(choose with --design)", err=True)
        return spec.designs[0]
    design = resolve(design)
    if design not in spec.designs:
        raise SpecError(spec.path, 0, f"the spec has no design `{design}`; it has {', '.join(spec.designs)}")
    return design


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path())
@click.option("--design", default=None, help="which of the spec's designs (default: the first)")
@click.option("--property", "-p", "prop", default=None,
              help="the property whose counterexample to mark (default: the first violated one)")
@click.option("--dot", "dot_file", required=True, type=click.Path(dir_okay=False), help="write the DOT graph here")
@click.option("--svg", "svg_file", default=None, type=click.Path(dir_okay=False),
              help="also render it to SVG with Graphviz `dot`")
@click.option("--around-trace", type=click.IntRange(0), default=None,
              help=f"only states within N steps of the counterexample (default 2 above {dot.BIG} states)")
@click.option("--max-states", type=click.IntRange(1), default=None, help="stop exploring after this many states")
def graph(spec_path, design, prop, dot_file, svg_file, around_trace, max_states):
    """Export the reachable state graph of SPEC as Graphviz DOT (and SVG)."""
    spec = load_spec(spec_path)
    design = _one_design(spec, design)
    system = spec.system(design)
    known = [p.name for p in system.properties]
    if prop is not None and prop not in known:
        raise SpecError(spec.path, 0, f"unknown property `{prop}`; {did_you_mean(prop, known)}known: {', '.join(sorted(known))}")
    ex, marks, result = _explored(system, prop, spec.properties(design), Limits(max_states=max_states))
    keep = None
    if around_trace is not None or len(ex.states) > dot.BIG:
        radius = 2 if around_trace is None else around_trace
        centers = marks.trace_states or sorted(marks.initial)
        keep = dot.neighbourhood(dot.state_graph(ex), centers, radius)
    title = f"{spec.name} [{design}]" + (f": {result.prop} violated" if result else "")
    Path(dot_file).write_text(dot.to_dot(system, ex, marks, title, keep))
    shown = len(keep) if keep is not None else len(ex.states)
    what = f"counterexample for {result.prop} in bold" if result else "no counterexample"
    click.echo(f"wrote {dot_file}: {shown} of {len(ex.states)} states, {what}"
               + (f" ({ex.limit})" if ex.limit else ""))
    if keep is not None and shown < len(ex.states):
        click.echo(_how_to_see_more(radius, result is not None, len(ex.states), around_trace is None))
    if svg_file:
        if shutil.which("dot") is None:
            click.echo("error: Graphviz `dot` is not installed (e.g. apt-get install graphviz); "
                       f"the DOT file {dot_file} is written", err=True)
            sys.exit(EXIT_BAD_INPUT)
        done = subprocess.run(["dot", "-Tsvg", "-o", svg_file, dot_file], capture_output=True, text=True)
        if done.returncode != 0:   # it cannot write there, most often
            why = " ".join(done.stderr.split())[:300] or f"exit {done.returncode}"
            raise SpecError(svg_file, 0, f"Graphviz `dot` could not write the SVG ({why}); "
                                         f"the DOT file {dot_file} is written")
        click.echo(f"wrote {svg_file}")


def _how_to_see_more(radius: int, centred_on_trace: bool, total: int, by_default: bool) -> str:
    """A cut graph says what it shows and how to see more of it."""
    around = "the counterexample" if centred_on_trace else "the initial state"
    why = f" (graphs above {dot.BIG} states are cut)" if by_default else ""
    more = (f"note: drawn: the states within {radius} step{'s' if radius != 1 else ''} of {around}{why}; "
            f"to see more: --around-trace {radius + 3}")
    if not centred_on_trace:
        more += ", or -p PROPERTY to centre it on a violated property's counterexample"
    return more + f"; all {total} states: --around-trace {total}"


def _explored(system, prop: str | None, expected: list[str], limits: Limits):
    """The whole explored graph with its marks, and the counterexample to draw in bold: of
    `prop`, else of the first violated property among those the spec expects (or all)."""
    wanted = [prop] if prop else (expected or [p.name for p in system.properties])
    ex, compiled, results = explore_graph(system, wanted, limits)
    result = next((r for r in results if r.verdict is Verdict.VIOLATED and r.trace is not None), None)
    props = [i for i, p in enumerate(system.properties) if p.name in wanted]
    trace = result.trace if result is not None else None
    return ex, dot.mark(system, compiled, ex, props, trace, result.prop if result else None), result


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--out", "out", default="report.html", show_default=True, type=click.Path(dir_okay=False))
@click.option("--design", "designs", multiple=True, help="only this design (repeatable)")
@click.option("--property", "-p", "props", multiple=True, help="only this property (repeatable)")
@engine_options
@click.option("--quiet", "-q", is_flag=True, help="no progress lines on stderr")
def report(paths, out, designs, props, engine, order, max_states, max_depth, time_limit, depth, seed, walks,
           quiet):
    """Check specs (default specs/) and write one self-contained HTML report: the verdict
    table and every counterexample as a stepper with its sequence diagram and state.

    Exit codes as for `check`."""
    designs = tuple(resolve(known_design("--design", d)) for d in designs)
    opts = make_options(engine, order, max_states, max_depth, time_limit, depth, seed, walks)
    checked: list[Checked] = []
    for spec in load_all(paths):
        checked += run_spec(spec, opts, designs, props, progress=not quiet, unpinned_must_hold=True)
    items = [ReportItem(c.spec.name, c.spec.path, c.spec.summary, c.design, c.system, c.result, c.expected)
             for c in checked]
    Path(out).write_text(to_html(items))
    traces = sum(i.has_counterexample for i in items)
    witnesses = sum(i.has_witness for i in items)
    click.echo(f"wrote {out}: {len(items)} verdicts, {traces} counterexample{'s' if traces != 1 else ''}"
               + (f", {witnesses} witness{'es' if witnesses != 1 else ''}" if witnesses else ""))
    sys.exit(overall_exit(checked))


def spec_candidates(trace_file: str, source: str) -> list[Path]:
    """Where the spec a trace names may be: as written (relative to the cwd where it was checked),
    relative to the trace's folder or any folder above it (the trace moved with its project),
    then among the bundled specs by file name."""
    named = Path(source)
    if named.is_absolute():
        return [named, bundled_specs() / named.name]
    here = Path(trace_file).resolve().parent
    return [named] + [folder / named for folder in (here, *here.parents)] + [bundled_specs() / named.name]


def _spec_of_trace(trace_file: str, source: str | None) -> Path:
    if not source:
        raise SpecError(trace_file, 0, "the trace names no spec (#meta.source): pass --spec SPEC")
    found = next((p for p in spec_candidates(trace_file, source) if p.is_file()), None)
    if found is None:
        raise SpecError(trace_file, 0, f"cannot find the spec it names, {source}, here or next to the trace: "
                                       "pass --spec SPEC")
    return found


@main.command()
@click.argument("trace_file", metavar="TRACE.itf.json", type=click.Path(dir_okay=False))
@click.option("--spec", "spec_path", default=None, type=click.Path(),
              help="the spec to replay against (default: the one the trace names)")
@click.option("--design", default=None, help="the design to replay against (default: the trace's)")
@click.option("--cpython", "python", default=None, metavar="PYTHON",
              help="replay on this real CPython instead (a python executable with a shared libpython)")
@click.option("--keep", default=None, type=click.Path(file_okay=False),
              help="with --cpython: write the C program and its build command here")
@click.option("--settle", type=FiniteFloat(0.01, inclusive=True), default=0.3, show_default=True,
              help="with --cpython: seconds a step may take before its thread counts as not moving")
@click.option("--time-limit", type=FiniteFloat(1, inclusive=True), default=60.0, show_default=True,
              help="with --cpython: seconds for the replay program")
def replay(trace_file, spec_path, design, python, keep, settle, time_limit):
    """Re-check a saved ITF trace against the current model and say where it diverges; with
    --cpython, run it on a real CPython and compare each step with the model's prediction.

    Exit codes: 0 it replays and still violates its property (--cpython: every step agrees);
    12 it diverges, or no longer violates the property; 150 unreadable trace or spec (or not
    replayable on that CPython); 152 the time limit (--cpython)."""
    try:
        doc = json.loads(read_text(Path(trace_file), "trace", MAX_TRACE_BYTES))
        check_shape(doc)
    except (OSError, ValueError, RecursionError) as err:
        raise SpecError(trace_file, 0, f"cannot read the trace: {err}") from err
    except ITFError as err:
        raise SpecError(trace_file, 0, f"cannot read the trace: {err}; give a .itf.json file `check --itf` "
                                       "wrote") from err
    meta = doc.get("#meta", {})
    spec = load_spec(spec_path or _spec_of_trace(trace_file, meta.get("source")))
    design = resolve(design or meta.get("design") or spec.designs[0])   # traces may name an old alias
    # any design that can express the spec, as `matrix` checks (and its baseline keeps) them all
    if design not in DESIGNS:
        raise SpecError(trace_file, 0, f"no design `{design}`; `interpcheck list` shows the designs")
    if python is not None:
        replay_on_cpython(trace_file, doc, spec, design, python, keep, settle, time_limit)
    try:
        result = replay_trace(spec.system(design), doc)
    except ITFError as err:
        raise SpecError(trace_file, 0, str(err)) from err
    prop = meta.get("property", "?")
    where = f"{spec.name} [{design}] ({spec.path})"
    if result.diverged_at is not None:
        click.echo(f"{trace_file}: diverges from {where} at step {result.diverged_at}: {result.action}")
        click.echo(f"  {result.reason}")
        if result.differences:
            width = max(len(n) for n, _, _ in result.differences)
            click.echo(f"  {'variable'.ljust(width)}  trace expects  /  model gives")
            for name, expected, found in result.differences:
                click.echo(f"  {name.ljust(width)}  {expected}  /  {found}")
        click.echo(f"  ({result.steps} step{'s' if result.steps != 1 else ''} replayed before that)")
        sys.exit(EXIT_SAFETY)
    state = "still violated" if result.still_violated else "NO LONGER violated"
    click.echo(f"{trace_file}: replays on {where}: {result.steps} steps; {prop} {state}: {result.verdict}")
    sys.exit(EXIT_OK if result.still_violated else EXIT_SAFETY)
