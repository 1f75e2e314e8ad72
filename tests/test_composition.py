"""The storyboard composition: parse/render round trips, lenient parsing, total robustness."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parafraim_build.api.models import ASPECT_RATIOS
from parafraim_build.emulator.composition import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_TITLE,
    PALETTE,
    Composition,
    Scene,
    clean_text,
    format_seconds,
    has_preview,
    parse_composition,
    render_composition_html,
    text_colour,
)

THREE = Composition(
    title="Acme launch",
    aspect_ratio="16:9",
    scenes=(
        Scene("scene-1", "Meet Acme", "Built for teams.", 3.0, "#1D3557"),
        Scene("scene-2", "What is new", "Live previews & sharing.", 2.5, "#2A9D8F"),
        Scene("scene-3", "Available today", "Start free at example.com.", 4.0, "#E76F51"),
    ),
)


def test_round_trip_of_a_realistic_composition() -> None:
    html = render_composition_html(THREE)
    assert parse_composition(html) == THREE


def test_duration_is_the_sum_of_scene_durations() -> None:
    assert THREE.duration == pytest.approx(9.5)
    assert Composition("t", "1:1", ()).duration == 0


def test_rendered_document_is_standalone_html_with_selectable_scenes() -> None:
    html = render_composition_html(THREE)
    assert html.startswith("<!DOCTYPE html>")
    assert html.rstrip().endswith("</html>")
    assert '<section id="scene-2" class="scene" data-duration="2.5"' in html
    assert "<title>Acme launch</title>" in html
    # Standalone: nothing is fetched from elsewhere when the preview opens.
    assert not re.search(r"\b(?:src|href)=", html)
    assert "http://" not in html
    assert "https://" not in html


def test_texts_are_escaped_not_injected() -> None:
    hostile = Composition(
        title='</title><script>alert("t")</script>',
        aspect_ratio="1:1",
        scenes=(Scene("scene-1", "<b>bold</b> & co", '"quoted" </section>', 2.0, "#000000"),),
    )
    html = render_composition_html(hostile)
    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html
    assert parse_composition(html) == hostile


@pytest.mark.parametrize(
    "html", ["", "   \n", "<p>hello</p>", "<html><body>hi</body></html>", "{}"]
)
def test_unrecognised_html_is_none(html: str) -> None:
    assert parse_composition(html) is None
    assert has_preview(html) is False


def test_a_composition_without_scenes_parses_but_has_no_preview() -> None:
    html = render_composition_html(Composition("Empty", "9:16", ()))
    parsed = parse_composition(html)
    assert parsed == Composition("Empty", "9:16", ())
    assert has_preview(html) is False
    assert has_preview(render_composition_html(THREE)) is True


def test_hand_written_html_is_read_leniently() -> None:
    html = """
    <html><head><title>  Hand   made </title></head><body>
      <section id="intro" data-duration="2s">
        <h1>Hello
            <em>world</em></h1>
        <p>First &amp; foremost.</p><p>Second<br>line.</p>
        <section><p>nested, ignored heading <h2>x</h2></p></section>
      </section>
      <section id="bad" data-duration="soon"><h2>skipped</h2></section>
      <section id="zero" data-duration="0"><h2>skipped</h2></section>
      <section id="inf" data-duration="inf"><h2>skipped</h2></section>
      <section data-duration="3"><h2>no id: not a scene</h2></section>
      <section id="two" data-duration="1.25" data-background="not-a-colour"><h3>Two</h3></section>
    </body></html>
    """
    parsed = parse_composition(html)
    assert parsed is not None
    assert parsed.title == "Hand made"
    assert parsed.aspect_ratio == DEFAULT_ASPECT_RATIO
    assert [scene.id for scene in parsed.scenes] == ["intro", "two"]
    intro, two = parsed.scenes
    assert intro.heading == "Hello world"
    assert intro.body.startswith("First & foremost. Second line.")
    assert intro.duration == 2.0
    assert two.duration == 1.25
    assert two.background == PALETTE[1]


def test_marker_attributes_set_title_and_aspect_ratio() -> None:
    html = (
        '<main data-title="From the marker" data-aspect-ratio="9:16"><title>other</title>'
        '<section id="s" data-duration="2"><h2>A</h2></section></main>'
    )
    parsed = parse_composition(html)
    assert parsed is not None
    assert (parsed.title, parsed.aspect_ratio) == ("From the marker", "9:16")


def test_unknown_aspect_ratio_and_missing_title_fall_back() -> None:
    parsed = parse_composition('<main data-title="" data-aspect-ratio="4:3"></main>')
    assert parsed == Composition(DEFAULT_TITLE, DEFAULT_ASPECT_RATIO, ())


def test_unclosed_scene_is_closed_at_the_end_of_the_document() -> None:
    parsed = parse_composition('<section id="a" data-duration="2"><h2>Open heading')
    assert parsed is not None
    assert parsed.scenes[0].heading == "Open heading"


def test_clean_text_drops_controls_and_collapses_space() -> None:
    assert clean_text("  a\tb\n\x00c\x7f  d ") == "a b c d"


@pytest.mark.parametrize(
    ("background", "ink"), [("#FFFFFF", "#111111"), ("#F1C40F", "#111111"), ("#1D3557", "#FFFFFF")]
)
def test_text_colour_contrasts_with_the_background(background: str, ink: str) -> None:
    assert text_colour(background) == ink


@pytest.mark.parametrize(
    ("value", "text"), [(3.0, "3"), (2.5, "2.5"), (0.1 + 0.2, "0.30000000000000004")]
)
def test_format_seconds_is_exact(value: float, text: str) -> None:
    assert format_seconds(value) == text
    assert float(format_seconds(value)) == value


# ------------------------------------------------------------------------ properties

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80).map(clean_text)
scenes = st.builds(
    Scene,
    id=st.integers(min_value=1, max_value=99).map(lambda n: f"scene-{n}"),
    heading=texts,
    body=texts,
    duration=st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False),
    background=st.from_regex(r"\A#[0-9A-F]{6}\Z"),
)
compositions = st.builds(
    Composition,
    title=texts.filter(bool),
    aspect_ratio=st.sampled_from(ASPECT_RATIOS),
    scenes=st.lists(scenes, max_size=6).map(tuple),
)


@given(compositions)
def test_every_normalised_composition_round_trips(composition: Composition) -> None:
    html = render_composition_html(composition)
    assert parse_composition(html) == composition
    assert has_preview(html) == bool(composition.scenes)
    assert math.isclose(
        parse_composition(html).duration,
        composition.duration,  # type: ignore[union-attr]
    )


html_fragments = st.lists(
    st.sampled_from(
        [
            "<section",
            ' id="scene-1"',
            " data-duration=",
            '"2"',
            "'nan'",
            ">",
            "/>",
            "</section>",
            "<h2>",
            "</h2>",
            "<p>",
            "</p>",
            "<br>",
            "<title>",
            "</title>",
            "<main data-title=x>",
            "<!--",
            "-->",
            "<![CDATA[",
            "]]>",
            "<script>",
            "</script>",
            "&amp;",
            "&#xD800;",
            "&#99999999;",
            "<!DOCTYPE",
            "<?xml",
            "\x00",
            "text",
            " ",
            "\n",
        ]
    )
    | st.text(max_size=5),
    max_size=40,
).map("".join)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), html_fragments))
def test_parse_never_raises(html: str) -> None:
    parsed = parse_composition(html)
    assert parsed is None or isinstance(parsed, Composition)
    if parsed is not None:
        assert all(scene.duration > 0 and math.isfinite(scene.duration) for scene in parsed.scenes)
        assert parsed.aspect_ratio in ASPECT_RATIOS
    assert has_preview(html) == bool(parsed and parsed.scenes)
