"""The shape check: unknown keys with did-you-mean, wrong types, ranges, missing keys.

Each bad-input case names the message it expects and the line and column it must point at;
``only_problem`` also proves that the one mistake did not cause a second, invented problem.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_spec_support import MINIMAL, load, only_problem, problems

from parafraim_build.spec.structure import describe_value, real_path

VIDEO = """\
version: 1
videos:
  clip:
    {line}
    steps: [Say hello.]
"""

CASES = [
    # (id, spec, expected message, line, column)
    (
        "top-level key with different case",
        MINIMAL + "outdir: build\n",
        "unknown key 'outdir' at the top level (did you mean 'outDir'?)",
        5,
        1,
    ),
    (
        "misspelt video key",
        VIDEO.format(line="stpes: [x]"),
        "unknown key 'stpes' (did you mean 'steps'?)",
        4,
        5,
    ),
    (
        "snake case key",
        VIDEO.format(line='aspect_ratio: "9:16"'),
        "unknown key 'aspect_ratio' (did you mean 'aspectRatio'?)",
        4,
        5,
    ),
    (
        "transposed render field",
        VIDEO.format(line="renders: {hd: {fsp: 30}}"),
        "unknown key 'fsp' (did you mean 'fps'?)",
        4,
        20,
    ),
    (
        "misspelt key inside a step",
        VIDEO.format(line="name: x").replace(
            "steps: [Say hello.]",
            "steps:\n      - message: Hi.\n        selected_elements: [{selector: a}]",
        ),
        "unknown key 'selected_elements' (did you mean 'selectedElements'?)",
        7,
        9,
    ),
    (
        "unknown key without a close match lists the allowed keys",
        MINIMAL.replace("  clip:\n", "  clip:\n    colour: red\n"),
        "unknown key 'colour'; expected one of: name, description, template, aspectRatio, "
        "steps, renders, matrix",
        4,
        5,
    ),
    (
        "unknown key in defaults",
        MINIMAL + "defaults: {steps: [a]}\n",
        "unknown key 'steps'; expected one of: aspectRatio, template, renders",
        5,
        12,
    ),
    (
        "message and file in one step",
        VIDEO.format(line="name: x").replace(
            "steps: [Say hello.]", "steps:\n      - {file: a.md, message: Hi.}"
        ),
        "a step has either `message` or `file`, not both",
        6,
        22,
    ),
    (
        "missing version",
        "videos:\n  clip:\n    steps: [Hi.]\n",
        "missing required key 'version' (start the spec with `version: 1`)",
        1,
        1,
    ),
    (
        "unsupported version",
        MINIMAL.replace("version: 1", "version: 2"),
        "unsupported spec version 2: this parafraim-build reads version 1",
        1,
        10,
    ),
    (
        "version as text",
        MINIMAL.replace("version: 1", 'version: "1"'),
        "version must be a whole number, got the text '1'",
        1,
        10,
    ),
    ("missing videos", "version: 1\n", "missing required key 'videos'", 1, 1),
    ("no videos", "version: 1\nvideos: {}\n", "declare at least one video under videos", 2, 9),
    (
        "videos as a list",
        "version: 1\nvideos:\n  - clip\n",
        "expected a mapping (key: value lines), got a list",
        3,
        3,
    ),
    (
        "video as text",
        "version: 1\nvideos:\n  clip: hello\n",
        "expected a mapping (key: value lines), got the text 'hello'",
        3,
        9,
    ),
    (
        "steps as text",
        "version: 1\nvideos:\n  clip:\n    steps: Say hello.\n",
        "expected a list, got the text 'Say hello.'",
        4,
        12,
    ),
    (
        "step as a number",
        "version: 1\nvideos:\n  clip:\n    steps: [Hi., 42]\n",
        "a step is text, {message: ...} or {file: ...}, got the number 42",
        4,
        18,
    ),
    (
        "step message as a list",
        "version: 1\nvideos:\n  clip:\n    steps:\n      - message: [a, b]\n",
        "expected text, got a list",
        5,
        18,
    ),
    (
        "step without message",
        "version: 1\nvideos:\n  clip:\n    steps:\n      - selectedElement: {id: a}\n",
        "missing required key 'message'",
        5,
        9,
    ),
    (
        "unquoted number as a name",
        VIDEO.format(line="name: 2024"),
        "expected text, but YAML reads the unquoted 2024 as the number 2024: put it in quotes "
        '("2024")',
        4,
        11,
    ),
    (
        "unquoted aspect ratio",
        VIDEO.format(line="aspectRatio: 16:9"),
        "expected text, but YAML reads the unquoted 16:9 as the number 969: put it in quotes "
        '("16:9")',
        4,
        18,
    ),
    (
        "unquoted boolean as a description",
        VIDEO.format(line="description: yes"),
        "expected text, but YAML reads the unquoted yes as the boolean true: put it in quotes "
        '("yes")',
        4,
        18,
    ),
    (
        "width as text",
        VIDEO.format(line='renders: {hd: {width: "1920"}}'),
        "width must be a whole number, got the text '1920'",
        4,
        27,
    ),
    (
        "fps as a fraction",
        VIDEO.format(line="renders: {hd: {fps: 29.97}}"),
        "fps must be a whole number, got the number 29.97",
        4,
        25,
    ),
    (
        "boolean as quoted text",
        VIDEO.format(line='renders: {hd: {includeAudio: "no"}}'),
        "includeAudio must be true or false, got the text 'no'",
        4,
        34,
    ),
    (
        "template as a list",
        VIDEO.format(line="template: [a]"),
        "a template is an exact name or {id: <uuid>}, got a list",
        4,
        15,
    ),
    (
        "template mapping with a misspelt id",
        VIDEO.format(line="template: {ID: 00000000-0000-0000-0000-000000000001}"),
        "unknown key 'ID' (did you mean 'id'?)",
        4,
        16,
    ),
    (
        "template mapping without id",
        VIDEO.format(line="template: {}"),
        "missing required key 'id'",
        4,
        15,
    ),
    (
        "nine selected elements",
        VIDEO.format(line="name: x").replace(
            "steps: [Say hello.]",
            "steps:\n      - message: Hi.\n        selectedElements: [{a: 1}, {a: 2}, {a: 3}, "
            "{a: 4}, {a: 5}, {a: 6}, {a: 7}, {a: 8}, {a: 9}]",
        ),
        "selectedElements has 9 elements: the API takes at most 8",
        7,
        27,
    ),
    (
        "not a number inside a selected element",
        VIDEO.format(line="name: x").replace(
            "steps: [Say hello.]",
            "steps:\n      - message: Hi.\n        selectedElement: {x: .nan}",
        ),
        "expected a finite number, got nan",
        7,
        26,
    ),
    (
        "empty matrix list",
        VIDEO.format(line="matrix: {lang: []}"),
        "matrix list 'lang' is empty: it would expand to no videos",
        4,
        20,
    ),
    (
        "matrix list as text",
        VIDEO.format(line="matrix: {lang: en}"),
        "expected a list, got the text 'en'",
        4,
        20,
    ),
    (
        "matrix value as a mapping",
        VIDEO.format(line="matrix: {lang: [{code: en}]}"),
        "expected a plain value (text, a number, true or false), got a mapping",
        4,
        21,
    ),
    (
        "variable as a list",
        MINIMAL + "vars: {langs: [en, de]}\n",
        "expected a plain value (text, a number, true or false), got a list",
        5,
        15,
    ),
    (
        "outDir as a number",
        MINIMAL + "outDir: 5\n",
        'expected text, but YAML reads the unquoted 5 as the number 5: put it in quotes ("5")',
        5,
        9,
    ),
    (
        "null default render",
        MINIMAL + "defaults: {renders: {hd: null}}\n",
        "expected a mapping (key: value lines), got null",
        5,
        26,
    ),
]


@pytest.mark.parametrize(
    ("spec", "message", "line", "column"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_shape(tmp_path: Path, spec: str, message: str, line: int, column: int) -> None:
    problem = only_problem(tmp_path, spec, {"a.md": "Say hello."})
    assert problem.message == message
    assert (problem.line, problem.column) == (line, column)


RANGE_EDGES = [
    ("width", 480, 479, "width 479 is out of range: the API takes 480 to 3840"),
    ("width", 3840, 3841, "width 3841 is out of range: the API takes 480 to 3840"),
    ("height", 270, 269, "height 269 is out of range: the API takes 270 to 2160"),
    ("height", 2160, 2161, "height 2161 is out of range: the API takes 270 to 2160"),
    ("fps", 24, 23, "fps 23 is out of range: the API takes 24 to 60"),
    ("fps", 60, 61, "fps 61 is out of range: the API takes 24 to 60"),
]


@pytest.mark.parametrize(("field", "edge", "past", "message"), RANGE_EDGES)
def test_render_limits_at_and_past_the_edge(
    tmp_path: Path, field: str, edge: int, past: int, message: str
) -> None:
    spec = VIDEO.format(line=f"renders: {{hd: {{{field}: {{value}}}}}}")
    config = load(tmp_path / "edge", spec.replace("{value}", str(edge))).videos["clip"]
    assert getattr(config.renders["hd"], field) == edge
    problem = only_problem(tmp_path / "past", spec.replace("{value}", str(past)))
    assert problem.message == message
    assert problem.line == 4
    assert problem.column == 20 + len(field) + 2
    assert problem.key_path == f"videos.clip.renders.hd.{field}"


def test_every_shape_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    spec = """\
    version: 1
    outdir: out
    videos:
      a:
        stpes: [x]
      b:
        steps: [Hi.]
        renders: {hd: {width: 100, fps: 100}}
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.key_path) for p in found] == [
        (2, "outdir"),
        (5, "videos.a.stpes"),
        (8, "videos.b.renders.hd.width"),
        (8, "videos.b.renders.hd.fps"),
    ]


