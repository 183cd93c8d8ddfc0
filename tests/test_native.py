"""The plain breadth-first search in C explores exactly as the Python search does.

On every bundled spec and design, and on tiny models built to hit each corner (violations
of every safety kind, witnesses, a bound overflow, an index out of range, negative
domains, the state and depth limits), the C search stores the same states in the same
order with the same parents, actions and depths, and records the same findings and stats.
`--backend auto` hands a growing search over to C with the same result.
"""
import bisect
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from tiny_models import counter, mutex, philosophers, spinner

from interpcheck.checker.cli import main
from interpcheck.checker.explicit import Limits, Options, StderrReporter, check, explore
from interpcheck.checker.explicit import native
from interpcheck.checker.explicit.native import build as build_module
from interpcheck.checker.explicit.native.build import compiler
from interpcheck.checker.result import Verdict
from interpcheck.model.ir import (Action, ActionProperty, Builder, Check, Const, Domain, Invariant, LeadsTo,
                                  NoDeadlock, NoHang, Sometimes, System, all_of, assign, ite)
from interpcheck.checker.explicit.native.cgen import TOP_PARTS, Layout, tree_shape
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.model.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.toml"))

pytestmark = [pytest.mark.skipif(compiler() is None, reason="no C compiler"),
              pytest.mark.usefixtures("own_library_cache")]


def explored(system, wanted, backend, **kw):
    """Everything a search leaves behind that a verdict, trace or stat reads."""
    ex = explore(system, compile_system(system, packed=True), wanted, backend=backend, **kw)
    assert isinstance(ex.states, native.StateArray) == (backend == "c"), "the search did not run where asked"
    return (list(ex.states), list(ex.parent), list(ex.via), list(ex.depth), ex.found, ex.witness, ex.initial,
            ex.stats.states, ex.stats.transitions, ex.stats.depth, ex.limit, ex.early)


def same_search(system, wanted=None, **kw):
    wanted = set(range(len(system.properties))) if wanted is None else wanted
    python = explored(system, wanted, "python", **kw)
    assert explored(system, wanted, "c", **kw) == python
    return python


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_the_c_search_explores_every_spec_as_the_python_search(path):
    """... and, with the state graph kept, decides hangs and liveness the same way (the
    library is the same: the graph is a run-time switch)."""
    spec = load_spec(path)
    for design in spec.designs:
        system = spec.system(design)
        wanted = {i for i, p in enumerate(system.properties) if p.name in (spec.properties(design) or [p.name])}
        for stop_early in (True, False):
            same_search(system, wanted, stop_early=stop_early)
        graph = [system.properties[i].name for i in sorted(wanted)
                 if isinstance(system.properties[i], (NoHang, LeadsTo))]
        if graph:
            same_graph_verdicts(system, graph)


def same_graph_verdicts(system, names, **options):
    """check() in C and in Python: the same verdicts, traces (lassos too) and stats."""
    def run(backend):
        results = check(system, names, Options(backend=backend, **options))
        return [(r.prop, r.verdict, r.trace, r.reason, r.stats.states, r.stats.transitions) for r in results]
    runs = []
    real = native.GraphArrays.__init__
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(native.GraphArrays, "__init__", lambda self, *a: runs.append(1) or real(self, *a))
        in_c = run("c")
    assert runs, "the graph was not kept in C"
    assert in_c == run("python")
    return in_c


@pytest.mark.parametrize("model", [lambda: mutex(3), lambda: mutex(3, broken=True), lambda: philosophers(3), spinner],
                         ids=["mutex", "broken_mutex", "philosophers", "spinner"])
def test_hangs_and_lassos_are_found_in_c_as_in_python(model):
    system = model()
    names = [p.name for p in system.properties if isinstance(p, (NoHang, LeadsTo))]
    verdicts = {prop: verdict for prop, verdict, *_ in same_graph_verdicts(system, names)}
    assert verdicts   # between them, the models hang, loop forever and hold (each with a trace or proof)


def test_the_graph_searches_in_c_find_a_hang_and_a_fair_lasso():
    results = same_graph_verdicts(spinner(), ["eventually_done", "toggles_back", "no_thread_hung"])
    assert any(trace is not None and trace.loop is not None for _, _, trace, *_ in results), results


