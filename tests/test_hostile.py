"""Hostile input: every spec of the generated corpus (tests/hostile_corpus.py) is refused
with exit 150 and one line `error: FILE:LINE: what to do` — never a traceback, never a hang."""
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hostile_corpus import GOOD, cases, make, mutants
from interpcheck.checker.cli import main
from interpcheck.model.spec import SpecError, load_spec

CASES = cases()


def test_the_corpus_is_large_and_varied():
    assert len(CASES) >= 200
    assert len({c.category for c in CASES}) >= 10
    assert len({c.ident for c in CASES}) == len(CASES)


def test_the_spec_every_case_starts_from_is_valid(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    r = CliRunner().invoke(main, ["check", "-q", str(path)])
    assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return {c.ident: make(c, folder) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.ident for c in CASES])
def test_hostile_spec_is_refused_with_one_line(case, corpus):
    path = str(corpus[case.ident])
    start = time.monotonic()
    r = CliRunner().invoke(main, ["check", "-q", path])
    assert time.monotonic() - start < 60, "a hostile spec must be refused, not read or searched for ever"
    assert r.exit_code == 150, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    assert r.output.count("\n") == 1 and r.output.rstrip("\n").isprintable(), r.output
    m = re.match(rf"error: {re.escape(path)}(?::(\d+))?: (.+)$", r.output.rstrip("\n"))
    assert m, r.output
    if case.content is not None and not case.whole_file:   # the message names a line of the file
        assert m.group(1) is not None and 1 <= int(m.group(1)) <= case.content.count(b"\n") + 1, r.output
    assert case.needle in m.group(2).lower(), r.output


def test_random_edits_of_the_bundled_specs_load_or_fail_with_one_line(tmp_path):
    """500 seeded mutants (a line deleted, copied, swapped, a value of another type, ...):
    each loads, or raises SpecError with a line and a one-line message; nothing else."""
    specs = sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.toml"))
    outcomes = {"loaded": 0, "refused": 0}
    for k, (stem, text) in enumerate(mutants(specs, 500, seed=788)):
        path = tmp_path / f"{stem}.toml"
        path.write_text(text)
        try:
            load_spec(path)
            outcomes["loaded"] += 1
        except SpecError as err:
            assert err.line >= 1 and err.message.isprintable(), (k, str(err))
            outcomes["refused"] += 1
    assert outcomes["loaded"] > 20 and outcomes["refused"] > 300, outcomes


KEYED = [c for c in CASES if c.category in ("types", "thread-types", "bound-types", "ranges", "list-items")]


@pytest.mark.parametrize("case", KEYED, ids=[c.ident for c in KEYED])
def test_the_line_named_is_the_offending_key(case, corpus):
    """A wrong type or range names the line where the key is written (tomllib keeps no positions)."""
    with pytest.raises(SpecError) as err:
        load_spec(corpus[case.ident])
    line = case.content.decode().split("\n")[err.value.line - 1]
    assert case.needle in line, (err.value.line, line, err.value.message)
