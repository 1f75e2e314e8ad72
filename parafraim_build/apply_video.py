"""Carrying out one video's actions, strictly in order, recording every outcome in the lock.

The rule that keeps a crash from paying twice: before a message or a render is requested, an
intent is written to the lock (``pending`` with no id); the id the service answers is written
right after; only then does the runner wait. Whatever moment the process dies at, the next plan
sees either nothing (the request was never made), an intent without an id (the request may
have been made: the planner never re-sends it to the same project), or an id to resume.

This module runs the pipeline and the edits (projects and messages); ``apply_renders`` does
the render side. A video's failure stops its own pipeline only: ``VideoRunner.run`` returns a
result and never raises a ``BuildError``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from parafraim_build.api.models import (
    CreateProjectRequest,
    SendMessageRequest,
    TaskEvent,
    UseTemplateRequest,
)
from parafraim_build.apply_context import ActionOutcome, RunContext, VideoBook, VideoResult
from parafraim_build.apply_renders import RenderActions
from parafraim_build.digest import composition_hash
from parafraim_build.errors import ApiError, BuildError, OutcomeUnknownError, TaskFailedError
from parafraim_build.lock_model import Lock, PendingTask, StepRecord, TemplateSource
from parafraim_build.plan_model import PROJECT_KINDS, Action, VideoPlan

EDIT_KINDS = frozenset({*PROJECT_KINDS, "send_message", "resume_task"})
"""Actions that occupy one of the account's concurrent task slots (``--parallelism``)."""
RENDER_KINDS = frozenset({"render", "resume_render", "download"})
"""Actions that occupy one of the render slots (renders and downloads in flight at once)."""


class _Stopped(Exception):
    """^C came while the video waited for a slot: the action is not started."""


def action_label(action: Action, steps_total: int) -> str:
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
            return f"remove {action.path}" if action.path else "remove lock entry"
    return str(action.kind)


class VideoRunner:
    """Runs one ``VideoPlan``."""

    def __init__(self, ctx: RunContext, plan: VideoPlan) -> None:
        self.ctx = ctx
        self.plan = plan
        self.video = plan.video
        self.result = VideoResult(video=plan.video, project_id=plan.project_id)
        self.book = VideoBook(ctx, plan.video, self.result)
        self.renders = RenderActions(self.book)
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
                self.book.update(self._drop_stale)
            for action in plan.actions:
                if ctx.stopping.is_set():
                    self.result.status = "interrupted"
                    break
                label = action_label(action, plan.steps_total)
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
                    self.book.update(lambda lock: lock.drop_video(self.video))
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
            case "render" | "resume_render" | "download" | "copy_cached" | "remove_output":
                return await self.renders.perform(action)
        raise BuildError(f"unknown action {action.kind!r} in the plan")

    # ---------------------------------------------------------------------- projects

    async def _make_project(self, action: Action) -> str:
        ctx = self.ctx
        if action.reuse is not None:
            reuse = action.reuse
            lock = self.book.update(
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
            self.book.remember_project(lock)
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
        digest = self.book.note_composition(created.compositionHtml)
        lock = self.book.update(
            lambda lock: lock.record_project(
                self.video,
                project_id=created.id,
                source=source,
                name=recipe.name,
                description=recipe.description,
                initial_composition_sha256=digest,
            )
        )
        self.book.remember_project(lock)
        self.result.project_id = created.id
        return f"project {created.id}"

    # ---------------------------------------------------------------------- messages

    async def _send_message(self, action: Action) -> str:
        ctx = self.ctx
        if action.message is None or action.step is None or action.chain_key is None:
            raise BuildError("the plan's send_message action is incomplete")
        step_no, key = action.step, action.chain_key
        ctx.budget.reserve(action.credits, action_label(action, self.plan.steps_total))
        intent = PendingTask(step=step_no, key=key, startedAt=self.book.now())
        project_id = self.book.project_id()
        self.book.write_ahead(self.book.lock().add_pending(self.video, intent))
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
            lock = self.book.update(lambda lock: lock.drop_pending(self.video, intent))
            self.book.remember_project(lock)
            raise
        ctx.started_tasks.append(accepted.taskId)
        self.book.update(lambda lock: lock.add_pending(self.video, intent.with_id(accepted.taskId)))
        return await self._finish_task(step_no, key, accepted.taskId, project_id)

    async def _resume_task(self, action: Action) -> str:
        if action.task_id is None or action.step is None or action.chain_key is None:
            raise BuildError("the plan's resume_task action is incomplete")
        return await self._finish_task(
            action.step, action.chain_key, action.task_id, self.book.project_id()
        )

    async def _finish_task(self, step_no: int, key: str, task_id: str, project_id: str) -> str:
        ctx = self.ctx
        task = await ctx.client.wait_for_task(
            project_id, task_id, on_event=self._on_task_event, timeout=ctx.task_timeout
        )
        html = task.project.compositionHtml if task.project is not None else None
        if task.status == "completed" and html is not None:
            digest = self.book.note_composition(html)
            record = StepRecord(key=key, compositionSha256=digest, taskId=task_id)
            lock = self.book.update(lambda lock: lock.record_step(self.video, record))
            self.book.remember_project(lock)
            return f"composition {digest[:12]}"
        before = self.book.lock().entry(self.video).composition_sha256
        if html is None or composition_hash(html) == before:
            # Nothing changed in the project: the step can simply be sent again next time.
            lock = self.book.update(
                lambda lock: lock.drop_pending(
                    self.video,
                    PendingTask(step=step_no, key=key, taskId=task_id, startedAt=self.book.now()),
                )
            )
            self.book.remember_project(lock)
        else:
            # The failed task changed the project anyway: its history is no longer what the
            # lock says. An intent without an id makes the next plan use a new project.
            unknown = PendingTask(step=step_no, key=key, taskId=None, startedAt=self.book.now())
            self.book.write_ahead(self.book.lock().add_pending(self.video, unknown))
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
