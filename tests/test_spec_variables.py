"""Variables: ``--var`` overrides keep the declared type; unknown ones are command-line problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_spec_support import load, only_problem, problems

from parafraim_build.spec.variables import Refused, parse_override, variable_name_problem

SPEC = """\
version: 1
vars: {brand: Acme, count: 3, ratio: 1.5, loud: false, code: "007"}
videos:
  clip:
    steps:
      - "{{ brand }} {{ count + 1 }} {{ ratio * 2 }} {{ 'LOUD' if loud else 'quiet' }} {{ code }}"
"""


@pytest.mark.parametrize(
    ("declared", "text", "expected"),
    [
        ("Acme", "Globex", "Globex"),
        ("Acme", "5", "5"),
        ("Acme", "true", "true"),
        ("Acme", "", ""),
        (3, "5", 5),
        (3, "-12", -12),
        (1.5, "2.25", 2.25),
        (1.5, "2", 2.0),
        (False, "true", True),
        (False, "no", False),
    ],
)
def test_override_keeps_the_declared_type(declared: Any, text: str, expected: Any) -> None:
    value = parse_override(declared, text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("declared", "text", "words"),
    [
        (3, "five", "a whole number"),
        (3, "2.5", "a whole number"),
        (3, "true", "a whole number"),
        (1.5, "abc", "a number"),
        (1.5, ".inf", "a number"),
        (False, "1", "true or false"),
        (3, "[1, 2]", "a whole number"),
        (3, "{", "a whole number"),
    ],
)
def test_override_of_the_wrong_type_is_refused(declared: Any, text: str, words: str) -> None:
    assert parse_override(declared, text) == Refused(
        f"the spec declares it as {words} ({declared!r}), and {text!r} is not one"
    )


def test_typed_overrides_reach_the_templates(tmp_path: Path) -> None:
    variables = {"brand": "Globex", "count": "41", "ratio": "2", "loud": "yes", "code": "8"}
    loaded = load(tmp_path, SPEC, variables=variables)
    assert loaded.videos["clip"].steps[0].message == "Globex 42 4.0 LOUD 8"


def test_override_of_the_wrong_type_is_a_command_line_problem(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, SPEC, variables={"count": "many"})
    assert problem.message == (
        "--var count=many: the spec declares it as a whole number (3), and 'many' is not one"
    )
    assert (problem.file, problem.line, problem.source_line) == ("", None, None)


def test_command_line_problems_come_before_the_file_problems(tmp_path: Path) -> None:
    found = problems(tmp_path, SPEC + "oops: 1\n", variables={"cuont": "4"})
    assert [(Path(p.file).name, p.message.split(":")[0]) for p in found] == [
        ("", "--var cuont"),
        ("parafraim.yaml", "unknown key 'oops' at the top level; expected one of"),
    ]
    assert "(did you mean 'count'?)" in found[0].message


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("brand", None),
        ("_private2", None),
        ("video", "'video' is reserved: the tool sets it for every video"),
        ("2fast", "'2fast' is not a usable variable name"),
        ("none", "'none' is not a usable variable name"),
    ],
)
def test_variable_names(name: str, reason: str | None) -> None:
    found = variable_name_problem(name)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(reason)


def test_override_of_a_refused_variable_adds_no_second_problem(tmp_path: Path) -> None:
    spec = 'version: 1\nvars: {n: [1]}\nvideos:\n  clip:\n    steps: ["{{ n }}"]\n'
    problem = only_problem(tmp_path, spec, variables={"n": "5"})
    assert problem.message == "expected a plain value (text, a number, true or false), got a list"
    assert problem.line == 2
