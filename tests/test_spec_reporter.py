"""Locating a name inside a templated value: the exact line and column to point at."""

from __future__ import annotations

from parafraim_build.spec.reporter import find_name
from parafraim_build.spec.source import Position, SourceText
from parafraim_build.spec.templating import TemplateFailure

SOURCE = SourceText.from_text(
    "spec.yaml",
    "name: x\ndescription: >-\n  first part\n  with {{ brand }} here\nsteps: [a]\n",
)


def named(name: str | None, *, attribute: bool = False) -> TemplateFailure:
    return TemplateFailure("undefined", None, name, attribute=attribute, undefined=True)


def test_name_found_on_a_later_line_of_the_value() -> None:
    assert find_name(SOURCE, named("brand"), 2, 2, 4, Position(2, 14)) == (4, 11)


def test_name_not_searched_before_the_value_on_its_first_line() -> None:
    source = SourceText.from_text("s.yaml", "brand: '{{ brand }}'\n")
    assert find_name(source, named("brand"), 1, 1, 1, Position(1, 8)) == (1, 12)


def test_without_a_name_the_value_start_or_the_line_indent() -> None:
    assert find_name(SOURCE, named(None), 2, 2, 4, Position(2, 14)) == (2, 14)
    assert find_name(SOURCE, named(None), 3, 2, 4, Position(2, 14)) == (3, 3)
    assert find_name(SOURCE, named("absent"), 2, 2, 4, Position(2, 14)) == (2, 14)


def test_name_in_plain_text_is_not_the_place() -> None:
    source = SourceText.from_text("s.yaml", "name: brand of {{ vars.brand }} and {{ brand }}\n")
    start = Position(1, 7)
    assert find_name(source, named("brand"), 1, 1, 1, start) == (1, 40)
    assert find_name(source, named("brand", attribute=True), 1, 1, 1, start) == (1, 24)


def test_name_in_markup_that_spans_lines() -> None:
    source = SourceText.from_text("s.yaml", "- >-\n  Hello brand {{\n    brand }}\n")
    assert find_name(source, named("brand"), 1, 1, 3, Position(1, 3)) == (3, 5)


def test_the_guess_line_wins_when_the_name_is_used_twice() -> None:
    source = SourceText.from_text("s.yaml", "- |\n  {{ a }}\n  {{ b }} {{ a }}\n")
    assert find_name(source, named("a"), 3, 1, 3, Position(1, 3)) == (3, 14)
