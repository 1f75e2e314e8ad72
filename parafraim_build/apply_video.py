"""Carrying out one video's actions, strictly in order, recording every outcome in the lock.

The rule that keeps a crash from paying twice: before a message or a render is requested, an
intent is written to the lock (``pending`` with no id); the id the service answers is written
right after; only then does the runner wait. Whatever moment the process dies at, the next plan
sees either nothing (the request was never made), an intent without an id (the request may
have been made: the planner never re-sends it to the same project), or an id to resume.

A video's failure stops its own pipeline only: ``VideoRunner.run`` returns a result and never
raises a ``BuildError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.models import (
    CreateProjectRequest,
    RenderConfig,
    RenderJob,
    SendMessageRequest,
    TaskEvent,
    UseTemplateRequest,
)
from parafraim_build.cache import RunCache
from parafraim_build.digest import composition_hash, render_key
from parafraim_build.errors import (
    ApiError,
    BudgetError,
    BuildError,
    DownloadError,
    NotFoundError,
    OutcomeUnknownError,
    RenderFailedError,
    TaskFailedError,
)
from parafraim_build.lock_model import (
    Lock,
    PendingRender,
    PendingTask,
    RenderRecord,
    StepRecord,
    TemplateSource,
    utc_timestamp,
)
from parafraim_build.lockfile import LockStore
from parafraim_build.outputs import remove_output, resolve_output
from parafraim_build.plan_model import PROJECT_KINDS, Action, VideoPlan
from parafraim_build.pricing_estimate import CostModel
from parafraim_build.progress import ApplyReporter
from parafraim_build.spec.models import Spec

EDIT_KINDS = frozenset({*PROJECT_KINDS, "send_message", "resume_task"})
"""Actions that occupy one of the account's concurrent task slots (``--parallelism``)."""
RENDER_KINDS = frozenset({"render", "resume_render", "download"})
"""Actions that occupy one of the render slots (renders and downloads in flight at once)."""


CLOCK_SKEW = timedelta(seconds=5)
"""How far the service's clock may trail ours when matching a lost render to its charge;
intents are stamped to the second."""


class _Stopped(Exception):
    """^C came while the video waited for a slot: the action is not started."""


class Budget:
    """The ``--max-credits`` guard: no operation starts that would pass the limit."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.reserved = 0.0

    def reserve(self, amount: float, what: str) -> None:
        """Count ``amount`` as spent, or raise ``BudgetError`` if that would pass the limit."""
        if self.limit is not None and self.reserved + amount > self.limit + 1e-9:
            raise BudgetError(
                f"{what} not started: estimated at {amount:g} credits, it would pass "
                f"--max-credits {self.limit:g} ({self.reserved:g} already committed by this run)",
                hint="raise --max-credits, or apply fewer videos at a time",
            )
        self.reserved += amount

    def release(self, amount: float) -> None:
        """Give back a reservation whose operation was refused before anything was charged."""
        self.reserved = max(0.0, self.reserved - amount)


@dataclass
class RunContext:
    """What every video runner of one ``apply`` shares."""

    spec: Spec
    store: LockStore
    cache: RunCache
    client: ParafraimClient
    identity: str
    account_id: str
    scope: str
    reporter: ApplyReporter
    costs: CostModel
    budget: Budget
    edit_slots: asyncio.Semaphore
    render_slots: asyncio.Semaphore
    stopping: asyncio.Event
    local: bool = False
    task_timeout: float = 1800.0
    render_timeout: float = 3600.0
    started_tasks: list[str] = field(default_factory=list)
    started_jobs: dict[str, RenderConfig] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


@dataclass(frozen=True)
class ActionOutcome:
    """What one finished action did."""

    action: str
    step: int | None
    render: str | None
    outcome: str

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {"action": self.action}
        if self.step is not None:
            document["step"] = self.step
        if self.render is not None:
            document["render"] = self.render
        document["outcome"] = self.outcome
        return document


@dataclass
class VideoResult:
    """How one video's pipeline ended: ``ok``, ``failed`` or ``interrupted``."""

    video: str
    project_id: str | None
    status: str = "ok"
    error: str | None = None
    hint: str | None = None
    done: list[ActionOutcome] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "video": self.video,
            "projectId": self.project_id,
            "status": self.status,
            "error": self.error,
            "hint": self.hint,
            "actions": [outcome.to_json() for outcome in self.done],
            "outputs": sorted(self.outputs),
        }


