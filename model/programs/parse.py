"""Parses a thread program: C API calls with Python-like blocks.

    g = PyInterpreterGuard_FromView(v)
    if g == NULL:
        return
    repeat 2:
        tok = PyThreadState_Ensure(g)
        PyThreadState_Release(tok)
    PyInterpreterGuard_Close(g)

Statements: `[name =] Call(args)`, `if COND:` / `else:`, `repeat N:` (unrolled), `return`,
`pass`, `goto NAME` / `label NAME` (a jump within the program, as C code translated by
model/cfront needs). COND is `[not] x`, `x == NULL`, `x != 0`, or a call. `#` and `//` start comments;
a trailing `;` is ignored. Every node keeps its line for error messages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


class ProgramError(Exception):
    """`design_mismatch` marks a program that is fine C but not for this design (a function
    it lacks, or one it declares with other types): the matrix reads that as "n/a"."""

    def __init__(self, message: str, line: int, design_mismatch: bool = False):
        super().__init__(message)
        self.message, self.line, self.design_mismatch = message, line, design_mismatch


@dataclass(frozen=True)
class Arg:
    text: str          # a name, "NULL" or an integer literal
    line: int

    @property
    def is_null(self) -> bool:
        return self.text in ("NULL", "0")


@dataclass(frozen=True)
class Call:
    target: str | None
    name: str
    args: tuple[Arg, ...]
    line: int
    bare: bool = False      # written without parentheses, like the Py_BEGIN_ALLOW_THREADS macro
    where: str = ""         # the C source `file:line` this call was translated from (model/cfront)

    @property
    def text(self) -> str:
        if self.name == SET:
            return f"{self.target} = {self.args[0].text}"
        return self.name if self.bare else f"{self.name}({', '.join(a.text for a in self.args)})"


SET = "="   # the `name` of `x = NULL` and `x = y`: a register set to NULL or to another's value


@dataclass(frozen=True)
class Cond:
    subject: str | Call     # a register name, or a call whose result is tested
    op: str                 # "!=" or "=="
    value: str              # "0"/"NULL" or an integer literal, or a name
    line: int


@dataclass(frozen=True)
class If:
    cond: Cond
    body: tuple
    orelse: tuple
    line: int


@dataclass(frozen=True)
class Repeat:
    count: int
    body: tuple
    line: int


@dataclass(frozen=True)
class Return:
    line: int


@dataclass(frozen=True)
class Label:
    """`label NAME`: a place `goto NAME` jumps to; costs no step."""
    name: str
    line: int


@dataclass(frozen=True)
class Goto:
    """`goto NAME`: continue at `label NAME` of the same program; costs no step."""
    name: str
    line: int


NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Words of the language: a register with one of these names could not be told from a statement.
KEYWORDS = frozenset({"NULL", "if", "else", "not", "and", "or", "repeat", "return", "pass"})
# A program larger or deeper than this is a mistake or an attack, and would only exhaust the
# search (or Python's stack) later: refuse it at load time with its line.
MAX_STATEMENTS = 10_000     # after unrolling `repeat`
MAX_DEPTH = 32              # blocks open at once
_CALL = re.compile(rf"^(?:(?P<target>{NAME})\s*=\s*)?(?P<name>{NAME})\s*(?:\((?P<args>[^()]*)\))?$")
_SET = re.compile(rf"^(?P<target>{NAME})\s*=\s*(?P<source>0|{NAME})$")   # no parentheses: no call
_COND = re.compile(rf"^(?P<neg>not\s+)?(?P<subject>{NAME}\s*(?:\([^()]*\))?)\s*(?:(?P<op>==|!=)\s*(?P<value>NULL|-?\d+|{NAME}))?$")


def _strip(raw: str) -> str:
    for marker in ("#", "//"):
        if marker in raw:
            raw = raw[:raw.index(marker)]
    return raw.rstrip().rstrip(";").rstrip()


def _call(text: str, line: int) -> Call:
    if m := _SET.match(text.strip()):
        target, source = m.group("target"), m.group("source")
        for name in (target, source):
            if name in KEYWORDS - {"NULL"} or name == target == "NULL":
                raise ProgramError(f"`{name}` is a word of the language, not a register name: choose another", line)
        return Call(target, SET, (Arg(source, line),), line)
    m = _CALL.match(text.strip())
    if not m:
        raise ProgramError(f"cannot read `{text.strip()}`: expected `[name =] Function(args)`", line)
    raw = (m.group("args") or "").strip()
    args = tuple(Arg(a.strip(), line) for a in raw.split(",")) if raw else ()
    for a in args:
        if not re.fullmatch(rf"{NAME}|-?\d+", a.text):
            raise ProgramError(f"argument `{a.text}` must be a name, NULL or an integer", line)
    target = m.group("target")
    if target in KEYWORDS:
        raise ProgramError(f"`{target}` is a word of the language, not a register name: choose another", line)
    return Call(target, m.group("name"), args, line, m.group("args") is None)


def _cond(text: str, line: int) -> Cond:
    m = _COND.match(text.strip())
    if not m:
        raise ProgramError(f"cannot read the condition `{text.strip()}`: use `x`, `not x`, "
                           "`x == NULL`, `x != 0` or a call", line)
    subj_text = m.group("subject").strip()
    subject: str | Call = _call(subj_text, line) if "(" in subj_text else subj_text
    op, value = m.group("op") or "!=", m.group("value") or "0"
    if m.group("neg"):
        op = "==" if op == "!=" else "!="
    return Cond(subject, op, "0" if value == "NULL" else value, line)


def parse_program(text: str, first_line: int = 1) -> tuple:
    """Statements of `text`; line numbers count from `first_line` (its line in the spec file)."""
    lines = []
    for k, raw in enumerate(text.splitlines()):
        if len(lines) >= MAX_STATEMENTS:
            raise ProgramError(f"the program has more than {MAX_STATEMENTS:,} statements; split the scenario",
                               first_line + k)
        body = _strip(raw)
        if body.strip():
            if "\t" in raw[:len(raw) - len(raw.lstrip())]:
                raise ProgramError("indent with spaces, not tabs", first_line + k)
            lines.append((len(body) - len(body.lstrip()), body.strip(), first_line + k))
    block, rest = _block(lines, 0, lines[0][0] if lines else 0, 0)
    if rest < len(lines):
        raise ProgramError("unexpected indentation", lines[rest][2])
    if size(block) > MAX_STATEMENTS:
        raise ProgramError(f"the program unrolls to more than {MAX_STATEMENTS:,} statements (`repeat` multiplies "
                           "its body); lower the counts", lines[0][2])
    return block


def size(stmts: tuple) -> int:
    """Statements once every `repeat` is unrolled (depth is bounded by MAX_DEPTH); counting
    stops a little past MAX_STATEMENTS."""
    total = 0
    for s in stmts:
        if isinstance(s, Repeat):
            total += s.count * size(s.body)
        elif isinstance(s, If):
            total += 1 + size(s.body) + size(s.orelse)
        else:
            total += 1
        if total > MAX_STATEMENTS:
            return total
    return total


def assigned(stmts: tuple):
    """(register, line) for every call result a program assigns."""
    for s in stmts:
        if isinstance(s, Call) and s.target is not None:
            yield s.target, s.line
        elif isinstance(s, Repeat):
            yield from assigned(s.body)
        elif isinstance(s, If):
            yield from assigned(s.body)
            yield from assigned(s.orelse)


def _block(lines: list, i: int, indent: int, depth: int) -> tuple[tuple, int]:
    out: list = []
    while i < len(lines):
        ind, text, line = lines[i]
        if ind < indent:
            break
        if ind > indent:
            raise ProgramError("unexpected indentation", line)
        if text.startswith("if ") and text.endswith(":"):
            body, i = _child(lines, i, indent, depth)
            orelse: tuple = ()
            if i < len(lines) and lines[i][0] == indent and lines[i][1] == "else:":
                orelse, i = _child(lines, i, indent, depth)
            out.append(If(_cond(text[3:-1], line), body, orelse, line))
            continue
        if text == "else:":
            raise ProgramError("`else:` without a matching `if`", line)
        if text.startswith("repeat ") and text.endswith(":"):
            count = text[7:-1].strip()
            if not (count.isascii() and count.isdigit()) or not 1 <= int(count) <= 16:   # not '²
                raise ProgramError(f"`repeat {count}:` needs a literal count from 1 to 16", line)
            body, i = _child(lines, i, indent, depth)
            out.append(Repeat(int(count), body, line))
            continue
        if text.endswith(":"):
            raise ProgramError(f"unknown block `{text}`: only `if`, `else` and `repeat N` open blocks", line)
        if text == "return":
            out.append(Return(line))
        elif re.fullmatch(rf"(goto|label)\s+{NAME}", text):
            kind, name = text.split()
            out.append((Goto if kind == "goto" else Label)(name, line))
        elif text != "pass":
            out.append(_call(text, line))
        i += 1
    return tuple(out), i


def _child(lines: list, i: int, indent: int, depth: int) -> tuple[tuple, int]:
    line = lines[i][2]
    if i + 1 >= len(lines) or lines[i + 1][0] <= indent:
        raise ProgramError("a block needs an indented body (use `pass` for none)", line)
    if depth + 1 > MAX_DEPTH:
        raise ProgramError(f"blocks nested more than {MAX_DEPTH} deep; flatten the program", line)
    return _block(lines, i + 1, lines[i + 1][0], depth + 1)
