"""Expansion: defaults merged under videos, matrix videos, keys, and every API limit checked
after templating, each reported where it was written."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_spec_support import load, only_problem, problems

from parafraim_build.api.models import DESCRIPTION_MAX, MESSAGE_MAX, NAME_MAX
from parafraim_build.spec import TemplateRef
from parafraim_build.spec.matrix import MAX_EXPANSIONS

DEFAULTS = """\
version: 1
defaults:
  aspectRatio: "1:1"
  template: Product launch
  renders:
    hd: {width: 1280, height: 720, fps: 25}
    teaser: {width: 480, height: 270, format: gif, quality: draft}
videos:
"""


def test_template_null_starts_blank_despite_defaults(tmp_path: Path) -> None:
    spec = DEFAULTS + '  clip:\n    template: null\n    aspectRatio: "9:16"\n    steps: [Hi.]\n'
    video = load(tmp_path, spec).videos["clip"]
    assert video.template is None
    assert video.aspectRatio == "9:16"


def test_template_by_id_is_lowercased(tmp_path: Path) -> None:
    spec = (
        "version: 1\nvideos:\n  clip:\n"
        "    template: {id: 00000000-0000-0000-0000-00000000000A}\n    steps: [Hi.]\n"
    )
    template = load(tmp_path, spec).videos["clip"].template
    assert template == TemplateRef(id="00000000-0000-0000-0000-00000000000a")


def test_matrix_expands_to_the_cartesian_product_in_order(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      ad-{{ lang }}-{{ size }}:
        matrix: {lang: [en, de], size: [s, m, l]}
        steps: ["{{ lang }} {{ size }}"]
    """
    videos = load(tmp_path, spec).videos
    assert list(videos) == [
        "ad-en-s",
        "ad-en-m",
        "ad-en-l",
        "ad-de-s",
        "ad-de-m",
        "ad-de-l",
    ]
    assert videos["ad-de-m"].steps[0].message == "de m"


LIMIT_CASES = [
    # (id, video body, expected message, line, column)
    (
        "name too long after templating",
        'name: "{{ long }}"',
        f"name is {NAME_MAX + 1} characters after templating; the API takes at most {NAME_MAX}",
        6,
        11,
    ),
    ("name empty after templating", 'name: "{{ empty }}"', "name is empty after templating", 6, 11),
    (
        "description too long",
        'description: "{{ long }}{{ long }}{{ long }}{{ long }}{{ long }}"',
        f"description is {5 * (NAME_MAX + 1)} characters after templating; the API takes at "
        f"most {DESCRIPTION_MAX}",
        6,
        18,
    ),
    (
        "aspect ratio not offered",
        'aspectRatio: "4:3"',
        "aspectRatio '4:3' is not one of 16:9, 9:16, 1:1",
        6,
        18,
    ),
    (
        "template id not a uuid",
        "template: {id: nope}",
        "template id 'nope' is not a UUID (like 00000000-0000-0000-0000-000000000007)",
        6,
        20,
    ),
    (
        "template name empty",
        'template: "{{ empty }}"',
        "template name is empty after templating",
        6,
        15,
    ),
    (
        "format not offered",
        "renders: {hd: {format: webm}}",
        "format 'webm' is not one of mp4, gif",
        6,
        28,
    ),
    (
        "quality not offered",
        "renders: {hd: {quality: ultra}}",
        "quality 'ultra' is not one of draft, standard, high",
        6,
        29,
    ),
    (
        "render name with a space",
        'renders: {"hd video": {}}',
        "render name 'hd video' is not a valid file name: use letters, digits, '.', '_' and "
        "'-', start with a letter or digit, at most 64 characters",
        6,
        15,
    ),
    (
        "render name templated into a bad one",
        'renders: {"{{ dash }}hd": {}}',
        "render name '-hd' is not a valid file name: use letters, digits, '.', '_' and '-', "
        "start with a letter or digit, at most 64 characters",
        6,
        15,
    ),
]


