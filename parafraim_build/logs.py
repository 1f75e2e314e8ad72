"""Logging set-up for ``-v``, with secrets redacted from every record.

``redact`` is what every message that may carry server text or a request goes through, and
every handler we install carries ``RedactingFilter``: an API key or an ``Authorization``
header value never reaches a log line or an error message, whoever formatted it.

Two nets, because a key's alphabet is not documented:

* a pattern (``secrets_check``, shared with the spec and the lock): ``pfk_`` and at least
  eight key characters, up to whitespace, a quote or a delimiter (``,;()[]{}<>\\``), so a key
  with ``$ ! % : @`` in it is removed whole;
* the exact secrets the process knows: ``ApiSettings`` registers its key (``register_secret``),
  and each registered secret is removed wherever it appears, also JSON-, repr- or
  percent-escaped, even when it contains a character the pattern stops at, and even when it
  is too short for the pattern (a ``pfk_`` key with a short tail is still the key in use).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from urllib.parse import quote

from parafraim_build.secrets_check import API_KEY_PATTERN, KEY_TAIL

REDACTED = "[REDACTED]"

# The key pattern is shared with the spec and the lock (``secrets_check``); over-redacting a
# neighbour is harmless.
_KEY_TAIL = KEY_TAIL
_PREFIX = "pfk_"
_KEY_PATTERN = API_KEY_PATTERN.pattern
_AUTHORIZATION = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+")

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern = re.compile(_KEY_PATTERN)


def register_secret(secret: str) -> None:
    """Redact ``secret`` (and its escaped forms) from everything ``redact`` sees from now on.

    A ``pfk_`` key is registered whatever its length past the prefix, so that a short key the
    pattern would not catch is still never shown; the bare prefix, and any other secret
    shorter than 8 characters, is ignored: removing every ``pfk_`` or every short word would
    make messages unreadable without protecting anything.
    """
    global _pattern
    shortest = len(_PREFIX) + 1 if secret.startswith(_PREFIX) else 8
    if len(secret) < shortest:
        return
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], quote(secret, safe="")}
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(forms)
        # Longest first, so that a secret containing another is removed whole; each is
        # extended over the key characters that follow it, so a longer token that merely
        # starts with a known secret is not cut in two.
        known = sorted(_secrets, key=len, reverse=True)
        alternatives = [f"{re.escape(form)}{_KEY_TAIL}*" for form in known]
        _pattern = re.compile("|".join([*alternatives, _KEY_PATTERN]))


def redact(text: str) -> str:
    """``text`` with API keys and Authorization values replaced by ``[REDACTED]``.

    A ``pfk_`` key becomes ``pfk_[REDACTED]``, so a reader still sees that a key was there.
    """
    text = _pattern.sub(_replacement, text)
    return _AUTHORIZATION.sub(lambda m: f"{m.group(1)}{REDACTED}", text)


def _replacement(match: re.Match[str]) -> str:
    return f"pfk_{REDACTED}" if match.group().startswith("pfk_") else REDACTED


class RedactingFilter(logging.Filter):
    """Formats the record's message once, redacted, so arguments cannot leak a key."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def configure_logging(verbose: bool) -> None:
    """Send parafraim_build's logs to stderr: WARNING and up, or DEBUG with ``-v``."""
    logger = logging.getLogger("parafraim_build")
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        # Not ``setStream``: it flushes the previous stream, which a test runner may have
        # closed since (click's CliRunner does), and the record would be lost to a ValueError.
        self.stream = sys.stderr
        super().emit(record)
