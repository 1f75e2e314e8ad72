"""``planning``: looking up template names, and the hint a misspelt one gets.

The look-up runs against the embedded engine of ``--local`` (a real socket, its built-in
catalogue); the hint's command is then run as the user would, to show it works. A name that
matches nothing is a spec problem at the ``template:`` value that set it.
"""

from __future__ import annotations

import asyncio
import shlex
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_spec_support import write_project

from parafraim_build.api.client import ParafraimClient
from parafraim_build.cli import main
from parafraim_build.connection import embedded_engine
from parafraim_build.errors import ConfigError, SpecError, SpecProblem
from parafraim_build.plan import templates_to_resolve
from parafraim_build.planning import resolve_template_names, templates_command
from parafraim_build.spec import load_spec
from parafraim_build.spec.models import Spec


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


def resolve_for(spec: Spec) -> dict[str, str]:
    """Resolve every template name of ``spec`` against the embedded engine, as plan does."""

    async def run() -> dict[str, str]:
        with embedded_engine(None) as settings:
            async with ParafraimClient(settings) as client:
                return await resolve_template_names(
                    client, templates_to_resolve(spec, None), local=True, spec=spec
                )

    return asyncio.run(run())


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder that is also the working directory, as when a user runs a command."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def misspelt(root: Path, spec: str, variables: dict[str, str] | None = None) -> SpecProblem:
    """The one problem of resolving ``spec``'s template names, which must fail."""
    loaded = load_spec(write_project(root, spec), variables=variables)
    with pytest.raises(SpecError) as caught:
        resolve_for(loaded)
    (problem,) = caught.value.problems
    assert caught.value.hint == "`parafraim-build templates --local` lists them; names are " + (
        "case-sensitive"
    )
    return problem


LUNCH = "no template is named exactly 'Product lunch'; did you mean 'Product launch'?"

LOCATED = [
    # (id, spec, key path, line, column)
    (
        "written in the video",
        """\
        version: 1
        videos:
          weekly:
            template: Weekly recap
            steps: [Hi.]
          launch:
            template:   Product lunch
            steps: [Hi.]
        """,
        "videos.launch.template",
        7,
        17,
    ),
    (
        "inherited from defaults",
        """\
        version: 1
        defaults:
          template: Product lunch
        videos:
          launch:
            steps: [Hi.]
        """,
        "defaults.template",
        3,
        13,
    ),
    (
        "templated from a variable",
        """\
        version: 1
        vars: {tpl: Weekly recap}
        videos:
          other:
            template: "{{ tpl }}"
            steps: [Hi.]
          launch:
            template: "Product {{ 'l' + 'unch' }}"
            steps: [Hi.]
        """,
        "videos.launch.template",
        8,
        15,
    ),
    (
        "templated in a matrix entry",
        """\
        version: 1
        videos:
          ad-{{ lang }}:
            matrix: {lang: [en, de]}
            template: "{{ 'Product lunch' if lang == 'de' else 'Weekly recap' }}"
            steps: [Hi.]
        """,
        "videos.ad-{{ lang }}.template",
        5,
        15,
    ),
]


@pytest.mark.parametrize(
    ("spec", "key_path", "line", "column"),
    [case[1:] for case in LOCATED],
    ids=[case[0] for case in LOCATED],
)
def test_an_unknown_template_name_is_a_spec_problem_at_its_template_value(
    here: Path, spec: str, key_path: str, line: int, column: int
) -> None:
    problem = misspelt(here, spec)
    assert problem.message == LUNCH
    assert (problem.file, problem.line, problem.column) == ("parafraim.yaml", line, column)
    assert problem.key_path == key_path
    source = textwrap.dedent(spec).splitlines()[line - 1]
    assert problem.source_line == source
    assert source[column - 1 :].lstrip('"').startswith(("Product", "{{"))


def test_a_name_given_with_var_points_at_the_template_that_uses_the_variable(
    here: Path,
) -> None:
    spec = """\
    version: 1
    vars: {tpl: Weekly recap}
    videos:
      launch:
        template: "{{ tpl }}"
        steps: [Hi.]
    """
    problem = misspelt(here, spec, {"tpl": "Product lunch"})
    assert (problem.line, problem.column, problem.key_path) == (5, 15, "videos.launch.template")


def test_a_spec_changed_since_it_was_loaded_names_the_file_alone(here: Path) -> None:
    path = write_project(here, "version: 1\nvideos:\n  a: {template: Product lunch}\n")
    spec = load_spec(path)
    path.write_text("version: 1\nvideos:\n  b: {template: Weekly recap}\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        resolve_for(spec)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.key_path) == (None, None, "")
    assert problem.render() == f"parafraim.yaml: {LUNCH}"


def test_a_misspelt_template_in_plan_local_names_its_position(here: Path) -> None:
    write_project(
        here,
        """\
        version: 1
        videos:
          launch:
            steps: [Open with our new product.]
            template: Product lunch
        """,
    )
    result = CliRunner().invoke(main, ["plan", "--local"])
    assert result.exit_code == 1
    assert f"parafraim.yaml:5:15: {LUNCH} (at videos.launch.template)" in result.stderr
    assert "`parafraim-build templates --local` lists them" in result.stderr
