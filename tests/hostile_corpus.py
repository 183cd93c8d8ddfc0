"""Generates the hostile spec corpus: specs a careless or malicious user could give, by
category, each of which must be refused with exit 150 and one line `error: FILE:LINE: ...`.

The cases are generated from a few rules (every schema key × every wrong type, every
bound × values out of range, every name list × every reserved word, ...), not picked by
hand, so a new key or rule is covered by adding one line here. The expected types below are
written down independently of model/spec_schema.py on purpose.

    python tests/hostile_corpus.py OUTDIR     # writes OUTDIR/<category>/<case>.toml
"""
from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

GOOD = '''summary = "a small valid spec every case starts from"
design = "final"
interpreters = ["main"]
locks = ["L"]
events = ["E"]
shared = ["G"]
bounds = { tstates_per_thread = 2, nesting = 3, max_counter = 4 }

[[thread]]
name = "main"
tstate = "main"
attached = true
program = """
G = PyInterpreterGuard_FromCurrent()
set(E)
PyInterpreterGuard_Close(G)
Py_FinalizeEx()
"""

[[thread]]
name = "T1"
count = 1
program = """
wait(E)
lock(L)
unlock(L)
"""

[expect]
no_deadlock = "holds"
'''


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    content: bytes | None          # None: a special file made by `make`
    needle: str                    # a piece of the expected message (lower case)
    special: str = ""              # "fifo", "dir", "devzero", "sparse"
    whole_file: bool = False       # the message is about the whole file: no line

    @property
    def ident(self) -> str:
        return f"{self.category}/{self.name}"


def text(category: str, name: str, body: str, needle: str) -> Case:
    return Case(category, name, body.encode(), needle.lower())


def replace_line(key: str, line: str, base: str = GOOD) -> str:
    """`base` with the first top-level line `key = ...` replaced (or added at the top)."""
    lines = base.splitlines()
    top = next(i for i, old in enumerate(lines) if old.startswith("["))
    for i, old in enumerate(lines[:top]):
        if old.startswith(f"{key} = "):
            lines[i] = line
            return "\n".join(lines) + "\n"
    return line + "\n" + base


def thread_line(key: str, line: str) -> str:
    """GOOD with T1's `key = ...` replaced (or added after its name)."""
    head, tail = GOOD.split('name = "T1"\n')
    if key == "name":
        return head + line + "\n" + tail
    if key == "program":
        return head + 'name = "T1"\n' + line + "\n" + tail.split('"""\n', 2)[2]
    rest = tail.splitlines()
    for i, old in enumerate(rest):
        if old.startswith(f"{key} = "):
            rest[i] = line
            return head + 'name = "T1"\n' + "\n".join(rest) + "\n"
    return head + 'name = "T1"\n' + line + "\n" + tail


def program(body: str) -> str:
    return GOOD.replace('wait(E)\nlock(L)\nunlock(L)\n', body)


WRONG = {   # TOML values of each type
    "integer": "42", "float": "3.5", "boolean": "true", "string": '"x"', "empty list": "[]",
    "integer list": "[1, 2]", "mixed list": '["a", 1]', "table": "{ a = 1 }", "date": "1979-05-27",
}
TOP_TYPES = {   # key → the types it accepts
    "name": {"string"}, "summary": {"string"}, "design": {"string"}, "designs": {"mixed list"},
    "interpreters": set(), "locks": {"empty list"}, "events": {"empty list"}, "shared": {"empty list"},
    "bounds": set(), "atexit": {"string"}, "finalizers": {"string"}, "pending_calls": {"string"},
    "c_atexit": {"string"}, "expect": set(), "queries": set(),
    "invariants": set(), "thread": set(),
}
THREAD_TYPES = {"name": set(), "count": {"integer"}, "program": {"string"}, "tstate": set(), "attached": {"boolean"}}
ALWAYS_BAD_STRING = {"thread", "design", "designs", "interpreters", "locks", "events", "shared", "bounds", "expect",
                     "queries", "invariants", "count", "attached", "tstate", "name@thread"}


