"""Background work of the engine: one asyncio task per message task or render job.

``TaskService`` and ``RenderService`` both start a runner per record, must not start a second
one for the same record, and cancel and await all of them on stop; ``Runners`` is that
bookkeeping, shared.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class Runners:
    """The running asyncio tasks of one service, by record id. Event-loop only."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[None]] = {}

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._running

    def __len__(self) -> int:
        return len(self._running)

    def start(self, record_id: str, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` in the current loop; it is forgotten once it ends."""
        runner = asyncio.get_running_loop().create_task(work, name=name)
        self._running[record_id] = runner
        runner.add_done_callback(lambda _: self._forget(record_id, runner))

    def _forget(self, record_id: str, runner: asyncio.Task[None]) -> None:
        if self._running.get(record_id) is runner:
            del self._running[record_id]

    async def cancel_all(self) -> None:
        """Cancel every runner and wait until each has handled its cancellation."""
        runners = list(self._running.items())
        for _, runner in runners:
            runner.cancel()
        for record_id, runner in runners:
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            self._forget(record_id, runner)  # its done callback may not have run yet
