"""``planning``: looking up template names, and the hint a misspelt one gets.

The look-up runs against the embedded engine of ``--local`` (a real socket, its built-in
catalogue); the hint's command is then run as the user would, to show it works.
"""

from __future__ import annotations

import asyncio
import shlex

import pytest
from click.testing import CliRunner

from parafraim_build.api.client import ParafraimClient
from parafraim_build.cli import main
from parafraim_build.connection import embedded_engine
from parafraim_build.errors import ConfigError
from parafraim_build.planning import resolve_template_names, templates_command


def resolve(names: list[str], *, local: bool) -> dict[str, str]:
    async def run() -> dict[str, str]:
        with embedded_engine(None) as settings:
            async with ParafraimClient(settings) as client:
                return await resolve_template_names(client, names, local=local)

    return asyncio.run(run())


def test_exact_names_resolve_to_their_ids() -> None:
    assert resolve(["Weekly recap"], local=True) == {
        "Weekly recap": "00000000-0000-0000-0000-000000000007"
    }


@pytest.mark.parametrize("local", [True, False])
def test_a_misspelt_name_offers_the_close_one_and_a_command_for_this_run(local: bool) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(["Weekly recapp"], local=local)
    assert (
        str(caught.value)
        == "no template is named exactly 'Weekly recapp'; did you mean 'Weekly recap'?"
    )
    hint = caught.value.hint or ""
    command = hint.split("`")[1]
    assert command == templates_command(local=local)
    assert command.endswith("--local") is local


def test_the_local_hint_names_a_command_that_lists_the_local_catalogue() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(["Weekly recapp"], local=True)
    command = shlex.split((caught.value.hint or "").split("`")[1])
    assert command[0] == "parafraim-build"
    # No PARAFRAIM_API_KEY in the environment (conftest): --local needs none.
    result = CliRunner().invoke(main, [*command[1:], "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Weekly recap" in result.stdout
