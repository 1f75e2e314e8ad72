"""The client against an in-memory API (``test_client_fakes``): endpoints, retries that never
pay twice, pagination, streams with resume and the polling fallback, render waits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from test_client_fakes import (
    API,
    KEY,
    FakeParafraim,
    FakeTime,
    Fault,
    StreamPlan,
    envelope,
    html_page,
    lost,
    make_client,
    refused,
)

from parafraim_build.api.client import USER_AGENT, ParafraimClient
from parafraim_build.api.models import (
    CreateProjectRequest,
    RenderConfig,
    RenderJob,
    SendMessageRequest,
    TaskEvent,
    UseTemplateRequest,
)
from parafraim_build.api.retry import RetryPolicy
from parafraim_build.errors import (
    ApiValidationError,
    ConcurrencyLimitError,
    InsufficientCreditsError,
    NotFoundError,
    OutcomeUnknownError,
    TransientError,
    UnauthorizedError,
    UnknownApiError,
)

T = TypeVar("T")

EVENTS: list[tuple[str, Any]] = [
    ("text", {"delta": "Reading "}),
    ("text", {"delta": "the scene"}),
    ("html_update", {"html": "<main>v1</main>"}),
    ("thinking", "not json at all"),
    ("text", {"delta": "."}),
    ("result", {"status": "completed"}),
]


def run(
    fake: FakeParafraim,
    scenario: Callable[[ParafraimClient], Awaitable[T]],
    *,
    clock: FakeTime | None = None,
    policy: RetryPolicy | None = None,
    api_key: str = KEY,
) -> T:
    async def main() -> T:
        async with make_client(fake, clock or FakeTime(), policy=policy, api_key=api_key) as client:
            return await scenario(client)

    return asyncio.run(main())


# ------------------------------------------------------------------------ endpoints


def test_every_read_endpoint_returns_models_and_ignores_unknown_fields() -> None:
    fake = FakeParafraim(project_count=2, template_count=3)

    async def scenario(client: ParafraimClient) -> None:
        me = await client.me()
        assert me.plan == "pro"
        credits = await client.credits()
        assert credits.balance == 1000
        assert credits.recent[0].amount == -5
        projects = await client.list_projects()
        assert len(projects.items) == 2
        assert projects.pagination.totalPages == 1
        templates = await client.list_templates(category="news")
        assert [t.category for t in templates.items] == ["news"]

    run(fake, scenario)


def test_requests_carry_auth_user_agent_and_json() -> None:
    fake = FakeParafraim()

    async def scenario(client: ParafraimClient) -> None:
        await client.me()
        await client.create_project(CreateProjectRequest(name="Launch", aspectRatio="9:16"))

    run(fake, scenario)
    get, post = fake.requests
    assert str(get.url) == f"{API}/me"
    assert get.headers["authorization"] == f"Bearer {KEY}"
    assert get.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("parafraim-build/")
    assert post.headers["content-type"] == "application/json"
    # Optional fields left out rather than sent as null.
    assert post.content == b'{"name":"Launch","aspectRatio":"9:16"}'


def test_post_endpoints() -> None:
    fake = FakeParafraim(template_count=1)

    async def scenario(client: ParafraimClient) -> None:
        created = await client.create_project(CreateProjectRequest(name="Blank"))
        assert created.compositionHtml == ""
        used = await client.use_template(fake.templates[0]["id"], UseTemplateRequest(name="Copy"))
        assert used.hasPreview
        accepted = await client.send_message(used.id, SendMessageRequest(message="Shorter."))
        assert accepted.taskId in fake.tasks
        started = await client.start_render(used.id, RenderConfig(width=1280, height=720))
        job = await client.get_render_job(started.jobId)
        assert job.status == "pending"
        task = await client.get_task(accepted.taskId)
        assert task.status == "completed"
        assert task.project is not None
        assert task.project.compositionHtml

    run(fake, scenario)
    render = next(r for r in fake.requests if r.url.path.endswith("/render"))
    assert b'"width":1280' in render.content
    assert b'"includeAudio":true' in render.content


def test_ids_are_escaped_into_one_path_segment() -> None:
    fake = FakeParafraim()
    with pytest.raises(NotFoundError):
        run(fake, lambda client: client.get_task("../me"))
    assert fake.requests[0].url.raw_path == b"/api/v1/tasks/..%2Fme"


def test_request_counts() -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", html_page(503))

    async def scenario(client: ParafraimClient) -> dict[str, int]:
        await client.me()
        await client.create_project(CreateProjectRequest(name="x"))
        return dict(client.request_counts)

    assert run(fake, scenario) == {"GET": 2, "POST": 1}


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("code", "status", "exc"),
    [
        ("UNAUTHORIZED", 401, UnauthorizedError),
        ("INSUFFICIENT_CREDITS", 402, InsufficientCreditsError),
        ("VALIDATION", 400, ApiValidationError),
        ("VALIDATION", 500, ApiValidationError),  # the code decides, not the status
        ("SOMETHING_NEW", 400, UnknownApiError),
    ],
)
def test_error_envelopes_become_typed_errors(code: str, status: int, exc: type[Exception]) -> None:
    fake = FakeParafraim()
    fake.fail("POST /projects", envelope(code, status, message="nope"))
    with pytest.raises(exc) as info:
        run(fake, lambda client: client.create_project(CreateProjectRequest(name="x")))
    assert code in str(info.value)
    assert fake.count("POST /projects") == 1


def test_a_bad_key_is_unauthorized_and_names_the_variable() -> None:
    fake = FakeParafraim()
    with pytest.raises(UnauthorizedError) as info:
        run(fake, lambda client: client.me(), api_key="pfk_wrong_key_000")
    assert "PARAFRAIM_API_KEY" in str(info.value)
    assert "PARAFRAIM_API_KEY" in (info.value.hint or "")
    assert "pfk_wrong_key_000" not in f"{info.value} {info.value.hint} {info.value!r}"


def test_a_success_with_an_unreadable_body_is_an_unknown_api_error() -> None:
    fake = FakeParafraim()

    def not_json(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, text="<html>captive portal</html>", headers={"content-type": "text/html"}
        )

    fake.fail("GET /me", Fault(not_json))
    with pytest.raises(UnknownApiError) as info:
        run(fake, lambda client: client.me())
    assert "PARAFRAIM_BASE_URL" in (info.value.hint or "")


def test_data_in_the_wrong_shape_is_reported_not_crashed_on() -> None:
    fake = FakeParafraim()
    fake.fail(
        "GET /me",
        Fault(lambda r: httpx.Response(200, json={"success": True, "data": {"email": "x"}})),
    )
    with pytest.raises(UnknownApiError, match=r"unexpected shape: id"):
        run(fake, lambda client: client.me())


# ------------------------------------------------------------------------ retries


def test_gets_retry_transient_failures_with_backoff() -> None:
    fake = FakeParafraim()
    fake.fail("GET /credits", refused(), html_page(502), lost(), html_page(503, retry_after="3"))
    clock = FakeTime()
    credits = run(fake, lambda client: client.credits(), clock=clock)
    assert credits.balance == 1000
    assert fake.count("GET /credits") == 5
    # 0.5 s doubling, jitter 0.5 -> 3/4 of it; the Retry-After of 3 s wins over 1.5 s.
    assert clock.sleeps == [0.375, 0.75, 1.5, 3.0]


def test_gets_give_up_after_the_policy_bound() -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", *[html_page(502) for _ in range(10)])
    with pytest.raises(TransientError) as info:
        run(fake, lambda client: client.me(), policy=RetryPolicy(max_attempts=3))
    assert fake.count("GET /me") == 3
    assert "3 attempts" in str(info.value)
    assert "HTTP 502" in str(info.value)


def test_an_unreachable_host_is_one_clear_transient_error() -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", *[refused() for _ in range(10)])
    with pytest.raises(TransientError) as info:
        run(fake, lambda client: client.me(), policy=RetryPolicy(max_attempts=2))
    assert str(info.value).startswith("could not connect to https://parafraim.test")
    assert "PARAFRAIM_BASE_URL" in (info.value.hint or "")


@pytest.mark.parametrize("fault", [refused(), html_page(503), envelope("CONCURRENCY_LIMIT", 429)])
def test_posts_retry_when_nothing_was_processed(fault: Any) -> None:
    fake = FakeParafraim()
    fake.fail("POST /projects", fault)
    created = run(fake, lambda client: client.create_project(CreateProjectRequest(name="once")))
    assert fake.count("POST /projects") == 2
    assert fake.processed["POST /projects"] == 1
    assert [p["id"] for p in fake.projects] == [created.id]


@pytest.mark.parametrize(
    "fault", [lost(httpx.ReadTimeout), lost(httpx.RemoteProtocolError), lost(httpx.ReadError)]
)
def test_a_post_lost_after_sending_is_outcome_unknown_and_never_retried(fault: Any) -> None:
    fake = FakeParafraim()
    fake.fail("POST /projects", fault)
    with pytest.raises(OutcomeUnknownError) as info:
        run(fake, lambda client: client.create_project(CreateProjectRequest(name="once")))
    assert fake.count("POST /projects") == 1
    assert fake.processed["POST /projects"] == 1  # it was created: a retry would make two
    assert "may or may not have been processed" in str(info.value)
    assert "parafraim-build projects" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("call", "route", "check"),
    [
        ("message", "POST /projects/messages", "edit started"),
        ("render", "POST /projects/render", "precharge"),
        ("use", "POST /templates/use", "parafraim-build projects"),
    ],
)
def test_each_post_says_what_to_check(call: str, route: str, check: str) -> None:
    fake = FakeParafraim(template_count=1)
    fake.fail(route, html_page(502))

    async def scenario(client: ParafraimClient) -> object:
        if call == "message":
            return await client.send_message("p1", SendMessageRequest(message="hi"))
        if call == "render":
            return await client.start_render("p1", RenderConfig())
        return await client.use_template(fake.templates[0]["id"], UseTemplateRequest())

    with pytest.raises(OutcomeUnknownError) as info:
        run(fake, scenario)
    assert check in (info.value.hint or "")
    assert fake.count(route) == 1


def test_concurrency_limit_and_task_running_wait_with_backoff() -> None:
    fake = FakeParafraim()
    fake.fail(
        "POST /projects/messages",
        envelope("CONCURRENCY_LIMIT", 429),
        envelope("TASK_RUNNING", 409),
        envelope("CONCURRENCY_LIMIT", 429),
    )
    clock = FakeTime()
    accepted = run(
        fake, lambda c: c.send_message("p", SendMessageRequest(message="go")), clock=clock
    )
    assert accepted.taskId
    assert fake.count("POST /projects/messages") == 4
    assert fake.processed["POST /projects/messages"] == 1
    assert len(fake.tasks) == 1
    assert clock.sleeps == [0.75, 1.5, 3.0]


def test_busy_waits_are_bounded_too() -> None:
    fake = FakeParafraim()
    fake.fail("POST /projects/messages", *[envelope("CONCURRENCY_LIMIT", 429) for _ in range(9)])
    with pytest.raises(ConcurrencyLimitError) as info:
        run(
            fake,
            lambda c: c.send_message("p", SendMessageRequest(message="go")),
            policy=RetryPolicy(busy_max_attempts=4),
        )
    assert fake.count("POST /projects/messages") == 4
    assert "parallelism" in (info.value.hint or "")


def test_a_documented_code_on_a_5xx_is_not_retried() -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", envelope("UNAUTHORIZED", 503))
    with pytest.raises(UnauthorizedError):
        run(fake, lambda client: client.me())
    assert fake.count("GET /me") == 1


def test_many_concurrent_calls_share_one_client() -> None:
    fake = FakeParafraim()
    for _ in range(5):
        fake.fail("GET /me", html_page(503))

    async def scenario(client: ParafraimClient) -> int:
        results = await asyncio.gather(*(client.me() for _ in range(40)))
        return len(results)

    assert run(fake, scenario) == 40
    assert fake.count("GET /me") == 45


# --------------------------------------------------------------------- pagination


def test_iter_projects_follows_every_page_at_fifty() -> None:
    fake = FakeParafraim(project_count=123)

    async def scenario(client: ParafraimClient) -> list[str]:
        return [p.id async for p in client.iter_projects()]

    ids = run(fake, scenario)
    assert ids == [p["id"] for p in fake.projects]
    pages = [r.url.params for r in fake.requests]
    assert [(p["page"], p["pageSize"]) for p in pages] == [("1", "50"), ("2", "50"), ("3", "50")]


def test_iter_templates_passes_filters_on_every_page() -> None:
    fake = FakeParafraim(template_count=160)

    async def scenario(client: ParafraimClient) -> list[str]:
        return [t.name async for t in client.iter_templates(category="news", q="template")]

    names = run(fake, scenario)
    assert len(names) == 54
    assert all(r.url.params["category"] == "news" for r in fake.requests)
    assert len(fake.requests) == 2


def test_an_empty_list_is_one_request() -> None:
    fake = FakeParafraim()

    async def scenario(client: ParafraimClient) -> list[str]:
        return [p.id async for p in client.iter_projects()]

    assert run(fake, scenario) == []
    assert len(fake.requests) == 1


def test_page_size_is_clamped_to_the_documented_range() -> None:
    fake = FakeParafraim(project_count=3)
    run(fake, lambda client: client.list_projects(page_size=500))
    run(fake, lambda client: client.list_projects(page=0, page_size=0))
    assert [dict(r.url.params) for r in fake.requests] == [
        {"page": "1", "pageSize": "50"},
        {"page": "1", "pageSize": "1"},
    ]


# ------------------------------------------------------------------------ streams


def collect(fake: FakeParafraim, task_id: str, from_id: int | None = None) -> list[TaskEvent]:
    async def scenario(client: ParafraimClient) -> list[TaskEvent]:
        project = fake.tasks[task_id].project_id
        return [e async for e in client.stream_task(project, task_id, from_id=from_id)]

    return run(fake, scenario)


@pytest.mark.parametrize(
    "plan", [StreamPlan(), StreamPlan(crlf=True, chunk_size=1), StreamPlan(chunk_size=7)]
)
def test_stream_task_decodes_events(plan: StreamPlan) -> None:
    fake = FakeParafraim(default_stream=plan)
    task = fake.add_task(EVENTS)
    events = collect(fake, task.id)
    assert [e.id for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].text_delta == "Reading "
    assert events[2].html == "<main>v1</main>"
    assert events[3].event == "thinking"
    assert events[3].data == "not json at all"
    assert events[-1].is_terminal
    request = fake.requests[0]
    assert request.headers["accept"] == "text/event-stream"
    assert "from" not in request.url.params


def test_stream_task_resumes_from_an_id() -> None:
    fake = FakeParafraim()
    task = fake.add_task(EVENTS)
    assert [e.id for e in collect(fake, task.id, from_id=4)] == [5, 6]
    assert fake.requests[0].url.params["from"] == "4"


def test_stream_task_raises_transient_on_a_drop() -> None:
    fake = FakeParafraim(default_stream=StreamPlan(drop_after=2))
    task = fake.add_task(EVENTS)
    with pytest.raises(TransientError, match="stream"):
        collect(fake, task.id)


def test_stream_task_raises_the_api_error_of_an_error_answer() -> None:
    fake = FakeParafraim()
    with pytest.raises(NotFoundError):
        run(fake, lambda client: _drain(client.stream_task("p", "nope")))


async def _drain(events: Any) -> list[Any]:
    return [event async for event in events]


# ---------------------------------------------------------------- wait_for_task


def wait(
    fake: FakeParafraim, task_id: str, clock: FakeTime | None = None, **kwargs: Any
) -> tuple[Any, list[TaskEvent], dict[str, int]]:
    seen: list[TaskEvent] = []

    async def scenario(client: ParafraimClient) -> tuple[Any, list[TaskEvent], dict[str, int]]:
        project = fake.tasks[task_id].project_id
        task = await client.wait_for_task(project, task_id, on_event=seen.append, **kwargs)
        return task, seen, dict(client.request_counts)

    return run(fake, scenario, clock=clock)


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


# ------------------------------------------------------------------------ logging


def test_each_request_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", html_page(503))
    with caplog.at_level(logging.DEBUG, logger="parafraim_build.api"):
        run(fake, lambda client: client.me())
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(lines) == 2
    assert lines[0].startswith(f"GET {API}/me -> 503 (")
    assert lines[1].startswith(f"GET {API}/me -> 200 (")
    assert any("retrying GET /me" in r.getMessage() for r in caplog.records)
