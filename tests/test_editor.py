"""The scripted editor: documented phrases, selections, creation, determinism, limits."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_phrases import TEXT_WITH_STAGING_WORDS

from parafraim_build.emulator.composition import (
    Composition,
    Scene,
    has_preview,
    parse_composition,
    render_composition_html,
)
from parafraim_build.emulator.editor import (
    MAX_SCENE_SECONDS,
    MAX_SCENES,
    MAX_TOTAL_SECONDS,
    MIN_SCENE_SECONDS,
    EditOutcome,
    ScriptedEditor,
    fit_heading,
)
from parafraim_build.emulator.phrases import COLOURS
from parafraim_build.emulator.wording import GENERIC_BODIES, variants

BASE = Composition(
    title="Acme launch",
    aspect_ratio="16:9",
    scenes=(
        Scene("scene-1", "Meet Acme", "Built for teams who ship every day.", 3.0, "#1D3557"),
        Scene("scene-2", "What is new", "Live previews and one-click sharing.", 2.5, "#2A9D8F"),
        Scene("scene-3", "Available today", "Start free at example.com.", 4.0, "#E76F51"),
    ),
)
BASE_HTML = render_composition_html(BASE)
HEADINGS = [scene.heading for scene in BASE.scenes]


def edit(
    message: str,
    *,
    html: str = BASE_HTML,
    selected: Sequence[Mapping[str, Any]] = (),
    seed: int = 0,
    **kwargs: Any,
) -> tuple[Composition, EditOutcome]:
    outcome = ScriptedEditor(seed=seed).edit(html, message, selected=selected, **kwargs)
    composition = parse_composition(outcome.html)
    assert composition is not None
    return composition, outcome


def headings(composition: Composition) -> list[str]:
    return [scene.heading for scene in composition.scenes]


def durations(composition: Composition) -> list[float]:
    return [scene.duration for scene in composition.scenes]


# -------------------------------------------------------------- the documented phrases

Check = Callable[[Composition], bool]
PHRASES: list[tuple[str, Check]] = [
    ("title: Acme 2.0", lambda c: c.title == "Acme 2.0" and headings(c) == HEADINGS),
    ("Set the title to “Spring launch”.", lambda c: c.title == "Spring launch"),
    ("Rename the video to Launch day", lambda c: c.title == "Launch day"),
    ("remove scene 2", lambda c: headings(c) == ["Meet Acme", "Available today"]),
    ("Delete the last scene.", lambda c: headings(c) == HEADINGS[:2]),
    ("Remove the intro", lambda c: headings(c) == HEADINGS[1:]),
    ("remove scenes 1 and 3", lambda c: headings(c) == ["What is new"]),
    ("Make scene 2 4 seconds", lambda c: durations(c) == [3.0, 4.0, 4.0]),
    ("set the duration of scene 1 to 1.5 s", lambda c: durations(c) == [1.5, 2.5, 4.0]),
    ("Make every scene 3 seconds.", lambda c: durations(c) == [3.0, 3.0, 3.0]),
    ("Make the video 20 seconds long.", lambda c: math.isclose(c.duration, 20.0)),
    ("scene 3 should last 2 seconds", lambda c: durations(c) == [3.0, 2.5, 2.0]),
    ("Shorten the second scene.", lambda c: durations(c) == [3.0, 1.9, 4.0]),
    ("lengthen scene 1 by 2 seconds", lambda c: durations(c) == [5.0, 2.5, 4.0]),
    ("make the ending longer", lambda c: durations(c) == [3.0, 2.5, 5.0]),
    ("Shorten", lambda c: all(a < b for a, b in zip(durations(c), durations(BASE), strict=True))),
    (
        "speed up the video",
        lambda c: all(a < b for a, b in zip(durations(c), durations(BASE), strict=True)),
    ),
    (
        "Translate every on-screen text to German.",
        lambda c: (
            c.title.startswith("[DE] ")
            and all(s.heading.startswith("[DE] ") and s.body.startswith("[DE] ") for s in c.scenes)
        ),
    ),
    (
        "translate scene 2 into fr",
        lambda c: (
            [s.heading.startswith("[FR] ") for s in c.scenes] == [False, True, False]
            and c.title == BASE.title
        ),
    ),
    ("make scene 2 blue", lambda c: [s.background for s in c.scenes][1] == "#2B6CB0"),
    ("set the background of the intro to #aabbcc", lambda c: c.scenes[0].background == "#AABBCC"),
    ("Add a scene about pricing", lambda c: headings(c) == [*HEADINGS, "Pricing"]),
    (
        "Add pricing: plans start at $9",
        lambda c: (c.scenes[-1].heading, c.scenes[-1].body) == ("Pricing", "Plans start at $9."),
    ),
    ("hello world", lambda c: headings(c) == [*HEADINGS, "Hello world"]),
    (
        "Rewrite the intro to say Hello Acme",
        lambda c: headings(c) == ["Hello Acme", *HEADINGS[1:]],
    ),
    (
        "Make the ending say Thanks for watching",
        lambda c: headings(c) == [*HEADINGS[:2], "Thanks for watching"],
    ),
    (
        "Make the opening more direct for Acme and shorten the second scene.",
        lambda c: (
            c.scenes[0] != BASE.scenes[0]
            and "Acme" in c.scenes[0].heading + c.scenes[0].body
            and durations(c)[1] < 2.5
            and headings(c)[1:] == HEADINGS[1:]
        ),
    ),
    (
        "Make it bolder",
        lambda c: all(s.heading.endswith("!") for s in c.scenes) and len(c.scenes) == 3,
    ),
    (
        "Add a scene about pricing and make it red",
        lambda c: len(c.scenes) == 4 and c.scenes[3].background == "#C0392B",
    ),
    (
        "title: Rock and Roll. Remove scene 1; make scene 1 5 seconds",
        lambda c: (
            c.title == "Rock and Roll"
            and headings(c) == HEADINGS[1:]
            and durations(c) == [5.0, 4.0]
        ),
    ),
]


@pytest.mark.parametrize(("message", "check"), PHRASES, ids=[m for m, _ in PHRASES])
def test_documented_phrase(message: str, check: Check) -> None:
    composition, outcome = edit(message)
    assert check(composition), (message, composition)
    assert outcome.html != BASE_HTML
    # Ids are renumbered so that "#scene-N" always selects the N-th scene.
    assert [s.id for s in composition.scenes] == [
        f"scene-{n}" for n in range(1, len(composition.scenes) + 1)
    ]


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("Add a scene about pricing", "Added scene 4 “Pricing”"),
        ("remove scene 2", "Removed scene 2 “What is new”"),
        ("title: New", "Changed the title from “Acme launch” to “New”"),
        ("Shorten the second scene.", "Shortened scene 2 from 2.5 s to 1.9 s"),
        ("Make every scene 3 seconds", "Every scene now lasts 3 s"),
        ("Translate to German", "marked [DE]"),
        ("make scene 2 blue", "Scene 2: blue background (#2B6CB0)"),
    ],
)
def test_the_reply_says_what_was_done(message: str, says: str) -> None:
    composition, outcome = edit(message)
    assert says in outcome.message
    count = len(composition.scenes)
    assert outcome.message.endswith(f"{count} scenes, {composition.duration:g} s in all.")


# -------------------------------------------------------------------------- selection


@pytest.mark.parametrize(
    "element",
    [
        {"selector": "#scene-2"},
        {"id": "scene-2"},
        {"selector": "main > section#scene-2 h2"},
        {"element": {"id": "scene-2", "tagName": "SECTION"}},
        {"elementId": "#scene-2"},
        {"index": 2},
        {"text": "What is new"},
    ],
)
def test_selected_elements_are_rewritten_in_place(element: dict[str, Any]) -> None:
    composition, outcome = edit("Say it with confidence", selected=[element])
    assert len(composition.scenes) == 3
    assert composition.scenes[0] == BASE.scenes[0]
    assert composition.scenes[2] == BASE.scenes[2]
    assert composition.scenes[1].heading == "Say it with confidence"
    assert composition.scenes[1].duration == BASE.scenes[1].duration
    assert "Rewrote scene 2" in outcome.message


def test_several_selected_scenes_are_all_rewritten() -> None:
    composition, _ = edit("Big news", selected=[{"id": "scene-1"}, {"selector": "#scene-3"}])
    assert headings(composition) == ["Big news", "What is new", "Big news"]


@pytest.mark.parametrize(
    ("message", "check"),
    [
        ("Shorten the second scene.", lambda c: durations(c) == [3.0, 1.9, 4.0]),
        ("Shorten this scene", lambda c: durations(c) == [3.0, 1.9, 4.0]),
        ("make it red", lambda c: [s.background for s in c.scenes][1] == "#C0392B"),
        ("remove it", lambda c: headings(c) == ["Meet Acme", "Available today"]),
        ("translate it to Spanish", lambda c: c.scenes[1].heading.startswith("[ES] ")),
        (
            "Make it bolder",
            lambda c: c.scenes[0] == BASE.scenes[0] and c.scenes[1] != BASE.scenes[1],
        ),
    ],
)
def test_commands_apply_to_the_selection(message: str, check: Check) -> None:
    composition, _ = edit(message, selected=[{"selector": "#scene-2"}])
    assert check(composition), composition


@pytest.mark.parametrize(
    "selected",
    [
        [{"selector": "#scene-9"}],
        [{"x": [1, None, {"y": True}]}, {}],
        [{"selector": 5, "index": "two"}],
        ["#scene-2"],  # not a mapping at all: tolerated, and still understood
    ],
)
def test_odd_selections_never_crash(selected: Sequence[Any]) -> None:
    composition, outcome = edit("Big news", selected=selected)
    assert has_preview(outcome.html)
    if selected == ["#scene-2"]:
        assert headings(composition) == ["Meet Acme", "Big news", "Available today"]
    else:
        assert "None of the selected elements is a scene" in outcome.message
        assert headings(composition) == [*HEADINGS, "Big news"]


# --------------------------------------------------------------------------- creation


def test_the_first_message_on_a_blank_project_creates_a_composition() -> None:
    composition, outcome = edit(
        "A launch video for Acme. Show the new dashboard. "
        "End with a call to action: visit acme.com",
        html="",
        aspect_ratio="9:16",
        project_name="Acme launch",
    )
    assert composition.title == "Acme launch"
    assert composition.aspect_ratio == "9:16"
    assert headings(composition) == ["Acme launch", "New dashboard", "Call to action"]
    # "A launch video for Acme" is a heading only, and the heading is the title: the body is
    # a stock sentence about the name the clause is for, not the message's own words.
    assert composition.scenes[0].body in variants("Acme")
    assert composition.scenes[2].body == "Visit acme.com."
    assert outcome.message.startswith("Created “Acme launch” (9:16)")


def test_a_blank_project_without_a_name_takes_its_title_from_the_message() -> None:
    composition, _ = edit("Quarterly numbers for the board", html="")
    assert composition.title == "Quarterly numbers for the board"
    assert len(composition.scenes) == 1


def test_a_command_on_a_blank_project_still_creates_a_scene() -> None:
    composition, _ = edit("title: Hello", html="", project_name="Draft")
    assert composition.title == "Hello"
    assert headings(composition) == ["Hello"]


def test_unreadable_html_is_replaced_by_a_new_composition() -> None:
    composition, outcome = edit("Hello there", html="<p>someone else's html</p>")
    assert len(composition.scenes) >= 1
    assert "not a storyboard" in outcome.message


# ----------------------------------------------------------------- streaming material


def test_updates_end_with_the_final_html_and_all_parse() -> None:
    _, outcome = edit("Add a scene about pricing. Make scene 1 blue. Remove scene 2")
    assert outcome.html_updates[-1] == outcome.html
    assert len(outcome.html_updates) >= 3
    for update in outcome.html_updates:
        assert has_preview(update)
    # An added scene first appears with its heading only, as if being typed.
    drafts = [parse_composition(update) for update in outcome.html_updates]
    assert any(
        d is not None and d.scenes[-1].heading == "Pricing" and d.scenes[-1].body == ""
        for d in drafts
    )


def test_a_no_op_still_streams_one_update() -> None:
    _, outcome = edit("remove scene 9")
    assert outcome.html_updates == (outcome.html,)
    assert "There is no scene 9" in outcome.message


def test_text_chunks_join_into_the_message() -> None:
    _, outcome = edit("Add a scene about pricing and make it blue. Translate to German.")
    assert len(outcome.text_chunks) > 1
    assert "".join(outcome.text_chunks) == outcome.message
    assert all(outcome.text_chunks)


# ------------------------------------------------------------------------ determinism


def test_same_inputs_give_the_same_outcome_on_any_editor() -> None:
    first = ScriptedEditor(seed=7).edit(BASE_HTML, "Add a scene about pricing")
    second = ScriptedEditor(seed=7).edit(BASE_HTML, "Add a scene about pricing")
    assert first == second


def test_the_seed_and_every_input_change_the_outcome() -> None:
    base = ScriptedEditor(seed=0).edit("", "Hello world", project_name="A")
    by_seed = {
        ScriptedEditor(seed=seed).edit("", "Hello world", project_name="A").html
        for seed in range(8)
    }
    assert len(by_seed) > 1
    assert ScriptedEditor().edit("", "Hello world", project_name="B").html != base.html
    assert (
        ScriptedEditor().edit("", "Hello world", project_name="A", aspect_ratio="1:1").html
        != base.html
    )


def test_nondeterministic_mode_gives_different_html_for_the_same_inputs() -> None:
    editor = ScriptedEditor(seed=0, nondeterministic=True)
    outcomes = [editor.edit(BASE_HTML, "remove scene 2") for _ in range(5)]
    assert len({outcome.html for outcome in outcomes}) == 5
    for outcome in outcomes:
        composition = parse_composition(outcome.html)
        assert composition is not None
        assert headings(composition) == ["Meet Acme", "Available today"]


def test_the_editor_is_thread_safe() -> None:
    editor = ScriptedEditor(seed=3)
    messages = [f"Add a scene about topic {n}" for n in range(16)]
    expected = [editor.edit(BASE_HTML, message) for message in messages]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda message: editor.edit(BASE_HTML, message), messages))
    assert results == expected


# ---------------------------------------------------------------------------- limits


def test_scene_durations_are_clamped() -> None:
    composition, outcome = edit("make scene 1 50 seconds")
    assert durations(composition)[0] == MAX_SCENE_SECONDS
    assert "a scene lasts 1 to 10 s" in outcome.message
    composition, _ = edit("make scene 2 0.2 seconds")
    assert durations(composition)[1] == MIN_SCENE_SECONDS


def test_scene_count_and_total_length_are_capped() -> None:
    html = BASE_HTML
    editor = ScriptedEditor()
    for number in range(MAX_SCENES + 2):
        html = editor.edit(html, f"Add a scene about item {number}").html
    html = editor.edit(html, "make every scene 10 seconds").html
    composition = parse_composition(html)
    assert composition is not None
    assert len(composition.scenes) == MAX_SCENES
    assert composition.duration <= MAX_TOTAL_SECONDS + 1e-9


def test_the_last_scene_cannot_be_removed() -> None:
    composition, outcome = edit("remove scenes 1 to 3")
    assert headings(composition) == ["Meet Acme"]
    assert "at least one scene" in outcome.message


def test_a_maximal_message_is_handled_quickly() -> None:
    message = ("word " * 2000)[:10_000]
    started = time.perf_counter()
    composition, _ = edit(message)
    assert time.perf_counter() - started < 2.0
    assert len(composition.scenes[-1].heading) <= 60
    assert len(composition.scenes[-1].body) <= 220


selected_shapes = st.lists(
    st.one_of(
        st.fixed_dictionaries({"selector": st.sampled_from(["#scene-1", "#scene-3", "p", ""])}),
        st.dictionaries(
            st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=12), st.none())
        ),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=st.one_of(
        st.text(min_size=1, max_size=300),
        st.lists(
            st.sampled_from(
                [
                    "remove",
                    "scene",
                    "2",
                    "the",
                    "last",
                    "make",
                    "every",
                    "seconds",
                    "10",
                    "translate",
                    "to",
                    "de",
                    "title:",
                    "and",
                    "shorten",
                    "blue",
                    "add",
                    "it",
                    ".",
                    ";",
                    "\n",
                    "opening",
                    "more",
                    "direct",
                    "scenes 1 to 99",
                    "by 50 s",
                ]
            ),
            min_size=1,
            max_size=20,
        ).map(" ".join),
    ),
    selected=selected_shapes,
    blank=st.booleans(),
)
def test_any_message_gives_a_valid_composition(
    message: str, selected: list[dict[str, Any]], blank: bool
) -> None:
    outcome = ScriptedEditor(seed=1).edit("" if blank else BASE_HTML, message, selected=selected)
    composition = parse_composition(outcome.html)
    assert composition is not None
    assert 1 <= len(composition.scenes) <= MAX_SCENES
    assert all(MIN_SCENE_SECONDS <= d <= MAX_SCENE_SECONDS for d in durations(composition))
    assert composition.duration <= MAX_TOTAL_SECONDS + 1e-9
    assert outcome.html_updates
    assert outcome.html_updates[-1] == outcome.html
    assert "".join(outcome.text_chunks) == outcome.message
    assert outcome.message


# ------------------------------------------------- natural phrases (examples, starter)


def test_a_stated_length_sets_the_whole_and_later_edits_keep_it() -> None:
    composition, outcome = edit("This is a 20 second launch video.")
    assert composition.target == 20.0
    assert composition.duration == pytest.approx(20.0)
    assert len(composition.scenes) == 3
    assert "Kept the video at the 20 s asked for" in outcome.message
    # A later message adds a scene: the video still lasts 20 s.
    later, _ = edit("Add a scene about pricing", html=outcome.html)
    assert len(later.scenes) == 4
    assert later.target == 20.0
    assert later.duration == pytest.approx(20.0)


def test_a_blank_project_with_length_and_scene_count() -> None:
    message = (
        "Create a 20 second teaser for Rocket, the new product from Acme: "
        "three short scenes with bold headlines on a clean light background."
    )
    composition, outcome = edit(message, html="", project_name="Acme Rocket teaser")
    assert len(composition.scenes) == 3
    assert composition.duration == pytest.approx(20.0)
    assert composition.scenes[0].heading == "Acme Rocket teaser"
    assert len(set(headings(composition))) == 3
    # "on a clean light background" gives every scene of the message the light colour.
    assert {scene.background for scene in composition.scenes} == {"#EEF1F5"}
    assert "Added scenes 2 and 3 to make 3 scenes." in outcome.message


def test_a_scene_given_a_length_keeps_it_while_the_others_take_up_the_target() -> None:
    first, _ = edit("Create a 15 second vertical video.", html="", project_name="Offer")
    second, outcome = edit(
        'Open with a three second hook: "Still paying monthly?" on a coral background.',
        html=render_composition_html(first),
    )
    hook = second.scenes[0]
    assert (hook.heading, hook.duration, hook.fixed, hook.background) == (
        "Still paying monthly?",
        3.0,
        True,
        "#FF6F59",
    )
    assert "not the 15 s asked for" in outcome.message
    third, _ = edit('Second scene, six seconds: "30% off".', html=render_composition_html(second))
    fourth, _ = edit('End with the outro: "Link in bio".', html=render_composition_html(third))
    assert [scene.duration for scene in fourth.scenes] == [3.0, 6.0, 6.0]
    assert [scene.fixed for scene in fourth.scenes] == [True, True, False]


def test_naming_the_scene_after_the_last_adds_it() -> None:
    composition, outcome = edit('Scene 4: "Pricing", from 9 euros a month.')
    assert headings(composition) == [*HEADINGS, "Pricing"]
    assert "Added scene 4" in outcome.message


def test_a_list_replaces_the_named_scene_and_inserts_the_rest_after_it() -> None:
    message = (
        'Replace the "What is new" scene with three scenes:\n'
        '1. "Plan": boards.\n2. "Meet less": async updates.\n3. "Find it": one search.'
    )
    composition, outcome = edit(message)
    assert headings(composition) == ["Meet Acme", "Plan", "Meet less", "Find it", "Available today"]
    assert composition.scenes[1].duration == BASE.scenes[1].duration
    assert "Wrote scenes 2, 3 and 4 from the list" in outcome.message


def test_a_list_without_a_scene_to_replace_is_added_at_the_end() -> None:
    composition, _ = edit('Show the numbers: 1. "12,400": sign-ups. 2. "99.98%": uptime.')
    assert headings(composition) == [*HEADINGS, "12,400", "99.98%"]


@pytest.mark.parametrize(
    ("selector", "part"),
    [
        ("h1", "the heading of "),
        ("h2", "the heading of "),
        (".headline", "the heading of "),
        ("main .scene-heading", "the heading of "),
        ("p", "the text of "),
        ("section.scene", ""),
        (".card", ""),
    ],
)
def test_a_selector_for_a_part_of_every_scene_selects_every_scene(selector: str, part: str) -> None:
    composition, outcome = edit("Make it bolder", selected=[{"selector": selector}])
    assert all(
        (new.heading, new.body) != (old.heading, old.body)
        for new, old in zip(composition.scenes, BASE.scenes, strict=True)
    )
    assert f"Made {part}scenes 1, 2 and 3 bolder." in outcome.message


def test_a_restyle_of_a_selected_heading_leaves_the_body() -> None:
    composition, _ = edit("Make it bolder", selected=[{"selector": "h1"}])
    assert headings(composition) == ["Meet Acme!", "What is new!", "Available today!"]
    assert [scene.body for scene in composition.scenes] == [s.body for s in BASE.scenes]


def test_the_text_of_a_scene_restyles_its_body_only() -> None:
    composition, outcome = edit("Make the text of scene 2 bolder.")
    assert composition.scenes[1].heading == "What is new"
    assert composition.scenes[1].body == "Live previews and one-click sharing!"
    assert "Made the text of scene 2 bolder." in outcome.message


def test_a_selector_scoped_to_a_scene_selects_that_scene_only() -> None:
    selected = [{"selector": "#scene-1 h1"}, {"selector": "#scene-1 .eyebrow"}]
    composition, _ = edit("Make it bolder", selected=selected)
    assert composition.scenes[0].heading == "Meet Acme!"
    assert composition.scenes[1:] == BASE.scenes[1:]


def test_an_unknown_selector_selects_nothing() -> None:
    _, outcome = edit("Make it bolder", selected=[{"selector": ".eyebrow"}])
    assert "None of the selected elements is a scene" in outcome.message


def test_make_the_headline_of_a_scene_larger_and_bolder_restyles_it() -> None:
    composition, outcome = edit(
        "Make the headline of the first scene larger and bolder.",
        selected=[{"selector": "#scene-1 h1"}],
    )
    assert composition.scenes[0].heading == "Meet Acme!"
    assert composition.scenes[0].body == BASE.scenes[0].body
    assert composition.scenes[1:] == BASE.scenes[1:]
    assert "Made the heading of scene 1 bolder." in outcome.message


def _one_scene(heading: str, body: str) -> str:
    scene = Scene("scene-1", heading, body, 3.0, "#1D3557")
    return render_composition_html(Composition("Rocket", "16:9", (scene,)))


def test_the_headline_of_the_first_scene_changes_only_the_headline() -> None:
    html = _one_scene("Rocket", "A closer look at Rocket.")
    composition, _ = edit("Make the headline of the first scene larger and bolder.", html=html)
    scene = composition.scenes[0]
    assert (scene.heading, scene.body) == ("Rocket!", "A closer look at Rocket.")


@pytest.mark.parametrize(
    ("heading", "body", "new_heading", "new_body"),
    [
        ("Demo", "It only takes a minute.", "Demo", "It only takes a minute."),
        ("Demo", "Find out more.", "Demo", "Find out more."),
        (
            "Your whole team's work, in one calm place",
            "Shared boards. Async updates.",
            "Your whole team's work",
            "Shared boards.",
        ),
    ],
)
def test_make_it_punchier_never_empties_or_cuts_a_phrase(
    heading: str, body: str, new_heading: str, new_body: str
) -> None:
    composition, outcome = edit("Make it punchier", html=_one_scene(heading, body))
    assert (composition.scenes[0].heading, composition.scenes[0].body) == (new_heading, new_body)
    if (heading, body) == (new_heading, new_body):
        assert "Left scene 1 as it was: already short and direct." in outcome.message
        assert "Made scene 1" not in outcome.message
    else:
        assert "Made scene 1 tighter and more direct." in outcome.message


def test_shorten_headlines_cuts_the_long_ones_at_a_word() -> None:
    composition, outcome = edit(
        "Keep the headline font and shorten any headline longer than twelve characters.",
        selected=[{"selector": ".headline"}],
    )
    assert headings(composition) == ["Meet Acme", "What is new", "Available"]
    assert "Shortened the headings of scene 3 to at most 12 characters." in outcome.message
    assert "Kept the headline font: nothing needed to change." in outcome.message


def test_fit_heading_keeps_a_marker_and_cuts_one_long_word() -> None:
    assert fit_heading("[DE] This week in review", 12) == "[DE] This"
    assert fit_heading("[JA] Supercalifragilistic", 12) == "[JA] Superc…"


def test_translate_with_a_language_code_marks_every_scene() -> None:
    composition, _ = edit(
        'Translate every on-screen text to the language with the code "de", keeping numbers.'
    )
    assert all(heading.startswith("[DE] ") for heading in headings(composition))


def test_hold_the_final_frame_lengthens_the_last_scene_and_pins_it() -> None:
    composition, outcome = edit("Hold the final frame for two seconds.")
    assert composition.scenes[-1].duration == BASE.scenes[-1].duration + 2
    assert composition.scenes[-1].fixed
    assert "Lengthened scene 3 from 4 s to 6 s." in outcome.message


def test_natural_phrases_are_deterministic_per_seed() -> None:
    message = "Create a 20 second teaser for Rocket: three short scenes."
    first = ScriptedEditor(seed=3).edit("", message, project_name="Rocket")
    again = ScriptedEditor(seed=3).edit("", message, project_name="Rocket")
    assert first == again
    other = ScriptedEditor(seed=4).edit("", message, project_name="Rocket")
    assert parse_composition(other.html) is not None
    assert parse_composition(other.html).duration == pytest.approx(20.0)  # type: ignore[union-attr]


def test_a_five_second_intro_is_the_opening_scenes_length_not_the_videos() -> None:
    composition, outcome = edit("Start with a five second intro showing the logo.")
    assert composition.target is None
    opening = composition.scenes[0]
    assert (opening.duration, opening.fixed) == (5.0, True)
    assert durations(composition)[1:] == durations(BASE)[1:]
    # No target was stored, so a later scene makes the video longer, not squeezed into 5 s.
    later, _ = edit("Add a scene about pricing", html=outcome.html)
    assert later.target is None
    assert later.duration > composition.duration


def test_a_scene_about_a_topic_with_a_motion_word_is_added() -> None:
    composition, outcome = edit("Add a scene about the summer music festival on light pollution.")
    assert headings(composition) == [*HEADINGS, "Summer music festival on light pollution"]
    assert composition.scenes[-1].background != "#EEF1F5"
    assert "Nothing changed" not in outcome.message


# ------------------------------------------------ "it": the selection, else the clause before


def backgrounds(composition: Composition) -> list[str]:
    return [scene.background for scene in composition.scenes]


def test_it_is_the_scene_the_clause_before_changed() -> None:
    composition, _ = edit("Make scene 2 4 seconds and paint it teal.")
    assert backgrounds(composition) == ["#1D3557", COLOURS["teal"], "#E76F51"]
    assert durations(composition) == [3.0, 4.0, 4.0]


def test_it_is_the_scene_the_clause_before_added() -> None:
    composition, _ = edit("Add a scene about pricing and make it blue")
    assert headings(composition) == [*HEADINGS, "Pricing"]
    assert backgrounds(composition) == [*backgrounds(BASE), COLOURS["blue"]]


def test_shorten_it_shortens_only_the_scene_just_coloured() -> None:
    composition, _ = edit("Make scene 3 red and shorten it")
    assert backgrounds(composition) == ["#1D3557", "#2A9D8F", COLOURS["red"]]
    assert durations(composition) == [3.0, 2.5, 3.0]


def test_translate_it_translates_only_the_scene_just_shortened() -> None:
    composition, outcome = edit("Shorten scene 2 and then translate it to German")
    assert [scene.heading for scene in composition.scenes] == [
        "Meet Acme",
        "[DE] What is neu",
        "Available today",
    ]
    assert composition.scenes[1].body.startswith("[DE] ")
    assert durations(composition) == [3.0, 1.9, 4.0]
    assert composition.title == "Acme launch"
    assert "Translated scene 2 to German" in outcome.message


def test_it_in_a_later_sentence_is_the_scene_added_before() -> None:
    composition, _ = edit("Add a scene about pricing. Make it punchier.")
    assert composition.scenes[:3] == BASE.scenes
    assert composition.scenes[3].heading == "Pricing"


def test_it_skips_a_clause_that_changed_no_scene() -> None:
    composition, _ = edit("Make scene 1 gold. This is a 20 second video. Shorten it.")
    assert backgrounds(composition)[0] == COLOURS["gold"]
    assert composition.scenes[0].fixed
    assert not composition.scenes[1].fixed
    assert not composition.scenes[2].fixed


def test_it_is_the_selection_when_there_is_one() -> None:
    composition, _ = edit(
        "Make scene 3 red and paint it teal.", selected=[{"selector": "#scene-1"}]
    )
    assert backgrounds(composition) == [COLOURS["teal"], "#2A9D8F", COLOURS["red"]]


def test_it_without_a_selection_or_a_clause_before_is_every_scene() -> None:
    composition, _ = edit("Paint it teal.")
    assert set(backgrounds(composition)) == {COLOURS["teal"]}


@pytest.mark.parametrize(
    "message", ["Make it blue", "Rewrite this about pricing", "Shorten the selected scenes"]
)
def test_it_with_a_selection_that_matches_no_scene_is_no_scene(message: str) -> None:
    composition, outcome = edit(message, selected=[{"selector": "#scene-9 .eyebrow"}])
    assert composition == BASE
    assert (
        "None of the selected elements is a scene of this video. “It” names the selected "
        "elements, none of which is a scene, so that clause changed nothing."
    ) in outcome.message


def test_it_on_a_blank_project_is_the_opening_scene() -> None:
    composition, _ = edit("Pricing for small teams. Make it red.", html="", project_name="P")
    assert backgrounds(composition) == [COLOURS["red"]]


# ---------------------------------------------- what the editor acted on is not on screen

STAGE_WORDS = re.compile(
    r"\b(?:background|logo|scenes?|outro|fade|headlines?|beneath|underneath|screen|popping|"
    r"centred|animation)\b",
    re.IGNORECASE,
)


def on_screen(composition: Composition) -> str:
    return " ".join(f"{scene.heading} {scene.body}" for scene in composition.scenes)


def test_a_scene_count_and_a_colour_are_not_written_as_text() -> None:
    composition, _ = edit(
        "Create a 20 second teaser for Rocket, the new product from Acme: three short scenes "
        "with bold headlines on a clean light background.",
        html="",
        project_name="Acme Rocket teaser",
    )
    assert len(composition.scenes) == 3
    assert set(backgrounds(composition)) == {COLOURS["light"]}
    assert not STAGE_WORDS.search(on_screen(composition)), on_screen(composition)
    bodies = [scene.body for scene in composition.scenes]
    assert all(body in variants("Rocket") for body in bodies)
    assert len(set(bodies)) == 3


def test_a_quote_is_what_the_scene_shows_and_the_directions_are_not() -> None:
    composition, _ = edit(
        "Turn the last scene into a five second outro: the Acme logo centred on a dark "
        'background, the line "Rocket is here." beneath it, and a slow fade to black.'
    )
    outro = composition.scenes[-1]
    assert (outro.heading, outro.duration, outro.background) == (
        "Rocket is here.",
        5.0,
        COLOURS["dark"],
    )
    # Only directions around the quote: a stock sentence about the name they mention.
    assert outro.body in variants("Acme")


def test_a_quoted_line_with_only_directions_gets_a_line_of_its_own() -> None:
    composition, _ = edit(
        "Open with a three second hook: a bold question in the middle of the screen, "
        '"Still paying monthly?", on a coral background, with the text popping in word by word.'
    )
    hook = composition.scenes[0]
    assert (hook.heading, hook.duration, hook.background) == (
        "Still paying monthly?",
        3.0,
        COLOURS["coral"],
    )
    assert hook.body in GENERIC_BODIES


def test_words_beside_a_quote_stay_when_they_are_text_and_go_when_they_direct() -> None:
    composition, _ = edit(
        'Add a scene "Fewer meetings": async updates with a daily summary, in large type.'
    )
    assert composition.scenes[-1].heading == "Fewer meetings"
    assert composition.scenes[-1].body == "Async updates with a daily summary."


def test_the_topic_of_a_plain_clause_stays_whatever_its_words() -> None:
    composition, _ = edit("Add a scene about our new screen protector with the logo in the corner")
    assert composition.scenes[-1].heading == "Our new screen protector"
    assert composition.scenes[-1].body in variants("Our new screen protector")


@pytest.mark.parametrize(("message", "heading", "body"), TEXT_WITH_STAGING_WORDS)
def test_text_that_only_contains_a_staging_word_is_shown(
    message: str, heading: str, body: str
) -> None:
    composition, _ = edit(message)
    assert composition.scenes[:3] == BASE.scenes
    assert (composition.scenes[3].heading, composition.scenes[3].body) == (heading, body)


def test_changing_the_selection_to_large_type_changes_no_text() -> None:
    composition, outcome = edit("Change it to large type", selected=[{"selector": "#scene-2"}])
    assert composition == BASE
    assert outcome.message.startswith("Nothing changed for “Change it to large type”: it says")


# ------------------------------------------------------- a scene count says what it did


def test_a_scene_count_the_video_already_has_is_said() -> None:
    composition, outcome = edit("Add three short scenes about our café")
    assert composition.scenes[:3] == BASE.scenes
    assert [(s.heading, s.body) for s in composition.scenes[3:]] == [
        ("Our café", composition.scenes[3].body)
    ]
    assert composition.scenes[3].body in variants("Our café")
    assert "The video already has 3 scenes, so no scene was added to make 3." in outcome.message


def test_a_scene_count_counts_the_scene_its_clause_adds() -> None:
    two = render_composition_html(Composition("Acme", "16:9", BASE.scenes[:2]))
    composition, outcome = edit("Add three short scenes about our café", html=two)
    assert headings(composition) == [*HEADINGS[:2], "Our café"]
    assert "That makes the 3 scenes asked for." in outcome.message
    one = render_composition_html(Composition("Acme", "16:9", BASE.scenes[:1]))
    composition, outcome = edit("Add three short scenes about our café", html=one)
    assert headings(composition)[:2] == [HEADINGS[0], "Our café"]
    assert len(composition.scenes) == 3
    assert "Added scene 3 to make 3 scenes." in outcome.message


# ------------------------------------------ determinism: the name seeds only a new project


def test_the_project_name_does_not_change_an_edit_of_a_storyboard() -> None:
    outcomes = {
        ScriptedEditor(seed=0).edit(
            BASE_HTML, "Add a scene about pricing", project_name=name, aspect_ratio=ratio
        )
        for name, ratio in (("recap (en)", "16:9"), ("recap (de)", "1:1"), ("", "9:16"))
    }
    assert len(outcomes) == 1


# ------------------------------------------------------ replies say what the doc says


def test_a_keep_clause_says_what_was_kept() -> None:
    composition, outcome = edit(
        "Keep all text inside the middle 80% of the frame so the app's buttons never cover it."
    )
    assert composition == BASE
    assert outcome.message.startswith(
        "Kept all text inside the middle 80% of the frame so the app's buttons never cover it: "
        "nothing needed to change."
    )
    assert "one font" not in outcome.message


@pytest.mark.parametrize(
    ("eyebrow", "so"),
    [(".eyebrow", "it selects nothing."), ("#scene-1 .eyebrow", "it was read as scene 1.")],
)
def test_a_selected_element_that_is_not_there_is_named_even_when_others_match(
    eyebrow: str, so: str
) -> None:
    composition, outcome = edit(
        "Make the opening bolder",
        selected=[{"selector": "#scene-1 h1"}, {"selector": eyebrow}],
    )
    assert composition.scenes[0] != BASE.scenes[0]
    assert composition.scenes[1:] == BASE.scenes[1:]
    assert (
        f"The selected “{eyebrow}” is not part of this storyboard (a scene has a heading and a "
        f"body), so {so}"
    ) in outcome.message


def test_a_selector_scoped_to_a_part_every_scene_has_is_not_reported() -> None:
    _, outcome = edit("Make it red", selected=[{"selector": "#scene-1 h1"}])
    assert "not part of this storyboard" not in outcome.message


def test_quoted_words_of_a_blank_projects_first_clause_are_its_opening_scene() -> None:
    composition, outcome = edit(
        'Start with a three second hook: "Tired of meetings?" in bold type, fading in.',
        html="",
        project_name="Standups",
    )
    assert composition.title == "Standups"
    (scene,) = composition.scenes
    assert (scene.heading, scene.body, scene.duration) == (
        "Tired of meetings?",
        "It only takes a minute.",
        3.0,
    )
    assert "Standups" not in scene.body
    assert (
        "Nothing changed for “fading in”: this editor's storyboard has no motion" in outcome.message
    )


def test_the_created_reply_gives_the_opening_scenes_final_length() -> None:
    _, outcome = edit(
        "Create a 15 second vertical video for stories and reels. Open with a three second "
        'hook: "Still paying monthly?" on a coral background.',
        html="",
        project_name="Offer",
    )
    assert "with an opening scene of 3 s." in outcome.message
    assert "4.5 s" not in outcome.message


def test_a_hold_past_the_scene_limit_says_it_was_capped() -> None:
    html = _one_scene("Thanks", "See you soon.")
    _, before = edit("Make scene 1 8.2 seconds.", html=html)
    _, outcome = edit("Hold the final frame for two seconds.", html=before.html)
    assert (
        "Lengthened scene 1 from 8.2 s to 10 s (10.2 s asked for, capped at the 10 s scene limit)."
        in outcome.message
    )


@pytest.mark.parametrize(
    ("message", "piece", "lacks"),
    [
        ("Make the opening more direct: cut the slow zoom.", "cut the slow zoom", "no motion"),
        ("Add a scene about pricing with a slow zoom.", "a slow zoom", "no motion"),
        ("Add a gentle swipe animation.", "Add a gentle swipe animation", "no motion"),
        ("Add background music.", "Add background music", "no sound"),
        ("Use a Japanese font.", "Use a Japanese font", "one font."),
    ],
)
def test_motion_fonts_and_sound_are_named_in_the_reply(
    message: str, piece: str, lacks: str
) -> None:
    _, outcome = edit(message)
    assert f"Nothing changed for “{piece}”: this editor's storyboard has {lacks}" in outcome.message
    if lacks == "no sound":
        assert "font" not in outcome.message


@pytest.mark.parametrize(
    ("message", "opening", "counted"),
    [
        (
            "Create a 15 second promo for Rocket in four short scenes.",
            ("Demo", "Rocket, in a nutshell."),
            "Rocket",
        ),
        (
            "Make a 20 second video for Acme with three quick scenes.",
            ("Demo", "Acme, in a nutshell."),
            "Acme",
        ),
        (
            "Open with a five second intro showing the Acme logo on a dark background, then "
            "three scenes about our features.",
            ("Demo", "Acme: the short version."),
            "our features",
        ),
        (
            'Add a scene with a big "50% off" in the centre of the screen, zooming in slowly.',
            ("50% off", "See for yourself."),
            None,
        ),
    ],
)
def test_what_a_command_leaves_of_a_clause_reads_as_a_sentence(
    message: str, opening: tuple[str, str], counted: str | None
) -> None:
    composition, _ = edit(message, html="", project_name="Demo")
    first = composition.scenes[0]
    assert (first.heading, first.body) == opening
    for scene in composition.scenes[1:]:
        assert counted is not None
        assert counted in scene.body
        assert not scene.body.startswith("Why our features matters")


def test_a_commands_leftovers_on_a_storyboard_become_a_stock_sentence_about_the_subject() -> None:
    composition, outcome = edit("Create a 15 second promo for Rocket in four short scenes.")
    assert [(s.heading, s.body) for s in composition.scenes[3:]] == [
        ("Promo for Rocket", "Why Rocket matters.")
    ]
    assert "no scene was added" not in outcome.message
    composition, _ = edit(
        "Open with a five second intro showing the Acme logo on a dark background, then "
        "three scenes about our features."
    )
    assert (composition.scenes[0].heading, composition.scenes[0].body) == (
        "Acme logo",
        "Acme: the short version.",
    )


def test_translating_to_english_changes_nothing_on_an_english_storyboard() -> None:
    composition, outcome = edit(
        'Translate every on-screen text to the language with the code "en".'
    )
    assert composition.scenes == BASE.scenes
    assert composition.title == BASE.title
    assert "already in English" in outcome.message
    assert "[EN]" not in outcome.html


def test_translating_back_to_english_takes_the_marker_off() -> None:
    _, german = edit("Translate to German.")
    composition, outcome = edit("Translate to English.", html=german.html)
    # The glossary's words are not changed back: the marker goes, "neu" and "Start" stay.
    assert headings(composition) == ["Meet Acme", "What is neu", "Available heute"]
    assert composition.title == "Acme Start"
    assert "Took the translation marker off scenes 1, 2 and 3 and the title" in outcome.message
