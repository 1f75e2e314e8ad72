"""From what came back (or did not) to one of our exceptions.

Two jobs, both pure so that they can be table-tested:

* ``classify_response`` reads an HTTP response and says what kind of failure it is, decided on
  the envelope's ``error.code`` first and on the HTTP status only when there is no envelope
  (``api.md``: statuses are not documented).
* ``error_for`` turns a classified failure into the ``ApiError`` subclass the user sees, with a
  message that says what happened and a hint that says what to do.

httpx exceptions are mapped by ``classify_exception``; nothing from httpx leaks past the client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

import httpx

from parafraim_build.config import ENV_API_KEY, ENV_BASE_URL
from parafraim_build.errors import (
    ERRORS_BY_CODE,
    ApiError,
    OutcomeUnknownError,
    TransientError,
    UnauthorizedError,
    UnknownApiError,
)
from parafraim_build.logs import redact

# Codes that mean "not now": the request was refused before any work, retry after a while.
BUSY_CODES = frozenset({"CONCURRENCY_LIMIT", "TASK_RUNNING"})

_SNIPPET_CHARS = 200


class FailureKind(str, Enum):
    """How a request failed, as far as the client can tell."""

    CONNECT = "connect"
    """No connection was made (refused, DNS, TLS, pool exhausted): nothing was sent."""
    LOST = "lost"
    """Sent, then a timeout or a dropped connection: the server may have processed it."""
    ERROR_PAGE = "error_page"
    """A response without the error envelope (a proxy's HTML page, a bare 5xx or 429)."""
    ENVELOPE = "envelope"
    """The API's own error envelope: ``{"success": false, "error": {"code", "message"}}``."""
    BAD_RESPONSE = "bad_response"
    """A success status whose body is not the documented envelope."""


@dataclass(frozen=True)
class Failure:
    """One failed attempt, reduced to what the retry decision and the error message need."""

    kind: FailureKind
    status: int | None = None
    code: str | None = None
    message: str = ""
    retry_after: float | None = None
    detail: str = ""


def classify_exception(exc: httpx.TransportError) -> Failure:
    """The failure kind of an httpx transport error.

    Only errors raised before the request left the machine count as ``CONNECT``; a timeout or
    a reset after that point may hide a processed request.
    """
    before_send = (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.UnsupportedProtocol,
    )
    kind = FailureKind.CONNECT if isinstance(exc, before_send) else FailureKind.LOST
    return Failure(kind=kind, detail=_describe_exception(exc))


def classify_response(response: httpx.Response, body: bytes) -> Failure | None:
    """``None`` for a success envelope, else the failure the response stands for.

    ``body`` is the (already read) content: streamed responses pass only a bounded prefix.
    """
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    envelope = _json_object(body)
    if envelope is not None and envelope.get("success") is False:
        error = envelope.get("error")
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        message = error.get("message")
        return Failure(
            kind=FailureKind.ENVELOPE,
            status=response.status_code,
            code=code if isinstance(code, str) and code else "UNKNOWN",
            message=redact(message) if isinstance(message, str) else "",
            retry_after=retry_after,
        )
    if response.is_success:
        if envelope is not None and envelope.get("success") is True:
            return None
        return Failure(
            kind=FailureKind.BAD_RESPONSE,
            status=response.status_code,
            retry_after=retry_after,
            detail=_snippet(response, body),
        )
    return Failure(
        kind=FailureKind.ERROR_PAGE,
        status=response.status_code,
        retry_after=retry_after,
        detail=_snippet(response, body),
    )


def envelope_data(body: bytes) -> tuple[Any, Any]:
    """``(data, pagination)`` of a success envelope already accepted by ``classify_response``."""
    envelope = _json_object(body) or {}
    return envelope.get("data"), envelope.get("pagination")


def is_transient(failure: Failure) -> bool:
    """True when the failure says nothing about the request itself: try again later."""
    if failure.kind in (FailureKind.CONNECT, FailureKind.LOST):
        return True
    if failure.kind is FailureKind.ERROR_PAGE:
        return failure.status is not None and (failure.status >= 500 or failure.status == 429)
    if failure.kind is FailureKind.ENVELOPE:
        # An unknown code on a 5xx is the service failing, not refusing us.
        return failure.code not in ERRORS_BY_CODE and (failure.status or 0) >= 500
    return failure.kind is FailureKind.BAD_RESPONSE and (failure.status or 0) >= 500


def error_for(
    failure: Failure,
    *,
    method: str,
    route: str,
    base_url: str,
    outcome_unknown: bool = False,
    check: str = "",
    attempts: int = 1,
) -> ApiError:
    """The exception for a failure we will not (or no longer) retry.

    ``route`` is a path without ids (``POST /projects/{id}/messages``) for the message;
    ``outcome_unknown`` marks a POST that may have been processed, ``check`` says what the user
    should look at before trying again.
    """
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    if outcome_unknown:
        return OutcomeUnknownError(
            f"{method} {route} may or may not have been processed ({_what(failure)}); "
            f"it was not retried, because retrying could pay twice",
            status=failure.status,
            hint=check or "check the account in Parafraim before trying again",
        )
    if failure.kind is FailureKind.ENVELOPE:
        return _envelope_error(failure, method=method, route=route, tried=tried)
    if failure.kind is FailureKind.CONNECT:
        return TransientError(
            f"could not connect to {base_url} ({failure.detail}){tried}",
            status=None,
            hint=f"check {ENV_BASE_URL} and the network, then retry",
        )
    if is_transient(failure):
        return TransientError(
            f"{method} {route} failed: {_what(failure)}{tried}", status=failure.status
        )
    if failure.kind is FailureKind.ERROR_PAGE and failure.status in (401, 403):
        return UnauthorizedError(
            f"{base_url} refused the key in {ENV_API_KEY} with HTTP {failure.status} "
            f"and no Parafraim error envelope",
            status=failure.status,
        )
    return UnknownApiError(
        f"{method} {route} got an answer that is not the Parafraim API's ({_what(failure)})",
        code=f"HTTP_{failure.status}" if failure.status is not None else "BAD_RESPONSE",
        status=failure.status,
        hint=f"check that {ENV_BASE_URL} points at the Parafraim API (now {base_url})",
    )


def bad_data_error(method: str, route: str, problem: str) -> UnknownApiError:
    """A success envelope whose ``data`` does not have the documented shape."""
    return UnknownApiError(
        f"{method} {route} answered in an unexpected shape: {problem}",
        code="BAD_RESPONSE",
        hint="the API may have changed; update parafraim-build or report it",
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    ``None`` when there is no header or it cannot be read; never negative.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        return _retry_after_date(value, now or datetime.now(timezone.utc))
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN/inf are not waits
        return None
    return max(seconds, 0.0)


def _retry_after_date(value: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)


# Messages per documented code: what happened; the class's default hint says what to do.
_CODE_MESSAGES = {
    "UNAUTHORIZED": f"Parafraim refused the API key in {ENV_API_KEY}",
    "INSUFFICIENT_CREDITS": "not enough credits for {route}",
    "TASK_RUNNING": "the project already has a running task ({route})",
    "NO_PREVIEW": "the project has no renderable preview yet ({route})",
    "VALIDATION": "the API refused the request as invalid ({route})",
    "PROJECT_LIMIT": "the account has reached its plan's project limit ({route})",
    "CONCURRENCY_LIMIT": "the account runs as many tasks as its plan allows ({route})",
    "NOT_FOUND": "not found ({route})",
}


def _envelope_error(failure: Failure, *, method: str, route: str, tried: str) -> ApiError:
    code = failure.code or "UNKNOWN"
    said = f"{code}: {failure.message}" if failure.message else code
    cls = ERRORS_BY_CODE.get(code)
    if cls is not None:
        template = _CODE_MESSAGES.get(code, "{route} failed")
        head = template.format(route=f"{method} {route}")
        return cls(f"{head} ({said}){tried}", code=code, status=failure.status)
    if is_transient(failure):
        return TransientError(
            f"{method} {route} failed on the server ({said}){tried}", status=failure.status
        )
    return UnknownApiError(
        f"{method} {route} failed with an error this version does not know ({said})",
        code=code,
        status=failure.status,
        hint="read the message above; if it persists, update parafraim-build or report it",
    )


def _what(failure: Failure) -> str:
    if failure.kind is FailureKind.ENVELOPE:
        return f"{failure.code}: {failure.message}" if failure.message else str(failure.code)
    if failure.kind in (FailureKind.ERROR_PAGE, FailureKind.BAD_RESPONSE):
        text = f"HTTP {failure.status}"
        return f"{text}, {failure.detail}" if failure.detail else text
    return failure.detail or failure.kind.value


def _describe_exception(exc: httpx.TransportError) -> str:
    names = {
        httpx.ConnectError: "connection failed",
        httpx.ConnectTimeout: "connect timed out",
        httpx.PoolTimeout: "no free connection in the pool",
        httpx.ReadTimeout: "timed out waiting for the answer",
        httpx.WriteTimeout: "timed out sending the request",
        httpx.RemoteProtocolError: "the server closed the connection without a full answer",
        httpx.ReadError: "the connection dropped while reading",
        httpx.WriteError: "the connection dropped while sending",
    }
    for cls, text in names.items():
        if isinstance(exc, cls):
            reason = redact(str(exc)).strip()
            return f"{text}: {reason}" if reason and len(reason) < 160 else text
    return redact(f"{type(exc).__name__}: {exc}")


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body or body.lstrip()[:1] != b"{":
        return None
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _snippet(response: httpx.Response, body: bytes) -> str:
    ctype = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    if "html" in ctype:
        return "an HTML page"
    text = body[:_SNIPPET_CHARS].decode("utf-8", "replace").strip().replace("\n", " ")
    return redact(f"{ctype}: {text!r}") if text else ctype
