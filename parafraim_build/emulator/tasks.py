"""Message tasks: acceptance, the scripted edit played out as SSE events, and the streams.

A task is planned when it is accepted: the scripted editor runs once, and its outcome becomes
the list of events the task will emit (``text`` deltas and ``html_update`` previews). A
runner in the server's event loop then publishes them one by one over ``task_seconds`` and
ends with ``result`` (the task object) or ``task_error``. Because the plan is saved with the
task, a task that was running when the engine stopped is finished after a restart with the
same events and ids. How many events had been published is not saved (that would be a write
per event), so on resume every planned event is published at once and the task ends one pause
later: ``lastEventId`` never goes backwards, and a client resuming with ``from=`` gets what it
has not seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

from parafraim_build.api.models import (
    EVENT_HTML_UPDATE,
    EVENT_RESULT,
    EVENT_TASK_ERROR,
    EVENT_TEXT,
    TERMINAL_EVENTS,
    SendMessageRequest,
)
from parafraim_build.emulator.composition import has_preview
from parafraim_build.emulator.core import Core
from parafraim_build.emulator.pricing import message_cost
from parafraim_build.emulator.runners import Runners
from parafraim_build.emulator.state import Task, Transaction, new_token, new_uuid
from parafraim_build.emulator.validation import parse_body
from parafraim_build.errors import (
    ConcurrencyLimitError,
    InsufficientCreditsError,
    NotFoundError,
    TaskRunningError,
)

logger = logging.getLogger(__name__)

TASK_FAILED = "TASK_FAILED"
KEEPALIVE = b": keep-alive\n\n"


class EditResult(Protocol):
    """What an editor returns (``editor.EditOutcome``)."""

    @property
    def html(self) -> str:
        """The composition after the edit."""
        ...

    @property
    def html_updates(self) -> tuple[str, ...]:
        """Previews to publish, in order; the last is ``html``."""
        ...

    @property
    def text_chunks(self) -> tuple[str, ...]:
        """The assistant's reply, in the deltas it is streamed as."""
        ...


class Editor(Protocol):
    """Turns a message into a new composition (``editor.ScriptedEditor``)."""

    def edit(
        self,
        html: str,
        message: str,
        *,
        selected: Sequence[Mapping[str, Any]] = (),
        aspect_ratio: str = "16:9",
        project_name: str = "",
    ) -> EditResult:
        """The outcome of ``message`` on composition ``html`` (blocking; run on a thread)."""
        ...


