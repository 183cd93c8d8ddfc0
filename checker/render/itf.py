"""Traces as ITF JSON (Apalache ADR-015, the Informal Trace Format), and back.

An ITF file holds every variable in every state, so a trace can be diffed, loaded by other
tools (itf-py, Quint, Apalache) and replayed against a later model (checker/replay.py).
Values print as their domain labels where the domain has them ("finalizing", "T1/ts1"),
else as integers; arrays become ITF maps keyed by element label, or lists without labels.
Each state's "#meta" names the C call that led to it, in the words of `render.steps`; the
trace's "#meta.varTypes" gives every variable's type (traces written before it replay too).
"""
from __future__ import annotations

import json
import re
from typing import Any

from interpcheck.model.ir import Domain, System, Var

from ..result import Result, Verdict
from .steps import Step, steps_of

FORMAT_URL = "https://apalache-mc.org/docs/adr/015adr-trace.html"
INIT = "init"


class ITFError(Exception):
    """An ITF document this model cannot read back (unknown variable, label or shape)."""


def step_label(step: Step) -> str:
    """The C call of a step as one string: "T1: PyGILState_Ensure() -> PyGILState_UNLOCKED"."""
    result = f" -> {step.result}" if step.result is not None else ""
    return f"{step.thread}: {step.call}{result}"


def design_of(system: System) -> str | None:
    return system.facts.design or None


def to_itf(system: System, result: Result, source: str | None = None) -> dict:
    """The ITF document of `result.trace`; `source` is the spec file it came from."""
    trace = result.trace
    if trace is None:
        raise ValueError(f"{result.prop}: no trace to write")
    steps = steps_of(system, trace)
    meta: dict[str, Any] = {"format": "ITF", "format-description": FORMAT_URL,
                            "description": f"{_kind(result)} for {result.prop} in {_title(system)}, by interpcheck",
                            "source": source, "spec": system.name, "design": design_of(system),
                            "property": result.prop, "verdict": result.verdict.value, "engine": result.engine,
                            "varTypes": var_types(system)}
    loop_action = steps[-1] if trace.loop is not None and trace.length >= len(trace.states) else None
    if trace.loop is not None:
        meta["loop"] = trace.loop
    if loop_action is not None:
        meta["loop_action"] = step_label(loop_action)
    if trace.thread is not None:
        meta["hung_thread"] = system.threads[trace.thread]
    states = []
    for i, state in enumerate(trace.states):
        smeta: dict[str, Any] = {"index": i, "action": INIT}
        if i > 0:
            step = steps[i - 1]
            smeta["action"] = step_label(step)
            if step.note:
                smeta["note"] = step.note
            if step.where:
                smeta["source"] = step.where   # the C file:line of the call
        states.append({"#meta": smeta, **state_values(system, state)})
    doc: dict[str, Any] = {"#meta": meta, "vars": [v.name for v in system.variables], "states": states}
    if trace.loop is not None:
        doc["loop"] = trace.loop
    return doc


def var_types(system: System) -> dict[str, str]:
    """Each variable's type in Apalache's type syntax (ADR-002), which `#meta.varTypes` carries
    so Apalache and the ITF viewer can load the trace: labelled values are strings, others
    integers; arrays keyed by element label are functions, the others sequences."""
    out = {}
    for var in system.variables:
        value = "Str" if var.domain.labels is not None else "Int"
        if var.scalar:
            out[var.name] = value
        elif var.labels:
            out[var.name] = f"(Str -> {value})"
        else:
            out[var.name] = f"Seq({value})"
    return out


def _kind(result: Result) -> str:
    return "counterexample" if result.verdict is Verdict.VIOLATED else "witness"


def _title(system: System) -> str:
    design = design_of(system)
    return f"{system.name} [{design}]" if design else system.name


def unique_labels(domain: Domain) -> tuple[str, ...] | None:
    """The domain's labels, repeats numbered ("line 16", "line 16 #2"): a program counter
    inside an unrolled `repeat` has one label for several values, and ITF must round-trip."""
    if domain.labels is None:
        return None
    seen: dict[str, int] = {}
    out = []
    for label in domain.labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return tuple(out)


def _value(var: Var, value: int) -> Any:
    labels = unique_labels(var.domain)
    return labels[value - var.domain.lo] if labels else value


def state_values(system: System, state: tuple[int, ...]) -> dict[str, Any]:
    """Variable name → ITF value for one state."""
    out: dict[str, Any] = {}
    for var in system.variables:
        cells = [_value(var, state[var.base + k]) for k in range(var.length)]
        if var.scalar:
            out[var.name] = cells[0]
        elif var.labels:
            out[var.name] = {"#map": [[key, cell] for key, cell in zip(var.labels, cells)]}
        else:
            out[var.name] = cells
    return out


def show_slot(system: System, slot: int, value: int) -> str:
    """How a slot's value reads in ITF (domain labels, repeats numbered)."""
    for var in system.variables:
        if var.base <= slot < var.base + var.length:
            return str(_value(var, value))
    raise IndexError(slot)


