"""Reading messages into intents: clauses, scene references, commands, plain text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parafraim_build.emulator.phrases import (
    ONE_LINE_CHARACTERS,
    Note,
    Plain,
    RemoveScenes,
    ScaleDuration,
    SceneCount,
    SceneList,
    SetBackground,
    SetDuration,
    SetLength,
    SetTitle,
    ShortenHeadings,
    Target,
    Translate,
    derive_text,
    is_direction,
    number_value,
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
        ("Make it less formal", "Less formal", Target("selected"), "bold", False),
        ("Make it punchier", "Punchier", Target("selected"), "tight", False),
        (
            "Rewrite this with a bold new promise",
            "Bold new promise",
            Target("selected"),
            None,
            False,
        ),
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


# ------------------------------------------------- natural phrases (examples, starter)


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Create a 20 second teaser for Rocket.", 20.0),
        ("A 30-second launch explainer for the website.", 30.0),
        ("Make a 15 s vertical video for stories.", 15.0),
        ("Create a twenty-five second promo.", 25.0),
        ("This is a thirty second clip.", 30.0),
    ],
)
def test_a_stated_video_length_is_a_set_length(message: str, seconds: float) -> None:
    assert SetLength(seconds) in parse_message(message)


def test_a_clause_that_only_states_the_length_adds_no_text() -> None:
    assert parse_message("This is a 30 second launch explainer for Northwind Flow.") == (
        SetLength(30.0),
    )


def test_a_scene_count_follows_its_clause() -> None:
    intents = parse_message("Create a teaser for Rocket: three short scenes with bold headlines.")
    assert isinstance(intents[0], Plain)
    assert intents[1] == SceneCount(3, "Rocket")
    assert parse_message("Tell it in 4 scenes.")[1] == SceneCount(4, None)


def test_a_scene_length_inside_a_plain_clause_is_the_scenes_own() -> None:
    (plain,) = parse_message('Open with a three second hook: "Still paying monthly?" on coral.')
    assert isinstance(plain, Plain)
    assert plain.seconds == 3.0
    assert plain.target == Target("scenes", (1,))
    assert plain.heading == "Still paying monthly?"
    assert plain.background == "#FF6F59"


def test_quoted_text_is_the_heading_and_a_second_quote_the_body() -> None:
    (plain,) = parse_message('Add a scene: "Launch day" in large type, "Join us" beneath it.')
    assert isinstance(plain, Plain)
    assert (plain.heading, plain.body) == ("Launch day", "Join us.")


def test_sentences_are_not_cut_inside_quotes_or_at_a_wrapped_line() -> None:
    message = (
        'End with an outro: the logo on a dark\nbackground, the line "Rocket is here." beneath.'
    )
    assert len(parse_message(message)) == 1
    assert split_clauses('Say "Hi. Bye." now. Remove scene 2') == [
        'Say "Hi. Bye." now.',
        "Remove scene 2",
    ]


def test_a_numbered_list_is_a_scene_list_for_its_introductions_scene() -> None:
    message = (
        'Replace the "What is new" scene with three scenes:\n'
        '1. "Plan": shared boards.\n2. "Meet less": async updates.\n- "Find it": one search.'
    )
    (scene_list,) = parse_message(message)
    assert isinstance(scene_list, SceneList)
    assert scene_list.target == Target("named", name="What is new")
    assert [(item.heading, item.body) for item in scene_list.items] == [
        ("Plan", "Shared boards."),
        ("Meet less", "Async updates."),
        ("Find it", "One search."),
    ]


def test_a_list_written_on_one_line_is_a_list_too() -> None:
    intents = parse_message('Show the numbers: 1. "12,400": sign-ups. 2. "99.98%": uptime. Thanks.')
    assert isinstance(intents[0], SceneList)
    assert intents[0].target is None
    assert [item.heading for item in intents[0].items] == ["12,400", "99.98%"]
    assert isinstance(intents[1], Plain)
    assert intents[1].heading == "Thanks"


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        ("Shorten any headline that no longer fits on one line.", ONE_LINE_CHARACTERS),
        ("shorten every headline longer than twelve characters", 12),
        ("Shorten the headlines longer than 18 characters.", 18),
    ],
)
def test_shorten_headlines(message: str, limit: int) -> None:
    assert parse_message(message) == (ShortenHeadings(None, limit),)


def test_font_and_motion_clauses_are_notes_and_keep_splits_off() -> None:
    intents = parse_message("Keep the headline font and shorten any headline longer than 9 chars")
    assert isinstance(intents[0], Note)
    assert intents[1] == ShortenHeadings(None, 9)
    (note,) = parse_message("Add a gentle upward swipe animation as a hint.")
    assert isinstance(note, Note)
    # A manner wins over the motion words in the same clause.
    (plain,) = parse_message("Make the opening more direct: cut the slow zoom.")
    assert isinstance(plain, Plain)
    assert plain.style == "tight"


def test_translate_to_a_quoted_language_code_with_a_keeping_tail() -> None:
    message = 'Translate every on-screen text to the language with the code "de", keeping numbers.'
    assert parse_message(message) == (Translate(None, "de"),)


def test_hold_the_final_frame_lengthens_the_last_scene() -> None:
    assert parse_message("Hold the final frame for two seconds.") == (
        ScaleDuration(Target("last"), True, 2.0),
    )


def test_a_described_hex_colour_in_parentheses() -> None:
    assert parse_message("Make the background of every scene our brand navy (#1B2A4A).") == (
        SetBackground(Target("each"), "#1B2A4A", "#1b2a4a"),
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("20", 20.0), ("2.5", 2.5), ("three", 3.0), ("twenty-five", 25.0), ("sixty", 60.0)],
)
def test_number_value(text: str, value: float) -> None:
    assert number_value(text) == value


def test_number_value_refuses_other_words() -> None:
    assert number_value("many") is None
    assert number_value("twenty-twelve") is None


# --------------------------------------- topics are not requests (motion, lengths, colours)


@pytest.mark.parametrize(
    ("message", "heading"),
    [
        ("Add a scene about our new frying pans.", "Our new frying pans"),
        ("Add a scene about the summer music festival.", "Summer music festival"),
        ("Add a slide on motion design.", "Motion design"),
        ("Add a scene for the Font Foundry meetup.", "Font Foundry meetup"),
    ],
)
def test_a_scene_about_a_motion_or_font_topic_is_added(message: str, heading: str) -> None:
    (plain,) = parse_message(message)
    assert isinstance(plain, Plain)
    assert (plain.adds, plain.heading) == (True, heading)


@pytest.mark.parametrize(
    "message",
    [
        "Add a gentle swipe animation",
        "add background music",
        "Use a Japanese font with generous line spacing",
        "Add a slow pan across the product shot",
        "Add a fade to black on the last scene",
        "Talk over it with a voice-over about pricing",
    ],
)
def test_asking_for_motion_fonts_or_sound_is_a_note(message: str) -> None:
    (note,) = parse_message(message)
    assert isinstance(note, Note)


def test_a_length_before_a_scene_noun_is_that_scenes_own_not_the_videos() -> None:
    (plain,) = parse_message("Start with a five second intro showing the logo.")
    assert isinstance(plain, Plain)
    assert (plain.seconds, plain.target) == (5.0, Target("scenes", (1,)))
    assert plain.clause == "Start with an intro showing the logo."
    (story,) = parse_message("Add a 4 second story of how we started.")
    assert isinstance(story, Plain)
    assert (story.seconds, story.adds) == (4.0, True)


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Create a 20 second recap of the week.", 20.0),
        ("A 30-second explainer for the website.", 30.0),
        ("Cut a 15 s video for stories.", 15.0),
    ],
)
def test_the_whole_video_nouns_still_set_the_length(message: str, seconds: float) -> None:
    assert SetLength(seconds) in parse_message(message)


def test_a_scene_added_into_the_video_with_a_length_is_a_scene() -> None:
    (plain,) = parse_message("End with a 5 second recap of the offer.")
    assert isinstance(plain, Plain)
    assert (plain.seconds, plain.adds) == (5.0, True)


def test_a_length_keeps_its_article_before_a_vowel() -> None:
    (plain, length) = parse_message("Create an 8 second explainer about pricing.")
    assert length == SetLength(8.0)
    assert isinstance(plain, Plain)
    assert plain.clause == "Create an explainer about pricing."


@pytest.mark.parametrize(
    ("message", "background"),
    [
        ("Add a scene about pricing on a light background.", "#EEF1F5"),
        ("Add a scene about pricing on a clean light background.", "#EEF1F5"),
        ("Add a scene about pricing on a dark background.", "#1B1F2A"),
        ('End with the logo on white with "Link in bio" underneath.', "#F5F5F5"),
        ("Add a scene about pricing on white.", "#F5F5F5"),
        ("Add a scene about pricing on a coral background.", "#FF6F59"),
        ("Add a scene about pricing on a dark blue background.", "#2B6CB0"),
        ("Add a scene on light pollution.", None),
        ("Add a scene on dark matter.", None),
        ("Add a scene on coral reefs.", None),
        ("Add a scene on black holes.", None),
        ("Add a scene on light.", None),
    ],
)
def test_on_a_colour_is_a_background_but_a_colourful_topic_is_not(
    message: str, background: str | None
) -> None:
    (plain,) = parse_message(message)
    assert isinstance(plain, Plain)
    assert plain.background == background


@pytest.mark.parametrize("message", ["make the background red)", "make scene 2 blue)"])
def test_a_colour_never_takes_a_closing_parenthesis_without_its_opening(message: str) -> None:
    assert not any(isinstance(intent, SetBackground) for intent in parse_message(message))


def test_a_scene_length_taken_out_leaves_its_article_agreeing() -> None:
    (plain,) = parse_message("Open with a three second hook: a bold question.")
    assert isinstance(plain, Plain)
    assert plain.clause == "Open with a hook: a bold question."
    (ending,) = parse_message("Make it a five second.")
    assert isinstance(ending, Plain)
    assert ending.clause == "Make it."


# ------------------------------------------------- what the editor acts on is not text


@pytest.mark.parametrize(
    ("topic", "heading", "body"),
    [
        # Only directions around the quote: the body is the heading (a stock sentence later).
        (
            'the Acme logo centred, the line "Rocket is here." beneath it, and a slow fade',
            "Rocket is here.",
            "Rocket is here.",
        ),
        (
            'a bold question in the middle of the screen, "Still paying monthly?", with the '
            "text popping in word by word",
            "Still paying monthly?",
            "Still paying monthly?",
        ),
        # Text beside the quote stays; a direction after it goes, the joins kept.
        (
            '"Fewer meetings": async updates with a daily summary, in large type',
            "Fewer meetings",
            "Async updates with a daily summary.",
        ),
        (
            '"Plan the week": shared boards that update',
            "Plan the week",
            "Shared boards that update.",
        ),
        # Without quotes the first piece is the topic, whatever its words.
        ("our new screen protector with the logo", "Our new screen protector", None),
        # "Heading: body" without quotes is the text as the user wrote it.
        ("Launch: with bold headlines", "Launch", "With bold headlines."),
        ("Launch:", "Launch", "Launch."),
    ],
)
def test_stage_directions_are_not_text(topic: str, heading: str, body: str | None) -> None:
    derived_heading, derived_body = derive_text(topic)
    assert derived_heading == heading
    assert derived_body == (body or f"{heading}.")


@pytest.mark.parametrize(
    ("message", "subject"),
    [
        (
            'End with the outro: the Northwind logo on white with "Link in bio" underneath.',
            "Northwind",
        ),
        (
            "Turn the last scene into an outro: the Acme logo centred on a dark background, "
            'the line "Rocket is here." beneath it.',
            "Acme",
        ),
        ('Add a scene "Hello" in large type', None),
    ],
)
def test_a_name_in_the_dropped_directions_is_the_subject(message: str, subject: str | None) -> None:
    plains = [intent for intent in parse_message(message) if isinstance(intent, Plain)]
    assert [plain.subject for plain in plains] == [subject]


def test_a_scene_count_and_a_colour_are_acted_on_not_written() -> None:
    intents = parse_message(
        "Create a teaser for Rocket, the new product from Acme: three short scenes with bold "
        "headlines on a clean light background."
    )
    plain, count = intents
    assert isinstance(plain, Plain)
    assert count == SceneCount(3, "Rocket")
    assert plain.background == "#EEF1F5"
    assert "scenes" not in plain.body.lower()
    assert "background" not in plain.body.lower()
    assert "headlines" not in plain.body.lower()


def test_a_colour_inside_quotes_is_text() -> None:
    (plain,) = parse_message('Add a scene "Life on white sand"')
    assert isinstance(plain, Plain)
    assert plain.heading == "Life on white sand"


@pytest.mark.parametrize(
    ("message", "target"),
    [
        ("Make it punchier", Target("selected")),
        ("Rewrite this about pricing", Target("selected")),
        ("Make them calmer", Target("selected")),
        ("Make the opening more direct", Target("scenes", (1,))),
        ("Make a scene about pricing", None),
    ],
)
def test_it_in_a_plain_clause_is_the_selection_or_the_clause_before(
    message: str, target: Target | None
) -> None:
    (plain,) = parse_message(message)
    assert isinstance(plain, Plain)
    assert plain.target == target


@pytest.mark.parametrize(
    "message",
    [
        "Keep the headline font",
        "Keep all text inside the middle 80% of the frame so the app's buttons never cover it",
        "Leave the music as it is",
    ],
)
def test_a_keep_clause_is_a_keep_note_whatever_it_names(message: str) -> None:
    (note,) = parse_message(message)
    assert note == Note(message, "keep")


@pytest.mark.parametrize("message", ["Make it fade in slowly", "Make this scene zoom in"])
def test_motion_asked_of_it_is_a_note(message: str) -> None:
    (note,) = parse_message(message)
    assert isinstance(note, Note)
    assert note.reason == "motion and fonts"


# ------------------------------------------- a direction is a piece whose head stages it


@pytest.mark.parametrize(
    "piece",
    [
        "the Acme logo centred",
        "in large type",
        "in very large type",
        "a slow fade to black",
        "beneath it",
        "the line",
        "with the text popping in word by word",
        "a bold question in the middle of the screen",
        "the Northwind logo in the bottom corner",
        "the outro",
    ],
)
def test_a_piece_headed_by_a_staging_word_is_a_direction(piece: str) -> None:
    assert is_direction(piece)


@pytest.mark.parametrize(
    "piece",
    [
        # A staging word that is not the head is the scene's words.
        "text search",
        "dark theme",
        "keep your history forever",
        "leave the office early",
        "a free trial for every screen size",
        "our new screen protector",
        "a virtual card for every team",
        "a new line of products",
        "an exclusive font pack for designers",
        "",
    ],
)
def test_a_piece_with_a_staging_word_elsewhere_is_text(piece: str) -> None:
    assert not is_direction(piece)


# Text that merely contains a staging word (test_editor checks the scene each one writes).
TEXT_WITH_STAGING_WORDS = [
    (
        "Add a scene: Features: offline mode, dark theme and text search",
        "Features",
        "Offline mode, dark theme and text search.",
    ),
    (
        "Add a scene about our Pro plan: unlimited boards, keep your history forever",
        "Our Pro plan",
        "Unlimited boards, keep your history forever.",
    ),
    (
        "Add a scene about pricing, with a free trial for every screen size",
        "Pricing, with a free trial",
        "Pricing, with a free trial for every screen size.",
    ),
]


@pytest.mark.parametrize(("message", "heading", "body"), TEXT_WITH_STAGING_WORDS)
def test_words_that_only_contain_a_staging_word_stay_text(
    message: str, heading: str, body: str
) -> None:
    (plain,) = parse_message(message)
    assert isinstance(plain, Plain)
    assert (plain.heading, plain.body) == (heading, body)


@pytest.mark.parametrize(
    "message", ["Change it to large type", "Make this scene the logo in the corner"]
)
def test_a_rewrite_that_only_stages_the_scene_is_a_note(message: str) -> None:
    assert parse_message(message) == (Note(message, "staging"),)


def test_a_scene_count_leaves_the_topic_it_is_about() -> None:
    plain, count = parse_message("Add three short scenes about our café")
    assert isinstance(plain, Plain)
    assert (plain.heading, plain.body) == ("Our café", "Our café.")
    assert count == SceneCount(3)


def _only_plain(message: str) -> Plain:
    plains = [intent for intent in parse_message(message) if isinstance(intent, Plain)]
    assert len(plains) == 1
    return plains[0]


@pytest.mark.parametrize(
    ("message", "heading", "body"),
    [
        (
            "Create a promo for Rocket in four short scenes.",
            "Promo for Rocket",
            "Promo for Rocket.",
        ),
        ("Make a video for Acme with three quick scenes.", "Video for Acme", "Video for Acme."),
        (
            "Open with an intro showing the Acme logo on a dark background, then three scenes "
            "about our features.",
            "Acme logo",
            "Acme logo.",
        ),
        ('Add a scene with a big "50% off" in the centre of the screen.', "50% off", "50% off."),
    ],
)
def test_a_command_takes_the_words_that_led_into_it(message: str, heading: str, body: str) -> None:
    plain = _only_plain(message)
    assert (plain.heading, plain.body) == (heading, body)


def test_what_counted_scenes_are_about_is_theirs() -> None:
    intents = parse_message("Open with the Acme logo, then three scenes about our features.")
    assert SceneCount(3, "our features") in intents
    assert SceneCount(3, None) in parse_message("Add three short scenes about our café.")


def test_a_plain_clause_knows_its_quotes_part_and_motion() -> None:
    hook = _only_plain('Start with a hook: "Tired of meetings?" in bold type, fading in.')
    assert (hook.heading, hook.quoted, hook.unshown) == ("Tired of meetings?", True, ("fading in",))
    assert _only_plain("Make the headline of the first scene larger.").part == "heading"
    assert _only_plain("Make the text of scene 2 punchier.").part == "body"
    assert _only_plain("Make the opening more direct: open on the headline.").part is None
    assert _only_plain("Add a scene about the summer music festival.").unshown == ()
    assert _only_plain("Add a scene about pricing with a slow zoom.").unshown == ("a slow zoom",)
