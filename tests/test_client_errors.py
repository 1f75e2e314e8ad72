"""``api/errors.py``: responses and exceptions classified, failures turned into our errors."""

from __future__ import annotations

import ssl
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from parafraim_build.api.errors import (
    TLS_CERTIFICATE,
    TLS_PROTOCOL,
    UNSUPPORTED_URL,
    Failure,
    FailureKind,
    classify_exception,
    classify_response,
    envelope_data,
    error_for,
    is_transient,
    parse_retry_after,
)
from parafraim_build.errors import (
    ERRORS_BY_CODE,
    ApiError,
    ApiValidationError,
    ConcurrencyLimitError,
    InsufficientCreditsError,
    NoPreviewError,
    NotFoundError,
    OutcomeUnknownError,
    ProjectLimitError,
    TaskRunningError,
    TransientError,
    UnauthorizedError,
    UnknownApiError,
)

REQUEST = httpx.Request("GET", "https://parafraim.test/api/v1/me")


def response(
    status: int, body: Any = None, *, text: str | None = None, **headers: str
) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=REQUEST)
    return httpx.Response(status, json=body, headers=headers, request=REQUEST)


def classify(resp: httpx.Response) -> Failure | None:
    return classify_response(resp, resp.content)


def test_a_success_envelope_is_no_failure() -> None:
    ok = response(200, {"success": True, "data": [1], "pagination": {"page": 1}})
    assert classify(ok) is None
    assert envelope_data(ok.content) == ([1], {"page": 1})


@pytest.mark.parametrize(
    ("resp", "kind", "status", "code"),
    [
        (
            response(401, {"success": False, "error": {"code": "UNAUTHORIZED", "message": "x"}}),
            FailureKind.ENVELOPE,
            401,
            "UNAUTHORIZED",
        ),
        # An error envelope wins even on a 200.
        (
            response(200, {"success": False, "error": {"code": "VALIDATION"}}),
            FailureKind.ENVELOPE,
            200,
            "VALIDATION",
        ),
        (response(400, {"success": False}), FailureKind.ENVELOPE, 400, "UNKNOWN"),
        (response(400, {"success": False, "error": "text"}), FailureKind.ENVELOPE, 400, "UNKNOWN"),
        (
            response(502, text="<html>Bad Gateway</html>", **{"content-type": "text/html"}),
            FailureKind.ERROR_PAGE,
            502,
            None,
        ),
        (response(503, text=""), FailureKind.ERROR_PAGE, 503, None),
        (response(404, {"detail": "Not Found"}), FailureKind.ERROR_PAGE, 404, None),
        (response(200, text="<html>portal</html>"), FailureKind.BAD_RESPONSE, 200, None),
        (response(200, [1, 2]), FailureKind.BAD_RESPONSE, 200, None),
        (response(200, {"data": {}}), FailureKind.BAD_RESPONSE, 200, None),
    ],
)
def test_classify_response(
    resp: httpx.Response, kind: FailureKind, status: int, code: str | None
) -> None:
    failure = classify(resp)
    assert failure is not None
    assert (failure.kind, failure.status, failure.code) == (kind, status, code)


def test_the_server_message_is_kept_and_redacted() -> None:
    body = {"success": False, "error": {"code": "UNAUTHORIZED", "message": "bad pfk_abc12345 key"}}
    failure = classify(response(401, body))
    assert failure is not None
    assert failure.message == "bad pfk_[REDACTED] key"


def test_retry_after_is_read_from_any_failure() -> None:
    failure = classify(
        response(
            429, {"success": False, "error": {"code": "CONCURRENCY_LIMIT"}}, **{"retry-after": "2"}
        )
    )
    assert failure is not None
    assert failure.retry_after == 2.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("nan", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert parse_retry_after(value, now=now) == seconds


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("refused"), FailureKind.CONNECT),
        (httpx.ConnectTimeout("slow"), FailureKind.CONNECT),
        (httpx.PoolTimeout("busy"), FailureKind.CONNECT),
        (httpx.UnsupportedProtocol("gopher"), FailureKind.UNUSABLE),
        (httpx.ReadTimeout("slow"), FailureKind.LOST),
        (httpx.WriteTimeout("slow"), FailureKind.LOST),
        (httpx.ReadError("reset"), FailureKind.LOST),
        (httpx.WriteError("reset"), FailureKind.LOST),
        (httpx.RemoteProtocolError("closed"), FailureKind.LOST),
    ],
)
def test_classify_exception(exc: httpx.TransportError, kind: FailureKind) -> None:
    failure = classify_exception(exc)
    assert failure.kind is kind
    assert failure.detail


