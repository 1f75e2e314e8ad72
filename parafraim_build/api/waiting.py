"""Waiting for a task or a render to finish, as cheaply as the network allows.

A task is followed on its SSE stream (progress and live preview only). A stream that drops or
ends before a terminal event is resumed with ``from=<last id>``; when connections keep failing
without progress we poll ``GET /tasks/{id}`` instead. Either way the answer is the task read
from ``GET /tasks/{id}`` (``api.md`` assumption 3): the stream never decides the outcome.

A render has no stream: its job is polled, starting at half a second and slowing to five, so
that a one-minute render costs fewer than twenty requests.

Both take an overall time limit, and the clock and sleep are injected so that tests do not
wait. Within that limit a read that fails transiently (after the client's own per-request
retries) is logged and tried again at the next poll: a one-minute outage must not abort an
hour-long render wait. Only a failure that is not transient (a refused key, say) ends a wait
early.

Events are delivered once: an event with its own id is skipped when that id is not newer than
the last one delivered (a replay after a resume); an event without an id of its own is always
new. A service that numbers only some events may repeat an unnumbered one after a resume,
because nothing identifies it; the outcome is still read from ``GET /tasks/{id}``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Protocol

from parafraim_build.api.models import EVENT_HTML_UPDATE, RenderJob, Task, TaskEvent
from parafraim_build.api.retry import RetryPolicy
from parafraim_build.errors import ApiError, TransientError, UnknownApiError

log = logging.getLogger("parafraim_build.api")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class TaskSource(Protocol):
    """What waiting for a task needs from the client."""

    async def get_task(self, task_id: str) -> Task: ...

    def stream_task(
        self, project_id: str, task_id: str, *, from_id: int | None = None
    ) -> AsyncGenerator[TaskEvent, None]: ...


class RenderSource(Protocol):
    """What waiting for a render needs from the client."""

    async def get_render_job(self, job_id: str) -> RenderJob: ...


@dataclass(frozen=True)
class Pacing:
    """The injected time of a wait: the policy's bounds, a sleep, a clock and jitter."""

    policy: RetryPolicy
    sleep: Sleep
    clock: Clock
    jitter: Callable[[], float]


@dataclass
class _Progress:
    """What the stream has told us so far; survives reconnects."""

    last_id: int | None
    last_html: str | None = None
    new_events: int = 0
    terminal: bool = False


async def wait_for_task(
    source: TaskSource,
    project_id: str,
    task_id: str,
    *,
    pacing: Pacing,
    on_event: Callable[[TaskEvent], None] | None = None,
    from_id: int | None = None,
    timeout: float = 1800.0,
) -> Task:
    """Follow a task to its end and return it as ``GET /tasks/{id}`` reports it.

    ``on_event`` receives every new event once (replays after a resume are skipped by their
    own id; events without one are always delivered); while polling it receives an
    ``html_update`` whenever the snapshot's HTML changes. Does not raise on
    ``error``/``cancelled``; a read that fails transiently is tried again until the time runs
    out, and then raises ``TransientError``; any other ``ApiError`` is raised at once.
    """
    policy = pacing.policy
    deadline = pacing.clock() + timeout
    progress = _Progress(last_id=from_id)
    failures = 0
    while failures < policy.stream_max_failures:
        remaining = deadline - pacing.clock()
        if remaining <= 0:
            raise _task_timeout(task_id, timeout)
        progress.new_events = 0
        try:
            await asyncio.wait_for(
                _follow_stream(source, project_id, task_id, progress, on_event), remaining
            )
        except asyncio.TimeoutError:
            raise _task_timeout(task_id, timeout) from None
        except UnknownApiError as exc:
            # The stream answered something that is not SSE: the service differs from what we
            # assume, so stop trying to stream and poll (api.md: degrade gracefully).
            log.info("task %s: the stream is not usable (%s); polling instead", task_id, exc)
            break
        except TransientError as exc:
            log.info("task %s: the stream failed (%s)", task_id, exc)
        if progress.terminal:
            task = await _read_task(source, task_id)
            if isinstance(task, Task) and task.is_terminal:
                return task
            # The stream said it is over but the record lags behind (or could not be read):
            # poll until it agrees.
            break
        if progress.new_events:
            failures = 0
            log.info("task %s: the stream ended early; resuming from %s", task_id, progress.last_id)
            continue
        failures += 1
        if failures >= policy.stream_max_failures:
            break
        # A connection that brought nothing may mean the task is already over.
        task = await _read_task(source, task_id)
        if isinstance(task, Task) and task.is_terminal:
            return task
        delay = policy.backoff(failures, pacing.jitter())
        if pacing.clock() + delay > deadline:
            raise _task_timeout(task_id, timeout)
        await pacing.sleep(delay)
    log.info("task %s: following it by polling", task_id)
    return await _poll_task(source, task_id, progress, pacing, on_event, deadline, timeout)


