"""State that survives a restart: everything a client could have seen, and unfinished work."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_client import (
    PRODUCT_LAUNCH,
    RENDER_PIPE_LEAK,
    WEEKLY_RECAP,
    EngineClient,
    EngineFactory,
    fast_config,
)

from parafraim_build.emulator.engine import Engine
from parafraim_build.emulator.state import (
    Account,
    EngineState,
    Project,
    RenderJob,
    Task,
    Transaction,
)

pytest_plugins = ("engine_fixtures",)
pytestmark = RENDER_PIPE_LEAK

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

    second = make_engine(state_dir=state_dir, task_seconds=0.2)
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


def test_the_state_derives_balance_usage_and_running_tasks() -> None:
    state = EngineState(Account("a", "e", "local", "2026-01-01T00:00:00.000Z"), 100)
    state.add_project(
        Project("p1", 1, "n", None, "16:9", "template-use", "tpl", "", "x", "x", "r", {}, False)
    )
    assert state.template_uses["tpl"] == 1

    def txn(seq: int, kind: str, amount: float, day: str) -> Transaction:
        return Transaction(f"t{seq}", seq, kind, amount, "d", f"{day}T10:00:00.000Z", "p1")

    job = RenderJob(
        id="j1",
        seq=5,
        project_id="p1",
        request_body={},
        config={},
        html="",
        duration=1,
        trace_id="r",
        status="failed",
        progress=40,
        charge=txn(6, "charge", 10, "2026-02-03"),
        created_at="x",
        updated_at="x",
        refund=txn(9, "refund", 10, "2026-02-04"),
    )
    state.add_job(job)
    state.add_transaction(txn(3, "charge", 2.5, "2026-02-04"))
    assert state.balance == 97.5
    assert state.used_since("2026-02") == 2.5
    assert state.used_since("2026-02-03") == 10
    assert state.used_since("2026-02-04") == -7.5
    assert [t.seq for t in state.recent_transactions()] == [9, 6, 3]
    assert state.next_seq() == 10


def test_a_damaged_state_file_stops_the_engine_with_a_clear_error(tmp_path: Path) -> None:
    from parafraim_build.errors import ConfigError

    state_dir = tmp_path / "state"
    Engine(fast_config(state_dir=state_dir)).close_unstarted()
    (state_dir / "projects" / "broken.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"broken\.json cannot be read"):
        Engine(fast_config(state_dir=state_dir))
    (state_dir / "projects" / "broken.json").unlink()
    (state_dir / "engine.json").write_text(json.dumps({"version": 99, "account": {}}))
    with pytest.raises(ConfigError, match="newer engine"):
        Engine(fast_config(state_dir=state_dir))


def test_a_state_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    from parafraim_build.errors import ConfigError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="state directory"):
        Engine(fast_config(state_dir=blocker))
