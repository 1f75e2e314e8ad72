"""The spec commands: ``validate``, ``schema`` and ``init``.

Each parses its options, calls one function of ``parafraim_build.spec`` and hands the result
to ``console.spec_view``. A bad spec raises ``SpecError``, which the group's handler prints
(every problem as ``FILE:LINE:COLUMN: message``) with exit code 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from parafraim_build.cli.options import json_option, parse_variables, spec_file_option, var_option
from parafraim_build.console import spec_view
from parafraim_build.spec import json_schema, load_spec
from parafraim_build.spec.loader import display_name
from parafraim_build.spec.starter import init_project


@click.command()
@spec_file_option
@var_option
@json_option
def validate(spec_file: Path, variables: tuple[str, ...], as_json: bool) -> None:
    """Check the spec offline and show what it would build.

    Every problem is reported as FILE:LINE:COLUMN: message, with the key path and the
    offending line, and the exit code is 1. Nothing is sent anywhere and no credit is spent.
    With --json, print the fully expanded spec (templated, matrix-expanded, defaults merged).
    """
    spec = load_spec(spec_file, variables=parse_variables(variables))
    if as_json:
        spec_view.print_spec_json(spec)
    else:
        spec_view.print_spec_summary(spec, display_name(spec_file))


@click.command()
def schema() -> None:
    """Print the JSON Schema of parafraim.yaml.

    Editors use it for completion and checks: save it and point the
    `# yaml-language-server: $schema=...` comment at it.
    """
    spec_view.print_schema(json_schema())


@click.command()
@click.argument(
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    required=False,
)
def init(directory: Path) -> None:
    """Start a project in DIRECTORY (default: here).

    Writes a commented parafraim.yaml, a prompt file under prompts/ and the .gitignore lines
    for build outputs and local state. Never overwrites a file.
    """
    spec_view.print_init_result(init_project(directory), cwd=Path.cwd())


COMMANDS: list[click.Command] = [validate, schema, init]
