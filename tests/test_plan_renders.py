"""The planner's render rules, table-tested through ``make_plan`` with literal inputs:
skip, resume, restore (copy or download), render only what changed, remove what is gone."""

from __future__ import annotations

import pytest
from test_plan import (
    GIF,
    HD,
    ROOT,
    T0,
    V3,
    actions,
    built,
    edited,
    lock_of,
    plan_of,
    reasons,
    spec,
    video,
)

from parafraim_build.api.models import RenderConfig
from parafraim_build.cache import CachedOutput, CacheView
from parafraim_build.digest import render_key
from parafraim_build.lock_model import PendingRender
from parafraim_build.outputs import OutputState

# ------------------------------------------------------------------- pending renders


def test_a_render_with_its_job_id_is_resumed() -> None:
    item = built(V3)
    hd = item.entry.renders["hd"]
    pending = PendingRender(render="hd", key=hd.key, jobId="j-9", config=HD, startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(pending,))))
    del outputs["out/launch/hd.mp4"]
    plan = plan_of(spec(V3), lock, outputs)
    assert actions(plan) == [("resume_render", "hd")]
    resume = plan.video("launch").actions[0]
    assert (resume.job_id, resume.render_key, resume.path) == ("j-9", hd.key, "out/launch/hd.mp4")


def test_a_render_whose_job_id_was_not_recorded_is_looked_up_from_the_last_task() -> None:
    item = built(V3)
    key = render_key("c3", GIF)
    pending = PendingRender(render="teaser", key=key, jobId=None, config=GIF, startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(pending,))))
    plan = plan_of(spec(V3), lock, outputs)
    (resume,) = plan.video("launch").actions
    assert (resume.kind, resume.job_id, resume.task_id) == ("resume_render", None, "t-3")
    assert "looked up from the project's last task" in resume.reason


def test_a_pending_render_for_another_config_is_stale() -> None:
    item = built(V3)
    old = PendingRender(render="hd", key="old-key", jobId="j-1", config=HD, startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(old,))))
    new = V3.model_copy(update={"renders": {"hd": RenderConfig(fps=60), "teaser": GIF}})
    plan = plan_of(spec(new), lock, outputs)
    assert actions(plan) == [("render", "hd")]
    assert plan.video("launch").stale_pending == (old,)


# ------------------------------------------------------------------- renders


@pytest.mark.parametrize(
    ("disk", "cached", "expected", "reason"),
    [
        pytest.param("missing", False, "download", "the output file is missing", id="missing"),
        pytest.param("corrupt", False, "download", "does not match the lock", id="corrupt"),
        pytest.param("missing", True, "copy_cached", "copied from the run cache", id="cached"),
    ],
)
def test_a_lost_output_is_restored_without_rendering(
    disk: str, cached: bool, expected: str, reason: str
) -> None:
    item = built(V3)
    lock, outputs = lock_of(("launch", item))
    path = "out/launch/hd.mp4"
    if disk == "missing":
        outputs[path] = OutputState(path, exists=False)
    else:
        outputs[path] = OutputState(path, exists=True, size=100, sha256="something-else")
    record = item.entry.renders["hd"]
    cache = CacheView(
        outputs={record.key: CachedOutput(record.key, "sha-hd", 100, "mp4")} if cached else {}
    )
    plan = plan_of(spec(V3), lock, outputs, cache)
    assert actions(plan) == [(expected, "hd")]
    (action,) = plan.video("launch").actions
    assert reason in action.reason
    assert (action.expected_sha256, action.expected_size) == ("sha-hd", 100)
    assert action.credits == 0
    if expected == "download":
        assert (action.job_id, action.config) == ("j-hd", HD)  # config: the fallback render


def test_an_output_not_in_the_plan_outputs_counts_as_missing() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    del outputs["out/launch/teaser.gif"]
    assert actions(plan_of(spec(V3), lock, outputs)) == [("download", "teaser")]


def test_a_lost_output_without_a_job_is_rendered_again() -> None:
    item = built(V3)
    records = dict(item.entry.renders)
    records["hd"] = records["hd"].model_copy(update={"jobId": None})
    lock, outputs = lock_of(("launch", edited(item, renders=records)))
    outputs["out/launch/hd.mp4"] = OutputState("out/launch/hd.mp4", exists=False)
    plan = plan_of(spec(V3), lock, outputs)
    (action,) = plan.video("launch").actions
    assert (action.kind, action.render_key) == ("render", records["hd"].key)
    assert "no job to download it from" in action.reason