def test_a_predicate_error_in_the_c_graph_search_leaves_it_to_python(monkeypatch):
    """An index out of range in a goal: C stops (Undecided) and Python reports the error."""
    b = Builder("bad_goal", ["T"])
    i = b.scalar("i", Domain(0, 3))
    a = b.array("a", 3, Domain(0, 1))
    b.action(Action("step", 0, i < 3, (assign(i, i + 1),), "step()"))
    b.prop(LeadsTo("reads_past_the_end", i.eq(3), a[i].eq(1), "goal reads a[3]"))
    system = b.build([i.eq(3)])
    for backend in ("python", "c"):
        with pytest.raises(IndexError, match=r"a\[3\] out of range"):
            check(system, ["reads_past_the_end"], Options(backend=backend))


def test_every_safety_kind_is_found_with_the_same_trace():
    *_, found, witness, _, states, _, _, limit, _ = same_search(mutex(3, broken=True), stop_early=False)
    system = mutex(3, broken=True)
    names = {system.properties[i].name for i in found}
    assert names == {"mutual_exclusion", "lock_was_free"}   # an invariant and an action check
    assert {system.properties[i].name for i in witness} == {"crit_reachable"}
    assert limit is None and states > 10


def test_a_deadlock_is_found_where_the_python_search_finds_it():
    *_, found, _, _, _, _, _, _, _ = same_search(philosophers(3))
    assert 0 in found   # NoDeadlock


def test_a_value_leaving_its_domain_stops_both_searches_with_the_same_message():
    *_, limit, _ = same_search(counter(limit=7, bound=5))
    assert limit.startswith("bound: x would become 6 in inc()")


def test_an_index_out_of_range_raises_the_same_error():
    b = Builder("indexing", ["T"])
    i = b.scalar("i", Domain(0, 3))
    a = b.array("a", 3, Domain(0, 1))
    b.action(Action("step", 0, a[i].eq(0), (assign(i, i + 1),), "step()"))
    b.prop(NoDeadlock())
    system = b.build([i.eq(3)])
    for backend in ("python", "c"):
        with pytest.raises(IndexError, match=r"a\[3\] out of range"):
            explored(system, {0}, backend)


def test_a_clean_search_follows_one_that_stopped_on_an_error():
    system = counter(limit=7, bound=5)
    same_search(system)
    *_, limit, _ = same_search(system, limits=Limits(max_depth=3))
    assert limit == "max-depth 3"


def test_arithmetic_is_64_bit_and_wider_models_stay_in_python():
    b = Builder("products", ["T"])
    x = b.scalar("x", Domain(0, 255), init=255)
    b.action(Action("down", 0, x > 0, (assign(x, x - 1),), "down()"))
    b.prop(Invariant("fourth_power_positive", (x * x * x * x > 0) | x.eq(0)))   # 255^4 > 2^31
    b.prop(Invariant("eighth_power_positive", (x * x * x * x * x * x * x * x > 0) | x.eq(0)))
    wide = b.build([x.eq(0)])
    results = check(wide, None, Options(symmetry="off", por="off", backend="c"))
    assert all("C search not used: an expression's values could exceed 64 bits" in r.reason for r in results)
    assert all(r.verdict is Verdict.HOLDS for r in results)
    narrow = Builder("products", ["T"])
    y = narrow.scalar("x", Domain(0, 255), init=255)
    narrow.action(Action("down", 0, y > 0, (assign(y, y - 1),), "down()"))
    narrow.prop(Invariant("fourth_power_positive", (y * y * y * y > 0) | y.eq(0)))
    *_, found, _, _, states, _, _, _, _ = same_search(narrow.build([y.eq(0)]))
    assert not found and states == 256


def test_an_action_with_more_checks_than_properties_records_each_once():
    b = Builder("checks", ["T"])
    x = b.scalar("x", Domain(0, 3))
    b.action(Action("inc", 0, x < 3, (assign(x, x + 1),), "inc()",
                    checks=tuple(Check("small_steps", x.prime() < k) for k in (1, 2, 3, 2, 1))))
    b.prop(ActionProperty("small_steps"))
    *_, found, _, _, _, _, _, _, _ = same_search(b.build([x.eq(3)]))
    assert 0 in found