@pytest.mark.parametrize(
    ("failure", "transient"),
    [
        (Failure(FailureKind.CONNECT), True),
        (Failure(FailureKind.LOST), True),
        (Failure(FailureKind.ERROR_PAGE, status=502), True),
        (Failure(FailureKind.ERROR_PAGE, status=429), True),
        (Failure(FailureKind.ERROR_PAGE, status=404), False),
        (Failure(FailureKind.ENVELOPE, status=500, code="INTERNAL"), True),
        (Failure(FailureKind.ENVELOPE, status=500, code="VALIDATION"), False),
        (Failure(FailureKind.ENVELOPE, status=400, code="NEW_CODE"), False),
        # A rate limit with a code this version does not know is still a rate limit.
        (Failure(FailureKind.ENVELOPE, status=429, code="RATE_LIMITED"), True),
        (Failure(FailureKind.ENVELOPE, status=429, code="VALIDATION"), False),
        (Failure(FailureKind.UNUSABLE, code=TLS_CERTIFICATE), False),
        (Failure(FailureKind.BAD_RESPONSE, status=200), False),
    ],
)
def test_is_transient(failure: Failure, transient: bool) -> None:
    assert is_transient(failure) is transient


@pytest.mark.parametrize(
    ("code", "cls", "hint_word"),
    [
        ("UNAUTHORIZED", UnauthorizedError, "PARAFRAIM_API_KEY"),
        ("INSUFFICIENT_CREDITS", InsufficientCreditsError, "credits"),
        ("TASK_RUNNING", TaskRunningError, "wait"),
        ("NO_PREVIEW", NoPreviewError, "composition"),
        ("VALIDATION", ApiValidationError, "spec"),
        ("PROJECT_LIMIT", ProjectLimitError, "plan"),
        ("CONCURRENCY_LIMIT", ConcurrencyLimitError, "parallelism"),
    ],
)
def test_every_documented_code_has_its_class_and_a_hint(
    code: str, cls: type, hint_word: str
) -> None:
    failure = Failure(FailureKind.ENVELOPE, status=400, code=code, message="said the server")
    error = error_for(failure, method="POST", route="/projects", base_url="https://p.test")
    assert type(error) is cls
    assert error.code == code
    assert ERRORS_BY_CODE[code] is cls
    assert "said the server" in str(error)
    assert hint_word in (error.hint or "")


def test_unauthorized_names_the_variable_in_the_message() -> None:
    failure = Failure(
        FailureKind.ENVELOPE, status=401, code="UNAUTHORIZED", message="Invalid API key"
    )
    error = error_for(failure, method="GET", route="/me", base_url="https://p.test")
    assert (
        str(error)
        == "Parafraim refused the API key in PARAFRAIM_API_KEY (UNAUTHORIZED: Invalid API key)"
    )


def test_an_unknown_code_is_shown_not_crashed_on() -> None:
    failure = Failure(
        FailureKind.ENVELOPE, status=400, code="QUOTA_EXCEEDED", message="try tomorrow"
    )
    error = error_for(failure, method="GET", route="/me", base_url="https://p.test")
    assert type(error) is UnknownApiError
    assert error.code == "QUOTA_EXCEEDED"
    assert "QUOTA_EXCEEDED: try tomorrow" in str(error)


def test_transient_failures_say_how_often_they_were_tried() -> None:
    page = Failure(FailureKind.ERROR_PAGE, status=502, detail="an HTML page")
    error = error_for(page, method="GET", route="/credits", base_url="https://p.test", attempts=5)
    assert type(error) is TransientError
    assert str(error) == "GET /credits failed: HTTP 502, an HTML page after 5 attempts"


def test_outcome_unknown_carries_what_to_check() -> None:
    lost = Failure(FailureKind.LOST, detail="timed out waiting for the answer")
    error = error_for(
        lost,
        method="POST",
        route="/projects",
        base_url="https://p.test",
        outcome_unknown=True,
        check="look",
    )
    assert type(error) is OutcomeUnknownError
    assert "may or may not have been processed (timed out waiting for the answer)" in str(error)
    assert error.hint == "look"