def test_a_changed_config_renders_that_render_only() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    new = V3.model_copy(update={"renders": {"hd": RenderConfig(fps=60), "teaser": GIF}})
    plan = plan_of(spec(new), lock, outputs)
    assert actions(plan) == [("render", "hd")]
    (action,) = plan.video("launch").actions
    assert action.reason == "config changed (fps 30 -> 60)"
    assert action.render_key == render_key("c3", RenderConfig(fps=60))
    assert action.path == "out/launch/hd.mp4"


def test_a_known_composition_and_config_is_copied_from_the_cache() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    config = RenderConfig(fps=60)
    key = render_key("c3", config)
    cache = CacheView(outputs={key: CachedOutput(key, "sha-60", 7, "mp4", "j-60")})
    new = V3.model_copy(update={"renders": {"hd": config, "teaser": GIF}})
    plan = plan_of(spec(new), lock, outputs, cache)
    (action,) = plan.video("launch").actions
    assert (action.kind, action.render_key, action.expected_sha256) == (
        "copy_cached",
        key,
        "sha-60",
    )
    assert plan.estimated_credits == 0


def test_a_changed_format_renders_to_the_new_path_and_removes_the_old_file() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    new = V3.model_copy(
        update={"renders": {"hd": HD, "teaser": GIF.model_copy(update={"format": "mp4"})}}
    )
    plan = plan_of(spec(new), lock, outputs)
    assert actions(plan) == [("render", "teaser"), ("remove_output", "teaser")]
    render, remove = plan.video("launch").actions
    assert render.path == "out/launch/teaser.mp4"
    assert (remove.path, remove.forget) == ("out/launch/teaser.gif", False)


def test_a_moved_out_dir_copies_the_verified_outputs_to_the_new_place() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    moved = spec(V3).model_copy(update={"out_dir": ROOT / "build"})
    plan = plan_of(moved, lock, outputs)
    assert actions(plan) == [
        ("copy_cached", "hd"),
        ("copy_cached", "teaser"),
        ("remove_output", "hd"),
        ("remove_output", "teaser"),
    ]
    copy = plan.video("launch").actions[0]
    assert (copy.path, copy.source_path) == ("build/launch/hd.mp4", "out/launch/hd.mp4")
    assert reasons(plan)[0] == (
        "the output path changed from out/launch/hd.mp4; the verified file there is moved "
        "(copied, then removed there)"
    )
    assert plan.estimated_credits == 0


@pytest.mark.parametrize("old_file", ["still-there", "gone", "changed"])
def test_a_moved_output_already_at_its_new_place_is_only_recorded_there(old_file: str) -> None:
    # A run stopped between the copy and the lock's record, or the file was moved by hand:
    # the file at the new path is the recorded one, so nothing is fetched (or paid).
    lock, outputs = lock_of(("launch", built(V3)))
    new = "build/launch/hd.mp4"
    outputs[new] = OutputState(new, exists=True, size=100, sha256="sha-hd")
    old = "out/launch/hd.mp4"
    if old_file == "gone":
        outputs[old] = OutputState(old, exists=False)
    elif old_file == "changed":
        outputs[old] = OutputState(old, exists=True, size=100, sha256="edited")
    moved = spec(V3).model_copy(update={"out_dir": ROOT / "build"})
    plan = plan_of(moved, lock, outputs)
    assert actions(plan)[0] == ("copy_cached", "hd")
    copy = plan.video("launch").actions[0]
    assert (copy.path, copy.source_path, copy.expected_sha256) == (new, old, "sha-hd")
    assert copy.reason == (
        "the output path changed from out/launch/hd.mp4; the verified file is already at "
        "build/launch/hd.mp4: it is recorded there, nothing copied"
    )
    assert ("remove_output", "hd") in actions(plan)  # idempotent: the copy removed it first
    assert plan.video("launch").credits == 0


def test_a_moved_out_dir_whose_old_files_are_gone_downloads_them() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    outputs["out/launch/hd.mp4"] = OutputState("out/launch/hd.mp4", exists=False)
    moved = spec(V3).model_copy(update={"out_dir": ROOT / "build"})
    plan = plan_of(moved, lock, outputs)
    assert actions(plan)[:2] == [("download", "hd"), ("copy_cached", "teaser")]
    assert "path changed from out/launch/hd.mp4" in reasons(plan)[0]


