"""The executor (``design.md`` §4): carry out a plan, videos in parallel, each in order.

Every video runs in its own ``VideoRunner``; they share the lock (every outcome is written
atomically as it happens), the run cache and one API client. ``--parallelism`` bounds how many
videos edit at once (the account's concurrent task limit); renders and downloads of videos whose
edits are done run alongside, bounded separately, so a long render never holds a task slot.

^C once: no new action starts; what runs finishes and is recorded. ^C twice: everything stops
at once; what was in flight stays ``pending`` in the lock and the next apply resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from parafraim_build.api.models import Credits, CreditTransaction
from parafraim_build.apply_context import CLOCK_SKEW, RunContext, VideoResult, parse_time
from parafraim_build.apply_video import VideoRunner
from parafraim_build.errors import BudgetError
from parafraim_build.plan_model import Plan

TICK_SECONDS = 1.0
RENDERS_PER_EDIT_SLOT = 4


@dataclass(frozen=True)
class ApplySettings:
    """How to apply: parallelism, the credit ceiling and the longest waits."""

    parallelism: int = 4
    render_parallelism: int | None = None
    max_credits: float | None = None
    task_timeout: float = 1800.0
    render_timeout: float = 3600.0

    @property
    def renders_at_once(self) -> int:
        """Renders (and downloads) in flight at once: by default four per edit slot.

        A render waits on the service's render farm, not on the account's task slots, and
        every edited video ends in renders: with as few render slots as edit slots, renders
        queue up behind each other and become the bottleneck of a large build.
        """
        return self.render_parallelism or RENDERS_PER_EDIT_SLOT * self.parallelism


@dataclass
class ApplyResult:
    """What an apply did, video by video, and what it cost.

    ``spent_credits`` is what this run's own messages and renders were charged, net of
    refunds, from the account's recent transactions (``spent_by_run``); ``balance_before`` and
    ``balance_after`` are ``GET /credits`` before the run (read by ``check_credits``) and after
    it. Each is None when unknown: not read (a plan estimated at nothing reads no balance), the
    read failed, or the transactions do not cover the whole run. With ``local`` they are the
    local engine's emulated credits.
    """

    videos: list[VideoResult] = field(default_factory=list)
    interrupted: bool = False
    changes: bool = True
    confirmed: bool = True
    estimated_credits: float = 0.0
    cost_label: str = ""
    requests: dict[str, int] = field(default_factory=dict)
    spent_credits: float | None = None
    balance_before: float | None = None
    balance_after: float | None = None
    local: bool = False

    @property
    def failed(self) -> list[VideoResult]:
        """The videos that stopped on an error."""
        return [video for video in self.videos if video.status == "failed"]

    @property
    def ok(self) -> bool:
        """Nothing failed and nothing was interrupted."""
        return not self.failed and not self.interrupted

    def to_json(self) -> dict[str, object]:
        """The ``apply --json`` result document."""
        return {
            "formatVersion": 1,
            "ok": self.ok,
            "changes": self.changes,
            "applied": self.confirmed and self.changes,
            "interrupted": self.interrupted,
            "estimatedCredits": self.estimated_credits,
            "costLabel": self.cost_label,
            "spentCredits": self.spent_credits,
            "balance": {"before": self.balance_before, "after": self.balance_after},
            "videos": [video.to_json() for video in self.videos],
            "requests": dict(sorted(self.requests.items())),
        }


async def execute_plan(plan: Plan, ctx: RunContext) -> ApplyResult:
    """Run every video of ``plan`` that has changes; never raises for a video's failure."""
    if plan.template_pins:
        pins = dict(plan.template_pins)
        ctx.store.update(lambda lock: lock.with_templates(pins))
        for name, template_id in pins.items():
            ctx.cache.remember_template(ctx.identity, name, template_id)
    runners = [VideoRunner(ctx, video) for video in plan.videos if video.changes]
    tasks = [asyncio.ensure_future(runner.run()) for runner in runners]
    ticker = asyncio.ensure_future(_tick(ctx))
    try:
        with _interrupts(ctx.stopping, tasks, ctx.reporter.waiting):
            await asyncio.wait(tasks)
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    results = []
    for runner, task in zip(runners, tasks, strict=True):
        if task.cancelled():
            runner.result.status = "interrupted"
            results.append(runner.result)
        else:
            results.append(task.result())
    interrupted = ctx.stopping.is_set() or any(r.status == "interrupted" for r in results)
    return ApplyResult(
        videos=results,
        interrupted=interrupted,
        estimated_credits=plan.estimated_credits,
        cost_label=plan.cost_label,
    )


