"""Options shared by several commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from parafraim_build.commands import DEFAULT_SPEC
from parafraim_build.logs import configure_logging

F = TypeVar("F", bound=Callable[..., Any])


def spec_file_option_for(help_text: str) -> Callable[[F], F]:
    """``-f/--file SPEC`` (``./parafraim.yaml`` by default), with the command's own help."""
    return click.option(
        "-f",
        "--file",
        "spec_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_SPEC,
        show_default=True,
        help=help_text,
    )


spec_file_option: Callable[[F], F] = spec_file_option_for("The spec file to read.")
"""``-f/--file SPEC``: the spec to read."""


def var_option(func: F) -> F:
    """``--var key=value`` (repeatable): override a spec variable."""
    return click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a variable of the spec's `vars` (repeatable).",
    )(func)


def json_option(func: F) -> F:
    """``--json``: print a machine-readable document instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def local_option(func: F) -> F:
    """``--local``: run against the embedded local engine instead of the real service."""
    return click.option(
        "--local",
        is_flag=True,
        help="Use the embedded local engine (no credits, no network); state in .parafraim/.",
    )(func)


def _enable_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        configure_logging(True)


def verbose_option(func: F) -> F:
    """``-v/--verbose`` after the command name too (``parafraim-build plan -v``): log HTTP
    requests, secrets redacted. The group's own ``-v`` does the same before the name."""
    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        callback=_enable_verbose,
        help="Log HTTP requests (secrets redacted).",
    )(func)


def parse_variables(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("a=1", "b=x=y")`` -> ``{"a": "1", "b": "x=y"}``; a pair without ``=`` is a usage error."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--var")
        result[key.strip()] = value
    return result
