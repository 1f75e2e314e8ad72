"""How a local engine is set up: its account, its pace and the faults it injects.

Both dataclasses are frozen values: the CLI builds one from its flags, tests and ``--local``
build one in code, and ``start_engine`` checks it (``problems``) before binding a socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_KEY = "pfk_local_engine_key"


@dataclass(frozen=True)
class FaultConfig:
    """Faults to inject, each reproducible for a given ``EngineConfig.seed``.

    Every rate is a share in ``[0, 1]``. Faults that answer a request (``error_rate``,
    ``concurrency_burst_rate``) strike before anything is processed, so retrying is always
    safe; ``lost_response_rate`` strikes after a POST was processed, which is what a client's
    "outcome unknown" handling has to survive.
    """

    latency_ms: float = 0
    jitter_ms: float = 0
    error_rate: float = 0
    concurrency_burst_rate: float = 0
    cut_streams_after: int | None = None
    task_error_rate: float = 0
    render_failure_rate: float = 0
    lost_response_rate: float = 0

    def problems(self) -> list[str]:
        """What is wrong with these values, one sentence each; empty when usable."""
        found: list[str] = []
        for name in (
            "error_rate",
            "concurrency_burst_rate",
            "task_error_rate",
            "render_failure_rate",
            "lost_response_rate",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                found.append(f"{name} must be between 0 and 1 (got {value})")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            found.append("latency_ms and jitter_ms must not be negative")
        if self.cut_streams_after is not None and self.cut_streams_after < 1:
            found.append(f"cut_streams_after must be at least 1 (got {self.cut_streams_after})")
        return found

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
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class EngineConfig:
    """One engine: its account, limits, pace, persistence and faults.

    ``api_key`` is kept out of ``repr`` so that a logged or printed config never shows it.
    ``credits`` is the monthly allowance: the balance is always ``credits`` minus what the
    state has spent, so restarting a state directory with another value moves the balance.
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

    def problems(self) -> list[str]:
        """What is wrong with these values, one sentence each; empty when usable."""
        found: list[str] = []
        if not self.api_key.startswith("pfk_") or len(self.api_key) < 8:
            found.append("the API key must start with pfk_ and have at least 4 more characters")
        elif any(ch.isspace() for ch in self.api_key):
            found.append("the API key must not contain whitespace")
        if self.credits < 0:
            found.append(f"credits must not be negative (got {self.credits})")
        if self.project_limit < 0:
            found.append(f"project_limit must not be negative (got {self.project_limit})")
        if self.concurrency < 1:
            found.append(f"concurrency must be at least 1 (got {self.concurrency})")
        for name in ("task_seconds", "render_seconds"):
            if getattr(self, name) < 0:
                found.append(f"{name} must not be negative (got {getattr(self, name)})")
        for name in ("url_ttl_seconds", "keepalive_seconds"):
            if getattr(self, name) <= 0:
                found.append(f"{name} must be positive (got {getattr(self, name)})")
        return found + self.faults.problems()
