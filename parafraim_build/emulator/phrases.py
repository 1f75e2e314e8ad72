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

TargetKind = Literal["scenes", "last", "selected", "each", "whole"]

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
    ``whole``: the video as a whole ("make the video 20 s" scales the total).
    """

    kind: TargetKind
    numbers: tuple[int, ...] = ()


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
    ``mention``: a name the clause asks the text to be "for" ("... for Acme").
    """

    clause: str
    heading: str
    body: str
    target: Target | None = None
    style: str | None = None
    adds: bool = False
    mention: str | None = None


Intent = SetTitle | RemoveScenes | SetDuration | ScaleDuration | Translate | SetBackground | Plain

# ------------------------------------------------------------------------ scene targets

_NUMBER = r"(?:\d{1,3}|" + "|".join(_ORDINALS) + r")"
_ORDINAL_SUFFIX = re.compile(r"^(\d{1,3})(?:st|nd|rd|th)$")

_REF_SELECTED = re.compile(
    r"(?:it|this|that|this scene|that scene|these scenes|these|this one|"
    r"(?:the )?(?:selected|highlighted|chosen|current|clicked)(?: scenes?| elements?| ones?)?)"
)
_REF_LAST = re.compile(
    r"(?:the )?(?:(?:last|final|closing|ending|end) (?:scene|card|slide)|outro|ending|closing|"
    r"end card|call to action|cta)"
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
    return None


def find_target(text: str) -> tuple[Target, str] | None:
    """The first phrase naming scenes inside a plain clause, and the clause without it.

    Searched case-insensitively on the clause as written, so the rest keeps its capitals.
    """
    phrase = clean_text(text)
    patterns: tuple[tuple[re.Pattern[str], Target | None], ...] = (
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
    re.compile(_PLEASE + r"translate(?: (?P<ref>.*?))? (?:to|into|in) (?P<lang>[a-z][a-z-]{0,30})"),
    re.compile(_PLEASE + r"(?:rewrite|redo|write) (?P<ref>.+?) in (?P<lang>[a-z][a-z-]{0,30})"),
)
_COLOUR_VALUE = r"(?P<c>#[0-9a-f]{6}|" + "|".join(COLOURS) + r")"
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
    for matcher in (_duration_command, _remove_command, _translate_command, _colour_command):
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

HEADING_WORDS = 6
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
    body is the whole topic as a sentence.
    """
    topic = _strip_quotes(clean_text(topic))
    if ":" in topic:
        head, _, rest = topic.partition(":")
        head, rest = _strip_quotes(head), _strip_quotes(rest)
        if head and rest:
            return _shorten(_capitalise(head), HEADING_MAX), _sentence(rest)
    words = topic.split(" ")
    heading_words = words[:HEADING_WORDS]
    while len(heading_words) > 1 and heading_words[-1].lower().strip(",;") in _STOP_TAIL:
        heading_words.pop()
    heading = _capitalise(" ".join(heading_words).rstrip(" ,;:-.!?"))
    return _shorten(heading, HEADING_MAX), _sentence(topic)


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
    if not comparative and not set(re.findall(r"[a-z]+", topic.lower())) <= _MANNER_ONLY:
        return None
    style = _style(topic)
    if style is not None and match is not None and match.group("less"):
        return _OPPOSITE.get(style)
    return style


_MENTION = re.compile(r"\bfor (?P<name>[A-Z0-9][\w&'.-]*(?: [A-Z0-9][\w&'.-]*){0,3})")


def _plain(clause: str) -> Plain:
    text = clean_text(clause)
    lead_free = _LEAD.sub("", text)
    adds = bool(_ADDS.match(lead_free))
    target: Target | None = None
    rest = lead_free
    if not adds:
        found = find_target(lead_free)
        if found is not None:
            target, rest = found
    topic = _topic(rest, cut=target is not None)
    style = None if adds else _restyle(rest, topic)
    mention = _MENTION.search(topic)
    heading, body = derive_text(topic)
    return Plain(
        clause=text,
        heading=heading,
        body=body,
        target=target,
        style=style,
        adds=adds,
        mention=mention.group("name").rstrip(".") if mention else None,
    )


# --------------------------------------------------------------------------- splitting

_SENTENCES = re.compile(r"[\n;]+|(?<=[.!?])\s+")
_AND = re.compile(r"(,? (?:and then|and also|and|then|also|plus) )", re.IGNORECASE)


def split_clauses(message: str) -> list[str]:
    """Sentences, each cut again before an ``and`` that starts a documented command."""
    clauses: list[str] = []
    for sentence in _SENTENCES.split(message):
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


def parse_message(message: str) -> tuple[Intent, ...]:
    """Every intent of a message, in the order they are stated. Never raises."""
    intents: list[Intent] = []
    for clause in split_clauses(message):
        intents.append(_command(clause) or _plain(clause))
    return tuple(intents)