def test_only_wanted_action_checks_are_evaluated():
    b = Builder("unwanted", ["T"])
    x = b.scalar("x", Domain(0, 3))
    a = b.array("a", 2, Domain(0, 1))
    b.action(Action("inc", 0, x < 3, (assign(x, x + 1),), "inc()", checks=(Check("indexing", a[x].eq(0)),)))
    b.prop(ActionProperty("indexing"))      # a[2] is out of range: only a search that checks it fails
    b.prop(NoDeadlock())
    system = b.build([x.eq(3)])
    same_search(system, {1})
    for backend in ("python", "c"):
        with pytest.raises(IndexError, match=r"a\[2\] out of range"):
            explored(system, {0, 1}, backend)


def test_negative_domains_are_stored_with_an_offset():
    b = Builder("signed", ["T"])
    x = b.scalar("x", Domain(-3, 3), init=-3)
    y = b.array("y", 2, Domain(-1, 1), init=-1)
    j = b.scalar("j", Domain(0, 1))
    b.action(Action("up", 0, x < 3, (assign(x, x + 1), assign(y[j], 0 - y[j]), assign(j, 1 - j)), "up()"))
    b.action(Action("flip", 0, x.eq(0), (assign(y[1], 1),), "flip()"))
    b.prop(Invariant("x_not_two", x.ne(2)))
    b.prop(Sometimes("y1_set", y[1].eq(1)))
    b.prop(NoDeadlock())
    *_, found, witness, _, states, _, _, _, _ = same_search(b.build([x.eq(3)]), stop_early=False)
    assert 0 in found and 1 in witness and states > 5


def bit_widths():
    """Slots of every width from 0 to 8 bits, most of them across a byte boundary, read and
    written at constant and computed indices, and read primed in an action check."""
    b = Builder("bits", ["T"])
    z = b.scalar("z", Domain(0, 0))                                    # 0 bits
    a = b.array("a", 3, Domain(0, 6))                                  # 3 bits each, from bit 0
    s = b.array("s", 3, Domain(-4, 3), init=-3)                        # 3 bits, offset 4
    c = b.scalar("c", Domain(0, 255))                                  # 8 bits at bit 18
    f = b.array("f", 5, Domain(0, 1))                                  # 1 bit each
    w = b.scalar("w", Domain(0, 31), init=1)                           # 5 bits
    i = b.scalar("i", Domain(0, 2))                                    # 2 bits
    b.action(Action("flip", 0, a[i] <= 6, (assign(a[i], 6 - a[i]), assign(s[i], 0 - s[i])), "flip()",
                    checks=(Check("flipped", a[i].prime().ne(a[i]) & z.eq(0)),)))
    b.action(Action("next", 0, i < 2, (assign(i, i + 1), assign(f[i + 2], 1 - f[i + 2])), "next()"))
    b.action(Action("wrap", 0, i.eq(2), (assign(i, 0), assign(c, 255 - c), assign(f[4], 1 - f[4]),
                                         assign(w, ite(w < 16, w * 2, 1))), "wrap()"))
    b.prop(Invariant("c_extreme", c.eq(0) | c.eq(255)))
    b.prop(ActionProperty("flipped"))
    b.prop(Sometimes("all_set", a[0].eq(6) & a[1].eq(6) & a[2].eq(6) & s[2].eq(3) & f[4].eq(1) & w.eq(16)))
    b.prop(NoDeadlock())
    return b.build([c.eq(255) & a[0].eq(6) & a[1].eq(6) & a[2].eq(6)])


def test_the_c_records_pack_each_slot_in_the_bits_its_domain_needs():
    system = bit_widths()
    layout = Layout(system, compile_system(system, packed=True).packing)
    widths = [m.bit_length() for m in layout.mask]
    assert widths == [0] + [3] * 3 + [3] * 3 + [8] + [1] * 5 + [5, 2]
    assert layout.at[:9] == [0, 0, 3, 6, 9, 12, 15, 18, 26] and layout.bytes == (sum(widths) + 7) // 8
    *_, found, witness, _, states, _, _, limit, _ = same_search(system, stop_early=False)
    assert limit is None and 2 in witness and states > 100


@pytest.mark.parametrize("store, most", [("tree", 40), ("bits", None)])
def test_a_large_search_stores_small_records_in_c(store, most, monkeypatch):
    """The guard model's 100-odd slots take a third of a byte each on average: the bit-packed
    store, with its parents, actions and table, needs far less than a byte per slot per
    state; the tree store (the default) 16 bytes of record and its share of the tree's tables."""
    monkeypatch.setenv(native.STORE_VARIABLE, store)
    spec = load_spec(ROOT / "benchmarks" / "guard_threads.toml")
    system = spec.system("final")
    ex = explore(system, compile_system(system, packed=True), set(), backend="c")
    assert ex.stats.states > 5000 and ex.stats.bytes_per_state < (most or system.width / 2 + 24), \
        (ex.stats.bytes_per_state, system.width)


