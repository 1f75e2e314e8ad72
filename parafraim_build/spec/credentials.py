"""Recognising credentials in a step file before its text can be sent to the API.

A step file is read from the spec's folder, and a CI checkout keeps secrets there too:
``.git/config`` (actions/checkout writes its token as ``extraheader = AUTHORIZATION: basic
...``), ``.env`` files, key files. Hidden paths are refused outright (``stepfiles``); this is
the second net, for a secret in an ordinary-looking file, or one reached through a symbolic
link. A finding names the kind of secret and its line, never the secret itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parafraim_build.secrets_check import API_KEY_KIND, API_KEY_PATTERN

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # The same pattern the lock refuses and logs redact (``secrets_check``).
    (API_KEY_KIND, API_KEY_PATTERN),
    (
        "an HTTP Authorization header",
        re.compile(r"(?i)\bauthorization\s*[:=]\s*(?:basic|bearer|token)\s+\S{8,}"),
    ),
    ("a private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")),
    (
        "a GitHub token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a password in a URL", re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@")),
)


@dataclass(frozen=True)
class Credential:
    """A secret found in a text: what kind (in words) and on which 1-based line."""

    kind: str
    line: int


def find_credential(text: str) -> Credential | None:
    """The first thing in ``text`` that looks like a credential, or ``None``."""
    found: tuple[int, str] | None = None
    for kind, pattern in _PATTERNS:
        match = pattern.search(text)
        if match is not None and (found is None or match.start() < found[0]):
            found = (match.start(), kind)
    if found is None:
        return None
    offset, kind = found
    return Credential(kind, text.count("\n", 0, offset) + 1)
