"""The exit-code contract as literate tests, as Quint's io-cli-tests: tests/cli/*.md hold
console blocks — a `$ interpcheck ...` command, its output, and `[exit N]` — and each block
runs here in-process from the repository root. In the expected output, a line `...` stands
for any lines, and `#.##s` for any wall-clock seconds."""
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main

ROOT = Path(__file__).resolve().parent.parent
TABLES = sorted((Path(__file__).parent / "cli").glob("*.md"))
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def blocks(path: Path) -> list[tuple[str, list[str], int]]:
    """(command, expected output lines, exit code) for each console block of `path`."""
    out = []
    for body in BLOCK.findall(path.read_text()):
        lines = body.rstrip("\n").split("\n")
        assert lines[0].startswith("$ interpcheck "), f"{path.name}: a block starts with `$ interpcheck ...`"
        m = re.fullmatch(r"\[exit (\d+)\]", lines[-1])
        assert m, f"{path.name}: a block ends with `[exit N]`: {lines[0]}"
        out.append((lines[0][2:], lines[1:-1], int(m.group(1))))
    return out


CASES = [(p, *b) for p in TABLES for b in blocks(p)]


def matches(expected: list[str], got: list[str]) -> bool:
    """Line by line; `...` matches any run of lines (none included)."""
    pattern = "\n".join(".*?" if line == "..." else re.escape(line).replace(r"\#\.\#\#s", r"\d+\.\d+s")
                        for line in expected)
    pattern = pattern.replace("\n.*?\n", "(?:\n.*?)?\n").replace(".*?\n", "(?:.*?\n)?")
    return re.fullmatch(pattern, "\n".join(got), re.S) is not None


def test_the_table_has_every_documented_exit_code():
    codes = {code for *_, code in CASES}
    assert {0, 11, 12, 13, 150, 152} <= codes


@pytest.mark.parametrize("path,command,expected,code", CASES, ids=[c[1] for c in CASES])
def test_cli_contract(path, command, expected, code, monkeypatch):
    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(main, shlex.split(command)[1:])
    got = r.output.rstrip("\n").split("\n") if r.output.strip() else []
    assert r.exit_code == code, f"{command}\n{r.output}"
    assert matches(expected, got), f"{command}\n--- expected\n" + "\n".join(expected) + "\n--- got\n" + r.output


def test_ellipsis_matches_any_lines_and_nothing_else():
    assert matches(["a", "...", "b"], ["a", "x", "y", "b"]) and matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "...", "b"], ["a", "x", "c"]) and not matches(["a"], ["a", "b"])
    assert matches(["took #.##s"], ["took 0.25s"]) and not matches(["took #.##s"], ["took 1s"])
