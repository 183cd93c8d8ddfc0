"""The one declared schema of a spec file: every key, its type and its range.

`check(document)` raises Problem with the path of the first offending value (keys and
indexes from the top of the TOML document) and what to write instead; model/spec.py turns
the path into the file's line. A small typed schema of our own rather than jsonschema or
pydantic: neither knows TOML lines, both would add a dependency for some thirty keys, and
their messages name JSON paths, not what to write in the spec.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

from .designs import ALIASES, DESIGNS
from .programs.parse import KEYWORDS as RESERVED

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")   # no "/", no leading "." (".." climbs)
VERDICTS = ("holds", "violated")
DESIGN_NAMES = (*DESIGNS, *ALIASES)   # an alias (legacy, legacy_313) names a release's design
MAX_THREAD_TABLES = 32
MAX_NAMES = 64          # interpreters, locks, events, shared names each
MAX_TEXT = 100_000      # characters in a summary or predicate
MAX_PROGRAM = 1 << 20   # characters in a program (model/programs/parse.py bounds its statements)


class Problem(Exception):
    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path, self.message = path, message


def shown(path: tuple) -> str:
    """`thread[2].count` for ("thread", 2, "count")."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def found(value) -> str:
    """`found 42 (an integer)`: the offending value as TOML writes it, and its type."""
    kinds = [(bool, "a boolean"), (str, "a string"), (int, "an integer"), (float, "a number"), (list, "a list"),
             (dict, "a table")]
    kind = next((name for t, name in kinds if isinstance(value, t)), "a " + type(value).__name__)
    if isinstance(value, bool):
        return f"found {str(value).lower()} ({kind})"
    if isinstance(value, str):
        return f"found {json.dumps(value[:40] + ('…' if len(value) > 40 else ''), ensure_ascii=False)} ({kind})"
    if isinstance(value, (int, float)):
        return f"found {value!r} ({kind})"
    return f"found {kind}"


def did_you_mean(word: str, known) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"did you mean `{close[0]}`? " if close else ""


class Kind:
    """One type of value: `check` raises Problem or returns nothing."""
    what = "a value"
    example = ""

    def check(self, value, path: tuple) -> None:
        raise NotImplementedError

    def fail(self, value, path: tuple, why: str = "") -> Problem:
        key = shown(path)
        return Problem(path, f"`{key}` must be {self.what}{why}, e.g. {self.example}; {found(value)}")


@dataclass(frozen=True)
class Text(Kind):
    example: str = '"..."'
    what: str = "a string"
    limit: int = MAX_TEXT

    def check(self, value, path):
        if not isinstance(value, str):
            raise self.fail(value, path)
        if len(value) > self.limit:
            raise Problem(path, f"`{shown(path)}` is {len(value):,} characters long; at most {self.limit:,}")


@dataclass(frozen=True)
class Name(Kind):
    """A string that names something: letters, digits and _ (or a file name), not a keyword."""
    example: str = '"L"'
    what: str = "a name (letters, digits and _, starting with a letter or _)"
    pattern: re.Pattern = IDENTIFIER

    def check(self, value, path):
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise self.fail(value, path)
        if value in RESERVED:
            raise Problem(path, f"`{shown(path)}` = \"{value}\" is a word of the program language; "
                                "choose another name")


@dataclass(frozen=True)
class Choice(Kind):
    options: tuple = ()
    what_one: str = "value"

    def check(self, value, path):
        if not isinstance(value, str):
            raise Problem(path, f"`{shown(path)}` must be a {self.what_one} name, e.g. \"{self.options[0]}\"; "
                                f"{found(value)}")
        if value not in self.options:
            raise Problem(path, f"`{shown(path)}`: unknown {self.what_one} `{value}`; "
                                f"{did_you_mean(value, self.options)}known: {', '.join(self.options)}")


@dataclass(frozen=True)
class Flag(Kind):
    what: str = "true or false"
    example: str = "true"

    def check(self, value, path):
        if not isinstance(value, bool):
            raise self.fail(value, path)


@dataclass(frozen=True)
class Int(Kind):
    lo: int = 0
    hi: int = 0
    example: str = "1"

    @property
    def what(self) -> str:
        return f"an integer from {self.lo} to {self.hi}"

    def check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, int) or not self.lo <= value <= self.hi:
            raise Problem(path, f"`{shown(path)}` is impossible: use {self.what}; {found(value)}")


