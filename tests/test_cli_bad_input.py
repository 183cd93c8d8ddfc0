"""Bad input to the CLI beyond the spec loader: damaged traces and baselines, output paths,
closed pipes, special files — each one line and exit 150 (or a quiet 141 for a closed pipe),
never a traceback. A handful run the real `interpcheck` in a subprocess, end to end."""
import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.cli.usage import BadUsage, inside

ROOT = Path(__file__).resolve().parent.parent
S1 = str(ROOT / "specs" / "s1_isfinalizing_toctou.toml")
TRACE = ROOT / "counterexamples" / "r1b_non_lifo_release" / "r1b.release_restores.itf.json"
R1B = str(ROOT / "specs" / "r1b_non_lifo_release.toml")
BIN = Path(sys.executable).parent / "interpcheck"


def run(*args):
    return CliRunner().invoke(main, list(args))


def one_line_150(r, needle):
    assert r.exit_code == 150, r.output
    assert r.output.count("\n") == 1 and r.output.startswith("error: "), r.output
    assert needle in r.output, r.output


def damaged(doc):
    def edit(d):
        d = json.loads(json.dumps(d))
        exec(doc, {"d": d})
        return d
    return edit


@pytest.mark.parametrize("change,needle", [
    ("d['states'] = 5", "no `states`"),
    ("d['states'] = []", "no `states`"),
    ("d['states'][1] = 7", "state 1 is not an object"),
    ("d['states'][1]['#meta'] = []", "state 1 is not an object"),
    ("d['states'][2]['crash'] = {'x': 1}", "state 2: `crash` is not an ITF value"),
    ("d['states'][2]['phase'] = {'#map': [[1, 2, 3]]}", "`phase` is not an ITF value"),
    ("d['states'][2]['phase'] = {'#bigint': 'zz'}", "`phase` is not an ITF value"),
    ("d['#meta'] = []", "`#meta` is not an object"),
    ("d['#meta']['source'] = 42", "`#meta.source` is not a string"),
    ("d['#meta']['design'] = ['r1b']", "`#meta.design` is not a string"),
    ("d['loop'] = 99", "`loop` = 99 is not the index of a state"),
    ("d['loop'] = 'x'", "`loop` = 'x'"),
])
def test_a_damaged_trace_is_150_naming_the_file(tmp_path, change, needle):
    path = tmp_path / "t.itf.json"
    path.write_text(json.dumps(damaged(change)(json.loads(TRACE.read_text()))))
    one_line_150(run("replay", str(path), "--spec", R1B), f"error: {path}: cannot read the trace")
    one_line_150(run("replay", str(path), "--spec", R1B), needle)


@pytest.mark.parametrize("text", ["", "[]", "{", "null", "42", '"x"', TRACE.read_text()[:400]])
def test_a_truncated_or_empty_trace_is_150(tmp_path, text):
    path = tmp_path / "t.itf.json"
    path.write_text(text)
    one_line_150(run("replay", str(path), "--spec", R1B), str(path))


@pytest.mark.parametrize("table,needle", [
    ("[]", "the document is not an object"),
    ("{", "cannot read the baseline"),
    ('{"s": 5}', "`s` is not an object of designs"),
    ('{"s": {"d": []}}', "`s.d` is not an object of properties"),
    ('{"s": {"d": {"p": {"verdict": "maybe"}}}}', "`s.d.p` has no verdict"),
    ('{"s": {"d": {"p": {"verdict": "violated", "trace_length": "3"}}}}', "trace_length is not a count"),
])
def test_a_damaged_gate_baseline_is_150_naming_the_file(tmp_path, table, needle):
    (tmp_path / "verdicts.json").write_text(table)
    r = run("gate", "--baseline", str(tmp_path), "--specs", S1)
    one_line_150(r, needle)
    assert str(tmp_path / "verdicts.json") in r.output


def test_a_missing_baseline_folder_is_an_error_not_an_empty_baseline(tmp_path):
    one_line_150(run("gate", "--baseline", str(tmp_path / "nothing"), "--specs", S1), "not a baseline")