def plan_events(outcome: EditResult, *, fails: bool) -> list[dict[str, Any]]:
    """The non-terminal events of a task, in order: text deltas with the previews among them.

    Previews are spread evenly through the text, the last one (the final HTML) after the last
    delta. A task that will fail stops after its first preview and half of its text, like a
    sandbox that crashed half-way.
    """
    texts = [chunk for chunk in outcome.text_chunks if chunk] or [""]
    previews = list(outcome.html_updates) or [outcome.html]
    if fails:
        texts = texts[: max(1, len(texts) // 2)]
        previews = previews[:1]
    events: list[dict[str, Any]] = []
    placed = 0
    for index, text in enumerate(texts, start=1):
        events.append({"event": EVENT_TEXT, "data": {"delta": text}})
        # After delta ``index``, the previews due by then (proportionally) are published.
        due = (index * len(previews)) // len(texts)
        for preview in previews[placed:due]:
            events.append({"event": EVENT_HTML_UPDATE, "data": {"html": preview}})
        placed = max(placed, due)
    return events


def format_event(event_id: int, event: Mapping[str, Any]) -> bytes:
    """One SSE frame: ``id``, ``event`` and a single-line JSON ``data``."""
    data = json.dumps(event["data"], ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: {event['event']}\ndata: {data}\n\n".encode()


class TaskService:
    """Accepts messages, runs tasks and serves their event streams."""

    def __init__(self, core: Core, editor: Editor) -> None:
        self.core = core
        self.editor = editor
        self._runners = Runners()
        self._waiters: dict[str, asyncio.Event] = {}
        self.open_streams = 0
        self.peak_streams = 0
        self.streams_served = 0

    # --------------------------------------------------------------- accepting

    async def accept(self, project_id: str, body: Any) -> dict[str, Any]:
        """``POST /projects/{id}/messages``: check, charge, plan and start a task."""
        state = self.core.state
        project = state.projects.get(project_id)
        if project is None:
            raise NotFoundError(f"project {project_id} not found")
        request = parse_body(SendMessageRequest, body)
        running = state.running_task(project.id)
        if running is not None:
            raise TaskRunningError(
                f"project {project.id} already has a running task ({running.id}); "
                "wait for it to finish before sending another message"
            )
        if state.running_task_count >= self.core.config.concurrency:
            raise ConcurrencyLimitError(
                f"the account already runs {state.running_task_count} tasks, its limit; "
                "retry when one has finished"
            )
        cost = message_cost(request)
        balance = self.core.balance()
        if balance < cost:
            raise InsufficientCreditsError(
                f"a message costs {cost} credits but the balance is {balance}"
            )

        now = self.core.now_iso()
        seq = state.next_seq()
        task_id = new_token("task")
        charge = Transaction(
            id=new_token("txn"),
            seq=state.next_seq(),
            type="charge",
            amount=cost,
            description=f"message to project {project.name!r}",
            created_at=now,
            project_id=project.id,
            task_id=task_id,
        )
        task = Task(
            id=task_id,
            seq=seq,
            project_id=project.id,
            request_body=body,
            workspace_id="ws_" + project.id.replace("-", ""),
            trace_id=new_token("trace"),
            status="running",
            events=[],
            final_html=project.composition_html,
            assistant_text="",
            assistant_message_id=new_uuid(),
            will_fail=self.core.faults.task_fails(seq),
            charge=charge,
            created_at=now,
            updated_at=now,
        )
        # Reserve first (the project's running task, the charge), then plan: no await may
        # come between the checks above and this line, or two requests could both pass them.
        state.add_task(task)
        try:
            selected: list[Mapping[str, Any]] = []
            if request.selectedElement is not None:
                selected.append(request.selectedElement)
            selected.extend(request.selectedElements or ())
            outcome = await asyncio.to_thread(
                self.editor.edit,
                project.composition_html,
                request.message,
                selected=selected,
                aspect_ratio=project.aspect_ratio,
                project_name=project.name,
            )
            task.events = plan_events(outcome, fails=task.will_fail)
            task.final_html = outcome.html
            task.assistant_text = "".join(outcome.text_chunks)
            await self.core.persist("tasks", task.id, task)
        except BaseException:
            state.remove_task(task)
            raise
        self.start(task)
        return {"taskId": task.id, "workspaceId": task.workspace_id, "traceId": task.trace_id}

    # ----------------------------------------------------------------- running

    def start(self, task: Task) -> None:
        """Run ``task`` from its next unpublished event."""
        self._runners.start(task.id, self._run(task), name=f"task {task.id}")

    def resume(self) -> None:
        """Finish every task left running by a previous engine on this state.

        A client may have seen any of the planned events before the stop, so all of them are
        published at once: ids must never go backwards (see the module docstring).
        """
        for task in list(self.core.state.tasks.values()):
            if task.running and task.id not in self._runners:
                task.emitted = len(task.events)
                self.start(task)

    async def _run(self, task: Task) -> None:
        pause = self.core.config.task_seconds / (len(task.events) + 1)
        try:
            for index in range(task.emitted, len(task.events)):
                await asyncio.sleep(pause)
                task.emitted = index + 1
                self._notify(task.id)
            await asyncio.sleep(pause)
            await self._finish(task)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug must not leave the project blocked by a task that never ends.
            logger.exception("task %s failed inside the engine", task.id)
            if task.running:
                task.will_fail = True
                await self._finish(task, reason="the engine failed while running the task")

    async def _finish(self, task: Task, reason: str | None = None) -> None:
        state = self.core.state
        project = state.projects[task.project_id]
        now = self.core.now_iso()
        if task.will_fail:
            task.status = "error"
            task.error = {
                "code": TASK_FAILED,
                "message": reason
                or "the sandbox failed while editing (injected by --task-error-rate)",
            }
            task.refund = state.refund(
                task.charge, f"refund: failed message to project {project.name!r}", now
            )
            task.events.append({"event": EVENT_TASK_ERROR, "data": dict(task.error)})
        else:
            project.composition_html = task.final_html
            project.has_preview = has_preview(task.final_html)
            project.updated_at = now
            task.status = "completed"
            task.events.append({"event": EVENT_RESULT, "data": None})
        task.updated_at = now
        task.emitted = len(task.events)
        state.task_finished(task)
        if task.status == "completed":
            task.events[-1]["data"] = self.core.task_view(task)
        self._notify(task.id)
        # The project first: if the engine dies in between, the task is still "running" on
        # disk and is finished again, identically, after a restart.
        if task.status == "completed":
            await self.core.persist("projects", project.id, project)
        await self.core.persist("tasks", task.id, task)

    async def stop(self) -> None:
        """Stop the runners; unfinished tasks are finished by the next engine on this state."""
        await self._runners.cancel_all()

    # --------------------------------------------------------------- streaming

    def get(self, task_id: str) -> dict[str, Any]:
        """``GET /tasks/{id}``."""
        task = self.core.state.tasks.get(task_id)
        if task is None:
            raise NotFoundError(f"task {task_id} not found")
        return self.core.task_view(task)

    def open_stream(self, project_id: str, task_id: str, after: int) -> AsyncIterator[bytes]:
        """The SSE frames of a task after event id ``after``; raises before streaming."""
        task = self.core.state.tasks.get(task_id)
        if task is None or task.project_id != project_id:
            raise NotFoundError(f"task {task_id} of project {project_id} not found")
        return self._frames(task, after)

    async def _frames(self, task: Task, after: int) -> AsyncIterator[bytes]:
        cut_after = self.core.config.faults.cut_streams_after
        keepalive = self.core.config.keepalive_seconds
        sent = after
        count = 0
        self.open_streams += 1
        self.streams_served += 1
        self.peak_streams = max(self.peak_streams, self.open_streams)
        try:
            while True:
                while sent < task.emitted:
                    event = task.events[sent]
                    sent += 1
                    count += 1
                    yield format_event(sent, event)
                    if event["event"] in TERMINAL_EVENTS:
                        return
                    if cut_after is not None and count >= cut_after:
                        return  # the injected cut: the client must resume with from=
                if not task.running or self.core.closing:
                    return
                waiter = self._waiters.setdefault(task.id, asyncio.Event())
                try:
                    await asyncio.wait_for(waiter.wait(), keepalive)
                except asyncio.TimeoutError:
                    yield KEEPALIVE
        finally:
            self.open_streams -= 1

    def _notify(self, task_id: str) -> None:
        waiter = self._waiters.pop(task_id, None)
        if waiter is not None:
            waiter.set()

    def wake_all(self) -> None:
        """Wake every stream (on shutdown, so that open streams end)."""
        for task_id in list(self._waiters):
            self._notify(task_id)