@pytest.mark.parametrize(
    ("body", "message", "line", "column"),
    [case[1:] for case in LIMIT_CASES],
    ids=[case[0] for case in LIMIT_CASES],
)
def test_limits_after_templating(
    tmp_path: Path, body: str, message: str, line: int, column: int
) -> None:
    spec = (
        "version: 1\n"
        f"vars: {{long: {'x' * (NAME_MAX + 1)}, empty: '', dash: '-'}}\n"
        "videos:\n"
        "  clip:\n"
        "    steps: [Hi.]\n"
        f"    {body}\n"
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message == message
    assert (problem.line, problem.column) == (line, column)


def test_limits_at_their_edge_are_accepted(tmp_path: Path) -> None:
    spec = f"""\
    version: 1
    vars: {{n: {"n" * NAME_MAX}, d: {"d" * DESCRIPTION_MAX}, m: {"m" * MESSAGE_MAX}}}
    videos:
      clip:
        name: "{{{{ n }}}}"
        description: "{{{{ d }}}}"
        steps:
          - "{{{{ m }}}}"
          - message: Eight in all.
            selectedElement: {{i: 0}}
            selectedElements: [{{i: 1}}, {{i: 2}}, {{i: 3}}, {{i: 4}}, {{i: 5}}, {{i: 6}}, {{i: 7}}]
    """
    video = load(tmp_path, spec).videos["clip"]
    assert len(video.name) == NAME_MAX
    assert video.description is not None
    assert len(video.description) == DESCRIPTION_MAX
    assert len(video.steps[0].message) == MESSAGE_MAX
    assert video.steps[1].selectedElements is not None
    assert len(video.steps[1].selectedElements) == 7


# ------------------------------------------------------------------ keys


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ('"launch video"', "'launch video'"),
        ("-launch", "'-launch'"),
        ('"{{ brand }} launch"', "'Acme launch' (expanded from '{{ brand }} launch')"),
        ("x" * 65, "'" + "x" * 65 + "'"),
        ('"ünïcode"', "'ünïcode'"),
        ('"a/b"', "'a/b'"),
    ],
)
def test_video_keys_must_be_file_names(tmp_path: Path, key: str, shown: str) -> None:
    spec = f"version: 1\nvars: {{brand: Acme}}\nvideos:\n  {key}:\n    steps: [Hi.]\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        f"video key {shown} is not a valid file name: use letters, digits, '.', '_' and '-', "
        "start with a letter or digit, at most 64 characters"
    )
    assert (problem.line, problem.column) == (4, 3)


def test_key_of_64_characters_is_accepted(tmp_path: Path) -> None:
    key = "a" + "b.c_d-" * 10 + "xyz"
    assert len(key) == 64
    spec = f"version: 1\nvideos:\n  {key}:\n    steps: [Hi.]\n"
    assert list(load(tmp_path, spec).videos) == [key]


def test_two_videos_expanding_to_the_same_key(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      recap-de:
        steps: [Hi.]
      recap-{{ lang }}:
        matrix: {lang: [en, de]}
        steps: [Hi.]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "video key 'recap-de' (expanded from 'recap-{{ lang }}') is also produced by "
        "videos.recap-de (line 3): two videos cannot share a key"
    )
    assert (problem.line, problem.column) == (5, 3)


@pytest.mark.parametrize(
    "key", ['"clip\\n"', '"clip\\r\\n"', '"{{ name }}"'], ids=["newline", "crlf", "templated"]
)
def test_video_key_with_a_trailing_newline_is_refused(tmp_path: Path, key: str) -> None:
    spec = f'version: 1\nvars: {{name: "clip\\n"}}\nvideos:\n  {key}:\n    steps: [Hi.]\n'
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("video key 'clip\\")
    assert "is not a valid file name" in problem.message


def test_template_id_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    spec = (
        "version: 1\nvideos:\n  clip:\n"
        '    template: {id: "00000000-0000-0000-0000-000000000007\\n"}\n    steps: [Hi.]\n'
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "template id '00000000-0000-0000-0000-000000000007\\n' is not a UUID "
        "(like 00000000-0000-0000-0000-000000000007)"
    )


def test_video_keys_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      Launch:
        steps: [Hi.]
      launch:
        steps: [Hi.]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "video key 'launch' differs only in case from 'Launch' of videos.Launch (line 3): on "
        "macOS and Windows both would be one folder; rename one"
    )
    assert (problem.line, problem.column) == (5, 3)


def test_matrix_keys_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    spec = "version: 1\nvideos:\n  ad-{{ lang }}:\n    matrix: {lang: [EN, en]}\n    steps: [Hi.]\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "video key 'ad-en' (lang=en) differs only in case from 'ad-EN' (lang=EN): on macOS and "
        "Windows both would be one folder; rename one"
    )
    assert (problem.line, problem.column) == (3, 3)