def test_trace_paths_stay_inside_their_folder(tmp_path):
    assert inside(tmp_path, "spec", "legacy.p.itf.json") == tmp_path / "spec" / "legacy.p.itf.json"
    for parts in [("..", "x"), ("../../escaped", "x"), ("/etc", "x"), ("a/b", "x"), ("", "x")]:
        with pytest.raises(BadUsage):
            inside(tmp_path, *parts)


def test_itf_and_mermaid_write_inside_their_folders(tmp_path):
    r = run("check", "-q", S1, "--design", "cpython_3_14", "-p", "no_stale_check", "--itf", str(tmp_path / "itf"),
            "--mermaid", str(tmp_path / "mmd"))
    assert r.exit_code == 0, r.output
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert [str(p) for p in written] == ["itf/s1_isfinalizing_toctou/cpython_3_14.no_stale_check.itf.json",
                                         "mmd/s1_isfinalizing_toctou/cpython_3_14.no_stale_check.mmd"]


@pytest.mark.parametrize("option", ["--itf", "--mermaid", "--write-counterexamples"])
def test_an_output_folder_that_cannot_be_made_is_refused_before_the_run(option, tmp_path):
    (tmp_path / "file").write_text("")
    one_line_150(run("check", "-q", S1, option, "/dev/null/x"), f"{option} /dev/null/x")
    one_line_150(run("check", "-q", S1, option, str(tmp_path / "file")), "is a file")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "soon"])
def test_time_limit_must_be_a_finite_positive_number(value):
    one_line_150(run("check", "-q", S1, "--time-limit", value), "--time-limit")


@pytest.mark.parametrize("args,needle", [
    (["check", "--design", "nosuch", S1], "no such design"),
    (["check", "--design", "fina", S1], "did you mean `final`?"),
    (["report", "--design", "legcy", S1], "did you mean `legacy`?"),
    (["list", "--functions", "nosuch"], "--functions nosuch: no such design"),
    (["check", "--format", "yaml", S1], "'yaml' is not one of"),
    (["check", "--engine", "tlc", S1], "--engine"),
    (["check", "--max-states", "-5", S1], "--max-states"),
    (["check", "--no-such-option", S1], "No such option"),
    (["matrix", "--format", "pdf"], "--format"),
    (["export", S1], "say what to write"),
    (["export", S1, "--design", "nosuch", "--tla", "x"], "nosuch"),
    (["graph", S1], "--dot"),
    (["check", "--workers", "2", S1], "--workers"),   # gone: the C search beat it on every model
    (["conform", "--workers", "0"], "--workers"),
])
def test_bad_options_are_150_with_one_line(args, needle):
    one_line_150(run(*args), needle)


def test_bare_interpcheck_shows_the_help():
    r = run()
    assert r.exit_code == 0 and "Commands:" in r.output


# End to end, in a subprocess: what CliRunner cannot show (pipes, signals, special files).

def interpcheck(*args, **kw):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120, cwd=ROOT, **kw)


