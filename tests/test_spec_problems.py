"""Problem collection: did-you-mean, grouping across expansions, ordering, one SpecError."""

from __future__ import annotations

import pytest

from parafraim_build.errors import SpecError, SpecProblem
from parafraim_build.spec.problems import ProblemCollector, did_you_mean, suggestion
from parafraim_build.spec.source import SourceText

KEYS = ["name", "description", "template", "aspectRatio", "steps", "renders", "matrix"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("stpes", "steps"),
        ("aspect_ratio", "aspectRatio"),
        ("AspectRatio", "aspectRatio"),
        ("descripton", "description"),
        ("rendres", "renders"),
        ("colour", None),
        ("steps", None),
    ],
)
def test_did_you_mean(word: str, expected: str | None) -> None:
    assert did_you_mean(word, KEYS) == expected


def test_suggestion_text() -> None:
    assert suggestion("fsp", ["fps", "width"]) == " (did you mean 'fps'?)"
    assert suggestion("zzz", ["fps"]) == ""


def test_identical_problems_from_several_videos_are_grouped() -> None:
    source = SourceText.from_text("spec.yaml", "a\nb\n")
    collector = ProblemCollector()
    for video in ["v1", "v2", "v3", "v4", "v2"]:
        collector.add(source, 2, 1, "bad", video=video)
    collector.add(source, 1, 1, "first")
    (first, grouped) = collector.problems()
    assert first.message == "first"
    assert grouped.message == "bad [in 4 videos, e.g. v1, v2, v3]"
    assert grouped.source_line == "b"


def test_few_videos_are_all_listed() -> None:
    source = SourceText.from_text("spec.yaml", "a\n")
    collector = ProblemCollector()
    collector.add(source, 1, 1, "bad", video="v1")
    collector.add(source, 1, 1, "bad", video="v2")
    assert collector.problems()[0].message == "bad [in videos v1, v2]"


def test_raise_if_any_carries_every_problem() -> None:
    collector = ProblemCollector()
    collector.raise_if_any()
    collector.add_file("spec.yaml", "gone")
    collector.add(SourceText.from_text("spec.yaml", "x: 1\n"), 1, 4, "wrong", key_path=("x",))
    with pytest.raises(SpecError) as caught:
        collector.raise_if_any()
    assert len(caught.value.problems) == 2
    assert str(caught.value) == (
        "spec.yaml: gone\nspec.yaml:1:4: wrong (at x)\n    x: 1\n       ^\n2 problems found"
    )


def problem(line: str, column: int | None, file: str = "spec.yaml") -> SpecProblem:
    return SpecProblem(file, 1, column, "bad", source_line=line)


def test_short_lines_are_shown_whole_with_the_caret_under_the_column() -> None:
    assert problem("name: x", 7).render() == "spec.yaml:1:7: bad\n    name: x\n          ^"


@pytest.mark.parametrize("column", [1, 50, 5_000, 9_990, 10_001])
def test_a_long_line_is_cut_around_the_column_and_the_caret_stays_on_it(column: int) -> None:
    line = "".join(chr(ord("a") + i % 26) for i in range(10_001))
    rendered = problem(line, column).render()
    _, shown, pointer = rendered.split("\n")
    assert len(shown) <= 4 + 3 + 100 + 3
    at = pointer.index("^")
    text = shown[4:]
    assert text[at - 4] == line[column - 1]
    assert text.startswith("...") == (column > 51)
    assert text.endswith("...") == (column < 10_001 - 49)


def test_a_long_line_without_a_column_shows_its_start() -> None:
    rendered = problem("z" * 300, None).render()
    assert rendered == "spec.yaml:1: bad\n    " + "z" * 100 + "..."


def test_a_problem_without_a_file_is_its_message_alone() -> None:
    collector = ProblemCollector()
    collector.add_command_line("--var x: nope")
    collector.add(SourceText.from_text("spec.yaml", "a: 1\n"), 1, 1, "first")
    found = collector.problems()
    assert [p.render() for p in found] == ["--var x: nope", "spec.yaml:1:1: first\n    a: 1\n    ^"]