def test_matrix_key_without_the_matrix_variables(tmp_path: Path) -> None:
    spec = "version: 1\nvideos:\n  recap:\n    matrix: {lang: [en, de, fr]}\n    steps: [Hi.]\n"
    found = problems(tmp_path, spec)
    assert [(p.message, p.line, p.column) for p in found] == [
        (
            "video key 'recap' is produced by more than one matrix combination (lang=en and "
            "lang=de): put the matrix variables in the key, e.g. recap-{{ lang }}",
            3,
            3,
        ),
        (
            "video key 'recap' is produced by more than one matrix combination (lang=en and "
            "lang=fr): put the matrix variables in the key, e.g. recap-{{ lang }}",
            3,
            3,
        ),
    ]


def test_matrix_key_advice_names_the_variables_the_key_does_not_use(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      ad-{{ lang }}:
        matrix: {lang: [en, de], size: [s, m]}
        steps: [Hi.]
    """
    found = problems(tmp_path, spec)
    assert [p.message for p in found] == [
        "video key 'ad-en' is produced by more than one matrix combination (lang=en, size=s "
        "and lang=en, size=m): put the matrix variables in the key, e.g. "
        "ad-{{ lang }}-{{ size }}",
        "video key 'ad-de' is produced by more than one matrix combination (lang=de, size=s "
        "and lang=de, size=m): put the matrix variables in the key, e.g. "
        "ad-{{ lang }}-{{ size }}",
    ]


def test_matrix_key_that_uses_every_variable_but_still_collides(tmp_path: Path) -> None:
    spec = (
        "version: 1\nvideos:\n  ad-{{ lang[:1] }}:\n    matrix: {lang: [en, es]}\n"
        "    steps: [Hi.]\n"
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message.endswith(
        "(lang=en and lang=es): make the key tell the combinations apart"
    )


@pytest.mark.parametrize(
    ("matrix", "message", "column"),
    [
        ("{n: [1], lang: [en, de, en]}", "matrix list 'lang' has 'en' twice", 37),
        ("{lang: [en], n: [1, 2, 2]}", "matrix list 'n' has 2 twice", 36),
    ],
)
def test_a_matrix_list_with_a_value_twice(
    tmp_path: Path, matrix: str, message: str, column: int
) -> None:
    spec = (
        "version: 1\nvideos:\n  ad-{{ lang }}-{{ n }}:\n"
        f"    matrix: {matrix}\n    steps: [Hi.]\n"
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        f"{message}: every combination would be built twice under one key; remove one"
    )
    assert (problem.line, problem.column) == (4, column)


@pytest.mark.parametrize(
    ("matrix", "message", "column"),
    [
        ("{video: [a]}", "'video' is reserved: the tool sets it for every video", 14),
        ("{brand: [a]}", "matrix list 'brand' has the name of a variable in vars: rename one", 14),
        ("{my-lang: [a]}", "'my-lang' is not a usable variable name", 14),
    ],
)
def test_bad_matrix_names(tmp_path: Path, matrix: str, message: str, column: int) -> None:
    spec = (
        "version: 1\nvars: {brand: Acme}\nvideos:\n  v-{{ video }}:\n"
        f"    matrix: {matrix}\n    steps: [Hi.]\n"
    ).replace("v-{{ video }}", "clip")
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith(message)
    assert (problem.line, problem.column) == (5, column)


def test_matrix_that_expands_too_far(tmp_path: Path) -> None:
    side = int(MAX_EXPANSIONS**0.5) + 1
    values = ", ".join(str(i) for i in range(side))
    spec = (
        "version: 1\nvideos:\n  v-{{ a }}-{{ b }}:\n"
        f"    matrix: {{a: [{values}], b: [{values}]}}\n    steps: [Hi.]\n"
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        f"the matrix expands to {side * side} videos; at most {MAX_EXPANSIONS} per entry"
    )
    assert (problem.line, problem.column) == (4, 5)


def test_every_expansion_problem_is_reported_per_video(tmp_path: Path) -> None:
    spec = """\
    version: 1
    vars: {short: ok}
    videos:
      t-{{ lang }}:
        matrix: {lang: [en, de]}
        name: "{{ 'x' * 101 if lang == 'de' else short }}"
        steps: [Hi.]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        f"name is 101 characters after templating; the API takes at most {NAME_MAX} [in video t-de]"
    )


