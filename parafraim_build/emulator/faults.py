"""Seeded fault decisions, so that a failing run can be replayed with the same ``--seed``.

Every decision is a pure function of ``(seed, kind, n)``: ``n`` counts the requests of that
kind (or is the sequence number of the task or render concerned), so the same sequence of
requests meets the same faults on every run, and a task or render keeps its fate across a
restart of the engine.
"""

from __future__ import annotations

import hashlib
import itertools
import threading

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
    """Decides, request by request, which configured fault strikes. Thread-safe."""

    def __init__(self, faults: FaultConfig, seed: int) -> None:
        self.faults = faults
        self.seed = seed
        self._lock = threading.Lock()
        self._counters: dict[str, itertools.count[int]] = {}
        self.injected: dict[str, int] = {}

    def _next(self, kind: str) -> float:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count())
            return draw(self.seed, kind, next(counter))

    def _hit(self, kind: str, rate: float) -> bool:
        if rate <= 0:
            return False
        hit = self._next(kind) < rate
        if hit:
            with self._lock:
                self.injected[kind] = self.injected.get(kind, 0) + 1
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

    def concurrency_burst(self) -> bool:
        """True when this message request is refused with CONCURRENCY_LIMIT."""
        return self._hit("concurrency", self.faults.concurrency_burst_rate)

    def lose_response(self) -> bool:
        """True when this processed POST is answered by a dropped connection."""
        return self._hit("lost-response", self.faults.lost_response_rate)

    def task_fails(self, task_seq: int) -> bool:
        """Whether the task with this sequence number ends in ``task_error``."""
        rate = self.faults.task_error_rate
        hit = rate > 0 and draw(self.seed, "task-error", task_seq) < rate
        if hit:
            with self._lock:
                self.injected["task-error"] = self.injected.get("task-error", 0) + 1
        return hit

    def render_fails(self, job_seq: int) -> bool:
        """Whether the render with this sequence number fails (and is refunded)."""
        rate = self.faults.render_failure_rate
        hit = rate > 0 and draw(self.seed, "render-failure", job_seq) < rate
        if hit:
            with self._lock:
                self.injected["render-failure"] = self.injected.get("render-failure", 0) + 1
        return hit
