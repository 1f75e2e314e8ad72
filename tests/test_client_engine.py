"""The client against the real local engine over a real socket, with its faults switched on.

Each test states an invariant that must hold whichever requests the (seeded) faults strike:
GETs always get through, a POST is never processed twice, every event arrives once, an expired
URL is refreshed. Backoffs are shortened so the suite stays fast; time is real.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.models import (
    CreateProjectRequest,
    RenderConfig,
    SendMessageRequest,
    TaskEvent,
)
from parafraim_build.api.retry import RetryPolicy
from parafraim_build.config import ApiSettings
from parafraim_build.emulator import EngineConfig, FaultConfig, RunningEngine, start_engine
from parafraim_build.errors import DownloadError, OutcomeUnknownError

T = TypeVar("T")
EngineFactory = Callable[..., RunningEngine]

QUICK = RetryPolicy(
    max_attempts=10,
    base_delay=0.01,
    max_delay=0.05,
    busy_base_delay=0.02,
    busy_max_delay=0.1,
    busy_max_elapsed=60.0,
    poll_initial=0.02,
    poll_max=0.1,
)
# The smallest render the API allows, so that the engine's real ffmpeg renders stay quick.
SMALL = RenderConfig(
    width=480,
    height=270,
    fps=24,
    quality="draft",
    includeAudio=False,
    includeSubtitles=False,
)


@pytest.fixture
def make_engine() -> Iterator[EngineFactory]:
    """Start local engines with quick tasks and renders; all are stopped after the test."""
    started: list[RunningEngine] = []

    def factory(*, faults: dict[str, Any] | None = None, **fields: Any) -> RunningEngine:
        values: dict[str, Any] = {"task_seconds": 0.05, "render_seconds": 0.05} | fields
        config = EngineConfig(faults=FaultConfig(**(faults or {})), **values)
        running = start_engine(config)
        started.append(running)
        return running

    yield factory
    for running in reversed(started):
        running.stop()


def run(running: RunningEngine, scenario: Callable[[ParafraimClient], Awaitable[T]]) -> T:
    async def main() -> T:
        settings = ApiSettings(base_url=running.base_url, api_key=running.api_key)
        async with ParafraimClient(settings, retry=QUICK) as client:
            return await scenario(client)

    return asyncio.run(main())


def api_requests(running: RunningEngine, prefix: str) -> int:
    by_route: dict[str, int] = running.stats()["requests"]["byRoute"]
    return sum(n for route, n in by_route.items() if route.startswith(prefix))


def test_a_task_costs_one_post_one_stream_and_one_get(make_engine: EngineFactory) -> None:
    running = make_engine()

    async def scenario(client: ParafraimClient) -> tuple[Any, list[TaskEvent], dict[str, int]]:
        project = await client.create_project(CreateProjectRequest(name="budget"))
        before = dict(client.request_counts)
        accepted = await client.send_message(project.id, SendMessageRequest(message="Open big."))
        events: list[TaskEvent] = []
        task = await client.wait_for_task(project.id, accepted.taskId, on_event=events.append)
        after = {k: v - before.get(k, 0) for k, v in client.request_counts.items()}
        return task, events, after

    task, events, spent = run(running, scenario)
    assert task.status == "completed"
    assert task.project is not None
    assert task.project.hasPreview
    assert spent == {"POST": 1, "STREAM": 1, "GET": 1}
    assert events[-1].event == "result"
    assert [e.id for e in events] == list(range(1, len(events) + 1))


def test_gets_get_through_html_error_pages(make_engine: EngineFactory) -> None:
    running = make_engine(faults={"error_rate": 0.3})

    async def templates(client: ParafraimClient) -> list[str]:
        return [t.id async for t in client.iter_templates()]

    async def projects(client: ParafraimClient) -> list[str]:
        return [p.id async for p in client.iter_projects()]

    async def scenario(client: ParafraimClient) -> int:
        # In parallel, so that the engine's Retry-After of one second is waited out together.
        calls = [
            call
            for _ in range(8)
            for call in (client.me(), client.credits(), templates(client), projects(client))
        ]
        results = await asyncio.gather(*calls)
        assert all(result is not None for result in results)
        return client.request_counts["GET"]

    gets = run(running, scenario)
    assert running.stats()["faults"]["error"] > 0
    assert gets == api_requests(running, "GET /api/v1") > 32  # every retry reached the engine


def test_posts_under_error_pages_never_create_twice(make_engine: EngineFactory) -> None:
    running = make_engine(faults={"error_rate": 0.4})

    async def create(client: ParafraimClient, n: int) -> str | OutcomeUnknownError:
        try:
            return (await client.create_project(CreateProjectRequest(name=f"p{n}"))).id
        except OutcomeUnknownError as exc:
            return exc

    async def scenario(client: ParafraimClient) -> tuple[list[str], int]:
        results = await asyncio.gather(*(create(client, n) for n in range(16)))
        created = [r for r in results if isinstance(r, str)]
        unknowns = [r for r in results if isinstance(r, OutcomeUnknownError)]
        assert all("parafraim-build projects" in (e.hint or "") for e in unknowns)
        unknown = len(unknowns)
        listed = [p.id async for p in client.iter_projects()]
        assert sorted(listed) == sorted(created)  # nothing created twice, nothing lost
        return created, unknown

    created, unknown = run(running, scenario)
    # A 503 page is retried; a 502 may hide a processed POST, so it is surfaced instead.
    assert unknown > 0
    assert len(created) + unknown == 16
    assert api_requests(running, "POST /api/v1/projects") > 16


def test_a_lost_answer_is_outcome_unknown_and_not_retried(make_engine: EngineFactory) -> None:
    running = make_engine(faults={"lost_response_rate": 1.0})

    async def scenario(client: ParafraimClient) -> list[str]:
        with pytest.raises(OutcomeUnknownError) as info:
            await client.create_project(CreateProjectRequest(name="once"))
        assert "not retried" in str(info.value)
        return [p.id async for p in client.iter_projects()]

    listed = run(running, scenario)
    assert len(listed) == 1  # it was processed: a retry would have made a second one
    assert api_requests(running, "POST /api/v1/projects") == 1


def test_concurrency_limit_bursts_are_waited_out(make_engine: EngineFactory) -> None:
    running = make_engine(concurrency=2, task_seconds=0.1, faults={"concurrency_burst_rate": 0.3})

    async def one(client: ParafraimClient, n: int) -> str:
        project = await client.create_project(CreateProjectRequest(name=f"c{n}"))
        accepted = await client.send_message(project.id, SendMessageRequest(message="Go."))
        task = await client.wait_for_task(project.id, accepted.taskId)
        return task.status

    async def scenario(client: ParafraimClient) -> list[str]:
        return list(await asyncio.gather(*(one(client, n) for n in range(6))))

    assert run(running, scenario) == ["completed"] * 6
    stats = running.stats()
    assert stats["faults"]["concurrency"] > 0
    assert stats["tasks"]["total"] == 6  # one task per message, however often it was refused
    assert api_requests(running, "POST /api/v1/projects/{projectId}/messages") > 6


def test_cut_streams_are_resumed_and_every_event_arrives_once(make_engine: EngineFactory) -> None:
    running = make_engine(task_seconds=0.3, faults={"cut_streams_after": 2})

    async def scenario(client: ParafraimClient) -> tuple[Any, list[TaskEvent], dict[str, int]]:
        project = await client.create_project(CreateProjectRequest(name="cut"))
        accepted = await client.send_message(project.id, SendMessageRequest(message="Go."))
        events: list[TaskEvent] = []
        task = await client.wait_for_task(project.id, accepted.taskId, on_event=events.append)
        return task, events, dict(client.request_counts)

    task, events, counts = run(running, scenario)
    assert task.status == "completed"
    assert [e.id for e in events] == list(range(1, task.lastEventId + 1))
    assert events[-1].is_terminal
    assert counts["STREAM"] == -(-len(events) // 2)  # one connection per two events
    assert counts["GET"] == 1


def test_everything_at_once_never_pays_twice(make_engine: EngineFactory, tmp_path: Path) -> None:
    running = make_engine(
        concurrency=2,
        faults={
            "error_rate": 0.15,
            "concurrency_burst_rate": 0.3,
            "cut_streams_after": 2,
            "latency_ms": 5,
            "jitter_ms": 5,
        },
    )
    started = {"messages": 0, "renders": 0}

    async def video(client: ParafraimClient, n: int) -> str:
        try:
            project = await client.create_project(CreateProjectRequest(name=f"v{n}"))
            accepted = await client.send_message(project.id, SendMessageRequest(message="Hi."))
            started["messages"] += 1
            task = await client.wait_for_task(project.id, accepted.taskId)
            assert task.status == "completed"
            render = await client.start_render(project.id, SMALL)
            started["renders"] += 1
            job = await client.wait_for_render(render.jobId)
            assert job.status == "complete"
            assert job.videoUrl
            done = await client.download(job.videoUrl, tmp_path / f"v{n}.mp4", job_id=render.jobId)
            assert hashlib.sha256(done.path.read_bytes()).hexdigest() == done.sha256
        except OutcomeUnknownError:
            return "unknown"
        return "done"

    async def scenario(client: ParafraimClient) -> list[str]:
        return list(await asyncio.gather(*(video(client, n) for n in range(5))))

    outcomes = run(running, scenario)
    assert "done" in outcomes
    stats = running.stats()
    # Every task and render the engine ran was started by exactly one successful POST.
    assert stats["tasks"]["total"] == started["messages"]
    assert stats["renders"]["total"] == started["renders"]


def test_an_expired_video_url_is_refreshed_once(make_engine: EngineFactory, tmp_path: Path) -> None:
    running = make_engine(url_ttl_seconds=0.2)

    async def scenario(client: ParafraimClient) -> tuple[str, str]:
        project = await client.create_project(CreateProjectRequest(name="expiring"))
        accepted = await client.send_message(project.id, SendMessageRequest(message="Go."))
        await client.wait_for_task(project.id, accepted.taskId)
        render = await client.start_render(project.id, SMALL)
        job = await client.wait_for_render(render.jobId)
        assert job.videoUrl
        # The engine signs whole seconds: wait until the link's own expiry has passed.
        expires = int(httpx.URL(job.videoUrl).params["expires"])
        await asyncio.sleep(max(expires - time.time(), 0) + 0.05)
        with pytest.raises(DownloadError, match="expired"):
            await client.download(job.videoUrl, tmp_path / "no-job.mp4")
        before = client.request_counts["DOWNLOAD"]
        done = await client.download(job.videoUrl, tmp_path / "hd.mp4", job_id=render.jobId)
        assert client.request_counts["DOWNLOAD"] - before == 2
        return done.sha256, hashlib.sha256((tmp_path / "hd.mp4").read_bytes()).hexdigest()

    told, actual = run(running, scenario)
    assert told == actual
    assert not (tmp_path / "no-job.mp4").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hd.mp4"]
