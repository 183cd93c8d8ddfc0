"""The CLI contract: exit codes, the JSON schema, bad-input messages, golden text output."""
import json
import re
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main

ROOT = Path(__file__).resolve().parent.parent
S1 = str(ROOT / "specs" / "s1_isfinalizing_toctou.toml")
GOLDEN = Path(__file__).parent / "golden"


def unclocked(text):
    """The output with its wall-clock seconds masked: they are the one part a run may change."""
    return re.sub(r"\b\d+\.\d+s\b", "#.##s", text)


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def edit(text, old, new):
    """text.replace(old, new) that fails when `old` is not there: a test cannot silently test GOOD."""
    assert old in text, old
    return text.replace(old, new)


def write(tmp_path, text, name="spec.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


GOOD = '''design = "legacy"
[[thread]]
name = "T1"
program = """
st = PyGILState_Ensure()
run_python()
PyGILState_Release(st)
"""
[expect]
no_fatal_error = "holds"
'''


def test_all_as_expected_exits_0():
    r = cli("check", "-q", S1)
    assert r.exit_code == 0, r.output
    assert "35 verdicts: 35 as expected" in r.output


def test_text_output_matches_golden():
    r = cli("check", "-q", S1, "--design", "legacy", "-p", "no_stale_check")
    path = GOLDEN / "s1_no_stale_check.txt"
    if os.environ.get("INTERPCHECK_UPDATE_GOLDEN"):
        path.write_text(unclocked(r.output.replace(str(ROOT) + "/", "")))
    assert unclocked(r.output.replace(str(ROOT) + "/", "")) == path.read_text()


def test_output_is_deterministic():
    assert unclocked(cli("check", "-q", S1).output) == unclocked(cli("check", "-q", S1).output)


def test_json_schema():
    r = cli("check", "-q", S1, "--format", "json")
    data = json.loads(r.output)
    assert set(data) == {"results"}
    for item in data["results"]:
        assert {"spec", "design", "property", "verdict", "expected", "engine", "trace_length", "trace",
                "stats"} <= set(item)
        assert item["verdict"] in ("holds", "violated", "unknown")
        assert item["status"] in ("as expected", "unexpected", "no verdict")
        assert set(item["stats"]) >= {"states", "transitions", "depth", "seconds"}
        if item["trace"] is not None:
            assert len(item["trace"]) == item["trace_length"]
            assert all(set(step) == {"thread", "call", "result"} for step in item["trace"])
    stale = next(i for i in data["results"] if i["property"] == "no_stale_check" and i["design"] == "cpython_3_14")
    assert stale["trace"][1] == {"thread": "T1", "call": "Py_IsFinalizing()", "result": "0"}


def test_unexpected_safety_violation_exits_12(tmp_path):
    spec = write(tmp_path, edit(GOOD, "PyGILState_Release(st)\n", "PyGILState_Release(st)\nPyGILState_Release(st)\n"))
    assert cli("check", "-q", spec).exit_code == 12


def test_expected_violation_not_found_exits_12(tmp_path):
    spec = write(tmp_path, edit(GOOD, '"holds"', '"violated"'))
    assert cli("check", "-q", spec).exit_code == 12


def test_unexpected_deadlock_exits_11(tmp_path):
    text = edit(GOOD, 'no_fatal_error = "holds"', 'no_deadlock = "holds"')
    text = edit(text, 'program = """', 'program = """\nlock(L)\nlock(L)')
    spec = write(tmp_path, edit(text, 'design = "legacy"', 'design = "legacy"\nlocks = ["L"]'))
    assert cli("check", "-q", spec).exit_code == 11


@pytest.mark.parametrize("prop", ["finalization_completes", "no_thread_hung"])
def test_unexpected_liveness_violation_exits_13(tmp_path, prop):
    """s4 expects finalization to hang; expecting it to complete makes the violation unexpected."""
    text = (ROOT / "specs" / "s4_guard_never_closed.toml").read_text()
    spec = write(tmp_path, edit(text, f'{prop} = "violated"', f'{prop} = "holds"'))
    r = cli("check", "-q", spec, "-p", prop)
    assert r.exit_code == 13, r.output
    assert f"{prop}" in r.output and "UNEXPECTED" in r.output


def test_limit_exits_152_and_says_so(tmp_path):
    r = cli("check", "-q", str(ROOT / "specs" / "s3_guard_protects_lock.toml"), "--max-states", "10")
    assert r.exit_code == 152
    assert "limit reached: max-states 10" in r.output


@pytest.mark.parametrize("text,needle,line", [
    ('design = "nope"\n', "unknown design `nope`", 1),
    ('design = "legacy"\n[[thread]]\nname = "T"\nprogram = """\nFoo()\n"""\n', "`Foo` is not a function", 5),
    ('design = "legacy"\n[[thread]]\nname = "T"\nprogram = """\nPyGILState_Release()\n"""\n',
     "takes 1 argument", 5),
    ('design = "final"\n[[thread]]\nname = "T"\nprogram = """\nPyThreadState_Release(tok)\n"""\n',
     "`tok` is used before it is bound", 5),
    ('design = "legacy"\n[[thread\n', "not valid TOML", 2),
    ('design = "legacy"\nbounds = { nesting = 99 }\n[[thread]]\nname = "T"\nprogram = "work()"\n',
     "impossible", 2),
    ('design = "final"\n[[thread]]\nname = "T"\ntstate = "main"\nprogram = """\nv = PyInterpreterView_FromCurrent()\n'
     'tok = PyThreadState_Ensure(v)\n"""\n', "must be a guard, but it holds a view", 7),
    ('design = "legacy"\n[[thread]]\nname = "T"\nprogram = """\nwork()\n"""\n[expect]\nno_such = "holds"\n',
     "unknown property `no_such`", 8),
])
def test_bad_input_exits_150_with_file_and_line(tmp_path, text, needle, line):
    spec = write(tmp_path, text)
    r = CliRunner().invoke(main, ["check", "-q", spec])
    assert r.exit_code == 150, r.output
    assert f"{spec}:{line}:" in r.output and needle in r.output, r.output
    assert "Traceback" not in r.output


def test_missing_path_exits_150(tmp_path):
    r = CliRunner().invoke(main, ["check", str(tmp_path / "nothing.toml")])
    assert r.exit_code == 150 and "no such file" in r.output


def test_list_shows_designs_properties_and_specs():
    r = cli("list", str(ROOT / "specs"))
    assert r.exit_code == 0
    for word in ("legacy", "final", "no_use_after_free", "s1_isfinalizing_toctou"):
        assert word in r.output


def test_list_functions_cites_sources():
    r = cli("list", "--functions", "final")
    assert "PyThreadState_EnsureFromView(view) -> token" in r.output
    assert "PEP 788" in r.output


def test_readme_example_is_the_real_output():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```console\n")[1].split("```")[0].splitlines()
    command = block[0].removeprefix("$ interpcheck ").split()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        r = CliRunner().invoke(main, command)
    finally:
        os.chdir(cwd)
    assert unclocked(r.output) == unclocked("\n".join(block[1:]) + "\n")


def test_query_answers_with_a_witness_or_unreachable():
    r = cli("check", "-q", str(ROOT / "specs" / "query_guard_after_isfinalizing.toml"))
    assert r.exit_code == 0
    assert "unreachable: no schedule gets there" in r.output
    assert "witness for refused_before_finalizing" in r.output


@pytest.mark.parametrize("query,needle", [
    ("finalizing(nowhere)", "unknown interpreter `nowhere`"),
    ("frobnicate(main)", "unknown predicate `frobnicate(main)`"),
    ("guards(main) >", "is not an expression"),
])
def test_bad_query_exits_150(tmp_path, query, needle):
    spec = write(tmp_path, GOOD + f'[queries]\nq = "{query}"\n')
    r = CliRunner().invoke(main, ["check", "-q", spec])
    assert r.exit_code == 150 and needle in r.output, r.output


def test_export_writes_promela_and_tla(tmp_path):
    r = cli("export", S1, "--design", "legacy", "--promela", str(tmp_path / "m.pml"), "--tla", str(tmp_path / "tla"))
    assert r.exit_code == 0, r.output
    text = (tmp_path / "m.pml").read_text()
    assert "CHECK_no_use_after_free" in text and "d_step" in text
    assert list((tmp_path / "tla").glob("*.tla")) and list((tmp_path / "tla").glob("*.cfg"))


def test_export_needs_a_target():
    r = cli("export", S1)
    assert r.exit_code == 150 and r.output.startswith("error: say what to write"), r.output


@pytest.mark.parametrize("engine", [
    ["--engine", "explicit", "--no-symmetry", "--no-por"], ["--engine", "explicit", "--order", "simulate"],
    ["--engine", "bmc"], ["--engine", "induction"], ["--engine", "parametric"]])
def test_memory_limit_exits_152_and_says_so(engine):
    """1 MiB is below what any Python process uses: every engine stops at its first look."""
    r = cli("check", "-q", str(ROOT / "benchmarks" / "guard_threads.toml"), "--max-memory", "1", *engine)
    assert r.exit_code == 152, r.output
    assert "max-memory 1 MiB (" in r.output and "MiB in use)" in r.output


def test_cpython_option_checks_the_design_of_that_release():
    r = cli("check", "-q", S1, "--cpython", "3.12", "-p", "no_null_deref")
    assert r.exit_code == 0, r.output
    assert "[cpython_3_12]" in r.output and "[cpython_3_14]" not in r.output
    # a spec that lists another release is checked under the chosen one too, without expectations
    spec = str(ROOT / "specs" / "s8_dangling_interpreter_pointer.toml")
    assert "[cpython_3_11]" in cli("check", "-q", spec, "--cpython", "3.11.7").output


def test_cpython_option_refuses_a_release_no_design_models():
    r = cli("check", "-q", S1, "--cpython", "3.9")
    assert r.exit_code != 0 and "no design models CPython 3.9" in r.output


def test_list_shows_the_releases_each_design_covers_and_the_aliases():
    r = cli("list", str(ROOT / "specs"))
    assert "[CPython 3.13.0 to 3.13.7]" in r.output and "[CPython 3.13.8+]" in r.output
    assert re.search(r"legacy_313\s+alias of cpython_3_13", r.output)


def test_a_limit_is_labelled_no_verdict_in_text_json_and_report(tmp_path):
    """One label for a row without a verdict: the table, the summary, JSON and the report agree."""
    s7 = str(ROOT / "specs" / "s7_ensure_from_view_after_finalize.toml")
    text = cli("check", "-q", s7, "-p", "no_deadlock", "--max-states", "50")
    assert "no verdict  limit reached" in text.output and "UNEXPECTED" not in text.output
    assert "1 verdicts: 0 as expected, 0 unexpected, 1 without a verdict" in text.output
    js = json.loads(cli("check", "-q", s7, "-p", "no_deadlock", "--max-states", "50", "--format", "json").output)
    assert js["results"][0]["status"] == "no verdict"
    out = tmp_path / "r.html"
    cli("report", "-q", s7, "-p", "no_deadlock", "--max-states", "50", "--out", str(out))
    html = out.read_text()
    assert re.search(r'<tr data-design="final" [^>]*class="no-verdict">', html)
    assert "UNEXPECTED" not in html.split("<script>")[0]
