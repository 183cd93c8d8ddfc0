"""The breadth-first search in C, as SPIN runs pan: the same search as explore.py's loops
(exact store; with or without symmetry, partial-order reduction and the state graph), the
same states in the same order, the same verdicts, traces and stats, several times faster;
hangs and leads-to are searched on the graph in C too (`GraphArrays`).

cgen.py translates the model's IR to C, runtime.c is the search, build.py compiles and
caches the library; this module runs it through ctypes between checkpoints (limits,
progress, Ctrl-C) and returns an Exploration like the Python search's. The tests compare
the two on whole state graphs.
"""
from __future__ import annotations

import ctypes
import os
import sys
import time
from array import array

from interpcheck.model.ir import BoundExceeded, System
from ..semantics import Compiled

from ...result import Limit
from ...options import Limits
from ..exploration import Exploration, ExplorationStats, finish
from ..progress import Reporter, checkpoint, stopping
from .build import Build, BuildError, compiler
from .cgen import KIND_ACTION, STORES, c_model, property_kind, too_wide
from ..por import Ample
from ..symmetry import Canonicalizer

_CHECKPOINT, _DONE, _MAX_STATES, _ERROR, _NO_MEMORY = range(5)
_ERR_BOUND, _ERR_INDEX = 1, 2
EVERY = 1024   # states expanded between checkpoints, as in the Python loop


STORE_VARIABLE = "INTERPCHECK_C_STORE"   # the C store (cgen.STORES); unset: "tree"


def store() -> str:
    """The C store: "tree" (the default: 16 bytes a state) or "bits" (the state's bits)."""
    return os.environ.get(STORE_VARIABLE) or "tree"


def unavailable(compiled: Compiled) -> str | None:
    """Why the C search cannot run this compiled model here, or None."""
    if compiled.packing is None:
        return "a variable's values do not fit in a byte"
    if compiler() is None:
        return "no C compiler found (set CC, or install cc, gcc or clang)"
    if store() not in STORES:
        return f"{STORE_VARIABLE}={store()!r} names no C store (set it to one of: {', '.join(STORES)})"
    return None


def unavailable_for(system: System, compiled: Compiled) -> str | None:
    """unavailable(), and the model's own reasons (arithmetic past 64 bits)."""
    return unavailable(compiled) or too_wide(system)


def build_for(system: System, compiled: Compiled, symmetry: Canonicalizer | None = None,
              por: Ample | None = None) -> Build:
    """The library's build for this model (not started); with `symmetry`, its search stores
    representatives as the Canonicalizer computes them; with `por`, it expands ample sets as
    that Ample picks them."""
    return Build(*c_model(system, compiled.packing, store=store(),
                          symmetry=symmetry, por=por))


HANDOVER_STATES = 20_000   # "auto": start compiling once a plain search has stored this many states


