"""The `interpcheck` command: one click group, one module per command.

Every command reports bad input as one line naming file and line (exit 150) and any bug of
ours as an internal error (exit 255) — never a bare traceback.
"""
from __future__ import annotations

import os
import sys
import traceback

import click

from interpcheck.model.spec import SpecError

from .runner import EXIT_BAD_INPUT, EXIT_INTERNAL


class Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SpecError as err:
            where = f"{err.path}:{err.line}" if err.line else err.path
            click.echo(f"error: {where}: {err.message}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except Exception as err:  # a bug of ours: say so, keep the details for a report
            click.echo(f"internal error: {type(err).__name__}: {err}", err=True)
            if "INTERPCHECK_DEBUG" in os.environ:
                traceback.print_exc()
            else:
                click.echo("(set INTERPCHECK_DEBUG=1 for the traceback, and please report it)", err=True)
            sys.exit(EXIT_INTERNAL)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="interpcheck")
def main() -> None:
    """Model checker for CPython's thread-state and interpreter-lifetime C API (PEP 788)."""


# Each command module registers itself on `main`; add a line here for a new one.
from . import check, check_c, conform, export, gate, listing, matrix, starter, trace  # noqa: E402,F401
