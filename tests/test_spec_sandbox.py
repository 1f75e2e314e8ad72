"""The template sandbox: nothing that varies between runs, no value or render without bound."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from parafraim_build.errors import SpecError
from parafraim_build.spec import load_spec
from parafraim_build.spec.sandbox import (
    MAX_OUTPUT,
    MAX_RANGE,
    MAX_STEPS,
    MAX_TOTAL_STEPS,
    REMOVED,
    BoundedSandbox,
)
from parafraim_build.spec.templating import TemplateFailure, Templates

CONTEXT = {"brand": "Acme", "items": ["b", "a", "b"], "vars": {"brand": "Acme"}}


def render(text: str) -> str | TemplateFailure:
    result = Templates().render(text, CONTEXT)
    return result if isinstance(result, str) else result[0]


def refused(text: str) -> str:
    """The sandbox's reason for refusing ``text`` (which must be refused, and quickly)."""
    started = time.perf_counter()
    result = render(text)
    assert time.perf_counter() - started < 3, "the sandbox took too long to refuse"
    assert isinstance(result, TemplateFailure), result[:200]
    assert result.message.startswith("refused by the template sandbox: "), result.message
    return result.message.removeprefix("refused by the template sandbox: ")


def test_nothing_random_is_left() -> None:
    sandbox = BoundedSandbox()
    assert "random" not in sandbox.filters
    assert "lipsum" not in sandbox.globals
    assert set(REMOVED) == {"random", "lipsum"}


def test_range_is_capped() -> None:
    assert render(f"{{{{ range({MAX_RANGE})|length }}}}") == str(MAX_RANGE)
    assert refused(f"{{{{ range({MAX_RANGE + 1})|length }}}}") == (
        "range() of 10,001 items: the sandbox allows at most 10,000"
    )


@pytest.mark.parametrize(
    "text",
    [
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "{% set r = range(10000)|list %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
        "{% for i in range(10000) %}{% for j in range(10000) %}{{ i }}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(40) }}",
        "{% macro m() %}{% for i in range(10000) %}" + "x" * 5000 + "{% endfor %}{% endmacro %}"
        "{{ m()|length }}",
        "{% set s = 'x' * 100000 %}{% for i in range(10000) %}{{ (s|upper)|length }}{% endfor %}",
    ],
    ids=["nested loops", "nested loops over a list", "nested output", "recursive macro",
         "literal text in a loop", "big filter in a loop"],
)  # fmt: skip
def test_work_is_bounded(text: str) -> None:
    assert refused(text) == (
        f"the template does too much work (more than {MAX_STEPS:,} steps of loops, calls and "
        "filters); spec templates should only fill in text"
    )


def test_the_budget_is_per_render() -> None:
    templates = Templates()
    text = "{% for i in range(10000) %}{% endfor %}{% for i in range(10000) %}{% endfor %}done"
    for _ in range(5):
        assert templates.render(text, {}) == "done"


@pytest.mark.parametrize(
    "text",
    [
        "{% set a = 'x' * 60000 %}{{ a ~ a }}",
        "{% set a = 'x' * 60000 %}{{ a + a }}",
        "{% set a = ['x' * 1000] * 90 %}{{ a + a }}",
        "{% set a = 'x' * 1000 %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}"
        "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{{ c }}",
        "{% set a = ['x' * 1000] * 90 %}{{ a|join('y' * 1000) }}",
        "{% set a = ['x' * 1000] * 90 %}{{ ('y' * 1000).join(a) }}",
        "{{ ('x' * 1000)|replace('x', 'y' * 1000) }}",
        "{{ ('x' * 1000).replace('x', 'y' * 1000) }}",
        "{{ ('a\\n' * 1000)|indent(1000) }}",
        "{{ ('\\t' * 1000).expandtabs(1000) }}",
        "{% set n = (10 ** 250) ** 250 %}{{ n ** 2 }}",
        "{% set n = (10 ** 250) ** 250 %}{{ n * n }}",
    ],
)
def test_values_are_bounded_before_they_are_built(text: str) -> None:
    assert "100,000" in refused(text) or "digits" in refused(text)


