"""Text rewrites of the scripted editor: restyles, the translation marker, body variants."""

from __future__ import annotations

import random

import pytest

from parafraim_build.emulator.wording import (
    BODY_VARIANTS,
    GENERIC_BODIES,
    body_variant,
    first_sentence,
    restyle,
    stock_body,
    translate,
    variants,
    with_mention,
)


@pytest.mark.parametrize(
    ("heading", "body", "style", "expected"),
    [
        (
            "Meet the all new product for your whole team",
            "It is fast and simple to use for everyone on any device. It also syncs.",
            "tight",
            (
                "Meet the all new product",
                "It is fast and simple to use for everyone on any device.",
            ),
        ),
        ("Short", "Built for teams.", "tight", ("Short", "Built for teams.")),
        ("Meet", "Built for teams who ship every day.", "tight", ("Meet", "Built for teams.")),
        ("Demo", "It only takes a minute.", "tight", ("Demo", "It only takes a minute.")),
        ("Demo", "Find out more.", "tight", ("Demo", "Find out more.")),
        (
            "Acme logo, then about our features",
            "The three stories that mattered most, from the office opening to the beta we shipped.",
            "tight",
            ("Acme logo", "The three stories that mattered most."),
        ),
        ("Demo", "", "tight", ("Demo", "")),
        ("Launch day", "Come and see.", "bold", ("Launch day!", "Come and see!")),
        ("Launch day!", "Come and see!", "bold", ("LAUNCH DAY!", "Come and see!")),
        ("Launch day!", "Wow!! Great!", "calm", ("Launch day", "Wow. Great.")),
        ("launch DAY", "Calm.", "calm", ("Launch day", "Calm.")),
    ],
)
def test_restyle(heading: str, body: str, style: str, expected: tuple[str, str]) -> None:
    assert restyle(heading, body, style) == expected


def test_restyle_changes_texts_that_allow_a_change() -> None:
    assert restyle("Hello there", "A sentence of several words.", "bold") != (
        "Hello there",
        "A sentence of several words.",
    )
    assert restyle("Hello there", "One sentence. And another.", "tight") == (
        "Hello there",
        "One sentence.",
    )


def test_a_long_sentence_with_no_phrase_end_is_kept_whole() -> None:
    body = "Every single person you know loves this tool a whole lot more than the old one."
    assert restyle("Hi", body, "tight") == ("Hi", body)


def test_translate_marks_and_swaps_glossary_words() -> None:
    assert translate("Welcome to our new product", "de") == "[DE] Willkommen to unser neu Produkt"
    assert translate("[DE] Willkommen", "fr") == "[FR] Willkommen"
    assert translate("Hello", "ja") == "[JA] Hello"
    assert translate("", "de") == ""
    assert translate("Thanks", "pt-br") == "[PT-BR] Obrigado"


def test_with_mention_adds_a_missing_name_only() -> None:
    assert with_mention("Built for teams.", "Acme") == "Built for teams. For Acme."
    assert with_mention("Built for Acme teams.", "acme") == "Built for Acme teams."
    assert with_mention("", "Acme") == "For Acme."
    assert with_mention("Body.", None) == "Body."


def test_body_variant_is_seeded_and_avoids_the_old_body() -> None:
    first = body_variant("Pricing", random.Random(1))
    assert first == body_variant("Pricing", random.Random(1))
    formatted = {v.format(topic="Pricing", Topic="Pricing") for v in BODY_VARIANTS}
    assert first in formatted
    for seed in range(20):
        assert body_variant("Pricing", random.Random(seed), avoid=first) != first


def test_first_sentence() -> None:
    assert first_sentence("One. Two.") == "One."
    assert first_sentence("No end") == "No end"


def test_a_stock_body_is_about_its_subject_else_a_line_for_any_heading() -> None:
    assert stock_body("Acme", random.Random(3)) in variants("Acme")
    assert stock_body(None, random.Random(3)) in GENERIC_BODIES
    assert stock_body(" ?", random.Random(3)) in GENERIC_BODIES
    first = stock_body(None, random.Random(5))
    for seed in range(10):
        assert stock_body(None, random.Random(seed), avoid=first) != first


def test_variants_are_every_body_variant_in_order() -> None:
    assert variants("pricing.") == [
        variant.format(topic="pricing", Topic="Pricing") for variant in BODY_VARIANTS
    ]


def test_a_plural_topic_matters_in_the_plural() -> None:
    assert "Why our features matter." in variants("our features")
    assert "Why Acme matters." in variants("Acme")
    assert "Why the news matters." in variants("the news")
