"""`interpcheck init DIR`: a starter project outside the repository — the README's worked
example, copied from the bundled specs, with the commands to run next."""
from __future__ import annotations

import shutil
from pathlib import Path

import click

from .app import main
from .runner import EXIT_BAD_INPUT, bundled_specs

# The README's pair: the legacy race, and the same scenario written with PEP 788.
STARTERS = ("s1_isfinalizing_toctou.toml", "s7_ensure_from_view_after_finalize.toml")


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(directory):
    """Copy starter specs into DIRECTORY/specs/ (default: here), ready for `interpcheck check`."""
    target = Path(directory) / "specs"
    clashes = [target / name for name in STARTERS if (target / name).exists()]
    if clashes:
        click.echo(f"error: {clashes[0]}: already exists; nothing copied (choose another DIRECTORY)", err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    target.mkdir(parents=True, exist_ok=True)
    for name in STARTERS:
        shutil.copyfile(bundled_specs() / name, target / name)
        click.echo(f"wrote {target / name}")
    where = "" if Path(directory) == Path(".") else f"cd {directory} && "
    click.echo(f"next: {where}interpcheck check    (every spec under specs/; docs: the README's worked example)")
    click.echo(f"      every bundled spec: interpcheck check --examples    (they are in {bundled_specs()})")
