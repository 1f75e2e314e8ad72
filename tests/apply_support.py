"""Helpers for the end-to-end tests of ``plan`` and ``apply`` against a real local engine.

* ``write_spec`` writes a ``parafraim.yaml`` from plain data (small, cheap renders by default).
* ``Builder`` runs the CLI in-process (click's ``CliRunner``) against one engine, with the
  environment pointed at it, and reads back the lock, the JSON documents and the counters.
* ``Ledger`` reads the engine's admin ledger and answers the questions the tests ask: which
  messages went to which project, and whether any message or render was ever sent twice.
* ``check_outputs`` proves every output the lock records is on disk, whole and verified.
* ``apply_through`` applies in-process through a ``RewritingTransport``: the engine's answers
  changed on their way (a field the real service might leave out).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from parafraim_build.apply import ApplyResult, ApplySettings
from parafraim_build.build import apply_spec
from parafraim_build.cli import main
from parafraim_build.connection import Connection, open_connection
from parafraim_build.digest import composition_hash
from parafraim_build.emulator import RunningEngine
from parafraim_build.lock_model import Lock
from parafraim_build.lockfile import read_lock
from parafraim_build.planning import PlanRequest
from parafraim_build.progress import ApplyReporter, NullReporter
from parafraim_build.spec import load_spec
from parafraim_build.workspace import Workspace, workspace_for

# The smallest render the API allows: keeps real ffmpeg renders fast.
SMALL: dict[str, Any] = {
    "width": 480,
    "height": 270,
    "fps": 24,
    "format": "mp4",
    "quality": "draft",
    "includeAudio": False,
    "includeSubtitles": False,
}
SMALL_GIF: dict[str, Any] = {**SMALL, "format": "gif"}
TWO_RENDERS: dict[str, dict[str, Any]] = {"clip": {}, "teaser": SMALL_GIF}


def video(
    *steps: str, renders: Mapping[str, Mapping[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    """One video of a spec: its steps, renders (``{}`` inherits the small default) and more."""
    document: dict[str, Any] = {"steps": list(steps), **extra}
    document["renders"] = {
        name: dict(config) for name, config in (TWO_RENDERS if renders is None else renders).items()
    }
    return document


def write_spec(
    root: Path, videos: Mapping[str, Mapping[str, Any]], *, out_dir: str = "out"
) -> Path:
    """Write ``root/parafraim.yaml`` (every video gets a ``clip`` render, ``SMALL`` by
    default); returns its path."""
    root.mkdir(parents=True, exist_ok=True)
    document = {
        "version": 1,
        "outDir": out_dir,
        "defaults": {"renders": {"clip": dict(SMALL)}},
        "videos": {key: dict(value) for key, value in videos.items()},
    }
    path = root / "parafraim.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_outputs(root: Path, lock: Lock) -> int:
    """Every output the lock records exists, has its size and sha256; returns how many.

    Also checks that no temporary file of an interrupted download or lock write is left in
    the output folders (a crash must never leave a half file where an output belongs).
    """
    count = 0
    for key, entry in lock.videos.items():
        assert not entry.pending, f"{key} still has pending operations: {entry.pending}"
        for name, record in entry.renders.items():
            path = root / record.path
            assert path.is_file(), f"{key}/{name}: {record.path} is missing"
            assert path.stat().st_size == record.size > 0, f"{key}/{name}: size differs"
            assert sha256_of(path) == record.sha256, f"{key}/{name}: sha256 differs"
            assert path.suffix == "." + record.config.format
            count += 1
    return count


class Builder:
    """The CLI against one engine, from one spec folder."""

    def __init__(self, engine: RunningEngine, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self._engine: RunningEngine | None = engine
        self.root = root
        monkeypatch.setenv("PARAFRAIM_BASE_URL", engine.base_url)
        monkeypatch.setenv("PARAFRAIM_API_KEY", engine.api_key)

    @classmethod
    def local(cls, root: Path) -> Builder:
        """A builder for ``--local`` runs: the CLI starts its own embedded engine."""
        builder = cls.__new__(cls)
        builder._engine = None
        builder.root = root
        return builder

    @property
    def engine(self) -> RunningEngine:
        """The engine the environment points at."""
        assert self._engine is not None, "a --local builder has no engine of its own"
        return self._engine

    @engine.setter
    def engine(self, engine: RunningEngine) -> None:
        self._engine = engine

    @property
    def spec(self) -> Path:
        """The spec file."""
        return self.root / "parafraim.yaml"

    @property
    def lock_path(self) -> Path:
        """``parafraim.lock`` beside the spec."""
        return self.root / "parafraim.lock"

    def write(self, videos: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the spec's videos."""
        write_spec(self.root, videos)

    def run(self, *args: str, input: str | None = None) -> Result:
        """``parafraim-build ARGS -f SPEC`` in-process; stdout and stderr kept apart."""
        command, *rest = args
        return CliRunner().invoke(
            main, [command, "-f", str(self.spec), *rest], input=input, catch_exceptions=False
        )

    def plan(self, *args: str) -> dict[str, Any]:
        """``plan --json``; fails the test unless it exits 0."""
        result = self.run("plan", "--json", *args)
        assert result.exit_code == 0, result.output
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def apply(self, *args: str, expect: int = 0) -> dict[str, Any]:
        """``apply --yes --json``; fails the test unless it exits ``expect``."""
        result = self.run("apply", "--yes", "--json", *args)
        assert result.exit_code == expect, result.output
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def lock_if_any(self) -> Lock | None:
        """The lock on disk now, or None before the first one is written."""
        return read_lock(self.lock_path)

    def lock(self) -> Lock:
        """The lock as it is on disk now."""
        lock = read_lock(self.lock_path)
        assert lock is not None, "no lock was written"
        return lock

    def requests(self) -> int:
        """How many API requests the engine has answered so far."""
        return int(self.engine.stats()["requests"]["total"])

    def balance(self) -> float:
        """The account's credit balance, read through the admin-free API."""
        response = httpx.get(
            f"{self.engine.api_url}/credits",
            headers={"Authorization": f"Bearer {self.engine.api_key}"},
            timeout=30,
        )
        return float(response.json()["data"]["balance"])

    def ledger(self) -> Ledger:
        """The engine's ledger now."""
        return Ledger.read(self.engine)


