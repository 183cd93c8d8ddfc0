"""The `interpcheck` click group that every command module registers on.

Every command reports bad input as one line naming file and line (exit 150) and any bug of
ours as an internal error (exit 255) — never a bare traceback. Bad options are bad input
too: click's usage errors (its exit 2) become the same one line with exit 150, TLC's code.
A closed output pipe (`interpcheck check | head`) ends the run quietly, as other tools do.
"""
from __future__ import annotations

import errno
import io
import os
import sys
import traceback

import click

from interpcheck.model.spec import SpecError, one_line

from .runner import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_PIPE
from .usage import BadUsage


# A write that fails for what the output is (a full disk or quota, /dev/full, a /proc file),
# not for what we did: one line and exit 150, like a path that cannot be opened.
WRITE_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EINVAL, errno.ENXIO}


def _usage(err: click.ClickException, ctx: click.Context | None) -> BadUsage:
    message = " ".join(err.format_message().split())
    ctx = getattr(err, "ctx", None) or ctx
    if isinstance(err, click.UsageError) and ctx is not None:
        command = " ".join(["interpcheck"] + ctx.command_path.split()[1:])
        message += f" (see `{command} --help`)"
    return BadUsage(message)


def _quiet_stdout() -> None:
    """Nobody reads stdout any more: point it at /dev/null so Python's own final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


class Group(click.Group):
    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError as err:   # bare `interpcheck`: the help, not an error
            click.echo(err.ctx.get_help())
            sys.exit(0)
        except click.ClickException as err:
            if isinstance(err, BadUsage):
                raise
            raise _usage(err, None) from err

    def invoke(self, ctx: click.Context):
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()   # a closed pipe shows here, while we can still exit quietly
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(EXIT_PIPE)
        except SpecError as err:
            where = f"{err.path}:{err.line}" if err.line else err.path
            click.echo(f"error: {where}: {err.message}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except OSError as err:
            if err.filename is None and err.errno in WRITE_FAILURES:   # a full disk, /dev/full, ...
                click.echo(f"error: cannot write the output: {err.strerror}", err=True)
                _quiet_stdout()   # Python's own flush at exit would fail again
                sys.exit(EXIT_BAD_INPUT)
            if err.filename is None:   # not about a path the user gave: a bug of ours, below
                return self._internal(err)
            click.echo(f"error: {one_line(str(err.filename))}: {err.strerror or err}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except BadUsage:
            raise
        except click.ClickException as err:
            raise _usage(err, ctx) from err
        except (click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception as err:  # a bug of ours: say so, keep the details for a report
            self._internal(err)

    @staticmethod
    def _internal(err: Exception):
        click.echo(f"internal error: {type(err).__name__}: {err}", err=True)
        if "INTERPCHECK_DEBUG" in os.environ:
            traceback.print_exception(err)
        else:
            click.echo("(set INTERPCHECK_DEBUG=1 for the traceback, and please report it)", err=True)
        sys.exit(EXIT_INTERNAL)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="interpcheck")
def main() -> None:
    """Model checker for CPython's thread-state and interpreter-lifetime C API (PEP 788)."""

