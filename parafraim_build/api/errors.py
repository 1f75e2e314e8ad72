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
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

import httpx

from parafraim_build.config import API_PREFIX, ENV_API_KEY, ENV_BASE_URL
from parafraim_build.errors import (
    ERRORS_BY_CODE,
    ApiError,
    NotFoundError,
    OutcomeUnknownError,
    TransientError,
    UnknownApiError,
)
from parafraim_build.logs import redact

# Codes that mean "not now": the request was refused before any work, retry after a while.
BUSY_CODES = frozenset({"CONCURRENCY_LIMIT", "TASK_RUNNING"})

_SNIPPET_CHARS = 200


class FailureKind(str, Enum):
    """How a request failed, as far as the client can tell."""

    CONNECT = "connect"
    """No connection was made (refused, DNS, pool exhausted): nothing was sent."""
    UNUSABLE = "unusable"
    """The request cannot work as made: a URL that is not http(s), an untrusted TLS
    certificate, a TLS protocol failure. Nothing was sent, and trying again cannot help."""
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
    """The envelope's ``error.code``; for ``UNUSABLE``, which problem (``UNSUPPORTED_URL``...)."""
    message: str = ""
    retry_after: float | None = None
    detail: str = ""


# Our names for the problems of an UNUSABLE failure.
UNSUPPORTED_URL = "UNSUPPORTED_URL"
TLS_CERTIFICATE = "TLS_CERTIFICATE"
TLS_PROTOCOL = "TLS_PROTOCOL"


def classify_exception(exc: httpx.TransportError) -> Failure:
    """The failure kind of an httpx transport error.

    Only errors raised before the request left the machine count as ``CONNECT``; a timeout or
    a reset after that point may hide a processed request. A URL httpx cannot send to and a
    TLS handshake that fails on the certificate or the protocol are ``UNUSABLE``: retrying
    them would only repeat the failure (a handshake cut by the network stays ``CONNECT``).
    """
    if isinstance(exc, httpx.UnsupportedProtocol):
        return Failure(
            kind=FailureKind.UNUSABLE,
            code=UNSUPPORTED_URL,
            detail=redact(str(exc)) or "the URL is not http(s)",
        )
    if isinstance(exc, httpx.ConnectError):
        tls = _tls_failure(exc)
        if tls is not None:
            return tls
    before_send = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    kind = FailureKind.CONNECT if isinstance(exc, before_send) else FailureKind.LOST
    return Failure(kind=kind, detail=_describe_exception(exc))


def _tls_failure(exc: BaseException) -> Failure | None:
    """An ``UNUSABLE`` failure when ``exc`` was caused by a certificate or TLS protocol error."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = _ssl_reason(cause, "verify_message") or "verification failed"
            return Failure(
                kind=FailureKind.UNUSABLE,
                code=TLS_CERTIFICATE,
                detail=redact(f"the server's TLS certificate is not trusted: {reason}"),
            )
        if isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return None  # the connection was cut during the handshake: the network, not TLS
        if isinstance(cause, ssl.SSLError):
            reason = _ssl_reason(cause, "reason") or type(cause).__name__
            return Failure(
                kind=FailureKind.UNUSABLE,
                code=TLS_PROTOCOL,
                detail=redact(f"the TLS handshake failed: {reason}"),
            )
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        # Some transports re-raise the ssl error as text only.
        return Failure(
            kind=FailureKind.UNUSABLE,
            code=TLS_CERTIFICATE,
            detail=redact(f"the server's TLS certificate is not trusted: {text}"),
        )
    return None


def _ssl_reason(error: ssl.SSLError, attribute: str) -> str:
    # OpenSSL fills ``reason``/``verify_message`` in; an SSLError raised from Python has neither.
    value = getattr(error, attribute, None) or getattr(error, "reason", None)
    if isinstance(value, str) and value:
        return value
    return str(error.args[1]) if len(error.args) > 1 else ""


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from, outermost first (a bounded walk of the chain)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 16 and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


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
        # An unknown code on a 5xx is the service failing, and on a 429 a rate limit (whose
        # Retry-After is honoured); neither is a final refusal of the request.
        status = failure.status or 0
        return failure.code not in ERRORS_BY_CODE and (status >= 500 or status == 429)
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
    path: str = "",
) -> ApiError:
    """The exception for a failure we will not (or no longer) retry.

    ``route`` is a path without ids (``POST /projects/{id}/messages``) for the message, and
    ``path`` the path actually requested (with the ids), for the messages where the id is what
    matters (not found); ``outcome_unknown`` marks a POST that may have been processed,
    ``check`` says what the user should look at before trying again.
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
        return _envelope_error(
            failure, method=method, route=route, path=path or route, base_url=base_url, tried=tried
        )
    if failure.kind is FailureKind.UNUSABLE:
        return unusable_error(failure, f"{method} {route} to {base_url}", base_url=base_url)
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
        # Not UNAUTHORIZED: without the envelope, the refusal did not come from Parafraim.
        return UnknownApiError(
            f"{method} {path or route} was refused with HTTP {failure.status} by something that "
            f"is not the Parafraim API (no Parafraim error envelope, {_what(failure)}): "
            "a proxy, CDN or firewall on the way?",
            code=f"HTTP_{failure.status}",
            status=failure.status,
            hint=f"check {ENV_BASE_URL} (now {base_url}) and any proxy in between "
            "(HTTPS_PROXY); Parafraim itself did not judge the key",
        )
    return UnknownApiError(
        f"{method} {path or route} got an answer that is not the Parafraim API's "
        f"({_what(failure)})",
        code=f"HTTP_{failure.status}" if failure.status is not None else "BAD_RESPONSE",
        status=failure.status,
        hint=f"check that {ENV_BASE_URL} points at the Parafraim API (now {base_url})",
    )


