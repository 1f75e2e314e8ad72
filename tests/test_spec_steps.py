"""Steps: templated messages and selections, trimmed, and checked against the API's limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_spec_support import load, only_problem

from parafraim_build.api.models import MESSAGE_MAX


def test_selected_elements_are_templated_and_passed_through(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      scene-{{ n }}:
        matrix: {n: [2]}
        steps:
          - message: Shorten this scene.
            selectedElement: {selector: "#scene-{{ n }}", index: 1, tags: [a, "{{ video }}"]}
            selectedElements: [{selector: "#title"}]
    """
    (step,) = load(tmp_path, spec).videos["scene-2"].steps
    assert step.selectedElement == {"selector": "#scene-2", "index": 1, "tags": ["a", "scene-2"]}
    assert step.selectedElements == ({"selector": "#title"},)


def test_message_one_past_the_limit(tmp_path: Path) -> None:
    spec = f"""\
    version: 1
    vars: {{m: {"m" * MESSAGE_MAX}}}
    videos:
      clip:
        steps:
          - Hi.
          - "{{{{ m }}}}!"
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        f"the message is {MESSAGE_MAX + 1} characters after templating; the API takes at most "
        f"{MESSAGE_MAX}"
    )
    assert (problem.line, problem.column) == (7, 9)
    assert problem.key_path == "videos.clip.steps[1]"


def test_message_empty_after_templating(tmp_path: Path) -> None:
    spec = 'version: 1\nvars: {x: ""}\nvideos:\n  clip:\n    steps: ["  {{ x }} "]\n'
    problem = only_problem(tmp_path, spec)
    assert problem.message == "the message is empty after templating"
    assert (problem.line, problem.column) == (5, 13)


def test_more_than_eight_selected_elements_in_all(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      clip:
        steps:
          - message: Nine in all.
            selectedElement: {i: 0}
            selectedElements: [{i: 1}, {i: 2}, {i: 3}, {i: 4}, {i: 5}, {i: 6}, {i: 7}, {i: 8}]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "the step selects 9 elements in all (selectedElement and selectedElements); the API "
        "takes at most 8"
    )
    assert (problem.line, problem.column) == (5, 9)


# A step with `: ` in it is read by YAML as a mapping {text before: text after}, or fails
# to parse when a quote follows the `: `; either way it is one problem at the step, showing
# the step quoted.
READ_AS_MAPPING = "because of `: ` in it; to send it as a message, quote it or write it as a block"
BLOCK = "(`- >-` on its own line, the text indented below)"

COLON_STEPS = [
    # (id, step line under `steps:`, expected message, column)
    (
        "one word before the colon",
        "- title: Rocket in fifteen",
        f"this step is read as a mapping {{title: ...}} {READ_AS_MAPPING} {BLOCK}; "
        'write - "title: Rocket in fifteen"',
        9,
    ),
    (
        "a sentence before the colon",
        "- Add a four second scene about pricing: From $9 a month, billed yearly.",
        "this step is read as a mapping {Add a four second scene about pricing: ...} "
        f"{READ_AS_MAPPING} {BLOCK}; "
        'write - "Add a four second scene about pricing: From $9 a month, billed yearly."',
        9,
    ),
    (
        "a quote after the colon (a YAML syntax error)",
        '- Add a scene: "Plan the week" with three cards.',
        f"this step is read as a mapping {{Add a scene: ...}} {READ_AS_MAPPING} {BLOCK}; "
        "write - 'Add a scene: \"Plan the week\" with three cards.'",
        9,
    ),
    (
        "a second colon (a YAML syntax error), and a comment",
        "- Scene two: Intro: hello   # the intro",
        f"this step is read as a mapping {{Scene two: ...}} {READ_AS_MAPPING} {BLOCK}; "
        'write - "Scene two: Intro: hello"',
        9,
    ),
    (
        "a quoted phrase before the colon, and a comment",
        '- "Plan the week": three cards   # the cards',
        f"this step is read as a mapping {{Plan the week: ...}} {READ_AS_MAPPING} {BLOCK}; "
        "write - '\"Plan the week\": three cards'",
        9,
    ),
]


def _steps_spec(step: str) -> str:
    return f"version: 1\nvideos:\n  clip:\n    steps:\n      - Hi.\n      {step}\n"


@pytest.mark.parametrize(
    ("step", "message", "column"),
    [case[1:] for case in COLON_STEPS],
    ids=[case[0] for case in COLON_STEPS],
)
def test_a_step_with_a_colon_is_one_problem_showing_it_quoted(
    tmp_path: Path, step: str, message: str, column: int
) -> None:
    problem = only_problem(tmp_path, _steps_spec(step))
    assert problem.message == message
    assert (problem.line, problem.column) == (6, column)
    # The form the message suggests is a step YAML reads as that very text.
    suggested = message.split("; write - ")[1]
    (_, sent) = load(tmp_path / "fixed", _steps_spec(f"- {suggested}")).videos["clip"].steps
    assert sent.message == step.removeprefix("- ").split("   #")[0]


def test_a_step_with_a_colon_continued_on_the_next_line_is_shown_folded(tmp_path: Path) -> None:
    spec = _steps_spec("- Second scene, six seconds: a slow pan\n          across the desk")
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        f"this step is read as a mapping {{Second scene, six seconds: ...}} {READ_AS_MAPPING} "
        f'{BLOCK}; write - "Second scene, six seconds: a slow pan across the desk"'
    )
    assert (problem.line, problem.column, problem.key_path) == (6, 9, "videos.clip.steps[1]")


def test_a_step_with_a_colon_inside_brackets_is_shown_without_a_dash(tmp_path: Path) -> None:
    spec = "version: 1\nvideos:\n  clip:\n    steps: [Hi., title: Rocket]\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "this step is read as a mapping {title: ...} because of `: ` in it; to send it as a "
        'message, quote it: "title: Rocket"'
    )
    assert (problem.line, problem.column) == (4, 18)


@pytest.mark.parametrize(
    ("lines", "line", "column"),
    [
        ("- message: Add a scene: four seconds", 6, 18),
        ("- selectedElement: {selector: a}\n        message: Add a scene: four seconds", 7, 18),
    ],
    ids=["on the step's line", "below selectedElement"],
)
def test_a_message_value_with_a_colon_is_one_problem_showing_it_quoted(
    tmp_path: Path, lines: str, line: int, column: int
) -> None:
    problem = only_problem(tmp_path, _steps_spec(lines))
    assert problem.message == (
        "this message is read as a mapping {Add a scene: ...} because of `: ` in it; quote it "
        'or write it as a block (`message: >-`, the text indented below); write message: "Add '
        'a scene: four seconds"'
    )
    assert (problem.line, problem.column) == (line, column)


def test_a_misspelt_step_key_keeps_its_did_you_mean(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, _steps_spec("- mesage: Add a scene."))
    assert problem.message == "unknown key 'mesage' (did you mean 'message'?)"
    assert (problem.line, problem.column) == (6, 9)
    problem = only_problem(tmp_path / "two", _steps_spec("- Files: prompts/a.md"))
    assert problem.message == "unknown key 'Files' (did you mean 'file'?)"
    assert (problem.line, problem.column) == (6, 9)


def test_a_colon_error_outside_a_steps_list_stays_a_syntax_error(tmp_path: Path) -> None:
    spec = 'version: 1\nvideos:\n  clip:\n    matrix:\n      lang:\n        - en: "x" y\n'
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "YAML syntax error: did not find expected key (while parsing a block mapping at line 6)"
    )
    assert (problem.line, problem.column) == (6, 19)
