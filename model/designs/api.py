"""How a design describes its C functions: a table of `Api` entries, each building the
atomic steps (lists of `Outcome`s) one call site compiles to."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..ir import Expr, Read
from ..vocabulary import Outcome, Vocabulary

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


@dataclass(frozen=True)
class Design:
    name: str
    summary: str
    api: dict[str, Api]
    source: str                  # the revision it follows (SEMANTICS.md section)
    exit_on_finalize: bool = False
    waits_for_guards: bool = False   # finalization parks until the interpreter's guard count is 0
    options: dict = field(default_factory=dict)

    def function(self, name: str) -> Api | None:
        return self.api.get(name)


def table(*apis: Api) -> dict[str, Api]:
    return {a.name: a for a in apis}
