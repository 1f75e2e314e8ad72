"""``plan`` and ``apply`` end to end: the CLI in-process against a real engine over a socket.

Each test builds a small spec (cheap 480x270 renders), applies it, changes something and
proves from the engine's ledger and request counters that exactly the right work was done:
no more (nothing sent twice, nothing re-rendered) and no less (every output on disk, whole,
matching the lock).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from apply_support import (
    Builder,
    Ledger,
    RewritingTransport,
    actions,
    apply_through,
    check_outputs,
    video,
    write_spec,
)
from engine_client import EngineFactory

from parafraim_build.cache import RunCache
from parafraim_build.console.plan_view import format_credits
from parafraim_build.emulator.state import Transaction
from parafraim_build.lock_model import Lock, VideoLock

pytest_plugins = ("engine_fixtures",)

STEPS_A = ("Open with our new product.", "Make the headline bigger.")
STEPS_B = ("Show the price on its own scene.",)


@pytest.fixture
def builder(make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Builder:
    """A spec folder and an engine with the fast test pace."""
    return Builder(make_engine(), tmp_path / "site", monkeypatch)


def two_videos() -> dict[str, dict[str, object]]:
    return {"alpha": video(*STEPS_A), "beta": video(*STEPS_B, renders={"clip": {}})}


def test_first_build_makes_every_output_and_records_it(builder: Builder) -> None:
    builder.write(two_videos())
    plan = builder.plan()
    assert plan["changes"] is True
    assert actions(plan, "alpha") == [
        ("create_project", None),
        ("send_message", 1),
        ("send_message", 2),
        ("render", "clip"),
        ("render", "teaser"),
    ]
    result = builder.apply()
    assert result["ok"] is True
    assert [v["status"] for v in result["videos"]] == ["ok", "ok"]
    lock = builder.lock()
    assert check_outputs(builder.root, lock) == 3
    assert (builder.root / "out/alpha/teaser.gif").read_bytes()[:6] == b"GIF89a"
    assert (builder.root / "out/alpha/clip.mp4").read_bytes()[4:8] == b"ftyp"
    ledger = builder.ledger()
    assert ledger.kinds() == {"project": 2, "message": 3, "render": 3}
    assert ledger.messages(lock.videos["alpha"].projectId) == list(STEPS_A)
    assert len(lock.videos["alpha"].steps) == 2
    ledger.assert_nothing_sent_twice()


def test_a_no_op_rebuild_makes_no_api_request(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    lock_bytes = builder.lock_path.read_bytes()
    before = builder.requests()
    plan = builder.plan()
    assert plan["changes"] is False
    assert all(entry["actions"] == [] for entry in plan["videos"])
    assert builder.requests() == before
    result = builder.apply()
    assert result["changes"] is False
    assert result["requests"] == {}
    # Nothing ran, so nothing was spent; no balance is read to say so.
    assert result["spentCredits"] == 0
    assert result["balance"] == {"before": None, "after": None}
    assert builder.requests() == before
    text = builder.run("apply", "--yes")
    assert text.exit_code == 0
    assert text.stdout == "No changes: every video is up to date. Nothing to apply.\n"
    assert builder.run("plan").stdout.endswith("\nNo changes: every video is up to date.\n")
    assert builder.requests() == before
    assert builder.lock_path.read_bytes() == lock_bytes


def test_an_appended_step_sends_one_message_and_renders_that_video_only(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    before = builder.ledger()
    alpha = builder.lock().videos["alpha"]
    builder.write({**two_videos(), "alpha": video(*STEPS_A, "End on the logo.")})
    plan = builder.plan()
    assert actions(plan, "alpha") == [("send_message", 3), ("render", "clip"), ("render", "teaser")]
    assert actions(plan, "beta") == []
    builder.apply()
    new = builder.ledger().since(before)
    assert new.kinds() == {"message": 1, "render": 2}
    assert new.messages(alpha.projectId) == ["End on the logo."]
    assert set(new.render_projects()) == {alpha.projectId}
    lock = builder.lock()
    assert lock.videos["alpha"].projectId == alpha.projectId
    assert len(lock.videos["alpha"].steps) == 3
    assert lock.videos["beta"] == builder_lock_before(before, lock, "beta")
    check_outputs(builder.root, lock)
    builder.ledger().assert_nothing_sent_twice()


def builder_lock_before(before: Ledger, lock: Lock, key: str) -> VideoLock:
    """The video's entry, checked to still name the project the ledger first created for it."""
    entry = lock.videos[key]
    assert entry.projectId in before.projects()
    return entry


