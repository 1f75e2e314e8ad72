"""The console prints user and service text as written: no markup, no emoji codes."""

from __future__ import annotations

import pytest

from parafraim_build.api.models import ProjectSummary
from parafraim_build.console import account_view, print_error
from parafraim_build.errors import ConfigError, SpecError, SpecProblem


@pytest.mark.parametrize("name", ["Recap [draft]", "[/]", "[bold]x[/bold]", "Launch :smile:"])
def test_service_strings_in_tables_print_verbatim(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    account_view.print_projects([ProjectSummary(id="p-1", name=name)], as_json=False)
    assert name in capsys.readouterr().out


def test_errors_carry_a_prefix_and_their_hint(capsys: pytest.CaptureFixture[str]) -> None:
    print_error(ConfigError("PARAFRAIM_API_KEY is not set", hint="export it"))
    assert capsys.readouterr().err == "error: PARAFRAIM_API_KEY is not set\nhint: export it\n"


def test_spec_problems_start_each_line_with_their_location(
    capsys: pytest.CaptureFixture[str],
) -> None:
    problem = SpecProblem("a.yaml", 3, 5, "unknown key 'x'", "videos.v.x", "    x: 1")
    print_error(SpecError([problem]))
    err = capsys.readouterr().err
    assert err.startswith("a.yaml:3:5: unknown key 'x' (at videos.v.x)\n")