def test_shape_problems_do_not_hide_template_problems_elsewhere(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      a:
        descripton: typo here
        steps: ["Hello {{ nobody }}"]
      b:
        steps: ["Hi {{ video }}", "Bye {{ missing }}"]
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.message.split(" (")[0].split(";")[0]) for p in found] == [
        (4, "unknown key 'descripton'"),
        (5, "undefined variable 'nobody'"),
        (7, "undefined variable 'missing'"),
    ]


def test_a_malformed_step_does_not_shift_the_next_ones(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      a:
        steps:
          - 42
          - "Hi {{ missing }}"
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.key_path) for p in found] == [
        (5, "videos.a.steps[0]"),
        (6, "videos.a.steps[1]"),
    ]


def test_wrong_key_and_missing_id_are_both_reported(tmp_path: Path) -> None:
    spec = VIDEO.format(line="template: {uuid: 00000000-0000-0000-0000-000000000001}")
    found = problems(tmp_path, spec)
    assert [(p.message, p.line, p.column) for p in found] == [
        ("missing required key 'id'", 4, 15),
        ("unknown key 'uuid'; expected one of: id", 4, 16),
    ]


def test_real_path_skips_union_tags_and_keeps_missing_keys() -> None:
    data = {"videos": {"v": {"steps": [{"selectedElement": {}}]}}}
    loc = ("videos", "v", "steps", 0, "<message step>", "message")
    assert real_path(data, loc) == ("videos", "v", "steps", 0, "message")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "null"),
        (True, "the boolean true"),
        (3, "the number 3"),
        ("x" * 50, "the text '" + "x" * 37 + "...'"),
        ([], "a list"),
        ({}, "a mapping"),
    ],
)
def test_describe_value(value: object, words: str) -> None:
    assert describe_value(value) == words


