"""The render side of a video's actions: render, resume, download again, copy, remove.

Renders of one video run one at a time, which is what lets a render whose job id was lost in
a crash be found again: the newest job of the project that no record knows is the lost one.
Every render is written ahead as an intent before it is requested, like a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path

from parafraim_build.api.download import Downloaded, UrlGoneError
from parafraim_build.api.models import RenderConfig, RenderJob
from parafraim_build.apply_context import (
    CLOCK_SKEW,
    VideoBook,
    megabytes,
    parse_time,
    project_charges,
)
from parafraim_build.digest import render_key
from parafraim_build.errors import (
    ApiError,
    BuildError,
    DownloadError,
    NotFoundError,
    OutcomeUnknownError,
    RenderFailedError,
)
from parafraim_build.fsutil import copy_hashing, replace_into
from parafraim_build.lock_model import PendingRender
from parafraim_build.outputs import remove_output, resolve_output, sha256_file
from parafraim_build.plan_model import Action

MAGIC: dict[str, tuple[int, bytes]] = {"mp4": (4, b"ftyp"), "gif": (0, b"GIF8")}
"""Where each format's signature is, and what it is: an MP4 starts with an ``ftyp`` box, a
GIF with ``GIF87a`` or ``GIF89a``."""


class _NotTheRender(DownloadError):
    """The file a job gave is not what the render's config asks for (another render's job)."""


def _check_format(path: Path, config: RenderConfig, job_id: str) -> None:
    """``_NotTheRender`` (and the file removed) unless ``path`` is a non-empty file of the
    config's format, by its signature: a job taken for the wrong render is never recorded."""
    offset, magic = MAGIC.get(config.format, (0, b""))
    try:
        with path.open("rb") as handle:
            head = handle.read(offset + len(magic))
    except OSError as exc:
        raise DownloadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head and head[offset : offset + len(magic)] == magic:
        return
    path.unlink(missing_ok=True)
    raise _NotTheRender(
        f"render job {job_id} gave a file that is not {config.format.upper()}"
        + ("" if head else " (it is empty)"),
        hint="run apply again to render it again",
    )


def _copy_verified(source: Path, dest: Path, sha256: str | None) -> tuple[str, int] | None:
    """Copy ``source`` to ``dest`` atomically when its content has ``sha256``; (sha256, size),
    or None (nothing written) when it is gone, unreadable or not that file any more.

    A failure to write ``dest`` is a ``LocalWriteError`` naming it (no temporary file left):
    the disk must be fixed, and fetching the file elsewhere would fail the same way.
    """
    try:
        with source.open("rb") as handle:
            temp, digest, size = copy_hashing(handle, dest)
    except OSError:
        return None  # reading the old file failed (LocalWriteError is not an OSError)
    if digest != sha256:
        with contextlib.suppress(OSError):
            temp.unlink()
        return None
    replace_into(temp, dest)
    return digest, size


def _in_place(path: Path, sha256: str | None) -> tuple[str, int] | None:
    """(sha256, size) when ``path`` is a regular file with that sha256, else None."""
    try:
        if sha256 is None or path.is_symlink() or not path.is_file():
            return None
        if sha256_file(path) != sha256:
            return None
        return sha256, path.stat().st_size
    except OSError:
        return None