@pytest.mark.skipif(shutil.which("head") is None, reason="needs head")
def test_a_closed_pipe_ends_the_run_quietly():
    # --full-state: some 200 kB of output, far more than the pipe holds once head has gone
    pipe = subprocess.run(f"'{BIN}' check -q --full-state {S1} | head -1; exit ${{PIPESTATUS[0]}}", shell=True,
                          executable="/bin/bash", capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert pipe.stdout.count("\n") == 1
    assert pipe.stderr == "", pipe.stderr
    assert pipe.returncode == 141


def test_a_fifo_spec_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    r = interpcheck("check", "-q", str(fifo))
    assert r.returncode == 150 and r.stderr == f"error: {fifo}: not a regular file (a FIFO, device or folder?): " \
                                               "give a spec file\n", r.stderr


def test_dev_zero_as_a_spec_is_refused(tmp_path):
    r = interpcheck("check", "-q", "/dev/zero")
    assert r.returncode == 150 and "not a regular file" in r.stderr and "Traceback" not in r.stderr


def test_bad_option_end_to_end():
    r = interpcheck("check", "--format", "yaml")
    assert r.returncode == 150 and r.stdout == "" and r.stderr.count("\n") == 1, r.stderr


def test_escaped_name_end_to_end(tmp_path):
    out = tmp_path / "a" / "b"
    r = interpcheck("check", "-q", "tests/cli/fixtures/escaped_name.toml", "--itf", str(out))
    assert r.returncode == 150 and "it names output files" in r.stderr
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize("engine", ["bmc", "induction", "spin"])
def test_an_engine_that_does_not_decide_liveness_says_so_and_claims_no_limit(engine):
    if engine == "spin" and shutil.which("spin") is None:
        pytest.skip("SPIN is not installed (apt-get install spin)")
    r = run("check", "-q", str(ROOT / "specs" / "s4_guard_never_closed.toml"), "--engine", engine, "--depth", "6",
            "-p", "finalization_completes", "-p", "no_thread_hung")
    assert r.exit_code == 0, r.output
    assert r.output.count("not decided by this engine") == 2, r.output
    assert "limit" not in r.output, r.output


def test_a_limit_really_reached_is_still_152():
    r = run("check", "-q", str(ROOT / "specs" / "s4_guard_never_closed.toml"), "--engine", "bmc", "--time-limit",
            "0.001", "-p", "no_deadlock")
    assert r.exit_code == 152 and "limit reached" in r.output, r.output


@pytest.mark.parametrize("args", [
    ["report", "-q", S1, "--design", "cpython_3_14", "-p", "no_stale_check", "--out", "/dev/null/x.html"],
    ["graph", S1, "--design", "cpython_3_14", "--dot", "/dev/null/x.dot"],
    ["export", S1, "--promela", "/dev/null/x.pml"],
    ["export", S1, "--tla", "/dev/null/x"],
])
def test_an_output_file_that_cannot_be_written_is_150_naming_it(args):
    r = run(*args)
    assert r.exit_code == 150, r.output
    assert r.output.strip().splitlines()[-1].startswith("error: /dev/null/x") and "Traceback" not in r.output


@pytest.mark.parametrize("args", [
    ["replay", str(TRACE), "--cpython", "python3", "--time-limit", "nan"],
    ["replay", str(TRACE), "--cpython", "python3", "--settle", "inf"],
    ["conform", "--time-limit", "nan"],
    ["conform", "--settle", "nan"],
])
def test_replay_and_conform_refuse_nan_and_inf_seconds(args):
    one_line_150(run(*args), "is not a finite number of seconds")


def test_conform_with_a_missing_baseline_folder_is_an_error(tmp_path):
    one_line_150(run("conform", "--baseline", str(tmp_path / "nothing"), S1), "no such folder")


def test_an_unknown_property_option_suggests_the_close_one():
    one_line_150(run("check", "-q", S1, "-p", "no_stale_chek"), "unknown property `no_stale_chek`; did you mean "
                                                                "`no_stale_check`?")


def test_a_fifo_or_device_as_a_trace_or_baseline_is_refused_before_reading(tmp_path):
    fifo = tmp_path / "t.itf.json"
    os.mkfifo(fifo)
    one_line_150(run("replay", str(fifo), "--spec", R1B), "not a regular file")
    one_line_150(run("replay", "/dev/zero", "--spec", R1B), "not a regular file")
    (tmp_path / "base").mkdir()
    os.mkfifo(tmp_path / "base" / "verdicts.json")
    one_line_150(run("gate", "--baseline", str(tmp_path / "base"), "--specs", S1), "not a regular file")


@pytest.mark.parametrize("damage", ["[]", "{", '{"states": 3}'])
def test_a_damaged_trace_in_the_gate_baseline_is_150_naming_it(tmp_path, damage):
    base = tmp_path / "base"
    shutil.copytree(ROOT / "counterexamples", base)
    trace = sorted((base / "s1_isfinalizing_toctou").glob("*.itf.json"))[0]
    trace.write_text(damage)
    r = run("gate", "--baseline", str(base), "--specs", S1)
    one_line_150(r, f"error: {trace}: cannot read the baseline trace")


def test_a_spec_without_expectations_fails_on_a_violation(tmp_path):
    """TLC's rule: a property the run checks and finds violated fails it, pinned or not."""
    spec = tmp_path / "first.toml"
    spec.write_text('design = "cpython_3_13"\n[[thread]]\nname = "T1"\nprogram = """\nrun_python()\n"""\n')
    r = CliRunner().invoke(main, ["check", "-q", str(spec)])
    assert r.exit_code == 12, r.output
    assert re.search(r"no_call_without_thread_state\s+violated\s+holds\s+UNEXPECTED", r.output)
    assert re.search(r"completes\s+violated\s+-\s+ok", r.output)   # a reachability question only informs
    clean = tmp_path / "clean.toml"
    clean.write_text('design = "cpython_3_13"\n[[thread]]\nname = "T1"\nprogram = """\nwork()\n"""\n')
    assert CliRunner().invoke(main, ["check", "-q", str(clean)]).exit_code == 0


# ----- found by a hostile-input audit (2 Dec 2026) ------------------------------------------------
@pytest.mark.parametrize("change,needle", [
    ("d['states'][2]['phase'] = {'#bigint': '\u00b2'}", "`phase` is not an ITF value"),   # isdigit, not int()
    ("d['states'][2]['phase'] = {'#bigint': '9' * 5000}", "`phase` is not an ITF value"),   # past int()'s limit
    ("d['states'][1]['#meta']['action'] = '\\ud800'", "not text"),   # UTF-8 cannot print it
])
def test_a_trace_int_or_print_would_choke_on_is_150(tmp_path, change, needle):
    path = tmp_path / "t.itf.json"
    path.write_text(json.dumps(damaged(change)(json.loads(TRACE.read_text()))))
    one_line_150(run("replay", str(path)), needle)


def test_check_c_refuses_a_fifo_a_device_and_a_folder_without_reading(tmp_path):
    fifo = tmp_path / "f.c"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero", tmp_path):
        r = interpcheck("check-c", "-q", str(path))
        assert r.returncode == 150 and r.stderr == f"error: {path}: not a regular file (a FIFO, device or " \
                                                   "folder?): give a C or C++ source file\n", r.stderr


CALLBACK = "void cb(void)\n{\n    PyGILState_STATE %s = PyGILState_Ensure();\n    PyGILState_Release(%s);\n}\n"


@pytest.mark.parametrize("local", ["pass", "repeat", "not", "and", "or", "\u00e9tat", "\u72b6\u6001"])
def test_check_c_takes_locals_named_like_words_of_the_spec_language(tmp_path, local):
    """Fine C names, not registers of the spec language: the translation renames them."""
    path = tmp_path / "cb.c"
    path.write_text(CALLBACK % (local, local))
    r = run("check-c", "-q", "--count", "1", "-p", "release_restores", str(path))
    assert r.exit_code == 0 and "release_restores" in r.output, r.output


def test_check_c_blocks_nested_too_deep_name_the_c_line(tmp_path):
    path = tmp_path / "deep.c"
    path.write_text("void cb(void){ PyGILState_STATE s = PyGILState_Ensure();\n" + "if (x) {" * 40 + "work();"
                    + "}" * 40 + "\nPyGILState_Release(s); }\n")
    r = run("check-c", "-q", str(path))
    one_line_150(r, f"error: {path}:2: cb(): cannot model this code: blocks nested more than 32 deep")


@pytest.mark.parametrize("source", [
    "void cb(void){ PyGILState_STATE s = PyGILState_Ensure(); " + "{" * 1000 + "work();" + "}" * 1000
    + " PyGILState_Release(s); }\n",
    "".join(f"static void f{i}(void){{ f{i + 1}(); }}\n" for i in range(1200))
    + "static void f1200(void){ PyGILState_STATE s = PyGILState_Ensure(); PyGILState_Release(s); }\n",
])
def test_check_c_walks_deep_code_and_long_call_chains_without_recursing(tmp_path, source):
    path = tmp_path / "deep.c"
    path.write_text(source)
    r = run("check-c", "-q", "--count", "1", "-p", "release_restores", str(path))
    assert r.exit_code == 0 and "release_restores" in r.output, r.output


def test_check_c_checks_an_embedding_programs_main(tmp_path):
    """Its thread is not the harness's own `main`."""
    path = tmp_path / "embed.c"
    path.write_text('int main(void){ PyGILState_STATE s = PyGILState_Ensure(); PyRun_SimpleString("1"); '
                    "PyGILState_Release(s); return 0; }\n")
    r = run("check-c", "-q", "--count", "1", "-p", "release_restores", str(path))
    assert r.exit_code == 0 and "main_entry" in r.output, r.output


def test_a_spec_c_thread_the_language_cannot_read_is_150_naming_the_spec_and_c_line(tmp_path):
    (tmp_path / "deep.c").write_text("void cb(void){ PyGILState_STATE s = PyGILState_Ensure();\n" + "if (x) {" * 40
                                     + "work();" + "}" * 40 + "\nPyGILState_Release(s); }\n")
    spec = tmp_path / "s.toml"
    spec.write_text('design = "cpython_3_14"\n[[thread]]\nname = "T1"\nc = "deep.c:cb"\n')
    one_line_150(run("check", "-q", str(spec)), f"error: {spec}:4: `c`: {tmp_path / 'deep.c'}:2: cb(): cannot model")


@pytest.mark.parametrize("args", [
    [S1, "--design", "cpython_3_14"],
    [S1, "--design", "cpython_3_14", "--format", "json"],
])
def test_an_output_the_disk_refuses_is_one_line_150(args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(BIN), "check", "-q", *args], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=300, cwd=ROOT)
    assert done.returncode == 150 and done.stderr == "error: cannot write the output: No space left on device\n", \
        done.stderr
    r = run("check", "-q", *args, "--sarif", "/dev/full")
    one_line_150(r, "error: cannot write the output: No space left on device")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_an_svg_graphviz_cannot_write_is_150(tmp_path):
    r = run("graph", S1, "--design", "cpython_3_14", "--dot", str(tmp_path / "g.dot"), "--svg", "/nonexistent/x.svg")
    assert r.exit_code == 150, r.output
    assert r.output.splitlines()[-1].startswith("error: /nonexistent/x.svg: Graphviz `dot` could not write"), r.output