def wide_counters(n: int = 24) -> System:
    """Two threads each counting through n 3-bit slots of their own, one slot at a time: 18
    bytes of state and no declared thread owners (a System built by hand), so the tree's top
    parts cut across the chunks."""
    b = Builder("wide", ["A", "B"])
    cells = b.array("cells", 2 * n, Domain(0, 7))
    at = b.array("at", 2, Domain(0, n))
    for t in range(2):
        i = at[t]
        cell = cells[t * n + i]
        b.action(Action(f"count{t}", t, (i < n) & (cell < 7), (assign(cell, cell + 1),), f"count{t}()"))
        b.action(Action(f"next{t}", t, (i < n) & cells[t * n + i].eq(7), (assign(at[t], i + 1),), f"next{t}()"))
    b.prop(Invariant("not_both_done", at[0].ne(n) | at[1].ne(n)))
    return b.build([at[0].eq(n), at[1].eq(n)])


STORED = {"bits": bit_widths, "wide": wide_counters, "mutex": lambda: mutex(3, broken=True),
          "philosophers": lambda: philosophers(3),
          "bound": lambda: counter(limit=7, bound=5),
          **{name: (lambda name=name: load_spec(ROOT / "benchmarks" / f"{name}.toml").system("final"))
             for name in ("guard_threads", "two_interpreters")}}


@pytest.mark.parametrize("name, store", [(name, "bits") for name in STORED] + [("wide", "tree")])
def test_each_c_store_explores_as_the_python_search(name, store, monkeypatch):
    """INTERPCHECK_C_STORE=bits (the state's bits) and tree (the default: its tree's top):
    the same search. The tree runs in every other test of the C search too; here on a model
    without thread owners (the tiny models are at most 16 bytes: they keep their bits)."""
    monkeypatch.setenv(native.STORE_VARIABLE, store)
    system = STORED[name]()
    for stop_early in (True, False):
        same_search(system, stop_early=stop_early)
    same_search(system, limits=Limits(max_states=40))


def random_wide_system(rng: random.Random, seed: int) -> System:
    """4-5 threads, each a program counter over straight-line steps that write its own
    cells, read and write shared cells and block on them, with its slots declared its own
    (half the time) or not: 17-60 bytes of state, so the tree store's paths all run."""
    n = rng.randint(4, 5)
    b = Builder(f"wide-{seed}", [f"T{t}" for t in range(n)])
    shared = b.array("shared", rng.randint(2, 12), Domain(0, 3))
    cells = [b.array(f"cells{t}", rng.randint(10, 20), Domain(0, 7)) for t in range(n)]
    lengths = [rng.randint(2, 4) for _ in range(n)]
    pcs = [b.scalar(f"pc{t}", Domain(0, lengths[t])) for t in range(n)]
    for t in range(n):
        for at in range(lengths[t]):
            for alt in range(rng.choice([1, 2])):
                x, mine = rng.randrange(shared.length), rng.randrange(cells[t].length)
                guard, updates = pcs[t].eq(at), [assign(pcs[t], at + 1)]
                kind = rng.choice(["own", "copy", "write", "block"])
                if kind == "own":
                    updates.append(assign(cells[t][mine], rng.randint(0, 7)))
                elif kind == "copy":
                    updates.append(assign(cells[t][mine], shared[x] + rng.randint(0, 4)))
                elif kind == "write":
                    updates.append(assign(shared[x], rng.randint(0, 3)))
                else:
                    guard = guard & shared[x].ne(rng.randint(0, 3))
                b.action(Action(f"{kind}{at}.{alt}", t, guard, tuple(updates), f"{kind}()"))
    b.prop(Invariant("shared_small", shared[0] < 3))
    b.prop(Sometimes("all_sevens", all_of(*[c[0].eq(7) for c in cells])))
    b.prop(NoDeadlock())
    if rng.random() < 0.5:
        b.facts.thread_slots = tuple((pcs[t].var.base, *range(cells[t].base, cells[t].base + cells[t].length))
                                     for t in range(n))
    return b.build([pcs[t].eq(lengths[t]) for t in range(n)])