class RenderActions:
    """The render-side actions of one video, recorded through its ``VideoBook``."""

    def __init__(self, book: VideoBook) -> None:
        self.book = book
        self.ctx = book.ctx
        self.video = book.video

    async def perform(self, action: Action) -> str:
        """Carry out one render-side action; a short note of what it did."""
        match action.kind:
            case "render":
                return await self.render(action)
            case "resume_render":
                return await self.resume_render(action)
            case "download":
                return await self.download(action)
            case "copy_cached":
                return await self.copy_cached(action)
            case "remove_output":
                return self.remove_output(action)
        raise BuildError(f"{action.kind!r} is not a render action")

    async def render(self, action: Action) -> str:
        ctx = self.ctx
        name, config = action.render, action.config
        if name is None or config is None:
            raise BuildError("the plan's render action is incomplete")
        relpath, dest = self.book.output_path(action)
        entry = self.book.lock().entry(self.video)
        key = action.render_key or render_key(entry.composition_sha256, config)
        # The composition may only now be known (its steps ran in this apply): an identical
        # (composition, config) this service made before is copied, not paid for again (never
        # another service's: a --local storyboard is not the service's render).
        restored = await asyncio.to_thread(
            ctx.cache.restore_output, key, dest, service=ctx.identity, account=ctx.account_id
        )
        if restored is not None:
            job_id = restored.job_id or self._recorded_job(name, key)
            self.book.record_output(
                name, key, job_id, relpath, restored.sha256, restored.size, config
            )
            return f"{relpath}, copied from the run cache, {megabytes(restored.size)}"
        # Priced again now that the composition exists: the plan may have had to assume its
        # length, and --max-credits must hold against what the render really costs.
        duration = ctx.durations.get(entry.composition_sha256)
        if duration is not None:
            credits = ctx.costs.render(config, duration)
        else:
            credits = action.credits or ctx.costs.render(config, None)
        ctx.budget.reserve(credits, f"render {name}")
        intent = PendingRender(
            render=name, key=key, config=config, startedAt=self.book.now(), path=relpath
        )
        project_id = entry.projectId
        self.book.update(lambda lock: lock.add_pending(self.video, intent))
        try:
            started = await ctx.client.start_render(project_id, config)
        except OutcomeUnknownError as error:
            # The intent stays: the next apply looks the job up (the project's last task, or
            # the render's charge) instead of paying for another render.
            raise OutcomeUnknownError(
                f"{error.message}; the next apply finds the render job if it was started",
                code=error.code,
                hint="run apply again: it looks the job up and records it, without rendering "
                "again when the service started it",
            ) from error
        except ApiError:
            ctx.budget.release(credits)
            self.book.update(lambda lock: lock.drop_pending(self.video, intent))
            raise
        ctx.started_jobs[started.jobId] = config
        ctx.job_durations[started.jobId] = duration
        self.book.update(lambda lock: lock.add_pending(self.video, intent.with_id(started.jobId)))
        return await self.finish_render(name, key, started.jobId, config, relpath, dest)

    async def finish_render(
        self, name: str, key: str, job_id: str, config: RenderConfig, relpath: str, dest: Path
    ) -> str:
        ctx = self.ctx

        def progress(job: RenderJob) -> None:
            ctx.reporter.render_progress(self.video, name, job.status, job.progress)

        job = await ctx.client.wait_for_render(
            job_id, on_progress=progress, timeout=ctx.render_timeout
        )
        if job.status != "complete":
            self.book.update(
                lambda lock: lock.drop_pending(
                    self.video,
                    PendingRender(
                        render=name, key=key, jobId=job_id, config=config, startedAt=self.book.now()
                    ),
                )
            )
            raise RenderFailedError(
                f"the render job {job_id} ended {job.status}"
                + (f": {job.error}" if job.error else ""),
                hint="run apply again to render it again (a failed render is refunded)",
            )
        url = job.videoUrl or (await ctx.client.get_render_job(job_id)).videoUrl
        if not url:
            raise DownloadError(f"the render job {job_id} is complete but has no video URL")
        downloaded = await ctx.client.download(url, dest, job_id=job_id)
        await asyncio.to_thread(_check_format, dest, config, job_id)
        await self._keep_download(name, key, job_id, relpath, dest, downloaded, config)
        return f"{relpath}, {megabytes(downloaded.size)}"

    async def resume_render(self, action: Action) -> str:
        name, config = action.render, action.config
        if name is None or config is None:
            raise BuildError("the plan's resume_render action is incomplete")
        relpath, dest = self.book.output_path(action)
        entry = self.book.lock().entry(self.video)
        key = action.render_key or render_key(entry.composition_sha256, config)
        pending = entry.pending_render(name)
        since = pending.startedAt if pending is not None else None
        recovered = action.job_id is None
        job_id = action.job_id or await self.recover_job(action.task_id, since)
        if job_id is None:
            # The request never reached the service, or cannot be found: render it now.
            if pending is not None:
                self.book.update(lambda lock: lock.drop_pending(self.video, pending))
            return await self.render(dataclasses.replace(action, kind="render", render_key=key))
        recovered_intent = PendingRender(
            render=name,
            key=key,
            jobId=job_id,
            config=config,
            startedAt=self.book.now(),
            path=relpath,
        )
        if recovered:
            self.book.update(lambda lock: lock.add_pending(self.video, recovered_intent))
        try:
            return await self.finish_render(name, key, job_id, config, relpath, dest)
        except _NotTheRender as wrong:
            if not recovered:
                raise DownloadError(wrong.message, hint=wrong.hint) from None
            # The job looked up was another render's (one since removed from the spec, whose
            # charge aged out of the recent ones): render this one for real.
            self.ctx.reporter.waiting(self.video, f"{wrong.message}; rendering {name} again")
            self.book.update(lambda lock: lock.drop_pending(self.video, recovered_intent))
            return await self.render(dataclasses.replace(action, kind="render", render_key=key))

    async def recover_job(self, task_id: str | None, since: str | None) -> str | None:
        """The job an interrupted run started but did not record, if the service shows it.

        ``GET /tasks/{id}`` of the project's last task names its newest render job; renders
        of a video run one at a time, so a job that no record knows is the lost one. A project
        without a task (a template used as it is) has no such answer: then the account's
        recent transactions are searched for a render charge of this project, made no earlier
        than the intent (``since``), that no record knows. Anything ambiguous is None, and the
        render is made again rather than the wrong file recorded.
        """
        entry = self.book.lock().entry(self.video)
        known = {record.jobId for record in entry.renders.values()} | set(self.ctx.started_jobs)
        floor = parse_time(since)
        if task_id is not None:
            job = (await self.ctx.client.get_task(task_id)).renderJob
            if job is None or not job.id or job.id in known:
                return None
            # A job of a render since removed from the spec is unknown too: its charge, when
            # still among the recent ones, tells it apart by its time.
            if floor is not None:
                charged = project_charges(await self.ctx.client.credits(), entry.projectId).renders
                made = charged.get(job.id)
                if made is not None and made < floor - CLOCK_SKEW:
                    return None
            return job.id
        if floor is None:
            return None
        charged = project_charges(await self.ctx.client.credits(), entry.projectId).renders
        found = {
            job_id
            for job_id, made in charged.items()
            if job_id not in known and made >= floor - CLOCK_SKEW
        }
        return found.pop() if len(found) == 1 else None

    async def download(self, action: Action) -> str:
        """Fetch a lost or damaged output again from its render job (the plan priced it at 0).

        Only a job that can no longer give the file is rendered again (paid): the job is gone
        (``NotFoundError``), it is not complete, or its URL is still refused after one refresh
        (``UrlGoneError``). A failure on this side (the output cannot be written, a folder is
        in its place) fails the video with the path named: rendering would not fix the disk.
        A body cut short is retried by the client like any transient failure.
        """
        ctx = self.ctx
        name = action.render
        if name is None or action.job_id is None or action.render_key is None:
            raise BuildError("the plan's download action is incomplete")
        relpath, dest = self.book.output_path(action)
        config = action.config or RenderConfig()
        try:
            job = await ctx.client.get_render_job(action.job_id)
            if job.status == "complete" and job.videoUrl:
                got = await ctx.client.download(job.videoUrl, dest, job_id=action.job_id)
                await asyncio.to_thread(_check_format, dest, config, action.job_id)
                return await self._record_download(action, name, config, relpath, dest, got)
            why = f"its job is {job.status}"
        except (NotFoundError, UrlGoneError, _NotTheRender) as error:
            why = error.message
        ctx.reporter.waiting(self.video, f"cannot download {name} ({why}); rendering it again")
        return await self.render(dataclasses.replace(action, kind="render", credits=0.0))

    async def _record_download(
        self,
        action: Action,
        name: str,
        config: RenderConfig,
        relpath: str,
        dest: Path,
        got: Downloaded,
    ) -> str:
        ctx = self.ctx
        key, job_id = action.render_key or "", action.job_id
        expected = (action.expected_sha256, action.expected_size)
        differs = expected[0] is not None and expected != (got.sha256, got.size)
        await self._keep_download(name, key, job_id, relpath, dest, got, config)
        if differs:
            # The job's file is the truth of that job (the lock's record may have been edited,
            # or the service re-encoded it): recorded, and said.
            note = (
                f"the file of render job {job_id} differs from the lock's record "
                f"(sha256 {str(expected[0])[:12]}…, now {got.sha256[:12]}…): the job's file "
                "is recorded"
            )
            ctx.reporter.waiting(self.video, note)
            return f"{relpath}, {megabytes(got.size)}; {note}"
        return f"{relpath}, {megabytes(got.size)}"

    async def copy_cached(self, action: Action) -> str:
        name, key = action.render, action.render_key
        if name is None or key is None:
            raise BuildError("the plan's copy_cached action is incomplete")
        relpath, dest = self.book.output_path(action)
        config = action.config or RenderConfig()
        if action.source_path is not None:
            moved = await self._copy_local(action, name, key, config, relpath, dest)
            if moved is not None:
                return moved
        restored = await asyncio.to_thread(
            self.ctx.cache.restore_output,
            key,
            dest,
            service=self.ctx.identity,
            account=self.ctx.account_id,
        )
        if restored is None:
            if action.source_path is not None and action.job_id is not None:
                return await self.download(dataclasses.replace(action, kind="download"))
            self.ctx.reporter.waiting(
                self.video, f"the run cache lost {name}; rendering it instead"
            )
            return await self.render(dataclasses.replace(action, kind="render", credits=0.0))
        job_id = restored.job_id or self._recorded_job(name, key)
        self.book.record_output(name, key, job_id, relpath, restored.sha256, restored.size, config)
        return f"{relpath}, {megabytes(restored.size)}"

    def _recorded_job(self, name: str, key: str) -> str | None:
        """The job the lock already records for this very render (same key), if any.

        A copy from the run cache may come without a job (the cache does not know this
        account's), but the lock's own record, of this account, still names the job that made
        the file: keep it, so a later restore without the cache downloads instead of paying.
        """
        record = self.book.lock().entry(self.video).renders.get(name)
        return record.jobId if record is not None and record.key == key else None

    async def _copy_local(
        self, action: Action, name: str, key: str, config: RenderConfig, relpath: str, dest: Path
    ) -> str | None:
        """Move the verified output from its old path (``outDir`` changed) to its new one;
        None when neither place holds the recorded file any more.

        The file is copied unless the new place has it already; then the old file is removed
        (only if it is still the recorded one), and only then is the new path recorded. A
        crash anywhere in between leaves the old record with the file at the new place (and
        perhaps still at the old one): the next plan records it there and removes the old
        one. Recording first would leave, after such a crash, an old file nothing refers to.
        """
        old = action.source_path or ""
        placed = await asyncio.to_thread(_in_place, dest, action.expected_sha256)
        there = placed is not None
        if placed is None:
            source = resolve_output(self.ctx.spec.root, old)
            placed = await asyncio.to_thread(_copy_verified, source, dest, action.expected_sha256)
            if placed is None:
                return None
        sha256, size = placed
        root = self.ctx.spec.root
        outcome = await asyncio.to_thread(remove_output, root, old, sha256=sha256, size=size)
        self.book.record_output(name, key, action.job_id, relpath, sha256, size, config)
        if outcome == "kept":
            note = f"kept {old}: it is not the file this tool made (changed since)"
            self.ctx.reporter.waiting(self.video, note)
            return f"{relpath}, {megabytes(size)}; {note}"
        how = "already there" if there else "moved"
        return f"{relpath}, {megabytes(size)} ({how}; {old} removed)"

    async def _keep_download(
        self,
        name: str,
        key: str,
        job_id: str | None,
        relpath: str,
        dest: Path,
        got: Downloaded,
        config: RenderConfig,
    ) -> None:
        """A verified download: the run cache keeps its copy (as this service's), then the
        lock records it.

        In that order: a crash before the lock records the output leaves the copy in the
        cache, so no later run (this project reused, say) pays to render it again.
        """
        await asyncio.to_thread(
            self.ctx.cache.store_output,
            key,
            dest,
            service=self.ctx.identity,
            account=self.ctx.account_id,
            sha256=got.sha256,
            size=got.size,
            format=config.format,
            job_id=job_id,
        )
        self.book.record_output(name, key, job_id, relpath, got.sha256, got.size, config)

    def remove_output(self, action: Action) -> str:
        if action.path is None:
            # A video without outputs (its entry goes after), or an interrupted render's
            # pending record (dropped before the video's first action) with no file to remove.
            return "no output to remove"
        if action.expected_sha256 is None:
            # Only a file this tool provably made is ever deleted.
            raise BuildError(
                f"the plan's remove_output of {action.path} has no checksum to verify it by"
            )
        outcome = remove_output(
            self.ctx.spec.root,
            action.path,
            sha256=action.expected_sha256,
            size=action.expected_size,
        )
        if action.forget and action.render is not None:
            lock = self.book.lock()
            if self.video in lock.videos and action.render in lock.videos[self.video].renders:
                self.book.update(lambda lock: lock.remove_render(self.video, action.render or ""))
        if outcome == "kept":
            note = f"kept {action.path}: it is not the file this tool made (changed since)"
            self.ctx.reporter.waiting(self.video, note)
            return note
        return "removed" if outcome == "removed" else "already gone"