def actions(plan: Mapping[str, Any], video: str) -> list[tuple[str, Any]]:
    """``(action, step or render)`` for one video of a ``plan --json`` document."""
    for entry in plan["videos"]:
        if entry["video"] == video:
            return [(a["action"], a.get("step", a.get("render"))) for a in entry["actions"]]
    raise KeyError(video)


@dataclass(frozen=True)
class Render:
    """A render request as the ledger shows it, with the composition it was asked of.

    The ledger does not name the composition; the engine's job record keeps the HTML it was
    asked to render, so its sha256 identifies the composition exactly (a failed task, which
    leaves the HTML as it was, cannot hide a second render of the same composition).
    """

    project_id: str
    job_id: str
    composition: str
    config: str


class Ledger:
    """The engine's record of every accepted project, message and render, in order."""

    def __init__(
        self,
        entries: Sequence[dict[str, Any]],
        html: Mapping[str, str],
        status: Mapping[str, str],
    ) -> None:
        self.entries = list(entries)
        self._html = dict(html)
        self._status = dict(status)

    @classmethod
    def read(cls, engine: RunningEngine) -> Ledger:
        """The engine's ledger now, with each job's HTML and each task's status."""
        state = engine.engine.state
        return cls(
            engine.ledger(),
            {job_id: job.html for job_id, job in list(state.jobs.items())},
            {task_id: task.status for task_id, task in list(state.tasks.items())},
        )

    def since(self, earlier: Ledger) -> Ledger:
        """Only the entries added after ``earlier`` was read."""
        return Ledger(self.entries[len(earlier.entries) :], self._html, self._status)

    def kinds(self) -> Counter[str]:
        """How many projects, messages and renders."""
        return Counter(entry["kind"] for entry in self.entries)

    def projects(self) -> list[str]:
        """The ids of the projects created, in order."""
        return [e["projectId"] for e in self.entries if e["kind"] == "project"]

    def messages(self, project_id: str | None = None) -> list[str]:
        """The message texts sent (to one project), in order."""
        return [
            e["body"]["message"]
            for e in self.entries
            if e["kind"] == "message" and (project_id is None or e["projectId"] == project_id)
        ]

    def message_entries(self) -> list[dict[str, Any]]:
        """Every message entry."""
        return [e for e in self.entries if e["kind"] == "message"]

    def failed_tasks(self) -> set[str]:
        """The tasks that ended in error (their message was refunded and may be sent again)."""
        return {task_id for task_id, status in self._status.items() if status == "error"}

    def renders(self) -> list[Render]:
        """Every render request with the composition it was asked of (see ``Render``)."""
        return [
            Render(
                entry["projectId"],
                entry["jobId"],
                composition_hash(self._html[entry["jobId"]]),
                json.dumps(entry["body"].get("config", {}), sort_keys=True),
            )
            for entry in self.entries
            if entry["kind"] == "render"
        ]

    def render_projects(self) -> list[str]:
        """The project of every render request, in order."""
        return [render.project_id for render in self.renders()]

    def assert_nothing_sent_twice(self) -> None:
        """No message twice to one project (only a task that failed may be sent again), no
        render twice for one (project, composition, config)."""
        failed = self.failed_tasks()
        seen: Counter[tuple[str, str]] = Counter(
            (e["projectId"], json.dumps(e["body"], sort_keys=True))
            for e in self.message_entries()
            if e["taskId"] not in failed
        )
        twice = [key for key, count in seen.items() if count > 1]
        assert not twice, f"messages sent twice to one project: {twice}"
        renders = Counter((r.project_id, r.composition, r.config) for r in self.renders())
        doubled = [key for key, count in renders.items() if count > 1]
        jobs = [
            (index, entry["jobId"])
            for index, entry in enumerate(self.entries)
            if entry["kind"] == "render"
            and (entry["projectId"], composition_hash(self._html[entry["jobId"]]))
            in {(p, c) for p, c, _ in doubled}
        ]
        assert not doubled, f"renders requested twice: {doubled} (ledger entries {jobs})"


class RewritingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport to the engine whose JSON answers pass through ``rewrite`` first:
    how a test makes the engine answer what the real service might (a field left out)."""

    def __init__(self, rewrite: Callable[[httpx.Request, dict[str, Any]], dict[str, Any]]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if "json" not in response.headers.get("content-type", ""):
            return response
        body = json.loads(await response.aread())
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(
            response.status_code, headers=headers, json=self._rewrite(request, body)
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class RecordingReporter(NullReporter):
    """A reporter that keeps what the executor says while it waits, per video."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def waiting(self, video: str, why: str) -> None:
        self.said.append((video, why))


def apply_through(
    builder: Builder,
    transport: httpx.AsyncBaseTransport,
    request: PlanRequest | None = None,
    *,
    reporter: ApplyReporter | None = None,
) -> ApplyResult:
    """``apply --yes`` in-process, its client talking through ``transport``; ``reporter``
    hears the progress (nothing does by default)."""
    spec = load_spec(builder.spec)
    workspace = workspace_for(builder.spec, local=False)

    def connect(ws: Workspace) -> AbstractAsyncContextManager[Connection]:
        return open_connection(ws, transport=transport)

    return asyncio.run(
        apply_spec(
            spec,
            workspace,
            request or PlanRequest(),
            ApplySettings(),
            confirm=lambda plan: True,
            reporter=lambda: nullcontext(reporter or NullReporter()),
            connect=connect,
        )
    )
