"""Sandboxed Jinja2 over spec strings: strict variables, refused escapes, exact locations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_spec_support import load, only_problem, problems

from parafraim_build.spec.sandbox import MAX_OUTPUT
from parafraim_build.spec.templating import (
    TemplateFailure,
    Templates,
    has_template,
    name_offsets,
)

CONTEXT = {"brand": "Acme", "lang": "de", "video": "clip", "vars": {"brand": "Acme"}}


def render(text: str) -> str | TemplateFailure:
    """The text, or the first failure (most templates fail for one reason)."""
    result = Templates().render(text, CONTEXT)
    return result if isinstance(result, str) else result[0]


def failures(text: str) -> tuple[TemplateFailure, ...]:
    result = Templates().render(text, CONTEXT)
    assert not isinstance(result, str), result
    return result


def test_plain_text_is_returned_untouched() -> None:
    assert render("Shorten { the } second scene") == "Shorten { the } second scene"
    assert not has_template("{ not a template }")
    assert has_template("{# a comment #}")


def test_variables_filters_and_conditions() -> None:
    assert render("{{ brand | upper }} {{ vars.brand }} in {{ lang }}") == "ACME Acme in de"
    assert render("{% if lang == 'de' %}Hallo{% else %}Hello{% endif %}") == "Hallo"


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("{{ ''.__class__.__mro__ }}", "refused by the template sandbox: access to attribute"),
        ("{{ cycler.__init__.__globals__ }}", "refused by the template sandbox"),
        ("{{ brand.__len__() }}", "refused by the template sandbox"),
        ("{{ vars.update({'x': 1}) }}", "refused by the template sandbox"),
        ("{{ 'a' * 100000000 }}", "refused by the template sandbox: repeating a value"),
        ("{{ 10 ** 10000000 }}", "refused by the template sandbox: the exponent"),
        ("{% include '/etc/passwd' %}", "spec templates cannot include, import or extend"),
        ("{% import 'x.j2' as x %}", "spec templates cannot include, import or extend"),
        ("{{ 1 / 0 }}", "template failed: ZeroDivisionError"),
        ("{{ [1]|dictsort }}", "template failed: AttributeError"),
        ("{{ 5|xmlattr }}", "template failed: AttributeError"),
        ("{{ brand|truncate(1) }}", "template failed: AssertionError"),
        ("{{ cycler() }}", "template failed: RuntimeError: at least one item"),
        ("{{ brand + 1 }}", "template failed: TypeError"),
        ("{{ brand ", "template syntax error: unexpected end of template"),
        ("{% for x in %}", "template syntax error"),
    ],
)
def test_escapes_and_errors_are_failures(text: str, start: str) -> None:
    result = render(text)
    assert isinstance(result, TemplateFailure)
    assert result.message.startswith(start), result.message


def test_undefined_variable_names_it_and_suggests() -> None:
    result = render("line one\nFor {{ brnd }}.")
    assert result == TemplateFailure(
        "undefined variable 'brnd' (did you mean 'brand'?); defined here: brand, lang, vars, video",
        2,
        "brnd",
        undefined=True,
    )


def test_every_undefined_name_is_reported_in_order_with_its_line() -> None:
    found = failures("{{ brand }} {{ tone }}\n{% if lnag %}{{ audience }}{% endif %} {{ tone }}")
    assert [(f.name, f.line) for f in found] == [("tone", 1), ("lnag", 2), ("audience", 2)]
    assert found[1].message.startswith("undefined variable 'lnag' (did you mean 'lang'?)")
    assert all(f.undefined for f in found)


def test_names_set_or_looped_in_the_template_are_not_undefined() -> None:
    found = failures("{% set x = 1 %}{% for i in [1] %}{{ i }}{% endfor %}{{ x }}{{ nope }}")
    assert [f.name for f in found] == ["nope"]


def test_output_is_bounded() -> None:
    result = render("{% for i in range(20) %}{{ 'x' * 99999 }}{% endfor %}")
    assert isinstance(result, TemplateFailure)
    assert result.message == "template output is longer than 100,000 characters"
    assert MAX_OUTPUT == 100_000
    assert render("{{ 'x' * 100000 }}") == "x" * MAX_OUTPUT


@pytest.mark.parametrize(
    ("text", "name"),
    [("{{ [1, 2, 3]|random }}", "random"), ("{{ range(10)|random }}", "random")],
)
def test_random_is_an_unknown_filter(text: str, name: str) -> None:
    result = render(text)
    assert isinstance(result, TemplateFailure)
    assert result.message.startswith(
        f"unknown filter '{name}': the random filter is not available in spec templates, "
        "because it gives different text on every run"
    )
    assert (result.line, result.name) == (1, "random")


def test_lipsum_is_undefined() -> None:
    result = render("{{ lipsum(3000000, html=False) }}")
    assert isinstance(result, TemplateFailure)
    assert result.message.startswith("undefined variable 'lipsum': lipsum is not available")


def test_a_misspelt_filter_gets_a_suggestion() -> None:
    result = render("{{ brand|uper }}")
    assert isinstance(result, TemplateFailure)
    assert result.message == "unknown filter 'uper' (did you mean 'upper'?)"


def test_names_used_lists_the_variables_a_string_reads() -> None:
    templates = Templates()
    assert templates.names_used("v-{{ lang }}-{{ size|upper }}") == {"lang", "size"}
    assert templates.names_used("plain") == frozenset()
    assert templates.names_used("{{ broken") == frozenset()


@pytest.mark.parametrize(
    ("text", "name", "attribute", "expected"),
    [
        ("brand {{ brand }}", "brand", False, [9]),
        ("{{ vars.brand }} {{ brand }}", "brand", False, [20]),
        ("{{ vars.brand }} {{ brand }}", "brand", True, [8]),
        ("{{ 'brand' ~ brand }}", "brand", False, [13]),
        ("{{ brands }} {% if brand %}", "brand", False, [19]),
        ("{# brand #} {{ x|brand }}", "brand", False, [17]),
        ("no markup brand", "brand", False, []),
    ],
)
def test_name_offsets_only_in_template_code(
    text: str, name: str, attribute: bool, expected: list[int]
) -> None:
    assert name_offsets(text, name, attribute=attribute) == expected


def test_each_string_is_compiled_once() -> None:
    templates = Templates()
    for lang in ("en", "de", "fr"):
        assert templates.render("Hi {{ lang }}", {"lang": lang}) == f"Hi {lang}"
    templates.render("{{ broken", {})
    templates.render("{{ broken", {})
    assert templates.compiled_count == 2


# --------------------------------------------------------------- located in the spec


def test_undefined_variable_in_a_plain_step_points_at_the_name(tmp_path: Path) -> None:
    spec = """\
    version: 1
    vars: {brand: Acme}
    videos:
      clip:
        steps:
          - Make the opening more direct for {{ brnd }}.
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("undefined variable 'brnd' (did you mean 'brand'?)")
    assert (problem.line, problem.column) == (6, 45)
    assert problem.key_path == "videos.clip.steps[0]"
    assert problem.source_line == "      - Make the opening more direct for {{ brnd }}."


