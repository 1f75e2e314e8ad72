"""The pure planner: spec x lock x run cache x observed outputs -> plan (``design.md`` §3).

No I/O happens here: every input is a value (the outputs were observed by ``outputs.py``, the
cache was snapshotted by ``RunCache.view``, template names were resolved by the caller), so
the same inputs always give the same plan, and the rules are table-tested with literal inputs.

Per video, in order: make the project (new, or a replacement when the source changed, history
diverged, a message's fate is unknown, the run cache saw the project changed by another branch
or run, or ``--replace`` asks), reusing a cached project whose
history is a prefix of the wanted chain before paying again; resume a pending task; send only
the steps the project lacks; then renders: skip what is on disk and verified, copy from the run
cache, download again, resume or render; remove outputs no longer declared.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from parafraim_build.cache import CacheView, ProjectHistory
from parafraim_build.digest import chain_keys, source_key
from parafraim_build.errors import ConfigError
from parafraim_build.lock_model import (
    BlankSource,
    Lock,
    PendingRender,
    PendingTask,
    TemplateSource,
    VideoLock,
)
from parafraim_build.outputs import OutputState
from parafraim_build.plan_model import (
    Action,
    ActionKind,
    Plan,
    ProjectRecipe,
    ReusedProject,
    VideoPlan,
)
from parafraim_build.plan_renders import PlanInputs, plan_removed, plan_renders, plan_undeclared
from parafraim_build.pricing_estimate import CostModel
from parafraim_build.spec.models import Spec, Video


def pinned_templates(lock: Lock | None) -> dict[str, str]:
    """Template names the lock already resolved: its pins, and the names its videos recorded."""
    if lock is None:
        return {}
    pins: dict[str, str] = {}
    for entry in lock.videos.values():
        if isinstance(entry.source, TemplateSource) and entry.source.templateName:
            pins.setdefault(entry.source.templateName, entry.source.templateId)
    pins.update(lock.templates)
    return pins


def templates_to_resolve(spec: Spec, lock: Lock | None, selected: Collection[str] = ()) -> set[str]:
    """Template names that must be looked up through the API before planning.

    Empty for an unchanged project, so that planning it makes no request at all.
    """
    pinned = pinned_templates(lock)
    return {
        video.template.name
        for key, video in spec.videos.items()
        if (not selected or key in selected)
        and video.template is not None
        and video.template.id is None
        and video.template.name is not None
        and video.template.name not in pinned
    }


@dataclass
class _Context(PlanInputs):
    no_render: bool
    template_ids: Mapping[str, str]
    claimed: set[str] = field(default_factory=set)
    lost_tasks: Collection[str] = ()


def make_plan(
    spec: Spec,
    lock: Lock | None,
    cache_view: CacheView,
    outputs: Mapping[str, OutputState],
    *,
    selected: Collection[str] = (),
    replace: Collection[str] = (),
    no_render: bool = False,
    template_ids: Mapping[str, str],
    costs: CostModel,
    lost_tasks: Collection[str] = (),
    claimed: Collection[str] = (),
) -> Plan:
    """The plan that brings the selected videos (all when ``selected`` is empty) up to date.

    ``outputs`` must hold the observed state of every declared and every locked output path
    (``outputs.observe_outputs``); ``template_ids`` must resolve every template name the
    selected videos use (``templates_to_resolve`` says which are missing from the lock).
    ``lost_tasks`` names videos whose message intent without a task id was already looked up
    by the executor and not found: those move to another project instead of a look-up.
    ``claimed`` are projects never to reuse besides the lock's own (the executor's re-plans
    pass every project its run has promised to a video: ``apply_context.ProjectClaims``).
    """
    _check_selection(spec, lock, selected, replace)
    locked = lock.videos if lock is not None else {}
    ctx = _Context(
        spec=spec,
        cache=cache_view,
        outputs=outputs,
        costs=costs,
        no_render=no_render,
        template_ids=template_ids,
        claimed={entry.projectId for entry in locked.values()} | set(claimed),
        lost_tasks=lost_tasks,
    )
    plans = []
    for key in sorted(set(spec.videos) | set(locked)):
        if selected and key not in selected:
            continue
        if key in spec.videos:
            forced = key in replace
            plans.append(_plan_video(ctx, spec.videos[key], locked.get(key), forced=forced))
        else:
            plans.append(plan_removed(ctx, key, locked[key]))
    pins = {
        video.template.name: template_ids[video.template.name]
        for key, video in spec.videos.items()
        if (not selected or key in selected)
        and video.template is not None
        and video.template.id is None
        and video.template.name is not None
        and (lock is None or lock.templates.get(video.template.name) is None)
    }
    return Plan(videos=tuple(plans), cost_label=_cost_label(costs, plans), template_pins=pins)


def _cost_label(costs: CostModel, plans: list[VideoPlan]) -> str:
    """What the estimate rests on, and how many renders were priced without knowing their
    video's length: a render's price grows with its length, which is only known once its
    composition is made (each cost model guesses it its own way)."""
    unknown = sum(action.length_unknown for video in plans for action in video.actions)
    if not unknown:
        return costs.label
    renders = "render" if unknown == 1 else "renders"
    return f"{costs.label}; {unknown} {renders} of a length not known yet"


def _check_selection(
    spec: Spec, lock: Lock | None, selected: Collection[str], replace: Collection[str]
) -> None:
    known = set(spec.videos) | (set(lock.videos) if lock is not None else set())
    declared = ", ".join(sorted(spec.videos)) or "none"
    if unknown := sorted(set(selected) - known):
        raise ConfigError(
            f"no video named {', '.join(unknown)} in {spec.path.name}",
            hint=f"the spec declares: {declared}",
        )
    if unknown := sorted(set(replace) - set(spec.videos)):
        raise ConfigError(
            f"--replace {', '.join(unknown)}: no such video in {spec.path.name}",
            hint=f"the spec declares: {declared}",
        )
    if selected and (outside := sorted(set(replace) - set(selected))):
        raise ConfigError(
            f"--replace {', '.join(outside)}: that video is not among the selected ones",
            hint="select it too, or run without selecting videos",
        )


def _wanted_source(video: Video, template_ids: Mapping[str, str]) -> TemplateSource | BlankSource:
    ref = video.template
    if ref is None:
        return BlankSource(aspectRatio=video.aspectRatio)
    if ref.id is not None:
        return TemplateSource(templateId=ref.id, templateName=ref.name)
    name = ref.name or ""
    if name not in template_ids:
        raise ConfigError(
            f'template "{name}" of video {video.key} has not been resolved to an id',
            hint="`parafraim-build plan` looks template names up once and pins them in the lock",
        )
    return TemplateSource(templateId=template_ids[name], templateName=name)


@dataclass
class _Project:
    """What the project part of a video's plan decided."""

    actions: list[Action]
    first_step: int  # 0-based index of the first step still to send
    step_reason: str
    composition: str | None  # sha256 of the composition before renders, if known now
    replaced: bool
    warnings: list[str]
    render_reason: str | None = None  # why every render is made again, when not the default