def test_junit_stays_xml_when_a_path_holds_a_control_character(tmp_path):
    import xml.etree.ElementTree as ET
    folder = tmp_path / "x\x1by"
    folder.mkdir()
    spec = folder / "s.toml"
    spec.write_text(Path(S1).read_text())
    run("check", "-q", "--design", "cpython_3_14", "--junit", str(tmp_path / "j.xml"), str(spec))
    cases = ET.parse(tmp_path / "j.xml").getroot().findall("testcase")
    assert cases and all("x\\x1by" in c.get("file") for c in cases)


def test_replay_takes_a_baseline_trace_of_a_design_the_spec_does_not_list():
    """`matrix` checks every spec on every design that can express it and keeps its traces."""
    trace = ROOT / "counterexamples" / "gh129536_daemon_thread_lock" / "cpython_3_11.finalization_completes.itf.json"
    r = run("replay", str(trace))
    assert r.exit_code == 0 and "[cpython_3_11]" in r.output and "still violated" in r.output, r.output


@pytest.mark.slow
def test_every_baseline_trace_replays_to_its_violation():
    traces = sorted((ROOT / "counterexamples").glob("*/*.itf.json"))
    assert len(traces) > 500
    bad = [(t.name, r.exit_code, r.output[-300:]) for t in traces if (r := run("replay", str(t))).exit_code != 0]
    assert not bad, bad[:5]


@pytest.mark.parametrize("args,needle", [
    (["--cpython", ""], "unknown CPython release ``"),
    (["--cpython", "\uff13.\uff11\uff14"], "unknown CPython release"),   # fullwidth digits
    (["--design", ""], "unknown design ``"),
    (["--entry", "nosuch"], "no function `nosuch` defined here (functions: cb)"),
])
def test_check_c_options_naming_nothing_are_refused(tmp_path, args, needle):
    path = tmp_path / "cb.c"
    path.write_text(CALLBACK % ("s", "s"))
    one_line_150(run("check-c", "-q", *args, str(path)), needle)


def test_a_summary_is_printed_with_its_control_characters_escaped(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('summary = "bell\\u0007 nul\\u0000 ls\\u2028 nel\\u0085"\ndesign = "cpython_3_14"\n'
                    '[[thread]]\nname = "T1"\nprogram = "work()"\n')
    r = run("check", "-q", str(spec))
    assert "  bell\\x07 nul\\x00 ls\\u2028 nel\\x85\n" in r.output, r.output
