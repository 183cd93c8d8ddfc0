"""`interpcheck gate`: the CI gate for design changes.

Re-checks every spec under every design that can express it and compares with the spec's
expectations and the committed baseline (counterexamples/), on what a reviewer cares about:
the verdict, and the counterexample's calls per thread. A regression is a property that held
and is now violated, an expected violation that disappeared, a shortest counterexample whose
length or calls per thread changed, or a verdict that contradicts the spec's expectation:
exit 12 on any. The same calls in another interleaving, or a trace that only reads
differently (notes, shifted program lines), is "changed", and a spec the baseline does not
have yet is "new": both are reported and neither fails.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from ..render.sarif import sarif_log, violation
from ..render.itf import dumps, step_label, to_itf
from ..render.steps import steps_of
from ..render.text import render_trace
from ..result import Verdict
from . import baseline
from .app import main
from .options import engine_options, make_options
from .matrix import run_matrix
from .reports import expect_line, junit_report, spec_file
from .runner import EXIT_LIMIT, EXIT_OK, EXIT_SAFETY, Checked, load_all


@dataclass
class Finding:
    checked: Checked
    kind: str           # "regression" | "changed" | "no verdict" | "new" | "not decided" (by this engine)
    message: str


FAILS = ("regression",)   # "changed" (same calls per thread, another interleaving or text) and "new" do not


def calls_per_thread(labels: list[str]) -> dict[str, list[str]]:
    """What a reviewer compares: each thread's C calls (with results), in its own order."""
    out: dict[str, list[str]] = {}
    for label in labels:
        thread, _, call = label.partition(": ")
        out.setdefault(thread, []).append(call)
    return out


def baseline_labels(doc: dict) -> list[str]:
    """The step labels of a saved ITF trace, with a lasso's closing step."""
    labels = [s.get("#meta", {}).get("action", "") for s in doc.get("states", [])[1:]]
    loop = doc.get("#meta", {}).get("loop_action")
    return labels + ([loop] if loop else [])


def _trace_change(c: Checked, root: Path, name: str, old: dict, now: dict) -> Finding | None:
    """A violated cell whose verdict stayed: a regression when the counterexample's calls per
    thread changed; a change of a lesser kind when only their interleaving, the notes and state
    shown, or the program lines in the saved trace moved."""
    r = c.result
    if old["trace_length"] != now["trace_length"]:
        return Finding(c, "regression", f"{name}: shortest counterexample changed "
                       f"(length {old['trace_length']} → {now['trace_length']}; baseline {baseline.trace_files(root, c)[0]})")
    txt, js = baseline.trace_files(root, c)
    if not js.exists():   # its length is in the table, so the calls are not known to have changed
        return Finding(c, "changed", f"{name}: the baseline's trace {js} is missing, so only its length "
                                     "was compared; regenerate the baseline to record it")
    saved = baseline.read_trace(js)
    before = baseline_labels(saved)
    labels = [step_label(s) for s in steps_of(c.system, r.trace)]
    old_calls, new_calls = calls_per_thread(before), calls_per_thread(labels)
    if old_calls != new_calls:
        threads = sorted(t for t in old_calls | new_calls if old_calls.get(t) != new_calls.get(t))
        return Finding(c, "regression", f"{name}: shortest counterexample changed: the calls of "
                       f"{', '.join(threads)} differ (baseline {txt})")
    if before != labels:
        what = "same calls per thread, another interleaving"
    elif txt.exists() and txt.read_text(errors="replace") != render_trace(c.system, r) + "\n":
        what = "same calls, the trace reads differently (notes or state shown)"
    elif saved.get("states") != json.loads(dumps(to_itf(c.system, r, c.spec.path)))["states"]:
        what = "same calls, the saved states differ (e.g. shifted program lines)"
    else:
        return None
    return Finding(c, "changed", f"{name}: {what}; not a regression (regenerate the baseline to record it)")