def type_cases() -> list[Case]:
    out = []
    for key, accepted in TOP_TYPES.items():
        for kind, value in WRONG.items():
            if kind in accepted or (kind == "string" and key not in ALWAYS_BAD_STRING):
                continue
            base = {"expect": GOOD.split("[expect]")[0],
                    "thread": GOOD.split("[[thread]]")[0] + "[expect]" + GOOD.split("[expect]")[1]}.get(key, GOOD)
            body = replace_line(key, f"{key} = {value}", base)
            out.append(text("types", f"{key}-{kind.replace(' ', '_')}", body, key))
    for key, accepted in THREAD_TYPES.items():
        for kind, value in WRONG.items():
            if kind in accepted or (kind == "string" and key not in ("count", "attached", "tstate")):
                continue
            out.append(text("thread-types", f"{key}-{kind.replace(' ', '_')}", thread_line(key, f"{key} = {value}"), key))
    for bound in ("tstates_per_thread", "nesting", "max_counter"):
        for kind, value in WRONG.items():
            if kind != "integer":
                out.append(text("bound-types", f"{bound}-{kind.replace(' ', '_')}",
                                replace_line("bounds", f"bounds = {{ {bound} = {value} }}"), bound))
    for container in ("designs", "interpreters", "locks", "events", "shared"):
        for kind, value in WRONG.items():
            if kind in ("string", "empty list", "integer list", "mixed list"):
                continue
            out.append(text("list-items", f"{container}-{kind.replace(' ', '_')}",
                            replace_line(container, f'{container} = ["main", {value}]'), container))
    return out


def range_cases() -> list[Case]:
    out = []
    for bound, (lo, hi) in {"tstates_per_thread": (1, 6), "nesting": (1, 6), "max_counter": (1, 8)}.items():
        for value in (lo - 1, hi + 1, -1, 10 ** 18, "true"):
            out.append(text("ranges", f"{bound}={value}", replace_line("bounds", f"bounds = {{ {bound} = {value} }}"),
                            bound))
    for value in (0, 13, -1, 10 ** 18, "true", "false"):
        out.append(text("ranges", f"count={value}", thread_line("count", f"count = {value}"), "count"))
    out.append(text("ranges", "unknown-bound", replace_line("bounds", "bounds = { nestng = 2 }"), "nestng"))
    return out


RESERVED = ("NULL", "if", "else", "not", "repeat", "return", "pass", "and", "or")


