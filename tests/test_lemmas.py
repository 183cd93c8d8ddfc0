"""User invariants ([invariants]): checked by every engine, assumed by k-induction once proven,
and the counterexample to induction shown when a property is not inductive alone."""
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.engines import run
from interpcheck.checker.options import Options
from interpcheck.checker.export import spin_available
from interpcheck.checker.result import Verdict
from interpcheck.checker.smt import solver as smt_solver
from interpcheck.model.spec import load_spec

HERE = Path(__file__).parent
CRITICAL = HERE / "lemmas" / "critical_section.toml"
LOCK_HELD = '''lock_held = """(holds_lock(T1, L) or not (at(T1, 10) or at(T1, 11))) and
               (holds_lock(T2, L) or not (at(T2, 19) or at(T2, 20)))"""
'''   # as in docs/specs.md: a predicate may span lines
ENGINES = ["explicit", "bmc", "induction"] + (["spin"] if spin_available() else [])


def spec_with(tmp_path, extra: str = "", name: str = "critical_section.toml"):
    path = tmp_path / name
    path.write_text(CRITICAL.read_text() + extra)
    return str(path)


def results(path, engine: str, depth: int = 30, props=None) -> dict:
    spec = load_spec(path)
    system = spec.system(spec.designs[0])
    return {r.prop: r for r in run(system, props, Options(engine=engine, depth=depth))}


def cli(*args):
    return CliRunner().invoke(main, list(args))


def test_a_property_not_inductive_alone_reports_its_counterexample_to_induction():
    r = results(CRITICAL, "induction", depth=2, props=["one_in_work"])["one_in_work"]
    assert r.verdict == Verdict.UNKNOWN
    assert r.reason.startswith("not 2-inductive and no violation up to depth 2; counterexample to induction: ")
    assert r.reason.endswith("lock(L) leads to a state where one_in_work is false")
    assert r.cti.fails == "one_in_work is false"


def test_a_user_invariant_makes_it_inductive(tmp_path):
    r = results(spec_with(tmp_path, LOCK_HELD), "induction", depth=2, props=["one_in_work"])["one_in_work"]
    assert r.verdict == Verdict.HOLDS
    assert r.reason == "0-inductive assuming lock_held"


@pytest.mark.parametrize("engine", ENGINES)
def test_user_invariants_are_checked_by_every_engine(tmp_path, engine):
    path = spec_with(tmp_path, LOCK_HELD + 'never_works = "not at(T1, 10)"\n')
    r = results(path, engine, props=["one_in_work", "lock_held", "never_works"])
    assert r["one_in_work"].verdict == Verdict.HOLDS
    assert r["lock_held"].verdict == Verdict.HOLDS
    assert r["never_works"].verdict == Verdict.VIOLATED
    assert r["never_works"].trace.length == 1   # T1: lock(L)


def test_a_false_invariant_is_not_used_as_a_lemma(tmp_path):
    # Assumed, `never_works` would make one_in_work 0-inductive: T1 would never be in work().
    r = results(spec_with(tmp_path, 'never_works = "not at(T1, 10)"\n'), "induction", depth=2)
    assert r["never_works"].verdict == Verdict.VIOLATED
    assert r["one_in_work"].verdict == Verdict.UNKNOWN
    assert "never_works" not in r["one_in_work"].reason


def test_expectations_apply_to_user_invariants(tmp_path):
    path = spec_with(tmp_path, 'never_works = "not at(T1, 10)"\n[expect]\nnever_works = "holds"\n')
    r = cli("check", "-q", path, "-p", "never_works")
    assert r.exit_code == 12, r.output
    assert "=> the invariant `not at(T1, 10)` is false" in r.output


def test_check_prints_the_counterexample_to_induction():
    r = cli("check", "-q", str(CRITICAL), "--engine", "induction", "--depth", "2", "-p", "one_in_work")
    assert r.exit_code == 0, r.output
    block = r.output.split("counterexample to induction for one_in_work (k-induction):\n")[1]
    lines = block.splitlines()
    assert lines[0] == "  a state where one_in_work and every proven invariant hold, not known to be reachable:"
    state = " ".join(lines[1:lines.index("        (only what the step reads and writes; --full-state shows every variable)")])
    assert "lock[L] = nobody" in state and "pc.T1 = line" in state and "pc.T2 = line" in state
    assert any(re.fullmatch(r"  T[12]  lock\(L\)   \[acquired\]", line) for line in lines)
    assert "=> one_in_work is false" in block and "add an invariant under [invariants]" in block


