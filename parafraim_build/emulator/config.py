"""How a local engine is set up: its account, its pace and the faults it injects.

Both dataclasses are frozen values: the CLI builds one from its flags, tests and ``--local``
build one in code, and ``start_engine`` checks it (``problems``) before binding a socket.
Every number must be finite and within a sensible bound: ``click.FloatRange`` lets ``nan`` and
``inf`` through, and an infinite latency or link lifetime would hang or crash the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_API_KEY = "pfk_local_engine_key"

# Upper bounds: far above any useful value, low enough that sleeps and timestamps stay sane.
MAX_CREDITS = 1e12
MAX_STEP_SECONDS = 3600.0  # task_seconds, render_seconds, keepalive_seconds, bursts
MAX_URL_TTL_SECONDS = 366 * 24 * 3600.0
MAX_LATENCY_MS = 60_000.0

_RATES = (
    "error_rate",
    "concurrency_burst_rate",
    "task_error_rate",
    "render_failure_rate",
    "lost_response_rate",
)


def _out_of_range(name: str, value: float, low: float, high: float, *, low_open: bool) -> str:
    """A problem sentence when ``value`` is not finite or not within its bounds, else ``""``."""
    if not math.isfinite(value):
        return f"{name} must be a finite number (got {value})"
    if value < low or (low_open and value == low) or value > high:
        opening = "more than" if low_open else "at least"
        return f"{name} must be {opening} {low:g} and at most {high:g} (got {value:g})"
    return ""


@dataclass(frozen=True)
class FaultConfig:
    """Faults to inject, each reproducible for a given ``EngineConfig.seed``.

    Every rate is a share in ``[0, 1]``. Faults that answer a request (``error_rate``,
    ``concurrency_burst_rate``) strike before anything is processed, so retrying is always
    safe; ``lost_response_rate`` strikes after a POST was processed, which is what a client's
    "outcome unknown" handling has to survive. A concurrency burst, once started, refuses every
    message for ``concurrency_burst_seconds``, so an immediate retry is refused too.
    """

    latency_ms: float = 0
    jitter_ms: float = 0
    error_rate: float = 0
    concurrency_burst_rate: float = 0
    cut_streams_after: int | None = None
    task_error_rate: float = 0
    render_failure_rate: float = 0
    lost_response_rate: float = 0
    concurrency_burst_seconds: float = 1.0

    def problems(self) -> list[str]:
        """What is wrong with these values, one sentence each; empty when usable."""
        checks = [(name, getattr(self, name), 0.0, 1.0, False) for name in _RATES]
        checks += [
            ("latency_ms", self.latency_ms, 0.0, MAX_LATENCY_MS, False),
            ("jitter_ms", self.jitter_ms, 0.0, MAX_LATENCY_MS, False),
            (
                "concurrency_burst_seconds",
                self.concurrency_burst_seconds,
                0.0,
                MAX_STEP_SECONDS,
                True,
            ),
        ]
        found = [_out_of_range(*check[:4], low_open=check[4]) for check in checks]
        if self.cut_streams_after is not None and self.cut_streams_after < 1:
            found.append(f"cut_streams_after must be at least 1 (got {self.cut_streams_after})")
        return [problem for problem in found if problem]

    def active(self) -> dict[str, float | int]:
        """The faults that are switched on, by field name (for the start banner and stats)."""
        values: dict[str, float | int | None] = {
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "error_rate": self.error_rate,
            "concurrency_burst_rate": self.concurrency_burst_rate,
            "cut_streams_after": self.cut_streams_after,
            "task_error_rate": self.task_error_rate,
            "render_failure_rate": self.render_failure_rate,
            "lost_response_rate": self.lost_response_rate,
        }
        if self.concurrency_burst_rate:
            values["concurrency_burst_seconds"] = self.concurrency_burst_seconds
        return {name: value for name, value in values.items() if value}


def public_url_problem(url: str) -> str:
    """Why ``url`` cannot be the base of the links the engine hands out, or ``""``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return (
            f"public_url must be an http(s) URL such as https://engine.example:8443 (got {url!r})"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        return "public_url must not have a query, a fragment or credentials"
    return ""


@dataclass(frozen=True)
class EngineConfig:
    """One engine: its account, limits, pace, persistence and faults.

    ``api_key`` is kept out of ``repr`` so that a logged or printed config never shows it.
    ``credits`` is the monthly allowance: the balance is ``credits`` minus what the state has
    spent this calendar month (UTC), so restarting a state directory with another value moves
    the balance. ``public_url`` is the base of every ``videoUrl`` (and the ``result`` event's
    copy of it) when clients reach the engine by another address than the one it binds, e.g.
    behind a proxy; by default links use the bound address. ``read_only`` reads ``state_dir``
    once and never changes it (no lock, no clean-up, no resumed work, writes kept in memory):
    the engine of a look-up beside a build that may be using the directory.
    """

    api_key: str = field(default=DEFAULT_API_KEY, repr=False)
    credits: float = 10_000
    project_limit: int = 200
    concurrency: int = 4
    task_seconds: float = 1.0
    render_seconds: float = 1.0
    url_ttl_seconds: float = 3600
    keepalive_seconds: float = 15
    seed: int = 0
    state_dir: Path | None = None
    nondeterministic: bool = False
    faults: FaultConfig = FaultConfig()
    public_url: str | None = None
    read_only: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these values, one sentence each; empty when usable."""
        found: list[str] = []
        if not self.api_key.startswith("pfk_") or len(self.api_key) < 8:
            found.append("the API key must start with pfk_ and have at least 4 more characters")
        elif any(ch.isspace() for ch in self.api_key):
            found.append("the API key must not contain whitespace")
        if self.project_limit < 0:
            found.append(f"project_limit must not be negative (got {self.project_limit})")
        if self.concurrency < 1:
            found.append(f"concurrency must be at least 1 (got {self.concurrency})")
        checks = [
            ("credits", self.credits, 0.0, MAX_CREDITS, False),
            ("task_seconds", self.task_seconds, 0.0, MAX_STEP_SECONDS, False),
            ("render_seconds", self.render_seconds, 0.0, MAX_STEP_SECONDS, False),
            ("url_ttl_seconds", self.url_ttl_seconds, 0.0, MAX_URL_TTL_SECONDS, True),
            ("keepalive_seconds", self.keepalive_seconds, 0.0, MAX_STEP_SECONDS, True),
        ]
        found += [_out_of_range(*check[:4], low_open=check[4]) for check in checks]
        if self.public_url is not None:
            found.append(public_url_problem(self.public_url))
        return [problem for problem in found if problem] + self.faults.problems()