@dataclass(frozen=True)
class List(Kind):
    item: Kind = field(default_factory=Name)
    example: str = '["L"]'
    least: int = 0
    most: int = MAX_NAMES

    @property
    def what(self) -> str:
        return "a list of names" + (" (at least one)" if self.least else "")

    def check(self, value, path):
        if not isinstance(value, list):
            raise self.fail(value, path)
        if len(value) < self.least:
            raise Problem(path, f"`{shown(path)}` is empty: give at least {self.least}, e.g. {self.example}")
        if len(value) > self.most:
            raise Problem(path, f"`{shown(path)}` has {len(value)} entries; at most {self.most}")
        for i, item in enumerate(value):
            self.item.check(item, path + (i,))
        seen = [v for v in value if isinstance(v, str)]
        twice = sorted({v for v in seen if seen.count(v) > 1})
        if twice:
            raise Problem(path, f"`{shown(path)}` lists {', '.join(twice)} twice; name each once")


@dataclass(frozen=True)
class Table(Kind):
    fields: dict = field(default_factory=dict)
    required: tuple = ()
    example: str = "{ ... }"
    what: str = "a table"

    def check(self, value, path):
        if not isinstance(value, dict):
            raise self.fail(value, path)
        for key, item in value.items():
            if key not in self.fields:
                where = f" in `{shown(path)}`" if path else ""
                raise Problem(path + (key,), f"unknown key `{key}`{where}; {did_you_mean(key, self.fields)}"
                                             f"known keys: {', '.join(sorted(self.fields))}")
            self.fields[key].check(item, path + (key,))
        for key in self.required:
            if key not in value:
                raise Problem(path, f"`{shown(path)}` needs a `{key}`")


@dataclass(frozen=True)
class Tables(Kind):
    """An array of tables: [[thread]]."""
    table: Table = field(default_factory=Table)
    most: int = MAX_THREAD_TABLES
    example: str = "[[thread]] with a `name` and a `program`"
    what: str = "tables"

    def check(self, value, path):
        if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
            raise Problem(path, f"write each `{shown(path)}` as a [[{shown(path)}]] table with a `name` and a "
                                f"`program`; {found(value)}")
        if len(value) > self.most:
            raise Problem(path, f"{len(value):,} [[{shown(path)}]] tables; at most {self.most} (use `count` "
                                "for identical threads)")
        for i, t in enumerate(value):
            self.table.check(t, path + (i,))


@dataclass(frozen=True)
class Predicates(Kind):
    """[queries] and [invariants]: a name to a predicate string."""
    example: str = '"finalizing(main)"'

    def check(self, value, path):
        if not isinstance(value, dict):
            raise Problem(path, f"[{shown(path)}] is a table mapping a name to a predicate string, "
                                f"e.g. x = {self.example}; {found(value)}")
        for name, text in value.items():
            if not IDENTIFIER.fullmatch(name):
                word = {"invariants": "invariant", "queries": "query"}.get(shown(path), shown(path))
                raise Problem(path + (name,), f"{word} name `{name}` must be letters, digits and _ "
                                              "(it names a property)")
            if not isinstance(text, str) or not text.strip():
                raise Problem(path + (name,), f"[{shown(path)}] `{name}` must be a predicate string, "
                                              f"e.g. {name} = {self.example}; {found(text)}")
            Text().check(text, path + (name,))


@dataclass(frozen=True)
class Expectations(Kind):
    """[expect]: property = verdict, or [expect.DESIGN] tables of those."""

    def check(self, value, path):
        if not isinstance(value, dict):
            raise Problem(path, f"[expect] is a table of property = \"holds\" | \"violated\"; {found(value)}")
        for key, item in value.items():
            if isinstance(item, dict):
                Choice(DESIGN_NAMES, "design").check(key, path + (key,))
                for prop, verdict in item.items():
                    self.verdict(prop, verdict, path + (key, prop))
            else:
                self.verdict(key, item, path + (key,))

    @staticmethod
    def verdict(prop, verdict, path):
        if not IDENTIFIER.fullmatch(prop):
            raise Problem(path, f"`{prop}` is not a property name (letters, digits and _)")
        if verdict not in VERDICTS:
            raise Problem(path, f"expected verdict of `{prop}` must be \"holds\" or \"violated\", {found(verdict)}")


