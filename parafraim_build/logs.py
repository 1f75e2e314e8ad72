"""Logging set-up for ``-v``, with secrets redacted from every record.

Every handler we install carries ``RedactingFilter``: an API key (``pfk_...``) or an
``Authorization`` header value never reaches a log line, whoever formatted it.
"""

from __future__ import annotations

import logging
import re
import sys

_SECRET_PATTERNS = (
    re.compile(r"pfk_[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+"),
)


def redact(text: str) -> str:
    """``text`` with API keys and Authorization values replaced by ``[REDACTED]``."""
    text = _SECRET_PATTERNS[0].sub("pfk_[REDACTED]", text)
    return _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}[REDACTED]", text)


class RedactingFilter(logging.Filter):
    """Formats the record's message once, redacted, so arguments cannot leak a key."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def configure_logging(verbose: bool) -> None:
    """Send parafraim_build's logs to stderr: INFO and up, or DEBUG with ``-v``."""
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
        self.setStream(sys.stderr)
        super().emit(record)
