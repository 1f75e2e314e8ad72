"""The documented phrases of the scripted editor: a message in, a list of intents out.

Pure and total: :func:`parse_message` reads any string and never raises. A message is cut
into clauses (sentences, and ``... and <command>`` inside a sentence); each clause is either a
documented command (title, remove, duration, translate, colour) or plain text. ``docs/
editor.md`` lists every phrase; the table tests in ``tests/test_editor.py`` pin them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from parafraim_build.emulator.composition import clean_text

TargetKind = Literal["scenes", "last", "selected", "each", "whole", "named"]

# Clauses longer than this are plain text: commands are short, and the limit keeps every
# regular expression linear on a 10,000 character message.
_COMMAND_MAX = 300

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
}

LANGUAGES = {
    "english": "en",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "polish": "pl",
    "swedish": "sv",
    "danish": "da",
    "norwegian": "no",
    "finnish": "fi",
    "czech": "cs",
    "turkish": "tr",
    "greek": "el",
    "russian": "ru",
    "ukrainian": "uk",
    "japanese": "ja",
    "chinese": "zh",
    "korean": "ko",
    "arabic": "ar",
    "hindi": "hi",
}
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "cs": "Czech",
    "tr": "Turkish",
    "el": "Greek",
    "ru": "Russian",
    "uk": "Ukrainian",
    "ja": "Japanese",
    "zh": "Chinese",
    "ko": "Korean",
    "ar": "Arabic",
    "hi": "Hindi",
}

COLOURS = {
    "red": "#C0392B",
    "orange": "#D35400",
    "yellow": "#F1C40F",
    "gold": "#B8860B",
    "green": "#27AE60",
    "teal": "#138D75",
    "blue": "#2B6CB0",
    "navy": "#1B2A49",
    "purple": "#6C3483",
    "pink": "#C2185B",
    "brown": "#6E4B3A",
    "grey": "#555B66",
    "gray": "#555B66",
    "black": "#111111",
    "white": "#F5F5F5",
    "coral": "#FF6F59",
    "dark": "#1B1F2A",
    "light": "#EEF1F5",
}

# Words that turn a plain clause into a restyle of existing text instead of new text.
STYLES = {
    "tight": frozenset(
        {
            "direct",
            "concise",
            "punchy",
            "punchier",
            "short",
            "shorter",
            "simple",
            "simpler",
            "clear",
            "clearer",
            "tight",
            "tighter",
            "crisp",
            "crisper",
            "snappy",
            "snappier",
            "brief",
            "briefer",
        }
    ),
    "bold": frozenset(
        {
            "exciting",
            "energetic",
            "bold",
            "bolder",
            "fun",
            "lively",
            "upbeat",
            "enthusiastic",
            "louder",
            "dramatic",
            "larger",
            "bigger",
            "stronger",
            "heavier",
        }
    ),
    "calm": frozenset(
        {"formal", "professional", "calm", "calmer", "serious", "sober", "quieter", "neutral"}
    ),
}


@dataclass(frozen=True)
class Target:
    """Which scenes a clause is about.

    ``scenes``: the 1-based ``numbers``; ``last``: the last scene; ``selected``: the scenes of
    the request's selected elements; ``each``: every scene one by one ("every scene 3 s");
    ``whole``: the video as a whole ("make the video 20 s" scales the total); ``named``: the
    scenes whose heading is ``name`` ("the \"What is new\" scene").
    """

    kind: TargetKind
    numbers: tuple[int, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class SetTitle:
    """Set the video's title ("set the title to Launch day")."""

    title: str


@dataclass(frozen=True)
class RemoveScenes:
    """Remove the target scenes ("remove scene 2")."""

    target: Target


@dataclass(frozen=True)
class SetDuration:
    """Set each target scene to ``seconds`` (``whole``: scale so the total is ``seconds``)."""

    target: Target | None
    seconds: float


@dataclass(frozen=True)
class ScaleDuration:
    """Shorten (``longer`` False) or lengthen, by ``seconds`` each or by a fixed factor."""

    target: Target | None
    longer: bool
    seconds: float | None = None


@dataclass(frozen=True)
class Translate:
    """Mark the target scenes' text as translated ("translate to German")."""

    target: Target | None
    language: str  # a short code, shown as the marker: [DE]


@dataclass(frozen=True)
class SetBackground:
    """Give the target scenes a background colour ("make the background blue")."""

    target: Target | None
    colour: str  # "#RRGGBB"
    name: str


@dataclass(frozen=True)
class Plain:
    """Anything else: new text for a scene.

    ``target`` set: rewrite those scenes (or restyle them when ``style`` is set); ``adds``: the
    clause explicitly asks for a new scene; ``heading``/``body``: the text derived from it;
    ``mention``: a name the clause asks the text to be "for" ("... for Acme"); ``seconds``: the
    scene's own length ("a three second hook"); ``background``: "on a coral background";
    ``subject``: a name the clause's stage directions mention ("the Acme logo"), what a stock
    sentence is about when the clause gives the scene no text of its own; ``quoted``: the
    heading is words the clause put in quotes (what the scene shows, even on a blank project's
    title card); ``part``: the part a restyle is limited to (``"heading"`` for "the headline of
    the first scene", ``"body"`` for "the text of"); ``unshown``: pieces of the clause that ask
    for motion, a font or sound, which a storyboard of still cards cannot show.
    """

    clause: str
    heading: str
    body: str
    target: Target | None = None
    style: str | None = None
    adds: bool = False
    mention: str | None = None
    seconds: float | None = None
    background: str | None = None
    subject: str | None = None
    quoted: bool = False
    part: str | None = None
    unshown: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetLength:
    """The video should last ``seconds`` in all ("a 20 second teaser"); later edits keep it."""

    seconds: float


@dataclass(frozen=True)
class SceneCount:
    """The video should have at least ``count`` scenes ("three short scenes"), about
    ``subject`` (the name the clause is "for", if any)."""

    count: int
    subject: str | None = None


@dataclass(frozen=True)
class ShortenHeadings:
    """Cut every target heading longer than ``limit`` characters at a word boundary."""

    target: Target | None
    limit: int


@dataclass(frozen=True)
class Note:
    """A clause about something a storyboard does not have or keeps as is.

    ``reason``: ``"motion and fonts"`` (fonts, motion, sound), ``"staging"`` (a rewrite that
    says only how a scene looks: "Change it to large type") or ``"keep"``.
    """

    clause: str
    reason: str


@dataclass(frozen=True)
class SceneList:
    """A numbered or bulleted list of scenes: they replace ``target``'s scenes, in order."""

    target: Target | None
    items: tuple[Plain, ...]


Intent = (
    SetTitle
    | RemoveScenes
    | SetDuration
    | ScaleDuration
    | Translate
    | SetBackground
    | Plain
    | SetLength
    | SceneCount
    | ShortenHeadings
    | Note
    | SceneList
)

# ------------------------------------------------------------------------ scene targets

_NUMBER = r"(?:\d{1,3}|" + "|".join(_ORDINALS) + r")"
_ORDINAL_SUFFIX = re.compile(r"^(\d{1,3})(?:st|nd|rd|th)$")

