"""Installed use, outside the repository: `python -m interpcheck`, the bundled specs as
package data (`check --examples`, `init`), `list` without a specs/ folder, and `replay`
finding the spec a trace names from wherever it is run."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.cli.runner import bundled_specs

ROOT = Path(__file__).resolve().parent.parent


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_list_without_a_specs_folder_uses_the_bundled_specs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("list")
    assert r.exit_code == 0, r.output
    assert "s1_isfinalizing_toctou.toml" in r.output


def test_init_copies_a_starter_spec_that_checks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("init", "proj")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "proj" / "specs" / "s1_isfinalizing_toctou.toml").is_file()
    monkeypatch.chdir(tmp_path / "proj")
    assert cli("check", "-q").exit_code == 0
    assert cli("init", ".").exit_code == 150   # never overwrites


def test_check_examples_checks_the_bundled_specs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("check", "--examples", "-q", "--format", "json", "--design", "legacy_313", "-p", "no_use_after_free")
    assert r.exit_code == 0, r.output
    specs = {row["spec"] for row in json.loads(r.output)["results"]}
    assert "s1_isfinalizing_toctou" in specs


def _trace(tmp_path, monkeypatch) -> Path:
    """Check the starter project from inside it, as a user does: the trace names specs/…"""
    monkeypatch.chdir(tmp_path)
    cli("init", "proj")
    monkeypatch.chdir(tmp_path / "proj")
    cli("check", "-q", "--design", "legacy", "-p", "no_stale_check", "--itf", "traces",
        "specs/s1_isfinalizing_toctou.toml")
    return tmp_path / "proj" / "traces" / "s1_isfinalizing_toctou" / "cpython_3_14.no_stale_check.itf.json"


def test_replay_finds_the_spec_relative_to_the_trace(tmp_path, monkeypatch):
    trace = _trace(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)   # elsewhere: specs/… is not relative to here
    r = cli("replay", str(trace))
    assert r.exit_code == 0, r.output
    assert str(tmp_path / "proj" / "specs" / "s1_isfinalizing_toctou.toml") in r.output


def test_replay_suggests_spec_when_it_cannot_find_the_spec(tmp_path, monkeypatch):
    trace = _trace(tmp_path, monkeypatch)
    doc = json.loads(trace.read_text())
    doc["#meta"]["source"] = "elsewhere/my_own_spec.toml"
    trace.write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["replay", str(trace)])
    assert r.exit_code == 150
    assert "--spec" in r.output


def _copy_source(dest: Path) -> Path:
    """The files a source distribution holds, so building never writes into the checkout."""
    dest.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    for folder in ("interpcheck", "model", "checker", "specs", "examples"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_works_outside_the_repository(tmp_path):
    src = _copy_source(tmp_path / "src")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                            str(src)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheel = next((tmp_path / "dist").glob("interpcheck-*.whl"))
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.skip(f"cannot install the wheel's dependencies here: {installed.stderr.strip()[-300:]}")
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*args, cwd=work):
        return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=env)

    py, exe = str(venv / "bin" / "python"), str(venv / "bin" / "interpcheck")
    r = run(py, "-m", "interpcheck", "list")
    assert r.returncode == 0, r.stderr
    assert "site-packages/interpcheck/specs/s1_isfinalizing_toctou.toml" in r.stdout
    r = run(exe, "check", "--examples", "-q", "--design", "legacy", "-p", "no_use_after_free")
    assert r.returncode == 0, r.stdout + r.stderr
    assert run(exe, "init", "proj").returncode == 0
    r = run(exe, "check", "-q", "--itf", "traces", cwd=work / "proj")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run(exe, "replay", "proj/traces/s1_isfinalizing_toctou/cpython_3_14.no_stale_check.itf.json")
    assert r.returncode == 0, r.stdout + r.stderr
