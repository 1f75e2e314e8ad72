"""Helpers for tests that talk to a real local engine over a real socket.

* ``EngineClient(engine)``: a small synchronous httpx client with the key set, envelope
  accessors (``data``, ``error``) and waiting helpers (``wait_task``, ``wait_job``,
  ``new_project``, ``edited_project``, ``render``, ``stream``).
* ``parse_sse``: a strict reader of the engine's SSE wire format.
* ``fast_config``: an ``EngineConfig`` with test-speed defaults.

The fixtures that start engines are in ``engine_fixtures.py``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from parafraim_build.emulator import EngineConfig, FaultConfig, RunningEngine

# Fast enough for a test suite, slow enough that a poller can see a task or job running.
FAST: dict[str, Any] = {"task_seconds": 0.05, "render_seconds": 0.05, "keepalive_seconds": 1.0}

# Two project templates of the engine's catalogue (their ids are part of the contract).
PRODUCT_LAUNCH = "00000000-0000-0000-0000-000000000001"
WEEKLY_RECAP = "00000000-0000-0000-0000-000000000007"

# The smallest, cheapest render the API allows: keeps real ffmpeg renders fast in tests.
SMALL_RENDER: dict[str, Any] = {
    "width": 480,
    "height": 270,
    "fps": 24,
    "format": "mp4",
    "quality": "draft",
    "includeAudio": False,
    "includeSubtitles": False,
}

EngineFactory = Callable[..., RunningEngine]


def fast_config(**overrides: Any) -> EngineConfig:
    """An ``EngineConfig`` with the fast defaults and ``overrides``."""
    values = FAST | overrides
    faults = values.get("faults")
    if isinstance(faults, dict):
        values["faults"] = FaultConfig(**faults)
    return EngineConfig(**values)


class EngineClient:
    """A synchronous client of one engine, for tests. ``close()`` it (or use ``with``)."""

    def __init__(self, running: RunningEngine, *, api_key: str | None = None) -> None:
        self.engine = running
        key = running.api_key if api_key is None else api_key
        self.http = httpx.Client(
            base_url=running.api_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is None:
            return self.http.post(path, **kwargs)
        return self.http.post(path, json=body, **kwargs)

    def data(self, response: httpx.Response) -> Any:
        """The ``data`` of a success envelope (fails the test on anything else)."""
        document = response.json()
        assert document["success"] is True, document
        return document["data"]

    def error(self, response: httpx.Response) -> dict[str, str]:
        """The ``error`` of a failure envelope (fails the test on anything else)."""
        document = response.json()
        assert document["success"] is False, document
        return dict(document["error"])

    # ----------------------------------------------------------- conveniences

    def new_project(self, **body: Any) -> dict[str, Any]:
        """``POST /projects`` (name defaults to "test"); returns ``data``."""
        body.setdefault("name", "test")
        response = self.post("/projects", body)
        assert response.status_code == 201, response.text
        return dict(self.data(response))

    def send(self, project_id: str, message: str, **extra: Any) -> str:
        """``POST .../messages``; returns the task id."""
        response = self.post(f"/projects/{project_id}/messages", {"message": message} | extra)
        assert response.status_code == 202, response.text
        return str(self.data(response)["taskId"])

    def wait_task(self, task_id: str, timeout: float = 30) -> dict[str, Any]:
        """Poll ``GET /tasks/{id}`` until it is no longer running."""
        deadline = time.monotonic() + timeout
        while True:
            task = dict(self.data(self.get(f"/tasks/{task_id}")))
            if task["status"] != "running":
                return task
            assert time.monotonic() < deadline, f"task {task_id} still running"
            time.sleep(0.01)

    def wait_job(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        """Poll ``GET /render-jobs/{id}`` until complete or failed."""
        deadline = time.monotonic() + timeout
        while True:
            job = dict(self.data(self.get(f"/render-jobs/{job_id}")))
            if job["status"] in ("complete", "failed"):
                return job
            assert time.monotonic() < deadline, f"render job {job_id} still {job['status']}"
            time.sleep(0.01)

    def edited_project(self, message: str = "Open with our new product.") -> dict[str, Any]:
        """A blank project after one completed message: it has a renderable preview."""
        project = self.new_project()
        task = self.wait_task(self.send(project["id"], message))
        assert task["status"] == "completed", task
        return dict(task["project"])

    def render(self, project_id: str, config: dict[str, Any] | None = None) -> str:
        """``POST .../render`` with ``config`` (the small one by default); returns the job id."""
        response = self.post(
            f"/projects/{project_id}/render",
            {"config": dict(SMALL_RENDER) if config is None else config},
        )
        assert response.status_code == 202, response.text
        return str(self.data(response)["jobId"])

    def stream(self, project_id: str, task_id: str, after: int | None = None) -> list[SseFrame]:
        """Every frame of one stream connection, read until the server closes it."""
        params = {} if after is None else {"from": after}
        path = f"/projects/{project_id}/tasks/{task_id}/stream"
        headers = {"Accept": "text/event-stream"}
        with self.http.stream("GET", path, params=params, headers=headers) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            return parse_sse("".join(response.iter_text()))


class SseFrame:
    """One parsed SSE frame: an event, or a comment (``comment`` set, the rest empty)."""

    def __init__(
        self, id: int | None, event: str | None, data: Any, comment: str | None = None
    ) -> None:
        self.id = id
        self.event = event
        self.data = data
        self.comment = comment

    def __repr__(self) -> str:
        return f"SseFrame(id={self.id}, event={self.event!r}, comment={self.comment!r})"


def parse_sse(text: str) -> list[SseFrame]:
    """A strict reader of the engine's SSE output (so tests check the wire format itself)."""
    frames: list[SseFrame] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        lines = block.split("\n")
        if all(line.startswith(":") for line in lines):
            frames.append(SseFrame(None, None, None, comment=lines[0][1:].strip()))
            continue
        fields: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(": ")
            fields.setdefault(name, []).append(value)
        assert set(fields) <= {"id", "event", "data"}, block
        frames.append(
            SseFrame(
                int(fields["id"][0]),
                fields["event"][0],
                json.loads("\n".join(fields["data"])),
            )
        )
    return frames


def state_files(state_dir: Path) -> dict[str, int]:
    """How many records of each kind a state directory holds."""
    return {
        kind: len(list((state_dir / kind).glob("*.json"))) for kind in ("projects", "tasks", "jobs")
    }


def file_digests(root: Path) -> dict[str, str]:
    """Every file under ``root`` (an engine's state, say) by its sha256: equal only when no
    byte changed."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
