"""A trace as rows of C calls: the one reading of a Trace that every output format shares."""
from __future__ import annotations

from dataclasses import dataclass, replace

from interpcheck.model.ir import System, evaluate

from ..result import Trace

def internal(system: System, name: str) -> bool:
    """A slot the model keeps for itself, not state a reader of the C API knows: program
    counters (shown as calls) and compiler temporaries (`T1._cond0`). `--full-state` shows them."""
    return is_pc(system, name) or any(part.startswith("_") for part in name.split("."))


def is_pc(system: System, name: str) -> bool:
    """Whether `name` is a thread's program counter (as the model's builder declares them)."""
    return name in system.facts.program_counters.values()


@dataclass(frozen=True)
class Step:
    index: int                      # 1-based step number
    thread: str
    call: str
    result: str | None
    note: str
    changes: tuple[tuple[str, str], ...]   # (slot name, new value), state that changed
    action: int
    where: str = ""                 # the C source file:line of the call (programs translated from C)
    part: str = ""                  # "1/2", "2/2" (or "part 2" if unfinished) when one C call takes several steps
    line: int = 0                   # the program's line of the call ("line N" of the thread's program counter)

    @property
    def shown_call(self) -> str:
        """The call as a reader sees it: a call split into atomic steps says which part this is."""
        return f"{self.call} ({self.part})" if self.part else self.call


def describe_state(system: System, state: tuple[int, ...], hide_pc: bool = True) -> list[tuple[str, str]]:
    names = system.slot_names()
    return [(names[i], system.show_slot(i, value)) for i, value in enumerate(state)
            if not (hide_pc and internal(system, names[i]))]


def steps_of(system: System, trace: Trace) -> list[Step]:
    names = system.slot_names()
    source = system.facts.call_sites
    rows = []
    for i, k in enumerate(trace.actions):
        action = system.actions[k]
        pre = trace.states[i]
        post = trace.states[i + 1] if i + 1 < len(trace.states) else trace.states[trace.loop]
        result = None
        if action.result is not None:
            result = action.result.var.domain.show(evaluate(action.result, post))
        changes = tuple((names[j], system.show_slot(j, post[j])) for j in range(len(pre))
                        if pre[j] != post[j] and not internal(system, names[j]))
        thread = system.threads[action.thread] if action.thread is not None else "env"
        rows.append(Step(i + 1, thread, action.call, result, action.note, changes, k, source.get(k, "")))
    return _number_parts(system, trace, rows)


def _number_parts(system: System, trace: Trace, rows: list[Step]) -> list[Step]:
    """Name the atomic steps of a C call the model splits: the thread's program counter before
    the step ("line 16 step 2", "line 8 finalizing") says which part it is."""
    names = {name: j for j, name in enumerate(system.slot_names())}
    parts: dict[str, dict[int, str]] = {}
    out = []
    for i, row in enumerate(rows):
        pc = system.facts.pc_of(row.thread) or ""
        if pc in names and pc not in parts:
            parts[pc] = call_parts(system, pc)
        part = parts[pc].get(trace.states[i][names[pc]], "") if pc in names else ""
        line = _line_of(system, pc, trace.states[i][names[pc]]) if pc in names else 0
        out.append(replace(row, part=part, line=line) if part or line else row)
    return out


def _line_of(system: System, pc: str, value: int) -> int:
    """The program line a program counter's label names ("line 16 step 2" -> 16), else 0."""
    domain = system.var(pc).domain
    labels = domain.labels or ()
    k = value - domain.lo
    words = labels[k].split() if 0 <= k < len(labels) else []
    return int(words[1]) if len(words) >= 2 and words[0] == "line" and words[1].isdigit() else 0


def call_parts(system: System, pc: str) -> dict[int, str]:
    """pc value -> which part of its call it is: "1/2", "2/2" for a call the model takes in
    several atomic steps, the phase's name for Py_FinalizeEx's phases ("finalizing, 2/2").
    The compiler labels a call's steps "line N [phase]", "line N [phase] step k", consecutive
    values; a label seen again starts the next call on that line (an unrolled `repeat`)."""
    domain = system.var(pc).domain
    runs: list[tuple[str, list[int]]] = []
    seen: set[str] = set()
    for value, label in enumerate(domain.labels or (), domain.lo):
        words = label.split()
        if words[:1] != ["line"]:
            continue
        if len(words) >= 2 and words[-2] == "step":
            words = words[:-2]
        key = " ".join(words)
        if not runs or runs[-1][0] != key or label in seen:
            runs.append((key, []))
            seen = set()
        runs[-1][1].append(value)
        seen.add(label)
    out = {}
    for key, values in runs:
        phase = " ".join(key.split()[2:])
        for k, v in enumerate(values, 1):
            count = f"{k}/{len(values)}" if len(values) > 1 else ""
            out[v] = ", ".join(x for x in (phase, count) if x)
    return out
