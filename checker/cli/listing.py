"""`interpcheck list`: designs, their functions, properties and bundled specs."""
from __future__ import annotations

import click

from interpcheck.model.designs import ALIASES, DESIGNS, resolve

from .app import main
from .runner import load_all
from .usage import known_design


@main.command("list")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--functions", "design", default=None, help="list this design's C functions with their sources")
def list_(paths, design):
    """List designs, properties and the specs under PATHS (default specs/)."""
    if design is not None:
        design = resolve(known_design("--functions", design))
        for api in sorted(DESIGNS[design].api.values(), key=lambda a: a.name):
            sig = f"{api.name}({', '.join(api.args)})" + (f" -> {api.result}" if api.result else "")
            click.echo(f"  {sig:58} {api.cite}")
        return
    click.echo("designs:")
    for d in DESIGNS.values():
        covers = f"[{d.covers_text()}] " if d.covers else ""
        click.echo(f"  {d.name:15} {covers}{d.summary}")
    for alias, name in ALIASES.items():
        click.echo(f"  {alias:15} alias of {name} ({DESIGNS[name].covers_text()})")
    specs = load_all(paths)
    click.echo("properties:")
    system = specs[0].system(specs[0].designs[0])
    for p in system.properties:
        click.echo(f"  {p.name:30} {getattr(p, 'doc', '')}")
    click.echo("specs:")
    for s in specs:
        click.echo(f"  {s.path:48} [{', '.join(s.designs)}] {s.summary}")
