"""What the video runners of one ``apply`` share, and the bookkeeping of one video.

``RunContext`` is the run: the lock store, the run cache, the client, the reporter, the budget
and the slots. ``VideoBook`` is one video's side of it: the only way a runner reads and
records its lock entry, so that every write goes through the same atomic store and the run
cache hears about the project first when it matters (``write_ahead``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.models import Credits, RenderConfig
from parafraim_build.cache import RunCache
from parafraim_build.errors import BudgetError, BuildError
from parafraim_build.lock_model import Lock, RenderRecord, VideoLock, utc_timestamp
from parafraim_build.lockfile import LockStore
from parafraim_build.outputs import resolve_output
from parafraim_build.plan_model import Action, Plan, VideoPlan
from parafraim_build.pricing_estimate import CostModel
from parafraim_build.progress import ApplyReporter
from parafraim_build.spec.models import Spec

CLOCK_SKEW = timedelta(seconds=5)
"""How far the service's clock may trail ours when matching a lost request to its charge in
``GET /credits``; intents are stamped to the second."""


class Replanner(Protocol):
    """Plans one video again from the lock as it is now: what the executor runs instead of
    the rest of that video's plan when it must move to another project mid-run.

    ``claimed`` are the projects the run has promised to videos (``ProjectClaims.ids``): the
    new plan never reuses one. ``lost`` says the video's message intent without a task id was
    looked up in vain (``plan.make_plan``'s ``lost_tasks``).
    """

    def __call__(self, video: str, *, claimed: Collection[str], lost: bool) -> VideoPlan:
        """The video's new plan."""
        ...


class ProjectClaims:
    """Which video of this run holds, or is about to take, each project.

    A plan never gives one project to two videos, but a video planned again mid-run (its
    message was lost) is planned from the lock as it is *then*: a project the first plan set
    aside for another video that has not run yet is not in the lock. So the run keeps one set
    of every project the lock gives a video and every reuse target of the plan (and of each
    re-plan); re-plans never pick one, and a reuse of a project another video holds is refused.
    """

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}

    @classmethod
    def of(cls, lock: Lock | None, plan: Plan) -> ProjectClaims:
        """The claims at the start of a run: the lock's projects, then the plan's reuses."""
        claims = cls()
        if lock is not None:
            for video, entry in lock.videos.items():
                claims.claim(entry.projectId, video)
        for video_plan in plan.videos:
            claims.claim_plan(video_plan)
        return claims

    def claim(self, project_id: str, video: str) -> bool:
        """Give ``project_id`` to ``video``; False (and nothing changed) when another video
        holds it."""
        holder = self._holders.setdefault(project_id, video)
        return holder == video

    def claim_plan(self, plan: VideoPlan) -> bool:
        """Claim every project ``plan`` reuses for its video; False if one is held by another."""
        ok = True
        for action in plan.actions:
            if action.reuse is not None:
                ok = self.claim(action.reuse.project_id, plan.video) and ok
        return ok

    def holder(self, project_id: str) -> str | None:
        """The video that holds ``project_id``, if any."""
        return self._holders.get(project_id)

    def ids(self) -> frozenset[str]:
        """Every claimed project."""
        return frozenset(self._holders)


class Budget:
    """The ``--max-credits`` guard: no operation starts that would pass the limit."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.reserved = 0.0

    def reserve(self, amount: float, what: str) -> None:
        """Count ``amount`` as spent, or raise ``BudgetError`` if that would pass the limit."""
        if self.limit is not None and self.reserved + amount > self.limit + 1e-9:
            raise BudgetError(
                f"{what} not started: estimated at {amount:g} credits, it would pass "
                f"--max-credits {self.limit:g} ({self.reserved:g} already committed by this run)",
                hint="raise --max-credits, or apply fewer videos at a time",
            )
        self.reserved += amount

    def release(self, amount: float) -> None:
        """Give back a reservation whose operation was refused before anything was charged."""
        self.reserved = max(0.0, self.reserved - amount)


@dataclass
class RunContext:
    """What every video runner of one ``apply`` shares."""

    spec: Spec
    store: LockStore
    cache: RunCache
    client: ParafraimClient
    identity: str
    account_id: str
    scope: str
    reporter: ApplyReporter
    costs: CostModel
    budget: Budget
    edit_slots: asyncio.Semaphore
    render_slots: asyncio.Semaphore
    stopping: asyncio.Event
    local: bool = False
    task_timeout: float = 1800.0
    render_timeout: float = 3600.0
    started_tasks: list[str] = field(default_factory=list)
    started_jobs: dict[str, RenderConfig] = field(default_factory=dict)
    job_durations: dict[str, float | None] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    replan: Replanner | None = None
    claims: ProjectClaims = field(default_factory=ProjectClaims)


@dataclass(frozen=True)
class ActionOutcome:
    """What one finished action did."""

    action: str
    step: int | None
    render: str | None
    outcome: str

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {"action": self.action}
        if self.step is not None:
            document["step"] = self.step
        if self.render is not None:
            document["render"] = self.render
        document["outcome"] = self.outcome
        return document


@dataclass
class VideoResult:
    """How one video's pipeline ended: ``ok``, ``failed`` or ``interrupted``."""

    video: str
    project_id: str | None
    status: str = "ok"
    error: str | None = None
    hint: str | None = None
    done: list[ActionOutcome] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "video": self.video,
            "projectId": self.project_id,
            "status": self.status,
            "error": self.error,
            "hint": self.hint,
            "actions": [outcome.to_json() for outcome in self.done],
            "outputs": sorted(self.outputs),
        }


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time from the lock or the API, in UTC; None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ProjectCharges:
    """What the account's recent transactions (``GET /credits``) say about one project: when
    each of its message tasks and render jobs was charged (refunds left out), and which tasks
    of the account were refunded. The one reading of ``GET /credits`` that finding a lost
    message and a lost render job share."""

    messages: dict[str, datetime]
    renders: dict[str, datetime]
    refunded_tasks: frozenset[str]


