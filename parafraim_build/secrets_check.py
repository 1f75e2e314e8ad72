"""What an API key looks like: the one pattern redaction, the spec and the lock all use.

Parafraim keys start with ``pfk_``; their alphabet is not documented. So ``pfk_`` followed by
at least ``KEY_MIN_TAIL`` characters a key could hold counts as a key, up to whitespace, a
quote or a delimiter (``,;()[]{}<>\\``) that a key never runs into in a log line, a header
dump, JSON, a repr or a URL. A shorter tail (``pfk_demo``, ``pfk_...`` in a sentence) is not a
plausible key, and refusing it would only refuse ordinary names.

Three places need the same answer, or one lets through what another refuses: ``logs.redact``
removes such text from every message (and, besides, the exact key the process was configured
with, however short: ``logs.register_secret``); ``spec`` refuses it in a video's key, name,
description, template name, render names and ``outDir`` (and ``spec.credentials`` in a step
file), so it is never sent; ``lock_model`` refuses to write it to the lock. Had the spec
allowed a name the lock refuses, ``apply`` would make (and pay for) a project or a render and
then fail to record it, on every run.
"""

from __future__ import annotations

import re

KEY_TAIL = r"[^\s'\"`,;()\[\]{}<>\\]"
"""A character a key may hold: anything but whitespace, quotes and delimiters."""

KEY_MIN_TAIL = 8
"""How many key characters must follow ``pfk_`` for text to count as a key."""

API_KEY_PATTERN = re.compile(rf"pfk_{KEY_TAIL}{{{KEY_MIN_TAIL},}}")
"""Text that looks like a Parafraim API key."""

API_KEY_KIND = "a Parafraim API key (pfk_...)"
"""How a key is named in a message (never the key itself)."""


def find_api_key(text: str) -> re.Match[str] | None:
    """The first key-like text in ``text``, or None."""
    return API_KEY_PATTERN.search(text)


def looks_like_api_key(text: str) -> bool:
    """Whether ``text`` holds anything that looks like an API key."""
    return API_KEY_PATTERN.search(text) is not None
