"""What every part of the engine shares: config, state, store, faults, clock and links.

The task and render services and the engine itself hold one ``Core``; it owns no behaviour of
its own beyond persisting a record and building the objects that need signed links.
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
        self.faults = FaultInjector(config.faults, config.seed)
        self.signing_key = signing_key(config.api_key, state.account.id)
        # Set by the server once it listens; used where no request tells us the host.
        self.base_url = ""
        self.closing = False

    def now_iso(self) -> str:
        return iso(self.clock())

    async def persist(self, kind: str, record_id: str, record: Record) -> None:
        """Write ``record`` and wait until it is on disk (no-op without a state directory)."""
        await asyncio.wrap_future(self.store.save(kind, record_id, record.to_json()))

    def video_url(self, job: RenderJob, base_url: str | None = None) -> str | None:
        """A freshly signed link to a complete job's file, else ``None``."""
        if job.status != "complete" or job.file_name is None:
            return None
        path = signed_path(
            self.signing_key,
            job.file_name,
            now=self.clock(),
            ttl_seconds=self.config.url_ttl_seconds,
        )
        return (base_url or self.base_url).rstrip("/") + path

    def job_view(self, job: RenderJob, base_url: str | None = None) -> dict[str, Any]:
        return views.render_job(job, self.video_url(job, base_url))

    def task_view(self, task: Task, base_url: str | None = None) -> dict[str, Any]:
        """The task object; its ``renderJob`` is the project's newest job asked after it."""
        project = self.state.projects[task.project_id]
        job = self.state.latest_job_after(task.project_id, task.seq)
        return views.task(task, project, self.job_view(job, base_url) if job else None)
