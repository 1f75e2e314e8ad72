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
from parafraim_build.apply_context import (
    CLOCK_SKEW,
    ActionOutcome,
    RunContext,
    VideoBook,
    VideoResult,
    parse_time,
    project_charges,
)
from parafraim_build.apply_renders import RenderActions
from parafraim_build.digest import composition_hash
from parafraim_build.errors import ApiError, BuildError, OutcomeUnknownError, TaskFailedError
from parafraim_build.lock_model import Lock, PendingTask, StepRecord, TemplateSource
from parafraim_build.plan_model import PROJECT_KINDS, Action, VideoPlan

EDIT_KINDS = frozenset({*PROJECT_KINDS, "send_message", "resume_task"})
"""Actions that occupy one of the account's concurrent task slots (``--parallelism``)."""
RENDER_KINDS = frozenset({"render", "resume_render", "download"})
"""Actions that occupy one of the render slots (renders and downloads in flight at once)."""


MAX_REPLANS = 3
"""How many times one video may move to another project within one apply because a message's
outcome could not be learnt (a flaky network could otherwise keep it moving)."""


class _Stopped(Exception):
    """^C came while the video waited for a slot: the action is not started."""


class _MustMove(Exception):
    """The video must move to another project (``RunContext.replan``) before it goes on.

    ``lost``: a message's outcome cannot be learnt (the lock holds its intent without a task
    id). Otherwise the project the plan meant to reuse is held by another video of the run.
    """

    def __init__(self, why: str, *, lost: bool) -> None:
        super().__init__(why)
        self.why = why
        self.lost = lost


class _FateUnknown(_MustMove):
    """A message's outcome cannot be learnt: the video moves to another project."""

    def __init__(self, why: str) -> None:
        super().__init__(why, lost=True)