class Choice:
    """Whether a plain search runs in C: with backend "c", from the start (`now`); with
    "auto", once it outgrows HANDOVER_STATES and the library (compiled meanwhile, on the
    other core, or cached) is ready (`later`, through `handover`). Small searches, the test
    suite's, never wait for a compiler; large ones lose at most the Python part's time."""

    def __init__(self, system: System, compiled: Compiled, backend: str, symmetry: Canonicalizer | None = None,
                 por: Ample | None = None):
        self.system, self.compiled, self.symmetry, self.por = system, compiled, symmetry, por
        self.now = backend == "c" and unavailable_for(system, compiled) is None
        self.later = backend == "auto"     # whether C can run it is asked once the search grows
        self.build: Build | None = None
        self.failed = False

    def handover(self, states: int) -> ctypes.CDLL | None:
        """At a checkpoint of the Python search: the library once it is loaded, for the C
        search to start over; None while the Python search goes on."""
        if self.failed or states < HANDOVER_STATES:
            return None
        if self.build is None:
            if unavailable_for(self.system, self.compiled) is not None:
                self.failed = True   # not a failure: this model is not for the C search
                return None
            try:
                self.build = build_for(self.system, self.compiled, self.symmetry, self.por).start()
            except Exception as err:   # noqa: BLE001 - the user did not ask for C: never stop their search
                return self._give_up(err)
        return self.load() if self.build.ready() else None

    def load(self) -> ctypes.CDLL | None:
        """The library (waiting for the compiler), or None when it failed: that is a bug of
        ours, so say so on stderr, and let the Python search run."""
        try:
            if self.build is None:
                self.build = build_for(self.system, self.compiled, self.symmetry, self.por)
            return self.build.library()
        except Exception as err:   # noqa: BLE001 - any failure to build or load leaves the search to Python
            return self._give_up(err)

    def _give_up(self, err: Exception) -> None:
        self.failed = True
        print(f"interpcheck: the C search could not be built; the search runs in Python\n{err}", file=sys.stderr)

    def cancel(self) -> None:
        if self.build is not None:
            self.build.cancel()


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, ll, i, u8 = ctypes.c_void_p, ctypes.c_longlong, ctypes.c_int, ctypes.POINTER(ctypes.c_uint8)
    sig = {"ic_new": (p, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, i, ll, i, i]), "ic_free": (None, [p]),
           "ic_root": (i, [p, ctypes.c_char_p]), "ic_run": (i, [p, ll]),
           "ic_count": (ll, [p]), "ic_head": (ll, [p]), "ic_transitions": (ll, [p]),
           "ic_last_depth": (i, [p]), "ic_depth_limited": (i, [p]), "ic_state": (None, [p, ll, u8]),
           "ic_fill": (None, [p, p, p, p]), "ic_found": (ll, [p, i]),
           "ic_found_action": (i, [p, i]), "ic_found_next": (None, [p, i, u8]), "ic_witness": (ll, [p, i]),
           "ic_error": (i, [p, ctypes.POINTER(i), ctypes.POINTER(i), ctypes.POINTER(ll)]),
           "ic_bytes": (ll, [p]), "ic_edge_count": (ll, [p]), "ic_reduced": (ll, [p]),
           "ic_edges": (None, [p, p, p, p]), "ic_action_bytes": (i, []),
           "ic_hang": (i, [p, p, i, p, ctypes.POINTER(ll)]),
           "ic_leads_to": (i, [p, i, p, i, p, p, ctypes.POINTER(ll)])}
    for name, (res, args) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


class _Handle:
    """Owns one C search; freed when the last state view of it goes."""

    def __init__(self, lib: ctypes.CDLL, ptr: int):
        self.lib, self.ptr = lib, ptr

    def __del__(self):
        if self.ptr:
            self.lib.ic_free(self.ptr)
            self.ptr = None


class StateArray:
    """The C search's states, read from its bit-packed records: `states[i]` is state i in
    the Python search's packed layout (one byte per slot)."""

    def __init__(self, handle: _Handle, count: int, width: int):
        self.handle, self.count, self.width = handle, count, width
        self.buffer = (ctypes.c_uint8 * max(width, 1))()

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> bytes:
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError(i)
        self.handle.lib.ic_state(self.handle.ptr, i, self.buffer)
        return bytes(self.buffer)[:self.width]

    def __iter__(self):
        return (self[i] for i in range(self.count))


class Undecided(Exception):
    """A graph search the C library could not finish (an index out of range in a predicate,
    or no memory): the caller decides the property in Python, which reports the error."""