def unusable_error(failure: Failure, what: str, *, base_url: str | None = None) -> ApiError:
    """The final error of an ``UNUSABLE`` failure of ``what`` (a request or a stream).

    ``base_url`` is given for API requests, whose URL the user sets in ``PARAFRAIM_BASE_URL``.
    """
    where = f"{ENV_BASE_URL} (now {base_url})" if base_url is not None else "the URL"
    return ApiError(
        f"{what} cannot work: {failure.detail}; not retried",
        code=failure.code or "UNUSABLE",
        hint=unusable_hint(failure, where),
    )


def unusable_hint(failure: Failure, where: str) -> str:
    """What to check after an ``UNUSABLE`` failure; ``where`` names the URL's origin."""
    if failure.code == TLS_CERTIFICATE:
        return (
            f"check {where}: the certificate may be expired, self-signed or for another host; "
            "behind a TLS-inspecting proxy, point SSL_CERT_FILE at its CA bundle"
        )
    if failure.code == TLS_PROTOCOL:
        return (
            f"check {where}: an https:// URL to a port that speaks plain http (or another "
            "protocol) fails like this"
        )
    return f"check {where}: only http:// and https:// URLs can be fetched"


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
}


def _envelope_error(
    failure: Failure, *, method: str, route: str, path: str, base_url: str, tried: str
) -> ApiError:
    code = failure.code or "UNKNOWN"
    said = f"{code}: {failure.message}" if failure.message else code
    if code == NotFoundError.code:
        return _not_found(failure, method=method, route=route, path=path, base_url=base_url)
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


def _not_found(
    failure: Failure, *, method: str, route: str, path: str, base_url: str
) -> NotFoundError:
    said = f"NOT_FOUND: {failure.message}" if failure.message else "NOT_FOUND"
    hint = None  # the class's default: check the id and the base URL
    if "{" not in route:
        # An endpoint without an id always exists on the API: the base URL is what is wrong.
        hint = (
            f"{method} {route} always exists on the Parafraim API: check that {ENV_BASE_URL} "
            f"(now {base_url}) points at it, without an extra path"
        )
    return NotFoundError(
        f"not found: {method} {base_url}{API_PREFIX}{path} ({said})",
        status=failure.status,
        hint=hint,
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
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: JSON nested deeper than the parser can follow; not an envelope.
        return None
    return value if isinstance(value, dict) else None


def _snippet(response: httpx.Response, body: bytes) -> str:
    ctype = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    if "html" in ctype:
        return "an HTML page"
    text = body[:_SNIPPET_CHARS].decode("utf-8", "replace").strip().replace("\n", " ")
    return redact(f"{ctype}: {text!r}") if text else ctype