def test_a_render_never_made_is_a_new_render_even_when_the_steps_change() -> None:
    lock, outputs = lock_of(("launch", built(video("launch", "one", renders={"hd": HD}))))
    wanted = video("launch", "one", "two", renders={"hd": HD, "teaser": GIF})
    plan = plan_of(spec(wanted), lock, outputs)
    assert actions(plan) == [("send_message", 2), ("render", "hd"), ("render", "teaser")]
    assert reasons(plan)[1:] == ["the steps change: every render is made again", "new render"]


def test_renders_of_an_older_composition_are_made_again() -> None:
    # The last apply ran with --no-render after a step was added: renders are of c2.
    item = built(video("launch", "one", "two", renders={"hd": HD, "teaser": GIF}))
    item3 = built(V3)
    lock, outputs = lock_of(("launch", edited(item3, renders=item.entry.renders)))
    plan = plan_of(spec(V3), lock, outputs)
    assert actions(plan) == [("render", "hd"), ("render", "teaser")]
    assert reasons(plan)[0] == "the composition changed since this output was made"


def test_a_known_duration_prices_the_render() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    new = V3.model_copy(update={"renders": {"hd": RenderConfig(fps=60), "teaser": GIF}})
    plan = plan_of(spec(new), lock, outputs, CacheView(durations={"c3": 12.0}))
    assert plan.estimated_credits == 14.0


def test_an_undeclared_render_is_removed() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    new = V3.model_copy(update={"renders": {"hd": HD}})
    plan = plan_of(spec(new), lock, outputs)
    assert actions(plan) == [("remove_output", "teaser")]
    (action,) = plan.video("launch").actions
    assert (action.path, action.forget) == ("out/launch/teaser.gif", True)


@pytest.mark.parametrize(
    ("disk", "said"),
    [
        ("same", "the render is no longer declared"),
        ("gone", "the render is no longer declared (the file is already gone)"),
        (
            "edited",
            "the render is no longer declared (the file was changed since it was made: it is "
            "kept, only its record goes)",
        ),
    ],
)
def test_a_removal_says_what_becomes_of_the_file(disk: str, said: str) -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    path = "out/launch/teaser.gif"
    if disk == "gone":
        outputs[path] = OutputState(path, exists=False)
    elif disk == "edited":
        outputs[path] = OutputState(path, exists=True, size=100, sha256="edited by hand")
    plan = plan_of(spec(V3.model_copy(update={"renders": {"hd": HD}})), lock, outputs)
    (removal,) = plan.video("launch").actions
    assert removal.reason == said


def test_no_render_plans_steps_and_removals_only() -> None:
    lock, outputs = lock_of(("launch", built(V3)))
    new = video("launch", "one", "two", "three", "four", renders={"hd": HD})
    outputs["out/launch/hd.mp4"] = OutputState("out/launch/hd.mp4", exists=False)
    plan = plan_of(spec(new), lock, outputs, no_render=True)
    assert actions(plan) == [("send_message", 4), ("remove_output", "teaser")]


# ------------------------------------------------------------ removed videos


def test_a_video_removed_from_the_spec_loses_its_outputs_and_lock_entry() -> None:
    lock, outputs = lock_of(("launch", built(V3)), ("old", built(video("old", "x"), "p-2")))
    outputs["out/old/hd.mp4"] = OutputState("out/old/hd.mp4", exists=False)
    plan = plan_of(spec(V3), lock, outputs)
    old = plan.video("old")
    assert actions(plan, "old") == [("remove_output", "hd")]
    assert old.drop_video
    assert old.actions[0].forget
    assert "already gone" in old.actions[0].reason
    assert "project p-2 stays on the service" in old.warnings[0]


def test_a_removed_video_without_outputs_still_changes_the_lock() -> None:
    lock, outputs = lock_of(("gone", built(video("gone", "x", renders={}))))
    plan = plan_of(spec(), lock, outputs)
    assert plan.changes
    # Every change is an action: the entry's removal is shown, in the fixed JSON shape.
    document = plan.to_json()
    assert document["changes"] is True
    assert document["summary"]["remove_output"] == 1
    assert document["videos"] == [
        {
            "video": "gone",
            "projectId": "p-1",
            "actions": [
                {
                    "action": "remove_output",
                    "reason": "the video is no longer in the spec and has no outputs: its "
                    "lock entry goes (project p-1 stays on the service)",
                }
            ],
        }
    ]


