"""Sizes worked out before a filter, text method or operator builds a value that multiplies."""

from __future__ import annotations

import time
from typing import Any

import pytest
from jinja2.exceptions import SecurityError

from parafraim_build.spec.bounds import (
    FILTER_CHECKS,
    MAX_OUTPUT,
    check_brace_format,
    check_join,
    check_percent_format,
    check_power,
    check_replace,
    check_text_call,
)
from parafraim_build.spec.sandbox import BoundedSandbox
from parafraim_build.spec.templating import Templates

CONTEXT = {"text": "one two three", "items": ["a", "b", "c"], "data": {"a": [1, 2]}}


def measure(value: Any, *, plain: bool) -> int:
    """A stand-in for the sandbox's measure: the length of the value's text."""
    return len(str(value))


def render(text: str) -> str:
    started = time.perf_counter()
    result = Templates().render(text, CONTEXT)
    assert time.perf_counter() - started < 3
    if isinstance(result, str):
        return result
    return result[0].message


@pytest.mark.parametrize(
    "text",
    [
        "{{ items|batch(99999999, 'x')|list }}",
        "{{ items|slice(99999999)|list }}",
        "{{ [items] * 1000|tojson(99999) }}",
        "{{ data|tojson(indent=99999999) }}",
        "{{ ('a ' * 20000)|wordwrap(1, wrapstring='x' * 1000) }}",
        "{{ ('a.co ' * 1000)|urlize(target='x' * 10000) }}",
        "{{ text|center(width=99999999) }}",
        "{{ ('a\\n' * 10)|indent(width='x' * 60000, first=true) }}",
    ],
)
def test_filters_that_multiply_are_refused_before_building(text: str) -> None:
    message = render(text)
    assert message.startswith("refused by the template sandbox: ")
    assert "100,000" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ items|batch(2, '-')|list }}", "[['a', 'b'], ['c', '-']]"),
        ("{{ items|slice(2)|list }}", "[['a', 'b'], ['c']]"),
        ("{{ data|tojson(2) }}", '{\n  "a": [\n    1,\n    2\n  ]\n}'),
        ("{{ text|wordwrap(7) }}", "one two\nthree"),
        (
            "{{ 'see https://a.co'|urlize(target='_blank') }}",
            'see <a href="https://a.co" rel="noopener" target="_blank">',
        ),
        ("{{ text|center(17) }}", "  one two three  "),
        ("{{ 'a\\nb'|indent('> ', first=true) }}", "> a\n> b"),
        ("{{ items|join(', ') }} {{ text|replace('o', '0', 1) }}", "a, b, c 0ne two three"),
    ],
)
def test_ordinary_uses_of_those_filters_work(text: str, expected: str) -> None:
    assert render(text).startswith(expected)


def test_every_checked_filter_exists() -> None:
    assert set(FILTER_CHECKS) <= set(BoundedSandbox().filters)


def test_text_method_checks() -> None:
    with pytest.raises(SecurityError, match="a width of 999,999,999 is more than 100,000"):
        check_text_call(measure, "x", "zfill", (999_999_999,), {})
    with pytest.raises(SecurityError, match="over 100,000 characters"):
        check_text_call(measure, "\t" * 100, "expandtabs", (), {"tabsize": 10_000})
    items = iter(["a", "b"])
    assert check_text_call(measure, "-", "join", (items,), {}) == (["a", "b"],)
    assert check_text_call(measure, "x", "upper", (), {}) == ()


def test_join_and_replace_sizes() -> None:
    check_join(measure, ["a"] * 10, "-" * 1000)
    with pytest.raises(SecurityError):
        check_join(measure, ["a"] * 200, "-" * 1000)
    check_replace("x" * 10, "x", "y" * 1000, None)
    check_replace("x" * 1000, "x", "y" * 1000, 5)
    with pytest.raises(SecurityError):
        check_replace("x" * 1000, "x", "y" * 1000, None)
    with pytest.raises(SecurityError):
        check_replace("x" * 1000, "", "y" * 100, -1)


@pytest.mark.parametrize(
    ("template", "refused"),
    [("%s and %5.2f", False), ("%(name)-10s", False), ("%999999s", True), ("%.*f", True)],
)
def test_percent_formats(template: str, refused: bool) -> None:
    if refused:
        with pytest.raises(SecurityError):
            check_percent_format(template)
    else:
        check_percent_format(template)


@pytest.mark.parametrize(
    ("template", "refused"),
    [("{} {:>10} {name:,}", False), ("{:>999999}", True), ("{:{}}", True)],
)
def test_brace_formats(template: str, refused: bool) -> None:
    if refused:
        with pytest.raises(SecurityError):
            check_brace_format(template)
    else:
        check_brace_format(template)


def test_powers() -> None:
    check_power(2, 256)
    check_power(2.5, -3)
    with pytest.raises(SecurityError, match="the exponent 257 is too large"):
        check_power(2, 257)
    with pytest.raises(SecurityError, match="too many digits"):
        check_power(10**1000, 200)
    assert MAX_OUTPUT == 100_000
