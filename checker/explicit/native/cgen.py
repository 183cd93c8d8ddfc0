"""Writes one model's part of the C search: successors, property tests, the deadlock test.

The C is a direct translation of the IR (as export/promela.py is): every expression is
evaluated in C `long long` (a model whose arithmetic could leave it stays in Python), in
the reference evaluator's order, with `&&`/`||`/`?:`
short-circuiting as `evaluate` does. The Python search's packed layout (`compile_system(...,
packed=True)`) has one byte per slot, each value stored plus its domain's offset; the C
store packs those bytes into bits (`Layout`): slot i takes the bits its domain needs (0-8),
from bit `at[i]` on (in slot order; for the tree store, the slots no thread owns first,
then each thread's, so its chunks recur), so the records are 2-4 times smaller. The generated
code reads and writes slots in place, in the bits (`get`/`put` with constant positions,
`getv`/`putv` through the layout's tables for a computed index); runtime.c turns records
back into the byte layout (`unpack`) for Python.
Errors the Python code raises (a value leaving its domain, an index out of range) set the
runtime's `ERR` and make the function return -1; the runtime stops the search there and
Python raises the same exception. Actions are dispatched on program counters as
semantics/codegen.py does, so a state runs only the guards of the actions its threads are at.
"""
from __future__ import annotations

from interpcheck.model.ir import (ActionProperty, Const, Expr, Invariant, Ite, LeadsTo, NoDeadlock, Op, Read,
                                  Sometimes, System, value_range, walk)
from ..semantics import Packing
from ..por import Ample
from ..symmetry import Canonicalizer
from ..semantics.codegen import _dispatch, _in_order

