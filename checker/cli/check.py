"""`interpcheck check`: verdict per property per spec and design, with shortest traces."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from interpcheck.model.designs import DESIGNS, for_cpython, resolve
from interpcheck.model.spec import Spec

from ..render.steps import steps_of
from ..render.text import (cti_changes, cti_state, early_stop_ending, render_cti, render_early_stop, render_trace,
                           summary_line, verdict_table)
from ..result import UNEXPECTED, Trace, Verdict, status
from .app import main
from .options import engine_options, make_options
from .runner import Checked, bundled_specs, load_all, overall_exit, run_spec
from .usage import known_design, output_folder


def trace_json(system, trace: Trace) -> list[dict]:
    return [{"thread": s.thread, "call": s.call, "result": s.result, **({"at": s.where} if s.where else {})}
            for s in steps_of(system, trace)]


def result_json(c: Checked) -> dict:
    r = c.result
    trace = trace_json(c.system, r.trace) if r.trace is not None else None
    early = None
    if r.early_stop is not None:   # a witness never reached: the shortest run that ends before it can be
        early = {"length": r.early_stop.length, "trace": trace_json(c.system, r.early_stop),
                 "ends": early_stop_ending(c.system, r.early_stop)}
    return {"spec": c.spec.name, "design": c.design, "property": r.prop, "verdict": r.verdict.value,
            "expected": c.expected, "engine": r.engine, "trace_length": r.trace.length if r.trace else None,
            "status": status(r.verdict, c.expected),
            "trace": trace, "stats": r.stats.as_dict(), "reason": r.reason or None,
            "counterexample_to_induction": cti_json(c), "early_stop": early}


def cti_json(c: Checked) -> dict | None:
    """k-induction's counterexample to induction: the state, the call, what changed, what fails."""
    cti = c.result.cti
    if cti is None:
        return None
    step = None
    if cti.action is not None:
        s = steps_of(c.system, Trace((cti.before, cti.after), (cti.action,)))[0]
        step = {"thread": s.thread, "call": s.call, "result": s.result}
    return {"state": dict(cti_state(c.system, cti)), "step": step, "changes": dict(cti_changes(c.system, cti)),
            "fails": cti.fails}


def sarif_report(checked: list[Checked]) -> dict:
    """Every violation (the vacuity witness aside) as a SARIF result: at the failing call's C
    line or spec program line, else at the property's `[expect]` line; the same rule at the
    same place once."""
    from ..render.sarif import sarif_log, violation
    from .reports import expect_line, spec_file
    results, rules, seen = [], {}, set()
    for c in checked:
        if c.result.verdict is not Verdict.VIOLATED or c.result.prop == "completes":
            continue
        fallback = f"{c.spec.path}:{expect_line(str(c.spec.path), c.design, c.result.prop)}"
        found = violation(c.system, c.result, fallback, spec_file(c))
        key = (found["ruleId"], json.dumps(found["locations"]))
        if key in seen:   # the same violation at the same line with more threads: report it once
            continue
        seen.add(key)
        results.append(found)
        rules[c.result.prop] = c.system.prop(c.result.prop)
    return sarif_log(results, rules)


def junit_of_check(checked: list[Checked]) -> str:
    """JUnit for `check`: an unexpected verdict fails its testcase, a limit makes it an error."""
    from .reports import junit_report
    failed = {}
    for c in checked:
        r = c.result
        if status(r.verdict, c.expected) == UNEXPECTED:
            failed[id(c)] = ("failure", f"{c.spec.name} [{c.design}] {r.prop}: expected {c.expected}, "
                                        f"now {r.verdict.value}")
        elif r.verdict is Verdict.UNKNOWN and not r.undecided:
            failed[id(c)] = ("error", f"{c.spec.name} [{c.design}] {r.prop}: no verdict ({r.reason})")
    return junit_report("interpcheck check", checked, failed)


def print_text(checked: list[Checked], full_state: bool) -> None:
    groups: dict[tuple[str, str], list[Checked]] = {}
    for c in checked:
        groups.setdefault((c.spec.path, c.design), []).append(c)
    for (path, design), items in groups.items():
        spec = items[0].spec
        stats = items[0].result.stats
        click.echo(f"{spec.name} [{design}]  ({path})")
        if spec.summary:
            click.echo(f"  {spec.summary}")
        for warning in spec.warnings:
            click.echo(f"  {warning}")
        rows = []
        for c in items:
            r = c.result
            steps = f"{r.trace.length} step{'s' if r.trace.length != 1 else ''}" if r.trace is not None else ""
            note = steps if r.trace is not None and r.verdict is Verdict.VIOLATED else ""
            if r.verdict is Verdict.UNKNOWN or (r.reason and r.verdict is Verdict.VIOLATED and not r.trace):
                note = r.reason
            elif r.engine == "parametric":
                note = r.reason   # the claim is about every N: say so on every row
            elif r.verdict is Verdict.HOLDS and r.engine == "k-induction":
                note = r.reason   # how it was proven: at which k, with which invariants
            rows.append((r.prop, r.verdict.value, c.expected, note))
        click.echo(verdict_table(rows))
        kind = "abstract" if items[0].result.engine == "parametric" else "distinct"
        click.echo(f"  {stats.states} {kind} states, {stats.transitions} transitions, depth {stats.depth}, "
                   f"{stats.seconds:.2f}s")
        for c in items:
            prop = c.system.prop(c.result.prop)
            if c.result.trace is not None and (c.result.verdict is Verdict.VIOLATED or getattr(prop, "query", False)):
                click.echo("")
                click.echo(render_trace(c.system, c.result, full_state))
            if c.result.early_stop is not None and (not getattr(prop, "query", False) or not c.as_expected):
                # A witness never reached (a query only when that was not expected): the run that stops early.
                click.echo("")
                click.echo(render_early_stop(c.system, c.result, full_state))
            if c.result.cti is not None:   # k-induction could not prove it: show why
                click.echo("")
                click.echo(render_cti(c.system, c.result, full_state))
        click.echo("")