def _plan_video(ctx: _Context, video: Video, entry: VideoLock | None, *, forced: bool) -> VideoPlan:
    source = _wanted_source(video, ctx.template_ids)
    wanted = tuple(chain_keys(source_key(source.key_dict()), video.steps))
    recipe = ProjectRecipe(video.name, video.description, source)
    project = _plan_project(ctx, video, entry, recipe, wanted, forced=forced)
    actions = list(project.actions)
    for index in range(project.first_step, len(wanted)):
        step = video.steps[index]
        actions.append(
            Action(
                "send_message",
                reason=project.step_reason,
                step=index + 1,
                message=step,
                chain_key=wanted[index],
                credits=ctx.costs.message(step),
            )
        )
    warnings = list(project.warnings)
    stale: list[PendingTask | PendingRender] = []
    # A replaced entry's pending records go with the old project (record_project drops them).
    live = entry if entry is not None and not project.replaced else None
    if isinstance(source, BlankSource) and not wanted and video.renders:
        warnings.append(
            "a blank project without steps has no preview to render: add a step, "
            "or use a template; its renders are skipped"
        )
    elif not ctx.no_render:
        actions += plan_renders(
            ctx, video, entry, live, project.composition, stale, fresh=project.render_reason
        )
    if entry is not None:
        actions += plan_undeclared(ctx, video, entry, live, stale)
    return VideoPlan(
        video=video.key,
        project_id=entry.projectId if entry is not None else None,
        actions=tuple(actions),
        warnings=tuple(warnings),
        steps_total=len(wanted),
        stale_pending=tuple(stale),
    )


