"""The only place that writes to the terminal.

Core modules return values or raise ``BuildError``; the CLI hands results to a function here.
Plain lines go through ``click.echo`` so that colour is dropped when output is not a terminal;
tables and live displays use rich (``stdout_console``), created per call so that whatever
``sys.stdout`` is at that moment (a pipe, a test runner's buffer) receives the output.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

import click
from rich.console import Console

from parafraim_build.errors import BuildError, SpecError

# Wide enough that no listing wraps; tables never pad themselves out to it.
_UNBOUNDED_WIDTH = 1000


def out(text: str = "") -> None:
    """A line on stdout."""
    click.echo(text)


def err(text: str = "") -> None:
    """A line on stderr."""
    click.echo(text, err=True)


def print_json(value: Any) -> None:
    """A JSON document on stdout, stable key order, for scripts."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def print_warning(message: str) -> None:
    """A warning on stderr."""
    click.echo(click.style("warning: ", fg="yellow", bold=True) + message, err=True)


def print_error(error: BuildError) -> None:
    """An expected failure on stderr: the message, then the hint if there is one.

    Spec problems start each line with ``FILE:LINE:COLUMN:`` and no prefix, so that editors'
    and CI's problem matchers pick every one of them up.
    """
    if isinstance(error, SpecError):
        click.echo(error.message, err=True)
    else:
        click.echo(click.style("error: ", fg="red", bold=True) + error.message, err=True)
    if error.hint:
        click.echo(click.style("hint: ", fg="cyan") + error.hint, err=True)


def print_interrupted() -> None:
    """What we say on ^C."""
    click.echo("interrupted", err=True)


def print_internal_error(exc: BaseException, log_path: str | None) -> None:
    """An unexpected exception: a bug. Say so, and where the traceback went."""
    where = f"; the traceback is in {log_path}" if log_path else ""
    click.echo(
        click.style("internal error: ", fg="red", bold=True)
        + f"{type(exc).__name__}: {exc}{where}\n"
        "This is a bug in parafraim-build; please report it with that file.",
        err=True,
    )


def stdout_console() -> Console:
    """A rich console bound to the current stdout."""
    return _console(sys.stdout)


def stderr_console() -> Console:
    """A rich console bound to the current stderr."""
    return _console(sys.stderr)


def _console(stream: TextIO) -> Console:
    # Markup and emoji codes off: project names, messages and descriptions come from users
    # and from the service, and "Recap [draft]" must print as written, never as a style tag
    # (or crash on "[/]"). Styles are applied with rich objects, not markup strings.
    # A pipe or a CI log has no width: rich would assume 80 columns and wrap names and times
    # that must be copied exactly. Only a terminal (or COLUMNS) sets the width.
    width = None if _is_terminal(stream) or os.environ.get("COLUMNS") else _UNBOUNDED_WIDTH
    return Console(
        file=stream, width=width, highlight=False, soft_wrap=False, markup=False, emoji=False
    )


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or foreign stream
        return False
