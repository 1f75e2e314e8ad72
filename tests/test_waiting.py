"""``api/waiting.py``: following a task (stream, resume, polling fallback) and polling a render,
against the in-memory API of ``test_client_fakes`` with fake time."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from test_client_fakes import (
    EVENTS,
    FakeParafraim,
    FakeTime,
    StreamPlan,
    envelope,
    event_stream,
    html_page,
    refused,
    run,
)

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.models import RenderJob, TaskEvent
from parafraim_build.api.retry import RetryPolicy
from parafraim_build.errors import NotFoundError, TransientError, UnauthorizedError

# A per-request budget that a short outage exhausts: two attempts per read.
SHORT_RETRIES = RetryPolicy(max_attempts=2)


# ---------------------------------------------------------------- wait_for_task


def wait(
    fake: FakeParafraim,
    task_id: str,
    clock: FakeTime | None = None,
    policy: RetryPolicy | None = None,
    **kwargs: Any,
) -> tuple[Any, list[TaskEvent], dict[str, int]]:
    seen: list[TaskEvent] = []

    async def scenario(client: ParafraimClient) -> tuple[Any, list[TaskEvent], dict[str, int]]:
        project = fake.tasks[task_id].project_id
        task = await client.wait_for_task(project, task_id, on_event=seen.append, **kwargs)
        return task, seen, dict(client.request_counts)

    return run(fake, scenario, clock=clock, policy=policy)


def test_wait_for_task_costs_one_stream_and_one_get_when_nothing_fails() -> None:
    fake = FakeParafraim()
    task = fake.add_task(EVENTS)
    final, seen, counts = wait(fake, task.id)
    assert final.status == "completed"
    assert [e.id for e in seen] == [1, 2, 3, 4, 5, 6]
    assert counts == {"STREAM": 1, "GET": 1}


def test_wait_for_task_resumes_a_cut_stream_from_the_last_id() -> None:
    fake = FakeParafraim()
    fake.stream_plans.extend([StreamPlan(cut_after=2), StreamPlan(drop_after=1)])
    task = fake.add_task(EVENTS)
    clock = FakeTime()
    final, seen, counts = wait(fake, task.id, clock=clock)
    assert final.status == "completed"
    assert [e.id for e in seen] == [1, 2, 3, 4, 5, 6]  # each event exactly once
    streams = [r for r in fake.requests if r.url.path.endswith("/stream")]
    assert [r.url.params.get("from") for r in streams] == [None, "2", "3"]
    assert counts == {"STREAM": 3, "GET": 1}
    assert clock.sleeps == []  # progress was made: reconnect at once


def test_wait_for_task_skips_events_replayed_after_a_resume() -> None:
    fake = FakeParafraim()
    task = fake.add_task(EVENTS)
    _, seen, _ = wait(fake, task.id, from_id=3)
    assert [e.id for e in seen] == [4, 5, 6]


def test_wait_for_task_falls_back_to_polling_after_repeated_failures() -> None:
    fake = FakeParafraim(default_stream=StreamPlan(drop_after=0))
    task = fake.add_task(EVENTS, running_reads=5, html="<main>final</main>")
    clock = FakeTime()
    final, seen, counts = wait(fake, task.id, clock=clock)
    assert final.status == "completed"
    assert counts["STREAM"] == 3  # RetryPolicy.stream_max_failures
    # one check after each failed connection, then polls until the record says completed
    assert counts["GET"] == 6
    assert [e.event for e in seen] == ["html_update"]
    assert seen[0].html == "<main>final</main>"
    assert clock.sleeps[:2] == [0.375, 0.75]  # backoff between stream attempts
    assert clock.sleeps[2:] == [0.5, 0.75, 1.125]  # then the poll schedule


def test_wait_for_task_polls_when_the_stream_is_not_sse() -> None:
    fake = FakeParafraim(default_stream=StreamPlan(content_type="application/json"))
    task = fake.add_task(EVENTS)
    final, _, counts = wait(fake, task.id)
    assert final.status == "completed"
    assert counts == {"STREAM": 1, "GET": 1}


def test_wait_for_task_takes_the_outcome_from_get_not_the_stream() -> None:
    events = [("text", {"delta": "x"}), ("result", {"status": "completed"})]
    fake = FakeParafraim()
    task = fake.add_task(events, status="error", running_reads=1)
    final, _, counts = wait(fake, task.id)
    assert final.status == "error"  # not raised: the caller decides
    assert counts == {"STREAM": 1, "GET": 2}


def test_wait_for_task_has_a_time_limit() -> None:
    fake = FakeParafraim(default_stream=StreamPlan(drop_after=0))
    task = fake.add_task(EVENTS, running_reads=10_000)
    with pytest.raises(TransientError, match="did not finish within 30 s"):
        wait(fake, task.id, timeout=30.0)


def test_wait_for_task_surfaces_an_auth_failure_at_once() -> None:
    fake = FakeParafraim()
    task = fake.add_task(EVENTS)
    fake.api_key = "pfk_rotated"
    with pytest.raises(UnauthorizedError):
        wait(fake, task.id)


def test_events_without_their_own_id_are_delivered_not_taken_for_replays() -> None:
    # A service may number only the events it persists: the text and the result that follow a
    # numbered event are new, not replays of it.
    fake = FakeParafraim()
    task = fake.add_task(EVENTS)
    wire = (
        b'id: 1\nevent: text\ndata: {"delta": "a"}\n\n'
        b'event: text\ndata: {"delta": "b"}\n\n'
        b'event: result\ndata: {"status": "completed"}\n\n'
    )
    fake.fail("GET /projects/tasks/stream", event_stream(wire))
    final, seen, counts = wait(fake, task.id)
    assert [(e.id, e.text_delta) for e in seen] == [(1, "a"), (None, "b"), (None, None)]
    assert seen[-1].event == "result"
    assert final.status == "completed"
    assert counts == {"STREAM": 1, "GET": 1}  # the result ended the stream: no polling


def test_a_resume_after_unnumbered_events_starts_from_the_last_numbered_one() -> None:
    fake = FakeParafraim()
    task = fake.add_task(EVENTS)
    fake.fail(
        "GET /projects/tasks/stream",
        event_stream(b"id: 2\nevent: text\ndata: {}\n\nevent: text\ndata: {}\n\n"),
    )
    _, seen, _ = wait(fake, task.id)
    streams = [r for r in fake.requests if r.url.path.endswith("/stream")]
    assert [r.url.params.get("from") for r in streams] == [None, "2"]
    assert [e.id for e in seen] == [2, None, 3, 4, 5, 6]


def test_polling_a_task_outlasts_an_outage_longer_than_one_reads_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeParafraim(default_stream=StreamPlan(drop_after=0))
    task = fake.add_task(EVENTS, running_reads=2)
    # Sixteen attempts in a row fail: eight reads of two attempts each, in the stream phase
    # and then while polling. The first of them used to end the wait.
    fake.fail("GET /tasks", *[html_page(502) for _ in range(2 + 14)])
    clock = FakeTime()
    with caplog.at_level(logging.INFO, logger="parafraim_build.api"):
        final, _, counts = wait(fake, task.id, clock=clock, policy=SHORT_RETRIES)
    assert final.status == "completed"
    assert counts["STREAM"] == 3
    assert any("could not be read" in r.getMessage() for r in caplog.records)


def test_a_task_that_cannot_be_read_until_the_deadline_says_so() -> None:
    fake = FakeParafraim(default_stream=StreamPlan(drop_after=0))
    task = fake.add_task(EVENTS)
    fake.fail("GET /tasks", *[refused() for _ in range(1000)])
    clock = FakeTime()
    with pytest.raises(TransientError) as info:
        wait(fake, task.id, clock=clock, policy=SHORT_RETRIES, timeout=60.0)
    assert "could not be read before the 60 s wait ran out" in str(info.value)
    assert "could not connect" in str(info.value)
    assert clock.now <= 60.0 + SHORT_RETRIES.max_delay * SHORT_RETRIES.max_attempts


def test_a_refused_key_while_polling_a_task_is_raised_at_once() -> None:
    fake = FakeParafraim(default_stream=StreamPlan(drop_after=0))
    task = fake.add_task(EVENTS, running_reads=100)
    fake.fail("GET /tasks", *[envelope("UNAUTHORIZED", 401) for _ in range(10)])
    with pytest.raises(UnauthorizedError):
        wait(fake, task.id)
    assert fake.count("GET /tasks") == 1


# --------------------------------------------------------------- wait_for_render


def test_wait_for_render_polls_with_a_growing_delay_and_reports_changes() -> None:
    fake = FakeParafraim()
    states = [{"status": "pending", "progress": 0}] * 2 + [
        {"status": "rendering", "progress": 40},
        {"status": "rendering", "progress": 40},
        {"status": "uploading", "progress": 95},
        {"status": "complete", "progress": 100, "videoUrl": fake.video_url()},
    ]
    job_id = fake.add_job(*states)
    clock = FakeTime()
    reported: list[RenderJob] = []
    job = run(fake, lambda c: c.wait_for_render(job_id, on_progress=reported.append), clock=clock)
    assert job.status == "complete"
    assert job.videoUrl
    assert [(j.status, j.progress) for j in reported] == [
        ("pending", 0),
        ("rendering", 40),
        ("uploading", 95),
        ("complete", 100),
    ]
    assert clock.sleeps == [0.5, 0.75, 1.125, 1.6875, 2.53125]


def test_wait_for_render_returns_a_failed_job_without_raising() -> None:
    fake = FakeParafraim()
    job_id = fake.add_job({"status": "failed", "progress": 30, "error": "ffmpeg crashed"})
    job = run(fake, lambda c: c.wait_for_render(job_id))
    assert (job.status, job.error) == ("failed", "ffmpeg crashed")


def test_wait_for_render_has_a_time_limit() -> None:
    fake = FakeParafraim()
    job_id = fake.add_job({"status": "rendering", "progress": 10})
    clock = FakeTime()
    with pytest.raises(TransientError, match="still rendering"):
        run(fake, lambda c: c.wait_for_render(job_id, timeout=20.0), clock=clock)
    assert sum(clock.sleeps) <= 20.0


def test_wait_for_render_survives_transient_poll_failures() -> None:
    fake = FakeParafraim()
    job_id = fake.add_job(
        {"status": "rendering", "progress": 10}, {"status": "complete", "progress": 100}
    )
    fake.fail("GET /render-jobs", html_page(502), refused())
    job = run(fake, lambda c: c.wait_for_render(job_id))
    assert job.status == "complete"


def test_wait_for_render_outlasts_an_outage_longer_than_one_reads_retries() -> None:
    fake = FakeParafraim()
    job_id = fake.add_job(
        {"status": "rendering", "progress": 10}, {"status": "complete", "progress": 100}
    )
    # Twelve failed attempts in a row: six reads that each give up after two attempts.
    fake.fail("GET /render-jobs", *[html_page(503) for _ in range(12)])
    reported: list[RenderJob] = []
    job = run(
        fake,
        lambda c: c.wait_for_render(job_id, on_progress=reported.append),
        policy=SHORT_RETRIES,
    )
    assert job.status == "complete"
    assert fake.count("GET /render-jobs") == 14
    assert [(j.status, j.progress) for j in reported] == [("rendering", 10), ("complete", 100)]


def test_a_render_that_cannot_be_read_until_the_deadline_says_so() -> None:
    fake = FakeParafraim()
    job_id = fake.add_job({"status": "rendering", "progress": 10})
    fake.fail("GET /render-jobs", *[html_page(502) for _ in range(1000)])
    clock = FakeTime()
    with pytest.raises(TransientError) as info:
        run(fake, lambda c: c.wait_for_render(job_id, timeout=30.0), clock=clock)
    assert "could not be read before the 30 s wait ran out" in str(info.value)
    assert "HTTP 502" in str(info.value)
    assert "goes on in Parafraim" in (info.value.hint or "")


def test_a_render_read_that_fails_for_good_is_raised_at_once() -> None:
    fake = FakeParafraim()
    with pytest.raises(NotFoundError):
        run(fake, lambda c: c.wait_for_render("no-such-job"))
    assert fake.count("GET /render-jobs") == 1
