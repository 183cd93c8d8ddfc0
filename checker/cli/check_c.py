"""`interpcheck check-c`: check C extension code with no spec, under an assumed harness."""
from __future__ import annotations

import json
import sys
from dataclasses import replace

import click

from interpcheck.model.cfront import CFrontError, CSources, build_harness, choose_design
from interpcheck.model.spec import Spec, SpecError

from ..result import Verdict
from .app import main
from .check import print_text, result_json, sarif_report
from .options import engine_options, make_options
from .runner import EXIT_INTERNAL, Checked, overall_exit, run_spec


@main.command("check-c")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--cpython", default=None, metavar="X.Y", help="the CPython version whose semantics to check against")
@click.option("--design", default=None, help="the API design to check against (overrides --cpython)")
@click.option("--entry", "entries", multiple=True, help="only this function as an entry (repeatable)")
@click.option("--loop-bound", type=click.IntRange(1, 8), default=2, show_default=True,
              help="iterations each loop is unrolled to")
@click.option("--count", "counts", type=click.IntRange(1, 4), multiple=True,
              help="threads running each entry (repeatable; default 1 and 2)")
@click.option("--property", "-p", "props", multiple=True, help="only this property (repeatable)")
@click.option("--show-program", is_flag=True, help="print each entry's translated program, with its C lines")
@engine_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--sarif", "sarif_file", type=click.Path(), default=None, help="also write a SARIF 2.1.0 report here")
@click.option("--full-state", is_flag=True, help="print every variable at every step, not only what changed")
@click.option("--quiet", "-q", is_flag=True, help="no progress lines on stderr")
def check_c(files, cpython, design, entries, loop_bound, counts, props, show_program, engine, order, max_states,
            max_depth, time_limit, depth, seed, walks, fmt, sarif_file, full_state, quiet):
    """Check the C (or C++) extension code in FILES.

    Every function that calls the thread-state API and is not called from inside FILES is an
    entry. A callback runs on 1 and then 2 foreign threads (no thread state), concurrently
    with a main thread that runs Python and then finalizes; a function Python calls is
    called by that main thread before it finalizes. One verdict table per entry and thread
    count. Exit codes as for `check`.
    """
    try:
        sources = CSources(list(files))
        name, why = choose_design(sources, cpython, design)
        harness = build_harness(sources, name, why, loop_bound, list(entries) or None)
        for entry in harness.entries:   # every program read now, so an error comes before any output
            harness.scenario(entry, 1)
    except CFrontError as err:
        raise SpecError(err.where, 0, err.message) from err
    opts = make_options(engine, order, max_states, max_depth, time_limit, depth, seed, walks)
    text = fmt == "text"
    say = (lambda s="": click.echo(s)) if text else (lambda s="": click.echo(s, err=True))
    say(harness.describe())
    for line in harness.skipped:
        click.echo(line, err=True)
    say("")
    checked: list[Checked] = []
    failed = False
    for entry in harness.entries:
        fn = entry.function
        for w in entry.program.warnings:
            click.echo(str(w), err=True)
        if show_program:
            _show_program(say, harness, entry)
        for count in harness.counts(entry, counts or (1, 2)):
            spec = _entry_spec(harness, entry, count, name, props)
            try:
                results = run_spec(spec, opts, (), props, progress=not quiet and text)
            except IndexError as err:   # the model indexed past a pool (e.g. more thread states than it has)
                click.echo(f"error: {fn.file.shown}:{fn.line}: {spec.name}: the model went past one of its "
                           f"pools ({err}); this entry has no verdicts (please report it)", err=True)
                failed = True
                continue
            checked += results
            if text:
                print_text(results, full_state)
    _report(checked, fmt, harness, name, sarif_file)
    sys.exit(EXIT_INTERNAL if failed else overall_exit(checked))


def _show_program(say, harness, entry) -> None:
    fn = entry.function
    say(f"{fn.name}() as checked ({fn.file.shown}:{fn.line}):")
    shown = harness.main(entry) if entry.python_thread else entry.program
    say(("  (run by the main thread)\n" if entry.python_thread else "")
        + "\n".join("    " + x for x in shown.text().splitlines()))
    say("")


def _entry_spec(harness, entry, count: int, design: str, props: tuple[str, ...]) -> Spec:
    """The spec of one entry on `count` threads: every property the design has, expected to hold."""
    fn = entry.function
    scenario = harness.scenario(entry, count)
    if entry.python_thread:
        summary = f"{fn.name}() called from Python by the main thread, which then finalizes"
    else:
        summary = f"{fn.name}() on {count} foreign thread{'s' if count > 1 else ''}, concurrently " \
                  "with a main thread that runs Python and finalizes"
    spec = Spec(fn.file.shown, scenario.name, summary, scenario, (design,), {design: {}})
    every = [p.name for p in spec.system(design).properties]   # translation errors surface here
    return replace(spec, expect={design: {p: "holds" for p in every if not props or p in props}})   # same System


def _report(checked: list[Checked], fmt: str, harness, design: str, sarif_file: str | None) -> None:
    if fmt == "text":
        bad = [c for c in checked if c.result.verdict is Verdict.VIOLATED and c.result.prop != "completes"]
        click.echo(f"{len(checked)} verdicts: {len(bad)} violated" + (" (see the traces above; each step names "
                                                                    "its C line)" if bad else ""))
    elif fmt == "json":
        json.dump({"harness": harness.describe(), "design": design,
                   "results": [result_json(c) for c in checked]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    if fmt == "sarif" or sarif_file:
        doc = json.dumps(sarif_report(checked), indent=2) + "\n"
        if sarif_file:
            with open(sarif_file, "w") as f:
                f.write(doc)
        if fmt == "sarif":
            sys.stdout.write(doc)
