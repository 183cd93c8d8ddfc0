"""The explored state graph as Graphviz DOT, written by hand (no pydot needed).

Nodes are states (labelled with where each thread is and what differs from the initial
state), edges are C calls labelled as in a trace. The
initial state is green with a double border, states that violate a checked property are
red, the counterexample's path is bold blue, and a transition that breaks an action
property is a red edge. `neighbourhood` cuts a big graph down to the states near a trace.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from interpcheck.model.ir import ActionProperty, Invariant, LeadsTo, NoDeadlock, NoHang, System
from ..explicit.semantics import Compiled

from ..explicit import Exploration
from ..result import Trace
from .itf import step_label
from .steps import internal, is_pc, steps_of

if TYPE_CHECKING:
    import networkx as nx

FONT = "DejaVu Sans Mono"
BIG = 2000          # graphs above this many states are cut down to the trace's neighbourhood


@dataclass
class Marks:
    """What to draw specially: initial states, violating states and edges, the trace."""
    initial: set[int] = field(default_factory=set)
    violating: dict[int, list[str]] = field(default_factory=dict)   # state id → property names
    bad_edges: dict[tuple[int, int, int], list[str]] = field(default_factory=dict)  # (src, action, dst)
    trace_edges: set[tuple[int, int, int]] = field(default_factory=set)
    trace_states: list[int] = field(default_factory=list)


def state_graph(ex: Exploration) -> nx.MultiDiGraph:
    """The explored graph: node = state id, one keyed edge per (action, successor)."""
    if ex.edges is None:
        raise ValueError("explore with keep_edges=True to draw the graph")
    import networkx as nx   # here: 0.1 s to import, for the state-graph views only
    graph = nx.MultiDiGraph()
    for sid, depth in enumerate(ex.depth):
        graph.add_node(sid, depth=depth)
    for sid, out in enumerate(ex.edges):
        for k, dst in out:
            graph.add_edge(sid, dst, key=k)
    return graph


def mark(system: System, compiled: Compiled, ex: Exploration, props: list[int], trace: Trace | None,
         prop_name: str | None = None) -> Marks:
    marks = Marks(initial={sid for sid, p in enumerate(ex.parent) if p == -1})
    names = system.properties
    invariants = {i for i in props if isinstance(names[i], Invariant)}
    actions = {i for i in props if isinstance(names[i], ActionProperty)}
    deadlock = any(isinstance(names[i], NoDeadlock) for i in props)
    checked = {k for k, a in enumerate(system.actions) if a.checks}
    for sid, state in enumerate(ex.states):
        bad = [names[i].name for i in compiled.invariants(state) if i in invariants]
        if deadlock and not ex.edges[sid] and not compiled.halted(state) \
                and not all(f(state) for f in compiled.finished):
            bad.append("no_deadlock")
        if bad:
            marks.violating[sid] = bad
        for k, dst in ex.edges[sid]:
            if k in checked:
                hit = [names[i].name for i in compiled.action_checks(k, state, ex.states[dst]) if i in actions]
                if hit:
                    marks.bad_edges[(sid, k, dst)] = hit
    ids = [ex.index.get(s) for s in trace.states] if trace is not None else []
    if trace is not None and None not in ids:     # a trace outside a cut-short exploration is not drawn
        marks.trace_states = ids
        for i, k in enumerate(trace.actions):
            dst = ids[i + 1] if i + 1 < len(ids) else ids[trace.loop]
            marks.trace_edges.add((ids[i], k, dst))
        prop = system.prop(prop_name) if prop_name else None
        if isinstance(prop, (NoHang, LeadsTo)):    # graph properties: the trace's end is the evidence
            ends = ids[trace.loop:] if trace.loop is not None else ids[-1:]
            for sid in ends:
                marks.violating.setdefault(sid, []).append(prop.name)
    return marks


def neighbourhood(graph: nx.MultiDiGraph, centers: list[int], radius: int) -> set[int]:
    """States at most `radius` transitions (either direction) from any center."""
    seen = {c: 0 for c in centers}
    queue = deque(centers)
    while queue:
        node = queue.popleft()
        if seen[node] >= radius:
            continue
        for nxt in list(graph.successors(node)) + list(graph.predecessors(node)):
            if nxt not in seen:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return set(seen)


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_label(system: System, sid: int, state: tuple, initial: tuple, names: list[str]) -> str:
    lines = [f"s{sid}"]
    for i, name in enumerate(names):
        if is_pc(system, name):
            thread = next(t for t, pc in system.facts.program_counters.items() if pc == name)
            lines.append(f"{thread} @ {system.show_slot(i, state[i])}")
    lines += [f"{name} = {system.show_slot(i, state[i])}" for i, name in enumerate(names)
              if state[i] != initial[i] and not internal(system, name)]
    return "\\l".join(_q(line)[1:-1] for line in lines) + "\\l"


def edge_label(system: System, pre: tuple, k: int, post: tuple) -> str:
    return step_label(steps_of(system, Trace((pre, post), (k,)))[0])


def to_dot(system: System, ex: Exploration, marks: Marks, title: str, keep: set[int] | None = None) -> str:
    graph = state_graph(ex)
    nodes = sorted(keep) if keep is not None else list(graph.nodes)
    shown = set(nodes)
    names = system.slot_names()
    initial = ex.states[min(marks.initial)] if marks.initial else ex.states[0]
    legend = "green, double border: initial state; red: violates a property; bold blue: the counterexample"
    if keep is not None:
        legend += f"; dashed: has transitions to states not shown ({len(shown)} of {len(ex.states)} states)"
    out = [f"digraph {_q(title)} {{",
           f"  graph [label={_q(title + chr(10) + legend)}, labelloc=t, fontname={_q(FONT)}, fontsize=11];",
           f"  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname={_q(FONT)}, fontsize=9];",
           f"  edge [fontname={_q(FONT)}, fontsize=8];"]
    on_trace = set(marks.trace_states)
    for sid in nodes:
        state = ex.states[sid]
        attrs = [f'label="{_node_label(system, sid, state, initial, names)}"']
        if any(n not in shown for n in list(graph.successors(sid)) + list(graph.predecessors(sid))):
            attrs.append('style="rounded,filled,dashed"')
        if sid in marks.initial:
            attrs += ['fillcolor="#dcfce7"', "peripheries=2"]
        if sid in marks.violating:
            attrs += ['fillcolor="#fee2e2"', 'color="#b91c1c"', "penwidth=2",
                      "xlabel=" + _q(", ".join(marks.violating[sid])), 'fontcolor="#7f1d1d"']
        elif sid in on_trace:
            attrs += ['color="#1d4ed8"', "penwidth=2"]
        out.append(f"  s{sid} [{', '.join(attrs)}];")
    for src in nodes:
        for k, dst in ex.edges[src]:
            if dst not in shown:
                continue
            attrs = ["label=" + _q(edge_label(system, ex.states[src], k, ex.states[dst]))]
            if (src, k, dst) in marks.bad_edges:
                attrs += ['color="#b91c1c"', 'fontcolor="#b91c1c"', "penwidth=2.5"]
                attrs[0] = "label=" + _q(edge_label(system, ex.states[src], k, ex.states[dst]) + "\nviolates "
                                         + ", ".join(marks.bad_edges[(src, k, dst)]))
            elif (src, k, dst) in marks.trace_edges:
                attrs += ['color="#1d4ed8"', 'fontcolor="#1d4ed8"', "penwidth=2.5"]
            out.append(f"  s{src} -> s{dst} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


__all__ = ["Marks", "state_graph", "mark", "neighbourhood", "to_dot", "edge_label", "BIG"]