# ------------------------------------------- a misspelt required key hides nothing else


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("steps: [{mesage: Hi.}]", "unknown key 'mesage' (did you mean 'message'?)"),
        (
            "template: {ID: 00000000-0000-0000-0000-000000000001}",
            "unknown key 'ID' (did you mean 'id'?)",
        ),
        ("steps: [{fiel: a.md}]", "unknown key 'fiel' (did you mean 'file'?)"),
        ("template: {id: 5}", "expected text, but YAML reads the unquoted 5 as the number 5"),
    ],
)
def test_a_misspelt_required_key_does_not_hide_other_videos(
    tmp_path: Path, line: str, message: str
) -> None:
    spec = f"""\
    version: 1
    videos:
      a:
        {line}
      b:
        name: "{{{{ nope }}}}"
        steps: [Hi.]
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.message.split(";")[0].split(": put")[0]) for p in found] == [
        (4, message),
        (6, "undefined variable 'nope'"),
    ]


def test_a_step_without_file_suggests_the_keys_of_both_kinds_of_step(tmp_path: Path) -> None:
    spec = VIDEO.format(line="name: x").replace("steps: [Say hello.]", "steps: [{colour: x}]")
    found = problems(tmp_path, spec)
    assert [p.message for p in found] == [
        "missing required key 'message'",
        "unknown key 'colour'; expected one of: message, selectedElement, selectedElements, file",
    ]


def test_a_refused_variable_causes_no_follow_on_problems(tmp_path: Path) -> None:
    spec = """\
    version: 1
    vars: {title: [a, b], brand: Acme}
    outDir: "out-{{ title }}"
    videos:
      clip:
        name: "{{ title }}"
        steps: ["{{ vars.title }} by {{ brand }}", "{{ title }} {{ missing }}"]
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.message.split(";")[0]) for p in found] == [
        (2, "expected a plain value (text, a number, true or false), got a list"),
        (7, "undefined variable 'missing'"),
    ]


