"""Counterexamples as SARIF 2.1.0 results for code scanning (GitHub, IDEs).

Each violation sits at the call that fails: the last step of the thread that fails, at its
C line when the thread comes from C, else at its line in the spec file's program; a result
with no such step sits where the caller says (the property's line under `[expect]`). It
carries the whole interleaving as one codeFlow with one threadFlow per thread;
`executionOrder` gives the global order of the steps across threads. Paths are relative to
the repository's top level (git), else the working directory, as code scanning resolves them.
"""
from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

from interpcheck.model.ir import System

from ..result import Result
from .steps import Step, steps_of
from .text import ending

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
PEP_788 = "https://peps.python.org/pep-0788/"


@lru_cache(maxsize=None)
def repository_root(cwd: str) -> Path:
    """The git top level around `cwd`, else `cwd`: what SARIF paths are relative to."""
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return Path(cwd)
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else Path(cwd)


def repository_path(path: str) -> str:
    """`path` relative to the repository root when it is under it, else absolute."""
    p = Path(path).resolve()
    try:
        return p.relative_to(repository_root(str(Path.cwd().resolve()))).as_posix()
    except ValueError:
        return p.as_posix()


def _uri(path: str) -> str:
    """Relative to the repository root when the file is under it, else an absolute file URI."""
    shown = repository_path(path)
    return Path(shown).as_uri() if Path(shown).is_absolute() else shown


def _location(where: str, text: str | None = None) -> dict:
    path, _, line = where.rpartition(":")
    loc: dict = {"physicalLocation": {"artifactLocation": {"uri": _uri(path)},
                                      "region": {"startLine": max(1, int(line))}}}
    if text:
        loc["message"] = {"text": text}
    return loc


def _where(step: Step, spec_file: str | None) -> str:
    """A step's `file:line`: its C line, else its line in the spec's program; empty if neither."""
    if step.where:
        return step.where
    return f"{spec_file}:{step.line}" if spec_file and step.line else ""


def culprit_location(system: System, result: Result, fallback: str, spec_file: str | None = None) -> str:
    """Where a violation points (`file:line`): the last located step of the thread that fails
    (a hung thread, else the one that took the last step), else any located step, else `fallback`."""
    trace = result.trace
    steps = steps_of(system, trace) if trace is not None else []
    culprit = system.threads[trace.thread] if trace is not None and trace.thread is not None else \
        (steps[-1].thread if steps else None)
    for chosen in ([s for s in steps if s.thread == culprit], steps):
        located = [w for s in chosen if (w := _where(s, spec_file))]
        if located:
            return located[-1]
    return fallback


def _step_text(step: Step) -> str:
    call = step.call + (f" -> {step.result}" if step.result is not None else "")
    return f"{step.index}. {step.thread}: {call}" + (f" [{step.note}]" if step.note else "")


def violation(system: System, result: Result, fallback: str, spec_file: str | None = None) -> dict:
    """One SARIF result at `culprit_location`; `spec_file` is the spec whose programs the
    threads' line numbers refer to (None when they come from elsewhere, e.g. check-c's harness)."""
    trace = result.trace
    steps = steps_of(system, trace) if trace is not None else []
    at = culprit_location(system, result, fallback, spec_file)
    text = f"{result.prop} violated: {ending(system, result)}" if trace is not None else f"{result.prop} violated"
    out = {"ruleId": result.prop, "level": "error", "message": {"text": text}, "locations": [_location(at)]}
    if steps:
        flows = []
        for thread in dict.fromkeys(s.thread for s in steps):
            locs = []
            for s in steps:
                if s.thread != thread:
                    continue
                w = _where(s, spec_file)
                loc = _location(w, _step_text(s)) if w else {"message": {"text": _step_text(s)}}
                locs.append({"location": loc, "executionOrder": s.index})
            flows.append({"id": thread, "message": {"text": f"thread {thread}"}, "locations": locs})
        out["codeFlows"] = [{"message": {"text": f"the interleaving ({trace.length} steps)"}, "threadFlows": flows}]
    return out


def help_uri() -> str:
    """Where a property is documented: the project's documentation URL when the installed
    metadata declares one, else PEP 788 (never a local path: reports must not depend on where
    the checkout lies, and CI uploads them)."""
    try:
        from importlib.metadata import metadata
        for entry in metadata("interpcheck").get_all("Project-URL") or []:
            label, _, url = entry.partition(", ")
            if label.lower() in ("documentation", "homepage", "repository", "source") and url:
                return url
    except Exception:   # metadata missing (run from a bare checkout): fall through
        pass
    return PEP_788


def rule(name: str, prop) -> dict:
    """A reportingDescriptor for property `prop` (a System property: `doc` says what it
    requires, `why` what a violation means)."""
    doc = (getattr(prop, "doc", "") or name).strip()
    why = (getattr(prop, "why", "") or "").strip()
    full = f"{doc} A violation means: {why}." if why else doc
    return {"id": name, "name": name, "shortDescription": {"text": doc}, "fullDescription": {"text": full},
            "helpUri": help_uri(),
            "help": {"text": f"{full} See docs/specs.md, Properties.",
                     "markdown": f"{full} See `docs/specs.md`, *Properties*."}}


def sarif_log(results: list[dict], rules: dict[str, object]) -> dict:
    """The log: one run of interpcheck; `rules` maps each property's name to the property."""
    return {"version": "2.1.0", "$schema": SCHEMA,
            "runs": [{"tool": {"driver": {"name": "interpcheck", "informationUri": PEP_788,
                                          "rules": [rule(r, p) for r, p in sorted(rules.items())]}},
                      "results": results}]}
