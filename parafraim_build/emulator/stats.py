"""Request counters of the engine, for ``GET /_engine/stats``.

Tests use them to prove that a no-op plan or apply sent no request at all, so every request
that reaches the engine's API or its file links is counted, by route template (never by raw
path, which would hold ids). Counting is in memory; the engine writes the counters to its
state directory at most once a second and on stop, so that GETs never wait for a disk.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


class RequestStats:
    """Counts requests per ``"METHOD /route/{template}"``."""

    def __init__(self, total: int = 0, by_route: dict[str, int] | None = None) -> None:
        self.total = total
        self.by_route: Counter[str] = Counter(by_route or {})
        self.dirty = False

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RequestStats:
        """Counters saved by ``to_json``; fresh ones for ``None`` or a document we cannot use."""
        requests = (data or {}).get("requests")
        if not isinstance(requests, dict):
            return cls()
        by_route = requests.get("byRoute")
        total = requests.get("total")
        if not isinstance(by_route, dict) or not isinstance(total, int):
            return cls()
        return cls(total, {str(k): int(v) for k, v in by_route.items() if isinstance(v, int)})

    def count(self, route: str) -> None:
        """One more request on ``route``."""
        self.total += 1
        self.by_route[route] += 1
        self.dirty = True

    def to_json(self) -> dict[str, Any]:
        """``{"requests": {"total": N, "byRoute": {route: n}}}``, routes sorted."""
        return {"requests": {"total": self.total, "byRoute": dict(sorted(self.by_route.items()))}}
