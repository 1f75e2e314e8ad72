"""The client against an in-memory API (``test_client_fakes``): endpoints, answers that drift
from the documentation, errors, retries that never pay twice, streams. Waits are in
``test_waiting.py``, listings in ``test_pagination.py``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from test_client_fakes import (
    API,
    EVENTS,
    KEY,
    FakeParafraim,
    FakeTime,
    Fault,
    StreamPlan,
    answer,
    envelope,
    event_stream,
    html_page,
    lost,
    refused,
    run,
)

from parafraim_build.api.client import USER_AGENT, ParafraimClient
from parafraim_build.api.models import (
    CreateProjectRequest,
    RenderConfig,
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


# ------------------------------------------------------- answers that drift from the docs


def test_a_created_project_with_null_html_is_read_not_outcome_unknown() -> None:
    # The project exists: refusing the answer would make the caller believe nothing happened.
    fake = FakeParafraim()
    fake.fail(
        "POST /projects",
        answer({"id": "abc", "compositionHtml": None, "hasPreview": None}, after=True),
    )
    created = run(fake, lambda client: client.create_project(CreateProjectRequest(name="x")))
    assert (created.id, created.compositionHtml, created.hasPreview) == ("abc", "", False)
    assert fake.processed["POST /projects"] == 1


def test_a_task_snapshot_with_nulls_and_strings_is_read() -> None:
    fake = FakeParafraim()
    snapshot = {
        "id": "t1",
        "status": "completed",
        "lastEventId": "12",
        "assistantMessage": None,
        "project": {"id": "p1", "compositionHtml": None, "hasPreview": None},
        "renderJob": {"progress": 10},  # no status: unreadable, so left out
        "error": None,
    }
    fake.fail("GET /tasks", answer(snapshot))
    task = run(fake, lambda client: client.get_task("t1"))
    assert task.status == "completed"
    assert task.lastEventId == 12
    assert task.project is not None
    assert (task.project.compositionHtml, task.project.hasPreview) == ("", False)
    assert task.renderJob is None


@pytest.mark.parametrize(
    ("progress", "shown"), [(42.5, 42), ("57", 57), (None, 0), (130, 100), (-3, 0), ("soon", 0)]
)
def test_a_render_job_progress_is_an_integer_percentage_whatever_is_sent(
    progress: object, shown: int
) -> None:
    fake = FakeParafraim()
    fake.fail("GET /render-jobs", answer({"status": "rendering", "progress": progress}))
    job = run(fake, lambda client: client.get_render_job("j1"))
    assert job.progress == shown


def test_credits_keep_integers_and_read_plan_limits() -> None:
    fake = FakeParafraim()
    fake.fail(
        "GET /credits",
        answer(
            {
                "balance": 10000.0,
                "monthlyAllowance": "2000",
                "used": 12.5,
                "usedToday": None,
                "limits": {"projects": 100, "concurrentTasks": 4.0, "renders": None},
                "recent": None,
            }
        ),
    )
    credits = run(fake, lambda client: client.credits())
    dumped = credits.model_dump(mode="json")
    assert dumped["balance"] == 10000
    assert isinstance(dumped["balance"], int)
    assert dumped["monthlyAllowance"] == 2000
    assert dumped["used"] == 12.5
    assert dumped["limits"] == {"projects": 100, "concurrentTasks": 4, "renders": None}
    assert credits.recent == []


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


def test_a_bare_401_page_is_not_taken_for_a_refused_key() -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", html_page(401))
    with pytest.raises(UnknownApiError) as info:
        run(fake, lambda client: client.me())
    assert type(info.value) is not UnauthorizedError
    assert "HTTP 401" in str(info.value)
    assert "not the Parafraim API" in str(info.value)
    assert "proxy" in str(info.value)
    assert "PARAFRAIM_BASE_URL" in (info.value.hint or "")
    assert fake.count("GET /me") == 1


def test_not_found_names_what_was_requested() -> None:
    fake = FakeParafraim()
    with pytest.raises(NotFoundError) as info:
        run(fake, lambda client: client.get_render_job("job-42"))
    assert "GET https://parafraim.test/api/v1/render-jobs/job-42" in str(info.value)
    assert "no such job" in str(info.value)
    assert "id exists" in (info.value.hint or "")


def test_not_found_on_an_endpoint_without_an_id_points_at_the_base_url() -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", envelope("NOT_FOUND", 404, message="no route GET /x/api/v1/me"))
    with pytest.raises(NotFoundError) as info:
        run(fake, lambda client: client.me())
    assert "/api/v1/me" in str(info.value)
    hint = info.value.hint or ""
    assert "GET /me always exists" in hint
    assert "PARAFRAIM_BASE_URL (now https://parafraim.test)" in hint


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


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_rate_limit_with_an_unknown_code_is_waited_out(method: str) -> None:
    fake = FakeParafraim()
    route = "GET /credits" if method == "GET" else "POST /projects"
    fake.fail(route, envelope("RATE_LIMITED", 429, message="slow down", retry_after="7"))
    clock = FakeTime()

    async def scenario(client: ParafraimClient) -> object:
        if method == "GET":
            return await client.credits()
        return await client.create_project(CreateProjectRequest(name="once"))

    run(fake, scenario, clock=clock)
    assert fake.count(route) == 2
    assert clock.sleeps == [7.0]  # the Retry-After, longer than the backoff
    if method == "POST":
        assert fake.processed[route] == 1


def test_many_concurrent_calls_share_one_client() -> None:
    fake = FakeParafraim()
    for _ in range(5):
        fake.fail("GET /me", html_page(503))

    async def scenario(client: ParafraimClient) -> int:
        results = await asyncio.gather(*(client.me() for _ in range(40)))
        return len(results)

    assert run(fake, scenario) == 40
    assert fake.count("GET /me") == 45


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


def test_stream_task_gives_events_without_their_own_id_no_id() -> None:
    fake = FakeParafraim()
    task = fake.add_task(EVENTS)
    wire = (
        b'id: 1\nevent: text\ndata: {"delta": "a"}\n\n'
        b'event: text\ndata: {"delta": "b"}\n\n'
        b"event: result\ndata: {}\n\n"
    )
    fake.fail("GET /projects/tasks/stream", event_stream(wire))
    events = collect(fake, task.id)
    assert [(e.id, e.event) for e in events] == [(1, "text"), (None, "text"), (None, "result")]


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