@pytest.mark.parametrize("store", native.STORES)
def test_each_c_store_explores_random_wide_programs_as_the_python_search(store, monkeypatch):
    """12 random programs of 17-60 bytes a state: whole graphs, C against Python."""
    monkeypatch.setenv(native.STORE_VARIABLE, store)
    sizes = []
    for seed in range(12):
        system = random_wide_system(random.Random(seed), seed)
        sizes.append(Layout(system, compile_system(system, packed=True).packing).bytes)
        *_, states, _, _, _, _ = same_search(system, stop_early=False)
        assert states > 1
    assert min(sizes) > 16, sizes


def test_without_thread_owners_the_tree_top_cuts_across_the_chunks():
    system = wide_counters()
    layout = Layout(system, compile_system(system, packed=True).packing, chunked=True)
    kids, top = tree_shape(layout)
    assert layout.blocks == [[0, 1, 2]] and len(top) == 3 and all(kids[t - 3][1] == 3 + len(kids) for t in top)
    ex = explore(system, compile_system(system, packed=True), {0}, backend="c")
    assert 0 in ex.found and ex.stats.states > 20_000


def test_a_thread_owning_only_zero_bit_slots_gets_no_block():
    """Its block would be empty and share the next block's chunk: it is dropped, and every
    chunk stays under exactly one node."""
    b = Builder("zeros", ["T", "U"])
    x, z, y = b.scalar("x", Domain(0, 255)), b.scalar("z", Domain(0, 0)), b.array("y", 9, Domain(0, 255))
    b.action(Action("inc", 0, x < 3, (assign(x, x + 1),), "inc()"))
    b.facts.thread_slots = ((z.var.base,), tuple(range(y.base, y.base + y.length)))
    system = b.build([x.eq(3), Const(1)])
    layout = Layout(system, compile_system(system, packed=True).packing, chunked=True)
    assert len(layout.blocks) == 2
    kids, top = tree_shape(layout)
    none = len(layout.chunks) - 1 + len(kids)
    assert sorted([k for pair in kids for k in pair if k != none] + top) == list(range(none))
    same_search(system, stop_early=False)


