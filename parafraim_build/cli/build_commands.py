"""The build commands of the CLI."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
