"""An in-memory Parafraim API behind ``httpx.MockTransport``, with faults scripted per route.

Not a mock of the client: a small implementation of the documented API (envelope, auth,
pagination, tasks with SSE events and ``from`` resume, render jobs, signed video URLs) that the
real client talks to through httpx. Tests script exact failures on it (a refused connection, an
HTML 503, a lost answer after processing, a cut stream) that a real server can only produce at
random. The fixtures that use it live in the test modules; this module holds no tests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.retry import RetryPolicy
from parafraim_build.config import ApiSettings

KEY = "pfk_fake_3f9c2b7d1e8a4c6f"

EVENTS: list[tuple[str, Any]] = [
    ("text", {"delta": "Reading "}),
    ("text", {"delta": "the scene"}),
    ("html_update", {"html": "<main>v1</main>"}),
    ("thinking", "not json at all"),
    ("text", {"delta": "."}),
    ("result", {"status": "completed"}),
]
"""A task's events as the fake streams them: text, HTML, an unknown event with plain text."""
BASE_URL = "https://parafraim.test"
API = BASE_URL + "/api/v1"
CDN = "https://cdn.parafraim-media.test"


class FakeTime:
    """A clock that only moves when the client sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def clock(self) -> float:
        return self.now


@dataclass
class Fault:
    """One scripted failure for the next matching request.

    ``after=False``: the request is refused before it is processed. ``after=True``: it is
    processed, then the answer is replaced by the failure (a lost response).
    """

    action: Callable[[httpx.Request], httpx.Response]
    after: bool = False


def refused() -> Fault:
    """The connection is refused: nothing reached the server."""

    def action(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    return Fault(action)


def html_page(status: int, retry_after: str | None = None) -> Fault:
    """A proxy's HTML error page, before the API saw the request."""

    def action(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/html"}
        if retry_after is not None:
            headers["retry-after"] = retry_after
        body = f"<html><body><h1>{status} Bad Gateway</h1>nginx</body></html>"
        return httpx.Response(status, headers=headers, text=body)

    return Fault(action)


def envelope(
    code: str, status: int = 400, message: str = "refused", retry_after: str | None = None
) -> Fault:
    """The API's error envelope."""

    def action(request: httpx.Request) -> httpx.Response:
        body = {"success": False, "error": {"code": code, "message": message}}
        headers = {} if retry_after is None else {"retry-after": retry_after}
        return httpx.Response(status, json=body, headers=headers)

    return Fault(action)


def answer(data: Any, *, after: bool = False) -> Fault:
    """A success envelope around ``data``, whatever the request; ``after``: once processed."""

    def action(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"success": True, "data": data})

    return Fault(action, after=after)


def event_stream(wire: bytes) -> Fault:
    """A task stream that sends exactly ``wire`` (raw SSE bytes) and ends."""

    def action(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=wire)

    return Fault(action)


def lost(exc: type[httpx.TransportError] = httpx.ReadTimeout) -> Fault:
    """Processed, then the answer never arrives."""

    def action(request: httpx.Request) -> httpx.Response:
        raise exc("the answer was lost", request=request)

    return Fault(action, after=True)


@dataclass
class FakeTask:
    id: str
    project_id: str
    events: list[tuple[str, Any]]
    status: str = "completed"
    html: str = "<main>edited</main>"
    running_reads: int = 0
    """How many ``GET /tasks/{id}`` still answer ``running`` before the final status."""


@dataclass
class StreamPlan:
    """How the next stream connections behave; each entry is used once, then the default."""

    cut_after: int | None = None
    """Close cleanly after this many events (no terminal event)."""
    drop_after: int | None = None
    """Raise a read error after this many events."""
    chunk_size: int | None = None
    crlf: bool = False
    keepalive: bool = True
    content_type: str = "text/event-stream"


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes], error: Exception | None = None) -> None:
        self._chunks = chunks
        self._error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            await asyncio.sleep(0)
            yield chunk
        if self._error is not None:
            raise self._error


