"""The command lines printed in hints and by ``plan --out``: one rule for ``-f``, runnable."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from parafraim_build.cli.build_commands import apply_command
from parafraim_build.commands import DEFAULT_SPEC, command_line, command_words, is_default_spec
from parafraim_build.spec.loader import validate_command


@pytest.mark.parametrize(
    ("typed", "default"),
    [
        ("parafraim.yaml", True),
        ("./parafraim.yaml", True),
        ("site/../parafraim.yaml", True),
        (Path("parafraim.yaml"), True),
        ("site/parafraim.yaml", False),
        ("videos.yaml", False),
        ("/abs/parafraim.yaml", False),
    ],
)
def test_one_rule_says_when_the_spec_is_the_default(typed: str | Path, default: bool) -> None:
    assert is_default_spec(typed) is default
    # The hint of a spec error and the command of a saved plan follow the same rule.
    assert ("-f" in shlex.split(validate_command(str(typed)))) is not default
    assert ("-f" in apply_command(Path("p.json"), spec_file=Path(typed), local=False)) is not (
        default
    )


def test_words_come_in_a_fixed_order_with_paths_as_typed() -> None:
    words = command_words(
        "apply",
        spec_file="my site/videos.yaml",
        variables=["month=June 1", "n=2"],
        local=True,
        cache_dir=Path("../cache"),
        extra=["plan.json"],
    )
    assert words == [
        "parafraim-build",
        "apply",
        "-f",
        "my site/videos.yaml",
        "--local",
        "--cache-dir",
        "../cache",
        "--var",
        "month=June 1",
        "--var",
        "n=2",
        "plan.json",
    ]


def test_parsed_variables_and_typed_pairs_give_the_same_words() -> None:
    parsed = command_words("plan", spec_file=DEFAULT_SPEC, variables={"a": "1", "b": "x=y"})
    typed = command_words("plan", spec_file=DEFAULT_SPEC, variables=("a=1", "b=x=y"))
    assert parsed == typed == ["parafraim-build", "plan", "--var", "a=1", "--var", "b=x=y"]


def test_a_printed_line_is_quoted_for_a_shell_and_redacted() -> None:
    key = "pfk_" + "k3" * 12
    line = command_line(
        "validate", spec_file="my site/videos.yaml", variables={"token": key, "m": "June 1"}
    )
    assert key not in line
    assert line.startswith("parafraim-build validate -f 'my site/videos.yaml' --var ")
    assert "'m=June 1'" in line
    plain = command_line("validate", spec_file="a b.yaml", variables={"m": "June 1"})
    assert shlex.split(plain) == [
        "parafraim-build",
        "validate",
        "-f",
        "a b.yaml",
        "--var",
        "m=June 1",
    ]
