"""Storyboard cards drawn with Pillow: exact size, colours, wrapped text."""

from __future__ import annotations

import pytest
from PIL import ImageChops, ImageFont

from parafraim_build.emulator.cards import draw_card, wrap
from parafraim_build.emulator.composition import Scene

SCENE = Scene("scene-1", "Meet the new product", "Built for teams who ship.", 3.0, "#1D3557")


@pytest.mark.parametrize(("width", "height"), [(480, 270), (481, 271), (270, 480), (1080, 1920)])
def test_a_card_has_exactly_the_requested_size(width: int, height: int) -> None:
    card = draw_card(SCENE, index=1, count=3, title="Launch", width=width, height=height)
    assert card.size == (width, height)
    assert card.mode == "RGB"


def test_the_card_shows_the_scene_colour_and_text() -> None:
    card = draw_card(SCENE, index=2, count=3, title="Launch", width=640, height=360)
    assert card.getpixel((639, 0)) == (0x1D, 0x35, 0x57)
    # The text is drawn in white on a dark background: some pixels are near white.
    assert card.convert("L").getextrema()[1] > 200
    blank = draw_card(
        Scene("scene-1", "", "", 1.0, "#1D3557"), index=1, count=1, title="", width=640, height=360
    )
    assert ImageChops.difference(card, blank).getbbox() is not None


def test_a_light_background_gets_dark_text() -> None:
    light = Scene("scene-1", "Heading", "Body", 1.0, "#F5F5F5")
    card = draw_card(light, index=1, count=1, title="", width=640, height=360)
    assert card.convert("L").getextrema()[0] < 70


def test_wrap_breaks_lines_words_and_ellipsises() -> None:
    font = ImageFont.load_default(size=20)
    lines = wrap("one two three four five six seven eight nine ten", font, 120, 10)
    assert len(lines) > 1
    assert all(font.getlength(line) <= 120 for line in lines)
    assert " ".join(lines) == "one two three four five six seven eight nine ten"
    long_word = wrap("x" * 200, font, 100, 10)
    assert all(font.getlength(line) <= 100 for line in long_word)
    cut = wrap("word " * 100, font, 100, 2)
    assert len(cut) == 2
    assert cut[-1].endswith("…")
    assert wrap("", font, 100, 3) == []


def test_huge_texts_draw_quickly_and_fit() -> None:
    scene = Scene("scene-1", "W" * 5000, "word " * 3000, 1.0, "#000000")
    card = draw_card(scene, index=1, count=1, title="T" * 500, width=480, height=270)
    assert card.size == (480, 270)