def _plan_project(
    ctx: _Context,
    video: Video,
    entry: VideoLock | None,
    recipe: ProjectRecipe,
    wanted: tuple[str, ...],
    *,
    forced: bool,
) -> _Project:
    source = recipe.source
    if entry is None:
        kind: ActionKind = (
            "use_template" if isinstance(source, TemplateSource) else "create_project"
        )
        action = Action(kind, reason=f"new video: {source.describe()}", recipe=recipe)
        return _Project([action], 0, "new video", None, replaced=False, warnings=[])
    lost = video.key in ctx.lost_tasks
    reason, resume = _project_verdict(entry, source, wanted, forced=forced, lost=lost)
    known = _known_history(ctx, entry)
    if reason is None:
        reason = _changed_elsewhere(entry, known)
    if reason is None:
        actions = []
        first = len(entry.steps)
        if resume is not None:
            if resume.taskId is None:
                why = (
                    f"the answer to step {resume.step} was lost; its task will be looked up "
                    "(the account's recent charges), or the video moves to a new project"
                )
            else:
                why = (
                    f"task {resume.taskId} was started by an interrupted run: "
                    "wait for it and record its outcome"
                )
            actions.append(
                Action(
                    "resume_task",
                    reason=why,
                    step=resume.step,
                    chain_key=resume.key,
                    task_id=resume.taskId,
                )
            )
            first += 1
        # A resumed task makes a composition nobody has seen yet.
        settled = resume is None and first == len(wanted)
        composition = entry.composition_sha256 if settled else None
        warnings = _rename_warnings(video, entry.name, entry.description, entry.projectId)
        return _Project(actions, first, "new step", composition, replaced=False, warnings=warnings)
    reuse = None if forced else _find_reuse(ctx, video.key, source_key(source.key_dict()), wanted)
    fitting = known if not forced and _fits_own(known, entry, source, wanted) else None
    if fitting is not None and (reuse is None or len(reuse.steps) <= len(fitting.steps)):
        # The project itself holds a beginning of the wanted history (another branch
        # applied those steps): the lock catches up with it, for free.
        return _reuse(ctx, video, recipe, fitting, wanted, reason, own=True)
    if reuse is None:
        action = Action("replace_project", reason=reason, recipe=recipe)
        return _Project([action], 0, "replayed on the new project", None, True, [])
    return _reuse(ctx, video, recipe, reuse, wanted, reason, own=False)


def _known_history(ctx: _Context, entry: VideoLock) -> ProjectHistory | None:
    """What the run cache (same account and lock) knows of the video's own project."""
    return next((h for h in ctx.cache.histories if h.project_id == entry.projectId), None)


def _changed_elsewhere(entry: VideoLock, known: ProjectHistory | None) -> str | None:
    """Why the lock's history of its project is out of date, or None when it may be trusted.

    The run cache hears of every message before it is sent and of every step once recorded,
    whichever branch's lock the run wrote. So a cached history that is not a beginning of the
    lock's (longer, or different), or a message in flight that the lock does not know, means
    another branch or run changed the project since this lock was written (a ``git
    checkout`` of an older lock): sending the next step there would stack it on steps the
    lock never saw. A cache that merely lags the lock (a crash between the two writes) is
    consistent and trusted. Without a cache entry nothing can be checked: the API cannot
    read a project's history.
    """
    if known is None:
        return None
    locked, cached = entry.chain, known.chain
    project = entry.projectId
    if cached != locked[: len(cached)]:
        return (
            f"project {project} holds steps the lock does not know: it was changed by "
            "another branch or run (the run cache saw "
            f"{len(cached)} step{'' if len(cached) == 1 else 's'} applied to it, not the "
            f"lock's {len(locked)})"
        )
    if not known.in_flight or entry.pending_task is not None:
        return None
    recorded_since = len(locked) == len(cached) + 1 and known.pending_key == locked[-1]
    if recorded_since:
        return None  # the message in flight is the lock's last step: the cache lags
    return (
        f"project {project} may hold a message the lock does not know: another branch or run "
        "was sending one to it and its outcome was not recorded here"
    )


def _fits_own(
    known: ProjectHistory | None,
    entry: VideoLock,
    source: TemplateSource | BlankSource,
    wanted: tuple[str, ...],
) -> bool:
    """Whether the video's own project, as the cache knows it, is safe to build on: settled,
    a beginning of ``wanted``, and known at least as far as the lock knows it (a cache that
    lags the lock is no history). Never while the lock itself has a message in flight there:
    the project may hold it, whatever the cache heard."""
    return (
        known is not None
        and entry.pending_task is None
        and len(known.steps) >= len(entry.steps)
        and not known.in_flight
        and known.root == source_key(source.key_dict())
        and len(known.steps) <= len(wanted)
        and known.chain == wanted[: len(known.steps)]
    )