_REF_SELECTED = re.compile(
    r"(?:it|this|that|this scene|that scene|these scenes|these|this one|"
    r"(?:the )?(?:selected|highlighted|chosen|current|clicked)(?: scenes?| elements?| ones?)?)"
)
_REF_LAST = re.compile(
    r"(?:the )?(?:(?:last|final|closing|ending|end) (?:scene|card|slide|frame)|outro|ending|"
    r"closing|end card|call to action|cta)"
)
_REF_FIRST = re.compile(
    r"(?:the )?(?:(?:first|opening|intro|introductory) (?:scene|card|slide)|opening|intro|"
    r"introduction|hook)"
)
_REF_EACH = re.compile(
    r"(?:(?:every|each) (?:single )?(?:scene|card|slide)|all(?: of)?(?: the)? (?:scenes|cards|"
    r"slides)|all)"
)
_REF_WHOLE = re.compile(
    r"(?:the )?(?:whole |entire |full )?(?:video|composition|storyboard|clip|movie|film)|"
    r"everything|the whole thing"
)
_REF_NUMBERED = re.compile(
    r"(?:the )?(?:scenes?|cards?|slides?) ?#?(?P<list>\d{1,3}(?:(?: ?, ?| and | ?& ?| to | ?- ?)"
    r"(?:(?:scene|card|slide) )?#?\d{1,3})*)"
)
_REF_NAMED = re.compile(
    r'(?:the )?(?:"(?P<a>[^"]{1,60})"|“(?P<b>[^”]{1,60})”) (?:scene|card|slide)'
)
_REF_ORDINAL = re.compile(
    r"(?:the )?(?P<ord>" + "|".join(_ORDINALS) + r"|\d{1,3}(?:st|nd|rd|th)) (?:scene|card|slide)"
)


def _numbers(listing: str) -> tuple[int, ...]:
    """``2``, ``2 and 3``, ``1, 2 & 4``, ``2-4``, ``2 to 4`` -> scene numbers, in order."""
    numbers: list[int] = []
    for match in re.finditer(r"(\d{1,3})(?: ?(?:-|to) ?#?(\d{1,3}))?", listing):
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else start
        step = 1 if end >= start else -1
        for number in range(start, end + step, step):
            if number not in numbers and len(numbers) < 50:
                numbers.append(number)
    return tuple(numbers)


def parse_target(text: str) -> Target | None:
    """A whole phrase that names scenes (``scene 2``, ``the last scene``, ``every scene``)."""
    phrase = _normalise(text)
    if not phrase:
        return None
    if _REF_SELECTED.fullmatch(phrase):
        return Target("selected")
    if _REF_LAST.fullmatch(phrase):
        return Target("last")
    if _REF_FIRST.fullmatch(phrase):
        return Target("scenes", (1,))
    if _REF_EACH.fullmatch(phrase):
        return Target("each")
    if _REF_WHOLE.fullmatch(phrase):
        return Target("whole")
    numbered = _REF_NUMBERED.fullmatch(phrase)
    if numbered:
        return Target("scenes", _numbers(numbered.group("list")))
    ordinal = _REF_ORDINAL.fullmatch(phrase)
    if ordinal:
        return Target("scenes", (_ordinal(ordinal.group("ord")),))
    named = _REF_NAMED.fullmatch(clean_text(text).strip(" .!?;:,"))
    if named:
        return Target("named", name=clean_text(named.group("a") or named.group("b")))
    return None


def find_target(text: str) -> tuple[Target, str] | None:
    """The first phrase naming scenes inside a plain clause, and the clause without it.

    Searched case-insensitively on the clause as written, so the rest keeps its capitals.
    """
    phrase = clean_text(text)
    patterns: tuple[tuple[re.Pattern[str], Target | None], ...] = (
        (_REF_NAMED, None),
        (_REF_NUMBERED, None),
        (_REF_ORDINAL, None),
        (_REF_FIRST, Target("scenes", (1,))),
        (_REF_LAST, Target("last")),
        (re.compile(r"(?:the )?(?:selected|highlighted|chosen) (?:scenes?|elements?)"), None),
        (re.compile(r"this scene|these scenes"), Target("selected")),
    )
    for pattern, fixed in patterns:
        match = re.search(r"\b(?:" + pattern.pattern + r")\b", phrase, re.IGNORECASE)
        if match is None:
            continue
        target = fixed or parse_target(match.group(0))
        if target is None:
            continue
        rest = (phrase[: match.start()] + " " + phrase[match.end() :]).strip()
        return target, rest
    return None


def _ordinal(word: str) -> int:
    suffixed = _ORDINAL_SUFFIX.match(word)
    return int(suffixed.group(1)) if suffixed else _ORDINALS[word]


