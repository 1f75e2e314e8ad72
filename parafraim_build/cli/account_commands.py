"""The account commands: ``whoami``, ``credits``, ``templates`` and ``projects``.

Each reads the settings from the environment, runs one look-up and hands the result to
``console.account_view``. A missing or bad key and an unreachable host are ``BuildError``s,
which the group's handler prints as one line (and a hint) with exit code 1.

Each takes ``--local``: it asks the embedded engine of ``plan --local`` and ``apply --local``
instead (no key needed), so that a hint naming one of them works for a local build too. The
local engine's account is the same made-up one for everybody. ``credits`` and ``projects``
read the local state of a spec (``-f``, only with ``--local``) through a read-only engine:
a look-up never changes that state, and works while an ``apply --local`` of the spec runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from click.core import ParameterSource

from parafraim_build import console
from parafraim_build.api import lookups
from parafraim_build.cli.options import (
    json_option,
    local_option,
    spec_file_option_for,
    verbose_option,
)
from parafraim_build.config import ApiSettings, settings_from_env
from parafraim_build.connection import embedded_engine, lookup_state_dir
from parafraim_build.console import account_view
from parafraim_build.spec.loader import display_name, missing_spec_error
from parafraim_build.workspace import LOCAL_IDENTITY, workspace_for

_local_state_option = spec_file_option_for(
    "With --local: the spec whose local runs to look at (.parafraim/local/ beside it)."
)


def _lookup_spec(*, local: bool, spec_file: Path) -> Path | None:
    """The spec whose local state a look-up reads; ``None`` for the real service.

    ``-f`` only means something with ``--local``: without, it is a usage error rather than
    silently ignored. A spec named with ``-f`` must exist, as for every other command, so
    that a typo is not mistaken for a spec without local runs. The default spec need not:
    ``credits --local`` in any folder shows what a fresh local engine would.
    """
    context = click.get_current_context()
    given = context.get_parameter_source("spec_file") is not ParameterSource.DEFAULT
    if not local:
        if given:
            raise click.UsageError(
                "-f/--file names the spec whose local runs to look at: use it with --local"
            )
        return None
    # A folder is refused by the option itself (dir_okay=False).
    if given and not spec_file.exists() and not spec_file.is_symlink():
        raise missing_spec_error(display_name(spec_file))
    return spec_file


@contextmanager
def _service(*, local: bool, spec_file: Path | None = None) -> Iterator[ApiSettings]:
    """Settings for the real service from the environment, or for the embedded engine.

    With ``spec_file`` the engine reads, without changing it, the state that spec's local runs
    keep; before any local run it starts fresh in memory, and says so on stderr. Without a
    spec (``templates``) it starts fresh in memory: the catalogue is the same in every state.
    """
    if not local:
        yield settings_from_env()
        return
    state_dir = None
    if spec_file is not None:
        state_dir = lookup_state_dir(workspace_for(spec_file, local=True))
        if state_dir is None:
            console.err(
                f"no local runs of {display_name(spec_file)} yet: showing a fresh local engine"
            )
    with embedded_engine(state_dir, read_only=True) as settings:
        yield settings


@click.command()
@verbose_option
@local_option
@json_option
def whoami(local: bool, as_json: bool) -> None:
    """Show the account that PARAFRAIM_API_KEY belongs to (--local: the local engine's)."""
    with _service(local=local) as settings:
        me = asyncio.run(lookups.fetch_me(settings))
    base_url = LOCAL_IDENTITY if local else settings.base_url
    account_view.print_me(me, base_url=base_url, as_json=as_json)


@click.command()
@verbose_option
@local_option
@_local_state_option
@json_option
def credits(local: bool, spec_file: Path, as_json: bool) -> None:
    """Show the credit balance, this month's usage and recent transactions."""
    with _service(
        local=local, spec_file=_lookup_spec(local=local, spec_file=spec_file)
    ) as settings:
        found = asyncio.run(lookups.fetch_credits(settings))
    account_view.print_credits(found, as_json=as_json)


@click.command()
@verbose_option
@click.option("--q", "query", metavar="TEXT", help="Search name, description and category.")
@click.option("--category", metavar="C", help="Only this category (exact match).")
@local_option
@json_option
def templates(query: str | None, category: str | None, local: bool, as_json: bool) -> None:
    """List the templates (every page), optionally searched or filtered."""
    categories: list[str] = []
    with _service(local=local) as settings:
        found = asyncio.run(lookups.fetch_templates(settings, q=query, category=category))
        if not found and category is not None and not as_json:
            # A category must match exactly: say which exist (one more listing, only now),
            # unless the category was right and only the search found nothing.
            every = asyncio.run(lookups.fetch_templates(settings, q=None, category=None))
            known = sorted({t.category for t in every if t.category})
            categories = [] if category in known else known
    account_view.print_templates(found, as_json=as_json, categories=categories)


@click.command()
@verbose_option
@local_option
@_local_state_option
@json_option
def projects(local: bool, spec_file: Path, as_json: bool) -> None:
    """List every project of the account (every page)."""
    with _service(
        local=local, spec_file=_lookup_spec(local=local, spec_file=spec_file)
    ) as settings:
        found = asyncio.run(lookups.fetch_projects(settings))
    account_view.print_projects(found, as_json=as_json)


COMMANDS: list[click.Command] = [whoami, credits, templates, projects]