def compare(checked: list[Checked], root: Path) -> list[Finding]:
    table = baseline.read_table(root, required=True)
    out = []
    for c in checked:
        r = c.result
        name = f"{c.spec.name} [{c.design}] {r.prop}"
        old = table.get(c.spec.name, {}).get(c.design, {}).get(r.prop)
        now = baseline.cell(c)
        if r.verdict is Verdict.UNKNOWN and r.undecided:
            out.append(Finding(c, "not decided", f"{name}: {r.reason}"))
            continue
        if r.verdict is Verdict.UNKNOWN:
            out.append(Finding(c, "no verdict", f"{name}: no verdict ({r.reason})"))
            continue
        if c.expected is not None and c.expected != r.verdict.value:
            out.append(Finding(c, "regression", f"{name}: expected {c.expected}, now {r.verdict.value}"))
            continue
        if old is None:
            if c.spec.name in table and r.verdict is Verdict.VIOLATED and c.expected is None:
                out.append(Finding(c, "regression", f"{name}: violated, and not in the baseline"))
            else:
                out.append(Finding(c, "new", f"{name}: not in the baseline yet ({r.verdict.value})"))
            continue
        if old["verdict"] != now["verdict"]:
            what = "new violation" if r.verdict is Verdict.VIOLATED else "expected violation disappeared"
            out.append(Finding(c, "regression", f"{name}: {what} (was {old['verdict']}, now {now['verdict']})"))
        elif r.verdict is Verdict.VIOLATED and r.trace is not None:
            found = _trace_change(c, root, name, old, now)
            if found is not None:
                out.append(found)
    return out


def junit(checked: list[Checked], findings: list[Finding]) -> str:
    """A testcase per cell; a regression fails it, a limit makes it an error (reports.py: where each points)."""
    failed = {id(f.checked): ("failure" if f.kind == "regression" else "error", f.message)
              for f in findings if f.kind in FAILS or f.kind == "no verdict"}
    return junit_report("interpcheck gate", checked, failed)


def sarif(findings: list[Finding]) -> dict:
    """Each regression (error) and cell without a verdict (warning) at the failing call's C or
    spec program line, else at the property's `[expect]` line, with the interleaving."""
    shown = [f for f in findings if f.kind in FAILS or f.kind == "no verdict"]
    rules = {f.checked.result.prop: f.checked.system.prop(f.checked.result.prop) for f in shown}
    results = []
    for f in shown:
        c = f.checked
        text = f.message + ("\n" + render_trace(c.system, c.result) if c.result.trace is not None else "")
        fallback = f"{c.spec.path}:{expect_line(str(c.spec.path), c.design, c.result.prop)}"
        located = violation(c.system, c.result, fallback, spec_file(c))
        found = {"ruleId": c.result.prop, "level": "error" if f.kind == "regression" else "warning",
                 "message": {"text": text}, "locations": located["locations"]}
        if "codeFlows" in located:
            found["codeFlows"] = located["codeFlows"]
        results.append(found)
    return sarif_log(results, rules)


@main.command()
@click.option("--baseline", "root", default="counterexamples", show_default=True, type=click.Path())
@click.option("--specs", "spec_dir", default="specs", show_default=True, type=click.Path())
@click.option("--junit", "junit_file", type=click.Path(), help="write a JUnit XML report")
@click.option("--sarif", "sarif_file", type=click.Path(), help="write a SARIF 2.1.0 report")
@engine_options
def gate(root, spec_dir, junit_file, sarif_file, engine, order, max_states, max_depth, time_limit, depth, seed,
         walks):
    """Fail (exit 12) when a design change makes any spec's verdicts or traces worse."""
    opts = make_options(engine, order, max_states, max_depth, time_limit, depth, seed, walks)
    baseline.read_table(Path(root), required=True)   # a damaged or missing baseline: say so before the work
    checked = run_matrix(load_all((spec_dir,)), opts)
    findings = compare(checked, Path(root))
    for f in findings:
        if f.kind == "regression":
            click.echo(f"REGRESSION {f.message}")
            if f.checked.result.trace is not None:
                click.echo(render_trace(f.checked.system, f.checked.result))
                click.echo("")
        elif f.kind == "changed":
            click.echo(f"changed {f.message}")
        else:
            click.echo(f"note: {f.message}")
    if junit_file:
        Path(junit_file).write_text(junit(checked, findings))
    if sarif_file:
        Path(sarif_file).write_text(json.dumps(sarif(findings), indent=2) + "\n")
    regressions = sum(f.kind in FAILS for f in findings)
    limits = sum(f.kind == "no verdict" for f in findings)
    count = {k: sum(f.kind == k for f in findings) for k in ("changed", "new")}
    click.echo(f"gate: {len(checked)} cells, {regressions} regressions, {count['changed']} changed without "
               f"regressing, {count['new']} new, {limits} without a verdict")
    sys.exit(EXIT_SAFETY if regressions else EXIT_LIMIT if limits else EXIT_OK)