async def _follow_stream(
    source: TaskSource,
    project_id: str,
    task_id: str,
    progress: _Progress,
    on_event: Callable[[TaskEvent], None] | None,
) -> None:
    stream = source.stream_task(project_id, task_id, from_id=progress.last_id)
    async with aclosing(stream) as events:
        async for event in events:
            if event.id is not None:
                if progress.last_id is not None and event.id <= progress.last_id:
                    continue  # replayed after a resume: already delivered
                progress.last_id = event.id
            progress.new_events += 1
            if event.html is not None:
                progress.last_html = event.html
            if on_event is not None:
                on_event(event)
            if event.is_terminal:
                progress.terminal = True
                return


async def _poll_task(
    source: TaskSource,
    task_id: str,
    progress: _Progress,
    pacing: Pacing,
    on_event: Callable[[TaskEvent], None] | None,
    deadline: float,
    timeout: float,
) -> Task:
    polls = 0
    failure: TransientError | None = None
    while True:
        polls += 1
        task = await _read_task(source, task_id)
        if isinstance(task, TransientError):
            failure = task
        else:
            failure = None
            html = task.project.compositionHtml if task.project is not None else ""
            if on_event is not None and html and html != progress.last_html:
                on_event(
                    TaskEvent(id=task.lastEventId, event=EVENT_HTML_UPDATE, data={"html": html})
                )
            progress.last_html = html or progress.last_html
            if task.is_terminal:
                return task
        delay = pacing.policy.poll_delay(polls)
        if pacing.clock() + delay > deadline:
            raise _task_timeout(task_id, timeout, failure)
        await pacing.sleep(delay)


async def wait_for_render(
    source: RenderSource,
    job_id: str,
    *,
    pacing: Pacing,
    on_progress: Callable[[RenderJob], None] | None = None,
    timeout: float = 3600.0,
) -> RenderJob:
    """Poll a render job until it is ``complete`` or ``failed`` and return it.

    ``on_progress`` is called whenever the status or the percentage changes. Does not raise on
    ``failed``; a read that fails transiently is tried again at the next poll. Raises
    ``TransientError`` when the time runs out, and any other ``ApiError`` of a read at once.
    """
    deadline = pacing.clock() + timeout
    polls = 0
    seen: tuple[str, int] | None = None
    last: RenderJob | None = None
    failure: TransientError | None = None
    while True:
        polls += 1
        try:
            job = await source.get_render_job(job_id)
        except TransientError as exc:
            log.info("render job %s could not be read (%s); polling again", job_id, exc)
            failure = exc
        else:
            failure, last = None, job
            if on_progress is not None and (job.status, job.progress) != seen:
                on_progress(job)
            seen = (job.status, job.progress)
            if job.is_terminal:
                return job
        delay = pacing.policy.poll_delay(polls)
        if pacing.clock() + delay > deadline:
            raise _render_timeout(job_id, timeout, last, failure)
        await pacing.sleep(delay)


async def _read_task(source: TaskSource, task_id: str) -> Task | TransientError:
    """``GET /tasks/{id}``, or the ``TransientError`` (logged) when it failed transiently."""
    try:
        return await source.get_task(task_id)
    except TransientError as exc:
        log.info("task %s could not be read (%s); trying again", task_id, exc)
        return exc


def _task_timeout(task_id: str, timeout: float, failure: TransientError | None = None) -> ApiError:
    if failure is not None:
        message = (
            f"task {task_id} could not be read before the {timeout:.0f} s wait ran out "
            f"({failure.message})"
        )
    else:
        message = f"task {task_id} did not finish within {timeout:.0f} s"
    return TransientError(
        message, hint="the task goes on in Parafraim; run the command again to pick it up"
    )


def _render_timeout(
    job_id: str, timeout: float, last: RenderJob | None, failure: TransientError | None
) -> ApiError:
    if failure is not None:
        message = (
            f"render job {job_id} could not be read before the {timeout:.0f} s wait ran out "
            f"({failure.message})"
        )
    elif last is not None:
        message = (
            f"render job {job_id} was still {last.status} ({last.progress}%) after {timeout:.0f} s"
        )
    else:
        message = f"render job {job_id} did not finish within {timeout:.0f} s"
    return TransientError(
        message, hint="the render goes on in Parafraim; run the command again to pick it up"
    )
