"""The earlier PEP 788 revisions and the review alternatives: each design's key verdicts,
one test per behaviour, on the bundled specs (counterexamples/verdicts.json pins them all)."""
from pathlib import Path

import pytest

from interpcheck.checker.engines import run
from interpcheck.checker.options import Options
from interpcheck.model.designs import DESIGNS, for_cpython, resolve
from interpcheck.model.spec import load_spec

SPECS = Path(__file__).resolve().parent.parent / "specs"


def verdict(spec: str, design: str, prop: str) -> tuple[str, int | None]:
    system = load_spec(SPECS / f"{spec}.toml").system(design)
    [r] = run(system, [prop], Options())
    return r.verdict.value, (r.trace.length if r.trace is not None and r.verdict.value == "violated" else None)


def test_r0_hold_for_a_callback_that_never_runs_hangs_finalization():
    assert verdict("r0_hold_in_callback_never_run", "r0", "finalization_completes")[0] == "violated"


def test_r0_lookup_in_the_callback_lets_finalization_complete():
    assert verdict("r0_lookup_in_callback", "r0", "finalization_completes") == ("holds", None)
    assert verdict("r0_lookup_in_callback", "r0", "no_use_after_free") == ("holds", None)


def test_r0_non_daemon_thread_is_waited_for_and_a_daemon_one_is_not():
    assert verdict("r0_non_daemon_thread", "r0", "no_attach_after_finalize") == ("holds", None)
    assert verdict("r0_daemon_thread", "r0", "no_attach_after_finalize") == ("violated", 13)


def test_r0_releasing_the_reference_ensure_stole_is_fatal():
    assert verdict("r0_release_stolen_reference", "r0", "no_fatal_error") == ("violated", 5)


def test_r0_hold_before_passing_a_subinterpreter_prevents_the_use_after_free():
    assert verdict("r0_s8_raw_pointer", "r0", "no_use_after_free") == ("violated", 9)
    assert verdict("r0_s8_hold_before_passing", "r0", "no_use_after_free") == ("holds", None)


@pytest.mark.parametrize("design", ["r0", "r1"])
def test_release_void_with_an_empty_implicit_stack_is_fatal(design):
    assert verdict("r1_release_without_ensure", design, "no_fatal_error") == ("violated", 2)


def test_r1_implicit_stack_restores_in_order_and_r1b_tokens_can_restore_out_of_order():
    assert verdict("r1_nested_release", "r1", "release_restores") == ("holds", None)
    assert verdict("r1b_lifo_release", "r1b", "release_restores") == ("holds", None)
    assert verdict("r1b_non_lifo_release", "r1b", "release_restores") == ("violated", 14)
    assert verdict("r1b_non_lifo_release", "r1b", "no_fatal_error") == ("violated", 15)


def test_r1_ensure_with_a_subinterpreter_reference_attaches_the_subinterpreter():
    assert verdict("r1_right_interpreter", "r1", "right_interpreter") == ("holds", None)


def test_atomic_promotion_is_safe_and_check_then_increment_is_not():
    spec = "r1_weakref_promote_during_finalize"
    assert verdict(spec, "r1", "no_use_after_free") == ("holds", None)
    assert verdict(spec, "r1", "no_attach_after_finalize") == ("holds", None)
    assert verdict(spec, "r1_racy_promote", "no_use_after_free") == ("violated", 9)
    assert verdict(spec, "r1_racy_promote", "no_attach_after_finalize") == ("violated", 10)


def test_destroy_at_zero_finalizes_on_the_thread_of_the_last_close():
    assert verdict("r1_last_close_on_foreign_thread", "r1", "no_call_without_thread_state") == ("holds", None)
    assert verdict("r1_last_close_on_foreign_thread", "destroy_at_zero",
                   "no_call_without_thread_state") == ("violated", 11)
    assert verdict("r1_last_close_under_other_interpreter", "destroy_at_zero", "right_interpreter") == ("violated", 7)


def test_destroy_at_zero_without_late_references_finalizes_like_r1():
    for prop in ("no_call_without_thread_state", "finalization_completes", "no_use_after_free"):
        assert verdict("r1_refs_closed_before_finalize", "destroy_at_zero", prop) == ("holds", None)