class GraphArrays:
    """The C search's state graph. `edges[i]` is state i's (action, target) list in the order
    the search met them, as explore.py keeps it (read from arrays copied from C on first
    use); `hang` and `leads_to` run graph.py's searches over the graph in C."""

    def __init__(self, handle: _Handle, system: System, count: int, depth: array):
        self.handle, self.count, self.depth = handle, count, depth
        self.threads = len(system.threads)
        self.thread_of = array("i", [-1 if a.thread is None else a.thread for a in system.actions] or [-1])
        self._at: array | None = None

    def _arrays(self) -> tuple[array, array, array]:
        if self._at is None:
            lib, ptr = self.handle.lib, self.handle.ptr
            edges = lib.ic_edge_count(ptr)
            action = "H" if lib.ic_action_bytes() == 2 else "I"   # as C stores them: 6 or 8 bytes an edge
            self._at, self._act, self._dst = array("Q", [0]) * (self.count + 1), array(action, [0]) * edges, \
                array("I", [0]) * edges
            lib.ic_edges(ptr, *(a.buffer_info()[0] for a in (self._at, self._act, self._dst)))
        return self._at, self._act, self._dst

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> list[tuple[int, int]]:
        at, act, dst = self._arrays()
        return list(zip(act[at[i]:at[i + 1]], dst[at[i]:at[i + 1]]))

    def __iter__(self):
        return (self[i] for i in range(self.count))

    def hang(self) -> tuple[int, int] | None:
        """(state, thread) of graph.find_hang's hang, or None."""
        sid = ctypes.c_longlong(-1)
        t = self.handle.lib.ic_hang(self.handle.ptr, self.thread_of.buffer_info()[0], self.threads,
                                    self.depth.buffer_info()[0], ctypes.byref(sid))
        if t == -2:
            raise Undecided("the C graph search stopped")
        return None if t < 0 else (sid.value, t)

    def leads_to(self, prop: int) -> tuple[int, bytearray, array] | None:
        """For LeadsTo `prop`: the first trigger state that can stay in its goal's negation
        forever, with per state whether the goal fails there and its fair component (-1:
        none), or None."""
        bad, comp, start = bytearray(self.count), array("i", [0]) * self.count, ctypes.c_longlong(-1)
        buffer = (ctypes.c_uint8 * len(bad)).from_buffer(bad) if bad else None
        found = self.handle.lib.ic_leads_to(self.handle.ptr, prop, self.thread_of.buffer_info()[0], self.threads,
                                            buffer, comp.buffer_info()[0] if self.count else None,
                                            ctypes.byref(start))
        del buffer
        if found == -2:
            raise Undecided("the C graph search stopped")
        return (start.value, bad, comp) if found == 1 else None


class _Store:
    """What finish asks of a store, for the C search's own."""
    exact = True

    def __init__(self, bytes_total: int):
        self.total = bytes_total

    def bytes_per_state(self, ex: Exploration) -> float | None:
        return self.total / len(ex.parent) if len(ex.parent) else None

    def collision_probability(self, states: int) -> None:
        return None


