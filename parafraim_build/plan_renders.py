"""The planner's output rules (``design.md`` §3 rule 5): renders, restores and removals.

Given what ``plan.py`` decided about the project (and so whether the composition the renders
will see is known at plan time), each declared render is skipped when its key and file
checksum match, resumed when a job is pending, copied from the run cache, downloaded again
or rendered; outputs no longer declared, or of videos no longer declared, are removed. Pure,
like the rest of the planner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from parafraim_build.api.models import RenderConfig
from parafraim_build.cache import CacheView
from parafraim_build.digest import render_key
from parafraim_build.lock_model import PendingRender, PendingTask, RenderRecord, VideoLock
from parafraim_build.outputs import OutputState, output_relpath
from parafraim_build.plan_model import Action, VideoPlan
from parafraim_build.pricing_estimate import CostModel
from parafraim_build.spec.models import Spec, Video


@dataclass
class PlanInputs:
    """What every planning rule reads."""

    spec: Spec
    cache: CacheView
    outputs: Mapping[str, OutputState]
    costs: CostModel


def plan_renders(
    ctx: PlanInputs,
    video: Video,
    entry: VideoLock | None,
    live: VideoLock | None,
    composition: str | None,
    stale: list[PendingTask | PendingRender],
    *,
    fresh: str | None = None,
) -> list[Action]:
    """The actions that make every declared render of ``video`` current.

    ``fresh`` says why every render is made again when the project part has a reason of its
    own (a project taken back as it is), instead of the default for a new, replaced or
    updated project.
    ``composition`` is the sha256 the renders will see when it is known at plan time (no
    step is sent or resumed before them), else None: then every render is made again, and
    its key is left for the executor to compute. ``live`` is the lock entry whose pending
    records still count (None when the project is replaced); pending records no action will
    resolve are appended to ``stale``. Outputs that move to a new path are also removed from
    their old one last: a moved output's ``copy_cached`` removes its old file already (then
    that removal finds nothing), but one made again (its config or composition changed too)
    leaves its old file to that removal.
    """
    actions: list[Action] = []
    moved: list[Action] = []
    known = composition or (entry.composition_sha256 if entry is not None else None)
    duration = ctx.cache.durations.get(known) if known is not None else None
    if fresh is not None:
        fresh_reason = fresh
    elif entry is None:
        fresh_reason = "new video"
    elif live is None:
        fresh_reason = "the project is replaced: every render is made again"
    else:
        fresh_reason = "the steps change: every render is made again"
    for name in sorted(video.renders):
        config = video.renders[name]
        path = output_relpath(ctx.spec, video.key, name)
        record = entry.renders.get(name) if entry is not None else None
        pending = live.pending_render(name) if live is not None else None
        if record is not None and record.path != path:
            moved.append(
                Action(
                    "remove_output",
                    reason=_removal_reason(ctx, record, f"the output moves to {path}"),
                    render=name,
                    path=record.path,
                    expected_sha256=record.sha256,
                    expected_size=record.size,
                )
            )
        key = render_key(composition, config) if composition is not None else None
        if pending is not None and pending.key == key:
            actions.append(_resume_render(name, pending, path, live))
            continue
        if composition is None:
            why = "new render" if record is None and entry is not None else fresh_reason
            action: Action | None = _render(ctx, name, config, path, None, why, duration)
        else:
            action = _make_current(ctx, name, config, path, record, composition, duration)
        if action is not None:
            actions.append(action)
        if pending is not None and live is not None:
            # Made for another composition or config: no action will record it.
            stale.append(pending)
            cleanup = forget_pending(ctx, video.key, live, pending, resolved=action is not None)
            if cleanup is not None:
                actions.append(cleanup)
    return actions + moved


def _make_current(
    ctx: PlanInputs,
    name: str,
    config: RenderConfig,
    path: str,
    record: RenderRecord | None,
    composition: str,
    duration: float | None,
) -> Action | None:
    """What makes render ``name`` of a known ``composition`` current; None when it is."""
    key = render_key(composition, config)
    if record is not None and record.key == key:
        observed = ctx.outputs.get(path, OutputState(path, exists=False))
        if record.path == path and observed.matches(record.sha256, record.size):
            return None
        return _restore(ctx, name, config, path, key, record, observed, duration)
    why = _render_reason(record, composition, config)
    if key in ctx.cache.outputs:
        cached = ctx.cache.outputs[key]
        return Action(
            "copy_cached",
            reason=f"{why}; the same composition and config is in the run cache",
            render=name,
            config=config,
            render_key=key,
            path=path,
            expected_sha256=cached.sha256,
            expected_size=cached.size,
        )
    return _render(ctx, name, config, path, key, why, duration)


def _render(
    ctx: PlanInputs,
    name: str,
    config: RenderConfig,
    path: str,
    key: str | None,
    reason: str,
    duration: float | None,
) -> Action:
    return Action(
        "render",
        reason=reason,
        render=name,
        config=config,
        render_key=key,
        path=path,
        credits=ctx.costs.render(config, duration),
        length_unknown=duration is None,
    )


def _resume_render(name: str, pending: PendingRender, path: str, live: VideoLock | None) -> Action:
    last_task = live.steps[-1].taskId if live is not None and live.steps else None
    if pending.jobId is not None:
        reason = (
            f"render job {pending.jobId} was started by an interrupted run: "
            "wait for it and record the output"
        )
    else:
        reason = (
            "a render was being requested when the last run stopped and its job id was not "
            "recorded: it is looked up from the project's last task, or rendered again"
        )
    return Action(
        "resume_render",
        reason=reason,
        render=name,
        config=pending.config,
        render_key=pending.key,
        job_id=pending.jobId,
        task_id=last_task,
        path=path,
    )


def _restore(
    ctx: PlanInputs,
    name: str,
    config: RenderConfig,
    path: str,
    key: str,
    record: RenderRecord,
    observed: OutputState,
    duration: float | None,
) -> Action:
    """The output was made, but the file at ``path`` is not it: get it back, cheapest first.

    An output whose path changed (``outDir`` moved) is moved, not fetched: a ``copy_cached``
    with ``source_path`` (its old place) when the verified file is already at the new path
    (an earlier run stopped between the copy and the lock's record, or it was moved by hand:
    it is only recorded there) or still at the old one (copied). Either way the executor
    removes the old file, if it is still the recorded one, before recording the new path.
    """
    if record.path != path:
        why = f"the output path changed from {record.path}"
        before = ctx.outputs.get(record.path)
        here = observed.matches(record.sha256, record.size)
        if here or (before is not None and before.matches(record.sha256, record.size)):
            how = (
                f"the verified file is already at {path}: it is recorded there, nothing copied"
                if here
                else "the verified file there is moved (copied, then removed there)"
            )
            return Action(
                "copy_cached",
                reason=f"{why}; {how}",
                render=name,
                config=config,
                render_key=key,
                path=path,
                source_path=record.path,
                job_id=record.jobId,
                expected_sha256=record.sha256,
                expected_size=record.size,
            )
    elif not observed.exists:
        why = "the output file is missing"
    else:
        why = "the output file does not match the lock's checksum (corrupt or edited)"
    if key in ctx.cache.outputs:
        return Action(
            "copy_cached",
            reason=f"{why}; copied from the run cache",
            render=name,
            config=config,
            render_key=key,
            path=path,
            expected_sha256=record.sha256,
            expected_size=record.size,
        )
    if record.jobId is not None:
        return Action(
            "download",
            reason=f"{why}; downloaded again from render job {record.jobId}",
            render=name,
            config=config,
            render_key=key,
            job_id=record.jobId,
            path=path,
            expected_sha256=record.sha256,
            expected_size=record.size,
        )
    return _render(ctx, name, config, path, key, f"{why}; no job to download it from", duration)


def _render_reason(record: RenderRecord | None, composition: str, config: RenderConfig) -> str:
    if record is None:
        return "new render"
    if record.config != config and render_key(composition, record.config) == record.key:
        old, new = record.config.model_dump(), config.model_dump()
        changes = ", ".join(f"{k} {old[k]} -> {new[k]}" for k in new if old[k] != new[k])
        return f"config changed ({changes})"
    return "the composition changed since this output was made"


def plan_undeclared(
    ctx: PlanInputs,
    video: Video,
    entry: VideoLock,
    live: VideoLock | None,
    stale: list[PendingTask | PendingRender],
) -> list[Action]:
    """Remove (and forget) the outputs of renders the video no longer declares."""
    actions = []
    for name in sorted(entry.renders):
        if name not in video.renders:
            record = entry.renders[name]
            actions.append(
                Action(
                    "remove_output",
                    reason=_removal_reason(ctx, record, "the render is no longer declared"),
                    render=name,
                    path=record.path,
                    expected_sha256=record.sha256,
                    expected_size=record.size,
                    forget=True,
                )
            )
    if live is not None:
        for op in live.pending:
            if isinstance(op, PendingRender) and op.render not in video.renders:
                stale.append(op)
                # A render with a record is removed above, which is the change; the pending
                # one only adds a file to remove when the killed run left one elsewhere.
                resolved = op.render in entry.renders
                cleanup = forget_pending(ctx, video.key, live, op, resolved=resolved)
                if cleanup is not None:
                    actions.append(cleanup)
    return actions


def forget_pending(
    ctx: PlanInputs, video: str, entry: VideoLock, pending: PendingRender, *, resolved: bool
) -> Action | None:
    """The ``remove_output`` that cleans up after a render an interrupted run was making,
    which no action will record (the spec changed since); None when nothing needs doing.

    Its pending record is dropped (``VideoPlan.stale_pending``), and so is its file, should
    the killed run have got as far as writing it, but only a file this tool provably made:
    the one at the intent's ``path`` (where the run wrote it, whatever ``outDir`` is now)
    whose sha256 is the run cache's copy of ``pending.key`` (a download is kept there before
    the lock records it), and never a path another output of the video holds. Without that
    checksum nothing is deleted. ``resolved`` says another action of the plan already
    resolves the record (it renders that name again, or removes its output): then only a
    file to delete is worth an action. Otherwise the action is there even with nothing to
    delete, because every change is an action (``plan --detailed-exitcode`` never says "no
    changes" while the lock still has something to clean).
    """
    path = pending.path or output_relpath(ctx.spec, video, pending.render, pending.config.format)
    cached = ctx.cache.outputs.get(pending.key)
    owned = {record.path for record in entry.renders.values()}
    declared = ctx.spec.videos.get(video)
    if declared is not None:
        owned.update(output_relpath(ctx.spec, video, name) for name in declared.renders)
    observed = ctx.outputs.get(path)
    deletable = (
        cached is not None
        and path not in owned
        and not (observed is not None and not observed.exists)
    )
    if resolved and not deletable:
        return None
    job = f"job {pending.jobId}" if pending.jobId else "a job whose id was not recorded"
    undeclared = declared is None or pending.render not in declared.renders
    asked = "is no longer declared" if undeclared else "the spec no longer asks for"
    reason = f"an interrupted run was making render {pending.render} ({job}), which {asked}: "
    if deletable:
        reason += f"its pending record is dropped, and {path} too if it is the file that run made"
    elif cached is None:
        reason += "its pending record is dropped (no file of it is known: nothing is removed)"
    elif path in owned:
        reason += f"its pending record is dropped ({path} holds a current output: it is kept)"
    else:
        reason += "its pending record is dropped (its file is already gone)"
    return Action(
        "remove_output",
        reason=reason,
        render=pending.render,
        path=path if deletable else None,
        expected_sha256=cached.sha256 if deletable and cached is not None else None,
        expected_size=cached.size if deletable and cached is not None else None,
    )


def _removal_reason(ctx: PlanInputs, record: RenderRecord, why: str) -> str:
    """``why``, and what becomes of the file: apply deletes only the file it recorded."""
    observed = ctx.outputs.get(record.path)
    if observed is not None and not observed.exists:
        return f"{why} (the file is already gone)"
    if observed is not None and not observed.matches(record.sha256, record.size):
        return f"{why} (the file was changed since it was made: it is kept, only its record goes)"
    return why


def plan_removed(ctx: PlanInputs, key: str, entry: VideoLock) -> VideoPlan:
    """A video that left the spec: remove its outputs, then drop its lock entry."""
    actions = tuple(
        Action(
            "remove_output",
            reason=_removal_reason(ctx, record, "the video is no longer in the spec"),
            render=name,
            path=record.path,
            expected_sha256=record.sha256,
            expected_size=record.size,
            forget=True,
        )
        for name, record in sorted(entry.renders.items())
    )
    # A file an interrupted render of the video left where no record points: removed too,
    # when it is provably that render's (its entry and pending records go with the video).
    cleanups = (
        forget_pending(ctx, key, entry, op, resolved=True)
        for op in entry.pending
        if isinstance(op, PendingRender)
    )
    actions += tuple(action for action in cleanups if action is not None)
    if not actions:
        # Nothing on disk, but the lock entry goes: that is a change, and it is shown as one.
        actions = (
            Action(
                "remove_output",
                reason=f"the video is no longer in the spec and has no outputs: its lock "
                f"entry goes (project {entry.projectId} stays on the service)",
                forget=True,
            ),
        )
    warning = (
        f"project {entry.projectId} stays on the service (the API cannot delete projects); "
        "only the video's outputs and lock entry go"
    )
    return VideoPlan(
        video=key, project_id=entry.projectId, actions=actions, warnings=(warning,), drop_video=True
    )
