"""Where CI reports (SARIF, JUnit) point for a checked cell, and the JUnit report itself.

A violation points at the call that fails (its C line, or its line in the spec's program:
render/sarif.py); a verdict without a trace (an expected violation not found, a limit) at
the property's line under the spec's `[expect.<design>]` or `[expect]` table, else line 1.
`check` and `gate` write the same JUnit: one testcase per spec, design and property.
"""
from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

from ..render.sarif import culprit_location, repository_path
from ..render.text import render_trace
from .runner import Checked


def expect_line(path: str, design: str, prop: str) -> int:
    """The line of `prop = ...` under `[expect.<design>]`, else under `[expect]`, else the
    `[expect]` header's line, else 1."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return 1
    key = re.compile(rf'^\s*"?{re.escape(prop)}"?\s*=')
    header = re.compile(r"^\s*\[+\s*([^\]]*?)\s*\]+")
    sections: dict[str, list[int]] = {}
    table = ""
    for n, line in enumerate(lines, 1):
        if m := header.match(line):
            table = m.group(1).replace('"', "")
            sections.setdefault(table, []).append(n)
        elif key.match(line):
            sections.setdefault(f"{table}/{prop}", []).append(n)
    for wanted in (f"expect.{design}/{prop}", f"expect/{prop}", "expect"):
        if wanted in sections:
            return sections[wanted][0]
    return 1


def spec_file(c: Checked) -> str | None:
    """The spec whose programs the threads' lines refer to; None for check-c (a C file)."""
    return c.spec.path if str(c.spec.path).endswith(".toml") else None


def location(c: Checked) -> str:
    """`file:line` a report gives for this cell (the file as written, not yet made relative)."""
    fallback = f"{c.spec.path}:{expect_line(str(c.spec.path), c.design, c.result.prop)}"
    return culprit_location(c.system, c.result, fallback, spec_file(c)) if c.result.trace is not None else fallback


def junit_report(name: str, checked: list[Checked], failed: dict[int, tuple[str, str]]) -> str:
    """JUnit XML: `failed` maps id(cell) to ("failure" | "error", message). Each testcase
    carries `file` (repository-relative) and `line`, as pytest's JUnit does."""
    suite = ET.Element("testsuite", name=name, tests=str(len(checked)),
                       failures=str(sum(kind == "failure" for kind, _ in failed.values())),
                       errors=str(sum(kind == "error" for kind, _ in failed.values())))
    for c in checked:
        path, _, line = location(c).rpartition(":")
        case = ET.SubElement(suite, "testcase", classname=f"{c.spec.name}.{c.design}", name=c.result.prop,
                             file=repository_path(path), line=line)
        if id(c) in failed:
            kind, message = failed[id(c)]
            node = ET.SubElement(case, kind, message=message)
            if c.result.trace is not None:
                node.text = render_trace(c.system, c.result)
    ET.indent(suite)
    return NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", ET.tostring(suite, encoding="unicode")) + "\n"


# Characters XML 1.0 has no way to write, even escaped (ElementTree leaves them raw, and an
# XML parser then refuses the file): a control character in a path or a summary, shown as \xNN.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
