"""Sandboxed Jinja2 over spec strings: strict variables, refused escapes, exact locations."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_spec_support import load, only_problem, problems

from parafraim_build.spec.templating import MAX_OUTPUT, TemplateFailure, Templates, has_template

CONTEXT = {"brand": "Acme", "lang": "de", "video": "clip", "vars": {"brand": "Acme"}}


def render(text: str) -> str | TemplateFailure:
    return Templates().render(text, CONTEXT)


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
    )


def test_output_is_bounded() -> None:
    result = render("{% for i in range(20) %}{{ 'x' * 99999 }}{% endfor %}")
    assert isinstance(result, TemplateFailure)
    assert result.message == f"template output is too long ({20 * 99999} characters)"
    assert MAX_OUTPUT < 20 * 99999


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
    assert (problem.line, problem.column) == (2, 1)


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