def name_cases() -> list[Case]:
    out = []
    for word in RESERVED:
        out.append(text("registers", f"register-{word}", program(f"{word} = PyInterpreterView_FromCurrent()\n"), word))
        for key in ("locks", "events", "shared"):
            out.append(text("reserved-names", f"{key}-{word}", replace_line(key, f'{key} = ["{word}"]'), word))
        out.append(text("reserved-names", f"thread-{word}", thread_line("name", f'name = "{word}"'), word))
    for target, key in (("main", "interpreter"), ("L", "lock"), ("E", "event")):
        out.append(text("registers", f"register-like-{key}", program(f"{target} = PyInterpreterView_FromCurrent()\n"),
                        target))
    for key, values in {"designs": '["final", "final"]', "interpreters": '["main", "main"]',
                        "locks": '["L", "L"]', "events": '["E", "E"]', "shared": '["G", "G"]'}.items():
        out.append(text("duplicates", key, replace_line(key, f"{key} = {values}").replace('design = "final"\n', "")
                        if key == "designs" else replace_line(key, f"{key} = {values}"), "twice"))
    out.append(text("duplicates", "threads", thread_line("name", 'name = "main"'), "two threads"))
    names = {"interpreters": "main", "locks": "L", "events": "E", "shared": "G"}
    for a in names:
        for b in names:
            if a != b:
                clash = replace_line(a, f'{a} = ["{names[a]}", "{names[b]}"]')
                out.append(text("clashes", f"{a}-and-{b}", clash, f"`{names[b]}` is both"))
    out.append(text("designs", "empty", replace_line("design", "designs = []"), "at least"))
    out.append(text("designs", "both", replace_line("design", 'design = "final"\ndesigns = ["final"]'), "not both"))
    out.append(text("designs", "none", GOOD.replace('design = "final"\n', ""), "design"))
    for wrong in ("nosuch", "Final", "finall", ""):
        out.append(text("designs", f"unknown-{wrong or 'empty'}", replace_line("design", f'design = "{wrong}"'),
                        "design"))
    out.append(text("interpreters", "not-main-first", replace_line("interpreters", 'interpreters = ["sub", "main"]'),
                    "main"))
    out.append(text("interpreters", "empty", replace_line("interpreters", "interpreters = []"), "interpreters"))
    out.append(text("interpreters", "tstate-unknown", thread_line("tstate", 'tstate = "nowhere"'), "tstate"))
    for bad in ("1T", "T-1", "", "T 1", "a/b"):
        out.append(text("thread-names", f"name-{bad!r}", thread_line("name", f'name = "{bad}"'), "name"))
    for key in ("design", "query", "tstate"):
        for bad in ("a\\nb", "\\u001b[31mred", "x\\u2028y", "\\r"):
            body = (replace_line("design", f'design = "{bad}"') if key == "design" else
                    thread_line("tstate", f'tstate = "{bad}"') if key == "tstate" else
                    GOOD + f'[queries]\nq = "crashed and {bad}"\n')
            out.append(text("control-characters", f"{key}-{bad!r}", body, ""))
    for bad in ("../../escaped", "/tmp/abs", ".hidden", "a/b", "", "..", "x" * 200, "a\\\\b"):
        out.append(text("output-names", f"name-{bad[:20]!r}", replace_line("name", f'name = "{bad}"'), "name"))
    return out


def literal_cases() -> list[Case]:
    """A number where a lock, an event or a handle belongs; a count in other digits than ASCII;
    a query nested past what the compilers recurse over; a NUL in a `c =` path."""
    out = []
    for call, needle in (("lock(5)", "lock declared"), ("set(5)", "event declared"), ("lock(0)", "lock declared"),
                         ("lock(NULL)", "lock declared"), ("t = PyThreadState_Ensure(5)", "guard"),
                         ("t = PyThreadState_Ensure(-1)", "guard"), ("PyInterpreterGuard_Close(7)", "guard")):
        out.append(text("literals", re.sub(r"\W+", "-", call).strip("-"), program(call + "\n"), needle))
    out.append(text("literals", "no-locks-lock-0", program("lock(0)\n").replace('locks = ["L"]\n', ""), "lock"))
    for digits in ("\u00b2", "\u0661", "\uff13"):
        out.append(text("literals", f"repeat-{ord(digits):x}", program(f"repeat {digits}:\n    work()\n"), "repeat"))
    for depth in (100, 5000):
        out.append(text("nesting", f"query-not-{depth}", GOOD + f'[queries]\nq = "{"not " * depth}crashed"\n',
                        "nested"))
    out.append(text("c-threads", "c-nul-in-path", thread_line("program", 'c = "a\\u0000b.c:run"'), "nul"))
    return out


def c_thread_cases() -> list[Case]:
    """Threads taken from C functions: `c = "FILE.c:FUNCTION"`, `after = EVENT`."""
    out = [text("c-threads", "program-and-c", thread_line("c", 'c = "worker.c:run"'), "either"),
           text("c-threads", "neither", thread_line("program", 'count = 1'), "either")]
    for ref, needle in (("nocolon", "file.c:function"), ("/dev/zero:run", "regular file"),
                        ("missing.c:run", "missing.c"), ("/proc/self/mem:run", "cannot read")):
        body = thread_line("program", f'c = "{ref}"')
        out.append(text("c-threads", f"c-{ref}", body, needle))
    for value, needle in (("42", "after"), ('"NULL"', "null"), ('["E"]', "after")):
        out.append(text("c-threads", f"after-{value}", thread_line("after", f"after = {value}"), needle))
    return out


