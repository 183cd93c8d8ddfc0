"""`interpcheck gate`: the CI gate for design changes.

Re-checks every spec under every design that can express it and compares with the spec's
expectations and the committed baseline (counterexamples/). A regression is a property that
held and is now violated, an expected violation that disappeared, a changed shortest
counterexample, or a verdict that contradicts the spec's expectation. Exit 12 on any.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import click

from ..render.text import render_trace
from ..result import Verdict
from . import baseline, main
from .check import engine_options, make_options
from .matrix import run_matrix
from .runner import EXIT_LIMIT, EXIT_OK, EXIT_SAFETY, Checked, load_all


@dataclass
class Finding:
    checked: Checked
    kind: str           # "regression" | "no verdict" | "new" | "not decided" (by this engine)
    message: str


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
            if r.verdict is Verdict.VIOLATED and c.expected is None:
                out.append(Finding(c, "regression", f"{name}: violated, and not in the baseline"))
            else:
                out.append(Finding(c, "new", f"{name}: not in the baseline yet ({r.verdict.value})"))
            continue
        if old["verdict"] != now["verdict"]:
            what = "new violation" if r.verdict is Verdict.VIOLATED else "expected violation disappeared"
            out.append(Finding(c, "regression", f"{name}: {what} (was {old['verdict']}, now {now['verdict']})"))
        elif r.verdict is Verdict.VIOLATED and r.trace is not None:
            txt, _ = baseline.trace_files(root, c)
            rendered = render_trace(c.system, r) + "\n"
            if old["trace_length"] != now["trace_length"] or (txt.exists() and txt.read_text(errors="replace") != rendered):
                out.append(Finding(c, "regression", f"{name}: shortest counterexample changed "
                                   f"(length {old['trace_length']} → {now['trace_length']}; baseline {txt})"))
    return out


def junit(checked: list[Checked], findings: list[Finding]) -> str:
    bad = {id(f.checked): f for f in findings if f.kind not in ("new", "not decided")}
    suite = ET.Element("testsuite", name="interpcheck gate", tests=str(len(checked)),
                       failures=str(sum(f.kind == "regression" for f in bad.values())),
                       errors=str(sum(f.kind == "no verdict" for f in bad.values())))
    for c in checked:
        case = ET.SubElement(suite, "testcase", classname=f"{c.spec.name}.{c.design}", name=c.result.prop)
        f = bad.get(id(c))
        if f is not None:
            tag = "failure" if f.kind == "regression" else "error"
            node = ET.SubElement(case, tag, message=f.message)
            if c.result.trace is not None:
                node.text = render_trace(c.system, c.result)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode") + "\n"


def sarif(findings: list[Finding]) -> dict:
    rules = sorted({f.checked.result.prop for f in findings if f.kind not in ("new", "not decided")})
    results = []
    for f in findings:
        if f.kind in ("new", "not decided"):
            continue
        c = f.checked
        text = f.message + ("\n" + render_trace(c.system, c.result) if c.result.trace is not None else "")
        results.append({"ruleId": c.result.prop, "level": "error" if f.kind == "regression" else "warning",
                        "message": {"text": text},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": c.spec.path},
                                                            "region": {"startLine": 1}}}]})
    return {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [{"tool": {"driver": {"name": "interpcheck", "informationUri": "https://peps.python.org/pep-0788/",
                                          "rules": [{"id": r} for r in rules]}},
                      "results": results}]}


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
        else:
            click.echo(f"note: {f.message}")
    if junit_file:
        Path(junit_file).write_text(junit(checked, findings))
    if sarif_file:
        Path(sarif_file).write_text(json.dumps(sarif(findings), indent=2) + "\n")
    regressions = sum(f.kind == "regression" for f in findings)
    limits = sum(f.kind == "no verdict" for f in findings)
    click.echo(f"gate: {len(checked)} cells, {regressions} regressions, {limits} without a verdict")
    sys.exit(EXIT_SAFETY if regressions else EXIT_LIMIT if limits else EXIT_OK)
