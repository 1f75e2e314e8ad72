"""Seeded fault decisions, so that a failing run can be replayed with the same ``--seed``.

Every decision is a pure function of ``(seed, kind, n)``: ``n`` counts the requests of that
kind (or is the sequence number of the task or render concerned), so the same sequence of
requests meets the same faults on every run, and a task or render keeps its fate across a
restart of the engine.

A concurrency burst is the one fault with a duration: a message that draws a hit starts a
burst, and every message in the next ``concurrency_burst_seconds`` is refused too, without a
draw, as a real account at its limit would refuse them. So an immediate retry fails and only a
client that backs off gets through. Where bursts start is seeded; how many retries land inside
one depends on the client's timing.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
import time
from collections.abc import Callable

from parafraim_build.emulator.config import FaultConfig

_PAGE = """<!DOCTYPE html>
<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>parafraim-edge (injected by the local engine's --error-rate)</center>
</body>
</html>
"""
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable"}


def draw(seed: int, kind: str, n: int) -> float:
    """A reproducible number in ``[0, 1)`` for the ``n``-th decision of ``kind``."""
    digest = hashlib.sha256(f"{seed}:{kind}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def error_page(status: int) -> str:
    """The HTML a broken proxy would send: deliberately not a JSON envelope."""
    return _PAGE.format(status=status, reason=_REASONS.get(status, "Server Error"))


class FaultInjector:
    """Decides, request by request, which configured fault strikes. Thread-safe.

    ``clock`` (seconds, any origin) times concurrency bursts; tests pass a fake one.
    """

    def __init__(
        self, faults: FaultConfig, seed: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.faults = faults
        self.seed = seed
        self.clock = clock
        self._lock = threading.Lock()
        self._counters: dict[str, itertools.count[int]] = {}
        self._burst_until: float | None = None
        self.injected: dict[str, int] = {}

    def _next(self, kind: str) -> float:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count())
            return draw(self.seed, kind, next(counter))

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] = self.injected.get(kind, 0) + 1

    def _hit(self, kind: str, rate: float, n: int | None = None) -> bool:
        """Whether fault ``kind`` strikes: the ``n``-th decision, or the next one of ``kind``."""
        if rate <= 0:
            return False
        value = self._next(kind) if n is None else draw(self.seed, kind, n)
        hit = value < rate
        if hit:
            self._count(kind)
        return hit

    def latency_seconds(self) -> float:
        """How long to hold this request before handling it (0 when latency is off)."""
        base, jitter = self.faults.latency_ms, self.faults.jitter_ms
        if base <= 0 and jitter <= 0:
            return 0.0
        offset = (self._next("latency") * 2 - 1) * jitter
        return max(0.0, base + offset) / 1000

    def server_error(self) -> int | None:
        """502 or 503 when this request gets an HTML error page instead of an answer."""
        if not self._hit("error", self.faults.error_rate):
            return None
        return 502 if self._next("error-status") < 0.5 else 503

    def concurrency_burst(self) -> float | None:
        """Seconds left of the burst that refuses this message, or ``None`` to let it in.

        Inside a burst every message is refused; outside, a draw may start a new one.
        """
        if self.faults.concurrency_burst_rate <= 0:
            return None
        now = self.clock()
        with self._lock:
            until = self._burst_until
        if until is not None and now < until:
            self._count("concurrency")
            return until - now
        if not self._hit("concurrency", self.faults.concurrency_burst_rate):
            return None
        with self._lock:
            self._burst_until = now + self.faults.concurrency_burst_seconds
        self._count("concurrency-burst")
        return self.faults.concurrency_burst_seconds

    def lose_response(self) -> bool:
        """True when this processed POST is answered by a dropped connection."""
        return self._hit("lost-response", self.faults.lost_response_rate)

    def task_fails(self, task_seq: int) -> bool:
        """Whether the task with this sequence number ends in ``task_error``."""
        return self._hit("task-error", self.faults.task_error_rate, task_seq)

    def render_fails(self, job_seq: int) -> bool:
        """Whether the render with this sequence number fails (and is refunded)."""
        return self._hit("render-failure", self.faults.render_failure_rate, job_seq)


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value (whole seconds, at least 1) for a wait of ``seconds``."""
    return str(max(1, math.ceil(seconds)))