def test_all_problems_of_all_videos_in_one_run(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      a:
        aspectRatio: "4:3"
        steps: ["{{ x }}"]
      b:
        template: {id: nope}
        renders: {hd: {format: avi}}
        steps: [Hi.]
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.key_path) for p in found] == [
        (4, "videos.a.aspectRatio"),
        (5, "videos.a.steps[0]"),
        (7, "videos.b.template.id"),
        (8, "videos.b.renders.hd.format"),
    ]


@pytest.mark.parametrize(
    ("body", "what", "line", "column"),
    [
        ("name: Launch pfk_live_123", "the video's name", 5, 11),
        ('name: "{{ key }}"', "the video's name", 5, 11),
        ("description: uses pfk_abcdefgh", "the description", 5, 18),
        ("template: Launch pfk_x9x9x9x9", "the template name", 5, 15),
    ],
)
def test_a_key_in_a_name_description_or_template_is_refused_where_written(
    tmp_path: Path, body: str, what: str, line: int, column: int
) -> None:
    # These are sent to the service and written to the lock, which refuses key-like text:
    # refused at load time, nothing is ever sent.
    spec = (
        "version: 1\n"
        "vars: {key: pfk_from_a_var}\n"
        "videos:\n"
        "  clip:\n"
        f"    {body}\n"
        "    steps: [Hi.]\n"
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith(f"{what} looks like an API key (pfk_...)")
    assert "pfk_" not in problem.message.replace("(pfk_...)", "")
    assert (problem.line, problem.column) == (line, column)


@pytest.mark.parametrize("name", ["", "    name: Demo\n"], ids=["without-name", "with-name"])
def test_a_video_key_that_looks_like_an_api_key_is_refused(tmp_path: Path, name: str) -> None:
    # The key is the lock's entry and part of every output path, with or without a name.
    spec = f"version: 1\nvideos:\n  pfk_demo12345678:\n{name}    steps: [Hi.]\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("the video key looks like an API key")
    assert "demo12345678" not in problem.message
    assert (problem.line, problem.column) == (3, 3)


def test_a_matrix_key_that_expands_to_a_key_is_refused(tmp_path: Path) -> None:
    spec = (
        "version: 1\nvideos:\n  'v-{{ x }}':\n    matrix: {x: [ok, pfk_zz12345678]}\n"
        "    name: Okay\n    steps: [Hi.]\n"
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("the video key looks like an API key")
    assert (problem.line, problem.column) == (3, 3)


@pytest.mark.parametrize(
    ("where", "line", "column"),
    [("video", 6, 15), ("defaults", 3, 22), ("templated", 6, 15)],
)
def test_a_render_name_that_looks_like_an_api_key_is_refused(
    tmp_path: Path, where: str, line: int, column: int
) -> None:
    # The render name is the output's file name, written to the lock with its path.
    name = {"video": "pfk_teaser1234", "defaults": "hd", "templated": "'{{ r }}'"}[where]
    inherited = "pfk_teaser1234" if where == "defaults" else "hd"
    spec = (
        "version: 1\nvars: {r: pfk_teaser1234}\n"
        f"defaults: {{renders: {{{inherited}: {{}}}}}}\n"
        "videos:\n  clip:\n"
        f"    renders: {{{name}: {{width: 480, height: 270}}}}\n"
        "    steps: [Hi.]\n"
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("the render name looks like an API key")
    assert "teaser1234" not in problem.message
    assert (problem.line, problem.column) == (line, column)


@pytest.mark.parametrize("out_dir", ["pfk_out12345678", "'{{ o }}'", "build/pfk_out12345678"])
def test_an_out_dir_that_looks_like_an_api_key_is_refused(tmp_path: Path, out_dir: str) -> None:
    # Every output path in the lock starts with it.
    spec = (
        f"version: 1\nvars: {{o: pfk_out12345678}}\noutDir: {out_dir}\n"
        "videos:\n  clip: {steps: [Hi.]}\n"
    )
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("outDir looks like an API key")
    assert "out12345678" not in problem.message
    assert (problem.line, problem.column) == (3, 9)


def test_pfk_alone_is_not_a_key(tmp_path: Path) -> None:
    spec = "version: 1\nvideos:\n  clip:\n    name: Keys start with pfk_ here\n    steps: [Hi.]\n"
    assert load(tmp_path, spec).videos["clip"].name == "Keys start with pfk_ here"
