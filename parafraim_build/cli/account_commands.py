"""The account commands: ``whoami``, ``credits``, ``templates`` and ``projects``.

Each reads the settings from the environment, runs one look-up and hands the result to
``console.account_view``. A missing or bad key and an unreachable host are ``BuildError``s,
which the group's handler prints as one line (and a hint) with exit code 1.
"""

from __future__ import annotations

import asyncio

import click

from parafraim_build.api import lookups
from parafraim_build.cli.options import json_option, verbose_option
from parafraim_build.config import settings_from_env
from parafraim_build.console import account_view


@click.command()
@verbose_option
@json_option
def whoami(as_json: bool) -> None:
    """Show the account that PARAFRAIM_API_KEY belongs to."""
    settings = settings_from_env()
    me = asyncio.run(lookups.fetch_me(settings))
    account_view.print_me(me, base_url=settings.base_url, as_json=as_json)


@click.command()
@verbose_option
@json_option
def credits(as_json: bool) -> None:
    """Show the credit balance, this month's usage and recent transactions."""
    settings = settings_from_env()
    account_view.print_credits(asyncio.run(lookups.fetch_credits(settings)), as_json=as_json)


@click.command()
@verbose_option
@click.option("--q", "query", metavar="TEXT", help="Search name, description and category.")
@click.option("--category", metavar="C", help="Only this category (exact match).")
@json_option
def templates(query: str | None, category: str | None, as_json: bool) -> None:
    """List the templates (every page), optionally searched or filtered."""
    settings = settings_from_env()
    found = asyncio.run(lookups.fetch_templates(settings, q=query, category=category))
    account_view.print_templates(found, as_json=as_json)


@click.command()
@verbose_option
@json_option
def projects(as_json: bool) -> None:
    """List every project of the account (every page)."""
    settings = settings_from_env()
    account_view.print_projects(asyncio.run(lookups.fetch_projects(settings)), as_json=as_json)


COMMANDS: list[click.Command] = [whoami, credits, templates, projects]