def test_destroy_at_zero_never_blocks_the_finalizer_but_a_leaked_reference_keeps_the_interpreter():
    assert verdict("r1_ref_never_closed", "r1", "no_deadlock")[0] == "violated"
    assert verdict("r1_ref_never_closed", "destroy_at_zero", "no_deadlock") == ("holds", None)
    assert verdict("r1_ref_never_closed", "destroy_at_zero", "finalization_completes")[0] == "violated"


def test_r3b_pseudo_code_reattaches_the_wrong_interpreter_and_final_does_not():
    assert verdict("r3b_wrong_interpreter_reattach", "r3b", "right_interpreter") == ("violated", 5)
    assert verdict("r3b_wrong_interpreter_reattach", "final", "right_interpreter") == ("holds", None)


def test_r3b_release_of_sentinel_deletes_a_thread_state_ensure_did_not_create():
    assert verdict("r3b_sentinel_release_deletes_borrowed_tstate", "r3b", "no_use_after_free") == ("violated", 9)
    assert verdict("r3b_sentinel_release_deletes_borrowed_tstate", "final", "no_use_after_free") == ("holds", None)


def test_r3b_same_interpreter_ensure_keeps_the_callers_thread_state():
    assert verdict("r3b_same_interpreter_ensure", "r3b", "release_restores") == ("holds", None)


@pytest.mark.parametrize("name", ["r0", "r1", "r1b", "r3b", "r1_racy_promote", "destroy_at_zero"])
def test_every_function_of_a_revision_cites_its_source(name):
    for api in DESIGNS[name].api.values():
        assert api.cite, f"{name}.{api.name} cites nothing"
    own = [a for a in DESIGNS[name].api.values() if a.name not in DESIGNS["legacy"].api]
    assert own and all("PEP@" in a.cite or "pystate.c" in a.cite or "PEP 788" in a.cite for a in own)


def test_no_cite_names_internal_notes():
    # cites are shown by `interpcheck list --functions D`: public sources only
    for design in DESIGNS.values():
        assert "SEMANTICS" not in design.source and "§" not in design.source, f"{design.name}: {design.source}"
        for api in design.api.values():
            assert "SEMANTICS" not in api.cite and "§" not in api.cite, f"{design.name}.{api.name}: {api.cite}"


def test_designs_without_references_declare_no_reference_slots():
    system = load_spec(SPECS / "s13_non_lifo_release.toml").system("final")
    names = {v.name for v in system.variables}
    assert "ref_status" not in names and "ref_interp" not in names


@pytest.mark.parametrize("version, design", [
    ("3.11", "cpython_3_11"), ("3.11.7", "cpython_3_11"), ("3.12.1", "cpython_3_12"), ("3.13.0", "cpython_3_13"),
    ("3.13.7", "cpython_3_13"), ("3.13.8", "cpython_3_13_8"), ("3.13", "cpython_3_13_8"), ("3.14", "cpython_3_14"),
    ("3.15.0", "final"), ("3.10", None), ("3.x", None)])
def test_a_cpython_release_selects_the_design_that_models_it(version, design):
    assert for_cpython(version) == design


def test_old_design_names_are_aliases_of_the_release_designs():
    assert DESIGNS["legacy"] is DESIGNS["cpython_3_14"] and DESIGNS["legacy_313"] is DESIGNS["cpython_3_13"]
    assert "legacy" not in list(DESIGNS) and resolve("legacy_313") == "cpython_3_13"
    assert load_spec(SPECS / "s8_dangling_interpreter_pointer.toml").designs == ("cpython_3_14",)


def test_gilstate_inside_allow_threads_is_no_use_after_free_on_any_release():
    for design in ("cpython_3_11", "cpython_3_12", "cpython_3_13", "cpython_3_13_8", "cpython_3_14", "final"):
        assert verdict("gilstate_inside_allow_threads", design, "no_use_after_free") == ("holds", None)


