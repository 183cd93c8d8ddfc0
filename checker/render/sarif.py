"""Counterexamples as SARIF 2.1.0 results for code scanning (GitHub, IDEs).

Each violation sits at the C call that fails (the last located step of the thread that
fails), and carries the whole interleaving as one codeFlow with one threadFlow per
thread; `executionOrder` gives the global order of the steps across threads.
"""
from __future__ import annotations

from pathlib import Path

from interpcheck.model.ir import System

from ..result import Result
from .steps import Step, steps_of
from .text import ending

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(path: str) -> str:
    """Repository-relative when the file is under the working directory (what code scanning wants)."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return p.as_posix()


def _location(where: str, text: str | None = None) -> dict:
    path, _, line = where.rpartition(":")
    loc: dict = {"physicalLocation": {"artifactLocation": {"uri": _uri(path)},
                                      "region": {"startLine": max(1, int(line))}}}
    if text:
        loc["message"] = {"text": text}
    return loc


def _step_text(step: Step) -> str:
    call = step.call + (f" -> {step.result}" if step.result is not None else "")
    return f"{step.index}. {step.thread}: {call}" + (f" [{step.note}]" if step.note else "")


def violation(system: System, result: Result, fallback: str) -> dict:
    """One SARIF result: at the failing step's C line (else `fallback`, a `file:line`)."""
    trace = result.trace
    steps = steps_of(system, trace) if trace is not None else []
    culprit = system.threads[trace.thread] if trace is not None and trace.thread is not None else \
        (steps[-1].thread if steps else None)
    located = [s for s in steps if s.where and s.thread == culprit] or [s for s in steps if s.where]
    at = located[-1].where if located else fallback
    text = f"{result.prop} violated: {ending(system, result)}" if trace is not None else f"{result.prop} violated"
    out = {"ruleId": result.prop, "level": "error", "message": {"text": text}, "locations": [_location(at)]}
    if steps:
        flows = []
        for thread in dict.fromkeys(s.thread for s in steps):
            locs = []
            for s in steps:
                if s.thread != thread:
                    continue
                loc = _location(s.where, _step_text(s)) if s.where else {"message": {"text": _step_text(s)}}
                locs.append({"location": loc, "executionOrder": s.index})
            flows.append({"id": thread, "message": {"text": f"thread {thread}"}, "locations": locs})
        out["codeFlows"] = [{"message": {"text": f"the interleaving ({trace.length} steps)"}, "threadFlows": flows}]
    return out


def sarif_log(results: list[dict], rules: dict[str, str]) -> dict:
    """The log: one run of interpcheck; `rules` maps each property to its one-line description."""
    return {"version": "2.1.0", "$schema": SCHEMA,
            "runs": [{"tool": {"driver": {"name": "interpcheck", "informationUri": "https://peps.python.org/pep-0788/",
                                          "rules": [{"id": r, "shortDescription": {"text": d or r}}
                                                    for r, d in sorted(rules.items())]}},
                      "results": results}]}