def test_an_edited_earlier_step_replaces_the_project(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    old = builder.lock().videos["alpha"]
    before = builder.ledger()
    edited = ("Open with our new product, in green.", STEPS_A[1])
    builder.write({**two_videos(), "alpha": video(*edited)})
    plan = builder.plan()
    assert actions(plan, "alpha") == [
        ("replace_project", None),
        ("send_message", 1),
        ("send_message", 2),
        ("render", "clip"),
        ("render", "teaser"),
    ]
    builder.apply()
    new = builder.ledger().since(before)
    lock = builder.lock()
    fresh = lock.videos["alpha"].projectId
    assert fresh != old.projectId
    assert new.projects() == [fresh]
    assert new.messages(fresh) == list(edited)
    assert new.render_projects() == [fresh, fresh]
    assert new.messages(old.projectId) == []
    check_outputs(builder.root, lock)


def test_a_changed_render_config_makes_exactly_that_render(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    before = builder.ledger()
    teaser = builder.lock().videos["alpha"].renders["teaser"]
    builder.write(
        {**two_videos(), "alpha": video(*STEPS_A, renders={"clip": {"fps": 25}, "teaser": {}})}
    )
    # ``teaser: {}`` now inherits the mp4 default, ``clip`` changes fps: two renders...
    plan = builder.plan()
    assert actions(plan, "alpha") == [
        ("render", "clip"),
        ("render", "teaser"),
        ("remove_output", "teaser"),
    ]
    builder.write(
        {
            **two_videos(),
            "alpha": video(*STEPS_A, renders={"clip": {"fps": 25}, "teaser": dict(teaser.config)}),
        }
    )
    # ...while only changing clip's fps is one.
    plan = builder.plan()
    assert actions(plan, "alpha") == [("render", "clip")]
    assert "fps 24 -> 25" in plan["videos"][0]["actions"][0]["reason"]
    builder.apply()
    new = builder.ledger().since(before)
    assert new.kinds() == {"render": 1}
    lock = builder.lock()
    assert lock.videos["alpha"].renders["clip"].config.fps == 25
    assert lock.videos["alpha"].renders["teaser"] == teaser
    check_outputs(builder.root, lock)


def test_a_deleted_output_is_downloaded_again_without_rendering(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    lock = builder.lock()
    clip = lock.videos["alpha"].renders["clip"]
    (builder.root / clip.path).unlink()
    (builder.root / lock.videos["beta"].renders["clip"].path).write_bytes(b"damaged")
    before = builder.ledger()
    requests = builder.engine.stats()["requests"]["byRoute"]
    plan = builder.plan(f"--cache-dir={builder.root / 'fresh-cache'}")
    assert actions(plan, "alpha") == [("download", "clip")]
    assert actions(plan, "beta") == [("download", "clip")]
    builder.apply(f"--cache-dir={builder.root / 'fresh-cache'}")
    assert builder.ledger().since(before).entries == []
    after = builder.engine.stats()["requests"]["byRoute"]
    assert after.get("GET /files/{name}", 0) - requests.get("GET /files/{name}", 0) == 2
    for route in (
        "POST /api/v1/projects/{projectId}/render",
        "POST /api/v1/projects/{projectId}/messages",
    ):
        assert after.get(route, 0) == requests.get(route, 0)
    assert builder.lock() == lock
    check_outputs(builder.root, lock)


def test_a_lost_output_is_copied_from_the_run_cache(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    lock = builder.lock()
    (builder.root / lock.videos["alpha"].renders["teaser"].path).unlink()
    before = builder.engine.stats()["requests"]
    assert actions(builder.plan(), "alpha") == [("copy_cached", "teaser")]
    result = builder.apply()
    # Only the account check: the copy itself needs nothing from the service.
    after = builder.engine.stats()["requests"]
    assert after["total"] == before["total"] + 1
    assert after["byRoute"]["GET /api/v1/me"] == before["byRoute"]["GET /api/v1/me"] + 1
    assert result["requests"] == {"GET": 1}
    # A plan estimated at nothing that started no task or render reads no balance.
    assert result["spentCredits"] == 0
    assert result["balance"] == {"before": None, "after": None}
    check_outputs(builder.root, builder.lock())


def test_undoing_an_edit_gets_the_old_project_back_for_no_credits(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    original = builder.lock().videos["alpha"]
    builder.write({**two_videos(), "alpha": video("Open with a question.", STEPS_A[1])})
    builder.apply()
    assert builder.lock().videos["alpha"].projectId != original.projectId
    balance, before = builder.balance(), builder.ledger()
    builder.write(two_videos())
    plan = builder.plan()
    assert actions(plan, "alpha") == [
        ("replace_project", None),
        ("copy_cached", "clip"),
        ("copy_cached", "teaser"),
    ]
    assert plan["estimatedCredits"] == 0
    assert original.projectId in plan["videos"][0]["actions"][0]["reason"]
    builder.apply()
    assert builder.ledger().since(before).entries == []
    assert builder.balance() == balance
    lock = builder.lock()
    assert lock.videos["alpha"].projectId == original.projectId
    assert lock.videos["alpha"].steps == original.steps
    assert lock.videos["alpha"].renders == original.renders
    check_outputs(builder.root, lock)
    assert builder.plan()["changes"] is False


def test_a_nondeterministic_engine_still_converges(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(make_engine(nondeterministic=True), tmp_path / "site", monkeypatch)
    builder.write(two_videos())
    builder.apply()
    first = builder.lock()
    check_outputs(builder.root, first)
    assert builder.plan()["changes"] is False
    # The same steps on a new project give other HTML: the lock records what came back.
    builder.write({**two_videos(), "alpha": video("Open with a question.", STEPS_A[1])})
    builder.apply()
    builder.write(two_videos())
    builder.apply("--replace", "alpha")
    replayed = builder.lock().videos["alpha"]
    assert [s.key for s in replayed.steps] == [s.key for s in first.videos["alpha"].steps]
    assert replayed.composition_sha256 != first.videos["alpha"].composition_sha256
    check_outputs(builder.root, builder.lock())
    assert builder.plan()["changes"] is False
    builder.ledger().assert_nothing_sent_twice()


def test_a_lock_naming_a_file_outside_the_spec_folder_deletes_nothing(builder: Builder) -> None:
    # A pull request that changes only the lock: the render's path points at another file.
    builder.write(two_videos())
    builder.apply()
    victim = builder.root.parent / "victim.mp4"
    victim.write_bytes(b"precious")
    text = builder.lock_path.read_text(encoding="utf-8")
    builder.lock_path.write_text(text.replace("out/beta/clip.mp4", "../victim.mp4"), "utf-8")
    builder.write({"alpha": video(*STEPS_A)})  # beta left the spec: its outputs go
    result = builder.run("apply", "--yes")
    assert result.exit_code == 1
    assert "parafraim.lock does not match the lock format" in result.stderr
    assert "../victim.mp4" in result.stderr
    assert victim.read_bytes() == b"precious"


def test_a_lock_put_back_by_a_branch_switch_never_stacks_steps(builder: Builder) -> None:
    builder.write({"solo": video("Hello.", renders={"clip": {}})})
    builder.apply()
    old_lock = builder.lock_path.read_bytes()
    project = builder.lock().videos["solo"].projectId
    builder.write({"solo": video("Hello.", "Branch.", renders={"clip": {}})})
    builder.apply()  # the branch appends to the same project
    builder.lock_path.write_bytes(old_lock)  # git checkout of the main branch
    builder.write({"solo": video("Hello.", "Mainline.", renders={"clip": {}})})
    plan = builder.plan()
    assert actions(plan, "solo")[:3] == [
        ("replace_project", None),
        ("send_message", 1),
        ("send_message", 2),
    ]
    assert plan["videos"][0]["actions"][0]["reason"].startswith(
        f"project {project} holds steps the lock does not know: it was changed by another "
        "branch or run"
    )
    before = builder.ledger()
    builder.apply()
    new = builder.ledger().since(before)
    fresh = builder.lock().videos["solo"].projectId
    assert fresh != project
    assert new.messages(project) == []
    assert new.messages(fresh) == ["Hello.", "Mainline."]
    assert builder.ledger().messages(project) == ["Hello.", "Branch."]
    # Back on the branch: its project is taken back as it is, for nothing.
    builder.write({"solo": video("Hello.", "Branch.", renders={"clip": {}})})
    plan = builder.plan()
    assert actions(plan, "solo")[0] == ("replace_project", None)
    assert builder.apply()["ok"] is True
    assert builder.lock().videos["solo"].projectId == project
    assert builder.ledger().since(before).messages(project) == []
    check_outputs(builder.root, builder.lock())


def test_a_download_that_cannot_be_written_fails_without_paying_a_render(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    lock = builder.lock()
    clip = builder.root / lock.videos["beta"].renders["clip"].path
    clip.unlink()
    (clip / "in-the-way").mkdir(parents=True)  # a folder where the file should go
    fresh = f"--cache-dir={builder.root / 'fresh-cache'}"
    assert actions(builder.plan(fresh), "beta") == [("download", "clip")]
    before = builder.ledger()
    result = builder.apply(fresh, expect=1)
    (beta,) = [v for v in result["videos"] if v["video"] == "beta"]
    assert beta["status"] == "failed"
    assert f"cannot write {clip}" in beta["error"]
    assert "remove anything in the file's place" in beta["hint"]
    assert builder.ledger().since(before).entries == []  # no render was paid for
    (clip / "in-the-way").rmdir()
    clip.rmdir()
    builder.apply(fresh)
    assert builder.ledger().since(before).entries == []
    assert builder.lock() == lock
    check_outputs(builder.root, lock)


def test_observed_render_costs_keep_the_length_rendered(builder: Builder) -> None:
    # Estimates scale render costs with the video's length: an observed cost must say how
    # long the video it paid for was, whenever the composition tells.
    builder.write({"beta": video(*STEPS_B, renders={"clip": {}})})
    builder.apply()
    lock = builder.lock()
    composition = lock.videos["beta"].composition_sha256
    with RunCache(Path(os.environ["PARAFRAIM_CACHE_DIR"])) as cache:
        view = cache.view(lock.baseUrl, lock.accountId)
    assert view.durations[composition] > 0
    (seen,) = view.costs.renders
    assert seen.duration_seconds == view.durations[composition]
    assert seen.credits > 0


def test_after_the_cache_is_deleted_the_locks_projects_are_reusable_again(
    builder: Builder,
) -> None:
    builder.write({"beta": video("Hello.", "Version one.", renders={"clip": {}})})
    builder.apply()
    project = builder.lock().videos["beta"].projectId
    shutil.rmtree(os.environ["PARAFRAIM_CACHE_DIR"])
    assert builder.apply()["changes"] is False  # a no-op apply gives the cache the lock back
    builder.write({"beta": video("Hello.", "Version two.", renders={"clip": {}})})
    builder.apply()
    assert builder.lock().videos["beta"].projectId != project
    builder.write({"beta": video("Hello.", "Version one.", renders={"clip": {}})})  # undo
    plan = builder.plan()
    assert actions(plan, "beta")[0] == ("replace_project", None)
    assert (
        f"reusing project {project} from the run cache"
        in (plan["videos"][0]["actions"][0]["reason"])
    )
    before = builder.ledger()
    builder.apply()
    assert builder.ledger().since(before).kinds()["message"] == 0
    assert builder.lock().videos["beta"].projectId == project


def test_a_downloaded_file_that_differs_from_the_lock_is_recorded_and_said(
    builder: Builder,
) -> None:
    builder.write({"beta": video(*STEPS_B, renders={"clip": {}})})
    builder.apply()
    record = builder.lock().videos["beta"].renders["clip"]
    text = builder.lock_path.read_text(encoding="utf-8")
    builder.lock_path.write_text(text.replace(record.sha256, "f" * 64), encoding="utf-8")
    fresh = f"--cache-dir={builder.root / 'fresh-cache'}"
    assert actions(builder.plan(fresh), "beta") == [("download", "clip")]
    before = builder.ledger()
    result = builder.apply(fresh)
    (outcome,) = result["videos"][0]["actions"]
    assert (
        f"the file of render job {record.jobId} differs from the lock's record"
        in (outcome["outcome"])
    )
    assert builder.ledger().since(before).entries == []
    assert builder.lock().videos["beta"].renders["clip"].sha256 == record.sha256
    check_outputs(builder.root, builder.lock())


def test_a_changed_out_dir_moves_the_verified_files_without_downloading(
    builder: Builder,
) -> None:
    builder.write(two_videos())
    builder.apply()
    old = builder.lock()
    write_spec(builder.root, two_videos(), out_dir="build")
    fresh = f"--cache-dir={builder.root / 'fresh-cache'}"
    plan = builder.plan(fresh)
    assert actions(plan, "beta") == [("copy_cached", "clip"), ("remove_output", "clip")]
    downloads = builder.engine.stats()["requests"]["byRoute"].get("GET /files/{name}", 0)
    before = builder.ledger()
    result = builder.apply(fresh)
    assert result["ok"] is True
    assert builder.ledger().since(before).entries == []
    assert builder.engine.stats()["requests"]["byRoute"].get("GET /files/{name}", 0) == downloads
    lock = builder.lock()
    assert check_outputs(builder.root, lock) == 3
    for key, entry in lock.videos.items():
        for name, record in entry.renders.items():
            assert record.path.startswith("build/")
            assert record.sha256 == old.videos[key].renders[name].sha256
    assert list((builder.root / "out").iterdir()) == []  # the files moved, folders went


class LostRenderAnswer(httpx.AsyncBaseTransport):
    """Forwards every request; the answer to a render request is lost on the way back."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/render"):
            await response.aread()
            raise httpx.RemoteProtocolError("connection closed mid-answer", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def test_a_lost_render_answer_says_the_next_apply_finds_the_job(builder: Builder) -> None:
    builder.write({"beta": video(*STEPS_B, renders={"clip": {}})})
    result = apply_through(builder, LostRenderAnswer())
    (beta,) = result.videos
    assert beta.status == "failed"
    assert "the next apply finds the render job if it was started" in (beta.error or "")
    assert "run apply again: it looks the job up" in (beta.hint or "")
    assert "parafraim-build credits" not in (beta.hint or "")
    before = builder.ledger()
    builder.apply()  # the job is found from the project's last task: nothing rendered again
    assert builder.ledger().since(before).entries == []
    check_outputs(builder.root, builder.lock())


def test_a_moved_output_that_cannot_be_written_fails_naming_it_and_leaves_nothing(
    builder: Builder,
) -> None:
    builder.write({"beta": video(*STEPS_B, renders={"clip": {}})})
    builder.apply()
    old = builder.lock().videos["beta"].renders["clip"]
    write_spec(builder.root, {"beta": video(*STEPS_B, renders={"clip": {}})}, out_dir="build")
    blocked = builder.root / "build" / "beta" / "clip.mp4"
    (blocked / "inside").mkdir(parents=True)  # a folder where the moved file goes
    before = builder.ledger()
    result = builder.apply(expect=1)
    (beta,) = result["videos"]
    assert beta["status"] == "failed"
    assert f"cannot write {blocked}" in beta["error"]
    assert "remove anything in the file's place" in beta["hint"]
    assert sorted(p.name for p in blocked.parent.iterdir()) == ["clip.mp4"]  # no temporary
    assert builder.lock().videos["beta"].renders["clip"] == old
    assert (builder.root / old.path).is_file()
    shutil.rmtree(blocked)
    assert builder.apply()["ok"] is True
    assert builder.ledger().since(before).entries == []  # moved, never rendered or fetched
    check_outputs(builder.root, builder.lock())


def test_an_output_already_at_its_new_place_is_recorded_there_not_fetched(
    builder: Builder,
) -> None:
    # A run copied clip to the new outDir and removed the old file, then stopped before the
    # lock recorded the new path (or the user moved it by hand): nothing is fetched again.
    builder.write({"beta": video(*STEPS_B, renders={"clip": {}})})
    builder.apply()
    record = builder.lock().videos["beta"].renders["clip"]
    write_spec(builder.root, {"beta": video(*STEPS_B, renders={"clip": {}})}, out_dir="build")
    moved = builder.root / "build" / "beta" / "clip.mp4"
    moved.parent.mkdir(parents=True)
    os.replace(builder.root / record.path, moved)
    fresh = f"--cache-dir={builder.root / 'fresh-cache'}"  # no copy in the run cache either
    plan = builder.plan(fresh)
    assert actions(plan, "beta") == [("copy_cached", "clip"), ("remove_output", "clip")]
    assert "already at build/beta/clip.mp4" in plan["videos"][0]["actions"][0]["reason"]
    assert plan["estimatedCredits"] == 0
    downloads = builder.engine.stats()["requests"]["byRoute"].get("GET /files/{name}", 0)
    before = builder.ledger()
    assert builder.apply(fresh)["ok"] is True
    assert builder.ledger().since(before).entries == []
    assert builder.engine.stats()["requests"]["byRoute"].get("GET /files/{name}", 0) == downloads
    after = builder.lock().videos["beta"].renders["clip"]
    assert (after.path, after.sha256, after.jobId) == (
        "build/beta/clip.mp4",
        record.sha256,
        record.jobId,
    )
    check_outputs(builder.root, builder.lock())


def test_a_moved_output_leaves_nothing_at_its_old_place_when_its_video_stops_early(
    builder: Builder,
) -> None:
    # The removals of moved outputs come last in the plan; a video that stops before them
    # (here the second copy cannot be written) must not leave the first one's old file,
    # which nothing references once the copy is recorded.
    builder.write({"alpha": video(*STEPS_A)})
    builder.apply()
    write_spec(builder.root, {"alpha": video(*STEPS_A)}, out_dir="build")
    blocked = builder.root / "build" / "alpha" / "teaser.gif"
    (blocked / "inside").mkdir(parents=True)
    assert builder.apply(expect=1)["videos"][0]["status"] == "failed"
    lock = builder.lock()
    assert lock.videos["alpha"].renders["clip"].path == "build/alpha/clip.mp4"
    assert not (builder.root / "out" / "alpha" / "clip.mp4").exists()
    assert (builder.root / "out" / "alpha" / "teaser.gif").is_file()  # not moved yet
    shutil.rmtree(blocked)
    assert builder.apply()["ok"] is True
    assert check_outputs(builder.root, builder.lock()) == 2
    assert not (builder.root / "out").exists() or list((builder.root / "out").rglob("*")) == []


# ----------------------------------------------------------------------------- credits spent


def engine_charges(builder: Builder, before: Ledger) -> float:
    """What the engine charged, net of refunds, for every message and render accepted since
    ``before``: read from its own records, not from ``GET /credits``."""
    state = builder.engine.engine.state
    transactions: list[Transaction] = []
    for entry in builder.ledger().since(before).entries:
        if entry["kind"] == "message":
            record: Any = state.tasks[entry["taskId"]]
        elif entry["kind"] == "render":
            record = state.jobs[entry["jobId"]]
        else:
            continue  # projects cost nothing
        transactions += [record.charge] + ([record.refund] if record.refund else [])
    return round(sum(tx.net for tx in transactions), 6)


def test_apply_reports_what_its_run_spent_and_the_balance_around_it(builder: Builder) -> None:
    builder.write(two_videos())
    builder.apply()
    # The second run edits one video; the first run's charges are in the account's recent
    # transactions too, and are not this run's.
    builder.write({**two_videos(), "alpha": video(*STEPS_A, "End on the logo.")})
    balance, before = builder.balance(), builder.ledger()
    result = builder.apply()
    spent = engine_charges(builder, before)
    assert spent > 0
    assert result["spentCredits"] == pytest.approx(spent)
    assert result["balance"] == {"before": balance, "after": builder.balance()}
    assert balance - builder.balance() == pytest.approx(spent)
    text = builder.run("apply", "--yes", "alpha", "--replace", "alpha")
    assert text.exit_code == 0, text.output
    assert "emulated" not in text.stdout
    summary = text.stdout.splitlines()[-1]
    assert summary.startswith("Apply: 1 of 1 videos done. Estimated credits: ")
    assert f"credits (balance {format_credits(result['balance']['after'])} → " in summary
    assert "other use of the account" not in summary


def test_a_refunded_render_is_not_counted_as_spent(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(faults={"render_failure_rate": 1})
    builder = Builder(engine, tmp_path / "site", monkeypatch)
    builder.write({"beta": video(*STEPS_B, renders={"clip": {}})})
    balance, before = builder.balance(), builder.ledger()
    result = builder.apply(expect=1)
    assert result["videos"][0]["status"] == "failed"
    (job,) = builder.engine.engine.state.jobs.values()
    assert job.refund is not None  # charged, then given back
    (task,) = builder.engine.engine.state.tasks.values()
    assert result["spentCredits"] == pytest.approx(task.charge.amount)
    assert result["spentCredits"] == pytest.approx(engine_charges(builder, before))
    assert result["balance"] == {"before": balance, "after": builder.balance()}


class CreditsUnreadableAfter(RewritingTransport):
    """The engine, except that every ``GET /credits`` after the first ``readable`` answers
    without a balance (a body the client cannot use)."""

    def __init__(self, readable: int) -> None:
        super().__init__(self._answer)
        self.readable = readable
        self.reads = 0

    def _answer(self, request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method != "GET" or not request.url.path.endswith("/credits"):
            return body
        self.reads += 1
        if self.reads <= self.readable:
            return body
        return {**body, "data": {"plan": body["data"].get("plan")}}


def test_a_failed_read_after_the_run_leaves_the_figures_unknown_and_the_apply_done(
    builder: Builder,
) -> None:
    builder.write(two_videos())
    balance = builder.balance()
    transport = CreditsUnreadableAfter(readable=1)  # the credit check's read, before the run
    result = apply_through(builder, transport)
    assert transport.reads == 2
    assert result.ok
    assert [video.status for video in result.videos] == ["ok", "ok"]
    assert result.spent_credits is None
    assert (result.balance_before, result.balance_after) == (balance, None)
    document = result.to_json()
    assert document["spentCredits"] is None
    assert document["balance"] == {"before": balance, "after": None}
    check_outputs(builder.root, builder.lock())
    assert builder.plan()["changes"] is False