def state_from_itf(system: System, values: dict[str, Any]) -> tuple[int, ...]:
    """The state tuple an ITF state stands for; ITFError names what does not fit the model."""
    state = [0] * system.width
    for var in system.variables:
        if var.name not in values:
            raise ITFError(f"variable `{var.name}` is missing")
        raw = values[var.name]
        if var.scalar:
            cells = [raw]
        elif isinstance(raw, dict) and "#map" in raw:
            if any(not isinstance(_plain(k), (str, int)) for k, _ in raw["#map"]):
                raise ITFError(f"`{var.name}` has a key that is not a label")
            found = {_plain(k): v for k, v in raw["#map"]}
            keys = list(var.labels or [])
            if sorted(map(str, found)) != sorted(keys):
                raise ITFError(f"`{var.name}` has keys {sorted(map(str, found))}, the model has {keys}")
            cells = [found[k] for k in keys]
        elif isinstance(raw, list) and len(raw) == var.length:
            cells = raw
        else:
            raise ITFError(f"`{var.name}` is not an array of {var.length}")
        for k, cell in enumerate(cells):
            state[var.base + k] = _decode(var, _plain(cell))
    return tuple(state)


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and "#bigint" in value:
        return int(value["#bigint"])
    return value


def _decode(var: Var, value: Any) -> int:
    dom = var.domain
    labels = unique_labels(dom)
    if labels is not None and isinstance(value, str):
        if value not in labels:
            raise ITFError(f"`{var.name}` = {value!r}: not one of {', '.join(labels)}")
        return dom.lo + labels.index(value)
    if isinstance(value, bool) or not isinstance(value, int) or not dom.lo <= value <= dom.hi:
        raise ITFError(f"`{var.name}` = {value!r}: not in {dom.lo}..{dom.hi}")
    return value


def check_shape(doc: Any) -> None:
    """ITFError unless `doc` has the shape of an ITF trace: a table with a non-empty list of
    states, each a table of ITF values; the metadata replay reads of the right types. What a
    value means is the model's business (state_from_itf); this rules out a damaged file."""
    if not isinstance(doc, dict):
        raise ITFError(f"not an ITF trace: the document is {type(doc).__name__}, not an object")
    if (bad := _not_text(doc)) is not None:
        raise ITFError(f"the string {bad!r} is not text (a lone UTF-16 surrogate)")
    meta = doc.get("#meta", {})
    if not isinstance(meta, dict):
        raise ITFError("`#meta` is not an object")
    for key in ("source", "design", "property", "loop_action", "hung_thread"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise ITFError(f"`#meta.{key}` is not a string")
    states = doc.get("states")
    if not isinstance(states, list) or not states:
        raise ITFError("no `states` in the trace (a non-empty list)")
    for i, state in enumerate(states):
        if not isinstance(state, dict) or not isinstance(state.get("#meta", {}), dict):
            raise ITFError(f"state {i} is not an object with an object `#meta`")
        if not isinstance(state.get("#meta", {}).get("action", INIT), str):
            raise ITFError(f"state {i}: `#meta.action` is not a string")
        for name, value in state.items():
            if name != "#meta" and not _is_value(value):
                raise ITFError(f"state {i}: `{name}` is not an ITF value")
    loop = doc.get("loop", meta.get("loop"))
    if loop is not None and (isinstance(loop, bool) or not isinstance(loop, int) or not 0 <= loop < len(states)):
        raise ITFError(f"`loop` = {loop!r} is not the index of a state")


def _not_text(doc: Any) -> str | None:
    """A string of the document (key or value) that UTF-8 cannot write: JSON's `\\ud800`."""
    stack = [doc]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack += list(x)
            stack += x.values()
        elif isinstance(x, list):
            stack += x
        elif isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:
                return x
    return None


def _is_value(value: Any, depth: int = 0) -> bool:
    """An ITF value as this tool writes them: a scalar, a list of scalars, a #bigint or a #map."""
    if isinstance(value, (bool, int, str)):
        return True
    if depth > 1:
        return False
    if isinstance(value, list):
        return all(_is_value(v, depth + 1) for v in value)
    if isinstance(value, dict) and set(value) == {"#bigint"}:   # ASCII digits, not '²'; no 5,000 of them
        return isinstance(value["#bigint"], str) and re.fullmatch(r"-?[0-9]{1,40}", value["#bigint"]) is not None
    if isinstance(value, dict) and set(value) == {"#map"} and isinstance(value["#map"], list):
        return all(isinstance(kv, list) and len(kv) == 2 and _is_value(kv[0], depth + 1) and _is_value(kv[1], depth + 1)
                   for kv in value["#map"])
    return False


def trace_states(system: System, doc: dict) -> list[tuple[int, ...]]:
    try:
        return [state_from_itf(system, s) for s in doc["states"]]
    except (KeyError, TypeError) as err:
        raise ITFError(f"not an ITF trace: {err}") from err


def dumps(doc: dict) -> str:
    """JSON with one variable per line, so two traces diff line by line."""
    meta = ",\n".join(f"    {json.dumps(k)}: {_compact(v)}" for k, v in doc["#meta"].items())
    lines = ["{", '  "#meta": {\n' + meta + "\n  },", f'  "vars": {_compact(doc["vars"])},']
    if "loop" in doc:
        lines.append(f'  "loop": {doc["loop"]},')
    states = []
    for state in doc["states"]:
        items = ",\n".join(f"      {json.dumps(k)}: {_compact(v)}" for k, v in state.items())
        states.append("    {\n" + items + "\n    }")
    lines += ['  "states": [', ",\n".join(states), "  ]", "}"]
    return "\n".join(lines) + "\n"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


__all__ = ["to_itf", "var_types", "dumps", "step_label", "state_values", "state_from_itf", "show_slot", "unique_labels",
           "trace_states", "ITFError"]
