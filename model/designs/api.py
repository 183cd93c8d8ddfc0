"""How a design describes its C functions: a table of `Api` entries, each building the
atomic steps (lists of `Outcome`s) one call site compiles to."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..ir import Expr, Read
from ..vocabulary import RUNTIME_3_15, Outcome, Runtime, Vocabulary

Steps = list[list[Outcome]]

# Argument and result kinds; a register takes the kind of the first value written to it.
KINDS = ("interp", "tstate", "guard", "view", "token", "gilstate", "int", "lock", "event",
         "ref", "wref", "threadref")


@dataclass(frozen=True)
class Site:
    """One call of an API function in one thread's program."""
    v: Vocabulary
    t: int                       # thread index
    args: tuple[Expr, ...]
    result: Read | None          # the register the result goes to, if any
    slot: int | None             # handle slot this call site creates (1-based), if it creates one
    text: str                    # the call as written: "PyThreadState_Ensure(g)"
    interp_slot: int | None = None  # interpreter index this site creates (Py_NewInterpreter)

    def ret(self, value) -> list:
        from ..ir import assign
        return [assign(self.result, value)] if self.result is not None else []


@dataclass(frozen=True)
class Api:
    name: str
    args: tuple[str, ...]
    result: str | None
    build: Callable[[Site], Steps]
    cite: str                    # PEP section or CPython source followed
    creates: str | None = None   # "guard" / "view" / "ref" / "wref" / "interp": one slot per call site
    needs_result: bool = False   # calling it without keeping the result leaks (still allowed)
    # the same call when the spec's `tstate_clear` destructors run inside it: a step that
    # leaves for them (goto LEAVE), then the steps after them (model/programs/compile.py)
    clearing: Callable[[Site], Steps] | None = None

    def __post_init__(self) -> None:
        bad = [k for k in (*self.args, self.result) if k is not None and k not in KINDS]
        if bad:
            raise ValueError(f"{self.name}: unknown argument or result kind {bad[0]!r}; known: {', '.join(KINDS)}")


@dataclass(frozen=True)
class Design:
    name: str
    summary: str
    api: dict[str, Api]
    source: str                  # the revision or release it follows
    runtime: Runtime = RUNTIME_3_15  # attach and finalization as in this CPython release
    waits_for_guards: bool = False   # finalization parks until the interpreter's guard count is 0
    options: dict = field(default_factory=dict)
    covers: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None  # CPython releases, first and last
    aliases: tuple[str, ...] = ()    # older names that still select it

    def function(self, name: str) -> Api | None:
        return self.api.get(name)

    def covers_text(self) -> str:
        if self.covers is None:
            return ""
        lo, hi = (".".join("x" if k == 2 and n == 99 else str(n) for k, n in enumerate(v)) for v in self.covers)
        if lo.endswith(".0") and hi.endswith(".x") and lo[:-2] == hi[:-2]:
            return f"CPython {hi}"
        return f"CPython {lo}+" if hi.endswith(".x") else f"CPython {lo} to {hi}"


def table(*apis: Api) -> dict[str, Api]:
    return {a.name: a for a in apis}
