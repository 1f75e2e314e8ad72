"""Text rewrites of the scripted editor: restyling, the translation marker, body variants.

Pure string functions; every choice that may vary takes a ``random.Random`` so the editor
decides whether it is seeded (deterministic) or not.
"""

from __future__ import annotations

import random
import re

from parafraim_build.emulator.composition import clean_text

_MARKER = re.compile(r"^\[[A-Z]{2}(?:-[A-Z0-9]{2,4})?\] ")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_STOP_TAIL = frozenset(
    {"a", "an", "the", "of", "and", "or", "for", "to", "with", "in", "on", "at", "by", "from"}
    | {"that", "this", "our", "your"}
)

TIGHT_HEADING_WORDS = 5
TIGHT_BODY_WORDS = 12

# A few words per language so a translated card visibly changes beyond its marker. The
# scripted editor does not translate: docs/editor.md says so.
GLOSSARY: dict[str, dict[str, str]] = {
    "de": {
        "welcome": "willkommen",
        "new": "neu",
        "today": "heute",
        "week": "Woche",
        "news": "Nachrichten",
        "launch": "Start",
        "product": "Produkt",
        "our": "unser",
        "your": "Ihr",
        "and": "und",
        "with": "mit",
        "for": "für",
        "the": "die",
        "thanks": "danke",
        "now": "jetzt",
    },
    "fr": {
        "welcome": "bienvenue",
        "new": "nouveau",
        "today": "aujourd'hui",
        "week": "semaine",
        "news": "actualités",
        "launch": "lancement",
        "product": "produit",
        "our": "notre",
        "your": "votre",
        "and": "et",
        "with": "avec",
        "for": "pour",
        "the": "le",
        "thanks": "merci",
        "now": "maintenant",
    },
    "es": {
        "welcome": "bienvenido",
        "new": "nuevo",
        "today": "hoy",
        "week": "semana",
        "news": "noticias",
        "launch": "lanzamiento",
        "product": "producto",
        "our": "nuestro",
        "your": "tu",
        "and": "y",
        "with": "con",
        "for": "para",
        "the": "el",
        "thanks": "gracias",
        "now": "ahora",
    },
    "it": {
        "welcome": "benvenuto",
        "new": "nuovo",
        "today": "oggi",
        "week": "settimana",
        "news": "notizie",
        "product": "prodotto",
        "our": "nostro",
        "and": "e",
        "with": "con",
        "for": "per",
        "thanks": "grazie",
        "now": "ora",
    },
    "nl": {
        "welcome": "welkom",
        "new": "nieuw",
        "today": "vandaag",
        "week": "week",
        "news": "nieuws",
        "product": "product",
        "our": "onze",
        "and": "en",
        "with": "met",
        "for": "voor",
        "thanks": "bedankt",
        "now": "nu",
    },
    "pt": {
        "welcome": "bem-vindo",
        "new": "novo",
        "today": "hoje",
        "week": "semana",
        "news": "notícias",
        "product": "produto",
        "our": "nosso",
        "and": "e",
        "with": "com",
        "for": "para",
        "thanks": "obrigado",
        "now": "agora",
    },
}

BODY_VARIANTS = (
    "Everything you need to know about {topic}.",
    "A closer look at {topic}.",
    "Why {topic} matters.",
    "{Topic}, in a nutshell.",
    "{Topic}: the short version.",
)


def _words(text: str) -> list[str]:
    return [word for word in text.split(" ") if word]


def _trim_tail(words: list[str]) -> list[str]:
    while len(words) > 1 and words[-1].lower().strip(",;:") in _STOP_TAIL:
        words = words[:-1]
    return words


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it when it has one)."""
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def restyle(heading: str, body: str, style: str) -> tuple[str, str]:
    """Heading and body rewritten in a manner: ``tight``, ``bold`` or ``calm``.

    Always a visible change when the texts allow one: a style that leaves them as they were
    falls back to a stronger version of itself.
    """
    if style == "tight":
        new_heading = " ".join(_trim_tail(_words(heading)[:TIGHT_HEADING_WORDS])).rstrip(" ,;:")
        words = _words(first_sentence(body))
        new_body = " ".join(_trim_tail(words[:TIGHT_BODY_WORDS])).rstrip(" ,;:.!?")
        new_body = new_body + "." if new_body else ""
        if (new_heading, new_body) == (heading, body) and body:
            half = _trim_tail(_words(body)[: max(1, len(_words(body)) // 2)])
            new_body = " ".join(half).rstrip(" ,;:.!?") + "." if len(half) > 1 else ""
        return new_heading, new_body
    if style == "bold":
        new_heading = heading.rstrip(" .") + ("" if heading.endswith("!") else "!")
        new_body = re.sub(r"[.…]$", "!", body)
        if new_heading == heading and new_body == body:
            new_heading = heading.upper()
        return new_heading, new_body
    # calm: no exclamation marks, sentence case headings.
    new_heading = heading.replace("!", "").rstrip(" .")
    new_body = re.sub(r"!+", ".", body)
    if new_heading == heading and new_body == body and heading != heading.capitalize():
        new_heading = heading.capitalize()
    return new_heading, new_body


def with_mention(body: str, name: str | None) -> str:
    """``body`` that names ``name`` ("... for Acme") if it does not already."""
    if not name or name.lower() in body.lower():
        return body
    return clean_text(f"{body} For {name}.")


def translate(text: str, language: str) -> str:
    """``text`` with the marker ``[XX]`` of ``language`` and the glossary's words swapped."""
    if not text:
        return text
    plain = _MARKER.sub("", text)
    glossary = GLOSSARY.get(language.split("-")[0], {})

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        replacement = glossary.get(word.lower())
        if replacement is None:
            return word
        return replacement[:1].upper() + replacement[1:] if word[:1].isupper() else replacement

    if glossary:
        plain = re.sub(r"[A-Za-z]+", swap, plain)
    return f"[{language.upper()}] {plain}"


# Bodies for a scene whose heading is a line of its own ("Still paying monthly?") and whose
# message named nothing to write about: short lines a video could show under any headline.
GENERIC_BODIES = (
    "There is a better way.",
    "Here is how.",
    "See for yourself.",
    "Find out more.",
    "It only takes a minute.",
)


def stock_body(subject: str | None, rng: random.Random, *, avoid: str = "") -> str:
    """A body sentence about ``subject``; without one, a line that goes under any heading."""
    if subject and subject.strip(" .!?"):
        return body_variant(subject, rng, avoid=avoid)
    candidates = [line for line in GENERIC_BODIES if line != avoid] or list(GENERIC_BODIES)
    return rng.choice(candidates)


def variants(topic: str) -> list[str]:
    """Every stock body sentence about ``topic``, in a fixed order."""
    topic = topic.rstrip(" .!?")
    return [
        variant.format(topic=topic, Topic=topic[:1].upper() + topic[1:])
        for variant in BODY_VARIANTS
    ]


def body_variant(topic: str, rng: random.Random, *, avoid: str = "") -> str:
    """A body sentence about ``topic`` when the message gave no more than a heading."""
    choices = variants(topic)
    candidates = [choice for choice in choices if choice != avoid] or choices
    return rng.choice(candidates)
