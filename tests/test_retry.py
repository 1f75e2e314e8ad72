"""Retry decisions: a table of (method, failure, attempt, elapsed) -> retry after / give up."""

from __future__ import annotations

import pytest

from parafraim_build.api.errors import (
    TLS_CERTIFICATE,
    TLS_PROTOCOL,
    UNSUPPORTED_URL,
    Failure,
    FailureKind,
)
from parafraim_build.api.retry import (
    Decision,
    RetryPolicy,
    decide,
    outcome_unknown,
    proven_unprocessed,
)

POLICY = RetryPolicy()

CONNECT = Failure(FailureKind.CONNECT, detail="connection refused")
LOST = Failure(FailureKind.LOST, detail="timed out waiting for the answer")
PAGE_502 = Failure(FailureKind.ERROR_PAGE, status=502, detail="an HTML page")
PAGE_503 = Failure(FailureKind.ERROR_PAGE, status=503, detail="an HTML page")
PAGE_500 = Failure(FailureKind.ERROR_PAGE, status=500)
PAGE_429 = Failure(FailureKind.ERROR_PAGE, status=429)
PAGE_404 = Failure(FailureKind.ERROR_PAGE, status=404, detail="an HTML page")
BUSY = Failure(FailureKind.ENVELOPE, status=429, code="CONCURRENCY_LIMIT", message="limit")
RUNNING = Failure(FailureKind.ENVELOPE, status=409, code="TASK_RUNNING")
UNAUTHORIZED = Failure(FailureKind.ENVELOPE, status=401, code="UNAUTHORIZED")
VALIDATION = Failure(FailureKind.ENVELOPE, status=400, code="VALIDATION")
CREDITS = Failure(FailureKind.ENVELOPE, status=402, code="INSUFFICIENT_CREDITS")
UNKNOWN_5XX = Failure(FailureKind.ENVELOPE, status=500, code="INTERNAL")
UNKNOWN_4XX = Failure(FailureKind.ENVELOPE, status=418, code="TEAPOT")
DOCUMENTED_ON_5XX = Failure(FailureKind.ENVELOPE, status=503, code="PROJECT_LIMIT")
BAD_200 = Failure(FailureKind.BAD_RESPONSE, status=200, detail="text/html")
RATE_LIMITED = Failure(FailureKind.ENVELOPE, status=429, code="RATE_LIMITED", retry_after=4.0)
BAD_CERTIFICATE = Failure(FailureKind.UNUSABLE, code=TLS_CERTIFICATE, detail="not trusted")
TLS_MISMATCH = Failure(FailureKind.UNUSABLE, code=TLS_PROTOCOL, detail="wrong version number")
FTP_URL = Failure(FailureKind.UNUSABLE, code=UNSUPPORTED_URL, detail="ftp://")


@pytest.mark.parametrize(
    ("method", "failure", "retry"),
    [
        # GETs retry whatever is transient.
        ("GET", CONNECT, True),
        ("GET", LOST, True),
        ("GET", PAGE_502, True),
        ("GET", PAGE_503, True),
        ("GET", PAGE_500, True),
        ("GET", PAGE_429, True),
        ("GET", UNKNOWN_5XX, True),
        ("GET", BUSY, True),
        ("GET", RATE_LIMITED, True),
        # ...and never what the API decided, nor what cannot work however often it is tried.
        ("GET", PAGE_404, False),
        ("GET", UNAUTHORIZED, False),
        ("GET", VALIDATION, False),
        ("GET", UNKNOWN_4XX, False),
        ("GET", BAD_200, False),
        ("GET", BAD_CERTIFICATE, False),
        ("GET", TLS_MISMATCH, False),
        ("GET", FTP_URL, False),
        # The code decides, not the status: a documented code on a 503 is final.
        ("GET", DOCUMENTED_ON_5XX, False),
        # POSTs only when nothing can have been processed.
        ("POST", CONNECT, True),
        ("POST", PAGE_503, True),
        ("POST", PAGE_429, True),
        ("POST", BUSY, True),
        ("POST", RUNNING, True),
        ("POST", UNKNOWN_5XX, True),
        ("POST", RATE_LIMITED, True),
        ("POST", BAD_CERTIFICATE, False),
        ("POST", LOST, False),
        ("POST", PAGE_502, False),
        ("POST", PAGE_500, False),
        ("POST", BAD_200, False),
        ("POST", CREDITS, False),
        ("POST", VALIDATION, False),
        ("POST", UNAUTHORIZED, False),
    ],
)
def test_first_failure(method: str, failure: Failure, retry: bool) -> None:
    decision = decide(POLICY, method=method, failure=failure, attempt=1, elapsed=0.0, jitter=0.5)
    assert decision.retry is retry
    if retry:
        assert decision.delay > 0