def _label(action: Action, steps_total: int) -> str:
    match action.kind:
        case "create_project":
            return "create project"
        case "use_template":
            return "use template"
        case "replace_project":
            return "reuse cached project" if action.reuse else "replace project"
        case "send_message" | "resume_task":
            verb = "step" if action.kind == "send_message" else "resume step"
            return f"{verb} {action.step}/{steps_total}"
        case "render":
            return f"render {action.render}"
        case "resume_render":
            return f"resume render {action.render}"
        case "download":
            return f"download {action.render}"
        case "copy_cached":
            return f"copy {action.render} from cache"
        case "remove_output":
            return f"remove {action.path}"
    return str(action.kind)


def _parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time from the lock or the API, in UTC; None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class VideoRunner:
    """Runs one ``VideoPlan``."""

    def __init__(self, ctx: RunContext, plan: VideoPlan) -> None:
        self.ctx = ctx
        self.plan = plan
        self.video = plan.video
        self.result = VideoResult(video=plan.video, project_id=plan.project_id)
        self._holding_edit_slot = False

    # ------------------------------------------------------------------ the pipeline

    async def run(self) -> VideoResult:
        """Every action in order; on the first failure, stop this video and say why."""
        ctx, plan = self.ctx, self.plan
        ctx.reporter.video_started(
            self.video, steps_total=plan.steps_total, actions_total=len(plan.actions)
        )
        label = ""
        try:
            if plan.stale_pending:
                self._update(self._drop_stale)
            for action in plan.actions:
                if ctx.stopping.is_set():
                    self.result.status = "interrupted"
                    break
                label = _label(action, plan.steps_total)
                await self._take_slot(action)
                if ctx.stopping.is_set():  # ^C came while this video waited for a slot
                    self.result.status = "interrupted"
                    break
                outcome = await self._perform(action, label)
                self.result.done.append(
                    ActionOutcome(action.kind, action.step, action.render, outcome)
                )
                ctx.reporter.action_finished(self.video, label, outcome)
            else:
                if plan.drop_video and ctx.store.lock and self.video in ctx.store.lock.videos:
                    self._update(lambda lock: lock.drop_video(self.video))
        except BuildError as error:
            self.result.status = "failed"
            named = not label or error.message.startswith(label)
            self.result.error = error.message if named else f"{label}: {error.message}"
            self.result.hint = error.hint
        except (asyncio.CancelledError, _Stopped):
            self.result.status = "interrupted"
        finally:
            self._release_edit_slot()
        entry = ctx.store.lock.videos.get(self.video) if ctx.store.lock else None
        self.result.project_id = entry.projectId if entry else self.result.project_id
        ctx.reporter.video_finished(
            self.video, error=self.result.error if self.result.status == "failed" else None
        )
        return self.result

    def _drop_stale(self, lock: Lock) -> Lock:
        for operation in self.plan.stale_pending:
            lock = lock.drop_pending(self.video, operation)
        return lock

    async def _take_slot(self, action: Action) -> None:
        # A video keeps its edit slot across consecutive edits (depth first: its renders
        # start as early as possible) and gives it up before rendering, so that renders of
        # one video overlap with the edits of others.
        if action.kind in EDIT_KINDS:
            if not self._holding_edit_slot:
                if self.ctx.edit_slots.locked():
                    self.ctx.reporter.waiting(self.video, "for a free task slot (--parallelism)")
                await self.ctx.edit_slots.acquire()
                self._holding_edit_slot = True
        else:
            self._release_edit_slot()

    def _release_edit_slot(self) -> None:
        if self._holding_edit_slot:
            self._holding_edit_slot = False
            self.ctx.edit_slots.release()

    async def _perform(self, action: Action, label: str) -> str:
        if action.kind in RENDER_KINDS:
            async with self._render_slot(label):
                return await self._perform_now(action)
        self.ctx.reporter.action_started(self.video, label)
        return await self._perform_now(action)

    @contextlib.asynccontextmanager
    async def _render_slot(self, label: str) -> AsyncIterator[None]:
        ctx = self.ctx
        if ctx.render_slots.locked():
            ctx.reporter.waiting(self.video, "for a free render slot")
        async with ctx.render_slots:
            if ctx.stopping.is_set():
                raise _Stopped
            ctx.reporter.action_started(self.video, label)
            yield

    async def _perform_now(self, action: Action) -> str:
        match action.kind:
            case "create_project" | "use_template" | "replace_project":
                return await self._make_project(action)
            case "send_message":
                return await self._send_message(action)
            case "resume_task":
                return await self._resume_task(action)
            case "render":
                return await self._render(action)
            case "resume_render":
                return await self._resume_render(action)
            case "download":
                return await self._download(action)
            case "copy_cached":
                return await self._copy_cached(action)
            case "remove_output":
                return self._remove_output(action)
        raise BuildError(f"unknown action {action.kind!r} in the plan")

    # ------------------------------------------------------------------ lock helpers

    def _update(self, change: Callable[[Lock], Lock]) -> Lock:
        return self.ctx.store.update(change)

    def _lock(self) -> Lock:
        lock = self.ctx.store.lock
        if lock is None:
            raise BuildError("the lock was not opened before applying")
        return lock

    def _project_id(self) -> str:
        return self._lock().entry(self.video).projectId

    def _remember_project(self, lock: Lock) -> None:
        ctx = self.ctx
        ctx.cache.remember_project(
            ctx.identity, ctx.account_id, self.video, lock.entry(self.video), scope=ctx.scope
        )

    def _write_ahead(self, lock: Lock) -> None:
        # The cache hears first that the project may hold an unrecorded message: a crash
        # between the two writes must never leave it marked as safe to reuse.
        self._remember_project(lock)
        self.ctx.store.write(lock)

    def _now(self) -> str:
        return utc_timestamp(self.ctx.clock())

    def _note_composition(self, html: str) -> str:
        digest = self.ctx.cache.store_composition(html)
        if self.ctx.local:
            # The engine's compositions say how long they play; render estimates scale
            # with it. (The real service's HTML is opaque to us.)
            from parafraim_build.emulator.composition import parse_composition

            parsed = parse_composition(html)
            if parsed is not None:
                self.ctx.durations[digest] = parsed.duration
                self.ctx.cache.record_duration(digest, parsed.duration)
        return digest

    def _path(self, action: Action) -> tuple[str, Path]:
        if action.path is None:
            raise BuildError(f"the plan's {action.kind} action has no output path")
        return action.path, resolve_output(self.ctx.spec.root, action.path)

    # ---------------------------------------------------------------------- projects

    async def _make_project(self, action: Action) -> str:
        ctx = self.ctx
        if action.reuse is not None:
            reuse = action.reuse
            lock = self._update(
                lambda lock: lock.record_project(
                    self.video,
                    project_id=reuse.project_id,
                    source=reuse.source,
                    name=reuse.name,
                    description=reuse.description,
                    initial_composition_sha256=reuse.initial_composition_sha256,
                    steps=reuse.steps,
                )
            )
            self._remember_project(lock)
            self.result.project_id = reuse.project_id
            return f"project {reuse.project_id}, {len(reuse.steps)} steps already applied"
        recipe = action.recipe
        if recipe is None:
            raise BuildError(f"the plan's {action.kind} action has no project recipe")
        source = recipe.source
        if isinstance(source, TemplateSource):
            created = await ctx.client.use_template(
                source.templateId,
                UseTemplateRequest(name=recipe.name, description=recipe.description),
            )
        else:
            created = await ctx.client.create_project(
                CreateProjectRequest(
                    name=recipe.name,
                    description=recipe.description,
                    aspectRatio=source.aspectRatio,
                )
            )
        digest = self._note_composition(created.compositionHtml)
        lock = self._update(
            lambda lock: lock.record_project(
                self.video,
                project_id=created.id,
                source=source,
                name=recipe.name,
                description=recipe.description,
                initial_composition_sha256=digest,
            )
        )
        self._remember_project(lock)
        self.result.project_id = created.id
        return f"project {created.id}"

    # ---------------------------------------------------------------------- messages

    async def _send_message(self, action: Action) -> str:
        ctx = self.ctx
        if action.message is None or action.step is None or action.chain_key is None:
            raise BuildError("the plan's send_message action is incomplete")
        step_no, key = action.step, action.chain_key
        ctx.budget.reserve(action.credits, _label(action, self.plan.steps_total))
        intent = PendingTask(step=step_no, key=key, startedAt=self._now())
        project_id = self._project_id()
        self._write_ahead(self._lock().add_pending(self.video, intent))
        request = SendMessageRequest.model_validate(action.message.request_body())
        try:
            accepted = await ctx.client.send_message(project_id, request)
        except OutcomeUnknownError as error:
            # The intent stays: the next plan moves this video to a new project rather
            # than risk sending the same message twice to this one.
            raise OutcomeUnknownError(
                f"{error.message}; the next plan rebuilds this video in a new project",
                code=error.code,
                hint=error.hint,
            ) from error
        except ApiError:
            ctx.budget.release(action.credits)
            lock = self._update(lambda lock: lock.drop_pending(self.video, intent))
            self._remember_project(lock)
            raise
        ctx.started_tasks.append(accepted.taskId)
        self._update(lambda lock: lock.add_pending(self.video, intent.with_id(accepted.taskId)))
        return await self._finish_task(step_no, key, accepted.taskId, project_id)

    async def _resume_task(self, action: Action) -> str:
        if action.task_id is None or action.step is None or action.chain_key is None:
            raise BuildError("the plan's resume_task action is incomplete")
        return await self._finish_task(
            action.step, action.chain_key, action.task_id, self._project_id()
        )

    async def _finish_task(self, step_no: int, key: str, task_id: str, project_id: str) -> str:
        ctx = self.ctx
        task = await ctx.client.wait_for_task(
            project_id, task_id, on_event=self._on_task_event, timeout=ctx.task_timeout
        )
        html = task.project.compositionHtml if task.project is not None else None
        if task.status == "completed" and html is not None:
            digest = self._note_composition(html)
            record = StepRecord(key=key, compositionSha256=digest, taskId=task_id)
            lock = self._update(lambda lock: lock.record_step(self.video, record))
            self._remember_project(lock)
            return f"composition {digest[:12]}"
        before = self._lock().entry(self.video).composition_sha256
        if html is None or composition_hash(html) == before:
            # Nothing changed in the project: the step can simply be sent again next time.
            lock = self._update(
                lambda lock: lock.drop_pending(
                    self.video,
                    PendingTask(step=step_no, key=key, taskId=task_id, startedAt=self._now()),
                )
            )
            self._remember_project(lock)
        else:
            # The failed task changed the project anyway: its history is no longer what the
            # lock says. An intent without an id makes the next plan use a new project.
            unknown = PendingTask(step=step_no, key=key, taskId=None, startedAt=self._now())
            self._write_ahead(self._lock().add_pending(self.video, unknown))
        detail = task.error.message if task.error is not None and task.error.message else ""
        raise TaskFailedError(
            f"the service ended the task {task.status}" + (f": {detail}" if detail else ""),
            hint="change the step's wording, or run apply again to retry it",
        )

    def _on_task_event(self, event: TaskEvent) -> None:
        if (delta := event.text_delta) is not None:
            self.ctx.reporter.task_text(self.video, delta)
        elif (html := event.html) is not None:
            self.ctx.reporter.preview_updated(self.video, html)

    # ----------------------------------------------------------------------- renders

    def _record_output(
        self,
        name: str,
        key: str,
        job_id: str | None,
        relpath: str,
        sha256: str,
        size: int,
        config: RenderConfig,
    ) -> None:
        record = RenderRecord(
            key=key, jobId=job_id, path=relpath, sha256=sha256, size=size, config=config
        )
        self._update(lambda lock: lock.record_render(self.video, name, record))
        self.result.outputs.append(relpath)

    async def _render(self, action: Action) -> str:
        ctx = self.ctx
        name, config = action.render, action.config
        if name is None or config is None:
            raise BuildError("the plan's render action is incomplete")
        relpath, dest = self._path(action)
        entry = self._lock().entry(self.video)
        key = action.render_key or render_key(entry.composition_sha256, config)
        # The composition may only now be known (its steps ran in this apply): an identical
        # (composition, config) made before is copied, not paid for again.
        restored = await asyncio.to_thread(ctx.cache.restore_output, key, dest)
        if restored is not None:
            self._record_output(
                name, key, restored.job_id, relpath, restored.sha256, restored.size, config
            )
            return f"copied from the run cache, {_megabytes(restored.size)}"
        # Priced again now that the composition exists: the plan may have had to assume its
        # length, and --max-credits must hold against what the render really costs.
        duration = ctx.durations.get(entry.composition_sha256)
        if duration is not None:
            credits = ctx.costs.render(config, duration)
        else:
            credits = action.credits or ctx.costs.render(config, None)
        ctx.budget.reserve(credits, f"render {name}")
        intent = PendingRender(render=name, key=key, config=config, startedAt=self._now())
        project_id = entry.projectId
        self._update(lambda lock: lock.add_pending(self.video, intent))
        try:
            started = await ctx.client.start_render(project_id, config)
        except OutcomeUnknownError:
            raise  # the intent stays: the next run looks the job up instead of rendering
        except ApiError:
            ctx.budget.release(credits)
            self._update(lambda lock: lock.drop_pending(self.video, intent))
            raise
        ctx.started_jobs[started.jobId] = config
        self._update(lambda lock: lock.add_pending(self.video, intent.with_id(started.jobId)))
        return await self._finish_render(name, key, started.jobId, config, relpath, dest)

    async def _finish_render(
        self, name: str, key: str, job_id: str, config: RenderConfig, relpath: str, dest: Path
    ) -> str:
        ctx = self.ctx

        def progress(job: RenderJob) -> None:
            ctx.reporter.render_progress(self.video, name, job.status, job.progress)

        job = await ctx.client.wait_for_render(
            job_id, on_progress=progress, timeout=ctx.render_timeout
        )
        if job.status != "complete":
            self._update(
                lambda lock: lock.drop_pending(
                    self.video,
                    PendingRender(
                        render=name, key=key, jobId=job_id, config=config, startedAt=self._now()
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
        self._record_output(name, key, job_id, relpath, downloaded.sha256, downloaded.size, config)
        await asyncio.to_thread(
            ctx.cache.store_output,
            key,
            dest,
            sha256=downloaded.sha256,
            size=downloaded.size,
            format=config.format,
            job_id=job_id,
        )
        return f"{relpath}, {_megabytes(downloaded.size)}"

    async def _resume_render(self, action: Action) -> str:
        name, config = action.render, action.config
        if name is None or config is None:
            raise BuildError("the plan's resume_render action is incomplete")
        relpath, dest = self._path(action)
        entry = self._lock().entry(self.video)
        key = action.render_key or render_key(entry.composition_sha256, config)
        pending = entry.pending_render(name)
        since = pending.startedAt if pending is not None else None
        job_id = action.job_id or await self._recover_job(action.task_id, since)
        if job_id is None:
            # The request never reached the service, or cannot be found: render it now.
            if pending is not None:
                self._update(lambda lock: lock.drop_pending(self.video, pending))
            return await self._render(dataclasses.replace(action, kind="render", render_key=key))
        if action.job_id is None:
            recovered = PendingRender(
                render=name, key=key, jobId=job_id, config=config, startedAt=self._now()
            )
            self._update(lambda lock: lock.add_pending(self.video, recovered))
        return await self._finish_render(name, key, job_id, config, relpath, dest)

    async def _recover_job(self, task_id: str | None, since: str | None) -> str | None:
        """The job an interrupted run started but did not record, if the service shows it.

        ``GET /tasks/{id}`` of the project's last task names its newest render job; renders
        of a video run one at a time, so a job that no record knows is the lost one. A project
        without a task (a template used as it is) has no such answer: then the account's
        recent transactions are searched for a render charge of this project, made no earlier
        than the intent (``since``), that no record knows. Anything ambiguous is None, and the
        render is made again rather than the wrong file recorded.
        """
        entry = self._lock().entry(self.video)
        known = {record.jobId for record in entry.renders.values()} | set(self.ctx.started_jobs)
        floor = _parse_time(since)
        if task_id is not None:
            job = (await self.ctx.client.get_task(task_id)).renderJob
            if job is None or not job.id or job.id in known:
                return None
            # A job of a render since removed from the spec is unknown too: its charge, when
            # still among the recent ones, tells it apart by its time.
            if floor is not None:
                charged = await self._render_charges(entry.projectId)
                made = charged.get(job.id)
                if made is not None and made < floor - CLOCK_SKEW:
                    return None
            return job.id
        if floor is None:
            return None
        charged = await self._render_charges(entry.projectId)
        found = {
            job_id
            for job_id, made in charged.items()
            if job_id not in known and made >= floor - CLOCK_SKEW
        }
        return found.pop() if len(found) == 1 else None

    async def _render_charges(self, project_id: str) -> dict[str, datetime]:
        """When each render job of the project among the account's recent transactions was
        charged (``GET /credits``; refunds left out)."""
        credits = await self.ctx.client.credits()
        return {
            tx.jobId: made
            for tx in credits.recent
            if tx.jobId
            and tx.projectId == project_id
            and (tx.type or "").lower() != "refund"
            and (made := _parse_time(tx.createdAt)) is not None
        }

    async def _download(self, action: Action) -> str:
        ctx = self.ctx
        name = action.render
        if name is None or action.job_id is None or action.render_key is None:
            raise BuildError("the plan's download action is incomplete")
        relpath, dest = self._path(action)
        config = action.config or RenderConfig()
        try:
            job = await ctx.client.get_render_job(action.job_id)
            if job.status == "complete" and job.videoUrl:
                got = await ctx.client.download(job.videoUrl, dest, job_id=action.job_id)
                self._record_output(
                    name, action.render_key, action.job_id, relpath, got.sha256, got.size, config
                )
                await asyncio.to_thread(
                    ctx.cache.store_output,
                    action.render_key,
                    dest,
                    sha256=got.sha256,
                    size=got.size,
                    format=config.format,
                    job_id=action.job_id,
                )
                return f"{relpath}, {_megabytes(got.size)}"
            why = f"its job is {job.status}"
        except (NotFoundError, DownloadError) as error:
            why = error.message
        ctx.reporter.waiting(self.video, f"cannot download {name} ({why}); rendering it again")
        return await self._render(dataclasses.replace(action, kind="render", credits=0.0))

    async def _copy_cached(self, action: Action) -> str:
        name, key = action.render, action.render_key
        if name is None or key is None:
            raise BuildError("the plan's copy_cached action is incomplete")
        relpath, dest = self._path(action)
        config = action.config or RenderConfig()
        restored = await asyncio.to_thread(self.ctx.cache.restore_output, key, dest)
        if restored is None:
            self.ctx.reporter.waiting(
                self.video, f"the run cache lost {name}; rendering it instead"
            )
            return await self._render(dataclasses.replace(action, kind="render", credits=0.0))
        self._record_output(
            name, key, restored.job_id, relpath, restored.sha256, restored.size, config
        )
        return f"{relpath}, {_megabytes(restored.size)}"

    def _remove_output(self, action: Action) -> str:
        if action.path is None:
            raise BuildError("the plan's remove_output action has no path")
        removed = remove_output(self.ctx.spec.root, action.path)
        if action.forget and action.render is not None:
            lock = self._lock()
            if self.video in lock.videos and action.render in lock.videos[self.video].renders:
                self._update(lambda lock: lock.remove_render(self.video, action.render or ""))
        return "removed" if removed else "already gone"
