"""Locating a name inside a templated value: the exact line and column to point at."""

from __future__ import annotations

from parafraim_build.spec.reporter import find_name
from parafraim_build.spec.source import Position, SourceText

SOURCE = SourceText.from_text(
    "spec.yaml",
    "name: x\ndescription: >-\n  first part\n  with {{ brand }} here\nsteps: [a]\n",
)


def test_name_found_on_a_later_line_of_the_value() -> None:
    assert find_name(SOURCE, "brand", 2, 2, 4, Position(2, 14)) == (4, 11)


def test_name_not_searched_before_the_value_on_its_first_line() -> None:
    source = SourceText.from_text("s.yaml", "brand: '{{ brand }}'\n")
    assert find_name(source, "brand", 1, 1, 1, Position(1, 8)) == (1, 12)


def test_without_a_name_the_value_start_or_the_line_indent() -> None:
    assert find_name(SOURCE, None, 2, 2, 4, Position(2, 14)) == (2, 14)
    assert find_name(SOURCE, None, 3, 2, 4, Position(2, 14)) == (3, 3)
    assert find_name(SOURCE, "absent", 2, 2, 4, Position(2, 14)) == (2, 14)
