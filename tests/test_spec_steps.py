"""Steps: templated messages and selections, trimmed, and checked against the API's limits."""

from __future__ import annotations

from pathlib import Path

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