def test_undefined_variable_in_a_literal_block_names_its_line(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      clip:
        steps:
          - message: |
              First line.
              Second line.
              Third line for {{ audience }}.
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("undefined variable 'audience'")
    assert (problem.line, problem.column) == (8, 29)
    assert problem.key_path == "videos.clip.steps[0].message"


def test_undefined_variable_in_a_folded_block_names_its_line(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      clip:
        description: >-
          A long description that goes on
          and mentions {{ product }} on this line.
        steps: [Hi.]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("undefined variable 'product'")
    assert (problem.line, problem.column) == (6, 23)


def test_syntax_error_in_a_quoted_string(tmp_path: Path) -> None:
    spec = 'version: 1\nvideos:\n  clip:\n    name: "Launch {{ brand"\n    steps: [Hi.]\n'
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("template syntax error")
    assert (problem.line, problem.column) == (4, 11)
    assert problem.key_path == "videos.clip.name"


def test_sandbox_escape_in_a_spec_is_refused_with_its_location(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      clip:
        steps:
          - "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("refused by the template sandbox")
    assert (problem.line, problem.column) == (5, 16)


def test_undefined_variable_in_a_video_key_points_at_the_key(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      recap-{{ lnag }}:
        matrix: {lang: [en]}
        steps: [Hi.]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("undefined variable 'lnag' (did you mean 'lang'?)")
    assert (problem.line, problem.column) == (3, 12)
    assert problem.key_path == "videos.recap-{{ lnag }}"


def test_video_is_not_defined_inside_its_own_key(tmp_path: Path) -> None:
    spec = "version: 1\nvideos:\n  x-{{ video }}:\n    steps: [Hi.]\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("undefined variable 'video'")
    assert (problem.line, problem.column) == (3, 8)


def test_video_vars_and_matrix_values_are_defined(tmp_path: Path) -> None:
    spec = """\
    version: 1
    vars: {brand: Acme}
    videos:
      recap-{{ lang }}:
        matrix: {lang: [en, de], n: [3]}
        name: "{{ vars.brand }} {{ video }}"
        steps: ["{{ brand }} {{ lang }} {{ n * 2 }} {{ video }}"]
    """
    loaded = load(tmp_path, spec)
    assert loaded.videos["recap-de"].name == "Acme recap-de"
    assert loaded.videos["recap-de"].steps[0].message == "Acme de 6 recap-de"


def test_var_overrides_replace_values(tmp_path: Path) -> None:
    spec = 'version: 1\nvars: {brand: Acme}\nvideos:\n  clip:\n    steps: ["For {{ brand }}."]\n'
    loaded = load(tmp_path, spec, variables={"brand": "Globex"})
    assert loaded.videos["clip"].steps[0].message == "For Globex."


def test_unknown_var_override_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    spec = 'version: 1\nvars: {brand: Acme}\nvideos:\n  clip:\n    steps: ["For {{ brand }}."]\n'
    problem = only_problem(tmp_path, spec, variables={"brnad": "Globex"})
    assert problem.message == (
        "--var brnad: the spec declares no variable 'brnad' (did you mean 'brand'?); "
        "declare it under vars to override it"
    )
    # A command-line problem: no file, no line, and no YAML line shown beneath it.
    assert (problem.file, problem.line, problem.column, problem.source_line) == (
        "",
        None,
        None,
        None,
    )
    assert problem.render() == problem.message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("my-brand", "'my-brand' is not a usable variable name"),
        ("video", "'video' is reserved: the tool sets it for every video"),
        ("vars", "'vars' is reserved"),
        ("if", "'if' is not a usable variable name"),
    ],
)
def test_bad_variable_names(tmp_path: Path, name: str, message: str) -> None:
    spec = f"version: 1\nvars:\n  {name}: x\nvideos:\n  clip:\n    steps: [Hi.]\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith(message)
    assert (problem.line, problem.column) == (3, 3)


def test_same_problem_in_every_expansion_is_reported_once(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      recap-{{ lang }}:
        matrix: {lang: [en, de, fr, es]}
        steps: ["{{ lang }} {{ missing }}"]
    """
    found = problems(tmp_path, spec)
    assert len(found) == 1
    assert found[0].message.endswith("[in 4 videos, e.g. recap-en, recap-de, recap-fr]")
    assert found[0].line == 5


# ------------------------------------------------- determinism and every name, in a spec


def test_random_and_lipsum_in_a_spec_are_reported_at_their_place(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      clip:
        name: "Clip {{ lipsum(2) }}"
        steps:
          - Open on scene {{ [1, 2, 3]|random }}.
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.column, p.message.split(":")[0]) for p in found] == [
        (4, 20, "undefined variable 'lipsum'"),
        (6, 36, "unknown filter 'random'"),
    ]
    assert all("gives different text on every run" in p.message for p in found)


DETERMINISTIC = """\
version: 1
vars: {brand: Acme, tags: "a,b,c"}
videos:
  clip-{{ n }}:
    matrix: {n: [1, 2]}
    name: "{{ brand }} {{ n }}"
    steps:
      - >-
        {% set c = cycler('x', 'y') %}{% set j = joiner('/') %}{% set ns = namespace(t=0) %}
        {%- for tag in tags.split(',')|unique|sort %}{{ j() }}{{ tag|upper }}{{ c.next() }}
        {%- set ns.t = ns.t + loop.index %}{% endfor %} {{ ns.t }}
        {{ {'b': 2, 'a': 1}|dictsort }} {{ vars|tojson }} {{ range(3)|list }}
        {{ [{'k': 'b'}, {'k': 'a'}]|groupby('k')|map(attribute='grouper')|join }}
        {{ '%05.1f'|format(n * 2.5) }} {{ '{:>4}'.format(n) }}
"""


def test_the_same_spec_expands_identically_in_separate_runs(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.yaml"
    path.write_text(DETERMINISTIC, encoding="utf-8")
    outputs = []
    for seed in ("1", "2"):
        ran = subprocess.run(
            [sys.executable, "-m", "parafraim_build", "validate", "--json", "-f", str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        outputs.append(ran.stdout)
    assert outputs[0] == outputs[1]
    message = json.loads(outputs[0])["videos"]["clip-2"]["steps"][0]["message"]
    assert message == (
        "Ax/By/Cx 6 [('a', 1), ('b', 2)] "
        '{"brand": "Acme", "tags": "a,b,c"} [0, 1, 2] ab 005.0    2'
    )
    assert (
        load(tmp_path / "again", DETERMINISTIC).canonical()
        == load(tmp_path / "again", DETERMINISTIC).canonical()
    )


def test_every_undefined_name_of_a_value_is_reported_where_it_is(tmp_path: Path) -> None:
    spec = """\
    version: 1
    vars: {brand: Acme}
    videos:
      clip:
        name: "{{ brnd }} for {{ audience }}, {{ brand }}"
        steps: [Hi.]
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.column, p.message.split(";")[0]) for p in found] == [
        (5, 15, "undefined variable 'brnd' (did you mean 'brand'?)"),
        (5, 30, "undefined variable 'audience'"),
    ]


def test_caret_of_an_undefined_attribute_points_inside_the_template(tmp_path: Path) -> None:
    spec = """\
    version: 1
    vars: {brand: Acme}
    videos:
      clip:
        name: "nope, said {{ vars.nope }}"
        steps: [Hi.]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message == "undefined value: 'dict object' has no attribute 'nope'"
    assert (problem.line, problem.column) == (5, 31)
