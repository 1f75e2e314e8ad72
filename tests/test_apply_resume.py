"""The moments a crash can leave behind, set up exactly, and what the next apply makes of them.

The crash test hits these windows at random; here each one is built by hand: the previous
run's request is made directly against the engine, and the lock is written as that run would
have left it (an intent, with or without the id the service answered). The next apply must
resume or recover without sending anything again, or move to a new project when it cannot
know.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from apply_support import (
    SMALL,
    Builder,
    RecordingReporter,
    RewritingTransport,
    actions,
    apply_through,
    check_outputs,
    sha256_of,
    video,
    write_spec,
)
from engine_client import EngineClient, EngineFactory

from parafraim_build.cache import RunCache
from parafraim_build.digest import chain_keys, composition_hash, render_key, source_key
from parafraim_build.fsutil import atomic_write_text
from parafraim_build.lock_model import (
    Lock,
    PendingRender,
    PendingTask,
    StepRecord,
    dump_lock,
    utc_timestamp,
)
from parafraim_build.spec import load_spec

pytest_plugins = ("engine_fixtures",)

STEPS = ("Open with our new product.", "Make the headline bigger.")
NOW = utc_timestamp(datetime.now(timezone.utc) - timedelta(seconds=1))


@pytest.fixture
def builder(make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Builder:
    """A spec folder and an engine with the fast test pace."""
    return Builder(make_engine(), tmp_path / "site", monkeypatch)


def write_lock(builder: Builder, lock: Lock) -> None:
    """The lock as an interrupted run would have left it."""
    atomic_write_text(builder.lock_path, dump_lock(lock))


def keys(builder: Builder, video_key: str) -> list[str]:
    """The chain keys of a video's steps, as the planner computes them."""
    spec = load_spec(builder.spec)
    source = {"kind": "blank", "aspectRatio": "16:9"}
    return list(chain_keys(source_key(source), spec.videos[video_key].steps))


def step_two_wanted(builder: Builder) -> tuple[Lock, str]:
    """``solo`` built with step 1, then step 2 added to the spec (not applied): the lock
    and the video's project."""
    builder.write({"solo": video(STEPS[0], renders={"clip": {}})})
    builder.apply()
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    lock = builder.lock()
    return lock, lock.videos["solo"].projectId


def test_a_task_whose_id_was_recorded_is_resumed_not_sent_again(builder: Builder) -> None:
    lock, project = step_two_wanted(builder)
    with EngineClient(builder.engine) as http:
        task_id = http.send(project, STEPS[1])  # sent by the run that was killed
    intent = PendingTask(step=2, key=keys(builder, "solo")[1], taskId=task_id, startedAt=NOW)
    write_lock(builder, lock.add_pending("solo", intent))
    plan = builder.plan()
    assert actions(plan, "solo") == [("resume_task", 2), ("render", "clip")]
    before = builder.ledger()
    builder.apply()
    assert builder.ledger().since(before).kinds() == {"render": 1}
    after = builder.lock().videos["solo"]
    assert after.projectId == project
    assert [step.taskId for step in after.steps][1] == task_id
    check_outputs(builder.root, builder.lock())


def test_a_message_whose_answer_was_lost_moves_the_video_to_a_new_project(
    builder: Builder,
) -> None:
    lock, project = step_two_wanted(builder)
    with EngineClient(builder.engine) as http:
        http.send(project, STEPS[1])  # accepted, but the killed run never saw the answer
    write_lock(builder, lock.add_pending("solo", PendingTask(step=2, key="k", startedAt=NOW)))
    plan = builder.plan()
    assert actions(plan, "solo")[0] == ("replace_project", None)
    assert "task id was not recorded" in plan["videos"][0]["actions"][0]["reason"]
    before = builder.ledger()
    builder.apply()
    new = builder.ledger().since(before)
    fresh = builder.lock().videos["solo"].projectId
    assert fresh != project
    assert new.messages(fresh) == list(STEPS)
    assert new.messages(project) == []
    # The uncertain project is never handed back by the run cache either.
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    assert builder.plan("--replace", "solo")["videos"][0]["actions"][0]["action"] == (
        "replace_project"
    )
    check_outputs(builder.root, builder.lock())


def killed_before_recording(
    builder: Builder, key: str, *, sent: bool, at: str = NOW, render: str = "clip"
) -> str | None:
    """Leave video ``key``'s ``render`` as a run killed right after writing its render intent
    would: the intent without a job id, and (``sent``) the render accepted by the service."""
    lock = builder.lock()
    entry = lock.videos[key]
    config = load_spec(builder.spec).videos[key].renders[render]
    job_id = None
    if sent:
        with EngineClient(builder.engine) as http:
            job_id = http.render(entry.projectId, config.model_dump(mode="json"))
    key_now = render_key(entry.composition_sha256, config)
    intent = PendingRender(render=render, key=key_now, config=config, startedAt=at)
    write_lock(builder, lock.add_pending(key, intent))
    return job_id