def _release_designs(versions: tuple[str, ...]) -> tuple[str, ...]:
    """The designs `--cpython` selects."""
    out = []
    for version in versions:
        name = for_cpython(version)
        if name is None:
            known = ", ".join(f"{d.name} ({d.covers_text()})" for d in DESIGNS.values() if d.covers)
            raise click.BadParameter(f"no design models CPython {version}; known: {known}", param_hint="--cpython")
        out.append(name)
    return tuple(out)


def _with_releases(spec: Spec, releases: tuple[str, ...]) -> Spec:
    """The spec, also under each selected release design that can express it."""
    from dataclasses import replace

    from .matrix import applicable
    extra = tuple(d for d in releases if d not in spec.designs and applicable(spec, d))
    return replace(spec, designs=spec.designs + extra) if extra else spec


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--design", "designs", multiple=True, help="only this design (repeatable)")
@click.option("--cpython", "versions", multiple=True, metavar="X.Y[.Z]",
              help="only the design of this CPython release, e.g. 3.12 or 3.13.8 (repeatable); a spec that "
                   "does not list it is checked under it too, without expectations")
@click.option("--property", "-p", "props", multiple=True, help="only this property (repeatable)")
@engine_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--full-state", is_flag=True, help="print every variable at every step, not only what changed")
@click.option("--quiet", "-q", is_flag=True, help="no progress lines on stderr")
@click.option("--itf", "itf_dir", type=click.Path(file_okay=False), default=None,
              help="write each counterexample as ITF JSON: DIR/<spec>/<design>.<property>.itf.json")
@click.option("--mermaid", "mermaid_dir", type=click.Path(file_okay=False), default=None,
              help="write each counterexample as a Mermaid sequence diagram: DIR/<spec>/<design>.<property>.mmd")
@click.option("--sarif", "sarif_file", type=click.Path(dir_okay=False), default=None,
              help="also write the violations as SARIF 2.1.0 (at the failing call's spec or C line)")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), default=None,
              help="also write a JUnit XML report: a testcase per spec, design and property, failed when unexpected")
@click.option("--examples", is_flag=True,
              help="check the bundled example specs (wherever interpcheck is installed), with any PATHS given")
@click.option("--write-counterexamples", "baseline_dir", type=click.Path(file_okay=False), default=None,
              help="rewrite the gate's baseline (e.g. counterexamples/) for these specs, under every design "
                   "that can express them")
def check(paths, designs, versions, props, engine, order, max_states, max_depth, time_limit, depth, seed, walks, fmt,
          full_state, quiet, itf_dir, mermaid_dir, sarif_file, junit_file, examples, baseline_dir):
    """Check each spec's properties (default: every spec under specs/).

    Exit codes: 0 every verdict as expected; 11 unexpected deadlock; 12 unexpected safety
    violation, or an expected violation not found; 13 unexpected liveness violation or hang;
    150 bad input; 152 a limit was reached before a verdict; 255 internal error.
    """
    for d in designs:
        known_design("--design", d)
    for option, folder in (("--itf", itf_dir), ("--mermaid", mermaid_dir), ("--write-counterexamples", baseline_dir)):
        output_folder(option, folder)
    opts = make_options(engine, order, max_states, max_depth, time_limit, depth, seed, walks)
    checked: list[Checked] = []
    if examples:
        paths = tuple(paths) + (str(bundled_specs()),)
    specs = load_all(paths)
    releases = _release_designs(versions)
    designs = tuple(resolve(d) for d in designs) + releases
    for spec in specs:
        checked += run_spec(_with_releases(spec, releases), opts, designs, props, progress=not quiet,
                            unpinned_must_hold=True)
    if baseline_dir:
        from . import baseline
        from .matrix import run_matrix
        baseline.write(Path(baseline_dir), run_matrix(specs, opts))
    if itf_dir or mermaid_dir:
        from .trace import write_traces
        write_traces(checked, itf_dir, mermaid_dir)
    if sarif_file:
        Path(sarif_file).write_text(json.dumps(sarif_report(checked), indent=2) + "\n")
    if junit_file:
        Path(junit_file).write_text(junit_of_check(checked))
    if fmt == "json":
        json.dump({"results": [result_json(c) for c in checked]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_text(checked, full_state)
        click.echo(summary_line([status(c.result.verdict, c.expected) for c in checked]))
    sys.exit(overall_exit(checked))