def test_check_shows_how_induction_proved_it(tmp_path):
    r = cli("check", "-q", spec_with(tmp_path, LOCK_HELD), "--engine", "induction", "--depth", "2")
    assert r.exit_code == 0, r.output
    assert re.search(r"one_in_work +holds +holds +ok  0-inductive assuming lock_held", r.output), r.output


def test_json_carries_the_counterexample_to_induction():
    r = cli("check", "-q", str(CRITICAL), "--engine", "induction", "--depth", "2", "-p", "one_in_work",
            "--format", "json")
    item = json.loads(r.output)["results"][0]
    cti = item["counterexample_to_induction"]
    assert cti["state"]["lock[L]"] == "nobody" and cti["step"]["call"] == "lock(L)"
    assert cti["changes"]["lock[L]"] in ("T1", "T2") and cti["fails"] == "one_in_work is false"
    explicit = json.loads(cli("check", "-q", str(CRITICAL), "--format", "json").output)["results"]
    assert all(i["counterexample_to_induction"] is None for i in explicit)


@pytest.mark.parametrize("engine", ["bmc", "induction"])
def test_time_limit_reaches_the_smt_engines_and_exits_152(engine):
    r = cli("check", "-q", str(CRITICAL), "--engine", engine, "--time-limit", "0.000001", "-p", "one_in_work")
    assert r.exit_code == 152, r.output
    assert "limit reached: time-limit 1e-06s at depth 0; nothing searched yet" in r.output


@pytest.mark.parametrize("engine", ["bmc", "induction"])
def test_a_time_limit_says_how_deep_the_search_got(monkeypatch, engine):
    satisfiable = smt_solver.Solver.satisfiable
    calls = []

    def stop_after_a_while(self):
        calls.append(1)
        if len(calls) > 12:
            raise smt_solver.SolverUnknown("limit reached: time-limit 9s")
        return satisfiable(self)

    monkeypatch.setattr(smt_solver.Solver, "satisfiable", stop_after_a_while)
    r = results(CRITICAL, engine, props=["one_in_work"])["one_in_work"]
    m = re.fullmatch(r"limit reached: time-limit 9s at depth (\d+); no violation up to depth (\d+)", r.reason)
    assert m and int(m.group(2)) == int(m.group(1)) - 1 >= 1, r.reason


@pytest.mark.parametrize("entry,needle", [
    ('x = "frobnicate(main)"\n', "unknown predicate `frobnicate(main)` in an invariant"),
    ('x = "finalizing(nowhere)"\n', "unknown interpreter `nowhere` in an invariant"),
    ('x = "at(T1, 9) and"\n', "invariant `at(T1, 9) and` is not an expression"),
    ('x = "at(T1, 12)"\n', "thread T1 has no call on line 12 of the spec"),
    ('x = "at(T9, 10)"\n', "unknown thread `T9`"),
    ('x = "guards(main)"\n', "`guards(main)` is a number, not a condition"),
    ('x = 3\n', "[invariants] `x` must be a predicate string"),
    ('x = ""\n', "[invariants] `x` must be a predicate string"),
    ('"a-b" = "crashed"\n', "invariant name `a-b` must be letters, digits and _"),
    ('no_deadlock = "not crashed"\n', "invariant `no_deadlock` has the name of a property"),
    ('x = "not crashed"\n[queries]\nx = "crashed"\n', "invariant `x` has the name of a property or query"),
])
def test_a_malformed_invariant_is_one_spec_error(tmp_path, entry, needle):
    path = spec_with(tmp_path, entry)
    r = cli("check", "-q", path)
    assert r.exit_code == 150, r.output
    line = len(CRITICAL.read_text().splitlines()) + 1   # the invariant's own line
    assert r.output.startswith(f"error: {path}:{line}: "), r.output
    assert needle in r.output and "Traceback" not in r.output


def test_invariants_must_be_a_table(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("invariants = 3\n" + CRITICAL.read_text().split("[invariants]")[0])
    r = cli("check", "-q", str(path))
    assert r.exit_code == 150 and f"{path}:1: [invariants] is a table mapping a name to a predicate string" in r.output


def test_queries_can_ask_where_a_thread_is(tmp_path):
    path = spec_with(tmp_path, '[queries]\nboth_in_work = "at(T1, 10) and at(T2, 19)"\n')
    assert results(path, "explicit")["both_in_work"].verdict == Verdict.VIOLATED   # unreachable
