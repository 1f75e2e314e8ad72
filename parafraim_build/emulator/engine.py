"""The local engine's behaviour behind the HTTP layer: account, projects, templates, files.

``Engine`` loads (or creates) the state, owns the task and render services and answers every
operation with plain data or an ``ApiError`` carrying the documented ``error.code``; ``app.py``
turns both into HTTP. Nothing here knows about Starlette.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from parafraim_build.api.models import CreateProjectRequest, UseTemplateRequest
from parafraim_build.emulator import views
from parafraim_build.emulator.composition import has_preview, parse_composition
from parafraim_build.emulator.config import EngineConfig
from parafraim_build.emulator.core import Clock, Core
from parafraim_build.emulator.editor import ScriptedEditor
from parafraim_build.emulator.render import render_video
from parafraim_build.emulator.renders import Renderer, RenderService
from parafraim_build.emulator.signing import check_link
from parafraim_build.emulator.state import (
    Account,
    EngineState,
    Project,
    R,
    RecordError,
    RenderJob,
    Task,
    iso,
    new_uuid,
)
from parafraim_build.emulator.stats import RequestStats
from parafraim_build.emulator.store import (
    DirectoryStore,
    LoadedState,
    MemoryStore,
    SnapshotStore,
    Store,
)
from parafraim_build.emulator.tasks import Editor, TaskService
from parafraim_build.emulator.templates import CATALOGUE, TemplateDef
from parafraim_build.emulator.validation import parse_body, require_not_blank
from parafraim_build.errors import ApiError, ConfigError, NotFoundError, ProjectLimitError

logger = logging.getLogger(__name__)

PLAN = "local"
EMAIL = "you@local-engine.invalid"
STATS_FLUSH_SECONDS = 1.0
_FILE_NAME = re.compile(r"^[0-9a-f-]{36}\.(mp4|gif)$")
_MEDIA_TYPES = {"mp4": "video/mp4", "gif": "image/gif"}


def open_store(config: EngineConfig) -> Store:
    """Where the state lives: a directory with ``state_dir`` (only read with ``read_only``),
    else memory."""
    if config.state_dir is None:
        return MemoryStore()
    if config.read_only:
        return SnapshotStore(config.state_dir)
    return DirectoryStore(config.state_dir)


def build_state(loaded: LoadedState, config: EngineConfig, store: Store, now: float) -> EngineState:
    """The in-memory state from what was loaded; a new account is created and saved.

    A record file that is JSON but not a record (a missing field, a value of the wrong type, a
    task of a project that does not exist) is a ``ConfigError`` naming the file.
    """
    if loaded.account_path is not None:  # engine.json exists: it must hold the account
        account = _load(Account, loaded.account, loaded.account_path, "the account")
    else:
        account = Account(id=new_uuid(), email=EMAIL, plan=PLAN, created_at=iso(now))
        store.save_account(account.to_json()).result()
    state = EngineState(account, monthly_allowance=config.credits)
    projects = [
        (item.path, _load(Project, item.data, item.path)) for item in loaded.records["projects"]
    ]
    for _, project in sorted(projects, key=lambda pair: pair[1].seq):
        state.add_project(project)
    tasks = [(item.path, _load(Task, item.data, item.path)) for item in loaded.records["tasks"]]
    jobs = [(item.path, _load(RenderJob, item.data, item.path)) for item in loaded.records["jobs"]]
    owned: list[tuple[Path, Task | RenderJob]] = [*tasks, *jobs]
    for path, record in owned:
        if record.project_id not in state.projects:
            raise _damaged(path, f"its project {record.project_id} does not exist")
    for _, task in sorted(tasks, key=lambda pair: pair[1].seq):
        state.add_task(task)
    for _, job in sorted(jobs, key=lambda pair: pair[1].seq):
        state.add_job(job)
    return state


def _load(kind: type[R], data: Any, path: Path | None, what: str = "") -> R:
    try:
        return kind.from_json(data)
    except RecordError as exc:
        raise _damaged(path, f"{what or 'the record'} is not valid: {exc}") from exc


def _damaged(path: Path | None, reason: str) -> ConfigError:
    return ConfigError(
        f"the engine's state file {path} cannot be used: {reason}",
        hint="restore it from a backup, or remove the state directory to start afresh",
    )


def paginate(items: Sequence[Any], page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
    """One page of ``items`` and the ``pagination`` object describing it."""
    total = len(items)
    start = (page - 1) * page_size
    return list(items[start : start + page_size]), {
        "page": page,
        "pageSize": page_size,
        "total": total,
        "totalPages": -(-total // page_size),
    }


class Engine:
    """One local Parafraim account and everything in it."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        editor: Editor | None = None,
        renderer: Renderer | None = None,
        catalogue: Iterable[TemplateDef] | None = None,
        clock: Clock = time.time,
    ) -> None:
        store = open_store(config)
        try:
            loaded = store.load()
            state = build_state(loaded, config, store, clock())
        except BaseException:
            store.close()
            raise
        self.config = config
        self.core = Core(config, state, store, clock)
        self.stats = RequestStats.from_json(loaded.stats)
        self.tasks = TaskService(
            self.core,
            editor or ScriptedEditor(seed=config.seed, nondeterministic=config.nondeterministic),
        )
        self.renders = RenderService(self.core, renderer or render_video)
        self.templates = {template.id.lower(): template for template in catalogue or CATALOGUE}
        self._template_preview = {
            key: has_preview(template.html) for key, template in self.templates.items()
        }
        self._flusher: asyncio.Task[None] | None = None

    @property
    def state(self) -> EngineState:
        """The engine's model (shared with the task and render services)."""
        return self.core.state

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """In the server's loop: resume unfinished work, start saving request counters.

        A ``read_only`` engine resumes nothing: the unfinished work belongs to the engine that
        owns the state directory, whose next start must find it as it was left.
        """
        if not self.config.read_only:
            self.tasks.resume()
            self.renders.resume()
        if self.core.store.persistent:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_stats_forever())

    def begin_shutdown(self) -> None:
        """End every open stream, so the server can close its connections."""
        self.core.closing = True
        self.tasks.wake_all()

    async def stop(self) -> None:
        """Stop runners and renders in progress (both resume after a restart), save the
        counters, finish the writes and close the store (which lets another engine use it)."""
        self.begin_shutdown()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.tasks.stop()
        await self.renders.stop()
        await self._flush_stats()
        await asyncio.to_thread(self.core.store.close)

    async def _flush_stats_forever(self) -> None:
        while True:
            await asyncio.sleep(STATS_FLUSH_SECONDS)
            await self._flush_stats()

    async def _flush_stats(self) -> None:
        if self.stats.dirty:
            self.stats.dirty = False
            await asyncio.wrap_future(self.core.store.save_stats(self.stats.to_json()))

    def close_unstarted(self) -> None:
        """Release the store of an engine whose server never started."""
        self.core.store.close()

    # ----------------------------------------------------------------- account

    def me(self) -> dict[str, Any]:
        """``GET /me``: the account; ``renderCredits`` is this month's balance."""
        account = self.state.account
        return {
            "id": account.id,
            "email": account.email,
            "plan": account.plan,
            "renderCredits": self.core.balance(),
        }

    def credits(self) -> dict[str, Any]:
        """``GET /credits``: balance = allowance - used, both for this calendar month (UTC)."""
        today = self.core.now_iso()[:10]
        return {
            "balance": self.state.balance(today[:7]),
            "plan": self.state.account.plan,
            "monthlyAllowance": self.state.monthly_allowance,
            "used": self.state.used_since(today[:7]),
            "usedToday": self.state.used_since(today),
            "limits": {
                "projects": self.config.project_limit,
                "concurrentTasks": self.config.concurrency,
            },
            "recent": [item.to_api() for item in self.state.recent_transactions()],
        }

    # ---------------------------------------------------------------- projects

    def list_projects(self, page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
        """Newest first, without compositions."""
        newest_first = list(reversed(self.state.projects.values()))
        items, pagination = paginate(newest_first, page, page_size)
        return [views.project_summary(project) for project in items], pagination

    async def create_project(self, body: Any) -> dict[str, Any]:
        """``POST /projects``: blank, or a copy of a template's composition."""
        request = parse_body(CreateProjectRequest, body)
        require_not_blank("name", request.name)
        template = self._template(request.templateId) if request.templateId else None
        project = self._new_project(
            name=request.name,
            description=request.description,
            aspect_ratio=request.aspectRatio,
            template=template,
            origin="template" if template else "blank",
            route="POST /api/v1/projects",
            body=body,
        )
        await self.core.persist("projects", project.id, project)
        return views.project_created(project)

    async def use_template(self, template_id: str, body: Any) -> dict[str, Any]:
        """``POST /templates/{id}/use``: a new project from a template; counts a use."""
        template = self._template(template_id)
        request = parse_body(UseTemplateRequest, body)
        require_not_blank("name", request.name)
        project = self._new_project(
            name=request.name or template.name[:100],
            description=request.description
            if request.description is not None
            else template.description[:500],
            aspect_ratio=None,
            template=template,
            origin="template-use",
            route="POST /api/v1/templates/{templateId}/use",
            body=body,
        )
        await self.core.persist("projects", project.id, project)
        return views.project_created(project)

    def _new_project(
        self,
        *,
        name: str,
        description: str | None,
        aspect_ratio: str | None,
        template: TemplateDef | None,
        origin: str,
        route: str,
        body: Any,
    ) -> Project:
        state = self.state
        limit = self.config.project_limit
        if len(state.projects) >= limit:
            raise ProjectLimitError(
                f"the {state.account.plan} plan allows {limit} projects and all are in use"
            )
        html = template.html if template else ""
        composition = parse_composition(html) if html else None
        now = self.core.now_iso()
        project = Project(
            id=new_uuid(),
            seq=state.next_seq(),
            name=name,
            description=description,
            aspect_ratio=composition.aspect_ratio if composition else aspect_ratio or "16:9",
            origin=origin,
            template_id=template.id if template else None,
            composition_html=html,
            created_at=now,
            updated_at=now,
            route=route,
            request_body=body,
            has_preview=has_preview(html) if html else False,
        )
        state.add_project(project)
        return project

    # --------------------------------------------------------------- templates

    def _template(self, template_id: str) -> TemplateDef:
        template = self.templates.get(template_id.lower())
        if template is None:
            raise NotFoundError(f"template {template_id} not found")
        return template

    def list_templates(
        self, category: str | None, query: str | None, page: int, page_size: int
    ) -> tuple[list[Any], dict[str, int]]:
        """Catalogue order; ``category`` exact, ``query`` in name, description or category."""
        needle = (query or "").strip().lower()
        matches = [
            template
            for template in self.templates.values()
            if (not category or template.category == category)
            and (
                not needle
                or needle in template.name.lower()
                or needle in template.description.lower()
                or needle in template.category.lower()
            )
        ]
        items, pagination = paginate(matches, page, page_size)
        return [self._template_summary(template) for template in items], pagination

    def _template_summary(self, template: TemplateDef) -> dict[str, Any]:
        return {
            "id": template.id,
            "name": template.name,
            "description": template.description,
            "category": template.category,
            "hasPreview": self._template_preview[template.id.lower()],
            "usageCount": self.state.template_uses[template.id],
        }

    # ------------------------------------------------------------------- files

    def file_for(self, name: str, expires: str | None, sig: str | None) -> tuple[Path, str]:
        """The rendered file a signed link points to, and its media type."""
        if not _FILE_NAME.match(name):
            raise NotFoundError(f"file {name} not found")
        reason = check_link(self.core.signing_key, name, expires, sig, now=self.core.clock())
        if reason:
            raise ApiError(
                f"{reason}; GET /api/v1/render-jobs/{{jobId}} hands out a fresh one",
                code="FORBIDDEN",
                status=403,
            )
        path = self.core.store.files_dir / name
        if not path.is_file():
            raise NotFoundError(f"file {name} not found")
        return path, _MEDIA_TYPES[name.rsplit(".", 1)[1]]

    # ------------------------------------------------------------------- admin

    def stats_snapshot(self) -> dict[str, Any]:
        """``GET /_engine/stats``: request counters plus a few live gauges."""
        return self.stats.to_json() | {
            "streams": {
                "open": self.tasks.open_streams,
                "peak": self.tasks.peak_streams,
                "served": self.tasks.streams_served,
            },
            "tasks": {"running": self.state.running_task_count, "total": len(self.state.tasks)},
            "renders": {
                "total": len(self.state.jobs),
                "active": sum(1 for job in self.state.jobs.values() if not job.terminal),
            },
            "faults": dict(self.core.faults.injected),
        }

    def ledger(self) -> list[dict[str, Any]]:
        """``GET /_engine/ledger``."""
        return self.state.ledger()
