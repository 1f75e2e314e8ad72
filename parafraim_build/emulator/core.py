"""What every part of the engine shares: config, state, store, faults, clock and links.

The task and render services and the engine itself hold one ``Core``; it owns no behaviour of
its own beyond persisting a record and building the objects that need signed links.

Links have one base URL, whatever the request: ``EngineConfig.public_url`` when set, else the
address the server bound (set by ``serve_engine``). Never the request's ``Host`` header, which
a client controls, so ``GET /render-jobs/{id}`` and the SSE ``result`` event always agree.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from parafraim_build.emulator import views
from parafraim_build.emulator.config import EngineConfig
from parafraim_build.emulator.faults import FaultInjector
from parafraim_build.emulator.signing import signed_path, signing_key
from parafraim_build.emulator.state import EngineState, Record, RenderJob, Task, iso
from parafraim_build.emulator.store import Store

Clock = Callable[[], float]


class Core:
    """The engine's shared parts. Touched only from the server's event loop."""

    def __init__(
        self, config: EngineConfig, state: EngineState, store: Store, clock: Clock = time.time
    ) -> None:
        self.config = config
        self.state = state
        self.store = store
        self.clock = clock
        self.faults = FaultInjector(config.faults, config.seed, clock=clock)
        self.signing_key = signing_key(config.api_key, state.account.id)
        self.base_url = (config.public_url or "").rstrip("/")
        self.closing = False

    def listening_on(self, bound_url: str) -> None:
        """Called by the server once it listens: links use ``bound_url`` unless a public URL
        was configured."""
        if not self.config.public_url:
            self.base_url = bound_url.rstrip("/")

    def now_iso(self) -> str:
        """The engine clock's time as the API writes it (``2026-01-31T23:59:59.000Z``)."""
        return iso(self.clock())

    def balance(self) -> float:
        """The account's balance now: this month's allowance minus this month's usage."""
        return self.state.balance(self.now_iso()[:7])

    async def persist(self, kind: str, record_id: str, record: Record) -> None:
        """Write ``record`` and wait until it is on disk (no-op without a state directory)."""
        await asyncio.wrap_future(self.store.save(kind, record_id, record.to_json()))

    def video_url(self, job: RenderJob) -> str | None:
        """A freshly signed link to a complete job's file, else ``None``."""
        if job.status != "complete" or job.file_name is None:
            return None
        path = signed_path(
            self.signing_key,
            job.file_name,
            now=self.clock(),
            ttl_seconds=self.config.url_ttl_seconds,
        )
        return self.base_url + path

    def job_view(self, job: RenderJob) -> dict[str, Any]:
        """The render job object, with a freshly signed ``videoUrl`` when complete."""
        return views.render_job(job, self.video_url(job))

    def task_view(self, task: Task) -> dict[str, Any]:
        """The task object; its ``renderJob`` is the project's newest job asked after it."""
        project = self.state.projects[task.project_id]
        job = self.state.latest_job_after(task.project_id, task.seq)
        return views.task(task, project, self.job_view(job) if job else None)