def test_the_tree_store_chunks_each_thread_apart_and_covers_every_chunk_once():
    system = load_spec(ROOT / "benchmarks" / "guard_threads.toml").system("final")
    layout = Layout(system, compile_system(system, packed=True).packing, chunked=True)
    assert len(layout.chunks) > 3 and all(b - a <= 8 for a, b in zip(layout.chunks, layout.chunks[1:]))
    for at, mask in zip(layout.at, layout.mask):   # no slot crosses a chunk's end
        end = min(8 * c for c in layout.chunks if 8 * c > at) if mask else at
        assert at + mask.bit_length() <= end
    owned = system.facts.thread_slots
    assert len(owned) == len(system.threads) and len(layout.blocks) == 1 + len(owned)   # shared, then per thread
    for block, slots in zip(layout.blocks[1:], owned):   # a thread's slots fill its block's chunks
        chunks = {bisect.bisect_right(layout.chunks, layout.at[i] // 8) - 1 for i in slots if layout.mask[i]}
        assert chunks == set(block)
    group = system.symmetry.groups[0]
    assert [owned[t] for t in group.threads] == list(group.slots)   # the same owners symmetry uses
    kids, top = tree_shape(layout)
    n_chunks = len(layout.chunks) - 1
    none = n_chunks + len(kids)
    assert all(k < n_chunks + n or k == none for n, pair in enumerate(kids) for k in pair)   # kids first
    used = sorted([k for pair in kids for k in pair if k != none] + top)
    assert used == list(range(n_chunks + len(kids)))   # every chunk and node is under exactly one node
    assert len(top) == min(TOP_PARTS, len(layout.blocks))


def test_an_unknown_c_store_keeps_the_search_in_python_and_says_why(monkeypatch):
    monkeypatch.setenv(native.STORE_VARIABLE, "compact")
    result = check(counter(), ["below_three"], Options(backend="c"))[0]
    assert "INTERPCHECK_C_STORE='compact' names no C store (set it to one of: bits, tree)" in result.reason


@pytest.mark.parametrize("limits", [Limits(max_states=40), Limits(max_depth=3)], ids=["max-states", "max-depth"])
def test_the_state_and_depth_limits_stop_both_searches_at_the_same_state(limits):
    spec = load_spec(ROOT / "benchmarks" / "guard_threads.toml")
    system = spec.system("final")
    *_, limit, _ = same_search(system, limits=limits)
    assert limit == ("max-states 40" if limits.max_states else "max-depth 3")


def test_auto_hands_a_growing_search_over_to_c_with_the_same_results(monkeypatch):
    spec = load_spec(ROOT / "benchmarks" / "guard_threads.toml")
    system = spec.system("final")
    names, off = spec.properties("final"), Options(symmetry="off", por="off")
    python = check(system, names, Options(symmetry="off", por="off", backend="python"))
    native.build_for(system, compile_system(system, packed=True)).library()   # cached: ready at once
    runs = []
    real = native.breadth_first
    monkeypatch.setattr(native, "breadth_first", lambda *a, **k: runs.append(1) or real(*a, **k))
    monkeypatch.setattr(native, "HANDOVER_STATES", 1000)
    auto = check(system, names, off)
    assert runs and python[0].stats.states > 2048, "the search was not handed over"
    assert [(r.prop, r.verdict, r.trace, r.stats.states, r.stats.transitions) for r in auto] == \
        [(r.prop, r.verdict, r.trace, r.stats.states, r.stats.transitions) for r in python]


def test_progress_says_continuing_in_c_and_never_goes_backwards(monkeypatch, capsys):
    spec = load_spec(ROOT / "benchmarks" / "guard_threads.toml")
    system = spec.system("final")
    native.build_for(system, compile_system(system, packed=True)).library()   # cached: ready at once
    monkeypatch.setattr(native, "HANDOVER_STATES", 1000)
    check(system, spec.properties("final"), Options(symmetry="off", por="off"), StderrReporter(after=0, every=0))
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith("continuing in C") for line in lines), lines
    counts = [tuple(int(n.replace(",", "")) for n in re.findall(r"([\d,]+) (?:distinct states|transitions)", line))
              for line in lines if "distinct states" in line]
    assert len(counts) > 2 and counts == sorted(counts) and all(
        a[1] <= b[1] for a, b in zip(counts, counts[1:])), counts


def test_a_search_that_cannot_run_in_c_says_why(tmp_path):
    results = check(mutex(2), ["mutual_exclusion"], Options(backend="c", fingerprint=True))
    assert all("C search not used: it runs breadth-first without fingerprints, and fingerprints is on" in r.reason
               for r in results), results
    assert {r.prop: r.verdict for r in results}["mutual_exclusion"] is Verdict.HOLDS


def test_a_compiler_failure_leaves_the_search_to_python(monkeypatch, capsys):
    monkeypatch.setattr(build_module, "FLAGS", ("-O1", "-shared", "-fPIC", "--no-such-flag"))
    system = mutex(3, broken=True)
    wanted = set(range(len(system.properties)))
    ex = explore(system, compile_system(system, packed=True), wanted, backend="c")
    assert not isinstance(ex.states, native.StateArray)
    assert "the C search could not be built" in capsys.readouterr().err
    assert (list(ex.states), ex.found, ex.witness) == explored(system, wanted, "python")[:1] + \
        explored(system, wanted, "python")[4:6]


def test_the_cli_runs_the_c_search_and_keeps_the_memory_limit(monkeypatch):
    spec = str(ROOT / "benchmarks" / "guard_threads.toml")
    cmd = ["check", "-q", "--no-symmetry", "--no-por", "--backend", "c"]
    runs = []
    real = native.breadth_first
    monkeypatch.setattr(native, "breadth_first", lambda *a, **k: runs.append(1) or real(*a, **k))
    ok = CliRunner().invoke(main, cmd + [spec])
    assert ok.exit_code == 0 and "4 as expected" in ok.output and runs, ok.output
    over = CliRunner().invoke(main, cmd + ["--max-memory", "1", spec])
    assert over.exit_code == 152 and "max-memory 1 MiB" in over.output, over.output


@pytest.mark.parametrize("limits", [Limits(max_states=3000), Limits(max_depth=10)], ids=["max-states", "max-depth"])
def test_a_graph_search_stopped_by_a_limit_gives_the_same_unknowns_in_c(limits):
    """Hangs and liveness on a partial graph stay unknown; what was found stays found."""
    system = load_spec(ROOT / "benchmarks" / "guard_threads.toml").system("final")
    names = [p.name for p in system.properties]
    results = same_graph_verdicts(system, names, limits=limits)
    assert any(verdict is Verdict.UNKNOWN and "limit reached" in reason for _, verdict, _, reason, *_ in results)
