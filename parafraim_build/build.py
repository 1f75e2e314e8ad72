"""``plan`` and ``apply`` as two functions: what the CLI (and ``watch``, and tests) call.

``plan_spec`` reads the lock without taking it, and talks to the API only when a template name
is not pinned yet: planning an unchanged project makes no request at all. ``apply_spec`` takes
the lock for its whole run, checks the account, re-plans, checks credits, asks for
confirmation, then hands the plan to the executor, and finally reads the balance again to say
what the run spent.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Collection
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from parafraim_build.api.models import Credits
from parafraim_build.apply import (
    ApplyResult,
    ApplySettings,
    check_credits,
    execute_plan,
    net_amount,
    spent_by_run,
)
from parafraim_build.apply_context import Budget, ProjectClaims, RunContext
from parafraim_build.cache import RunCache
from parafraim_build.config import DEFAULT_BASE_URL, ENV_BASE_URL, normalise_base_url
from parafraim_build.connection import Connection, open_connection, open_read_only_connection
from parafraim_build.errors import BuildError, ConfigError
from parafraim_build.lock_model import Lock
from parafraim_build.lockfile import LockStore, check_owner, lock_digest, read_lock
from parafraim_build.plan import pinned_templates, templates_to_resolve
from parafraim_build.plan_file import SavedPlan, check_saved_plan
from parafraim_build.plan_model import Plan, VideoPlan
from parafraim_build.planning import (
    PlanRequest,
    compute_plan,
    costs_for,
    resolve_template_names,
)
from parafraim_build.progress import ApplyReporter
from parafraim_build.spec.models import Spec
from parafraim_build.workspace import LOCAL_IDENTITY, Workspace, sweep_interrupted_writes

log = logging.getLogger(__name__)

Connector = Callable[[Workspace], AbstractAsyncContextManager[Connection]]


@dataclass(frozen=True)
class PlanOutcome:
    """A plan and what a saved plan file must remember about how it was made."""

    plan: Plan
    lock_digest: str
    template_ids: dict[str, str]
    service: str
    account_id: str | None


def _configured_identity(workspace: Workspace) -> str:
    if workspace.local:
        return LOCAL_IDENTITY
    return normalise_base_url(os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)


async def plan_spec(
    spec: Spec,
    workspace: Workspace,
    request: PlanRequest,
    *,
    identify: bool = False,
    connect: Connector = open_read_only_connection,
) -> PlanOutcome:
    """The plan for ``spec`` against its lock and run cache.

    ``identify`` (a plan to be saved) asks the service for the account when the lock does not
    name it, so that the saved plan can only be applied by that account (``--local``'s is
    the same everywhere and is not asked).
    """
    lock = read_lock(workspace.lock_path)
    digest = lock_digest(workspace.lock_path)
    identity = _configured_identity(workspace)
    if lock is not None and lock.baseUrl.rstrip("/") != identity.rstrip("/"):
        check_owner(lock, identity, lock.accountId, source=workspace.lock_path.name)
    account_id = lock.accountId if lock is not None else None
    template_ids = pinned_templates(lock)
    missing = templates_to_resolve(spec, lock, request.selected)
    if missing or (identify and account_id is None and not workspace.local):
        async with connect(workspace) as conn:
            me = await conn.client.me()
            if lock is not None:
                check_owner(lock, conn.identity, me.id, source=workspace.lock_path.name)
            account_id = me.id
            template_ids.update(
                await resolve_template_names(conn.client, missing, local=conn.local, spec=spec)
            )
    with RunCache(workspace.cache_dir) as cache:
        plan = compute_plan(
            spec,
            lock,
            cache,
            workspace,
            request,
            identity=identity,
            account_id=account_id,
            template_ids=template_ids,
        )
    return PlanOutcome(
        plan=plan,
        lock_digest=digest,
        template_ids=template_ids,
        service=identity,
        account_id=account_id,
    )


async def apply_spec(
    spec: Spec,
    workspace: Workspace,
    request: PlanRequest,
    settings: ApplySettings,
    *,
    confirm: Callable[[Plan], bool],
    reporter: Callable[[], AbstractContextManager[ApplyReporter]],
    saved: SavedPlan | None = None,
    connect: Connector = open_connection,
) -> ApplyResult:
    """Plan and, once confirmed, apply. One failed video does not stop the others.

    When the lock already says everything is up to date (and no template name needs looking
    up), nothing is asked of the API: a no-op apply makes no request at all, like ``plan``.
    The lock's account is checked by the first request of every apply that has work to do.
    The result says what the run spent (``ApplyResult.spent_credits``, from one ``GET
    /credits`` after the run; see ``_account_for_credits``).
    """
    with LockStore(workspace.lock_path, local=workspace.local, spec_path=spec.path) as store:
        digest = lock_digest(workspace.lock_path)
        for path in sweep_interrupted_writes(workspace, spec, store.lock):
            log.info("removed %s, left by an interrupted run", path)
        offline = _plan_offline(spec, workspace, request, store.lock, saved)
        if offline is not None and not offline.changes:
            if saved is not None:
                check_saved_plan(
                    saved,
                    spec=spec,
                    lock_digest=digest,
                    plan=offline,
                    service=_configured_identity(workspace),
                    account_id=store.lock.accountId if store.lock is not None else None,
                )
            if store.lock is not None:
                with RunCache(workspace.cache_dir) as cache:
                    _remember_lock(cache, _configured_identity(workspace), store.lock, workspace)
            return ApplyResult(
                changes=False,
                cost_label=offline.cost_label,
                spent_credits=0.0,
                local=workspace.local,
            )
        async with connect(workspace) as conn:
            client = conn.client
            me = await client.me()
            lock = store.check_owner(conn.identity, me.id)
            template_ids = pinned_templates(lock)
            if saved is not None:
                template_ids = {**saved.template_ids, **template_ids}
            missing = templates_to_resolve(spec, lock, request.selected) - set(template_ids)
            template_ids.update(
                await resolve_template_names(client, missing, local=conn.local, spec=spec)
            )
            with RunCache(workspace.cache_dir) as cache:
                plan = compute_plan(
                    spec,
                    _existing(lock),
                    cache,
                    workspace,
                    request,
                    identity=conn.identity,
                    account_id=me.id,
                    template_ids=template_ids,
                )
                if saved is not None:
                    check_saved_plan(
                        saved,
                        spec=spec,
                        lock_digest=digest,
                        plan=plan,
                        service=conn.identity,
                        account_id=me.id,
                    )
                _remember_lock(cache, conn.identity, lock, workspace)
                if not plan.changes:
                    return ApplyResult(
                        changes=False,
                        cost_label=plan.cost_label,
                        spent_credits=0.0,
                        local=conn.local,
                    )

                async def balance() -> float:
                    return (await client.credits()).balance

                before = await check_credits(plan, balance, settings.max_credits)
                if not confirm(plan):
                    return ApplyResult(
                        confirmed=False,
                        estimated_credits=plan.estimated_credits,
                        cost_label=plan.cost_label,
                        spent_credits=0.0,
                        balance_before=before,
                        local=conn.local,
                    )

                def replan(video: str, *, claimed: Collection[str], lost: bool) -> VideoPlan:
                    # The video must move to another project (its lost message was looked up
                    # in vain, or the project it was to reuse is another video's): plan it
                    # again from the lock as it is now, never reusing a claimed project.
                    again = compute_plan(
                        spec,
                        store.lock,
                        cache,
                        workspace,
                        PlanRequest(selected=(video,), no_render=request.no_render),
                        identity=conn.identity,
                        account_id=me.id,
                        template_ids=template_ids,
                        lost_tasks=(video,) if lost else (),
                        claimed=claimed,
                    )
                    return again.video(video)

                with reporter() as progress:
                    ctx = _context(spec, workspace, store, cache, conn, me.id, settings, progress)
                    ctx.replan = replan
                    ctx.claims = ProjectClaims.of(lock, plan)
                    started = ctx.clock()
                    result = await execute_plan(plan, ctx)
                await _account_for_credits(ctx, result, before=before, started=started)
                result.requests = dict(client.request_counts)
                return result


def _plan_offline(
    spec: Spec,
    workspace: Workspace,
    request: PlanRequest,
    lock: Lock | None,
    saved: SavedPlan | None,
) -> Plan | None:
    """The plan from the lock alone, or None when it needs the API (a template to look up).

    A lock of another service is refused here already; its account can only be checked by
    asking the API, which ``apply_spec`` does before any work.
    """
    identity = _configured_identity(workspace)
    account_id = None
    if lock is not None:
        check_owner(lock, identity, lock.accountId, source=workspace.lock_path.name)
        account_id = lock.accountId
    template_ids = {**(saved.template_ids if saved is not None else {}), **pinned_templates(lock)}
    if templates_to_resolve(spec, lock, request.selected) - set(template_ids):
        return None
    with RunCache(workspace.cache_dir) as cache:
        return compute_plan(
            spec,
            lock,
            cache,
            workspace,
            request,
            identity=identity,
            account_id=account_id,
            template_ids=template_ids,
        )


def _remember_lock(cache: RunCache, identity: str, lock: Lock, workspace: Workspace) -> None:
    """Give the run cache back what the lock knows of its projects (a deleted cache would
    otherwise never offer them for reuse again); see ``RunCache.remember_lock``."""
    written = cache.remember_lock(identity, lock.accountId, lock, scope=workspace.scope)
    if written:
        log.info("the run cache learnt %d project(s) from the lock", written)


def _existing(lock: Lock) -> Lock | None:
    # A lock that was only just created in memory has nothing in it to plan against.
    return lock if lock.videos or lock.templates else None


def _context(
    spec: Spec,
    workspace: Workspace,
    store: LockStore,
    cache: RunCache,
    conn: Connection,
    account_id: str,
    settings: ApplySettings,
    reporter: ApplyReporter,
) -> RunContext:
    view = cache.view(conn.identity, account_id, scope=workspace.scope)
    if settings.parallelism < 1:
        raise ConfigError("--parallelism must be at least 1")
    return RunContext(
        spec=spec,
        store=store,
        cache=cache,
        client=conn.client,
        identity=conn.identity,
        account_id=account_id,
        scope=workspace.scope,
        reporter=reporter,
        costs=costs_for(view, local=conn.local),
        budget=Budget(settings.max_credits),
        edit_slots=asyncio.Semaphore(settings.parallelism),
        render_slots=asyncio.Semaphore(settings.renders_at_once),
        stopping=asyncio.Event(),
        local=conn.local,
        task_timeout=settings.task_timeout,
        render_timeout=settings.render_timeout,
        durations=dict(view.durations),
    )


async def _account_for_credits(
    ctx: RunContext, result: ApplyResult, *, before: float | None, started: datetime
) -> None:
    """Fill in what the run spent, from one ``GET /credits`` after it.

    The same read teaches the run cache what this run's messages and renders cost (for the
    next estimate against the real service; ``--local`` prices with the engine's formula).
    Read only when there is something to compare: a balance read before, or a task or render
    this run started; otherwise nothing was charged (``spent_credits`` 0) and no request is
    made. Best effort: a failed read leaves the figures unknown and never fails the apply.
    """
    result.local = ctx.local
    result.balance_before = before
    if not ctx.started_tasks and not ctx.started_jobs:
        result.spent_credits = 0.0  # nothing this run started can have been charged
        if before is None:
            return
    try:
        credits = await ctx.client.credits()
    except BuildError as error:
        log.info("could not read credits after the run: %s", error)
        return
    result.balance_after = credits.balance
    result.spent_credits = spent_by_run(credits, ctx.started_tasks, ctx.started_jobs, started)
    if not ctx.local:
        _record_observed_costs(ctx, credits)


def _record_observed_costs(ctx: RunContext, credits: Credits) -> None:
    """Learn what this run's messages and renders cost, for the next plan's estimate.

    ``credits`` is the ``GET /credits`` read after the run; its recent transactions are
    matched to the tasks and jobs this run started.
    """
    tasks = set(ctx.started_tasks)
    per_job: dict[str, float] = {}
    for tx in credits.recent:
        signed = net_amount(tx)
        if tx.taskId in tasks and signed > 0:
            ctx.cache.record_message_cost(ctx.identity, ctx.account_id, signed)
        elif tx.jobId in ctx.started_jobs:
            per_job[tx.jobId] = per_job.get(tx.jobId, 0.0) + signed
    for job_id, net in per_job.items():
        if net > 0:
            config = ctx.started_jobs[job_id]
            # With the length rendered when it is known, so estimates scale with length.
            duration = ctx.job_durations.get(job_id)
            ctx.cache.record_render_cost(ctx.identity, ctx.account_id, config, duration, net)