_C_OPS = {"+": "+", "-": "-", "*": "*", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

KIND_INVARIANT, KIND_ACTION, KIND_SOMETIMES, KIND_DEADLOCK = 1, 2, 3, 4


def property_kind(prop) -> int:
    """How the runtime treats a property (0: not decided by the C search)."""
    if isinstance(prop, Invariant):
        return KIND_INVARIANT
    if isinstance(prop, ActionProperty):
        return KIND_ACTION
    if isinstance(prop, Sometimes):
        return KIND_SOMETIMES
    if isinstance(prop, NoDeadlock):
        return KIND_DEADLOCK
    return 0


CHUNK_BITS = 64   # the tree store's leaves: chunks of slots of at most this many bits, from a byte
TOP_PARTS = 4   # the tree store's record: at most this many node ids (16 bytes), each over a part of the blocks
STORES = ("bits", "tree")   # the C store's record: the state's bits, or its tree's top (store_tables)


class Layout:
    """Where each slot's bits sit in a state's bits: slot i is `mask[i]` (2^bits - 1) at bit
    `at[i]`. `chunked` (the tree store): chunk c is bytes `chunks[c]` to
    `chunks[c + 1]`, at most CHUNK_BITS of slots from a byte boundary, and each thread has
    chunks of its own (`blocks`), after the shared slots', so a chunk's values repeat across
    states (a thread's local state recurs with every state of the others); otherwise one
    chunk, all the bytes, slots in IR order."""

    def __init__(self, system: System, packing: Packing, chunked: bool = False):
        bits = [0] * system.width
        for v in system.variables:
            for k in range(v.length):
                bits[v.base + k] = (v.domain.hi + packing.offset[v.base + k]).bit_length()
        blocks = [list(range(system.width))]
        if chunked:   # the slots no thread owns, then each thread's (SystemFacts.thread_slots)
            blocks, owned = [], {i for i in range(system.width) if not bits[i]}   # 0 bits: stored nowhere
            for slots in system.facts.thread_slots:
                blocks.append([i for i in dict.fromkeys(slots) if 0 <= i < system.width and i not in owned])
                owned.update(blocks[-1])
            shared = [i for i in range(system.width) if i not in owned]
            blocks = [b for b in [shared] + blocks if b] or [[]]
        self.at, self.chunks, total = [0] * system.width, [0], 0
        self.blocks: list[list[int]] = []   # per block, its chunks
        for block in blocks:
            start = total = (total + 7) // 8 * 8   # each block from a byte, in chunks of its own
            if chunked and total // 8 != self.chunks[-1]:
                self.chunks.append(total // 8)
            self.blocks.append([len(self.chunks) - 1])
            for i in block:
                if chunked and total + bits[i] - start > CHUNK_BITS:   # a new chunk, from the next byte
                    start = total = (total + 7) // 8 * 8
                    self.chunks.append(total // 8)
                    self.blocks[-1].append(len(self.chunks) - 1)
                self.at[i] = total
                total += bits[i]
        self.mask = [(1 << b) - 1 for b in bits]
        self.bytes = max((total + 7) // 8, 1)
        self.chunks.append(self.bytes)

    def tables(self) -> list[str]:
        """The defines and tables runtime.c needs (compiled before it)."""
        return [f"#define PWIDTH {self.bytes}", f"#define N_CHUNKS {len(self.chunks) - 1}",
                f"static const uint32_t CHUNK_AT[] = {{{', '.join(map(str, self.chunks))}}};",
                f"static const uint32_t BIT_AT[] = {{{', '.join(map(str, self.at)) or '0'}}};",
                f"static const uint8_t BIT_MASK[] = {{{', '.join(map(str, self.mask)) or '0'}}};"]


class _Expressions:
    """C source for IR expressions over `s` (the state) and `n` (the successor), both C records."""

    def __init__(self, system: System, packing: Packing, chunked: bool = False):
        self.offset = packing.offset
        self.layout = Layout(system, packing, chunked)
        self.var_id = {id(v): j for j, v in enumerate(system.variables)}

    def val(self, e: Expr) -> str:
        if isinstance(e, Const):
            return str(e.value)
        if isinstance(e, Read):
            return self.read(e)
        if isinstance(e, Ite):
            return f"({self.val(e.cond)} ? {self.val(e.then)} : {self.val(e.other)})"
        if isinstance(e, Op):
            if e.name == "and":
                return "(" + " && ".join(self.val(a) for a in e.args) + ")"
            if e.name == "or":
                return "(" + " || ".join(self.val(a) for a in e.args) + ")"
            if e.name == "not":
                return f"(!{self.val(e.args[0])})"
            if e.name == "neg":
                return f"(-{self.val(e.args[0])})"
            a, b = e.args
            return f"({self.val(a)} {_C_OPS[e.name]} {self.val(b)})"
        raise TypeError(f"unknown node {e!r}")

    def read(self, e: Read) -> str:
        state = "n" if e.primed else "s"
        off = self.offset[e.var.base]
        value = f"(long long){self.get(state, self.position(e.var, e.index))}"   # all arithmetic in 64 bits
        return f"({value} - {off})" if off else value

    def get(self, state: str, slot: int | str) -> str:
        """The stored value (value + offset) of a slot of `state`."""
        if isinstance(slot, int):
            return f"get({state}, {self.layout.at[slot]}, {self.layout.mask[slot]})"
        return f"getv({state}, {slot})"

    def put(self, state: str, slot: int | str, value: str) -> str:
        """C statement: store `value` (already offset, in the slot's range) in a slot of `state`."""
        if isinstance(slot, int):
            return f"put({state}, {self.layout.at[slot]}, {self.layout.mask[slot]}, {value});"
        return f"putv({state}, {slot}, {value});"

    def position(self, var, index: Expr) -> int | str:
        """The slot of var[index] (an int when constant); a computed index goes through ix(),
        which checks its range."""
        if isinstance(index, Const):
            if not 0 <= index.value < var.length:
                raise IndexError(f"{var.name}[{index.value}] out of range")
            return var.base + index.value
        return f"{var.base} + ix({self.val(index)}, {var.length}, {self.var_id[id(var)]})"


LIMIT = 2 ** 62   # no value or intermediate result may come near long long's range


def too_wide(system: System) -> str | None:
    """Why some expression could leave 64-bit arithmetic (Python's ints never overflow), or None."""
    for e in _expressions(system):
        if _magnitude(e) >= LIMIT:
            return "an expression's values could exceed 64 bits"
    return None


def _expressions(system: System):
    for a in system.actions:
        yield a.guard
        for u in a.updates:
            yield u.target.index
            yield u.value
        for c in a.checks:
            yield c.holds
    for p in system.properties:
        for name in ("holds", "expr", "trigger", "goal"):
            if isinstance(getattr(p, name, None), Expr):
                yield getattr(p, name)
    yield from system.finished
    yield system.halted


def _magnitude(e: Expr) -> int:
    """A bound on |value| of `e` and of every subexpression evaluated with it."""
    if isinstance(e, Const):
        return abs(e.value)
    if isinstance(e, Read):
        return max(abs(e.var.domain.lo), abs(e.var.domain.hi), _magnitude(e.index))
    if isinstance(e, Ite):
        return max(_magnitude(e.cond), _magnitude(e.then), _magnitude(e.other))
    parts = [_magnitude(a) for a in e.args]
    if e.name == "+" or e.name == "-":
        return max(parts + [parts[0] + parts[1]])
    if e.name == "*":
        return max(parts + [parts[0] * parts[1]])
    return max(parts + [1])


def tree_shape(layout: Layout) -> tuple[list[tuple[int, int]], list[int]]:
    """The tree store's tree over a layout's chunks (LTSmin's tree compression): node n
    interns the pair of its kids' words, kids[n] (below N_CHUNKS a chunk's value, then
    N_CHUNKS + m node m's id, N_CHUNKS + len(kids) for NONE, a 0), kids before parents; the
    record is the ids of the `top` nodes. Each block (a thread's chunks, the shared slots')
    is one node, so one thread's step changes one path to the top; above them, the blocks
    are halved at every node, up to TOP_PARTS parts, which vary about as much each."""
    n_chunks, kids = len(layout.chunks) - 1, []

    def pair(a: int, b: int) -> int:
        kids.append((a, b))
        return n_chunks + len(kids) - 1

    def node(ids: list[int]) -> int:
        return ids[0] if len(ids) == 1 else pair(node(ids[:len(ids) // 2]), node(ids[len(ids) // 2:]))

    def as_node(ids: list[int]) -> int:   # a node's id, even over one chunk
        return pair(ids[0], -1) if len(ids) == 1 and ids[0] < n_chunks else node(ids)
    if len(layout.blocks) >= TOP_PARTS:
        units = [as_node(b) for b in layout.blocks]
    else:   # too few threads (or none declared): the top parts cut across the chunks
        units = [c for b in layout.blocks for c in b]
    parts = min(TOP_PARTS, len(units))
    top = [as_node(units[len(units) * i // parts:len(units) * (i + 1) // parts]) for i in range(parts)]
    height = [0] * n_chunks   # nodes renumbered level by level, the lowest first
    for a, b in kids:
        height.append(1 + max(height[a], height[b] if b >= 0 else 0))
    order = sorted(range(len(kids)), key=lambda n: height[n_chunks + n])
    new = {-1: n_chunks + len(kids)} | {c: c for c in range(n_chunks)}
    new |= {n_chunks + n: n_chunks + i for i, n in enumerate(order)}
    return [(new[kids[n][0]], new[kids[n][1]]) for n in order], [new[t] for t in top]


def store_tables(store: str, layout: Layout) -> list[str]:
    """How a C record names a state (runtime.c): "bits", the state's bits; "tree", the top
    of its tree (tree_shape), 4 bytes a part."""
    if store == "bits":
        return ["#define TREE 0"]
    kids, top = tree_shape(layout)
    rows = ", ".join(f"{{{a}, {b}}}" for a, b in kids)
    return ["#define TREE 1", f"#define N_NODES {len(kids)}", f"#define N_TOP {len(top)}",
            f"static const uint32_t NODE_KID[{len(kids)}][2] = {{{rows}}};",
            f"static const uint32_t TOP[] = {{{', '.join(map(str, top))}}};"]


def c_model(system: System, packing: Packing, store: str = "tree",
            symmetry: Canonicalizer | None = None, por: Ample | None = None) -> tuple[str, str]:
    """The model's sizes (compiled before the runtime, runtime.c) and its functions (after);
    `packing` is the Python search's byte layout (what ic_root takes and ic_state gives);
    `store`: what a C record holds (STORES, store_tables); `symmetry`: successors are
    stored as their representatives, computed as `symmetry.canon` does; `por`: states are
    expanded with the ample sets `por` picks, computed from its tables (runtime.c)."""
    own = Packing.of(system)    # the C records: slots in IR order, domains lifted to start at 0
    if store == "tree" and Layout(system, own).bytes <= 4 * TOP_PARTS:
        store = "bits"          # the bits are no longer than the tree's record: keep them
    ex = _Expressions(system, own, chunked=store != "bits")
    most_checks = max([len(a.checks) for a in system.actions] + [1])
    sizes = [f"#define WIDTH {system.width}", f"#define N_ACTIONS {max(len(system.actions), 1)}",
             f"#define N_PROPS {max(len(system.properties), 1)}", f"#define MAX_CHECKS {most_checks}",
             "#include <stdint.h>"] + ex.layout.tables() + store_tables(store, ex.layout)
    sizes += _python_layout(packing, own) + symmetry_tables(symmetry) + por_tables(system, por, packing, own, ex)
    return "\n".join(sizes) + "\n", "\n".join(_successors(system, ex) + _properties(system, ex)) + "\n"


def _python_layout(packing: Packing, own: Packing) -> list[str]:
    """Where slot i sits in the Python search's bytes (PY_AT) and what its byte adds to the C
    record's value (PY_SHIFT): symmetry's layout moves slots and shifts value classes."""
    shift = [p - o for p, o in zip(packing.offset, own.offset)]
    same = list(packing.position) == list(range(len(shift))) and not any(shift)
    return [f"#define PY_SAME_LAYOUT {int(same)}",
            f"static const uint16_t PY_AT[] = {{{', '.join(map(str, packing.position)) or '0'}}};",
            f"static const int16_t PY_SHIFT[] = {{{', '.join(map(str, shift)) or '0'}}};"]


def por_tables(system: System, por: Ample | None, packing: Packing, own: Packing, ex: _Expressions) -> list[str]:
    """por.Ample's footprints, for runtime.c's ample(): per thread with a program counter, its
    counter's bits, and per value of it (as the C record stores it) whether its steps may be
    taken alone, what they read and write, and what the thread can still read-or-write and
    write from there; what the threads without a counter touch; each action's thread. Slot
    sets are bit masks over IR slots, POR_WORDS 64-bit words each."""
    if por is None:
        return ["#define POR 0"]
    words = max(1, (system.width + 63) // 64)

    def mask(m: int) -> str:
        return "{" + ", ".join(str((m >> (64 * w)) & (2 ** 64 - 1)) + "ull" for w in range(words)) + "}"
    rows = {"POR_LOCAL": [], "POR_READS": [], "POR_WRITES": [], "POR_FUTURE_RW": [], "POR_FUTURE_W": []}
    first, at, bits = [], [], []
    for i, slot in enumerate(por.pc_slots):
        first.append(len(rows["POR_LOCAL"]))
        at.append(ex.layout.at[slot]), bits.append(ex.layout.mask[slot])
        shift = packing.offset[slot] - own.offset[slot]     # C stored value + shift = the Python table's index
        for value in range(ex.layout.mask[slot] + 1):
            py = value + shift
            local = por.local[i][py] if 0 <= py < len(por.local[i]) else None
            future = por.future[i][py] if 0 <= py < len(por.future[i]) else (0, 0)
            rows["POR_LOCAL"].append("1" if local is not None else "0")
            rows["POR_READS"].append(mask(local[0] if local else 0))
            rows["POR_WRITES"].append(mask(local[1] if local else 0))
            rows["POR_FUTURE_RW"].append(mask(future[0]))
            rows["POR_FUTURE_W"].append(mask(future[1]))
    owner = [-1 if t is None else t for t in por.owner] or [-1]
    out = ["#define POR 1", f"#define POR_WORDS {words}", f"#define POR_THREADS {len(por.pc_slots)}",
           f"static const uint32_t POR_FIRST[] = {{{', '.join(map(str, first))}}};",
           f"static const uint32_t POR_AT[] = {{{', '.join(map(str, at))}}};",
           f"static const uint32_t POR_MASK[] = {{{', '.join(map(str, bits))}}};",
           f"static const int32_t POR_THREAD[] = {{{', '.join(map(str, por.thread))}}};",
           f"static const int32_t POR_OWNER[] = {{{', '.join(map(str, owner))}}};",
           f"static const uint64_t POR_OTHERS_RW[] = {mask(por.others[0])};",
           f"static const uint64_t POR_OTHERS_W[] = {mask(por.others[1])};",
           f"static const uint8_t POR_LOCAL[] = {{{', '.join(rows.pop('POR_LOCAL'))}}};"]
    for name, values in rows.items():
        out.append(f"static const uint64_t {name}[][POR_WORDS] = {{{', '.join(values)}}};")
    return out


def symmetry_tables(symmetry: Canonicalizer | None) -> list[str]:
    """The Canonicalizer's layout and tables, for runtime.c's canon() (the same algorithm
    over the same bytes): the global part's length, each group's blocks, each thread's key
    table, and the values that name each thread (role by role, class by class), which a
    permutation renames."""
    if symmetry is None:
        return ["#define SYMMETRY 0"]
    starts, sizes, counts, first, keys, names = [], [], [], [], [], []
    for gi, (start, size, n) in enumerate(symmetry.blocks):
        starts.append(start), sizes.append(size), counts.append(n), first.append(len(keys))
        per_class = sorted(symmetry.values[gi].items())
        for j in range(n):
            keys.append(symmetry.key_table(gi, j))
            names.append([symmetry.stored(c, v) for c, per_thread in per_class for v in per_thread[j]])
    widths = [len(names[f]) for f in first]
    if any(len(names[f + j]) != w for f, w, n in zip(first, widths, counts) for j in range(n)):
        raise ValueError("threads of a group are named by different numbers of values")
    width = max(widths, default=0)

    def array(rows) -> str:
        return "{" + ", ".join("{" + ", ".join(map(str, row or [0])) + "}" for row in rows) + "}"
    return ["#define SYMMETRY 1", f"#define SYM_GLOBAL {symmetry.nglobal}", f"#define SYM_GROUPS {len(starts)}",
            f"#define SYM_MAX_N {max(counts)}", f"#define SYM_MAX_KEY {max(sizes) + symmetry.nglobal}",
            f"static const uint32_t SYM_START[] = {{{', '.join(map(str, starts))}}};",
            f"static const uint32_t SYM_SIZE[] = {{{', '.join(map(str, sizes))}}};",
            f"static const uint32_t SYM_N[] = {{{', '.join(map(str, counts))}}};",
            f"static const uint32_t SYM_FIRST[] = {{{', '.join(map(str, first))}}};",
            f"static const uint32_t SYM_WIDTH[] = {{{', '.join(map(str, widths))}}};",
            f"static const uint8_t SYM_KEY[][256] = {array(keys)};",
            f"static const uint8_t SYM_NAME[][{max(width, 1)}] = {array(names)};"]


def _successors(system: System, ex: _Expressions) -> list[str]:
    """int successors(s, out, ks): the successors in action order; -1 on an error. The
    actions of each program-counter value are one small function (gcc compiles many small
    functions several times faster than one big one)."""
    groups, rest = _dispatch(system)
    lines, body, order = [], ["static int successors(const uint8_t *s, uint8_t *out, int32_t *ks) {",
                              "    int c = 0;"], []
    for slot, by_value in groups:
        body.append(f"    switch ({ex.get('s', slot)}) {{")
        for value, ks in sorted(by_value.items()):
            name = f"at_{slot}_{value}"
            lines.append(f"static NOINLINE int {name}(const uint8_t *s, uint8_t *out, int32_t *ks, int c) {{")
            for k in ks:
                lines += _action(system, ex, k, "    ")
            lines += ["    return c;", "}", ""]
            body.append(f"    case {value + ex.offset[slot]}: if ((c = {name}(s, out, ks, c)) < 0) return -1; break;")
        body.append("    }")
        order.append([k for ks in by_value.values() for k in ks])
    for k in rest:
        body += _action(system, ex, k, "    ")
    if rest:
        order.append(rest)
    body.append("    if (ERR.kind) return -1;  /* an index out of range in a guard */")
    if not _in_order(order):
        body.append("    sort_by_action(out, ks, c);  /* action order, as the Python search lists them */")
    return lines + body + ["    return c;", "}", ""]


def _action(system: System, ex: _Expressions, k: int, indent: str) -> list[str]:
    """One guarded command, with semantics/codegen.py's order of errors: computed indices and values
    that may leave their domain are computed first (from `s`, in update order), then checked
    against their domains, then every update is written into a copy of `s`."""
    action = system.actions[k]
    inner = indent + "    "
    lines = [f"{indent}if ({ex.val(action.guard)}) {{  /* {_comment(action.call)} */"]
    writes, checks = [], []
    for j, u in enumerate(action.updates):
        var, dom = u.target.var, u.target.var.domain
        if isinstance(u.target.index, Const):
            where: int | str = ex.position(var, u.target.index)
        else:
            lines.append(f"{inner}long long i{j} = {ex.position(var, u.target.index)};")
            where = f"i{j}"
        value = ex.val(u.value)
        r = value_range(u.value)
        bounded = r is not None and dom.lo <= r[0] and r[1] <= dom.hi
        if not bounded or _indexes(u.value):
            lines.append(f"{inner}long long v{j} = {value};")
            value = f"v{j}"
        if not bounded:
            checks.append(f"{inner}if (v{j} < {dom.lo} || v{j} > {dom.hi}) "
                          f"return bound_error({k}, {ex.var_id[id(var)]}, v{j});")
        off = ex.offset[var.base]
        stored = f"(unsigned)({value} + {off})" if off else f"(unsigned)({value})"
        writes.append(inner + ex.put("n", where, stored))
    if len(lines) > 1:
        lines.append(f"{inner}if (ERR.kind) return -1;")
    lines += checks
    lines += [f"{inner}uint8_t *n = out + (size_t)c * PWIDTH;", f"{inner}memcpy(n, s, PWIDTH);"] + writes
    lines += [f"{inner}ks[c++] = {k};", f"{indent}}}"]
    return lines


def _properties(system: System, ex: _Expressions) -> list[str]:
    """holds(i, s): invariant i holds, or Sometimes i's state is met; checks(k, s, n, bad):
    the action properties step k breaks; stuck(s): a deadlock unless halted or all finished."""
    lines = ["static int holds(int i, const uint8_t *s) {", "    switch (i) {"]
    for i, p in enumerate(system.properties):
        if isinstance(p, Invariant):
            lines.append(f"    case {i}: return {ex.val(p.holds)} != 0;")
        elif isinstance(p, Sometimes):
            lines.append(f"    case {i}: return {ex.val(p.expr)} != 0;")
    lines += ["    }", "    return 1;", "}", ""]
    index = {p.name: i for i, p in enumerate(system.properties)}
    lines += ["static int checks(int k, const uint8_t *s, const uint8_t *n, int32_t *bad) {", "    int c = 0;",
              "    switch (k) {"]
    for k, action in enumerate(system.actions):
        tests = [(index[c.prop], c) for c in action.checks if c.prop in index]
        if not tests:
            continue
        lines.append(f"    case {k}:")
        for i, check in tests:
            lines.append(f"        if (!({ex.val(check.holds)})) bad[c++] = {i};")
        lines.append("        break;")
    lines += ["    }", "    return c;", "}", ""]
    every = " && ".join(f"finished({t}, s)" for t in range(len(system.finished))) or "1"
    lines += _graph_predicates(system, ex)
    return lines + ["static int stuck(const uint8_t *s) {", f"    return !halted(s) && !({every});", "}", ""]


def _graph_predicates(system: System, ex: _Expressions) -> list[str]:
    """What the graph algorithms test per state: finished(t, s), halted(s), and leads(i, goal,
    s), LeadsTo i's trigger (goal 0) or goal (1)."""
    lines = ["static int finished(int t, const uint8_t *s) {", "    switch (t) {"]
    lines += [f"    case {t}: return ({ex.val(f)}) != 0;" for t, f in enumerate(system.finished)]
    lines += ["    }", "    return 1;", "}", "",
              f"static int halted(const uint8_t *s) {{ return ({ex.val(system.halted)}) != 0; }}", "",
              "static int leads(int i, int goal, const uint8_t *s) {", "    switch (i) {"]
    for i, p in enumerate(system.properties):
        if isinstance(p, LeadsTo):
            lines.append(f"    case {i}: return goal ? ({ex.val(p.goal)}) != 0 : ({ex.val(p.trigger)}) != 0;")
    return lines + ["    }", "    return 0;", "}", ""]


def _indexes(e: Expr) -> bool:
    """Whether evaluating `e` checks a computed index (and so may fail)."""
    return any(isinstance(x, Read) and not isinstance(x.index, Const) for x in walk(e))


def _comment(text: str) -> str:
    return text.replace("*/", "* /")