def send_step_two(builder: Builder) -> None:
    """Step 2 of ``solo`` sent and recorded by the run that is then killed."""
    lock = builder.lock()
    project = lock.videos["solo"].projectId
    with EngineClient(builder.engine) as http:
        task = http.wait_task(http.send(project, STEPS[1]))
    digest = composition_hash(task["project"]["compositionHtml"])
    step = StepRecord(key=keys(builder, "solo")[1], compositionSha256=digest, taskId=task["id"])
    write_lock(builder, lock.record_step("solo", step))


@pytest.mark.parametrize("sent", [True, False], ids=["sent", "never sent"])
def test_a_render_whose_job_id_was_lost_after_a_task_is_recovered(
    builder: Builder, sent: bool
) -> None:
    step_two_wanted(builder)
    send_step_two(builder)
    job_id = killed_before_recording(builder, "solo", sent=sent)
    assert actions(builder.plan(), "solo") == [("resume_render", "clip")]
    before = builder.ledger()
    builder.apply()
    new = builder.ledger().since(before)
    record = builder.lock().videos["solo"].renders["clip"]
    if sent:
        assert new.entries == []
        assert record.jobId == job_id
    else:
        assert new.kinds() == {"render": 1}
        assert record.jobId == new.renders()[0].job_id
    check_outputs(builder.root, builder.lock())
    builder.ledger().assert_nothing_sent_twice()


@pytest.mark.parametrize("sent", [True, False], ids=["sent", "never sent"])
def test_a_render_whose_job_id_was_lost_without_any_task_is_recovered(
    builder: Builder, sent: bool
) -> None:
    # No step: there is no task to ask; the account's recent transactions name the job.
    bare = {"template": "Product launch", "renders": {"clip": dict(SMALL)}}
    builder.write({"bare": bare})
    builder.apply()
    builder.write({"bare": {**bare, "renders": {"clip": {**SMALL, "fps": 25}}}})
    job_id = killed_before_recording(builder, "bare", sent=sent)
    assert actions(builder.plan(), "bare") == [("resume_render", "clip")]
    before = builder.ledger()
    builder.apply()
    new = builder.ledger().since(before)
    record = builder.lock().videos["bare"].renders["clip"]
    assert record.config.fps == 25
    if sent:
        assert new.entries == []
        assert record.jobId == job_id
    else:
        assert new.kinds() == {"render": 1}
    check_outputs(builder.root, builder.lock())
    builder.ledger().assert_nothing_sent_twice()


def test_the_job_of_a_render_since_removed_is_not_taken_for_a_lost_one(builder: Builder) -> None:
    # zoom is made (last, so its job is the project's newest), then removed from the spec (its
    # record and job are forgotten), then asked for again in another config by a run killed
    # before its request: the old job must not be recorded as the new one.
    fast = {**SMALL, "fps": 25}
    builder.write({"solo": video(*STEPS, renders={"clip": {}, "zoom": fast})})
    builder.apply()
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    builder.apply()
    builder.write({"solo": video(*STEPS, renders={"clip": {}, "zoom": {**SMALL, "fps": 30}})})
    later = utc_timestamp(datetime.now(timezone.utc) + timedelta(seconds=30))
    killed_before_recording(builder, "solo", sent=False, at=later, render="zoom")
    before = builder.ledger()
    builder.apply()
    new = builder.ledger().since(before)
    assert new.kinds() == {"render": 1}
    record = builder.lock().videos["solo"].renders["zoom"]
    assert record.config.fps == 30
    assert record.jobId == new.renders()[0].job_id
    check_outputs(builder.root, builder.lock())


