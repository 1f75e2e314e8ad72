"""Render jobs: precharge, the status walk, the real render on a worker thread, refunds.

A job walks ``pending -> generating -> rendering -> uploading -> complete`` (or ``failed``)
with a rising integer progress and takes at least ``render_seconds`` in all. The video itself
is made by ``render.render_video`` (ffmpeg) on a small thread pool, so the event loop keeps
answering while frames are encoded. A failed render, injected or real, is refunded in full.

Stopping the engine never waits for ffmpeg: a job's runner, when cancelled, sets the render's
cancel event, which kills ffmpeg and removes its partial file at once. Such a job is still
unfinished in the state, and starts again from the beginning after a restart. A job whose file
was already made when the engine stopped is recorded complete instead (on the way down, or at
the next start if the engine died first), so a finished render is never thrown away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from parafraim_build.api.models import RenderConfig, RenderRequest
from parafraim_build.emulator.composition import parse_composition
from parafraim_build.emulator.core import Core
from parafraim_build.emulator.pricing import render_cost
from parafraim_build.emulator.render import RenderCancelledError, RenderError
from parafraim_build.emulator.runners import Runners
from parafraim_build.emulator.state import RenderJob, Transaction, new_token, new_uuid
from parafraim_build.emulator.validation import parse_body
from parafraim_build.errors import InsufficientCreditsError, NoPreviewError, NotFoundError

logger = logging.getLogger(__name__)

RENDER_WORKERS = 2
# Shares of ``render_seconds`` spent in each phase; rendering takes the rest (at least).
_PENDING, _GENERATING, _UPLOADING = 0.1, 0.15, 0.15
_PROGRESS_STEP_SECONDS = 0.1


class Renderer(Protocol):
    """Makes the video file (``render.render_video``)."""

    def __call__(
        self,
        html: str,
        config: RenderConfig,
        out_path: Path,
        *,
        on_progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> float:
        """Make ``out_path`` (atomically); stop at once, leaving no file, when ``cancel`` is
        set (raising ``RenderCancelledError``). Returns the video's length in seconds."""
        ...