@pytest.mark.parametrize("status", [401, 403])
def test_a_bare_401_or_403_page_is_not_unauthorized(status: int) -> None:
    # Without the envelope the refusal came from something in between, not from Parafraim.
    page = Failure(FailureKind.ERROR_PAGE, status=status, detail="an HTML page")
    error = error_for(page, method="GET", route="/me", base_url="https://p.test")
    assert type(error) is UnknownApiError
    assert error.code == f"HTTP_{status}"
    assert f"HTTP {status}" in str(error)
    assert "not the Parafraim API" in str(error)
    assert "proxy, CDN or firewall" in str(error)
    assert "PARAFRAIM_BASE_URL (now https://p.test)" in (error.hint or "")
    assert "PARAFRAIM_API_KEY" not in (error.hint or "")


def test_not_found_names_the_path_and_has_a_hint() -> None:
    failure = Failure(FailureKind.ENVELOPE, status=404, code="NOT_FOUND", message="no such task")
    error = error_for(
        failure,
        method="GET",
        route="/tasks/{taskId}",
        base_url="https://p.test",
        path="/tasks/t-77",
    )
    assert type(error) is NotFoundError
    assert str(error) == "not found: GET https://p.test/api/v1/tasks/t-77 (NOT_FOUND: no such task)"
    assert error.hint == NotFoundError.default_hint
    assert "PARAFRAIM_BASE_URL" in (error.hint or "")


def test_an_error_body_nested_too_deeply_is_a_page_not_a_crash() -> None:
    deep = '{"success": false, "error": ' + "[" * 100_000 + "]" * 100_000 + "}"
    failure = classify(response(500, text=deep))
    assert failure is not None
    assert failure.kind is FailureKind.ERROR_PAGE


def _caused_by(cause: BaseException) -> httpx.ConnectError:
    """An httpx ConnectError raised from ``cause``, as httpx raises it from httpcore's."""
    error = httpx.ConnectError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("exc", "kind", "code"),
    [
        (
            _caused_by(ssl.SSLCertVerificationError(1, "certificate verify failed")),
            FailureKind.UNUSABLE,
            TLS_CERTIFICATE,
        ),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            FailureKind.UNUSABLE,
            TLS_CERTIFICATE,
        ),
        (
            _caused_by(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")),
            FailureKind.UNUSABLE,
            TLS_PROTOCOL,
        ),
        # A handshake cut by the network is the network's fault: worth another try.
        (_caused_by(ssl.SSLEOFError(8, "EOF occurred")), FailureKind.CONNECT, None),
        (
            httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."),
            FailureKind.UNUSABLE,
            UNSUPPORTED_URL,
        ),
    ],
)
def test_tls_and_url_failures_are_unusable_not_transient(
    exc: httpx.TransportError, kind: FailureKind, code: str | None
) -> None:
    failure = classify_exception(exc)
    assert (failure.kind, failure.code) == (kind, code)
    assert is_transient(failure) is (kind is FailureKind.CONNECT)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (TLS_CERTIFICATE, "SSL_CERT_FILE"),
        (TLS_PROTOCOL, "plain http"),
        (UNSUPPORTED_URL, "http:// and https://"),
    ],
)
def test_an_unusable_failure_is_final_with_a_hint_naming_the_problem(code: str, words: str) -> None:
    failure = Failure(FailureKind.UNUSABLE, code=code, detail="the TLS handshake failed: x")
    error = error_for(failure, method="GET", route="/me", base_url="https://p.test")
    assert type(error) is ApiError
    assert error.code == code
    assert "not retried" in str(error)
    assert words in (error.hint or "")
    assert "PARAFRAIM_BASE_URL (now https://p.test)" in (error.hint or "")


def test_a_page_that_is_not_the_api_points_at_the_base_url() -> None:
    page = Failure(FailureKind.ERROR_PAGE, status=404, detail="an HTML page")
    error = error_for(page, method="GET", route="/me", base_url="https://wrong.test")
    assert type(error) is UnknownApiError
    assert error.code == "HTTP_404"
    assert "PARAFRAIM_BASE_URL" in (error.hint or "")
    assert "https://wrong.test" in (error.hint or "")