@dataclass
class FakeParafraim:
    """The documented API, in memory. ``transport`` is what the client is given."""

    api_key: str = KEY
    credits: float = 1000.0
    project_count: int = 0
    template_count: int = 0
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    stream_plans: deque[StreamPlan] = field(default_factory=deque)
    default_stream: StreamPlan = field(default_factory=StreamPlan)
    requests: list[httpx.Request] = field(default_factory=list)
    processed: Counter[str] = field(default_factory=Counter)
    projects: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    jobs: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    expired_urls: set[str] = field(default_factory=set)
    video_bytes: bytes = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
    lie_about_length: int | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        for _ in range(self.project_count):
            self._new_project("seeded")
        for n in range(self.template_count):
            category = ("news", "product", "social")[n % 3]
            self.templates.append(
                {
                    "id": self._uuid(),
                    "name": f"Template {n}",
                    "description": f"A {category} template",
                    "category": category,
                    "hasPreview": True,
                    "usageCount": n,
                    "compositionHtml": "<never in lists>",
                    "futureField": {"ignored": True},
                }
            )

    # ------------------------------------------------------------------ scripting

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail(self, route: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``route`` (``"POST /projects"``)."""
        self.faults.setdefault(route, deque()).extend(faults)

    def count(self, route: str) -> int:
        """Requests that reached the transport for ``route``."""
        return sum(1 for r in self.requests if _route(r) == route)

    def add_task(self, events: list[tuple[str, Any]], **kwargs: Any) -> FakeTask:
        project = self._new_project("task owner")
        task = FakeTask(
            id=f"task_{next(self._ids)}", project_id=project["id"], events=events, **kwargs
        )
        self.tasks[task.id] = task
        return task

    def add_job(self, *states: dict[str, Any]) -> str:
        job_id = self._uuid()
        self.jobs[job_id] = deque({"id": job_id, **state} for state in states)
        return job_id

    def video_url(self, name: str = "video") -> str:
        return f"{CDN}/renders/{name}.mp4?token={next(self._ids)}&sig=abc"

    # ------------------------------------------------------------------- serving

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = _route(request)
        queue = self.faults.get(route)
        fault = queue.popleft() if queue else None
        if fault is not None and not fault.after:
            return fault.action(request)
        response = await self._serve(request, route)
        if fault is not None:
            return fault.action(request)
        return response

    async def _serve(self, request: httpx.Request, route: str) -> httpx.Response:
        if request.url.host == httpx.URL(CDN).host:
            return self._video(request)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error("UNAUTHORIZED", "Invalid API key", 401)
        self.processed[route] += 1
        body = json.loads(request.content) if request.content else {}
        path = request.url.path.removeprefix("/api/v1")
        parts = path.strip("/").split("/")
        if route == "GET /me":
            return _ok(
                {
                    "id": "0b9c6d3e-0000-4000-8000-000000000001",
                    "email": "a@b.c",
                    "plan": "pro",
                    "renderCredits": self.credits,
                    "newField": 1,
                }
            )
        if route == "GET /credits":
            return _ok(
                {
                    "balance": self.credits,
                    "plan": "pro",
                    "monthlyAllowance": 2000,
                    "used": 10,
                    "usedToday": 2,
                    "recent": [{"id": "t1", "type": "render", "amount": -5, "extra": "x"}],
                }
            )
        if route == "GET /projects":
            return self._list(self.projects, request)
        if route == "GET /templates":
            items = self.templates
            category = request.url.params.get("category")
            query = request.url.params.get("q")
            if category is not None:
                items = [t for t in items if t["category"] == category]
            if query is not None:
                items = [t for t in items if query.lower() in json.dumps(t).lower()]
            return self._list(items, request)
        if route == "POST /projects":
            if not isinstance(body.get("name"), str) or not body["name"]:
                return _error("VALIDATION", "name is required", 400)
            project = self._new_project(body["name"])
            return _ok({"id": project["id"], "compositionHtml": "", "hasPreview": False})
        if route == "POST /templates/use":
            project = self._new_project(body.get("name", "from template"))
            return _ok(
                {"id": project["id"], "compositionHtml": "<main>t</main>", "hasPreview": True}
            )
        if route == "POST /projects/messages":
            task = self.add_task([("text", {"delta": "ok"}), ("result", {"status": "completed"})])
            return _ok({"taskId": task.id, "workspaceId": "ws", "traceId": "tr"})
        if route == "GET /tasks":
            task = self.tasks.get(parts[1])
            if task is None:
                return _error("NOT_FOUND", "no such task", 404)
            status = task.status
            if task.running_reads > 0:
                task.running_reads -= 1
                status = "running"
            return _ok(
                {
                    "id": task.id,
                    "status": status,
                    "lastEventId": len(task.events),
                    "assistantMessage": None,
                    "project": {
                        "id": task.project_id,
                        "compositionHtml": task.html,
                        "hasPreview": True,
                    },
                    "renderJob": None,
                }
            )
        if route == "GET /projects/tasks/stream":
            return self._stream(request, self.tasks.get(parts[3]))
        if route == "POST /projects/render":
            job_id = self.add_job(
                {"status": "pending", "progress": 0},
                {"status": "complete", "progress": 100, "videoUrl": self.video_url()},
            )
            return _ok({"jobId": job_id, "traceId": "tr"})
        if route == "GET /render-jobs":
            states = self.jobs.get(parts[1])
            if states is None:
                return _error("NOT_FOUND", "no such job", 404)
            state = states.popleft() if len(states) > 1 else states[0]
            return _ok(state)
        return _error("NOT_FOUND", f"no route {route}", 404)

    def _list(self, items: list[dict[str, Any]], request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        size = min(max(int(request.url.params.get("pageSize", "20")), 1), 50)
        total = len(items)
        chunk = items[(page - 1) * size : page * size]
        summaries = [{k: v for k, v in item.items() if k != "compositionHtml"} for item in chunk]
        pagination = {
            "page": page,
            "pageSize": size,
            "total": total,
            "totalPages": -(-total // size),
        }
        return httpx.Response(
            200, json={"success": True, "data": summaries, "pagination": pagination}
        )

    def _stream(self, request: httpx.Request, task: FakeTask | None) -> httpx.Response:
        if task is None:
            return _error("NOT_FOUND", "no such task", 404)
        plan = self.stream_plans.popleft() if self.stream_plans else self.default_stream
        start = int(request.url.params.get("from", "0"))
        newline = "\r\n" if plan.crlf else "\n"
        blocks: list[str] = []
        if plan.keepalive:
            blocks.append(f": keep-alive{newline}{newline}")
        sent = 0
        error: Exception | None = None
        for number, (name, data) in enumerate(task.events, start=1):
            if number <= start:
                continue
            if plan.cut_after is not None and sent >= plan.cut_after:
                break
            if plan.drop_after is not None and sent >= plan.drop_after:
                error = httpx.ReadError("connection reset by peer")
                break
            payload = data if isinstance(data, str) else json.dumps(data)
            lines = "".join(f"data: {line}{newline}" for line in payload.split("\n"))
            blocks.append(f"id: {number}{newline}event: {name}{newline}{lines}{newline}")
            sent += 1
        wire = "".join(blocks).encode()
        size = plan.chunk_size or max(len(wire), 1)
        chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
        return httpx.Response(
            200, headers={"content-type": plan.content_type}, stream=_Body(chunks, error)
        )

    def _video(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) in self.expired_urls:
            return httpx.Response(
                403, text="<Error><Code>AccessDenied</Code>Request has expired</Error>"
            )
        length = (
            self.lie_about_length if self.lie_about_length is not None else len(self.video_bytes)
        )
        data = self.video_bytes
        chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
        return httpx.Response(
            200,
            headers={"content-type": "video/mp4", "content-length": str(length)},
            stream=_Body(chunks),
        )

    def _new_project(self, name: str) -> dict[str, Any]:
        project = {
            "id": self._uuid(),
            "name": name,
            "hasPreview": False,
            "compositionHtml": "",
            "aspectRatio": "16:9",
        }
        self.projects.append(project)
        return project

    def _uuid(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._ids):012d}"


def _route(request: httpx.Request) -> str:
    """``"GET /tasks"`` for ``GET /api/v1/tasks/abc``: the method and the path without ids."""
    if not request.url.path.startswith("/api/v1"):
        return f"{request.method} {request.url.host}"
    parts = request.url.path.removeprefix("/api/v1").strip("/").split("/")
    named = [p for i, p in enumerate(parts) if i % 2 == 0]
    return f"{request.method} /" + "/".join(named)


def _ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data})


def _error(code: str, message: str, status: int) -> httpx.Response:
    return httpx.Response(
        status, json={"success": False, "error": {"code": code, "message": message}}
    )


def make_client(
    fake: FakeParafraim,
    clock: FakeTime,
    *,
    policy: RetryPolicy | None = None,
    api_key: str = KEY,
) -> ParafraimClient:
    """A real client on the fake, with fake time and a fixed jitter."""
    return ParafraimClient(
        ApiSettings(base_url=BASE_URL, api_key=api_key),
        transport=fake.transport(),
        retry=policy,
        sleep=clock.sleep,
        clock=clock.clock,
        jitter=lambda: 0.5,
    )


T = TypeVar("T")


def run(
    fake: FakeParafraim,
    scenario: Callable[[ParafraimClient], Awaitable[T]],
    *,
    clock: FakeTime | None = None,
    policy: RetryPolicy | None = None,
    api_key: str = KEY,
) -> T:
    """Run ``scenario`` with a client on ``fake`` (fake time unless ``clock`` is given)."""

    async def main() -> T:
        async with make_client(fake, clock or FakeTime(), policy=policy, api_key=api_key) as client:
            return await scenario(client)

    return asyncio.run(main())