def _normalise(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation: the form commands are matched on."""
    return clean_text(text).lower().strip(" .!?;:,")


# ------------------------------------------------------------------------------ commands

_SECONDS = r"(?P<n>\d{1,3}(?:\.\d{1,2})?) ?(?:s|sec|secs|second|seconds)\b"
_PLEASE = r"(?:(?:please|now|also|then|and|can you|could you|would you|kindly) )*"

_TITLE = (
    re.compile(
        _PLEASE + r"(?:set|change|update|make|rename|switch) (?:the )?(?:video'?s? |main )?"
        r"(?:title|headline|name) (?:to|as|into)\s*:?\s*(?P<v>.+)",
        re.IGNORECASE,
    ),
    re.compile(r"(?:new )?(?:title|headline)\s*(?::|=|should be)\s*(?P<v>.+)", re.IGNORECASE),
    re.compile(
        _PLEASE + r"(?:rename|retitle|call|name) (?:the )?(?:video|it|this|project|composition)"
        r"(?: to)?\s*:?\s*(?P<v>.+)",
        re.IGNORECASE,
    ),
)
_REMOVE = re.compile(
    _PLEASE
    + r"(?:remove|delete|drop|cut|get rid of|lose|kill) (?P<ref>.+?)(?: entirely| completely)?"
)
_SET_DURATION = (
    re.compile(
        _PLEASE
        + r"(?:make|set|change) (?P<ref>.+?)(?:'s)? (?:duration |length )?(?:to |last )?"
        + _SECONDS
        + r"(?: long| each| apiece)?"
    ),
    re.compile(
        _PLEASE + r"(?:give|use) (?P<ref>.+?) " + _SECONDS + r"(?: each| apiece)?",
    ),
    re.compile(r"(?P<ref>.+?) (?:should (?:be|last|take)|lasts?|takes?|for) " + _SECONDS),
)
_SHORTEN = re.compile(
    _PLEASE + r"(?P<verb>shorten|lengthen|extend|trim|tighten|speed up|slow down|stretch)"
    r"(?: (?P<ref>.+?))?(?: by (?P<n>\d{1,3}(?:\.\d{1,2})?) ?(?:s|sec|secs|seconds?))?"
)
_LONGER_VERBS = frozenset({"lengthen", "extend", "slow down", "stretch"})
_SHORTER = re.compile(
    _PLEASE + r"make (?P<ref>.+?) (?:a (?:bit|little) |slightly |much )?"
    r"(?P<cmp>shorter|longer|faster|slower|quicker)"
    r"(?: by (?P<n>\d{1,3}(?:\.\d{1,2})?) ?(?:s|sec|secs|seconds?))?"
)
_TRANSLATE = (
    re.compile(
        _PLEASE + r"translate(?: (?P<ref>.*?))? (?:to|into|in) "
        r"(?:the language (?:with the )?(?:code|tag) )?[\"'“‘]?(?P<lang>[a-z][a-z-]{0,30})[\"'”’]?"
        r"(?:,? (?:keeping|leaving|but|except|without changing) .*)?"
    ),
    re.compile(_PLEASE + r"(?:rewrite|redo|write) (?P<ref>.+?) in (?P<lang>[a-z][a-z-]{0,30})"),
)
# A hex colour may be described first: "our brand navy (#1B2A4A)". The closing parenthesis
# is read only after its opening one, so "make it red)" is not a colour command.
_COLOUR_VALUE = (
    r"(?:(?:[a-z]+ ){1,3}(?P<paren>\()(?=#))?(?P<c>#[0-9a-f]{6}|"
    + "|".join(COLOURS)
    + r")(?(paren)\))"
)
_BACKGROUND = (
    re.compile(
        _PLEASE + r"(?:make|set|change|turn|paint|colou?r) (?:the )?(?:background|colou?r|"
        r"backgrounds|background colou?r)(?: of (?P<ref>.+?))? (?:to |into |in )?" + _COLOUR_VALUE
    ),
    re.compile(
        _PLEASE + r"(?:make|turn|paint|colou?r) (?P<ref>.+?) (?:background )?" + _COLOUR_VALUE
    ),
    re.compile(r"(?P<ref>.+?) (?:background|colou?r) (?:to |should be |= ?)?" + _COLOUR_VALUE),
)


def _strip_quotes(value: str) -> str:
    value = value.strip().rstrip(".!;")
    pairs = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»"), ("„", "“"))
    for opening, closing in pairs:
        if len(value) >= 2 and value.startswith(opening) and value.endswith(closing):
            return value[len(opening) : -len(closing)].strip()
    return value


def _optional_target(ref: str | None) -> Target | Literal[False] | None:
    """``None`` when no ref was given; ``False`` when one was given but names no scenes."""
    if ref is None or not ref.strip():
        return None
    target = parse_target(ref)
    return False if target is None else target


def _command(clause: str) -> Intent | None:
    """The documented command a clause states, or None for plain text."""
    if len(clause) > _COMMAND_MAX:
        return None
    original = clean_text(clause).strip(" ;,")
    for pattern in _TITLE:
        match = pattern.fullmatch(original.rstrip(".!"))
        if match:
            title = _strip_quotes(match.group("v"))
            if title:
                return SetTitle(clean_text(title))
    text = _normalise(clause)
    matchers = (
        _duration_command,
        _hold_command,
        _headings_command,
        _remove_command,
        _translate_command,
        _colour_command,
    )
    for matcher in matchers:
        intent = matcher(text)
        if intent is not None:
            return intent
    return None


def _remove_command(text: str) -> Intent | None:
    match = _REMOVE.fullmatch(text)
    if match:
        target = parse_target(match.group("ref"))
        if target is not None and target.kind != "whole":
            return RemoveScenes(target)
    return None


def _duration_command(text: str) -> Intent | None:
    for pattern in _SET_DURATION:
        match = pattern.fullmatch(text)
        if match:
            ref = re.sub(r"^(?:the )?(?:duration|length|timing) of ", "", match.group("ref"))
            target = parse_target(ref)
            if target is not None:
                return SetDuration(target, float(match.group("n")))
    match = _SHORTEN.fullmatch(text)
    if match:
        found = _optional_target(match.group("ref"))
        if found is not False:
            seconds = float(match.group("n")) if match.group("n") else None
            return ScaleDuration(found, match.group("verb") in _LONGER_VERBS, seconds)
    match = _SHORTER.fullmatch(text)
    if match:
        found = _optional_target(match.group("ref"))
        if found is not False:
            seconds = float(match.group("n")) if match.group("n") else None
            return ScaleDuration(found, match.group("cmp") in ("longer", "slower"), seconds)
    return None


def _translate_command(text: str) -> Intent | None:
    for pattern in _TRANSLATE:
        match = pattern.fullmatch(text)
        if not match:
            continue
        language = _language(match.group("lang"))
        if language is None:
            continue
        found = _optional_target(match.group("ref") if _names_scenes(match.group("ref")) else None)
        if found is not False:
            return Translate(found, language)
    return None


def _colour_command(text: str) -> Intent | None:
    for pattern in _BACKGROUND:
        match = pattern.fullmatch(text)
        if not match:
            continue
        found = _optional_target(match.groupdict().get("ref"))
        if found is False:
            continue
        value = match.group("c")
        colour = value.upper() if value.startswith("#") else COLOURS[value]
        return SetBackground(found, colour, value)
    return None


def _names_scenes(ref: str | None) -> bool:
    """Whether a translate clause's object restricts it ("scene 2") or is just "everything"."""
    if ref is None:
        return False
    target = parse_target(ref)
    return target is not None and target.kind in ("scenes", "last", "selected")


def _language(word: str) -> str | None:
    word = word.strip("-")
    if word in LANGUAGES:
        return LANGUAGES[word]
    if word in LANGUAGE_NAMES or re.fullmatch(r"[a-z]{2}(?:-[a-z]{2,4})?", word):
        return word
    return None


# ---------------------------------------------------------------------------- plain text

_LEAD = re.compile(
    r"^(?:(?:please|now|also|then|ok|okay|so|and|finally|next|can you|could you|would you|"
    r"kindly|i want|i'd like|we need|let's|lets)[\s,]+)*",
    re.IGNORECASE,
)
_ADD = re.compile(
    r"^(?:add|insert|append|include|create|write|show|put in|start with|end with|finish with|"
    r"open with|open on|begin with|"
    r"close with|wrap up with|new)\b\s*"
    r"(?:(?:a|an|one|another|new|extra|more|final|closing|short|quick)\s+)*"
    r"(?:(?:scene|slide|card|section|part|shot)s?\b)?\s*"
    r"(?:(?:about|on|for|with|saying|that says|which says|showing|explaining|to say|that)\b\s*)?",
    re.IGNORECASE,
)
_REWRITE = re.compile(
    r"^(?:rewrite|rework|redo|replace|change|update|revise|improve|make|turn|edit|fix|tweak|"
    r"adjust|reword|rephrase)\b\s*(?:(?:it|this|that|the text)\b\s*)?",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(
    r"^(?:(?:(?:so that|so it|to say|to read|to|so|as|with|into|about|saying|that says|"
    r"which says|and)\b|[:\-—])\s*)+",
    re.IGNORECASE,
)
_ADDS = re.compile(
    r"(?:add|insert|append|new|include|end with|finish with|close with|wrap up with)\b",
    re.IGNORECASE,
)
_SAY = re.compile(r"^(?:say|says|saying|read|reads|reading)\b\s*", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:a|an|the)\s+", re.IGNORECASE)
_STOP_TAIL = frozenset(
    {"a", "an", "the", "of", "and", "or", "for", "to", "with", "in", "on", "at", "by", "from"}
    | {"that", "this", "our", "your"}
)

# Text in straight or curly double quotes (single quotes are apostrophes too often).
_QUOTED = re.compile(r'"([^"]{1,200})"|“([^”]{1,200})”')
HEADING_WORDS = 6


def quotes(text: str) -> list[str]:
    """The non-empty phrases in double quotes, in order."""
    found = (clean_text(m.group(1) or m.group(2)) for m in _QUOTED.finditer(clean_text(text)))
    return [phrase for phrase in found if phrase]


HEADING_MAX = 60
BODY_MAX = 220


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary so that the text fits ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return (cut or text[: limit - 1]) + "…"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def derive_text(topic: str) -> tuple[str, str]:
    """Heading and body for a scene about ``topic``.

    ``Heading: body`` is taken literally; otherwise the heading is the first few words and the
    body is the whole topic as a sentence. Stage directions ("the logo centred", "in large
    type") are not text: a body that would be nothing else is the heading as a sentence, which
    the editor replaces by a stock sentence.
    """
    derived = _derive(topic)
    return derived.heading, derived.body


@dataclass(frozen=True)
class _Derived:
    """What :func:`_derive` reads from a clause's text: the scene's ``heading`` and ``body``;
    ``subject``: the name the dropped stage directions mention ("the Acme logo" -> "Acme"),
    what a stock sentence for the scene is about; ``quoted``: the heading is the clause's words
    in quotes; ``dropped``: the stage-direction pieces that were left out."""

    heading: str
    body: str
    subject: str | None = None
    quoted: bool = False
    dropped: tuple[str, ...] = ()


def _derive(topic: str) -> _Derived:
    """:func:`derive_text` with what else the editor needs to know about the text."""
    quoted = quotes(topic)
    if quoted:
        # The words in quotes are what the scene shows: "Plan the week": shared boards ...
        heading = _shorten(_capitalise(quoted[0]), HEADING_MAX)
        if len(quoted) > 1:
            subject = _first_name(_QUOTED.sub(",", clean_text(topic)))
            return _Derived(heading, _sentence(quoted[1]), subject, quoted=True)
        rest = _without_quoted(clean_text(topic))
        rest, subject, dropped = _without_directions(rest, keep_first=False)
        rest = re.sub(r"^(?:as|is|for|with|says?|reads?)\b\s*", "", rest, flags=re.IGNORECASE)
        return _Derived(heading, _sentence(rest or quoted[0]), subject, True, dropped)
    topic = _strip_quotes(clean_text(topic))
    if ":" in topic:
        head, _, rest = topic.partition(":")
        head, rest = _strip_quotes(head), _strip_quotes(rest)
        if head:
            # "Features: offline mode, dark theme and text search": the user wrote the text. With
            # nothing after the colon ("...: three short scenes" acted on), it is a heading only.
            heading = _shorten(_capitalise(head), HEADING_MAX)
            return _Derived(heading, _sentence(rest or heading))
    topic, subject, dropped = _without_directions(topic, keep_first=True)
    if subject is None and _only_directions(topic):
        # "showing the Acme logo": the scene has nothing to say but a name to say it about.
        subject = _first_name(topic)
    words = topic.split(" ")
    heading_words = words[:HEADING_WORDS]
    while len(heading_words) > 1 and heading_words[-1].lower().strip(",;") in _STOP_TAIL:
        heading_words.pop()
    heading = _capitalise(" ".join(heading_words).rstrip(" ,;:-.!?"))
    return _Derived(_shorten(heading, HEADING_MAX), _sentence(topic), subject, dropped=dropped)


def _without_quoted(text: str) -> str:
    """``text`` without its first quoted words and the words that lead straight into them (``a
    big "50% off"``, ``the line "Rocket is here."``): they say how the quote is shown."""
    match = _QUOTED.search(text)
    if match is None:
        return text
    # re.split with a group keeps the separators: all but the last piece lead elsewhere.
    before = "".join(_PIECES.split(text[: match.start()])[:-1])
    return clean_text(before + ", " + text[match.end() :])


# How a scene is staged rather than what it shows. A piece of a clause is a stage direction
# when one of these words is its head (docs/editor.md, "What is not on screen"), never merely
# because it contains one: "text search", "a free trial for every screen size" and "keep your
# history forever" are what a scene says.
# Nouns that name the look of a video: its head when they end the piece or come before a
# preposition or a placement ("the Acme logo centred", "a slow fade to black", "the outro").
_DIRECTION_NOUNS = frozenset(
    {"logo", "logos", "background", "backgrounds", "font", "fonts", "typeface", "typefaces"}
    | {"headline", "headlines", "heading", "headings", "fade", "fades", "animation"}
    | {"animations", "swipe", "zoom", "zooms", "transition", "transitions", "layout", "outro"}
    | {"intro", "middle", "corner", "centre", "center"}
)
# Nouns that are as often a scene's words: a head only when they end the piece ("the line",
# "in large type") or a placement or motion follows ("the text popping in").
_GENERIC_NOUNS = frozenset(
    {"text", "line", "lines", "screen", "frame", "type", "card", "cards", "slide", "slides"}
    | {"scene", "scenes", "hook", "pan", "motion"}
)
# How a piece of text moves on screen.
_MOTIONS = frozenset(
    {"fading", "zooming", "sliding", "popping", "spinning", "bouncing", "scrolling", "panning"}
    | {"flying", "typing", "animated"}
)
# Where and how the head is placed or moves; the first two also open a direction ("beneath it").
_PLACEMENTS = frozenset(
    {"beneath", "underneath", "centred", "centered", "popping", "pops", "fading", "sliding"}
    | {"animated", "zooming", "appearing", "above", "below", "left", "right", "top", "bottom"}
)
# A piece that opens with one of these stages the scene: a place ("beneath it") or a motion
# ("fading in", "zooming in slowly").
_OPENING_PLACEMENTS = frozenset({"beneath", "underneath", "centred", "centered"}) | _MOTIONS
# Where a head noun ends: a preposition ("a slow fade to black", "the middle of the screen").
_PREPOSITIONS = frozenset(
    {"to", "of", "in", "on", "at", "from", "with", "by", "for", "over", "across", "into"}
    | {"onto", "under"}
)
_DETERMINERS = frozenset(
    {"the", "a", "an", "our", "your", "its", "their", "this", "that", "his", "her", "some"}
)
# Words that join a piece to the one before ("with the text popping in").
_JOINS = frozenset({"with", "and", "then", "plus", "while"})
# After these a head starts again: "in large type", "in the bottom corner", "on screen".
_PLACE_WORDS = frozenset({"in", "on", "at"})
_HEAD_WORDS = 4
# Words of stage directions that are never a name ("the Acme Logo" -> "Acme").
_STAGING_WORDS = _DIRECTION_NOUNS | _GENERIC_NOUNS | _PLACEMENTS
# Where a clause's pieces meet: commas, colons, and the words that join directions.
_PIECES = re.compile(r"(\s*[,;:]\s*|\s+(?:and|with|then|while|plus)\s+)", re.IGNORECASE)
_NOT_NAMES = frozenset({"the", "a", "an", "and", "with", "then", "our", "your", "its"})


def is_direction(piece: str) -> bool:
    """Whether a piece of a clause stages the scene instead of saying what it shows.

    A piece is a direction when a staging word is its head: a placement opens it ("beneath
    it"), or the noun phrase it opens (or one after "in", "on", "at") ends in a staging noun
    ("the Acme logo centred", "a slow fade to black", "in large type", "in the middle of the
    screen"). A staging word elsewhere in it is a scene's words ("dark theme and text search").
    """
    words = re.findall(r"[\w'%-]+", piece.lower())
    while words and (words[0] in _DETERMINERS or words[0] in _JOINS):
        words.pop(0)
    if not words:
        return False
    if words[0] in _OPENING_PLACEMENTS:
        return True
    starts = [0] + [index + 1 for index, word in enumerate(words) if word in _PLACE_WORDS]
    return any(_staged_head(words, start) for start in starts)


def _staged_head(words: list[str], start: int) -> bool:
    """Whether the noun phrase at ``words[start]`` has a staging noun as its head."""
    while start < len(words) and words[start] in _DETERMINERS:
        start += 1
    for index in range(start, min(len(words), start + _HEAD_WORDS)):
        word = words[index]
        if word in _PREPOSITIONS or word in _PLACE_WORDS:
            return False
        following = words[index + 1] if index + 1 < len(words) else None
        if word in _DIRECTION_NOUNS and (
            following is None or following in _PREPOSITIONS | _PLACE_WORDS | _PLACEMENTS
        ):
            return True
        if word in _GENERIC_NOUNS and (following is None or following in _PLACEMENTS):
            return True
    return False


def _without_directions(text: str, *, keep_first: bool) -> tuple[str, str | None, tuple[str, ...]]:
    """``text`` without its stage-direction pieces, the name those pieces mention, and the
    pieces themselves.

    ``keep_first``: the first piece is the clause's own topic and stays whatever its words
    ("a scene about the Acme logo").
    """
    text = clean_text(text).strip(" ,;:-.")
    # re.split with a group keeps the separators at the odd positions.
    parts = _PIECES.split(text)
    pieces, separators = parts[0::2], ["", *parts[1::2]]
    staged = [
        index
        for index, piece in enumerate(pieces)
        if piece.strip(" ,;:-.") and is_direction(piece) and not (keep_first and index == 0)
    ]
    if not staged:
        return text, None, ()
    subject = _first_name(" , ".join(pieces[index] for index in staged))
    kept = ""
    for index, piece in enumerate(pieces):
        if index not in staged and piece.strip(" ,;:-."):
            kept += (separators[index] if kept else "") + piece
    dropped = tuple(pieces[index].strip(" ,;:-.") for index in staged)
    return kept.strip(" ,;:-"), subject, dropped


def _only_directions(topic: str) -> bool:
    """Whether every piece of a clause's text stages the scene ("large type", "the logo
    centred"): such a clause has nothing for the scene to show."""
    pieces = [piece for piece in _PIECES.split(clean_text(topic))[0::2] if piece.strip(" ,;:-.")]
    return bool(pieces) and all(is_direction(piece) for piece in pieces)


def _first_name(directions: str) -> str | None:
    """The first name (capitalised words) in stage directions: "the Acme logo" -> "Acme"."""
    for match in re.finditer(r"\b[A-Z][\w&'-]*(?: [A-Z][\w&'-]*){0,3}", directions):
        words = [
            word
            for word in match.group(0).split(" ")
            if word.lower() not in _NOT_NAMES and word.lower() not in _STAGING_WORDS
        ]
        if words:
            return " ".join(words)
    return None


def _sentence(text: str) -> str:
    text = _capitalise(text.strip())
    if text and text[-1] not in ".!?…":
        text += "."
    return _shorten(text, BODY_MAX)


def _topic(text: str, *, cut: bool = False) -> str:
    """What a plain clause is about: without polite leads, verbs, articles and connectors.

    ``cut``: a scene reference was taken out of the clause, so what is left after a verb is
    the new text ("make the ending say Thanks" -> "Thanks").
    """
    original = clean_text(text)
    topic = _LEAD.sub("", original)
    added = _ADD.sub("", topic, count=1)
    rewritten = _REWRITE.sub("", topic, count=1)
    cut = cut or added != topic or rewritten != topic
    topic = added if added != topic else rewritten
    for _ in range(3):
        topic = _ARTICLE.sub("", _CONNECTOR.sub("", topic.strip())).strip()
        if cut:
            topic = _SAY.sub("", topic)
    return topic.strip(" ,;:-.") or original.strip(" ,;:-.")


def _style(words: str) -> str | None:
    tokens = set(re.findall(r"[a-z]+", words.lower()))
    for style, vocabulary in STYLES.items():
        if tokens & vocabulary:
            return style
    return None


_RESTYLE_VERBS = (
    (re.compile(r"(?:shorten|tighten|trim|simplify|condense|cut down)\b", re.IGNORECASE), "tight"),
    (re.compile(r"(?:energi[sz]e|liven up|spice up|pump up|jazz up)\b", re.IGNORECASE), "bold"),
    (re.compile(r"(?:tone down|calm down|soften)\b", re.IGNORECASE), "calm"),
)
_COMPARATIVE = re.compile(r"(?P<less>less\b)?(?:more|a bit|a little|slightly|much|way|far)?\b")
_OPPOSITE = {"bold": "calm", "calm": "bold"}
_MANNER_ONLY = frozenset().union(*STYLES.values()) | {"and", "a", "bit", "little", "please", "much"}
# "Make the headline of the first scene larger": what is restyled, not new text.
_RESTYLED_PARTS = frozenset(
    {"the", "of", "headline", "headlines", "heading", "headings", "title", "titles", "text"}
    | {"font", "type", "lettering", "its", "their", "it", "them", "all", "every", "each"}
)


def _restyle(rest: str, topic: str) -> str | None:
    """The manner a short clause asks for ("more direct", "tone down scene 2"), if any."""
    if len(rest) > 120:
        return None
    for pattern, verb_style in _RESTYLE_VERBS:
        if pattern.match(rest):
            return verb_style
    match = _COMPARATIVE.match(topic.lower())
    comparative = match is not None and bool(match.group(0))
    # "more direct", or nothing but manner words ("punchier", "bolder and shorter").
    words = set(re.findall(r"[a-z]+", topic.lower()))
    if not comparative and not words <= _MANNER_ONLY | _RESTYLED_PARTS:
        return None
    style = _style(topic)
    if style is not None and match is not None and match.group("less"):
        return _OPPOSITE.get(style)
    return style


_MENTION = re.compile(r"\bfor (?P<name>[A-Z0-9][\w&'.-]*(?: [A-Z0-9][\w&'.-]*){0,3})")


# "Make it punchier", "rewrite this about pricing": the clause is about "it", the scenes the
# selection or the clause before it names.
_PRONOUN = re.compile(
    r"^(?:rewrite|rework|redo|change|update|revise|improve|make|turn|edit|fix|tweak|adjust|"
    r"reword|rephrase|restyle|tone down|calm down|soften|liven up|spice up|simplify)\s+"
    r"(?:it|this|that|them|these)\b",
    re.IGNORECASE,
)


def _plain(clause: str) -> Plain:
    return _read_plain(clause)[0]


def _read_plain(clause: str) -> tuple[Plain, str, str | None]:
    """The plain reading of a clause, its text without what the editor acts on (the words the
    scene would show), and what the scenes of its scene count are about, if it says."""
    text = clean_text(clause)
    seconds: float | None = None
    timed = _scene_seconds(text)
    if timed is not None:
        seconds, text = timed
    colour = _ON_COLOUR.search(text)
    lead_free = _LEAD.sub("", text)
    adds = bool(_ADDS.match(lead_free))
    target: Target | None = None
    rest = lead_free
    if not adds:
        found = find_target(lead_free)
        if found is not None:
            target, rest = found
        elif _PRONOUN.match(lead_free):
            target = Target("selected")
    topic = _topic(rest, cut=target is not None)
    style = None if adds else _restyle(rest, topic)
    mention = _MENTION.search(topic)
    shown, count_topic = _without_commands(topic)
    derived = _derive(shown)
    part = _restyled_part(rest) if style is not None else None
    plain = Plain(
        clause=text,
        heading=derived.heading,
        body=derived.body,
        target=target,
        style=style,
        adds=adds,
        mention=mention.group("name").rstrip(".") if mention else None,
        seconds=seconds,
        background=COLOURS[colour.group("c").lower()] if colour else None,
        subject=derived.subject,
        quoted=derived.quoted,
        part=part,
        unshown=_unshown(text),
    )
    return plain, shown, count_topic


# "Make the headline of the first scene larger": a restyle of one part of the scene.
_HEADING_PART = re.compile(r"\b(?:headlines?|headings?|titles?)\b", re.IGNORECASE)
_BODY_PART = re.compile(r"\b(?:text|body|copy|paragraph|subtitle)s?\b", re.IGNORECASE)


def _restyled_part(rest: str) -> str | None:
    """The part of a scene a restyle clause names: ``heading`` ("the headline of ...", "make
    the headline bolder"), ``body`` ("the text of ..."), else None (both)."""
    words = set(re.findall(r"[a-z]+", rest.lower()))
    only_parts = words <= _MANNER_ONLY | _RESTYLED_PARTS | _RESTYLE_LEADS
    for pattern, part in ((_HEADING_PART, "heading"), (_BODY_PART, "body")):
        named = re.search(r"\bthe (?:" + pattern.pattern[2:-2] + r") of\b", rest, re.IGNORECASE)
        if named or (only_parts and pattern.search(rest)):
            return part
    return None


# The verbs and scene words a restyle clause may also have ("make the headline bolder").
_RESTYLE_LEADS = frozenset({"make", "turn", "scene", "first", "last", "more", "less", "slightly"})
# Motion, fonts and sound a piece of a plain clause asks for ("with a slow zoom", "cut the slow
# zoom", "with the text popping in word by word"): a storyboard of still cards has none.
_UNSHOWN = re.compile(
    r"\b(?:fading|zooming|sliding|popping|spinning|bouncing|scrolling|flying|swip(?:e|es|ing))\b",
    re.IGNORECASE,
)


def _unshown(clause: str) -> tuple[str, ...]:
    """The pieces of a plain clause that ask for motion, a font or sound (not inside quotes,
    and not what the clause's text is about: "a scene about the music festival")."""
    text = _QUOTED.sub(",", clean_text(clause))
    pieces = _PIECES.split(text)[0::2]
    found: list[str] = []
    for piece in pieces:
        asked = _TOPIC.sub("", piece)
        if _NOT_MODELLED.search(asked) or _UNSHOWN.search(asked):
            found.append(_LEAD.sub("", piece.strip(" ,;:-.")))
    return tuple(piece for piece in found if piece)


def missing_kind(text: str) -> str:
    """What a clause asks for that a storyboard lacks: ``sound``, ``font`` or ``motion``."""
    if _SOUND.search(text):
        return "sound"
    if _FONT.search(text) and not (_NOT_MODELLED.search(_FONT.sub("", text))):
        return "font"
    return "motion"


_SOUND = re.compile(
    r"\b(?:music|voice-?overs?|sound(?:s| effects?)?|audio|soundtrack|narration|jingle)\b",
    re.IGNORECASE,
)
_FONT = re.compile(r"\b(?:fonts?|typefaces?|line spacing|letter spacing|kerning)\b", re.IGNORECASE)


def _without_commands(topic: str) -> tuple[str, str | None]:
    """``topic`` without what the editor acts on itself: a scene count ("three short scenes",
    with what it says the scenes look like: "with bold headlines") and a background colour
    ("on a clean light background") are not on-screen text, nor are the words that led into
    them ("in", "then"). Also what the counted scenes are about, when the clause says it after
    its own text ("..., then three scenes about our features")."""
    quoted = [match.span() for match in _QUOTED.finditer(topic)]
    count_topic: str | None = None
    for pattern in (_ON_COLOUR, _COUNT):
        match = pattern.search(topic)
        if match is None or any(low <= match.start() < high for low, high in quoted):
            continue
        if pattern is _COUNT and _count(topic) is None:
            continue
        end = match.end()
        if pattern is _COUNT:
            looks = _COUNT_LOOKS.match(topic, end)
            if looks is not None and is_direction(looks.group("piece")):
                end = looks.end()
        before, after = topic[: match.start()], topic[end:]
        # "a promo for Rocket in four short scenes": the "in" went with the count.
        before = _DANGLING.sub("", before)
        if pattern is _COUNT and before.strip():
            # "..., then three scenes about our features": what the counted scenes are about
            # is theirs (with nothing before the count, it is the clause's own topic).
            about = _COUNT_TOPIC.match(after)
            if about is not None:
                count_topic = about.group("topic").strip()
                after = after[about.end() :]
        if not before.strip():
            # "three short scenes about our café": what is left starts at its topic.
            after = _CONNECTOR.sub("", after.strip())
        topic = before + " " + after
        quoted = [match.span() for match in _QUOTED.finditer(topic)]
    topic = re.sub(r"\s+([,;:.])", r"\1", clean_text(topic))
    return re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", topic).strip(" ,;") or topic, count_topic


# Words that lead into what was cut out of a clause and dangle without it.
_DANGLING = re.compile(
    r"(?:[\s,;:]+|^)(?:(?:and then|and also|and|then|also|plus|with|in|into|on|at|for|of|to|by|"
    r"as|showing|featuring|across|over)[\s,;:]*)+$",
    re.IGNORECASE,
)
# "three scenes about our features": the topic of the counted scenes, up to a comma.
_COUNT_TOPIC = re.compile(
    r"\s+(?:about|on|covering|explaining|showing|featuring)\s+(?P<topic>[^,;:.!?\"“]+)",
    re.IGNORECASE,
)


# "three short scenes with bold headlines": how the counted scenes look, up to a comma.
_COUNT_LOOKS = re.compile(r"\s+(?:with|in)\s+(?P<piece>[^,;:.!?\"“]+)", re.IGNORECASE)


# ------------------------------------------------------- lengths, counts, lists, notes

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}
_WORD_NUMBER = (
    r"(?:(?:"
    + "|".join(_TENS)
    + r")(?:[ -](?:"
    + "|".join(list(_UNITS)[:9])
    + r"))?|"
    + "|".join(sorted(_UNITS, key=len, reverse=True))
    + r")"
)
_AMOUNT = r"(?P<n>\d{1,3}(?:\.\d{1,2})?|" + _WORD_NUMBER + r")"
_UNIT = r"(?:s|sec|secs|second|seconds)\b"
# "a 20 second teaser", "a 30-second launch explainer", "a 15 s vertical video": the whole.
# Nouns that name a part of a video ("intro", "story", "cut") are not here: "a five second
# intro" is the length of a scene, like "a three second hook".
_VIDEO_NOUNS = (
    r"(?:video|teaser|clip|explainer|trailer|spot|ad|advert|film|movie|reel|promo|"
    r"animation|commercial|recap)s?"
)
_LENGTH = re.compile(
    r"\b(?P<article>an? )?"
    + _AMOUNT
    + r"[ -]?"
    + _UNIT
    + r"(?: long)? (?P<kind>(?:[\w-]+ ){0,3}?"
    + _VIDEO_NOUNS
    + r")\b(?! (?:scene|slide|card|shot|section)s?\b)",
    re.IGNORECASE,
)
# "Start with a five second recap", "Add a 5 second promo": what a clause puts into the video
# is a scene of it, whatever it is called, so its length is the scene's.
_INTO_VIDEO = re.compile(
    r"^(?:(?:start|open|begin|end|finish|close|wrap up|wrap it up)(?: it)? (?:with|on)|"
    r"add|insert|append|include|put in)\b",
    re.IGNORECASE,
)
# "This is a 30 second explainer", "Make it a 20 second video": nothing but the length.
_LENGTH_ONLY = re.compile(
    r"(?:(?:this|it) is|it's|this'll be|make (?:this|it)(?: into)?|turn (?:this|it) into|"
    r"keep (?:this|it|the video) (?:at|to|as)|we want|i want|i'd like)\s*:?\s*"
    r"(?:(?:a|an|the)\s+)?(?P<kind>.*)",
    re.IGNORECASE,
)
# "a three second hook", "Second scene, six seconds": the length of the scene in the clause.
_SCENE_SECONDS = re.compile(
    r"\b(?P<article>an? )?" + _AMOUNT + r"[ -]?" + _UNIT + r"(?: long)?", re.IGNORECASE
)
# "three short scenes", "in 4 scenes": how many scenes the video should have.
_COUNT = re.compile(
    r"\b(?P<n>\d{1,2}|" + "|".join(list(_UNITS)[1:12]) + r") (?:(?:short|quick|simple|"
    r"separate|bold|clear|distinct|brief|little|more) )?(?:scenes|cards|slides)\b",
    re.IGNORECASE,
)
# "on a coral background", "on white": the colour of the scene the clause writes. A colour
# followed by another noun is a topic ("on coral reefs", "on black holes"), and "light" and
# "dark" are colours only before "background" ("on light pollution", "on dark matter").
_ON_COLOUR = re.compile(
    r"\bon (?:an? )?(?:(?:clean|plain|solid|soft|deep|warm|cool|simple|pale|bright|light|dark) )?"
    r"(?P<c>"
    + "|".join(COLOURS)
    + r")(?: background\b|(?<!light)(?<!dark)(?=\s*(?:[,.;:!?)]|$)|\s+(?:with|and|beneath|"
    r"underneath|below|under|behind|above|in|at|as|then|while|but|so|for|to|from)\b))",
    re.IGNORECASE,
)
_HOLD = re.compile(
    _PLEASE + r"(?:hold|keep|leave) (?P<ref>.+?) (?:on screen )?(?:for|another|an extra) "
    r"(?P<n>\d{1,3}(?:\.\d{1,2})?|"
    + _WORD_NUMBER
    + r") ?(?:more |extra )?"
    + _UNIT
    + r"(?: longer| more)?"
)
_SHORTEN_HEADINGS = re.compile(
    _PLEASE + r"(?:shorten|cut down|trim|abbreviate) (?:any|every|each|all(?: the)?|the|long) "
    r"(?:long )?(?:headlines?|headings?|titles?)(?P<rest>.*)"
)
_LIMIT = re.compile(
    r"(?:longer|more) than (?P<n>\d{1,3}|" + _WORD_NUMBER + r") (?:characters|chars|letters)"
)
_ONE_LINE = re.compile(r"(?:fits?|fitting) on (?:one|a single) line")
ONE_LINE_CHARACTERS = 20
# Clauses about what a storyboard of still cards does not have: fonts, motion, sound.
_NOT_MODELLED = re.compile(
    r"\b(?:fonts?|typefaces?|line spacing|letter spacing|kerning|animations?|animated|animate|"
    r"transitions?|zoom(?:s|ing)?|pan|panning|fades?|motion|music|voice-?over|sound effects?|"
    r"audio|soundtrack|narration|"
    r"safe area|frame so)\b",
    re.IGNORECASE,
)
# Where a clause starts saying what the new text is about; a not-modelled word after it is the
# topic ("a scene about our frying pans", "a slide on motion design", "for the music festival"),
# not what the clause asks for ("add background music", "use a Japanese font").
_TOPIC = re.compile(
    r"\b(?:about|regarding|concerning|covering|explaining|describing|introducing|announcing|"
    r"celebrating|showing|featuring|for|called|titled|named|headed|"
    r"on the (?:topic|subject) of|(?:scene|slide|card|section|part|shot)s? on)\b.*",
    re.IGNORECASE,
)
# "Keep the headline font": the verb says how the editor replies (editor._kept).
KEEP_CLAUSE = re.compile(
    r"^(?P<verb>keep|leave|don't change|do not change|make sure)\b\s*(?P<rest>.*)$", re.IGNORECASE
)


def number_value(text: str) -> float | None:
    """``20``, ``2.5``, ``twenty``, ``twenty-five`` -> the number; None otherwise."""
    word = text.strip().lower()
    if re.fullmatch(r"\d{1,3}(?:\.\d{1,2})?", word):
        return float(word)
    parts = re.split(r"[ -]", word)
    if len(parts) == 1:
        value = _UNITS.get(word, _TENS.get(word))
        return None if value is None else float(value)
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _UNITS and _UNITS[parts[1]] < 10:
        return float(_TENS[parts[0]] + _UNITS[parts[1]])
    return None


def _length(clause: str) -> tuple[float, str] | None:
    """The whole video's length a clause states, and the clause without the number."""
    if len(clause) > _COMMAND_MAX * 2:
        return None
    match = _LENGTH.search(clause)
    if match is None:
        return None
    if _INTO_VIDEO.match(_LEAD.sub("", clean_text(clause))):
        return None
    seconds = number_value(match.group("n"))
    if seconds is None or seconds <= 0:
        return None
    kind = match.group("kind")
    article = ""
    if match.group("article"):
        article = "an " if kind[:1].lower() in tuple("aeiou") else "a "
    rest = clean_text(clause[: match.start()] + article + kind + clause[match.end() :])
    return seconds, rest


def _scene_seconds(clause: str) -> tuple[float, str] | None:
    """A scene length stated inside a plain clause, and the clause without it."""
    match = _SCENE_SECONDS.search(clause)
    if match is None:
        return None
    seconds = number_value(match.group("n"))
    if seconds is None or seconds <= 0:
        return None
    after = clause[match.end() :]
    # "a five second intro" -> "an intro": the article stays, agreeing with the next word.
    following = after.lstrip()[:1].lower()
    article = " "
    if match.group("article") and following.isalpha():
        article = " an " if following in "aeiou" else " a "
    rest = clean_text(clause[: match.start()] + article + after)
    rest = re.sub(r"\s*,\s*(?=[:,.;])|\s+(?=[,:;.])", "", rest)
    return seconds, rest.strip(" ,;")


def _count(clause: str) -> int | None:
    match = _COUNT.search(clause)
    if match is None:
        return None
    value = number_value(match.group("n"))
    return int(value) if value is not None and 1 <= value <= 12 else None


def _hold_command(text: str) -> Intent | None:
    match = _HOLD.fullmatch(text)
    if match is None:
        return None
    target = parse_target(match.group("ref"))
    seconds = number_value(match.group("n"))
    if target is None or seconds is None or target.kind == "whole":
        return None
    return ScaleDuration(target, True, seconds)


def _headings_command(text: str) -> Intent | None:
    match = _SHORTEN_HEADINGS.fullmatch(text)
    if match is None:
        return None
    rest = match.group("rest")
    limit = _LIMIT.search(rest)
    if limit is not None:
        value = number_value(limit.group("n"))
        if value is None or value < 1:
            return None
        characters = int(value)
    elif _ONE_LINE.search(rest) or not rest.strip():
        characters = ONE_LINE_CHARACTERS
    else:
        return None
    found = find_target(rest)
    return ShortenHeadings(found[0] if found else None, characters)


def _note(clause: str) -> Note | None:
    """A clause that asks for nothing a storyboard of cards has (no words in quotes).

    Only the part before the clause's topic counts: "Add a gentle swipe animation" asks for
    motion, "Add a scene about the summer music festival" asks for a scene.
    """
    text = _LEAD.sub("", clean_text(clause))
    if quotes(text):
        return None
    # A keep clause says what stays, whatever it names ("Keep the headline font").
    if KEEP_CLAUSE.match(text) and find_target(text) is None:
        return Note(text, "keep")
    if _NOT_MODELLED.search(_TOPIC.sub("", text)):
        return Note(text, "motion and fonts")
    return None


# --------------------------------------------------------------------------- splitting

_SENTENCES = re.compile(r"[\n;]+|(?<=[.!?])\s+")
_AND = re.compile(r"(,? (?:and then|and also|and|then|also|plus) )", re.IGNORECASE)


def _sentences(message: str) -> list[str]:
    """The message cut at sentence ends, never inside double quotes ("Rocket is here.")."""
    quoted = [match.span() for match in _QUOTED.finditer(message)]
    pieces: list[str] = []
    start = 0
    for match in _SENTENCES.finditer(message):
        if any(low < match.start() < high for low, high in quoted):
            continue
        pieces.append(message[start : match.start()])
        start = match.end()
    pieces.append(message[start:])
    return pieces


def split_clauses(message: str) -> list[str]:
    """Sentences, each cut again before an ``and`` that starts a documented command."""
    clauses: list[str] = []
    for sentence in _sentences(message):
        sentence = clean_text(sentence)
        if not sentence:
            continue
        # re.split with a group keeps the separators at the odd positions.
        pieces = _AND.split(sentence) if len(sentence) <= _COMMAND_MAX * 2 else [sentence]
        current = pieces[0]
        for separator, part in zip(pieces[1::2], pieces[2::2], strict=True):
            if _command(part) is not None:
                clauses.append(current)
                current = part
            else:
                current = f"{current}{separator}{part}"
        clauses.append(current)
    return [clause for clause in clauses if clause.strip(" .!?,;:")]


_LIST_LINE = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+(?P<item>\S.*)$")
_INLINE_ITEM = re.compile(r"(?<=\S)\s+(?P<n>\d{1,2})[.)]\s+(?=\S)")


def _inline_lists(message: str) -> str:
    """``... scenes: 1. A 2. B`` written on one line: each item on a line of its own."""
    colon = re.search(r":\s+1[.)]\s+\S", message)
    if colon is None:
        return message
    head, tail = message[: colon.start() + 1], message[colon.start() + 1 :].lstrip()
    expected = 2
    out: list[str] = []
    last = 0
    for match in _INLINE_ITEM.finditer(tail):
        if int(match.group("n")) != expected:
            continue
        out.append(tail[last : match.start()])
        last = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
        expected += 1
    out.append(tail[last:])
    return head + "\n" + "\n".join(out)


def _unwrap(lines: list[str]) -> list[str]:
    """Lines wrapped inside a sentence joined again: a line that goes on in lower case (or
    with a quote) after a line without a sentence end, unless it is a command of its own."""
    out: list[str] = []
    for line in lines:
        text = line.strip()
        previous = out[-1].rstrip() if out else ""
        if (
            text
            and previous
            and not _LIST_LINE.match(line)
            and not _LIST_LINE.match(out[-1])
            and previous[-1] not in ".!?;…"
            and (text[0].islower() or text[0] in '"“')
            and _command(text) is None
        ):
            out[-1] = f"{previous} {text}"
        else:
            out.append(line)
    return out


def _units(message: str) -> list[str | tuple[str, list[str]]]:
    """Plain text and lists: a list is its introduction (the sentence ending in ``:`` just
    before it, or ``""``) and its items; the last item keeps only its first sentence."""
    units: list[str | tuple[str, list[str]]] = []
    text: list[str] = []
    items: list[str] = []

    def close_list() -> None:
        if not items:
            return
        last = _sentences(items[-1])
        items[-1] = last[0]
        before = "\n".join(text).rstrip()
        intro = ""
        if before.endswith(":"):
            sentences = _sentences(before)
            intro = sentences[-1]
            before = " ".join(sentences[:-1])
        if before.strip():
            units.append(before)
        units.append((intro, list(items)))
        text.clear()
        items.clear()
        text.append(" ".join(last[1:]))

    for line in _unwrap(_inline_lists(message).split("\n")):
        listed = _LIST_LINE.match(line)
        if listed:
            items.append(listed.group("item"))
            continue
        close_list()
        text.append(line)
    close_list()
    rest = "\n".join(text)
    if rest.strip():
        units.append(rest)
    return units


def _clause_intents(clause: str) -> list[Intent]:
    """The intents of one clause: a command, a note, or plain text, with a stated length and
    scene count after it (a length is applied when the whole message has been)."""
    after: list[Intent] = []
    length = _length(clause)
    if length is not None:
        seconds, clause = length
        after.append(SetLength(seconds))
        if _LENGTH_ONLY.fullmatch(clause.strip(" .!")):
            return after
    command = _command(clause)
    if command is not None:
        return [command, *after]
    plain, shown, count_topic = _read_plain(clause)
    # "Make it fade in" asks for motion whatever "it" is: only a named scene makes it text.
    if plain.style is None and plain.target in (None, Target("selected")):
        note = _note(clause)
        if note is not None:
            return [note, *after]
    # "Change it to large type": a rewrite that says only how the scene looks has no text.
    lead_free = _LEAD.sub("", clean_text(clause))
    rewrite = plain.target is not None and plain.style is None and _REWRITE.match(lead_free)
    if rewrite and not quotes(shown) and _only_directions(shown):
        return [Note(lead_free, "staging"), *after]
    count = _count(clause)
    if count is not None:
        after.insert(0, SceneCount(count, count_topic or plain.mention))
    return [plain, *after]


def parse_message(message: str) -> tuple[Intent, ...]:
    """Every intent of a message, in the order they are stated. Never raises."""
    intents: list[Intent] = []
    for unit in _units(message):
        if isinstance(unit, tuple):
            intro, items = unit
            found = find_target(intro) if intro else None
            plains = tuple(_plain(item) for item in items if item.strip(" .!?,;:"))
            if plains:
                intents.append(SceneList(found[0] if found else None, plains))
            continue
        for clause in split_clauses(unit):
            intents.extend(_clause_intents(clause))
    return tuple(intents)
