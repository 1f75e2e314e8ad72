"""The pure planner, table-tested with literal specs, locks, cache views and disk states.

Every rule of design.md §3 and issue 5 has a row: a spec change, the lock and cache before it,
and the actions expected, as ``(action, step or render)`` pairs in execution order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parafraim_build.api.models import RenderConfig
from parafraim_build.cache import CachedOutput, CacheView, ProjectHistory
from parafraim_build.digest import chain_keys, render_key, source_key
from parafraim_build.errors import ConfigError
from parafraim_build.lock_model import (
    BlankSource,
    Lock,
    PendingRender,
    PendingTask,
    RenderRecord,
    StepRecord,
    TemplateSource,
    VideoLock,
)
from parafraim_build.outputs import OutputState
from parafraim_build.plan import make_plan, pinned_templates, templates_to_resolve
from parafraim_build.plan_model import Plan
from parafraim_build.spec.models import Spec, Step, TemplateRef, Video

ROOT = Path("/work/site")
BASE = "https://parafraim.com"
T0 = "2025-01-31T09:30:00Z"
TPL = "00000000-0000-0000-0000-000000000001"
TPL2 = "00000000-0000-0000-0000-000000000002"
HD = RenderConfig()
GIF = RenderConfig(format="gif", width=480, height=270, quality="draft", includeAudio=False)


class Prices:
    """A literal cost model: 1 credit per message, 2 per render plus its known seconds."""

    label = "test prices"

    def message(self, step: Step) -> float:
        return 1.0

    def render(self, config: RenderConfig, duration_seconds: float | None) -> float:
        return 2.0 + (duration_seconds or 0.0)


def steps(*messages: str) -> tuple[Step, ...]:
    return tuple(Step(message=m) for m in messages)


def video(
    key: str = "launch",
    *messages: str,
    template: TemplateRef | None = None,
    aspect: str = "16:9",
    renders: Mapping[str, RenderConfig] | None = None,
    name: str | None = None,
    description: str | None = None,
) -> Video:
    return Video(
        key=key,
        name=name or key,
        description=description,
        template=template,
        aspectRatio=aspect,  # type: ignore[arg-type]
        steps=steps(*messages),
        renders=dict(renders if renders is not None else {"hd": HD}),
    )


def spec(*videos: Video) -> Spec:
    return Spec(
        path=ROOT / "parafraim.yaml", out_dir=ROOT / "out", videos={v.key: v for v in videos}
    )


def source_of(v: Video) -> TemplateSource | BlankSource:
    if v.template is None:
        return BlankSource(aspectRatio=v.aspectRatio)
    return TemplateSource(templateId=v.template.id or TPL, templateName=v.template.name)


def keys_of(v: Video) -> list[str]:
    return chain_keys(source_key(source_of(v).key_dict()), v.steps)


def path_of(v: Video, render: str) -> str:
    return f"out/{v.key}/{render}.{v.renders[render].format}"


@dataclass
class Built:
    """A video as a previous apply left it: its lock entry and the files on disk."""

    entry: VideoLock
    outputs: dict[str, OutputState] = field(default_factory=dict)


def built(v: Video, project: str = "p-1", *, prefix: str = "c") -> Built:
    """Every step applied (compositions ``c1``, ``c2``...) and every render on disk."""
    keys = keys_of(v)
    records = tuple(
        StepRecord(key=k, compositionSha256=f"{prefix}{i + 1}", taskId=f"t-{i + 1}")
        for i, k in enumerate(keys)
    )
    composition = records[-1].compositionSha256 if records else f"{prefix}0"
    renders = {}
    outputs = {}
    for name, config in v.renders.items():
        path = path_of(v, name)
        renders[name] = RenderRecord(
            key=render_key(composition, config),
            jobId=f"j-{name}",
            path=path,
            sha256=f"sha-{name}",
            size=100,
            config=config,
        )
        outputs[path] = OutputState(path, exists=True, size=100, sha256=f"sha-{name}")
    entry = VideoLock(
        projectId=project,
        source=source_of(v),
        name=v.name,
        description=v.description,
        initialCompositionSha256=f"{prefix}0",
        steps=records,
        renders=renders,
    )
    return Built(entry, outputs)


def lock_of(*items: tuple[str, Built]) -> tuple[Lock, dict[str, OutputState]]:
    lock = Lock.new(BASE, "acc")
    outputs: dict[str, OutputState] = {}
    for key, item in items:
        lock = lock.model_copy(update={"videos": {**lock.videos, key: item.entry}})
        outputs.update(item.outputs)
    return lock, outputs


def history(item: Built, video_key: str | None = "launch", **changes: Any) -> ProjectHistory:
    entry = item.entry
    base = ProjectHistory(
        project_id=entry.projectId,
        scope=None,
        video=video_key,
        source=entry.source,
        name=entry.name,
        description=entry.description,
        initial_composition_sha256=entry.initialCompositionSha256,
        steps=entry.steps,
    )
    return replace(base, **changes)


def plan_of(
    the_spec: Spec,
    lock: Lock | None = None,
    outputs: Mapping[str, OutputState] | None = None,
    cache: CacheView | None = None,
    **options: Any,
) -> Plan:
    return make_plan(
        the_spec,
        lock,
        cache or CacheView(),
        outputs or {},
        template_ids=options.pop("template_ids", {"Product launch": TPL}),
        costs=Prices(),
        **options,
    )


def actions(plan: Plan, key: str = "launch") -> list[tuple[str, int | str | None]]:
    return [(a.kind, a.step or a.render) for a in plan.video(key).actions]


def reasons(plan: Plan, key: str = "launch") -> list[str]:
    return [a.reason for a in plan.video(key).actions]


def edited(item: Built, **updates: Any) -> Built:
    return Built(item.entry.model_copy(update=updates), dict(item.outputs))


V3 = video("launch", "one", "two", "three", renders={"hd": HD, "teaser": GIF})


# ------------------------------------------------------------------ new videos


def test_a_new_blank_video_is_created_stepped_and_rendered() -> None:
    plan = plan_of(spec(V3))
    assert actions(plan) == [
        ("create_project", None),
        ("send_message", 1),
        ("send_message", 2),
        ("send_message", 3),
        ("render", "hd"),
        ("render", "teaser"),
    ]
    create, *sends, hd, _teaser = plan.video("launch").actions
    assert create.recipe is not None
    assert create.recipe.source == BlankSource(aspectRatio="16:9")
    assert [a.chain_key for a in sends] == keys_of(V3)
    assert [a.message for a in sends] == list(V3.steps)
    assert hd.render_key is None  # the composition does not exist yet
    assert hd.path == "out/launch/hd.mp4"
    assert hd.config == HD
    assert plan.video("launch").project_id is None
    assert plan.estimated_credits == 3 * 1 + 2 * 2


def test_a_new_template_video_uses_the_resolved_template_and_pins_it() -> None:
    v = video("launch", "one", template=TemplateRef(name="Product launch"))
    plan = plan_of(spec(v))
    assert actions(plan)[0] == ("use_template", None)
    recipe = plan.video("launch").actions[0].recipe
    assert recipe is not None
    assert recipe.source == TemplateSource(templateId=TPL, templateName="Product launch")
    assert plan.template_pins == {"Product launch": TPL}


def test_an_unresolved_template_name_is_an_error() -> None:
    v = video("launch", "one", template=TemplateRef(name="Unknown"))
    with pytest.raises(ConfigError, match='template "Unknown" of video launch'):
        plan_of(spec(v))


def test_a_blank_video_without_steps_has_nothing_to_render() -> None:
    plan = plan_of(spec(video("launch")))
    assert actions(plan) == [("create_project", None)]
    assert "no preview" in plan.video("launch").warnings[0]


# ---------------------------------------------------------------- up to date


def test_an_unchanged_video_has_no_actions() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    plan = plan_of(spec(V3), lock, outputs)
    assert actions(plan) == []
    assert not plan.changes
    assert plan.to_json() == {
        "formatVersion": 1,
        "changes": False,
        "estimatedCredits": 0,
        "summary": dict.fromkeys(
            [
                "create_project",
                "use_template",
                "replace_project",
                "send_message",
                "resume_task",
                "render",
                "resume_render",
                "download",
                "copy_cached",
                "remove_output",
            ],
            0,
        ),
        "videos": [{"video": "launch", "projectId": "p-1", "actions": []}],
    }


def test_planning_is_deterministic_and_does_not_touch_its_inputs() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    before = lock.model_dump()
    other = video("aaa", "x")
    first = plan_of(spec(V3, other), lock, outputs)
    assert first == plan_of(spec(other, V3), lock, outputs)
    assert [v.video for v in first.videos] == ["aaa", "launch"]
    assert lock.model_dump() == before


# --------------------------------------------------------------------- steps


@pytest.mark.parametrize(
    ("wanted", "expected", "reason"),
    [
        pytest.param(
            ("one", "two", "three", "four"),
            [("send_message", 4), ("render", "hd"), ("render", "teaser")],
            "new step",
            id="appended-step-updates-in-place",
        ),
        pytest.param(
            ("one", "TWO", "three"),
            [
                ("replace_project", None),
                ("send_message", 1),
                ("send_message", 2),
                ("send_message", 3),
                ("render", "hd"),
                ("render", "teaser"),
            ],
            "step 2 differs from the applied history",
            id="edited-earlier-step-replaces",
        ),
        pytest.param(
            ("one", "three", "two"),
            [
                ("replace_project", None),
                ("send_message", 1),
                ("send_message", 2),
                ("send_message", 3),
                ("render", "hd"),
                ("render", "teaser"),
            ],
            "step 2 differs",
            id="reordered-steps-replace",
        ),
        pytest.param(
            ("one", "two"),
            [
                ("replace_project", None),
                ("send_message", 1),
                ("send_message", 2),
                ("render", "hd"),
                ("render", "teaser"),
            ],
            "step 3 onwards was removed",
            id="removed-last-step-replaces",
        ),
    ],
)
def test_step_changes(
    wanted: tuple[str, ...], expected: list[tuple[str, int | str | None]], reason: str
) -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    new = video("launch", *wanted, renders={"hd": HD, "teaser": GIF})
    plan = plan_of(spec(new), lock, outputs)
    assert actions(plan) == expected
    assert reason in reasons(plan)[0]
    assert all(a.render_key is None for a in plan.video("launch").actions if a.kind == "render")


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        pytest.param(
            video("launch", "a", aspect="16:9"),
            video("launch", "a", aspect="9:16"),
            "aspect ratio changed from 16:9 to 9:16",
            id="aspect-ratio",
        ),
        pytest.param(
            video("launch", "a", template=TemplateRef(id=TPL)),
            video("launch", "a", template=TemplateRef(id=TPL2)),
            f"made from template {TPL}, now template {TPL2}",
            id="template",
        ),
        pytest.param(
            video("launch", "a"),
            video("launch", "a", template=TemplateRef(name="Product launch")),
            'made from blank 16:9 project, now template "Product launch"',
            id="blank-to-template",
        ),
    ],
)
def test_a_changed_source_replaces_the_project(before: Video, after: Video, reason: str) -> None:
    lock, outputs = lock_of(("launch", built(before)))
    plan = plan_of(spec(after), lock, outputs)
    assert actions(plan) == [("replace_project", None), ("send_message", 1), ("render", "hd")]
    assert reason in reasons(plan)[0]


def test_a_template_renamed_to_the_same_id_changes_nothing() -> None:
    before = video("launch", "a", template=TemplateRef(name="Old name"))
    lock, outputs = lock_of(("launch", built(before)))
    after = video("launch", "a", template=TemplateRef(name="Product launch"))
    assert actions(plan_of(spec(after), lock, outputs)) == []


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        ({"name": "Acme launch 2"}, 'name changed to "Acme launch 2"'),
        ({"description": "new words"}, "description changed"),
    ],
)
def test_name_and_description_changes_only_warn(changes: dict[str, str], warning: str) -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    new = V3.model_copy(update=changes)
    plan = plan_of(spec(new), lock, outputs)
    assert actions(plan) == []
    assert not plan.changes
    (text,) = plan.video("launch").warnings
    assert warning in text
    assert "--replace launch" in text


def test_replace_forces_a_new_project_and_ignores_the_cache() -> None:
    item = built(V3)
    lock, outputs = lock_of(("launch", item))
    cache = CacheView(histories=(history(built(V3, "p-old")),))
    plan = plan_of(spec(V3), lock, outputs, cache, replace=["launch"])
    assert actions(plan)[:2] == [("replace_project", None), ("send_message", 1)]
    assert plan.video("launch").actions[0].reuse is None
    assert "--replace" in reasons(plan)[0]


# ------------------------------------------------------------------- pending


def test_a_task_with_its_id_is_resumed_then_the_rest_sent() -> None:
    applied = video("launch", "one", renders={"hd": HD, "teaser": GIF})
    item = built(applied)
    keys = keys_of(V3)
    pending = PendingTask(step=2, key=keys[1], taskId="t-2", startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(pending,))))
    plan = plan_of(spec(V3), lock, outputs)
    assert actions(plan) == [
        ("resume_task", 2),
        ("send_message", 3),
        ("render", "hd"),
        ("render", "teaser"),
    ]
    resume = plan.video("launch").actions[0]
    assert (resume.task_id, resume.chain_key, resume.credits) == ("t-2", keys[1], 0.0)
    assert plan.estimated_credits == 1 + 2 * 2


def test_after_resuming_the_last_task_the_render_key_is_not_known_yet() -> None:
    item = built(video("launch", "one", "two", renders={"hd": HD, "teaser": GIF}))
    pending = PendingTask(step=3, key=keys_of(V3)[2], taskId="t-3", startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(pending,))))
    plan = plan_of(spec(V3), lock, outputs)
    assert actions(plan) == [("resume_task", 3), ("render", "hd"), ("render", "teaser")]
    assert [a.render_key for a in plan.video("launch").actions[1:]] == [None, None]


def test_a_task_whose_id_was_not_recorded_is_looked_up_before_replacing() -> None:
    # The executor looks the task up among the account's recent charges; only when that
    # fails (``lost_tasks``) does the video move to a new project that gets every step.
    item = built(video("launch", "one", renders={"hd": HD, "teaser": GIF}))
    pending = PendingTask(step=2, key=keys_of(V3)[1], taskId=None, startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(pending,))))
    plan = plan_of(spec(V3), lock, outputs)
    assert actions(plan) == [
        ("resume_task", 2),
        ("send_message", 3),
        ("render", "hd"),
        ("render", "teaser"),
    ]
    resume = plan.video("launch").actions[0]
    assert (resume.task_id, resume.chain_key) == (None, pending.key)
    assert reasons(plan)[0].startswith("the answer to step 2 was lost; its task will be looked up")
    plan = plan_of(spec(V3), lock, outputs, lost_tasks=("launch",))
    assert actions(plan)[:2] == [("replace_project", None), ("send_message", 1)]
    assert "its task is not among the account's recent charges" in reasons(plan)[0]
    assert "never receives a message twice" in reasons(plan)[0]


@pytest.mark.parametrize(
    "spec_steps", [("one", "CHANGED", "three"), ("ONE", "two", "three")], ids=["next", "earlier"]
)
def test_a_lost_task_that_the_spec_no_longer_wants_replaces_at_once(
    spec_steps: tuple[str, ...],
) -> None:
    item = built(video("launch", "one", renders={"hd": HD, "teaser": GIF}))
    pending = PendingTask(step=2, key=keys_of(V3)[1], taskId=None, startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(pending,))))
    wanted = video("launch", *spec_steps, renders={"hd": HD, "teaser": GIF})
    plan = plan_of(spec(wanted), lock, outputs)
    assert actions(plan)[:2] == [("replace_project", None), ("send_message", 1)]
    assert "may have reached the service" in reasons(plan)[0]


def test_a_resumable_task_that_no_longer_matches_the_spec_replaces() -> None:
    item = built(video("launch", "one", renders={"hd": HD, "teaser": GIF}))
    pending = PendingTask(step=2, key="a-key-the-spec-no-longer-makes", taskId="t-2", startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(pending,))))
    plan = plan_of(spec(V3), lock, outputs)
    assert actions(plan)[0] == ("replace_project", None)
    assert "no longer matches the spec" in reasons(plan)[0]


# ----------------------------------------------------------------- run cache


def test_undoing_an_edit_reuses_the_old_project_and_its_outputs() -> None:
    original = built(V3, "p-1", prefix="a")
    edit = video("launch", "one", "TWO", "three", renders={"hd": HD, "teaser": GIF})
    current = built(edit, "p-2", prefix="b")
    lock, outputs = lock_of(("launch", current))
    cache = CacheView(
        histories=(history(original), history(current)),
        outputs={
            record.key: CachedOutput(record.key, record.sha256, record.size, "mp4")
            for record in original.entry.renders.values()
        },
    )
    plan = plan_of(spec(V3), lock, outputs, cache)
    assert actions(plan) == [
        ("replace_project", None),
        ("copy_cached", "hd"),
        ("copy_cached", "teaser"),
    ]
    reuse = plan.video("launch").actions[0].reuse
    assert reuse is not None
    assert (reuse.project_id, reuse.steps) == ("p-1", original.entry.steps)
    assert "reusing project p-1 from the run cache, which already has steps 1-3" in reasons(plan)[0]
    assert plan.estimated_credits == 0


def test_a_cached_prefix_is_reused_and_only_the_rest_sent() -> None:
    current = built(V3, "p-2", prefix="b")
    lock, outputs = lock_of(("launch", current))
    two = built(video("launch", "one", "TWO", renders={}), "p-7")
    one = built(video("launch", "one", renders={}), "p-8")
    cache = CacheView(histories=(history(two), history(one)))
    wanted = video("launch", "one", "TWO", "THREE", renders={"hd": HD})
    plan = plan_of(spec(wanted), lock, outputs, cache)
    assert actions(plan)[:3] == [("replace_project", None), ("send_message", 3), ("render", "hd")]
    reuse = plan.video("launch").actions[0].reuse
    assert reuse is not None
    assert reuse.project_id == "p-7"  # the longest prefix wins
    assert plan.video("launch").actions[1].reason == "not yet applied to the reused project"


@pytest.mark.parametrize(
    "why",
    ["in-flight", "used-by-another-video", "other-source", "longer-than-wanted"],
)
def test_projects_that_must_not_be_reused(why: str) -> None:
    current = built(V3, "p-2", prefix="b")
    edit = video("launch", "one", "TWO", "three", renders={"hd": HD, "teaser": GIF})
    candidate = built(edit, "p-1")
    items = [("launch", current)]
    cached = history(candidate)
    if why == "in-flight":
        cached = replace(cached, in_flight=True)
    elif why == "used-by-another-video":
        items.append(("other", edited(candidate)))
    elif why == "other-source":
        cached = replace(cached, source=BlankSource(aspectRatio="1:1"))
    else:
        edit = video("launch", "one", "TWO", renders={"hd": HD, "teaser": GIF})
    lock, outputs = lock_of(*items)
    the_spec = spec(edit, *(video("other", "one", "TWO", "three") for _ in items[1:]))
    plan = plan_of(the_spec, lock, outputs, CacheView(histories=(cached,)))
    assert actions(plan)[0] == ("replace_project", None)
    assert plan.video("launch").actions[0].reuse is None


def test_one_cached_project_is_never_given_to_two_videos() -> None:
    a = video("a", "one", "TWO")
    b = video("b", "one", "TWO")
    lock, outputs = lock_of(
        ("a", built(video("a", "x"), "p-a")), ("b", built(video("b", "y"), "p-b"))
    )
    shared = built(video("a", "one", "TWO"), "p-shared")
    plan = plan_of(spec(a, b), lock, outputs, CacheView(histories=(history(shared, "a"),)))
    reused = [v.actions[0].reuse for v in plan.videos]
    assert reused[0] is not None
    assert reused[0].project_id == "p-shared"
    assert reused[1] is None


def test_ties_prefer_the_videos_own_former_project() -> None:
    lock, outputs = lock_of(("launch", built(V3, "p-now", prefix="b")))
    edit = video("launch", "one", "TWO", "three", renders={"hd": HD, "teaser": GIF})
    mine = history(built(edit, "p-z"), "launch")
    theirs = history(built(edit, "p-a"), "other")
    plan = plan_of(spec(edit), lock, outputs, CacheView(histories=(theirs, mine)))
    reuse = plan.video("launch").actions[0].reuse
    assert reuse is not None
    assert reuse.project_id == "p-z"


def test_without_a_cache_the_lock_alone_gives_a_correct_plan() -> None:
    item = built(V3)
    lock, outputs = lock_of(("launch", item))
    assert actions(plan_of(spec(V3), lock, outputs)) == []
    outputs["out/launch/hd.mp4"] = OutputState("out/launch/hd.mp4", exists=False)
    assert actions(plan_of(spec(V3), lock, outputs)) == [("download", "hd")]
    edit = video("launch", "one", "TWO", "three", renders={"hd": HD, "teaser": GIF})
    assert actions(plan_of(spec(edit), lock, outputs))[0] == ("replace_project", None)


# ---------------------------------------------------------- selection, errors


def test_selected_videos_limit_the_plan() -> None:
    plan = plan_of(spec(video("a", "x"), video("b", "y")), selected=["b"])
    assert [v.video for v in plan.videos] == ["b"]


@pytest.mark.parametrize(
    ("options", "message", "hint"),
    [
        ({"selected": ["nope"]}, "no video named nope in parafraim.yaml", "declares: a, b"),
        ({"replace": ["nope"]}, "--replace nope: no such video", "declares: a, b"),
        ({"selected": ["a"], "replace": ["b"]}, "not among the selected ones", "select it too"),
    ],
)
def test_unknown_names_are_errors(options: dict[str, list[str]], message: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        plan_of(spec(video("a", "x"), video("b", "y")), **options)
    assert hint in (info.value.hint or "")


def test_a_removed_video_can_be_selected() -> None:
    lock, outputs = lock_of(("old", built(video("old", "x"))))
    plan = plan_of(spec(video("a", "x")), lock, outputs, selected=["old"])
    assert [v.video for v in plan.videos] == ["old"]


# ------------------------------------------------------------ template names


def test_only_unpinned_template_names_need_the_api() -> None:
    named = video("a", "x", template=TemplateRef(name="Product launch"))
    by_id = video("b", "x", template=TemplateRef(id=TPL2))
    other = video("c", "x", template=TemplateRef(name="Recap"))
    the_spec = spec(named, by_id, other)
    assert templates_to_resolve(the_spec, None) == {"Product launch", "Recap"}
    assert templates_to_resolve(the_spec, None, selected=["a", "b"]) == {"Product launch"}
    pinned = Lock.new(BASE, "acc").with_template("Recap", "tpl-r")
    assert templates_to_resolve(the_spec, pinned) == {"Product launch"}
    # A video's own lock entry remembers the name it was made from, too.
    lock, _ = lock_of(("a", built(named)))
    assert pinned_templates(lock) == {"Product launch": TPL}
    assert templates_to_resolve(the_spec, lock) == {"Recap"}


def test_pins_already_in_the_lock_are_not_repeated() -> None:
    named = video("a", "x", template=TemplateRef(name="Product launch"))
    lock = Lock.new(BASE, "acc").with_template("Product launch", TPL)
    assert plan_of(spec(named), lock).template_pins == {}


# ---------------------------------------------------------------- the document


def test_the_json_document_has_exactly_the_issues_shape() -> None:
    lock, outputs = lock_of(("launch", built(video("launch", "one", renders={"hd": HD}))))
    plan = plan_of(spec(video("launch", "one", "two", renders={"hd": HD})), lock, outputs)
    document = plan.to_json()
    assert document["changes"] is True
    assert document["estimatedCredits"] == 3
    assert {k: v for k, v in document["summary"].items() if v} == {"send_message": 1, "render": 1}
    assert document["videos"] == [
        {
            "video": "launch",
            "projectId": "p-1",
            "actions": [
                {"action": "send_message", "step": 2, "reason": "new step"},
                {
                    "action": "render",
                    "render": "hd",
                    "reason": "the steps change: every render is made again",
                },
            ],
        }
    ]
    assert list(document) == ["formatVersion", "changes", "estimatedCredits", "summary", "videos"]


def test_fractional_credits_stay_fractional() -> None:
    class Cents(Prices):
        def message(self, step: Step) -> float:
            return 1.1

    plan = make_plan(
        spec(video("a", "x", "y", renders={})),
        None,
        CacheView(),
        {},
        template_ids={},
        costs=Cents(),
    )
    assert plan.to_json()["estimatedCredits"] == 2.2
    assert plan.cost_label == "test prices"


def test_the_cost_label_counts_renders_of_a_length_not_known_yet() -> None:
    v = video("launch", "x", renders={"hd": HD, "gif": GIF})
    assert plan_of(spec(v)).cost_label == "test prices; 2 renders of a length not known yet"
    # Once the video's composition has a known length, its renders are priced at that.
    item = built(v)
    lock, outputs = lock_of(("launch", item))
    changed = video("launch", "x", "y", renders={"hd": HD, "gif": GIF})
    known = CacheView(durations={item.entry.steps[-1].compositionSha256: 12.0})
    plan = plan_of(spec(changed), lock, outputs, known)
    assert [kind for kind, _ in actions(plan)] == ["send_message", "render", "render"]
    assert plan.cost_label == "test prices"
    assert plan_of(spec(changed), lock, outputs).cost_label == (
        "test prices; 2 renders of a length not known yet"
    )


# ------------------------------------------------- property: plan, apply, plan


class FakeService:
    """Carries plans out the way the executor must, against a deterministic fake service.

    Outcomes go into the lock through its helpers only, histories into a fake run cache
    (in flight while a message is pending), outputs into a fake disk. ``crash_after`` stops a
    video's pipeline in the middle of an operation, leaving its write-ahead record behind.
    """

    def __init__(self) -> None:
        self.lock: Lock | None = None
        self.disk: dict[str, OutputState] = {}
        self.histories: dict[str, ProjectHistory] = {}
        self.cached: dict[str, CachedOutput] = {}
        self.projects = 0
        self.messages_sent: list[tuple[str, str]] = []  # (project, chain key)

    def view(self) -> CacheView:
        return CacheView(histories=tuple(self.histories.values()), outputs=dict(self.cached))

    def remember(self, video: str) -> None:
        assert self.lock is not None
        entry = self.lock.videos[video]
        self.histories[entry.projectId] = ProjectHistory(
            project_id=entry.projectId,
            scope=None,
            video=video,
            source=entry.source,
            name=entry.name,
            description=entry.description,
            initial_composition_sha256=entry.initialCompositionSha256,
            steps=entry.steps,
            in_flight=entry.pending_task is not None,
        )

    def apply(self, plan: Plan, crash: Mapping[str, tuple[int, bool]] | None = None) -> None:
        crash = crash or {}
        lock = (self.lock or Lock.new(BASE, "acc")).with_templates(plan.template_pins)
        self.lock = lock
        for vp in plan.videos:
            for op in vp.stale_pending:
                self.lock = self.lock.drop_pending(vp.video, op)
            cut, with_id = crash.get(vp.video, (-1, False))
            for index, action in enumerate(vp.actions):
                if index == cut:
                    self._crash(vp.video, action, with_id)
                    break
                self._do(vp.video, action)
            else:
                if vp.drop_video:
                    self.lock = self.lock.drop_video(vp.video)

    def _crash(self, video: str, action: Any, with_id: bool) -> None:
        assert self.lock is not None
        if action.kind == "send_message":
            pending = PendingTask(step=action.step, key=action.chain_key, startedAt=T0)
            self.lock = self.lock.add_pending(video, pending)
            self.remember(video)
            # The message reached the service either way; only with_id did we learn it.
            project = self.lock.videos[video].projectId
            self.messages_sent.append((project, action.chain_key))
            if with_id:
                self.lock = self.lock.add_pending(video, pending.with_id(f"t-{action.chain_key}"))
        elif action.kind == "render":
            entry = self.lock.videos[video]
            key = action.render_key or render_key(entry.composition_sha256, action.config)
            pending = PendingRender(
                render=action.render, key=key, config=action.config, startedAt=T0
            )
            self.lock = self.lock.add_pending(video, pending.with_id("j-x") if with_id else pending)

    def _do(self, video: str, action: Any) -> None:
        assert self.lock is not None
        kind = action.kind
        if kind in ("create_project", "use_template", "replace_project"):
            if action.reuse is not None:
                reuse = action.reuse
                self.lock = self.lock.record_project(
                    video,
                    project_id=reuse.project_id,
                    source=reuse.source,
                    name=reuse.name,
                    description=reuse.description,
                    initial_composition_sha256=reuse.initial_composition_sha256,
                    steps=reuse.steps,
                )
            else:
                self.projects += 1
                source = action.recipe.source
                self.lock = self.lock.record_project(
                    video,
                    project_id=f"p{self.projects}",
                    source=source,
                    name=action.recipe.name,
                    description=action.recipe.description,
                    initial_composition_sha256="init-" + source_key(source.key_dict()),
                )
            self.remember(video)
        elif kind in ("send_message", "resume_task"):
            project = self.lock.videos[video].projectId
            if kind == "send_message":
                assert (project, action.chain_key) not in self.messages_sent, "sent twice"
                self.messages_sent.append((project, action.chain_key))
            else:
                assert (project, action.chain_key) in self.messages_sent
            step = StepRecord(key=action.chain_key, compositionSha256="h-" + action.chain_key)
            self.lock = self.lock.record_step(video, step)
            self.remember(video)
        elif kind in ("render", "resume_render", "download", "copy_cached"):
            composition = self.lock.videos[video].composition_sha256
            key = render_key(composition, action.config)
            assert action.render_key in (None, key)
            record = RenderRecord(
                key=key,
                jobId=f"j-{key[:8]}",
                path=action.path,
                sha256="file-" + key,
                size=1,
                config=action.config,
            )
            if kind in ("download", "copy_cached"):
                assert action.expected_sha256 == record.sha256
            self.disk[action.path] = OutputState(action.path, True, 1, record.sha256)
            self.cached[key] = CachedOutput(key, record.sha256, 1, action.config.format)
            self.lock = self.lock.record_render(video, action.render, record)
        elif kind == "remove_output":
            if action.path is not None:
                self.disk[action.path] = OutputState(action.path, exists=False)
            if action.forget and action.render in self.lock.videos[video].renders:
                self.lock = self.lock.remove_render(video, action.render)


def check_up_to_date(service: FakeService, the_spec: Spec) -> None:
    lock = service.lock
    assert lock is not None
    assert set(lock.videos) == set(the_spec.videos)
    for key, v in the_spec.videos.items():
        entry = lock.videos[key]
        assert entry.chain == tuple(keys_of(v))
        assert entry.pending == ()
        if isinstance(entry.source, BlankSource) and not v.steps:
            continue  # nothing to render
        assert set(entry.renders) == set(v.renders)
        for name, record in entry.renders.items():
            assert record.key == render_key(entry.composition_sha256, v.renders[name])
            assert service.disk[record.path].matches(record.sha256, record.size)


VIDEO_KEYS = ("v1", "v2", "v3")
RENDERS = {"hd": HD, "gif": GIF, "fast": RenderConfig(fps=60)}

a_video = st.builds(
    lambda key, messages, aspect, renders, name: video(
        key, *messages, aspect=aspect, renders={r: RENDERS[r] for r in renders}, name=name
    ),
    key=st.sampled_from(VIDEO_KEYS),
    messages=st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
    aspect=st.sampled_from(["16:9", "1:1"]),
    renders=st.sets(st.sampled_from(sorted(RENDERS))),
    name=st.sampled_from(["x", "y"]),
)
a_spec = st.lists(a_video, max_size=3, unique_by=lambda v: v.key).map(lambda vs: spec(*vs))
a_crash = st.dictionaries(
    st.sampled_from(VIDEO_KEYS), st.tuples(st.integers(0, 6), st.booleans()), max_size=2
)


a_loss = st.dictionaries(st.sampled_from(VIDEO_KEYS), st.booleans(), max_size=2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(a_spec, min_size=1, max_size=4),
    crashes=st.lists(a_crash, max_size=4),
    losses=st.lists(a_loss, max_size=4),
    wipes=st.lists(st.booleans(), max_size=4),
)
def test_applying_a_plan_leaves_nothing_to_do(
    specs: list[Spec], crashes: list[Any], losses: list[dict[str, bool]], wipes: list[bool]
) -> None:
    """Whatever the spec edits, wherever a run stops, whatever outputs get lost or damaged
    and whenever the run cache is deleted, one more plan+apply converges, and no project
    ever gets a message twice."""
    service = FakeService()
    for index, the_spec in enumerate(specs):
        if index < len(wipes) and wipes[index]:
            service.histories.clear()
            service.cached.clear()
        crash = crashes[index] if index < len(crashes) else {}
        for key, deleted in (losses[index] if index < len(losses) else {}).items():
            for path in [p for p in service.disk if p.startswith(f"out/{key}/")]:
                damaged = OutputState(path, exists=True, size=1, sha256="damaged")
                service.disk[path] = OutputState(path, exists=False) if deleted else damaged
        plan = plan_of(the_spec, service.lock, service.disk, service.view())
        service.apply(plan, crash)
        plan = plan_of(the_spec, service.lock, service.disk, service.view())
        service.apply(plan)
        check_up_to_date(service, the_spec)
        final = plan_of(the_spec, service.lock, service.disk, service.view())
        assert not final.changes, final.to_json()


# ------------------------------------------------- the project changed elsewhere (finding 1)

HELLO = video("launch", "Hello", renders={})
BRANCH = video("launch", "Hello", "Branch", renders={})
MAINLINE = video("launch", "Hello", "Mainline", renders={})


def _switched_back(cached: ProjectHistory) -> Plan:
    """The lock of ``[Hello]`` put back (a git checkout) while the cache saw ``cached``."""
    lock, outputs = lock_of(("launch", built(HELLO, "p-1")))
    return plan_of(spec(MAINLINE), lock, outputs, CacheView(histories=(cached,)))


@pytest.mark.parametrize(
    ("cached", "expected", "why"),
    [
        (  # another branch appended a step: P holds [Hello, Branch]
            lambda: history(built(BRANCH, "p-1")),
            [("replace_project", None), ("send_message", 1), ("send_message", 2)],
            "project p-1 holds steps the lock does not know: it was changed by another "
            "branch or run",
        ),
        (  # a different history altogether under the same id
            lambda: history(built(video("launch", "Other", renders={}), "p-1")),
            [("replace_project", None), ("send_message", 1), ("send_message", 2)],
            "project p-1 holds steps the lock does not know",
        ),
        (  # another branch's run was sending a message to P when it stopped
            lambda: replace(history(built(HELLO, "p-1")), in_flight=True, pending_key="k-x"),
            [("replace_project", None), ("send_message", 1), ("send_message", 2)],
            "project p-1 may hold a message the lock does not know",
        ),
        (  # the cache knows exactly what the lock knows
            lambda: history(built(HELLO, "p-1")),
            [("send_message", 2)],
            "new step",
        ),
        (  # the cache lags the lock: a crash after the lock recorded the step in flight
            lambda: replace(
                history(built(video("launch", renders={}), "p-1")),
                in_flight=True,
                pending_key=keys_of(HELLO)[0],
            ),
            [("send_message", 2)],
            "new step",
        ),
    ],
    ids=["longer", "different", "in-flight", "same", "cache-lags"],
)
def test_a_project_changed_by_another_branch_is_replaced(
    cached: Any, expected: list[tuple[str, Any]], why: str
) -> None:
    plan = _switched_back(cached())
    assert actions(plan) == expected
    assert reasons(plan)[0].startswith(why)
    if expected[0][0] == "replace_project":
        assert plan.video("launch").actions[0].reuse is None


def test_a_project_changed_elsewhere_that_still_fits_is_taken_as_it_is() -> None:
    # Back on the branch that wants [Hello, Branch, More]: P already holds the first two.
    lock, outputs = lock_of(("launch", built(HELLO, "p-1")))
    more = video("launch", "Hello", "Branch", "More", renders={})
    cache = CacheView(histories=(history(built(BRANCH, "p-1")),))
    plan = plan_of(spec(more), lock, outputs, cache)
    assert actions(plan) == [("replace_project", None), ("send_message", 3)]
    reuse = plan.video("launch").actions[0].reuse
    assert reuse is not None
    assert (reuse.project_id, len(reuse.steps)) == ("p-1", 2)
    assert reuse.own
    assert reasons(plan)[0].endswith(
        "the project itself already has steps 1-2 of the spec, so it is taken back as it is: "
        "the lock catches up, nothing is replaced"
    )
    assert "reusing" not in reasons(plan)[0]


def test_a_changed_project_moves_to_a_cached_one_before_paying() -> None:
    lock, outputs = lock_of(("launch", built(HELLO, "p-1")))
    mainline = history(built(MAINLINE, "p-9"))
    cache = CacheView(histories=(history(built(BRANCH, "p-1")), mainline))
    plan = plan_of(spec(MAINLINE), lock, outputs, cache)
    assert actions(plan) == [("replace_project", None)]
    reuse = plan.video("launch").actions[0].reuse
    assert reuse is not None
    assert reuse.project_id == "p-9"


def test_a_task_in_flight_that_the_lock_knows_is_resumed() -> None:
    item = built(HELLO, "p-1")
    intent = PendingTask(step=2, key=keys_of(MAINLINE)[1], taskId="t-2", startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(intent,))))
    cached = replace(history(item), in_flight=True, pending_key=intent.key)
    plan = plan_of(spec(MAINLINE), lock, outputs, CacheView(histories=(cached,)))
    assert actions(plan) == [("resume_task", 2)]


def test_a_project_the_lock_may_have_sent_to_is_never_taken_back_as_it_is() -> None:
    item = built(HELLO, "p-1")
    intent = PendingTask(step=2, key=keys_of(MAINLINE)[1], startedAt=T0)  # no task id
    lock, outputs = lock_of(("launch", edited(item, pending=(intent,))))
    cache = CacheView(histories=(history(item),))
    plan = plan_of(spec(MAINLINE), lock, outputs, cache, lost_tasks=("launch",))
    assert actions(plan)[0] == ("replace_project", None)
    assert plan.video("launch").actions[0].reuse is None