@pytest.mark.parametrize(
    ("method", "failure", "unknown"),
    [
        ("POST", LOST, True),
        ("POST", PAGE_502, True),
        ("POST", PAGE_500, True),
        ("POST", BAD_200, True),
        ("POST", CONNECT, False),
        ("POST", PAGE_503, False),
        ("POST", PAGE_404, False),
        ("POST", BUSY, False),
        ("POST", UNKNOWN_5XX, False),
        ("POST", RATE_LIMITED, False),
        ("POST", BAD_CERTIFICATE, False),  # nothing was sent
        ("GET", LOST, False),
        ("GET", PAGE_502, False),
    ],
)
def test_outcome_unknown(method: str, failure: Failure, unknown: bool) -> None:
    assert outcome_unknown(method, failure, POLICY) is unknown


def test_an_unknown_code_on_a_429_waits_at_least_its_retry_after() -> None:
    decision = decide(
        POLICY, method="POST", failure=RATE_LIMITED, attempt=1, elapsed=0.0, jitter=0.5
    )
    assert (decision.retry, decision.delay) == (True, 4.0)


def test_proven_unprocessed_follows_the_policy_statuses() -> None:
    strict = RetryPolicy(post_safe_statuses=frozenset({503}))
    assert proven_unprocessed(PAGE_503, strict)
    assert not proven_unprocessed(PAGE_429, strict)
    assert not decide(strict, method="POST", failure=PAGE_429, attempt=1, elapsed=0, jitter=0).retry


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    ok = [
        decide(policy, method="GET", failure=CONNECT, attempt=n, elapsed=0, jitter=0)
        for n in (1, 2, 3)
    ]
    assert [d.retry for d in ok] == [True, True, False]
    assert "3 attempts" in ok[2].reason


def test_total_time_is_bounded() -> None:
    policy = RetryPolicy(max_elapsed=10.0, base_delay=1.0, max_delay=4.0)
    assert decide(policy, method="GET", failure=LOST, attempt=2, elapsed=7.0, jitter=0.0).retry
    assert not decide(policy, method="GET", failure=LOST, attempt=3, elapsed=7.0, jitter=1.0).retry


def test_busy_codes_have_their_own_longer_bounds() -> None:
    policy = RetryPolicy(
        max_attempts=2, max_elapsed=5.0, busy_max_attempts=10, busy_max_elapsed=600
    )
    assert not decide(policy, method="GET", failure=LOST, attempt=2, elapsed=0, jitter=0).retry
    busy = decide(policy, method="POST", failure=BUSY, attempt=5, elapsed=100, jitter=0)
    assert busy.retry
    assert busy.delay >= policy.busy_base_delay
    assert not decide(policy, method="POST", failure=BUSY, attempt=10, elapsed=100, jitter=0).retry
    assert not decide(policy, method="POST", failure=BUSY, attempt=3, elapsed=599, jitter=0).retry


def test_backoff_grows_exponentially_to_a_cap_with_jitter_in_the_upper_half() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    lows = [policy.backoff(n, 0.0) for n in range(1, 7)]
    highs = [policy.backoff(n, 0.999999) for n in range(1, 7)]
    assert lows == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert highs == pytest.approx([0.5, 1.0, 2.0, 4.0, 4.0, 4.0])
    assert policy.backoff(1, 0.5) == pytest.approx(0.375)


def test_retry_after_is_a_minimum_wait() -> None:
    failure = Failure(FailureKind.ERROR_PAGE, status=503, retry_after=7.0)
    decision = decide(POLICY, method="GET", failure=failure, attempt=1, elapsed=0, jitter=0)
    assert decision == Decision(True, delay=7.0, reason=decision.reason)
    short = Failure(FailureKind.ERROR_PAGE, status=503, retry_after=0.0)
    assert decide(POLICY, method="GET", failure=short, attempt=3, elapsed=0, jitter=0).delay == 1.0


def test_a_retry_after_beyond_the_budget_gives_up_instead_of_waiting() -> None:
    failure = Failure(FailureKind.ERROR_PAGE, status=503, retry_after=3600.0)
    decision = decide(POLICY, method="GET", failure=failure, attempt=1, elapsed=0, jitter=0)
    assert not decision.retry


def test_poll_schedule_grows_from_half_a_second_to_five() -> None:
    delays = [POLICY.poll_delay(n) for n in range(1, 10)]
    assert delays[0] == 0.5
    assert delays == sorted(delays)
    assert delays[-1] == 5.0
    assert max(delays) == POLICY.poll_max


def test_polls_for_a_sixty_second_render_stay_under_twenty() -> None:
    elapsed, polls = 0.0, 1  # the first poll happens at once
    while elapsed < 60.0:
        elapsed += POLICY.poll_delay(polls)
        polls += 1
    assert polls <= 20
