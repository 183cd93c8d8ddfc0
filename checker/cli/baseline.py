"""The committed baseline under counterexamples/: one verdict table for every spec × design ×
property, and each violation's shortest trace as readable text and as ITF JSON (which
`interpcheck replay` re-checks). Deterministic on purpose (no timings), so a diff in review
shows exactly what a model change did.
"""
from __future__ import annotations

import json
from pathlib import Path

from interpcheck.model.spec import SpecError, read_text

from ..render.itf import ITFError, check_shape, dumps, to_itf
from ..render.text import render_trace
from ..result import Verdict
from .runner import Checked
from .usage import inside

TABLE = "verdicts.json"


def cell(c: Checked) -> dict:
    r = c.result
    length = r.trace.length if r.trace is not None and r.verdict is Verdict.VIOLATED else None
    return {"verdict": r.verdict.value, "trace_length": length}


def trace_files(root: Path, c: Checked) -> tuple[Path, Path]:
    stem = f"{c.design}.{c.result.prop}"
    return inside(root, c.spec.name, f"{stem}.txt"), inside(root, c.spec.name, f"{stem}.itf.json")


def write(root: Path, checked: list[Checked]) -> None:
    """Rewrite the baseline for the specs in `checked` (other specs' entries are kept)."""
    root.mkdir(parents=True, exist_ok=True)
    table = read_table(root)
    for spec in {c.spec.name for c in checked}:
        table.pop(spec, None)
        folder = root / spec
        if folder.is_dir():
            for old in folder.iterdir():
                old.unlink()
    for c in checked:
        table.setdefault(c.spec.name, {}).setdefault(c.design, {})[c.result.prop] = cell(c)
        if c.result.verdict is Verdict.VIOLATED and c.result.trace is not None:
            txt, js = trace_files(root, c)
            txt.parent.mkdir(parents=True, exist_ok=True)
            txt.write_text(render_trace(c.system, c.result) + "\n")
            js.write_text(dumps(to_itf(c.system, c.result, c.spec.path)))
    (root / TABLE).write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")


def read_table(root: Path, required: bool = False) -> dict:
    """spec → design → property → cell; SpecError naming the file when it is damaged, or
    missing where `required` (a gate without its baseline would pass everything as new)."""
    path = root / TABLE
    if not path.exists():
        if required:
            what = "no such folder" if not root.exists() else f"no {TABLE} in it"
            raise SpecError(str(root), 0, f"not a baseline ({what}); write one with `interpcheck check "
                                          f"--write-counterexamples {root}` or pass --baseline")
        return {}
    try:
        table = json.loads(read_text(path, "baseline table", 64 << 20))
    except (OSError, ValueError, RecursionError) as err:
        raise SpecError(str(path), 0, f"cannot read the baseline: {err}; rewrite it with "
                                      "`interpcheck check --write-counterexamples`") from err
    problem = _table_problem(table)
    if problem:
        raise SpecError(str(path), 0, f"not a baseline table: {problem}; rewrite it with "
                                      "`interpcheck check --write-counterexamples`")
    return table


def read_trace(path: Path) -> dict:
    """A saved ITF trace of the baseline; SpecError naming the file when it is damaged."""
    try:
        doc = json.loads(read_text(path, "baseline trace", 64 << 20))
        check_shape(doc)
    except (ValueError, RecursionError, ITFError) as err:
        raise SpecError(str(path), 0, f"cannot read the baseline trace: {err}; rewrite the baseline with "
                                      "`interpcheck check --write-counterexamples`") from err
    return doc


def _table_problem(table) -> str | None:
    if not isinstance(table, dict):
        return "the document is not an object"
    for spec, designs in table.items():
        if not isinstance(designs, dict):
            return f"`{spec}` is not an object of designs"
        for design, props in designs.items():
            if not isinstance(props, dict):
                return f"`{spec}.{design}` is not an object of properties"
            for prop, cell in props.items():
                where = f"`{spec}.{design}.{prop}`"
                if not isinstance(cell, dict) or cell.get("verdict") not in [v.value for v in Verdict]:
                    return f"{where} has no verdict (holds, violated or unknown)"
                length = cell.get("trace_length")
                if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 0):
                    return f"{where}: trace_length is not a count"
    return None
