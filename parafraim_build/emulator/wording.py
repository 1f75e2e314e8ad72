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

# Words before which a phrase may end ("Meet the new product | for your whole team"): "to" and
# "of" are not among them, since they bind to the word before ("want to", "a lot of").
_BREAKS = frozenset(
    {"for", "with", "in", "on", "at", "from", "across", "by", "during", "without", "because"}
    | {"while", "so", "but", "which", "where", "when"}
)
_DASHES = frozenset({"-", "–", "—"})
_RELATIVE_TAIL = re.compile(r",?\s+(?:who|which|whose)\s[^,;:]+?[.!?…]?$")

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


def _tighten(text: str, limit: int, least: int) -> str:
    """``text`` cut after its last phrase that ends within ``limit`` words and leaves at least
    ``least``; ``text`` itself when it is short enough or no phrase ends there."""
    words = _words(text)
    if len(words) <= limit:
        return text
    best: list[str] | None = None
    for index in range(least - 1, min(limit, len(words) - 1)):
        following = words[index + 1]
        if words[index][-1:] in ",;:" or following in _DASHES or following.lower() in _BREAKS:
            best = words[: index + 1]
    if best is None:
        return text
    return " ".join(best).rstrip(" ,;:-–—")


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it when it has one)."""
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def restyle(heading: str, body: str, style: str) -> tuple[str, str]:
    """Heading and body rewritten in a manner: ``tight``, ``bold`` or ``calm``.

    ``tight`` keeps the body's first sentence and cuts a long heading or sentence only where a
    phrase ends (a comma, a dash, before ``for``, ``with``...), or drops a short sentence's
    closing relative clause ("who ship every day"), so it never empties a body or cuts a phrase
    in half: text that is already tight comes back as it was, and the editor says so.
    ``bold`` and ``calm`` fall back to a stronger version of themselves when they would change
    nothing.
    """
    if style == "tight":
        body = body.strip()
        sentence = first_sentence(body)
        tightened = _tighten(sentence, TIGHT_BODY_WORDS, 3)
        if tightened == sentence:
            # Short already: what a direct sentence goes without is a relative clause at its
            # end ("Built for teams who ship every day." -> "Built for teams.").
            tightened = _RELATIVE_TAIL.sub("", sentence)
            if len(_words(tightened)) < 3:
                tightened = sentence
        if tightened != sentence:
            tightened = tightened.rstrip(" ,;:.!?…") + "."
        return _tighten(heading, TIGHT_HEADING_WORDS, 2), tightened if body else body
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


def unmarked(text: str) -> str:
    """``text`` without a translation marker such as ``[DE]``."""
    return _MARKER.sub("", text)


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
    plural = re.search(r"\b[a-z]+[^s\Wiu]s$", topic) is not None and not topic.endswith("news")
    return [
        variant.format(topic=topic, Topic=topic[:1].upper() + topic[1:]).replace(
            " matters.", " matter." if plural else " matters."
        )
        for variant in BODY_VARIANTS
    ]


def body_variant(topic: str, rng: random.Random, *, avoid: str = "") -> str:
    """A body sentence about ``topic`` when the message gave no more than a heading."""
    choices = variants(topic)
    candidates = [choice for choice in choices if choice != avoid] or choices
    return rng.choice(candidates)
