"""``apply`` against an engine that misbehaves: injected faults, and a task that fails.

With faults on, an apply may fail a video (an HTML 502 answering a POST leaves its outcome
unknown); reruns must converge, and the ledger must show that no message ever reached the same
project twice. A message whose answer was lost is found again by its charge: never paid twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apply_support import Builder, actions, check_outputs, video
from engine_client import EngineFactory

pytest_plugins = ("engine_fixtures",)

SPEC = {
    "alpha": video("Open with our new product.", "Make the headline bigger."),
    "beta": video("Show the price on its own scene.", renders={"clip": {}}),
    "gamma": video("Open on the team photo.", "Add a closing card.", renders={"clip": {}}),
}


def apply_until_done(builder: Builder, *, attempts: int) -> list[int]:
    """Rerun ``apply`` until it exits 0 (each failed run must be a clean exit 1, never a
    crash); the exit codes of every run. Fails when it has not converged by then."""
    runs = []
    for _ in range(attempts):
        result = builder.run("apply", "--yes", "--json")
        runs.append(result.exit_code)
        if result.exit_code == 0:
            break
        assert result.exit_code == 1, result.output
    assert runs[-1] == 0, runs
    return runs


def test_faults_converge_without_sending_anything_twice(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(
        seed=7,
        faults={
            "error_rate": 0.08,
            "cut_streams_after": 2,
            "concurrency_burst_rate": 0.3,
            "latency_ms": 5,
            "jitter_ms": 5,
        },
    )
    builder = Builder(engine, tmp_path / "site", monkeypatch)
    builder.write(SPEC)
    runs = apply_until_done(builder, attempts=6)
    print("apply exit codes until it converged:", runs, engine.stats()["faults"])
    injected = engine.stats()["faults"]
    assert injected.get("error", 0) > 0
    assert injected.get("concurrency", 0) > 0
    lock = builder.lock()
    assert check_outputs(builder.root, lock) == 4
    assert builder.plan()["changes"] is False
    ledger = builder.ledger()
    ledger.assert_nothing_sent_twice()
    for key, entry in lock.videos.items():
        assert ledger.messages(entry.projectId) == [
            s["message"] if isinstance(s, dict) else s for s in SPEC[key]["steps"]
        ]


def test_a_failing_task_stops_its_video_while_the_others_finish(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "engine"
    engine = make_engine(state_dir=state)
    builder = Builder(engine, tmp_path / "site", monkeypatch)
    builder.write(SPEC)
    builder.apply()
    # Restarted on the same state and port, the engine now fails every task: beta gets a new
    # step (which fails), alpha and gamma only a new render each (which must still be made).
    port = int(engine.base_url.rsplit(":", 1)[1])
    engine.stop()
    builder.engine = make_engine(state_dir=state, port=port, faults={"task_error_rate": 1.0})
    changed = {
        "alpha": video(*SPEC["alpha"]["steps"], renders={"clip": {}, "wide": {"width": 640}}),
        "beta": video(*SPEC["beta"]["steps"], "Add a closing card.", renders={"clip": {}}),
        "gamma": video(*SPEC["gamma"]["steps"], renders={"clip": {}, "wide": {"width": 640}}),
    }
    builder.write(changed)
    before = builder.ledger()
    result = builder.run("apply", "--yes")
    assert result.exit_code == 1, result.output
    assert "FAILED  beta" in result.stdout
    assert "step 2/2: the service ended the task error" in result.stdout
    assert "injected by --task-error-rate" in result.stdout
    assert "ok  alpha" in result.stdout
    assert "ok  gamma" in result.stdout
    lock = builder.lock()
    assert len(lock.videos["beta"].steps) == 1
    assert not lock.videos["beta"].pending
    assert set(lock.videos["alpha"].renders) == {"clip", "wide"}
    assert set(lock.videos["gamma"].renders) == {"clip", "wide"}
    check_outputs(builder.root, lock)
    new = builder.ledger().since(before)
    assert new.kinds() == {"message": 1, "render": 2}  # beta's step; alpha's, gamma's wide
    # The failed step left the project as it was: it is sent again to the same project.
    plan = builder.plan()
    assert actions(plan, "beta") == [("send_message", 2), ("render", "clip")]
    assert actions(plan, "alpha") == actions(plan, "gamma") == []
    builder.engine.stop()
    builder.engine = make_engine(state_dir=state, port=port)
    builder.apply()
    assert builder.lock().videos["beta"].projectId == lock.videos["beta"].projectId
    assert builder.plan()["changes"] is False
    builder.ledger().assert_nothing_sent_twice()


def test_lost_answers_to_messages_are_recovered_not_paid_again(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each lost answer used to move its video to a new project that got every step again
    # (6 videos x 3 steps took 26 messages and 15 projects). The charge names the task.
    engine = make_engine(seed=5, faults={"lost_response_rate": 0.15})
    builder = Builder(engine, tmp_path / "site", monkeypatch)
    spec = {
        f"v{n}": video(f"Open on scene {n}.", "Make the headline bigger.", "Add a closing card.")
        for n in range(6)
    }
    for entry in spec.values():
        entry["renders"] = {"clip": {}}
    builder.write(spec)
    runs = apply_until_done(builder, attempts=8)
    lost = engine.stats()["faults"].get("lost-response", 0)
    ledger = builder.ledger()
    print("apply exit codes:", runs, "lost answers:", lost, "ledger:", dict(ledger.kinds()))
    assert lost > 0
    lock = builder.lock()
    for key, entry in lock.videos.items():
        assert ledger.messages(entry.projectId) == spec[key]["steps"]
    # Every message was paid once: a lost answer to a message costs nothing more. A lost
    # answer to POST /projects leaves an empty project behind (it is never sent anything).
    assert ledger.kinds()["message"] == 18
    assert len(ledger.projects()) <= 6 + lost
    assert all(
        ledger.messages(p) == []
        for p in ledger.projects()
        if p not in {e.projectId for e in lock.videos.values()}
    )
    ledger.assert_nothing_sent_twice()
    check_outputs(builder.root, lock)