def project_charges(credits: Credits, project_id: str) -> ProjectCharges:
    """The project's charges among the account's recent transactions (``credits``, as
    ``GET /credits`` answered); a transaction without a readable time is left out (it cannot
    be placed after an intent)."""
    refunded = {
        tx.taskId for tx in credits.recent if tx.taskId and (tx.type or "").lower() == "refund"
    }
    messages: dict[str, datetime] = {}
    renders: dict[str, datetime] = {}
    for tx in credits.recent:
        if tx.projectId != project_id or (tx.type or "").lower() == "refund":
            continue
        made = parse_time(tx.createdAt)
        if made is None:
            continue
        if tx.jobId:
            renders[tx.jobId] = made
        elif tx.taskId:
            messages[tx.taskId] = made
    return ProjectCharges(messages, renders, frozenset(refunded))


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class VideoBook:
    """One video's lock entry and outputs, read and recorded for its runner."""

    def __init__(self, ctx: RunContext, video: str, result: VideoResult) -> None:
        self.ctx = ctx
        self.video = video
        self.result = result

    def update(self, change: Callable[[Lock], Lock]) -> Lock:
        """Apply a pure change to the lock and write it atomically."""
        return self.ctx.store.update(change)

    def lock(self) -> Lock:
        """The current lock."""
        lock = self.ctx.store.lock
        if lock is None:
            raise BuildError("the lock was not opened before applying")
        return lock

    def entry(self) -> VideoLock:
        """This video's current lock entry."""
        return self.lock().entry(self.video)

    def project_id(self) -> str:
        """The project this video lives in now."""
        return self.entry().projectId

    def remember_project(self, lock: Lock) -> None:
        """Tell the run cache what the project holds according to ``lock``."""
        ctx = self.ctx
        ctx.cache.remember_project(
            ctx.identity, ctx.account_id, self.video, lock.entry(self.video), scope=ctx.scope
        )

    def leave_project(self) -> None:
        """Before the video leaves its project (moves to another, or leaves the spec): when the
        lock holds a message in flight there, the run cache hears it first.

        The lock's record is about to go, and with it the only sign that the project may hold
        a message nobody recorded; the run cache may know the project as settled (another
        branch's lock, a cache that never heard of the intent), and would then offer it for
        reuse. Marked in flight, with that message's chain key, it never is.
        """
        lock = self.ctx.store.lock
        entry = lock.videos.get(self.video) if lock is not None else None
        if lock is not None and entry is not None and entry.pending_task is not None:
            self.remember_project(lock)

    def write_ahead(self, lock: Lock) -> None:
        """Write ``lock``, which adds an intent, after the run cache has heard of it."""
        # The cache hears first that the project may hold an unrecorded message: a crash
        # between the two writes must never leave it marked as safe to reuse.
        self.remember_project(lock)
        self.ctx.store.write(lock)

    def now(self) -> str:
        """``startedAt`` for an intent written now."""
        return utc_timestamp(self.ctx.clock())

    def note_composition(self, html: str) -> str:
        """Keep a composition in the run cache; its sha256."""
        digest = self.ctx.cache.store_composition(html)
        # A storyboard (the engine's compositions, local or served) says how long it plays:
        # render estimates and observed render costs scale with it. Other HTML (the real
        # service's is opaque to us) gives None, and estimates assume a length.
        from parafraim_build.emulator.composition import parse_composition

        parsed = parse_composition(html)
        if parsed is not None:
            self.ctx.durations[digest] = parsed.duration
            self.ctx.cache.record_duration(digest, parsed.duration)
        return digest

    def output_path(self, action: Action) -> tuple[str, Path]:
        """The action's output, relative to the spec (as in the lock) and on this machine."""
        if action.path is None:
            raise BuildError(f"the plan's {action.kind} action has no output path")
        return action.path, resolve_output(self.ctx.spec.root, action.path)

    def record_output(
        self,
        name: str,
        key: str,
        job_id: str | None,
        relpath: str,
        sha256: str,
        size: int,
        config: RenderConfig,
    ) -> None:
        """A verified output is on disk: record it (and resolve its pending render)."""
        record = RenderRecord(
            key=key, jobId=job_id, path=relpath, sha256=sha256, size=size, config=config
        )
        self.update(lambda lock: lock.record_render(self.video, name, record))
        self.result.outputs.append(relpath)
