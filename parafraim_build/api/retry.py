"""When to try again, and how long to wait: pure functions over ``RetryPolicy``.

The rule that matters most is ``api.md`` assumption 6: a POST is retried only when the failure
proves that it was not processed (no connection was made, the API's error envelope came back,
or a page whose status says the request was turned away, 503 or 429). A timeout or a dropped
connection after the body was sent is never retried, because the server may have created the
project, started the task or precharged the render already.

Everything here is deterministic given its inputs (``jitter`` is passed in), so the decisions
are table-tested without a network or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from parafraim_build.api.errors import BUSY_CODES, Failure, FailureKind, is_transient


@dataclass(frozen=True)
class RetryPolicy:
    """The bounds of every wait the client makes. All times are in seconds."""

    max_attempts: int = 5
    """Attempts per request for transient failures, the first one included."""
    max_elapsed: float = 60.0
    """Stop retrying a transient failure once this much time has gone since the first try."""
    base_delay: float = 0.5
    max_delay: float = 10.0
    busy_max_attempts: int = 120
    """Attempts for CONCURRENCY_LIMIT / TASK_RUNNING: tasks take minutes, so wait longer."""
    busy_max_elapsed: float = 1800.0
    busy_base_delay: float = 1.0
    busy_max_delay: float = 30.0
    post_safe_statuses: frozenset[int] = frozenset({429, 503})
    """Statuses of a page without the envelope that prove a POST was turned away unprocessed.

    503 (Service Unavailable) and 429 (Too Many Requests) refuse before any work; a 500, 502
    or 504 may come after the upstream started working, so they are not in the set.
    """
    poll_initial: float = 0.5
    poll_factor: float = 1.5
    poll_max: float = 5.0
    """Polling a render or a task: 0.5 s, growing by 1.5x, to at most 5 s."""
    stream_max_failures: int = 3
    """Consecutive stream connections that end without progress before we poll instead."""
    stream_read_timeout: float = 60.0
    """Longest silence on a task stream (the API sends keep-alive comments well within it)."""

    def backoff(self, attempt: int, jitter: float, *, busy: bool = False) -> float:
        """The wait after failed attempt number ``attempt`` (1-based).

        Exponential from the base delay, capped, then spread over its upper half by ``jitter``
        in [0, 1) so that parallel clients do not retry in lock-step but never retry at once.
        """
        if busy:
            base, cap = self.busy_base_delay, self.busy_max_delay
        else:
            base, cap = self.base_delay, self.max_delay
        raw = min(cap, base * (2.0 ** max(attempt - 1, 0)))
        return raw * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))

    def poll_delay(self, poll: int) -> float:
        """The wait before poll number ``poll + 1`` (``poll`` counts polls made, from 1)."""
        return min(self.poll_max, self.poll_initial * (self.poll_factor ** max(poll - 1, 0)))


@dataclass(frozen=True)
class Decision:
    """Retry after ``delay`` seconds, or give up; ``reason`` is for the log."""

    retry: bool
    delay: float = 0.0
    reason: str = ""


def proven_unprocessed(failure: Failure, policy: RetryPolicy) -> bool:
    """True when the failure proves the server did no work for the request."""
    if failure.kind in (FailureKind.CONNECT, FailureKind.UNUSABLE, FailureKind.ENVELOPE):
        return True
    return failure.kind is FailureKind.ERROR_PAGE and failure.status in policy.post_safe_statuses


def outcome_unknown(method: str, failure: Failure, policy: RetryPolicy) -> bool:
    """True when a POST may have been processed: surfaced as "outcome unknown", not retried.

    A 4xx page without the envelope is a wrong URL or a proxy refusing us, not Parafraim at
    work, so only lost connections, 5xx pages outside ``post_safe_statuses`` and success
    statuses with a body we cannot read leave the outcome open.
    """
    if method != "POST" or proven_unprocessed(failure, policy):
        return False
    if failure.kind is FailureKind.ERROR_PAGE:
        return (failure.status or 0) >= 500
    return failure.kind in (FailureKind.LOST, FailureKind.BAD_RESPONSE)


def is_busy(failure: Failure) -> bool:
    """CONCURRENCY_LIMIT or TASK_RUNNING: refused for now, worth waiting for."""
    return failure.kind is FailureKind.ENVELOPE and failure.code in BUSY_CODES


def decide(
    policy: RetryPolicy,
    *,
    method: str,
    failure: Failure,
    attempt: int,
    elapsed: float,
    jitter: float,
) -> Decision:
    """Retry (and after how long) or give up, after attempt number ``attempt`` failed.

    ``elapsed`` is the time since the first attempt started; ``jitter`` is uniform in [0, 1).
    A ``Retry-After`` from the server is honoured as a minimum wait; when it would take us past
    the time budget we give up instead of waiting for nothing.
    """
    if method == "POST" and not proven_unprocessed(failure, policy):
        return Decision(False, reason="a POST that may have been processed is never retried")
    busy = is_busy(failure)
    if not busy and not is_transient(failure):
        return Decision(False, reason="the failure is final")
    max_attempts = policy.busy_max_attempts if busy else policy.max_attempts
    if attempt >= max_attempts:
        return Decision(False, reason=f"gave up after {attempt} attempts")
    delay = policy.backoff(attempt, jitter, busy=busy)
    if failure.retry_after is not None:
        delay = max(delay, failure.retry_after)
    budget = policy.busy_max_elapsed if busy else policy.max_elapsed
    if elapsed + delay > budget:
        return Decision(False, reason=f"gave up after {elapsed:.1f} s")
    return Decision(True, delay=delay, reason=f"attempt {attempt} of {max_attempts} failed")