def breadth_first(system: System, compiled: Compiled, lib: ctypes.CDLL, wanted: set[int], goal: set[int],
                  stop_early: bool, limits: Limits, reporter: Reporter, start: float | None = None,
                  symmetry: Canonicalizer | None = None, keep_edges: bool = False,
                  por: Ample | None = None) -> Exploration:
    """explore()'s breadth-first search, run by the model's C library (built for `symmetry`
    and `por` when given: it stores representatives, expands ample sets); with `keep_edges`,
    the state graph is kept in C (`GraphArrays`), where hangs and leads-to are decided."""
    start = time.perf_counter() if start is None else start
    lib = _bind(lib)
    props = system.properties
    kinds = bytes(property_kind(p) if i in wanted else 0 for i, p in enumerate(props)) or b"\0"
    goals = bytes(1 if i in goal else 0 for i in range(len(props))) or b"\0"
    wanted_checks = {props[i].name for i in wanted if property_kind(props[i]) == KIND_ACTION}
    checked = bytes(any(c.prop in wanted_checks for c in a.checks) for a in system.actions) or b"\0"
    ptr = lib.ic_new(kinds, goals, checked, int(stop_early),
                     -1 if limits.max_states is None else limits.max_states,
                     -1 if limits.max_depth is None else limits.max_depth, int(keep_edges))
    if not ptr:
        raise MemoryError("the C search could not allocate its first tables")
    handle = _Handle(lib, ptr)
    ex = Exploration([], array("q"), array("i"), array("i"), None, {}, ExplorationStats(), decode=compiled.decode,
                     unfold=symmetry.unfold if symmetry is not None else None)
    with stopping(ex, system):
        for init in system.initial:
            state = compiled.encode(init)
            if symmetry is not None:
                state = symmetry.canon(state)   # as explore.roots() stores it (C canonicalizes it too)
            stored = lib.ic_root(ptr, state)
            if stored < 0:
                _raise_error(system, lib, ptr)
            if stored:
                ex.initial.append(state)
        while True:
            status = lib.ic_run(ptr, EVERY)
            if status == _CHECKPOINT:
                count = lib.ic_count(ptr)
                checkpoint(ex, count, lib.ic_transitions(ptr), lib.ic_last_depth(ptr),
                            count - lib.ic_head(ptr), start, reporter, limits)
                continue
            if status == _MAX_STATES:
                raise Limit(f"max-states {limits.max_states}")
            if status == _ERROR:
                _raise_error(system, lib, ptr)
            if status == _NO_MEMORY:
                raise Limit("out of memory")
            break
    if por is not None:
        por.reduced = lib.ic_reduced(ptr)   # what the search that found the results reduced
    return _collect(ex, system, lib, handle, limits, start, keep_edges)


def _collect(ex: Exploration, system: System, lib: ctypes.CDLL, handle: _Handle, limits: Limits,
             start: float, keep_edges: bool) -> Exploration:
    """The C search's arrays and findings as the Python search records them."""
    ptr, width = handle.ptr, system.width
    n = lib.ic_count(ptr)
    ex.states = StateArray(handle, n, width)
    store = _Store(lib.ic_bytes(ptr))
    ex.parent, ex.via, ex.depth = array("q", [0]) * n, array("i", [0]) * n, array("i", [0]) * n
    lib.ic_fill(ptr, ex.parent.buffer_info()[0], ex.via.buffer_info()[0], ex.depth.buffer_info()[0])
    if keep_edges:
        ex.edges = GraphArrays(handle, system, n, ex.depth)
    if lib.ic_depth_limited(ptr) and ex.limit is None:
        ex.limit = f"max-depth {limits.max_depth}"
    for i, p in enumerate(system.properties):
        sid = lib.ic_found(ptr, i)
        if sid >= 0:
            if property_kind(p) == KIND_ACTION:
                buffer = (ctypes.c_uint8 * max(width, 1))()
                lib.ic_found_next(ptr, i, buffer)
                nxt = bytes(buffer)[:width]
                ex.found[i] = ex.trace_to(sid, (lib.ic_found_action(ptr, i), nxt), i)
            else:
                ex.found[i] = ex.trace_to(sid)
        hit = lib.ic_witness(ptr, i)
        if hit >= 0:
            ex.witness[i] = hit
    return finish(ex, store, lib.ic_head(ptr) < n, n, lib.ic_transitions(ptr), start)


def _raise_error(system: System, lib: ctypes.CDLL, ptr: int):
    action, var, value = ctypes.c_int(), ctypes.c_int(), ctypes.c_longlong()
    kind = lib.ic_error(ptr, ctypes.byref(action), ctypes.byref(var), ctypes.byref(value))
    if kind not in (_ERR_BOUND, _ERR_INDEX):
        raise Limit("out of memory")   # the only other way a C step fails
    variable = system.variables[var.value]
    if kind == _ERR_BOUND:
        raise BoundExceeded(action.value, variable.name, value.value)
    raise IndexError(f"{variable.name}[{value.value}] out of range")


__all__ = ["unavailable", "unavailable_for", "build_for", "breadth_first", "BuildError", "StateArray", "Choice",
           "GraphArrays", "Undecided"]
