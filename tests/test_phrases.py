"""Reading messages into intents: clauses, scene references, commands, plain text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parafraim_build.emulator.phrases import (
    Plain,
    RemoveScenes,
    ScaleDuration,
    SetBackground,
    SetDuration,
    SetTitle,
    Target,
    Translate,
    derive_text,
    parse_message,
    parse_target,
    split_clauses,
)


@pytest.mark.parametrize(
    ("phrase", "target"),
    [
        ("scene 2", Target("scenes", (2,))),
        ("the second scene", Target("scenes", (2,))),
        ("the 3rd slide", Target("scenes", (3,))),
        ("scenes 1, 2 and 4", Target("scenes", (1, 2, 4))),
        ("scene 2 and scene 3", Target("scenes", (2, 3))),
        ("scenes 2-4", Target("scenes", (2, 3, 4))),
        ("the intro", Target("scenes", (1,))),
        ("the opening", Target("scenes", (1,))),
        ("the last scene", Target("last")),
        ("the outro", Target("last")),
        ("it", Target("selected")),
        ("the selected scenes", Target("selected")),
        ("every scene", Target("each")),
        ("all scenes", Target("each")),
        ("the video", Target("whole")),
        ("the whole video", Target("whole")),
        ("the jargon", None),
        ("", None),
    ],
)
def test_scene_references(phrase: str, target: Target | None) -> None:
    assert parse_target(phrase) == target


@pytest.mark.parametrize(
    ("message", "clauses"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        ("line one\nline two; three", ["line one", "line two", "three"]),
        ("Version 1.2 is out", ["Version 1.2 is out"]),
        ("bread, then butter", ["bread, then butter"]),
        ("Make it warm and remove scene 2", ["Make it warm", "remove scene 2"]),
        ("title: Rock and Roll", ["title: Rock and Roll"]),
        ("...", []),
    ],
)
def test_split_clauses(message: str, clauses: list[str]) -> None:
    assert split_clauses(message) == clauses


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("title: Acme", SetTitle("Acme")),
        ("Change the title to 'Q3 results'", SetTitle("Q3 results")),
        ("delete scenes 2 and 3", RemoveScenes(Target("scenes", (2, 3)))),
        ("make it 3 seconds", SetDuration(Target("selected"), 3.0)),
        ("give every scene 2.5 s", SetDuration(Target("each"), 2.5)),
        ("shorten the intro by 0.5 s", ScaleDuration(Target("scenes", (1,)), False, 0.5)),
        ("slow down", ScaleDuration(None, True, None)),
        ("make scene 3 faster", ScaleDuration(Target("scenes", (3,)), False, None)),
        ("Translate everything into Japanese", Translate(None, "ja")),
        ("translate the last scene to pt-br", Translate(Target("last"), "pt-br")),
        ("rewrite it in Dutch", Translate(Target("selected"), "nl")),
        ("paint the outro gold", SetBackground(Target("last"), "#B8860B", "gold")),
        ("change the background to #0a0b0c", SetBackground(None, "#0A0B0C", "#0a0b0c")),
    ],
)
def test_commands(message: str, intent: object) -> None:
    assert parse_message(message) == (intent,)


@pytest.mark.parametrize(
    ("message", "heading", "target", "style", "adds"),
    [
        ("Add a scene about pricing", "Pricing", None, None, True),
        ("Add pricing: plans start at $9", "Pricing", None, None, True),
        ("Rewrite scene 2 about Acme Pricing", "Acme Pricing", Target("scenes", (2,)), None, False),
        ("Make the opening more direct", "More direct", Target("scenes", (1,)), "tight", False),
        ("tone down scene 3", "Tone down", Target("scenes", (3,)), "calm", False),
        ("Make it less formal", "Less formal", None, "bold", False),
        ("Make it punchier", "Punchier", None, "tight", False),
        ("Rewrite this with a bold new promise", "Bold new promise", None, None, False),
        ("remove the jargon", "Remove the jargon", None, None, False),
        ("put it in red", "Put it in red", None, None, False),
    ],
)
def test_plain_text(
    message: str, heading: str, target: Target | None, style: str | None, adds: bool
) -> None:
    (intent,) = parse_message(message)
    assert isinstance(intent, Plain)
    assert (intent.heading, intent.target, intent.style, intent.adds) == (
        heading,
        target,
        style,
        adds,
    )


def test_a_plain_clause_can_name_who_it_is_for() -> None:
    (intent, _) = parse_message("Make the opening more direct for Acme Corp and shorten it")
    assert isinstance(intent, Plain)
    assert intent.mention == "Acme Corp"


@pytest.mark.parametrize(
    ("topic", "heading", "body"),
    [
        ("pricing", "Pricing", "Pricing."),
        ("our plans for the next year of growth and more", "Our plans for the next year", None),
        ("a tour of the new office in", "A tour of the new office", None),
        ('"Buy now"', "Buy now", "Buy now."),
        ("Deadline: Friday at noon", "Deadline", "Friday at noon."),
    ],
)
def test_derive_text(topic: str, heading: str, body: str | None) -> None:
    derived_heading, derived_body = derive_text(topic)
    assert derived_heading == heading
    if body is not None:
        assert derived_body == body


@given(st.text(max_size=400))
def test_parse_message_never_raises(message: str) -> None:
    for intent in parse_message(message):
        if isinstance(intent, Plain):
            assert len(intent.heading) <= 60
            assert len(intent.body) <= 220