def test_ensure_after_finalization_is_a_null_deref_up_to_3_14():
    # the hang (gh-131185, PR #132510) is main's: v3.14.7 Python/pystate.c:2897 has no check
    assert verdict("gilstate_ensure_after_finalize", "cpython_3_13", "no_null_deref")[0] == "violated"
    assert verdict("gilstate_ensure_after_finalize", "cpython_3_13", "no_use_after_free") == ("holds", None)
    assert verdict("gilstate_ensure_after_finalize", "cpython_3_14", "no_null_deref")[0] == "violated"
    assert verdict("gilstate_ensure_after_finalize", "cpython_3_14", "no_thread_hung") == ("holds", None)


def test_a_hung_thread_after_main_returned_is_no_deadlock():
    assert verdict("s1_isfinalizing_toctou", "cpython_3_14", "no_deadlock") == ("holds", None)
    assert verdict("s1_isfinalizing_toctou", "cpython_3_14", "no_thread_hung")[0] == "violated"


def test_attach_during_finalization_exits_up_to_3_13_7_and_hangs_from_3_13_8():
    assert verdict("daemon_thread_reattach", "cpython_3_13", "no_thread_hung") == ("holds", None)
    assert verdict("daemon_thread_reattach", "cpython_3_13_8", "no_thread_hung")[0] == "violated"


def test_r3b_ensure_keeps_the_stale_check_on_its_gilstate_reuse():
    assert verdict("r3b_isfinalizing_toctou", "r3b", "no_stale_check")[0] == "violated"
    assert verdict("r3b_isfinalizing_toctou", "final", "no_stale_check") == ("holds", None)


def test_clearing_another_threads_state_at_finalization_is_a_use_after_free_up_to_3_13_only():
    assert verdict("tstate_clear_at_finalization", "cpython_3_13_8", "no_use_after_free")[0] == "violated"
    assert verdict("tstate_clear_at_finalization", "cpython_3_14", "no_use_after_free") == ("holds", None)


def test_clear_then_delete_holds_and_clear_after_delete_is_a_use_after_free():
    assert verdict("tstate_clear_then_delete", "cpython_3_11", "no_use_after_free") == ("holds", None)
    assert verdict("tstate_clear_after_delete", "cpython_3_11", "no_use_after_free")[0] == "violated"


def test_a_pending_call_from_another_thread_waits_for_a_gil_switch_up_to_3_12():
    # 3.13 runs it at main's first run_python (6 steps); 3.12 only after main took the GIL again
    assert verdict("pending_call_lock_deadlock", "cpython_3_13", "no_deadlock") == ("violated", 6)
    assert verdict("pending_call_lock_deadlock", "cpython_3_12", "no_deadlock") == ("violated", 9)
    assert verdict("pending_call_lock_deadlock", "cpython_3_12", "completes")[0] == "holds"


def test_a_c_atexit_function_runs_without_a_thread_state():
    assert verdict("c_atexit_calls_python", "final", "no_call_without_thread_state")[0] == "violated"
    assert verdict("c_atexit_plain_c", "final", "completes")[0] == "holds"


def test_new_interpreter_from_config_own_gil_does_not_block_main_and_shared_gil_does():
    assert verdict("new_interpreter_from_config_own_gil", "cpython_3_12", "no_deadlock") == ("holds", None)
    assert verdict("new_interpreter_from_config_shared_gil", "cpython_3_12", "no_deadlock")[0] == "violated"
    assert "Py_NewInterpreterFromConfig" not in DESIGNS["cpython_3_11"].api
    assert "Py_NewInterpreterFromConfig" in DESIGNS["cpython_3_12"].api


def test_final_runs_a_call_queued_during_the_guard_wait_only_because_it_loops_back():
    # PR #149116: after the guard wait the finalizer goes back through the pre-finalization
    # calls; with the CAS retried alone, the pending call would never run.
    from dataclasses import replace
    from interpcheck.model.programs.compile import build_system
    spec = load_spec(SPECS / "pep788_pending_call_during_guard_wait.toml")
    prop = "call_queued_after_atexit_runs"
    assert verdict("pep788_pending_call_during_guard_wait", "final", prop) == ("holds", None)
    retry_only = build_system(spec.scenario, replace(DESIGNS["final"], options={}))
    assert run(retry_only, [prop], Options())[0].verdict.value == "violated"