def structure_cases() -> list[Case]:
    out = []
    table = '\n[[thread]]\nname = "X{i}"\nprogram = "work()"\n'
    for n in (33, 100, 5000):
        out.append(text("sizes", f"{n}-thread-tables", GOOD + "".join(table.format(i=i) for i in range(n)),
                        "tables"))
    many = '\n[[thread]]\nname = "Y{i}"\ncount = 12\nprogram = """\n{body}"""\n'
    out.append(text("sizes", "65-threads-with-count", GOOD + "".join(many.format(i=i, body="work()\n") for i in range(6)),
                    "threads in all"))
    out.append(text("sizes", "40001-statements-in-all", GOOD + "".join(
        many.format(i=i, body="repeat 16:\n  repeat 16:\n    repeat 4:\n      work()\n") for i in range(4)),
        "statements over all"))
    out.append(Case("sizes", "200000-line-program", program("work()\n" * 200_000).encode(), "large", whole_file=True))
    out.append(text("sizes", "20000-line-program", program("work()\n" * 20_000), "statements"))
    out.append(text("sizes", "10001-line-program", program("pass\n" * 10_001), "statements"))
    for depth in (40, 500, 2000):
        nested = "".join(" " * i + "if G:\n" for i in range(depth)) + " " * depth + "work()\n"
        big = depth * depth > 2_000_000
        out.append(Case("nesting", f"if-{depth}", program(nested).encode(), "large" if big else "nested", whole_file=big))
    for depth in (4, 8, 40):
        nested = "".join("  " * i + "repeat 16:\n" for i in range(depth)) + "  " * depth + "work()\n"
        out.append(text("nesting", f"repeat-{depth}", program(nested), "unrolls" if depth < 33 else "nested"))
    out.append(text("nesting", "toml-arrays", "x = " + "[" * 5000 + "]" * 5000 + "\n", "toml"))
    out.append(text("nesting", "toml-tables", "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "toml"))
    out.append(text("nesting", "long-string", replace_line("summary", 'summary = "' + "x" * 200_000 + '"'), "summary"))
    return out


def encoding_cases() -> list[Case]:
    out = [Case("encodings", "utf-16", GOOD.encode("utf-16"), "utf-16"),
           Case("encodings", "utf-16-le-no-bom", GOOD.encode("utf-16-le"), "utf-16"),
           Case("encodings", "utf-16-be-no-bom", GOOD.encode("utf-16-be"), "utf-16"),
           Case("encodings", "utf-32", GOOD.encode("utf-32"), "utf"),
           Case("encodings", "latin-1", replace_line("summary", 'summary = "café ünïcödé"').encode("latin-1"),
                "utf-8"),
           Case("encodings", "cp1252-quotes", replace_line("summary", 'summary = “quoted”').encode("cp1252"),
                "utf-8"),
           Case("encodings", "nul-byte", GOOD.replace("unlock", "un\0lock").encode(), "nul"),
           Case("encodings", "empty", b"", "design"),
           Case("encodings", "only-bom", "\ufeff".encode(), "design")]
    rng = random.Random(788)
    for i in range(20):
        out.append(Case("binary", f"random-{i}", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))), ""))
    good = GOOD.encode()
    for i in range(10):
        cut = rng.randrange(len(good))
        out.append(Case("binary", f"flipped-{i}", good[:cut] + bytes([rng.randrange(128, 256)]) + good[cut + 1:],
                        "utf-8"))
    return out


def truncated_cases() -> list[Case]:
    """GOOD cut inside the main thread's program string: always an unterminated string."""
    start = GOOD.index('program = """') + len('program = """')
    end = GOOD.index('"""', start)
    return [text("truncated", f"cut-{cut}", GOOD[:cut], "toml") for cut in range(start, end, 3)]