def action_label(action: Action, steps_total: int) -> str:
    match action.kind:
        case "create_project":
            return "create project"
        case "use_template":
            return "use template"
        case "replace_project":
            if action.reuse is None:
                return "replace project"
            return "take back project" if action.reuse.own else "reuse cached project"
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
            if action.source_path is not None:
                return f"move {action.render}"
            return f"copy {action.render} from cache"
        case "remove_output":
            if action.path:
                return f"remove {action.path}"
            return f"forget {action.render}" if action.render else "remove lock entry"
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
        self._label = ""

    # ------------------------------------------------------------------ the pipeline

    async def run(self) -> VideoResult:
        """Every action in order; on the first failure, stop this video and say why.

        A message whose outcome cannot be learnt (its answer was lost and its task is not
        among the account's recent charges, or it completed without a snapshot) moves the
        video to another project within this apply: the video is planned again from the
        lock as it is now, and that plan runs instead of the rest of this one.
        """
        ctx = self.ctx
        ctx.reporter.video_started(
            self.video, steps_total=self.plan.steps_total, actions_total=len(self.plan.actions)
        )
        self._label = ""
        try:
            replans = 0
            while True:
                try:
                    await self._run_plan(self.plan)
                    break
                except _MustMove as move:
                    if ctx.replan is None or replans >= MAX_REPLANS:
                        raise OutcomeUnknownError(
                            f"{move.why}; the video was moved to another project {replans} "
                            f"time{'' if replans == 1 else 's'} in this apply and stops here",
                            hint="run apply again: it looks a lost message up again first, "
                            "and moves the video to another project only if it is still not "
                            "found",
                        ) from None
                    replans += 1
                    self.book.leave_project()
                    self.plan = ctx.replan(self.video, claimed=ctx.claims.ids(), lost=move.lost)
                    ctx.claims.claim_plan(self.plan)
                    count = len(self.plan.actions)
                    ctx.reporter.waiting(
                        self.video,
                        f"{move.why}: moving to another project "
                        f"({count} action{'' if count == 1 else 's'} now)",
                    )
        except BuildError as error:
            label = self._label
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

    async def _run_plan(self, plan: VideoPlan) -> None:
        ctx = self.ctx
        if plan.stale_pending:
            self.book.update(self._drop_stale)
        for action in plan.actions:
            if ctx.stopping.is_set():
                self.result.status = "interrupted"
                return
            self._label = label = action_label(action, plan.steps_total)
            await self._take_slot(action)
            if ctx.stopping.is_set():  # ^C came while this video waited for a slot
                self.result.status = "interrupted"
                return
            outcome = await self._perform(action, label)
            self.result.done.append(ActionOutcome(action.kind, action.step, action.render, outcome))
            ctx.reporter.action_finished(self.video, label, outcome)
        if plan.drop_video and ctx.store.lock and self.video in ctx.store.lock.videos:
            self.book.leave_project()
            self.book.update(lambda lock: lock.drop_video(self.video))

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
        if ctx.store.lock is not None and self.video in ctx.store.lock.videos:
            self.book.leave_project()
        if action.reuse is not None:
            reuse = action.reuse
            holder = self._holder(reuse.project_id)
            if holder is not None:
                # Planned again mid-run, a video must never land in a project another video
                # has or is about to take: both would send to it.
                raise _MustMove(
                    f"project {reuse.project_id}, which the plan reused, is video {holder}'s",
                    lost=False,
                )
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
            count = len(reuse.steps)
            applied = f"{count} step{'' if count == 1 else 's'} already applied"
            return f"project {reuse.project_id}, {applied}"
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
        ctx.claims.claim(created.id, self.video)
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

    def _holder(self, project_id: str) -> str | None:
        """Another video of this run that holds ``project_id`` (in the lock, or promised to
        it by the plan), or None when this video may take it."""
        lock = self.book.lock()
        for video, entry in lock.videos.items():
            if video != self.video and entry.projectId == project_id:
                return video
        if not self.ctx.claims.claim(project_id, self.video):
            return self.ctx.claims.holder(project_id)
        return None

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
            # The intent stays, without an id. The message may have reached the service: its
            # charge tells, and then the task is waited for like any other.
            task_id = await self._look_up_lost_task(step_no, intent, project_id, error.message)
            ctx.started_tasks.append(task_id)
            return await self._finish_task(step_no, key, task_id, project_id)
        except ApiError:
            ctx.budget.release(action.credits)
            lock = self.book.update(lambda lock: lock.drop_pending(self.video, intent))
            self.book.remember_project(lock)
            raise
        ctx.started_tasks.append(accepted.taskId)
        self.book.update(lambda lock: lock.add_pending(self.video, intent.with_id(accepted.taskId)))
        return await self._finish_task(step_no, key, accepted.taskId, project_id)

    async def _resume_task(self, action: Action) -> str:
        if action.step is None or action.chain_key is None:
            raise BuildError("the plan's resume_task action is incomplete")
        project_id = self.book.project_id()
        task_id = action.task_id
        if task_id is None:
            intent = self.book.entry().pending_task
            if intent is None or intent.taskId is not None:
                raise BuildError("the plan's resume_task action has no task to look up")
            task_id = await self._look_up_lost_task(
                action.step, intent, project_id, "the last run lost the answer"
            )
        return await self._finish_task(action.step, action.chain_key, task_id, project_id)

    async def _look_up_lost_task(
        self, step_no: int, intent: PendingTask, project_id: str, why: str
    ) -> str:
        """The task of a message whose answer was lost, recorded in the intent; or
        ``_FateUnknown`` when the account's recent charges do not name exactly one."""
        self.ctx.reporter.waiting(
            self.video, f"the answer to step {step_no} was lost ({why}); looking its task up"
        )
        task_id = await self.find_lost_task(project_id, intent.startedAt)
        if task_id is None:
            raise _FateUnknown(
                f"the answer to step {step_no} was lost and its task is not among the "
                "account's recent charges: the message may or may not have reached "
                f"project {project_id}"
            )
        self.book.update(lambda lock: lock.add_pending(self.video, intent.with_id(task_id)))
        return task_id

    async def find_lost_task(self, project_id: str, since: str | None) -> str | None:
        """The task a message sent to ``project_id`` since ``since`` started, if the account's
        recent transactions (``GET /credits``) show exactly one charge for it that no record
        knows and that was not refunded; None when there is none (the request never arrived,
        messages are free, or its charge aged out) or several (never guess: a wrong task would
        record the wrong step).

        A project runs one task at a time and this run sends one message at a time to it, so
        an unknown charge of the project made no earlier than the intent is the lost one.
        """
        floor = parse_time(since)
        if floor is None:
            return None
        entry = self.book.entry()
        known = {step.taskId for step in entry.steps} | set(self.ctx.started_tasks)
        charges = project_charges(await self.ctx.client.credits(), project_id)
        # A refunded task failed: it may have changed the project anyway (see _finish_task),
        # so it is never taken for the lost one; the video moves to another project instead.
        found = {
            task_id
            for task_id, made in charges.messages.items()
            if task_id not in known | charges.refunded_tasks and made >= floor - CLOCK_SKEW
        }
        return found.pop() if len(found) == 1 else None

    async def _finish_task(self, step_no: int, key: str, task_id: str, project_id: str) -> str:
        ctx = self.ctx
        task = await ctx.client.wait_for_task(
            project_id, task_id, on_event=self._on_task_event, timeout=ctx.task_timeout
        )
        if task.status == "completed" and task.project is None:
            # The snapshot is the only source of the composition: ask once more.
            task = await ctx.client.get_task(task_id)
        html = task.project.compositionHtml if task.project is not None else None
        if task.status == "completed":
            if html is None:
                # The step was applied, but what the project now holds is unknown: the lock
                # must not pretend it is unchanged (that would send the step again to the
                # same project). The intent stays, without an id: the video moves on.
                unknown = PendingTask(step=step_no, key=key, startedAt=self.book.now())
                self.book.write_ahead(self.book.lock().add_pending(self.video, unknown))
                raise _FateUnknown(
                    f"task {task_id} completed but the service sent no snapshot of project "
                    f"{project_id}: what it holds now is unknown"
                )
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
