"""The ``parafraim-build`` command line.

Commands live in one module per area and only parse options, call one core function and hand
the result to ``console``. This module owns the group and the single error handler: a
``BuildError`` exits 1 with its message and hint, ^C exits 130, anything else is a bug whose
traceback goes to a file.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from typing import Any

import click

from parafraim_build import __version__, console
from parafraim_build.cli import account_commands, build_commands, engine_commands, spec_commands
from parafraim_build.errors import BuildError
from parafraim_build.logs import configure_logging

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """A click group that routes every failure through one handler."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BuildError as error:
            console.print_error(error)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            console.print_interrupted()
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`parafraim-build validate | head -1`): not an error of
            # ours. Point stdout at devnull so the interpreter's final flush stays quiet.
            _silence_stdout()
            ctx.exit(EXIT_ERROR)
        except Exception as exc:
            console.print_internal_error(exc, _write_traceback(exc))
            ctx.exit(EXIT_ERROR)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _write_traceback(exc: BaseException) -> str | None:
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="parafraim-build-crash-", suffix=".log", delete=False
        ) as handle:
            handle.write(f"parafraim-build {__version__}, Python {sys.version}\n")
            handle.write("".join(traceback.format_exception(exc)))
            return handle.name
    except OSError:
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parafraim-build")
@click.option("-v", "--verbose", is_flag=True, help="Log HTTP requests (secrets redacted).")
def main(verbose: bool) -> None:
    """Reproducible video builds for the Parafraim API.

    Declare videos in parafraim.yaml, run `plan` to see what would change and what it costs,
    and `apply` to make only what changed. `--local` runs everything on the built-in engine.
    """
    configure_logging(verbose)


for _module in (spec_commands, account_commands, engine_commands, build_commands):
    for _command in _module.COMMANDS:
        main.add_command(_command)
