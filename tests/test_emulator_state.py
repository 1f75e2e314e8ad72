"""State that survives a restart: everything a client could have seen, and unfinished work."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_client import (
    PRODUCT_LAUNCH,
    WEEKLY_RECAP,
    EngineClient,
    EngineFactory,
    fast_config,
    file_digests,
)

from parafraim_build.emulator import start_engine
from parafraim_build.emulator.engine import Engine
from parafraim_build.emulator.state import (
    Account,
    EngineState,
    Project,
    RenderJob,
    Task,
    Transaction,
)
from parafraim_build.errors import ConfigError

pytest_plugins = ("engine_fixtures",)

SECRET_KEY = "pfk_state_test_secret_1234"


def _snapshot(client: EngineClient, task_id: str, job_id: str) -> dict[str, Any]:
    job = client.data(client.get(f"/render-jobs/{job_id}"))
    task = client.data(client.get(f"/tasks/{task_id}"))
    for item in (job, task.get("renderJob") or {}):
        item.pop("videoUrl", None)  # freshly signed on every read
    return {
        "me": client.data(client.get("/me")),
        "credits": client.data(client.get("/credits")),
        "projects": client.get("/projects").json(),
        "templates": client.get("/templates", params={"pageSize": 50}).json(),
        "task": task,
        "job": job,
        "ledger": client.engine.ledger(),
    }


def test_everything_survives_a_restart(make_engine: EngineFactory, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = make_engine(state_dir=state_dir, api_key=SECRET_KEY)
    with EngineClient(first) as client:
        project = client.data(client.post(f"/templates/{WEEKLY_RECAP}/use", {"name": "Recap"}))
        client.new_project(name="blank", aspectRatio="9:16")
        task_id = client.send(project["id"], "Make the opening more direct.")
        client.wait_task(task_id)
        job_id = client.render(project["id"])
        client.wait_job(job_id)
        before = _snapshot(client, task_id, job_id)
        requests_before = first.stats()["requests"]["total"]
    first.stop()

    second = make_engine(state_dir=state_dir, api_key=SECRET_KEY)
    with EngineClient(second) as client:
        after = _snapshot(client, task_id, job_id)
        assert after == before
        video_url = client.data(client.get(f"/render-jobs/{job_id}"))["videoUrl"]
        assert httpx.get(video_url).status_code == 200
        stream = client.stream(project["id"], task_id, after=0)
        assert [frame.id for frame in stream] == list(range(1, before["task"]["lastEventId"] + 1))
        assert second.stats()["requests"]["total"] >= requests_before
        # The restarted engine keeps counting and keeps the account.
        assert client.new_project(name="after restart")["id"]
        assert client.data(client.get("/me"))["id"] == before["me"]["id"]

    files = "".join(path.read_text(errors="replace") for path in state_dir.rglob("*.json"))
    assert SECRET_KEY not in files
    assert "pfk_" not in files


def test_a_task_running_at_stop_is_finished_after_a_restart(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    first = make_engine(state_dir=state_dir, task_seconds=30)
    with EngineClient(first) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        task_id = client.send(project["id"], "Shorten every scene.")
        time.sleep(0.1)
        assert client.data(client.get(f"/tasks/{task_id}"))["status"] == "running"
    started = time.monotonic()
    first.stop()
    assert time.monotonic() - started < 5

    # Resumed, a task publishes its planned events at once and ends one pause later: with
    # 10 s over about ten events, that pause leaves time to see it running.
    second = make_engine(state_dir=state_dir, task_seconds=10)
    with EngineClient(second) as client:
        assert client.data(client.get(f"/tasks/{task_id}"))["status"] == "running"
        busy = client.post(f"/projects/{project['id']}/messages", {"message": "Another."})
        assert client.error(busy)["code"] == "TASK_RUNNING"
        frames = [frame for frame in client.stream(project["id"], task_id) if frame.id]
        assert [frame.id for frame in frames] == list(range(1, len(frames) + 1))
        assert frames[-1].event == "result"
        task = client.wait_task(task_id)
        assert task["status"] == "completed"
        assert task["project"]["compositionHtml"] != project["compositionHtml"]
        credits = client.data(client.get("/credits"))
        assert credits["used"] == 1.1
        assert [entry["kind"] for entry in second.ledger()] == ["project", "message"]


def test_a_render_running_at_stop_is_finished_after_a_restart(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    first = make_engine(state_dir=state_dir, render_seconds=30)
    with EngineClient(first) as client:
        project = client.new_project(templateId=WEEKLY_RECAP)
        job_id = client.render(project["id"])
        time.sleep(0.2)
        assert client.data(client.get(f"/render-jobs/{job_id}"))["status"] != "complete"
    first.stop()

    second = make_engine(state_dir=state_dir)
    with EngineClient(second) as client:
        job = client.wait_job(job_id)
        assert job["status"] == "complete"
        assert httpx.get(job["videoUrl"]).status_code == 200
        recent = client.data(client.get("/credits"))["recent"]
        assert [item["type"] for item in recent] == ["charge"]
    assert not [path for path in (state_dir / "files").iterdir() if path.name.startswith(".")]


def test_credits_follow_the_configured_allowance(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    with EngineClient(make_engine(state_dir=state_dir, credits=100)) as client:
        project = client.new_project()
        client.wait_task(client.send(project["id"], "Hi."))
        assert client.data(client.get("/credits"))["balance"] == 98.9
        client.engine.stop()
    with EngineClient(make_engine(state_dir=state_dir, credits=50)) as client:
        credits = client.data(client.get("/credits"))
        assert credits["monthlyAllowance"] == 50
        assert credits["balance"] == 48.9


def test_without_a_state_dir_nothing_is_kept(make_engine: EngineFactory) -> None:
    running = make_engine()
    with EngineClient(running) as client:
        project = client.new_project(templateId=WEEKLY_RECAP)
        client.wait_job(client.render(project["id"]))
    files_dir = running.engine.core.store.files_dir
    assert any(files_dir.iterdir())
    running.stop()
    assert not files_dir.exists()
    with EngineClient(make_engine()) as client:
        assert client.data(client.get("/projects")) == []


def test_each_mutation_writes_one_record(make_engine: EngineFactory, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    running = make_engine(state_dir=state_dir)
    with EngineClient(running) as client:
        project = client.new_project(name="one")
        # Durable before the answer: the file is there as soon as the client hears back.
        saved = json.loads((state_dir / "projects" / f"{project['id']}.json").read_text())
        assert saved["name"] == "one"
        task_id = client.send(project["id"], "Hello.")
        planned = json.loads((state_dir / "tasks" / f"{task_id}.json").read_text())
        assert planned["status"] == "running"
        assert planned["events"]
        client.wait_task(task_id)
    running.stop()  # a clean stop finishes every pending write
    assert (state_dir / "engine.json").exists()
    leftovers = [p for p in state_dir.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_records_round_trip_through_json() -> None:
    charge = Transaction("t1", 2, "charge", 1.5, "d", "2026-01-01T00:00:00.000Z", "p1", "k1")
    task = Task(
        id="k1",
        seq=1,
        project_id="p1",
        request_body={"message": "m"},
        workspace_id="w",
        trace_id="r",
        status="running",
        events=[{"event": "text", "data": {"delta": "a"}}],
        final_html="<html>",
        assistant_text="a",
        assistant_message_id="m1",
        will_fail=False,
        charge=charge,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
    )
    copy = Task.from_json(json.loads(json.dumps(task.to_json())) | {"futureField": 1})
    assert copy == task
    assert isinstance(copy.charge, Transaction)


def _txn(seq: int, kind: str, amount: float, at: str, job: str | None = None) -> Transaction:
    return Transaction(f"t{seq}", seq, kind, amount, "d", at, "p1", job_id=job)


def _job(seq: int, charge: Transaction, refund: Transaction | None) -> RenderJob:
    return RenderJob(
        id=charge.job_id or "j",
        seq=seq,
        project_id="p1",
        request_body={},
        config={},
        html="",
        duration=1,
        trace_id="r",
        status="failed" if refund else "complete",
        progress=40,
        charge=charge,
        created_at=charge.created_at,
        updated_at=charge.created_at,
        refund=refund,
    )


def test_the_state_derives_balance_usage_and_running_tasks() -> None:
    state = EngineState(Account("a", "e", "local", "2026-01-01T00:00:00.000Z"), 100)
    state.add_project(
        Project("p1", 1, "n", None, "16:9", "template-use", "tpl", "", "x", "x", "r", {}, False)
    )
    assert state.template_uses["tpl"] == 1
    charge = _txn(6, "charge", 10, "2026-02-03T10:00:00.000Z", job="j1")
    state.add_job(_job(5, charge, _txn(9, "refund", 10, "2026-02-04T10:00:00.000Z", job="j1")))
    state.add_transaction(_txn(3, "charge", 2.5, "2026-02-04T10:00:00.000Z"))
    assert state.balance("2026-02") == 97.5
    assert state.used_since("2026-02") == 2.5
    # The refund counts on its charge's day: the 3rd nets to nothing, the 4th is not negative.
    assert state.used_since("2026-02-03") == 0
    assert state.used_since("2026-02-04") == 2.5
    assert [t.seq for t in state.recent_transactions()] == [9, 6, 3]
    assert state.next_seq() == 10


def test_a_refund_after_midnight_counts_on_its_charges_day_and_month() -> None:
    state = EngineState(Account("a", "e", "local", "2026-01-01T00:00:00.000Z"), 100)
    charge = _txn(1, "charge", 7.5, "2026-01-31T23:59:59.900Z", job="j1")
    job = _job(2, charge, None)
    state.add_job(job)
    assert state.used_since("2026-01-31") == 7.5
    assert state.balance("2026-01") == 92.5
    job.refund = state.refund(charge, "refund: failed render j1", "2026-02-01T00:00:00.100Z")
    assert (job.refund.type, job.refund.amount, job.refund.job_id) == ("refund", 7.5, "j1")
    assert job.refund.created_at == "2026-02-01T00:00:00.100Z"
    for prefix in ("2026-01-31", "2026-01", "2026-02-01", "2026-02"):
        assert state.used_since(prefix) == 0, prefix
    assert state.balance("2026-01") == state.balance("2026-02") == 100
    # Loaded back in any order, the records give the same numbers.
    reloaded = EngineState(state.account, 100)
    reloaded.add_job(RenderJob.from_json(json.loads(json.dumps(job.to_json()))))
    assert reloaded.used_since("2026-02-01") == reloaded.used_since("2026-01-31") == 0


def test_the_balance_is_this_months_allowance_minus_this_months_usage() -> None:
    state = EngineState(Account("a", "e", "local", "2026-01-01T00:00:00.000Z"), 100)
    state.add_transaction(_txn(1, "charge", 30, "2026-01-15T10:00:00.000Z"))
    state.add_transaction(_txn(2, "charge", 5, "2026-02-02T10:00:00.000Z"))
    for month, used in (("2026-01", 30), ("2026-02", 5), ("2026-03", 0)):
        assert state.used_since(month) == used
        assert state.balance(month) + state.used_since(month) == state.monthly_allowance


class SettableClock:
    """Wall-clock seconds that a test moves by hand."""

    def __init__(self, iso_time: str) -> None:
        self.set(iso_time)

    def set(self, iso_time: str) -> None:
        self.now = dt.datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp()

    def __call__(self) -> float:
        return self.now


def test_a_render_refunded_in_the_next_month_leaves_both_months_even(
    make_engine: EngineFactory,
) -> None:
    clock = SettableClock("2026-01-31T23:59:59.000Z")
    config = fast_config(render_seconds=0.5, faults={"render_failure_rate": 1.0})
    running = make_engine(engine=Engine(config, clock=clock))
    with EngineClient(running) as client:
        project = client.new_project(templateId=WEEKLY_RECAP)
        job_id = client.render(project["id"])
        charged = client.data(client.get("/credits"))
        assert charged["usedToday"] == charged["used"] > 0
        clock.set("2026-02-01T00:00:01.000Z")
        assert client.wait_job(job_id)["status"] == "failed"
        credits = client.data(client.get("/credits"))
        assert (credits["used"], credits["usedToday"], credits["balance"]) == (0, 0, 10_000)
        refund = credits["recent"][0]
        assert refund["type"] == "refund"
        assert refund["createdAt"].startswith("2026-02-01")
        assert client.data(client.get("/me"))["renderCredits"] == 10_000


def test_records_are_saved_without_copying_request_bodies() -> None:
    deep: dict[str, Any] = {}
    for _ in range(500):
        deep = {"a": deep}  # deeper than a recursive copy can go
    charge = Transaction("t1", 2, "charge", 1.5, "d", "2026-01-01T00:00:00.000Z", "p1", "k1")
    task = Task(
        id="k1",
        seq=1,
        project_id="p1",
        request_body={"message": "m", "selectedElement": deep},
        workspace_id="w",
        trace_id="r",
        status="running",
        events=[],
        final_html="",
        assistant_text="",
        assistant_message_id="m1",
        will_fail=False,
        charge=charge,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
    )
    saved = task.to_json()
    assert saved["request_body"] is task.request_body
    assert saved["charge"] == {
        "id": "t1",
        "seq": 2,
        "type": "charge",
        "amount": 1.5,
        "description": "d",
        "created_at": "2026-01-01T00:00:00.000Z",
        "project_id": "p1",
        "task_id": "k1",
        "job_id": None,
    }
    assert json.loads(json.dumps(saved))["request_body"] == task.request_body


def test_a_damaged_state_file_stops_the_engine_with_a_clear_error(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    Engine(fast_config(state_dir=state_dir)).close_unstarted()
    (state_dir / "projects" / "broken.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"broken\.json cannot be read"):
        Engine(fast_config(state_dir=state_dir))
    (state_dir / "projects" / "broken.json").unlink()
    account = json.loads((state_dir / "engine.json").read_text())
    (state_dir / "engine.json").write_text(json.dumps({"version": 99, "account": {}}))
    with pytest.raises(ConfigError, match="newer engine"):
        Engine(fast_config(state_dir=state_dir))
    (state_dir / "engine.json").write_text(json.dumps(account))
    Engine(fast_config(state_dir=state_dir)).close_unstarted()  # repaired: it starts again


@pytest.mark.parametrize(
    ("relative", "document", "reason"),
    [
        ("projects/x.json", {}, "id: field required"),
        ("projects/x.json", {"seq": 1}, "id: field required"),
        ("tasks/x.json", {"seq": "first"}, "id: field required"),
        ("jobs/x.json", [], "is not a JSON object"),
        ("engine.json", {"version": 1, "account": {"id": "x"}}, "the account is not valid"),
        ("engine.json", {"version": 1, "account": "x"}, "the account is not valid"),
        ("engine.json", {"version": 1}, "the account is not valid"),
    ],
)
def test_a_state_file_of_the_wrong_shape_is_named_not_a_traceback(
    tmp_path: Path, relative: str, document: Any, reason: str
) -> None:
    state_dir = tmp_path / "state"
    Engine(fast_config(state_dir=state_dir)).close_unstarted()
    (state_dir / relative).write_text(json.dumps(document))
    with pytest.raises(ConfigError) as caught:
        Engine(fast_config(state_dir=state_dir))
    assert str(state_dir / relative) in caught.value.message
    assert reason in caught.value.message
    assert caught.value.hint is not None
    Engine(fast_config(state_dir=tmp_path / "fresh")).close_unstarted()  # nothing held


def test_a_record_of_a_missing_project_is_named(make_engine: EngineFactory, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    running = make_engine(state_dir=state_dir)
    with EngineClient(running) as client:
        project = client.new_project()
        task_id = client.send(project["id"], "Hi.")
        client.wait_task(task_id)
    running.stop()
    (state_dir / "projects" / f"{project['id']}.json").unlink()
    with pytest.raises(ConfigError, match=f"{task_id}\\.json cannot be used: its project"):
        Engine(fast_config(state_dir=state_dir))


def test_two_engines_cannot_share_a_state_dir(make_engine: EngineFactory, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = make_engine(state_dir=state_dir)
    with pytest.raises(ConfigError, match="another engine uses the state directory") as caught:
        start_engine(fast_config(state_dir=state_dir))
    assert str(state_dir) in caught.value.message
    with EngineClient(first) as client:
        client.new_project(name="still fine")  # the refused engine touched nothing
    first.stop()
    with EngineClient(make_engine(state_dir=state_dir)) as client:
        assert [item["name"] for item in client.data(client.get("/projects"))] == ["still fine"]


def test_last_event_id_never_goes_backwards_across_a_restart(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    first = make_engine(state_dir=state_dir, task_seconds=6)
    with EngineClient(first) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        task_id = client.send(project["id"], "Open strong. Then the team. Then the price.")
        deadline = time.monotonic() + 10
        while (seen := client.data(client.get(f"/tasks/{task_id}"))["lastEventId"]) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    first.stop()

    second = make_engine(state_dir=state_dir, task_seconds=6)
    with EngineClient(second) as client:
        resumed = client.data(client.get(f"/tasks/{task_id}"))
        assert resumed["status"] == "running"
        assert resumed["lastEventId"] >= seen
        after = [frame for frame in client.stream(project["id"], task_id, after=seen) if frame.id]
        assert [frame.id for frame in after] == list(range(seen + 1, seen + 1 + len(after)))
        assert after[-1].event == "result"
        assert client.wait_task(task_id)["lastEventId"] == after[-1].id


def test_a_state_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="state directory"):
        Engine(fast_config(state_dir=blocker))


def test_a_read_only_engine_changes_nothing_and_leaves_interrupted_work_to_the_owner(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    first = make_engine(state_dir=state_dir, render_seconds=30, task_seconds=30)
    with EngineClient(first) as client:
        project = client.new_project(templateId=WEEKLY_RECAP)
        job_id = client.render(project["id"])
        other = client.new_project(templateId=PRODUCT_LAUNCH)
        task_id = client.send(other["id"], "Shorten every scene.")
        time.sleep(0.2)
    first.stop()  # a render and a task left unfinished, as by a killed apply
    (state_dir / "files" / f".{job_id}.mp4.abc.part").write_bytes(b"half a video")
    before = file_digests(state_dir)

    reader = make_engine(state_dir=state_dir, read_only=True)
    with EngineClient(reader) as client:
        time.sleep(0.3)  # a resumed task or render would have moved by now
        assert client.data(client.get(f"/render-jobs/{job_id}"))["status"] != "complete"
        assert client.data(client.get(f"/tasks/{task_id}"))["status"] == "running"
        assert len(client.data(client.get("/projects"))) == 2
        client.data(client.get("/credits"))
    reader.stop()
    assert file_digests(state_dir) == before

    # The owner's next start finds the work as it was left, and finishes it.
    owner = make_engine(state_dir=state_dir)
    with EngineClient(owner) as client:
        assert client.wait_job(job_id)["status"] == "complete"
        assert client.wait_task(task_id)["status"] == "completed"


def test_a_read_only_engine_reads_a_state_another_engine_holds(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    owner = make_engine(state_dir=state_dir)
    with EngineClient(owner) as client:
        client.new_project(name="made by the owner")
    reader = make_engine(state_dir=state_dir, read_only=True)
    with EngineClient(reader) as client:
        names = [item["name"] for item in client.data(client.get("/projects"))]
        assert names == ["made by the owner"]
        client.new_project(name="kept in memory only")
    reader.stop()
    with EngineClient(owner) as client:  # the owner was not disturbed
        client.new_project(name="still the owner's")
    owner.stop()
    with EngineClient(make_engine(state_dir=state_dir)) as client:
        names = sorted(item["name"] for item in client.data(client.get("/projects")))
        assert names == ["made by the owner", "still the owner's"]