@pytest.mark.parametrize(
    ("cached", "written_at", "expected_path"),
    [
        pytest.param(False, None, None, id="no-copy-in-the-cache-deletes-nothing"),
        pytest.param(True, None, "out/launch/zbig.gif", id="the-cached-file-is-removed"),
        pytest.param(True, "old/launch/zbig.gif", "old/launch/zbig.gif", id="under-old-outdir"),
    ],
)
def test_a_stale_pending_render_of_a_removed_render_is_a_change(
    cached: bool, written_at: str | None, expected_path: str | None
) -> None:
    # Killed during render zbig, then zbig left the spec: its intent must not stay forever,
    # and its file goes only when the run cache's copy (kept before the lock records a
    # download) proves which file the killed run made, wherever that run wrote it.
    item = built(V3)
    zbig = PendingRender(
        render="zbig", key="k", jobId="j-9", config=GIF, startedAt=T0, path=written_at
    )
    lock, outputs = lock_of(("launch", edited(item, pending=(zbig,))))
    cache = CacheView(
        outputs={"k": CachedOutput("k", "sha-zbig", 55, "gif", "j-9")} if cached else {}
    )
    plan = plan_of(spec(V3), lock, outputs, cache)
    assert plan.changes
    assert plan.to_json()["videos"][0]["actions"] != []
    assert actions(plan) == [("remove_output", "zbig")]
    action = plan.video("launch").actions[0]
    assert (action.path, action.forget) == (expected_path, False)
    if expected_path is None:
        assert action.expected_sha256 is None
        assert "nothing is removed" in action.reason
    else:
        assert (action.expected_sha256, action.expected_size) == ("sha-zbig", 55)
        assert f"{expected_path} too if it is the file that run made" in action.reason
    assert "an interrupted run was making render zbig (job j-9)" in action.reason
    assert plan.video("launch").stale_pending == (zbig,)


@pytest.mark.parametrize("cached", [False, True], ids=["not-cached", "cached"])
def test_a_stale_pending_render_of_a_current_output_is_an_action(cached: bool) -> None:
    # Killed while rendering hd in another config, then the config was reverted: the output
    # on disk is current, but the lock still holds the intent. It is a change, so an action;
    # the file at hd's path is the current output's and is never deleted for it.
    item = built(V3)
    other = PendingRender(
        render="hd", key="k-60", jobId="j-9", config=RenderConfig(fps=60), startedAt=T0
    )
    lock, outputs = lock_of(("launch", edited(item, pending=(other,))))
    cache = CacheView(outputs={"k-60": CachedOutput("k-60", "sha-60", 7, "mp4")} if cached else {})
    plan = plan_of(spec(V3), lock, outputs, cache)
    document = plan.to_json()
    assert document["changes"] is True
    assert document["videos"][0]["actions"] == [
        {
            "action": "remove_output",
            "render": "hd",
            "reason": "an interrupted run was making render hd (job j-9), which the spec no "
            "longer asks for: its pending record is dropped "
            + (
                "(out/launch/hd.mp4 holds a current output: it is kept)"
                if cached
                else "(no file of it is known: nothing is removed)"
            ),
        }
    ]
    (action,) = plan.video("launch").actions
    assert (action.path, action.forget, action.expected_sha256) == (None, False, None)
    assert plan.video("launch").stale_pending == (other,)


def test_a_stale_pending_render_of_a_render_made_again_needs_no_action_of_its_own() -> None:
    item = built(V3)
    other = PendingRender(render="hd", key="k-60", config=RenderConfig(fps=60), startedAt=T0)
    lock, outputs = lock_of(("launch", edited(item, pending=(other,))))
    new = V3.model_copy(update={"renders": {"hd": RenderConfig(fps=50), "teaser": GIF}})
    plan = plan_of(spec(new), lock, outputs)
    assert actions(plan) == [("render", "hd")]  # its new intent replaces the old one
    assert plan.video("launch").stale_pending == (other,)


def test_a_removed_videos_stale_render_file_is_removed_when_provably_its() -> None:
    gone = built(video("gone", "x"), "p-2")
    stale = PendingRender(
        render="zoom", key="kz", jobId="j-4", config=GIF, startedAt=T0, path="old/gone/zoom.gif"
    )
    lock, outputs = lock_of(("gone", edited(gone, pending=(stale,))))
    cache = CacheView(outputs={"kz": CachedOutput("kz", "sha-z", 9, "gif")})
    plan = plan_of(spec(), lock, outputs, cache)
    assert actions(plan, "gone") == [("remove_output", "hd"), ("remove_output", "zoom")]
    zoom = plan.video("gone").actions[1]
    assert (zoom.path, zoom.expected_sha256) == ("old/gone/zoom.gif", "sha-z")
