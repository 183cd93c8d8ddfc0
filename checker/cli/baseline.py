"""The committed baseline under counterexamples/: one verdict table for every spec × design ×
property, and each violation's shortest trace as readable text and as ITF JSON (which
`interpcheck replay` re-checks). Deterministic on purpose (no timings), so a diff in review
shows exactly what a model change did.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..render.itf import dumps, to_itf
from ..render.text import render_trace
from ..result import Verdict
from .runner import Checked

TABLE = "verdicts.json"


def cell(c: Checked) -> dict:
    r = c.result
    length = r.trace.length if r.trace is not None and r.verdict is Verdict.VIOLATED else None
    return {"verdict": r.verdict.value, "trace_length": length}


def trace_files(root: Path, c: Checked) -> tuple[Path, Path]:
    folder, stem = root / c.spec.name, f"{c.design}.{c.result.prop}"
    return folder / f"{stem}.txt", folder / f"{stem}.itf.json"


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


def read_table(root: Path) -> dict:
    path = root / TABLE
    return json.loads(path.read_text()) if path.exists() else {}
