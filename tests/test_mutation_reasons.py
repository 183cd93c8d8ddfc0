"""benchmarks/mutation.py says why each surviving mutant survives, from the specs' state graphs.

Run as a subprocess: the tool patches the program compiler for its whole process."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def survivors(specs_dir: Path, only: str) -> list[str]:
    """The tool's surviving-mutant lines (mutant: reason) for the specs in `specs_dir`, cpython_3_11."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "mutation.py"), "--designs", "cpython_3_11",
                          "--specs", str(specs_dir), "--only", only, "--workers", "1"],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.split("## Surviving mutants", 1)[1].splitlines() if line.startswith("- ")]


def with_spec(tmp_path: Path, name: str) -> Path:
    shutil.copy(ROOT / "specs" / f"{name}.toml", tmp_path)
    return tmp_path


def test_an_outcome_no_spec_takes_is_not_reached(tmp_path):
    alive = survivors(with_spec(tmp_path, "restore_thread_null"), "legacy.restore_thread")
    line = next(m for m in alive if "(attached): never happens" in m)
    assert line.endswith("not reached: no spec's run takes this outcome"), line


def test_a_killed_mutant_is_not_listed(tmp_path):
    alive = survivors(with_spec(tmp_path, "restore_thread_null"), "legacy.restore_thread")
    assert not any("NULL thread state: Py_FatalError): does not write crash" in m for m in alive)


def test_a_write_no_later_step_reads_is_a_dead_write(tmp_path):
    # The register `i` is written by PyInterpreterState_Get and read by no later step.
    (tmp_path / "interp_get_unread.toml").write_text(
        'summary = "PyInterpreterState_Get, its result unused"\ndesigns = ["cpython_3_11"]\n'
        '[[thread]]\nname = "main"\ntstate = "main"\nattached = true\nprogram = """\n'
        'i = PyInterpreterState_Get()\nrun_python()\n"""\n[expect]\nno_deadlock = "holds"\n')
    line = next(m for m in survivors(tmp_path, "legacy.interp_get") if "does not write main.i" in m)
    assert "equivalent: a dead write" in line, line