@pytest.mark.parametrize("sent", [True, False], ids=["job recorded", "no job id"])
def test_a_pending_render_of_a_render_since_removed_is_cleaned_up(
    builder: Builder, sent: bool
) -> None:
    builder.write({"solo": video(*STEPS, renders={"clip": {}, "zbig": {**SMALL, "fps": 25}})})
    killed = builder.lock_path
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    builder.apply()
    builder.write({"solo": video(*STEPS, renders={"clip": {}, "zbig": {**SMALL, "fps": 25}})})
    job_id = killed_before_recording(builder, "solo", sent=sent, render="zbig")
    lock = builder.lock()
    if job_id is not None:  # the killed run had recorded the job's id too
        intent = lock.videos["solo"].pending_render("zbig")
        assert intent is not None
        write_lock(builder, lock.add_pending("solo", intent.with_id(job_id)))
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})  # zbig leaves the spec
    assert builder.run("plan", "--detailed-exitcode").exit_code == 2
    assert actions(builder.plan(), "solo") == [("remove_output", "zbig")]
    before = builder.ledger()
    assert builder.apply()["ok"] is True
    assert builder.ledger().since(before).entries == []
    assert builder.lock().videos["solo"].pending == ()
    assert not (killed.parent / "out/solo/zbig.mp4").exists()
    assert builder.run("plan", "--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("sent", [True, False], ids=["sent", "never sent"])
def test_a_message_whose_answer_was_lost_is_found_by_its_charge(
    builder: Builder, sent: bool
) -> None:
    lock, project = step_two_wanted(builder)
    intent = PendingTask(step=2, key=keys(builder, "solo")[1], startedAt=NOW)
    write_lock(builder, lock.add_pending("solo", intent))
    task_id = None
    if sent:  # accepted, but the killed run never saw the answer
        with EngineClient(builder.engine) as http:
            task_id = http.send(project, STEPS[1])
    plan = builder.plan()
    assert actions(plan, "solo") == [("resume_task", 2), ("render", "clip")]
    assert plan["videos"][0]["actions"][0]["reason"].startswith(
        "the answer to step 2 was lost; its task will be looked up"
    )
    before = builder.ledger()
    result = builder.apply()
    assert result["ok"] is True
    new = builder.ledger().since(before)
    entry = builder.lock().videos["solo"]
    if sent:
        # Found by its charge: waited for and recorded, nothing sent again.
        assert new.kinds() == {"render": 1}
        assert entry.projectId == project
        assert entry.steps[1].taskId == task_id
    else:
        # Not found: the same apply moves the video to a new project, which gets every step.
        assert entry.projectId != project
        assert new.messages(project) == []
        assert new.messages(entry.projectId) == list(STEPS)
        assert new.kinds() == {"project": 1, "message": 2, "render": 1}
    check_outputs(builder.root, builder.lock())
    builder.ledger().assert_nothing_sent_twice()
    assert builder.plan()["changes"] is False


def test_a_task_completed_without_a_snapshot_is_never_sent_again(builder: Builder) -> None:
    builder.write({"solo": video(STEPS[0], renders={"clip": {}})})
    builder.apply()
    project = builder.lock().videos["solo"].projectId
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})

    def without_snapshot(request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
        # Tasks of the old project come back completed but without the project's snapshot.
        data = body.get("data")
        if (
            "/tasks/" in request.url.path
            and isinstance(data, dict)
            and data.get("projectId") == project
        ):
            data.pop("project", None)
        return body

    before = builder.ledger()
    result = apply_through(builder, RewritingTransport(without_snapshot))
    assert result.ok, [video.error for video in result.videos]
    new = builder.ledger().since(before)
    entry = builder.lock().videos["solo"]
    # Step 2 reached the old project, whose content is then unknown: it is never sent there
    # again; the video moved to a new project within the same apply.
    assert new.messages(project) == [STEPS[1]]
    assert entry.projectId != project
    assert entry.pending == ()
    check_outputs(builder.root, builder.lock())
    builder.ledger().assert_nothing_sent_twice()


def test_a_lost_render_never_adopts_another_renders_job(builder: Builder) -> None:
    # zoom (a GIF) is made last, then removed from the spec; its charge has since aged out of
    # the recent transactions, so nothing tells its job from the lost request of clip (MP4).
    gif = {**SMALL, "format": "gif"}
    builder.write({"solo": video(*STEPS, renders={"clip": {}, "zoom": gif})})
    builder.apply()
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    builder.apply()
    builder.write({"solo": video(*STEPS, renders={"clip": {**SMALL, "fps": 25}})})
    killed_before_recording(builder, "solo", sent=False)

    def aged_out(request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.url.path.endswith("/credits") and isinstance(body.get("data"), dict):
            body["data"]["recent"] = []
        return body

    before = builder.ledger()
    result = apply_through(builder, RewritingTransport(aged_out))
    assert result.ok, [video.error for video in result.videos]
    new = builder.ledger().since(before)
    assert new.kinds() == {"render": 1}
    record = builder.lock().videos["solo"].renders["clip"]
    assert record.jobId == new.renders()[0].job_id
    assert (builder.root / record.path).read_bytes()[4:8] == b"ftyp"
    check_outputs(builder.root, builder.lock())


def test_a_replanned_video_never_takes_a_project_another_video_is_about_to_reuse(
    builder: Builder,
) -> None:
    # c's project X leaves the lock with c; the next plan hands X to b (its history, step 1,
    # is a beginning of b's new steps). Before b runs, a's lost message is looked up in vain
    # and a is planned again: X is promised to b, so a must not take it too.
    intro = "Make the intro shorter."
    builder.write(
        {
            "a": video(intro, "Add a blue title.", renders={}),
            "b": video(intro, "Add a red title.", renders={}),
            "c": video(intro, renders={}),
        }
    )
    builder.apply()
    x = builder.lock().videos["c"].projectId
    builder.write(
        {
            "a": video(intro, "Add a blue title.", renders={}),
            "b": video(intro, "Add a red title.", renders={}),
        }
    )
    builder.apply()
    builder.write(
        {
            "a": video(intro, "Add a blue title.", "Add a green footer.", renders={}),
            "b": video(intro, "Add a calm title.", renders={}),
        }
    )
    lock = builder.lock()
    step3 = keys(builder, "a")[2]
    write_lock(builder, lock.add_pending("a", PendingTask(step=3, key=step3, startedAt=NOW)))
    plan = builder.plan()
    assert actions(plan, "a") == [("resume_task", 3), ("render", "clip")]
    assert actions(plan, "b")[0] == ("replace_project", None)
    assert x in plan["videos"][1]["actions"][0]["reason"]
    before = builder.ledger()
    result = builder.apply("--parallelism", "1")
    assert result["ok"] is True, result
    after = builder.lock()
    assert after.videos["b"].projectId == x
    assert after.videos["a"].projectId != x
    b_result = next(v for v in result["videos"] if v["video"] == "b")
    assert b_result["actions"][0]["outcome"] == f"project {x}, 1 step already applied"
    new = builder.ledger().since(before)
    assert new.messages(x) == ["Add a calm title."]
    builder.ledger().assert_nothing_sent_twice()
    assert builder.plan()["changes"] is False


def killed_after_downloading(builder: Builder, key: str, render: str) -> None:
    """Leave ``render`` of video ``key`` as a run killed after its download was written and
    kept in the run cache, but before the lock recorded it: the intent (with its job and
    path) instead of the record."""
    lock = builder.lock()
    record = lock.videos[key].renders[render]
    intent = PendingRender(
        render=render,
        key=record.key,
        jobId=record.jobId,
        config=record.config,
        startedAt=NOW,
        path=record.path,
    )
    write_lock(builder, lock.remove_render(key, render).add_pending(key, intent))


def test_a_stale_render_file_is_removed_where_the_killed_run_wrote_it(builder: Builder) -> None:
    zbig = {**SMALL, "fps": 25}
    builder.write({"solo": video(*STEPS, renders={"clip": {}, "zbig": zbig})})
    builder.apply()
    killed_after_downloading(builder, "solo", "zbig")
    left = builder.root / "out" / "solo" / "zbig.mp4"
    assert left.is_file()
    # zbig leaves the spec, and outDir moves: the file is where the killed run put it.
    write_spec(builder.root, {"solo": video(*STEPS, renders={"clip": {}})}, out_dir="build")
    plan = builder.plan()
    assert ("remove_output", "zbig") in actions(plan, "solo")
    before = builder.ledger()
    assert builder.apply()["ok"] is True
    assert builder.ledger().since(before).entries == []
    assert not left.exists()
    assert not (builder.root / "out").exists() or list((builder.root / "out").rglob("*")) == []
    check_outputs(builder.root, builder.lock())
    assert builder.plan()["changes"] is False


def test_a_file_in_a_stale_renders_place_that_the_tool_did_not_make_is_kept(
    builder: Builder,
) -> None:
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    builder.apply()
    builder.write({"solo": video(*STEPS, renders={"clip": {}, "zbig": {**SMALL, "fps": 25}})})
    killed_before_recording(builder, "solo", sent=True, render="zbig")
    mine = builder.root / "out" / "solo" / "zbig.mp4"
    mine.write_bytes(b"a file the user put there")  # nothing the tool made or kept
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    assert actions(builder.plan(), "solo") == [("remove_output", "zbig")]
    assert builder.apply()["ok"] is True
    assert mine.read_bytes() == b"a file the user put there"
    assert builder.lock().videos["solo"].pending == ()
    assert builder.plan()["changes"] is False


def test_a_stale_pending_render_of_a_current_output_is_shown_and_dropped(builder: Builder) -> None:
    # Killed while rendering clip at 25 fps; the config was then put back to what is on disk.
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    builder.apply()
    record = builder.lock().videos["solo"].renders["clip"]
    builder.write({"solo": video(*STEPS, renders={"clip": {**SMALL, "fps": 25}})})
    killed_before_recording(builder, "solo", sent=True)
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    assert builder.run("plan", "--detailed-exitcode").exit_code == 2
    plan = builder.plan()
    assert plan["changes"] is True
    assert actions(plan, "solo") == [("remove_output", "clip")]
    assert "its pending record is dropped" in plan["videos"][0]["actions"][0]["reason"]
    before = builder.ledger()
    assert builder.apply()["ok"] is True
    assert builder.ledger().since(before).entries == []
    after = builder.lock().videos["solo"]
    assert after.pending == ()
    assert after.renders["clip"] == record
    assert sha256_of(builder.root / record.path) == record.sha256  # the output is untouched
    assert builder.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_project_left_behind_by_a_lost_message_is_never_reused_as_safe(
    builder: Builder,
) -> None:
    # The run cache knows P settled (one step); the lock that comes back (another branch's)
    # says step 2 was being sent to P and its answer was lost. apply looks it up in vain and
    # moves the video: P may hold step 2, and the cache must say so from then on.
    lock, project = step_two_wanted(builder)
    intent = PendingTask(step=2, key=keys(builder, "solo")[1], startedAt=NOW)
    write_lock(builder, lock.add_pending("solo", intent))
    assert builder.apply()["ok"] is True
    assert builder.lock().videos["solo"].projectId != project
    with RunCache(Path(os.environ["PARAFRAIM_CACHE_DIR"])) as cache:
        histories = cache.view(lock.baseUrl, lock.accountId).histories
    known = {history.project_id: history for history in histories}
    assert known[project].in_flight
    assert known[project].pending_key == intent.key
    # An edit that P's one step fits is never moved onto P.
    builder.write({"solo": video(STEPS[0], "Something else entirely.", renders={"clip": {}})})
    (replace, *_rest) = builder.plan()["videos"][0]["actions"]
    assert replace["action"] == "replace_project"
    assert project not in replace["reason"]


class LostMessageAnswers(httpx.AsyncBaseTransport):
    """The first ``lose`` answers to a message are lost on their way back (the message
    reaches the engine), and the account's recent charges come back empty, so the lost
    message's task can never be found."""

    def __init__(self, lose: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.lose = lose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        path = request.url.path
        if request.method == "POST" and path.endswith("/messages") and self.lose > 0:
            self.lose -= 1
            await response.aread()
            raise httpx.RemoteProtocolError("connection closed mid-answer", request=request)
        if path.endswith("/credits"):
            body = json.loads(await response.aread())
            body["data"]["recent"] = []
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
            return httpx.Response(response.status_code, headers=headers, json=body)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def test_a_video_moved_mid_run_reports_its_new_count_of_actions(builder: Builder) -> None:
    builder.write({"solo": video(*STEPS, renders={"clip": {}})})
    builder.apply()
    builder.write({"solo": video(*STEPS, "Add a footer.", renders={"clip": {}})})
    said = RecordingReporter()
    result = apply_through(builder, LostMessageAnswers(lose=1), reporter=said)
    assert result.ok, [v.error for v in result.videos]
    # Planned: step 3, render (2 actions). Moved: a new project, steps 1-3, render (5).
    moves = [why for video, why in said.said if "moving to another project" in why]
    assert len(moves) == 1
    assert moves[0].endswith("moving to another project (5 actions now)")
    check_outputs(builder.root, builder.lock())


def test_a_video_that_keeps_losing_messages_stops_and_says_what_the_next_apply_does(
    builder: Builder,
) -> None:
    builder.write({"solo": video(STEPS[0], renders={"clip": {}})})
    result = apply_through(builder, LostMessageAnswers(lose=100))
    (solo,) = result.videos
    assert solo.status == "failed"
    assert (solo.error or "").endswith(
        "the video was moved to another project 3 times in this apply and stops here"
    )
    assert "the next plan rebuilds" not in (solo.error or "")
    assert "looks a lost message up again first" in (solo.hint or "")
    # Each project got the message once: never twice to one project.
    projects = builder.ledger().projects()
    assert len(projects) == 4
    assert [len(builder.ledger().messages(p)) for p in projects] == [1, 1, 1, 1]
    # With the charges readable again, the next apply finds the last one and goes on.
    before = builder.ledger()
    assert builder.apply()["ok"] is True
    assert builder.ledger().since(before).kinds() == {"render": 1}
    builder.ledger().assert_nothing_sent_twice()
    check_outputs(builder.root, builder.lock())