def test_vars_that_is_not_a_mapping_causes_no_follow_on_problems(tmp_path: Path) -> None:
    spec = (
        'version: 1\nvars: [brand]\nvideos:\n  clip:\n    name: "{{ brand }}"\n    steps: [Hi.]\n'
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message == "expected a mapping (key: value lines), got a list"
    assert problem.line == 2


QUOTE_IT = "must be quoted: YAML reads a value that starts with { as a mapping; write"

UNQUOTED_TEMPLATES = [
    # (id, line written under the video, expected message, line, column); the YAML reader
    # finds these (yamlsource), before the shape check, like the unquoted 16:9 above.
    (
        "whole value",
        "name: {{ brand }}",
        f'`{{{{ brand }}}}` {QUOTE_IT} name: "{{{{ brand }}}}"',
        4,
        11,
    ),
    (
        "whole value with a comment",
        "description: {{brand}}   # the brand",
        f'`{{{{brand}}}}` {QUOTE_IT} description: "{{{{brand}}}}"',
        4,
        18,
    ),
    (
        "text after it",
        "name: {{ brand }} teaser",
        f'`{{{{ brand }}}}` {QUOTE_IT} name: "{{{{ brand }}}} teaser"',
        4,
        11,
    ),
    (
        "a second template after it, and a comment",
        "name: {{ brand }}-{{ video }}  # both",
        f'`{{{{ brand }}}}` {QUOTE_IT} name: "{{{{ brand }}}}-{{{{ video }}}}"',
        4,
        11,
    ),
    (
        "double quotes inside",
        'name: {{ "x" }} teaser',
        f'`{{{{ "x" }}}}` {QUOTE_IT} name: \'{{{{ "x" }}}} teaser\'',
        4,
        11,
    ),
]


@pytest.mark.parametrize(
    ("line", "message", "line_number", "column"),
    [case[1:] for case in UNQUOTED_TEMPLATES],
    ids=[case[0] for case in UNQUOTED_TEMPLATES],
)
def test_an_unquoted_value_starting_with_braces_says_to_quote_it(
    tmp_path: Path, line: str, message: str, line_number: int, column: int
) -> None:
    spec = VIDEO.format(line=line).replace("version: 1\n", "version: 1\nvars: {brand: Acme}\n")
    problem = only_problem(tmp_path, spec)
    assert problem.message == message
    assert (problem.line, problem.column) == (line_number + 1, column)
    assert problem.source_line is not None
    assert problem.source_line[column - 1 :].startswith("{{")


def test_an_unquoted_list_item_starting_with_braces_says_to_quote_it(tmp_path: Path) -> None:
    spec = "version: 1\nvideos:\n  clip:\n    steps:\n      - Hi.\n      - {{ video }} ends\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message == f'`{{{{ video }}}}` {QUOTE_IT} "{{{{ video }}}} ends"'
    assert (problem.line, problem.column) == (6, 9)
    flow = "version: 1\nvideos:\n  clip:\n    steps: [Hi., {{ video }}]\n"
    problem = only_problem(tmp_path / "flow", flow)
    assert problem.message == f'`{{{{ video }}}}` {QUOTE_IT} "{{{{ video }}}}"'
    assert (problem.line, problem.column, problem.key_path) == (4, 18, "videos.clip.steps[1]")


def test_quoted_braces_and_braces_later_in_the_text_need_no_quotes(tmp_path: Path) -> None:
    spec = VIDEO.format(line='name: "{{ video }} teaser"').replace(
        "steps: [Say hello.]", "description: A teaser for {{ video }}\n    steps: [Say hello.]"
    )
    clip = load(tmp_path, spec).videos["clip"]
    assert (clip.name, clip.description) == ("clip teaser", "A teaser for clip")


def test_a_mapping_that_is_not_a_template_keeps_the_plain_key_message(tmp_path: Path) -> None:
    spec = VIDEO.format(line="name: {{a: 1}: x}")
    problem = only_problem(tmp_path, spec)
    assert problem.message == "a key must be plain text, not a list or map"
    assert (problem.line, problem.column) == (4, 12)


def test_a_syntax_error_below_an_unquoted_template_is_reported_where_it_is(
    tmp_path: Path,
) -> None:
    # `name: {{ x }}` alone is readable; the line after it has its own mistake.
    spec = VIDEO.format(line="name: {{ brand }}\n    description: a: b: c")
    problem = only_problem(tmp_path, spec)
    assert problem.message == "YAML syntax error: mapping values are not allowed in this context"
    assert (problem.line, problem.column) == (5, 19)


def test_stray_text_continuing_an_unquoted_template_points_at_the_template(
    tmp_path: Path,
) -> None:
    spec = VIDEO.format(line="name: {{ brand }}\n      teaser")
    problem = only_problem(tmp_path, spec)
    assert problem.message == f'`{{{{ brand }}}}` {QUOTE_IT} name: "{{{{ brand }}}}"'
    assert (problem.line, problem.column) == (4, 11)