def _reuse(
    ctx: _Context,
    video: Video,
    recipe: ProjectRecipe,
    reuse: ProjectHistory,
    wanted: tuple[str, ...],
    reason: str,
    *,
    own: bool,
) -> _Project:
    """Move the video onto a known project whose history is a beginning of ``wanted`` (with
    ``own``, take its own project back as the run cache knows it: it stays where it is)."""
    ctx.claimed.add(reuse.project_id)
    count = len(reuse.steps)
    has = f"step{'s 1-' if count > 1 else ' '}{count}" if count else "no step"
    if own:
        why = (
            f"{reason}; the project itself already has {has} of the spec, so it is taken "
            "back as it is: the lock catches up, nothing is replaced"
        )
    else:
        where = f"project {reuse.project_id} from the run cache"
        why = f"{reason}; reusing {where}, which already has {has}"
    action = Action(
        "replace_project",
        reason=why,
        recipe=recipe,
        reuse=ReusedProject(
            project_id=reuse.project_id,
            source=reuse.source,
            name=reuse.name,
            description=reuse.description,
            initial_composition_sha256=reuse.initial_composition_sha256,
            steps=reuse.steps,
            own=own,
        ),
    )
    composition = reuse.composition_sha256 if count == len(wanted) else None
    warnings = _rename_warnings(video, reuse.name, reuse.description, reuse.project_id)
    if own:
        renders = "the project holds steps the lock did not know: every render is made again"
        return _Project([action], count, "new step", composition, True, warnings, renders)
    return _Project(
        [action], count, "not yet applied to the reused project", composition, True, warnings
    )


def _project_verdict(
    entry: VideoLock,
    source: TemplateSource | BlankSource,
    wanted: tuple[str, ...],
    *,
    forced: bool,
    lost: bool = False,
) -> tuple[str | None, PendingTask | None]:
    """(why the project must be replaced, or None; the pending task to resume, if any).

    A message intent without a task id that is still the spec's next step is resumed: the
    executor looks its task up (``lost`` says that was done, in vain: replace).
    """
    if forced:
        return "--replace was given: a new project gets every step again", None
    if entry.source.key_dict() != source.key_dict():
        old = entry.source
        if isinstance(old, BlankSource) and isinstance(source, BlankSource):
            return (
                f"aspect ratio changed from {old.aspectRatio} to {source.aspectRatio}, "
                "which a project cannot change",
                None,
            )
        return f"the project was made from {old.describe()}, now {source.describe()}", None
    pending = entry.pending_task
    locked = entry.chain
    if pending is not None and pending.taskId is None and lost:
        return (
            f"step {pending.step} was being sent and its task id was lost: its task is not "
            "among the account's recent charges, so the message may or may not have reached "
            "the project, and a new project never receives a message twice",
            None,
        )
    if locked != wanted[: len(locked)]:
        if pending is not None and pending.taskId is None:
            return _unknown_message(pending), None
        common = _common_prefix(locked, wanted)
        if common == len(wanted):
            return (
                f"step {common + 1} onwards was removed from the spec; Parafraim history is "
                "append-only, so a new project gets the remaining steps",
                None,
            )
        return (
            f"step {common + 1} differs from the applied history (edited, inserted, removed "
            "or reordered); Parafraim history is append-only, so a new project gets every step",
            None,
        )
    if pending is not None:
        n = len(locked)
        if pending.step == n + 1 and n < len(wanted) and pending.key == wanted[n]:
            # With a task id: wait for it. Without: the executor looks the task up first.
            return None, pending
        if pending.taskId is None:
            return _unknown_message(pending), None
        return (
            f"step {pending.step} was being applied when the last run stopped and no longer "
            "matches the spec",
            None,
        )
    return None, None


def _unknown_message(pending: PendingTask) -> str:
    return (
        f"step {pending.step} was being sent when the last run stopped and its task id "
        "was not recorded: the message may have reached the service, and a new project "
        "never receives a message twice"
    )


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    count = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        count += 1
    return count


def _rename_warnings(
    video: Video, name: str, description: str | None, project_id: str
) -> list[str]:
    warnings = []
    hint = f"(--replace {video.key} makes a new project that has it)"
    if video.name != name:
        warnings.append(
            f'name changed to "{video.name}", but Parafraim cannot rename a project: '
            f'project {project_id} stays "{name}" {hint}'
        )
    if (video.description or None) != (description or None):
        warnings.append(
            "description changed, but Parafraim cannot edit a project's description: "
            f"project {project_id} keeps the old one {hint}"
        )
    return warnings


def _find_reuse(
    ctx: _Context, video: str, root: str, wanted: tuple[str, ...]
) -> ProjectHistory | None:
    """The known project with the longest history that is a prefix of ``wanted``.

    Never one the lock gives to any video, never one already reused in this plan, never one
    that may hold an unrecorded message; ties prefer the video's own former projects.
    """
    candidates = [
        history
        for history in ctx.cache.histories
        if not history.in_flight
        and history.project_id not in ctx.claimed
        and 0 < len(history.steps) <= len(wanted)
        and history.root == root
        and history.chain == wanted[: len(history.steps)]
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda h: (-len(h.steps), h.video != video, h.project_id))
