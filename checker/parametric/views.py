"""Counter abstraction: N interchangeable threads as a shared part and a bag of local views.

An abstract state is the part of the state that belongs to no thread of the group, plus,
for each local view, how many threads are in it: 1 or MANY (two or more; in the `coarse`
abstraction, one or more, for every view no shared slot names). A view is a
thread's own slots with the values that name it or its objects made relative ("self", role),
the shared slots that name it ("marks"), and its net contribution to each shared counter
(a slot whose domain grows with N, like a guard count). A counter is stored as its residue
beyond what the threads contributed, so the abstraction keeps it exact relative to the bag.

Abstract successors come from a concrete *instance*: one thread per view of count 1 and R
threads per view of count MANY, stepped by the compiled model. With the model's symmetry,
a step of one thread depends only on its view, the shared part and which views are present
(docs/modeling.md: where this needs count-insensitivity, what counters.py proves of it and
what is only checked).
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Callable

from interpcheck.model.ir import System, ThreadGroup
from ..explicit.semantics import compile_system, Compiled

MANY = 2          # "two or more threads are in this view" ("one or more" when coarse)
SELF, GROUP, NAMED = "self", "group", "="


class NotAbstractable(Exception):
    """The model does not fit the abstraction (a thread names a sibling's object, a shared
    slot exists for some N only, the instance's steps depend on how many threads there are),
    or an instance reached a `limit` (a bound) while the abstraction was computed."""

    def __init__(self, why: str, limit: str | None = None):
        super().__init__(why)
        self.limit = limit


View = tuple          # (own values, marks, contributions)
Bag = tuple           # sorted ((view, count), ...)
Abstract = tuple      # (shared values, bag)


@dataclass
class Instance:
    """A concrete state standing for an abstract one, and which bag entry each thread plays."""
    layout: "Layout"
    state: tuple
    entry: list[int]                 # per group thread (in group order): its bag entry
    first: list[bool]                # the entry's first thread (the one whose steps are taken)
    contributions: list[tuple]       # per group thread: its view's counter contributions
    raw: list[tuple]                 # per group thread: its own slots' concrete values
    own: list[tuple]                 # ... and as the abstraction has them
    members: dict[int, list[int]]    # per bag entry: the group threads playing it
    counts: list[int]                # per bag entry: its count
    views: list[tuple]               # per bag entry: its view

    @property
    def siblings(self) -> frozenset[int]:
        """The system's thread numbers of the group threads that are not their entry's first."""
        threads = self.layout.group.threads
        return frozenset(threads[j] for j, f in enumerate(self.first) if not f)


class Layout:
    """Where the abstraction's pieces live in the system with `size` threads of the group,
    with per-slot tables from concrete values to the abstraction's (built once per size)."""

    def __init__(self, system: System, group: ThreadGroup, shared_names: list[str]):
        self.system = system
        self.compiled: Compiled = compile_system(system, lazy=True)
        self.group = group
        self.position = {t: j for j, t in enumerate(group.threads)}
        names = {n: s for s, n in enumerate(system.slot_names())}
        missing = [n for n in shared_names if n not in names]
        if missing:
            raise NotAbstractable(f"slot {missing[0]} exists only for some numbers of threads")
        self.shared = [names[n] for n in shared_names]
        owned = [slot for slots in group.slots for slot in slots]
        if len({len(slots) for slots in group.slots}) > 1:
            raise NotAbstractable(f"the threads of the table own different numbers of slots with "
                                  f"{len(group.threads)} of them")
        stray = sorted(set(range(system.width)) - set(self.shared) - set(owned))
        if stray:   # it would keep its initial value in every instance, whatever the state
            raise NotAbstractable(f"slot {system.slot_names()[stray[0]]} belongs to no thread of the table and "
                                  "exists only for some numbers of threads")
        self.classes = system.symmetry.classes
        self.domain = [None] * system.width
        for v in system.variables:
            for k in range(v.length):
                self.domain[v.base + k] = v.domain
        naming: dict[tuple[str, int], tuple[int, int]] = {}   # (class, value) -> (thread, role)
        self.values = dict(group.values)
        for c, per_thread in group.values:
            for j, vals in enumerate(per_thread):
                for r, x in enumerate(vals):
                    naming[(c, x)] = (j, r)
        self.shared_get = _getter(self.shared)
        self.shared_canon = [self._table(s, naming, None) for s in self.shared]
        self.may_mark = [i for i, t in enumerate(self.shared_canon) if any(type(y) is Mark for y in t.values())]
        self.own_get = [_getter(slots) for slots in group.slots]
        self.own_canon = [[self._table(s, naming, j) for s in slots] for j, slots in enumerate(group.slots)]
        self.own_value = [[{y: x for x, y in t.items() if y is not FOREIGN} for t in ts] for ts in self.own_canon]
        self.shared_value = [{y: x for x, y in t.items() if type(y) is not Mark} for t in self.shared_canon]
        # Memo tables: each maps a piece of a concrete state to the abstraction's (or back) and
        # is filled as the search meets them; a state is assembled from its pieces in one call.
        self.own_abstract: list[dict[tuple, tuple]] = [{} for _ in group.slots]   # raw own values -> own view
        self.own_concrete: list[dict[tuple, tuple]] = [{} for _ in group.slots]   # own view -> raw own values
        self.shared_abstract: dict[tuple, tuple] = {}   # raw shared values -> (abstract values, marks)
        self.shared_concrete: dict[tuple, tuple] = {}   # abstract shared values -> (raw values, GROUP positions)
        self.assemble = _assembler(system, self.shared, group.slots)
        self._owner = {slot: j for j, slots in enumerate(group.slots) for slot in slots}
        self._touches: dict[int, frozenset[int]] = {}

    def touches(self, action: int) -> frozenset[int]:
        """The group threads (positions) whose own slots the action may write."""
        hit = self._touches.get(action)
        if hit is None:
            written = self.system.actions[action].slots_written()
            hit = self._touches[action] = frozenset(self._owner[s] for s in written if s in self._owner)
        return hit

    def _table(self, slot: int, naming: dict, j: int | None) -> dict:
        """Concrete value -> abstract: a plain int, (NAMED, label), and for values naming a
        thread of the group, (SELF, role) in its own slots, a Mark in shared slots, FOREIGN
        for a sibling's."""
        c, d = self.classes[slot], self.domain[slot]
        out = {}
        for x in d.values():
            if c is None:
                out[x] = x
            elif (c, x) not in naming:
                out[x] = (NAMED, d.show(x))
            else:
                owner, r = naming[(c, x)]
                out[x] = Mark(owner, r) if j is None else (SELF, r) if owner == j else FOREIGN
        return out


@dataclass(frozen=True)
class Mark:
    thread: int
    role: int


FOREIGN = ("foreign",)


def _getter(slots) -> Callable[[tuple], tuple]:
    if not slots:
        return lambda s: ()
    if len(slots) == 1:
        return lambda s, i=slots[0]: (s[i],)
    return itemgetter(*slots)


class Abstraction:
    """Maps between the family's concrete states and abstract states; steps abstract states."""

    def __init__(self, family: Callable[[int], System], table: str, coarse: bool = False):
        self.family, self.table = family, table
        # coarse: a view's count is "one or more" unless a shared slot names its thread (then
        # exactly one); the default: exactly one, or "two or more"
        self.coarse = coarse
        one, two = family(1), family(2)
        g1, g2 = self._group(one, 1), self._group(two, 2)
        owned = {s for slots in g1.slots for s in slots}
        self.shared_names = [n for s, n in enumerate(one.slot_names()) if s not in owned]
        owned2 = {s for slots in g2.slots for s in slots}
        if sorted(self.shared_names) != sorted(n for s, n in enumerate(two.slot_names()) if s not in owned2):
            raise NotAbstractable("the slots outside the thread table differ between 1 and 2 threads")
        if len(g1.slots[0]) != len(g2.slots[0]):
            raise NotAbstractable("a thread's own slots differ between 1 and 2 threads")
        self.layouts: dict[int, Layout] = {}
        l1, l2 = self.layout(1), self.layout(2)
        self.counters = [i for i, (a, b) in enumerate(zip(l1.shared, l2.shared))
                         if l1.classes[a] is None and l1.domain[a].hi != l2.domain[b].hi]
        self.counter_at = {i: c for c, i in enumerate(self.counters)}

    def _group(self, system: System, size: int) -> ThreadGroup:
        names = [f"{self.table}{k + 1}" for k in range(size)]
        for g in (system.symmetry.groups if system.symmetry else ()):
            if [system.threads[t] for t in g.threads] == names:
                return g
        raise NotAbstractable(f"the threads of {self.table} are not interchangeable in the model")

    def layout(self, size: int) -> Layout:
        if size not in self.layouts:
            system = self.family(size)
            self.layouts[size] = Layout(system, self._group(system, size), self.shared_names)
        return self.layouts[size]

    # ----- concrete -> abstract --------------------------------------------------------------
    def initial(self) -> list[Abstract]:
        """One thread, and two or more (the instance of 2 stands for every N >= 2): the models
        with 3 and 4 threads must start in those abstract states too, or the family's start
        depends on N (a counter set to N, say) and no abstract state stands for it."""
        out = []
        for size in (1, 2, 3, 4):
            lay = self.layout(size)
            zero = [tuple(0 for _ in self.counters)] * size
            for init in lay.system.initial:
                for a in self.abstract(lay, init, zero, None):
                    if size > 2 and a not in out:
                        raise NotAbstractable(f"the model starts differently with {size} threads of {self.table} "
                                              "than with 2: it is not one model with more threads")
                    if a not in out:
                        out.append(a)
        return out

    def split(self, lay: Layout, state: tuple, contributions: list[tuple],
              kept: tuple[list, frozenset[int]] | None = None) -> tuple[tuple, list[View]]:
        """The shared part (counters as residues) and each group thread's view. `kept`: the
        own views of a state this one is a step away from, and the threads whose own slots
        that step may write: the others keep theirs."""
        raw_shared = lay.shared_get(state)
        known = lay.shared_abstract.get(raw_shared)
        if known is None:
            known = lay.shared_abstract[raw_shared] = self._split_shared(lay, raw_shared)
        shared, marked = known
        if self.counters:
            shared = list(shared)
            for i, total in zip(self.counters, map(sum, zip(*contributions))):
                shared[i] -= total
            shared = tuple(shared)
        views = []
        owns, moved = kept if kept is not None else (None, None)
        for j, (get, memo, con) in enumerate(zip(lay.own_get, lay.own_abstract, contributions)):
            if owns is not None and j not in moved:
                own = owns[j]
            else:
                raw = get(state)
                own = memo.get(raw)
                if own is None:
                    own = memo[raw] = self._own_view(lay, j, raw)
            views.append((own, marked.get(j, ()), con))
        return shared, views

    def _split_shared(self, lay: Layout, raw: tuple) -> tuple[tuple, dict[int, tuple]]:
        """Raw shared values as the abstraction has them (counters still raw), and per group
        thread the shared slots that name it."""
        marks: dict[int, list] = {}
        shared = [t[x] for t, x in zip(lay.shared_canon, raw)]
        for i in lay.may_mark:
            y = shared[i]
            if type(y) is Mark:
                marks.setdefault(y.thread, []).append((i, y.role))
                shared[i] = (GROUP, y.role)
        return tuple(shared), {j: tuple(m) for j, m in marks.items()}

    def _own_view(self, lay: Layout, j: int, raw: tuple) -> tuple:
        own = tuple([t[x] for t, x in zip(lay.own_canon[j], raw)])
        if FOREIGN in own:
            slot = lay.group.slots[j][own.index(FOREIGN)]
            raise NotAbstractable(f"a thread of {self.table} holds a sibling's object in "
                                  f"{lay.system.slot_names()[slot]}")
        return own

    def abstract(self, lay: Layout, state: tuple, contributions: list[tuple],
                 inst: Instance | None, actor: int | None = None, action: int | None = None) -> list[Abstract]:
        """The abstract states a concrete instance state stands for. Without `inst`, every
        thread is its own entry (count 1) except that equal views add up; with it (`state`
        one `action` away from its), threads that played one entry of count MANY must move
        together, except the actor, whose siblings become "1 or MANY" (two abstract states)."""
        kept = (inst.own, lay.touches(action)) if inst is not None and action is not None else None
        shared, views = self.split(lay, state, contributions, kept)
        if inst is None:
            return [(shared, self._bag([(v, 1) for v in views]))]
        fixed: list[tuple[View, int]] = []
        rest: View | None = None
        by_entry = inst.members
        for e, members in by_entry.items():
            if inst.counts[e] == 1:
                fixed.append((views[members[0]], 1))
                continue
            if actor in members:
                fixed.append((views[actor], 1))
                members = [j for j in members if j != actor]
            # A coarse instance may hold one thread of an entry "one or more": the actor's
            # siblings then are those of every other instance, which must agree (step.py).
            moved = views[members[0]] if members else inst.views[e]
            if any(views[j] != moved for j in members):
                raise NotAbstractable(f"threads of {self.table} in the same local state took different "
                                      "steps at once")
            if actor in by_entry[e]:
                rest = moved
            else:
                fixed.append((moved, MANY))
        if rest is None:
            return [(shared, self._bag(fixed))]
        if self.coarse:   # "one or more" less the actor: none, or one or more
            return [(shared, self._bag(fixed)), (shared, self._bag(fixed + [(rest, MANY)]))]
        return [(shared, self._bag(fixed + [(rest, n)])) for n in (1, MANY)]

    def _bag(self, entries: list[tuple[View, int]]) -> Bag:
        """The bag of these entries; coarse: a view no shared slot names is "one or more"."""
        bag = _bag(entries)
        if self.coarse and any(n == 1 and not view[1] for view, n in bag):
            bag = tuple((view, n if view[1] else MANY) for view, n in bag)
        return bag

    # ----- abstract -> concrete instance -----------------------------------------------------
    def instance(self, a: Abstract, copies: int) -> Instance:
        """Entry e's first thread is thread e of the group, its other copies come after every
        entry's first: the steps taken are those of threads 0 .. entries - 1, the same
        threads at every size, so each size compiles the steps of fewer threads."""
        shared, bag = a
        entry, first = list(range(len(bag))), [True] * len(bag)
        members: dict[int, list[int]] = {e: [e] for e in range(len(bag))}
        for e, (view, count) in enumerate(bag):
            for _ in range(copies - 1 if count == MANY else 0):
                members[e].append(len(entry))
                entry.append(e)
                first.append(False)
        contributions = [bag[e][0][2] for e in entry]
        lay = self.layout(len(entry))
        raw, own = [], []
        marked: dict[tuple[int, int], int] = {}
        for j, e in enumerate(entry):
            view = bag[e][0]
            x = lay.own_concrete[j].get(view[0])
            if x is None:
                x = lay.own_concrete[j][view[0]] = tuple(table[y] for y, table in zip(view[0], lay.own_value[j]))
            raw.append(x)
            own.append(view[0])
            for mark in view[1]:
                marked[mark] = j
        known = lay.shared_concrete.get(shared)
        if known is None:
            known = lay.shared_concrete[shared] = self._shared_concrete(lay, shared)
        values, groups = known
        if groups or self.counters:
            values = list(values)
            for i, role in groups:
                j = marked[(i, role)]
                values[i] = lay.values[lay.classes[lay.shared[i]]][j][role]
            for k, i in enumerate(self.counters):
                values[i] = x = shared[i] + sum(con[k] for con in contributions)
                domain = lay.domain[lay.shared[i]]
                if not domain.lo <= x <= domain.hi:   # a view that takes from the counter, copied
                    raise NotAbstractable(f"the model counts threads: with {copies} threads in each view of "
                                          f"{self.table} that stands for several, {self.shared_names[i]} would "
                                          f"be {x}")
        state = lay.assemble(values, raw)
        return Instance(lay, state, entry, first, contributions, raw, own, members,
                        [n for _, n in bag], [view for view, _ in bag])

    def _shared_concrete(self, lay: Layout, shared: tuple) -> tuple[tuple, tuple]:
        """Abstract shared values as raw ones, but for counters (filled per instance from the
        contributions) and slots naming a group thread (positions and roles returned)."""
        values, groups = [], []
        for i, x in enumerate(shared):
            if i in self.counter_at:
                values.append(x)
            elif isinstance(x, tuple) and x[0] == GROUP:
                values.append(None)
                groups.append((i, x[1]))
            else:
                values.append(lay.shared_value[i][x])
        return tuple(values), tuple(groups)


def _assembler(system: System, shared: list[int], own: list[list[int]]) -> Callable[[list, list], tuple]:
    """A function building a concrete state from the shared slots' values and each group
    thread's own slots' values (slots in neither keep their initial value)."""
    parts = [repr(x) for x in system.initial[0]]
    for i, slot in enumerate(shared):
        parts[slot] = f"sh[{i}]"
    for j, slots in enumerate(own):
        for r, slot in enumerate(slots):
            parts[slot] = f"o[{j}][{r}]"
    env: dict = {}
    exec(f"def assemble(sh, o): return ({', '.join(parts)},)", env)
    return env["assemble"]


def _bag(entries: list[tuple[View, int]]) -> Bag:
    counts: dict[View, int] = {}
    for view, n in entries:
        counts[view] = min(MANY, counts.get(view, 0) + n)
    for view, n in counts.items():
        if n == MANY and view[1]:
            raise NotAbstractable("two threads are named by one shared slot")
    return tuple(sorted(counts.items()))