THREAD = Table({
    "name": Name(example='"T1"'),
    "count": Int(1, 12, example="2"),
    "program": Text(example='"""\\nwork()\\n"""', what="a program string", limit=MAX_PROGRAM),
    "c": Text(example='"worker.c:run"', what="\"FILE.c:FUNCTION\", the file relative to the spec", limit=1000),
    "after": Name(example='"started"', what="an event name"),
    "tstate": Name(example='"main"', what="an interpreter name"),
    "attached": Flag(),
    # a threading.Thread of main (docs/modeling.md, "Python threads"): "joined" (non-daemon,
    # joined by Py_FinalizeEx's threading._shutdown) or "daemon"
    "python_thread": Choice(("joined", "daemon"), "Python thread kind"),
}, required=("name",), example='[[thread]] with a `name` and a `program`')

SPEC = Table({
    "name": Name(example='"s1_toctou"', pattern=FILE_NAME,
                 what="a file name (letters, digits, _ . -, not starting with .; it names output files)"),
    "summary": Text(example='"what the scenario shows"'),
    "design": Choice(DESIGN_NAMES, "design"),
    "designs": List(Choice(DESIGN_NAMES, "design"), example='["final", "legacy"]', least=1),
    "interpreters": List(example='["main", "sub"]', least=1),
    "locks": List(example='["L"]'),
    "events": List(example='["started"]'),
    "shared": List(example='["G"]'),
    "bounds": Table({"tstates_per_thread": Int(1, 6), "nesting": Int(1, 6), "max_counter": Int(1, 8)},
                    example="{ nesting = 3 }"),
    "thread": Tables(THREAD),
    "atexit": Text(example='"""\\nwork()\\n"""', what="a program string", limit=MAX_PROGRAM),
    "finalizers": Text(example='"""\\nwork()\\n"""', what="a program string", limit=MAX_PROGRAM),
    "pending_calls": Text(example='"""\\nwork()\\n"""', what="a program string", limit=MAX_PROGRAM),
    "c_atexit": Text(example='"""\\nwork()\\n"""', what="a program string", limit=MAX_PROGRAM),
    "unstable_atexit": Text(example='"""\\nwork()\\n"""', what="a program string", limit=MAX_PROGRAM),
    "tstate_clear": Text(example='"""\\nwork()\\n"""', what="a program string", limit=MAX_PROGRAM),
    "expect": Expectations(),
    "queries": Predicates(),
    "invariants": Predicates(example='"not deleted(main)"'),
})


def check(document: dict) -> None:
    """Every key of a parsed spec against SPEC, then the rules between keys."""
    SPEC.check(document, ())
    if "design" in document and "designs" in document:
        raise Problem(("designs",), "give `design` or `designs`, not both")
    if "design" not in document and "designs" not in document:
        raise Problem((), "no `design`: name one of " + ", ".join(DESIGNS))
    if "thread" not in document:
        raise Problem((), "no threads: add at least one [[thread]] table with a `name` and a `program`")
    interps = document.get("interpreters", ["main"])
    if interps[0] != "main":
        raise Problem(("interpreters",), "`interpreters` must start with \"main\"")
    owner: dict[str, str] = {}
    for key in ("interpreters", "locks", "events", "shared"):
        for name in document.get(key, ["main"] if key == "interpreters" else []):
            if name in owner:
                raise Problem((key,), f"`{name}` is both in `{owner[name]}` and in `{key}`; give each its own name")
            owner[name] = key
    for i, th in enumerate(document["thread"]):
        if ("program" in th) == ("c" in th):
            raise Problem(("thread", i), f"thread {th['name']} needs either a `program` or `c = \"FILE.c:FUNCTION\"`")
        if "tstate" in th and th["tstate"] not in interps:
            raise Problem(("thread", i, "tstate"), f"thread {th['name']}: `tstate` names no interpreter; "
                                                   f"{did_you_mean(th['tstate'], interps)}known: {', '.join(interps)}")
        if "python_thread" in th and (th.get("tstate", "main") != "main" or th.get("attached", False)):
            raise Problem(("thread", i, "python_thread"), f"thread {th['name']}: a Python thread starts with its own "
                                                          "thread state of main, detached: drop `tstate` and `attached`")
        if "attached" in th and "tstate" not in th:
            raise Problem(("thread", i, "attached"), f"thread {th['name']}: `attached` needs a `tstate` "
                                                     "(a thread without one has nothing to attach)")