def expect_cases() -> list[Case]:
    out = []
    for verdict in ('"hold"', '"HOLDS"', "true", "1", '""', '["holds"]'):
        out.append(text("expect", f"verdict-{verdict}", GOOD.replace('no_deadlock = "holds"', f"no_deadlock = {verdict}"),
                        "no_deadlock"))
    out.append(text("expect", "unknown-property", GOOD.replace("no_deadlock", "no_deadlok"), "no_deadlok"))
    out.append(text("expect", "design-table-unknown", GOOD + '[expect.nosuch]\nno_deadlock = "holds"\n', "nosuch"))
    out.append(text("expect", "design-table-unlisted", GOOD + '[expect.legacy]\nno_deadlock = "holds"\n', "legacy"))
    out.append(text("expect", "not-a-table", GOOD.replace('[expect]\nno_deadlock = "holds"\n', 'expect = 5\n'),
                    "expect"))
    for table in ("queries", "invariants"):
        out.append(text(table, f"{table}-not-a-table", replace_line(table, f"{table} = 5"), table))
        for body, needle in ((f"[{table}]\nq = 5\n", "q"), (f'[{table}]\nq = ""\n', "q"),
                             (f'[{table}]\n"bad name" = "crashed"\n', "bad name"),
                             (f'[{table}]\nq = "frobnicate(main)"\n', "frobnicate"),
                             (f'[{table}]\nq = "((((((((crashed"\n', "expression")):
            out.append(text(table, f"{table}-{len(out)}", GOOD + body, needle))
    return out


def special_cases() -> list[Case]:
    return [Case("file-types", "fifo", None, "regular", "fifo"), Case("file-types", "folder", None, "no spec files", "dir"),
            Case("file-types", "dev-zero", None, "regular", "devzero"),
            Case("file-types", "sparse-2mib", None, "too large", "sparse")]


def cases() -> list[Case]:
    return (encoding_cases() + truncated_cases() + type_cases() + range_cases() + name_cases() + c_thread_cases()
            + literal_cases()
            + structure_cases()
            + expect_cases() + special_cases())


TOKENS = ["42", "true", '"x"', "[]", "[1, 2]", "{}", '"main"', '"NULL"', "-1", "3.5", '"""\nif x:\n"""', '"L"',
          '"a\\nb"', "0", "99"]
WORDS = ["NULL", "main", "L", "G", "tok", "0", "if", "(", ")", ",", "repeat 99:", "else:", "return", ":"]


def mutant(text: str, rng: random.Random) -> str:
    """`text` with one random edit: a line deleted, copied, swapped, re-indented, a value
    replaced by one of another type, or a word replaced."""
    lines = text.split("\n")
    i, kind = rng.randrange(len(lines)), rng.randrange(6)
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif kind == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == 3 and "=" in lines[i]:
        lines[i] = lines[i].split("=")[0] + "= " + rng.choice(TOKENS)
    elif kind == 4:
        lines[i] = " " * rng.randrange(8) + lines[i]
    else:
        words = lines[i].split(" ")
        words[rng.randrange(len(words))] = rng.choice(WORDS)
        lines[i] = " ".join(words)
    return "\n".join(lines)


def mutants(specs: list[Path], n: int, seed: int) -> list[tuple[str, str]]:
    """(spec name, text) for `n` specs, each one to three random edits of a bundled spec."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        src = rng.choice(specs)
        text = src.read_text()
        for _ in range(rng.randrange(1, 4)):
            text = mutant(text, rng)
        out.append((src.stem, text))
    return out


def make(case: Case, folder: Path) -> Path:
    """Write the case's file (or make its special file) under `folder`; its path."""
    path = folder / case.category / (re.sub(r"[^A-Za-z0-9_.=-]", "_", case.name).lstrip(".") + ".toml")
    path.parent.mkdir(parents=True, exist_ok=True)
    if case.special == "fifo":
        import os
        os.mkfifo(path)
    elif case.special == "dir":
        path.mkdir()
    elif case.special == "devzero":
        path.symlink_to("/dev/zero")
    elif case.special == "sparse":
        with path.open("wb") as f:
            f.truncate(2 << 20)
    else:
        path.write_bytes(case.content)
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    all_cases = cases()
    for c in all_cases:
        make(c, out)
    print(f"wrote {len(all_cases)} hostile specs under {out}/")