class RenderService:
    """Accepts renders and walks each job to its end."""

    def __init__(self, core: Core, renderer: Renderer, workers: int = RENDER_WORKERS) -> None:
        self.core = core
        self.renderer = renderer
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine-render")
        self._runners = Runners()

    async def accept(self, project_id: str, body: Any) -> dict[str, Any]:
        """``POST /projects/{id}/render``: check, precharge and start a job."""
        state = self.core.state
        project = state.projects.get(project_id)
        if project is None:
            raise NotFoundError(f"project {project_id} not found")
        request = parse_body(RenderRequest, body)
        composition = parse_composition(project.composition_html)
        if composition is None or not composition.scenes:
            raise NoPreviewError(
                f"project {project.id} has no renderable preview yet; "
                "send a message that creates the composition first"
            )
        cost = render_cost(request.config, composition.duration)
        balance = self.core.balance()
        if balance < cost:
            raise InsufficientCreditsError(
                f"this render costs {cost} credits but the balance is {balance}"
            )
        now = self.core.now_iso()
        job_id = new_uuid()
        seq = state.next_seq()
        job = RenderJob(
            id=job_id,
            seq=seq,
            project_id=project.id,
            request_body=body,
            config=request.config.model_dump(mode="json"),
            html=project.composition_html,
            duration=composition.duration,
            trace_id=new_token("trace"),
            status="pending",
            progress=0,
            charge=Transaction(
                id=new_token("txn"),
                seq=state.next_seq(),
                type="charge",
                amount=cost,
                description=f"render of project {project.name!r} "
                f"({request.config.width}x{request.config.height} {request.config.format})",
                created_at=now,
                project_id=project.id,
                job_id=job_id,
            ),
            created_at=now,
            updated_at=now,
        )
        state.add_job(job)
        await self.core.persist("jobs", job.id, job)
        self.start(job)
        return {"jobId": job.id, "traceId": job.trace_id}

    def get(self, job_id: str) -> dict[str, Any]:
        """``GET /render-jobs/{id}``, with a freshly signed ``videoUrl`` when complete."""
        job = self.core.state.jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"render job {job_id} not found")
        return self.core.job_view(job)

    # ----------------------------------------------------------------- running

    def _path(self, job: RenderJob) -> Path:
        return self.core.store.files_dir / f"{job.id}.{job.config['format']}"

    def start(self, job: RenderJob) -> None:
        """Walk ``job`` from ``pending`` to its end in the background."""
        self._runners.start(job.id, self._run(job), name=f"render {job.id}")

    def resume(self) -> None:
        """Finish every job a previous engine on this state left unfinished.

        A job whose file exists was rendered before the stop (files appear atomically, only
        once ffmpeg succeeded) and is recorded complete; any other starts again from zero.
        """
        for job in list(self.core.state.jobs.values()):
            if job.terminal or job.id in self._runners:
                continue
            path = self._path(job)
            if path.is_file():
                self._runners.start(
                    job.id, self._complete(job, path.name, path.stat().st_size), f"render {job.id}"
                )
            else:
                job.status, job.progress = "pending", 0
                self.start(job)

    async def _run(self, job: RenderJob) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        total = self.core.config.render_seconds
        try:
            await asyncio.sleep(total * _PENDING)
            self._advance(job, "generating", 5)
            await self._ramp(job, 15, total * _GENERATING)
            self._advance(job, "rendering", 20)
            if self.core.faults.render_fails(job.seq):
                await self._ramp(job, 60, total * (1 - _PENDING - _GENERATING - _UPLOADING))
                await self._fail(job, "the renderer crashed (injected by --render-failure-rate)")
                return
            rendering_started = loop.time()
            path = self._path(job)
            cancel = threading.Event()
            try:
                duration, size = await loop.run_in_executor(
                    self._pool, self._render, job, path, loop, cancel
                )
            except asyncio.CancelledError:
                cancel.set()  # kills ffmpeg now; the job starts again after a restart
                raise
            except RenderCancelledError:
                return  # only a stop cancels, and it cancels this runner too
            except RenderError as exc:
                await self._fail(job, str(exc))
                return
            job.duration = duration
            try:
                rest = total * (1 - _PENDING - _GENERATING - _UPLOADING)
                await self._ramp(job, 90, rest - (loop.time() - rendering_started))
                self._advance(job, "uploading", 92)
                await self._ramp(job, 99, total * _UPLOADING)
                await asyncio.sleep(max(0.0, total - (loop.time() - started)))
            except asyncio.CancelledError:
                # Stopped while only pacing: the video is made, keep it rather than redo it.
                await self._complete(job, path.name, size)
                raise
            await self._complete(job, path.name, size)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug must not leave a job that never ends (and a charge never refunded).
            logger.exception("render job %s failed inside the engine", job.id)
            if not job.terminal:
                await self._fail(job, f"the engine failed while rendering ({type(exc).__name__})")

    def _render(
        self,
        job: RenderJob,
        path: Path,
        loop: asyncio.AbstractEventLoop,
        cancel: threading.Event,
    ) -> tuple[float, int]:
        """On a worker thread: make the file, reporting progress back to the loop.

        Returns the video's duration and the file's size.
        """

        def report(percent: int) -> None:
            value = 20 + (max(0, min(100, percent)) * 70) // 100
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(self._raise_progress, job, value)

        config = RenderConfig.model_validate(job.config)
        duration = self.renderer(job.html, config, path, on_progress=report, cancel=cancel)
        return duration, path.stat().st_size

    def _advance(self, job: RenderJob, status: str, progress: int) -> None:
        job.status = status
        self._raise_progress(job, progress)

    @staticmethod
    def _raise_progress(job: RenderJob, progress: int) -> None:
        if not job.terminal:
            job.progress = max(job.progress, min(99, progress))

    async def _ramp(self, job: RenderJob, target: int, seconds: float) -> None:
        """Move progress towards ``target`` over ``seconds``, in steps a poller can see."""
        if seconds <= 0:
            self._raise_progress(job, target)
            return
        steps = max(1, int(seconds / _PROGRESS_STEP_SECONDS))
        start = job.progress
        for step in range(1, steps + 1):
            await asyncio.sleep(seconds / steps)
            self._raise_progress(job, start + ((target - start) * step) // steps)

    async def _complete(self, job: RenderJob, file_name: str, size: int) -> None:
        """Record the job complete with its file, durably."""
        job.file_name = file_name
        job.file_size = size
        job.status, job.progress = "complete", 100
        job.updated_at = self.core.now_iso()
        await self.core.persist("jobs", job.id, job)

    async def _fail(self, job: RenderJob, reason: str) -> None:
        """Record the job failed and refund its precharge, durably."""
        now = self.core.now_iso()
        job.status = "failed"
        job.error = f"render failed: {reason}"
        job.updated_at = now
        job.refund = self.core.state.refund(job.charge, f"refund: failed render {job.id}", now)
        await self.core.persist("jobs", job.id, job)

    async def stop(self) -> None:
        """Stop every job at once: renders in progress are killed, not awaited (see the module
        docstring); unfinished jobs start again after a restart."""
        await self._runners.cancel_all()
        # Quick: every render still on a worker was told to stop by its runner's cancellation.
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