@pytest.mark.parametrize(
    "text",
    [
        "{{ '%999999999s' % 'x' }}",
        "{{ '%*s' % (999999999, 'x') }}",
        "{{ '%.999999999f' % 1.5 }}",
        "{{ '%999999999s'|format('x') }}",
        "{{ '{:>999999999}'.format('x') }}",
        "{{ '{:{}}'.format('x', 999999999) }}",
        "{{ 'x'.center(999999999) }}",
        "{{ 'x'.zfill(999999999) }}",
        "{{ 'x'|center(999999999) }}",
    ],
)
def test_huge_widths_are_refused(text: str) -> None:
    assert "100,000" in refused(text)


@pytest.mark.parametrize(
    ("text", "attribute"),
    [("{{ (5).to_bytes(999999999, 'big') }}", "to_bytes"), ("{{ 'x'.encode() }}", "encode")],
)
def test_methods_that_build_unbounded_values_are_unavailable(text: str, attribute: str) -> None:
    assert refused(text).startswith(f"access to attribute '{attribute}' of")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("{{ cycler(1, 2) }}", "Cycler"),
        ("{{ joiner() }}", "Joiner"),
        ("{{ items|map('upper') }}", "generator"),
        ("{{ brand.upper }}", "builtin_function_or_method"),
        ("{{ 'x' ~ (items|select) }}", "generator"),
        ("{{ [cycler(1)]|join }}", "Cycler"),
        ("{{ items|reverse|string }}", "list_reverseiterator"),
        ("{{ '%s' % joiner() }}", "Joiner"),
        ("{{ '{}'.format(joiner()) }}", "Joiner"),
        ("{{ range }}", "method"),
    ],
)
def test_only_plain_data_becomes_text(text: str, kind: str) -> None:
    # Anything else prints as "<... at 0x7f...>", an address that changes on every run.
    assert refused(text).startswith(f"a {kind} cannot be turned into text: only text, numbers")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ items|map('upper')|list }}", "['B', 'A', 'B']"),
        ("{{ items|unique|join(', ') }}", "b, a"),
        ("{{ items|reverse|list }}", "['b', 'a', 'b']"),
        ("{% set c = cycler('x', 'y') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}", "xyx"),
        ("{% set j = joiner('/') %}{% for i in items %}{{ j() }}{{ i }}{% endfor %}", "b/a/b"),
        (
            "{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}"
            "{% endfor %}{{ ns.n }}",
            "6",
        ),
        ("{{ vars }} {{ (1, 2.5, true, none) }}", "{'brand': 'Acme'} (1, 2.5, True, None)"),
        ("{{ '%-6s|' % brand }}{{ '{:>6}'.format(brand) }}", "Acme  |  Acme"),
        ("{{ 'x' * 99999 ~ 'y' }}", "x" * 99999 + "y"),
        ("{{ (2 ** 100)|string|length }}", "31"),
    ],
)
def test_ordinary_templates_still_work(text: str, expected: str) -> None:
    assert render(text) == expected


def test_limits_are_what_the_docs_say() -> None:
    assert (MAX_OUTPUT, MAX_RANGE, MAX_STEPS) == (100_000, 10_000, 100_000)


def test_all_the_renders_of_a_spec_share_a_total_budget() -> None:
    templates = Templates(BoundedSandbox(total_steps=70_000))
    text = "{% for i in range(10000) %}{% endfor %}done"  # about 30,000 steps
    assert templates.render(text, {}) == "done"
    assert templates.render(text, {}) == "done"
    (failure,) = templates.render(text, {})
    assert failure.message == (
        "refused by the template sandbox: the templates of this spec do too much work in all "
        "(more than 70,000 steps of loops, calls and filters)"
    )
    assert MAX_TOTAL_STEPS == 2_000_000


def test_a_spec_of_many_hostile_videos_stops_within_the_total_budget(tmp_path: Path) -> None:
    spec = (
        "version: 1\nvideos:\n  v-{{ n }}:\n    matrix: {n: ["
        + ", ".join(map(str, range(100)))
        + ']}\n    steps:\n      - "{% for i in range(9000) %}{% endfor %}{{ n }}"\n'
    )
    (tmp_path / "parafraim.yaml").write_text(spec, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / "parafraim.yaml")
    assert time.perf_counter() - started < 30
    found = caught.value.problems
    assert all("the templates of this spec do too much work in all" in p.message for p in found)
    # The step that spent the budget is named; later renders fail too, once per place.
    assert [p.key_path for p in found] == ["videos.v-{{ n }}", "videos.v-{{ n }}.steps[0]"]
