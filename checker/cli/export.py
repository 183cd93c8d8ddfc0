"""`interpcheck export`: the same IR as Promela (for SPIN) or TLA+ (for TLC)."""
from __future__ import annotations

from pathlib import Path

import click

from interpcheck.model.designs import resolve

from interpcheck.model.spec import load_spec

from ..export.promela import translate
from ..export.tla import module_name, tla_config, to_tla
from .app import main


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path())
@click.option("--design", default=None, help="the design to export (default: the spec's first)")
@click.option("--promela", "promela_file", type=click.Path(dir_okay=False), help="write the Promela model here")
@click.option("--tla", "tla_dir", type=click.Path(file_okay=False),
              help="write <Module>.tla and <Module>.cfg into this folder")
def export(spec_path, design, promela_file, tla_dir):
    """Export one spec's model, for SPIN (`spin -a FILE`) or TLC.

    The Promela model checks the spec's safety properties as assertions, each enabled by a
    -DCHECK_<property> macro given to `spin -a` (the comment at its top lists them)."""
    spec = load_spec(spec_path)
    design = resolve(design or spec.designs[0])
    if design not in spec.designs:
        raise click.BadParameter(f"{design} is not one of the spec's designs ({', '.join(spec.designs)})")
    if not promela_file and not tla_dir:
        raise click.UsageError("say what to write: --promela FILE and/or --tla DIR")
    system = spec.system(design)
    if promela_file:
        model = translate(system)
        Path(promela_file).write_text(model.text)
        click.echo(f"wrote {promela_file}: {len(system.actions)} actions; "
                   f"run: spin -o2 -DCHECK_<property> -a {promela_file} && gcc -O2 -DSAFETY -o pan pan.c && ./pan -c0")
    if tla_dir:
        folder = Path(tla_dir)
        folder.mkdir(parents=True, exist_ok=True)
        name = module_name(system)
        (folder / f"{name}.tla").write_text(to_tla(system))
        (folder / f"{name}.cfg").write_text(tla_config(system))
        click.echo(f"wrote {folder / name}.tla and .cfg")