async def _tick(ctx: RunContext) -> None:
    while True:
        await asyncio.sleep(TICK_SECONDS)
        ctx.reporter.tick()


@contextlib.contextmanager
def _interrupts(
    stopping: asyncio.Event,
    tasks: Sequence[asyncio.Future[VideoResult]],
    say: Callable[[str, str], None],
) -> Iterator[None]:
    """First ^C (or SIGTERM): stop starting work. Second: cancel what is in flight."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if not stopping.is_set():
            stopping.set()
            say("", "stopping: no new work starts; ^C again stops in-flight work too")
            return
        for task in tasks:
            task.cancel()

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or a platform without signal handlers in the loop
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def check_credits(
    plan: Plan, balance: Callable[[], Awaitable[float]], max_credits: float | None
) -> float | None:
    """Refuse a plan larger than the balance or than ``--max-credits`` before any work.

    Returns the balance it read, or None when it did not need one (a plan estimated at
    nothing, or one refused by ``--max-credits`` first): the "before" of the credits an
    apply reports having spent.
    """
    estimate = plan.estimated_credits
    if max_credits is not None and estimate > max_credits:
        raise BudgetError(
            f"the plan is estimated at {estimate:g} credits, more than --max-credits "
            f"{max_credits:g} ({plan.cost_label})",
            hint="raise --max-credits, or apply fewer videos (name them after `apply`)",
        )
    if estimate <= 0:
        return None
    available = await balance()
    if estimate > available:
        raise BudgetError(
            f"the plan is estimated at {estimate:g} credits but the account has {available:g} "
            f"({plan.cost_label})",
            hint="top up credits, or apply fewer videos (name them after `apply`)",
        )
    return available


def net_amount(tx: CreditTransaction) -> float:
    """What a transaction took from the balance: a refund gives back (negative).

    The amount's sign is not documented, so the type decides: ``refund`` is negative
    whichever sign the service sends.
    """
    amount = abs(tx.amount or 0.0)
    return -amount if (tx.type or "").lower() == "refund" else amount


def spent_by_run(
    credits: Credits, tasks: Collection[str], jobs: Collection[str], since: datetime
) -> float | None:
    """Credits this run's own tasks and render jobs were charged, net of refunds.

    ``credits`` is ``GET /credits`` read after the run; ``since`` is when the run started.
    ``recent`` only holds the account's newest transactions, so the sum is trusted only when
    it can have missed nothing: every task and job has its charge there (a refund comes after
    its charge, so it is there too), or the oldest transaction shown predates the run (then an
    operation without a charge was free). Otherwise None: some of the run's charges may have
    fallen out of the window. The first rule rests on the documented billing: one charge per
    operation (a message when it is sent, a render precharged when it starts), and at most a
    refund after it; a service that charged an operation twice could be under-counted there.
    """
    operations = set(tasks) | set(jobs)
    if not operations:
        return 0.0
    charged: set[str] = set()
    amounts: list[float] = []
    for tx in credits.recent:
        operation = tx.taskId if tx.taskId in operations else tx.jobId
        if operation is None or operation not in operations:
            continue
        net = net_amount(tx)
        amounts.append(net)
        if net > 0:
            charged.add(operation)
    if charged != operations:
        times = [parse_time(tx.createdAt) for tx in credits.recent]
        known = [moment for moment in times if moment is not None]
        if not known or min(known) >= since - CLOCK_SKEW:
            return None
    # Rounded to hide float noise (0.1 + 0.2); prices have at most a few decimals.
    total = round(math.fsum(amounts), 6)
    return total if total else 0.0  # never -0.0
