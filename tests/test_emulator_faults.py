"""Fault injection: each flag does what it says, reproducibly for a seed."""

from __future__ import annotations

import time

import httpx
import pytest
from engine_client import PRODUCT_LAUNCH, EngineClient, EngineFactory

from parafraim_build.emulator import FaultConfig
from parafraim_build.emulator.faults import FaultInjector, draw, error_page

pytest_plugins = ("engine_fixtures",)


# ------------------------------------------------------------------ decisions


def test_draws_are_reproducible_and_spread() -> None:
    assert draw(7, "error", 3) == draw(7, "error", 3)
    assert draw(7, "error", 3) != draw(8, "error", 3)
    values = [draw(0, "error", n) for n in range(4000)]
    assert all(0 <= value < 1 for value in values)
    assert sum(value < 0.25 for value in values) == pytest.approx(1000, rel=0.1)


class FakeClock:
    """Seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_same_seed_gives_the_same_faults_in_the_same_order() -> None:
    faults = FaultConfig(error_rate=0.3, concurrency_burst_rate=0.5, latency_ms=50, jitter_ms=40)

    def sequence(seed: int) -> list[object]:
        clock = FakeClock()
        injector = FaultInjector(faults, seed, clock=clock)
        decisions: list[object] = []
        for _ in range(50):
            decisions.append(
                (injector.server_error(), injector.concurrency_burst(), injector.latency_seconds())
            )
            clock.now += 0.4  # bursts of 1 s span a few of these messages
        return decisions

    assert sequence(1) == sequence(1)
    assert sequence(1) != sequence(2)


def test_latency_stays_within_the_jitter() -> None:
    injector = FaultInjector(FaultConfig(latency_ms=100, jitter_ms=30), seed=3)
    delays = [injector.latency_seconds() for _ in range(500)]
    assert min(delays) >= 0.07
    assert max(delays) <= 0.13
    assert len(set(delays)) > 100
    assert FaultInjector(FaultConfig(), seed=3).latency_seconds() == 0


def test_task_and_render_fates_depend_only_on_their_sequence_number() -> None:
    faults = FaultConfig(task_error_rate=0.5, render_failure_rate=0.5)
    first, second = FaultInjector(faults, 11), FaultInjector(faults, 11)
    assert [first.task_fails(n) for n in range(40)] == [second.task_fails(n) for n in range(40)]
    # Asked in the opposite order, each render keeps its fate.
    backwards = {n: second.render_fails(n) for n in reversed(range(40))}
    assert [first.render_fails(n) for n in range(40)] == [backwards[n] for n in range(40)]
    assert 5 < sum(first.task_fails(n) for n in range(40)) < 35


def _seed_where_the_first_message_bursts_and_the_second_would_not() -> int:
    """A seed whose first burst draw hits (< 0.5) and second misses (>= 0.5)."""
    return next(
        seed
        for seed in range(1000)
        if draw(seed, "concurrency", 0) < 0.5 <= draw(seed, "concurrency", 1)
    )


def test_a_concurrency_burst_refuses_every_message_until_it_ends() -> None:
    seed = _seed_where_the_first_message_bursts_and_the_second_would_not()
    clock = FakeClock()
    faults = FaultConfig(concurrency_burst_rate=0.5, concurrency_burst_seconds=2.0)
    injector = FaultInjector(faults, seed, clock=clock)
    assert injector.concurrency_burst() == 2.0  # a burst starts
    # An immediate retry is refused too, although its own draw would have let it in.
    clock.now += 0.5
    assert injector.concurrency_burst() == pytest.approx(1.5)
    clock.now += 1.4
    assert injector.concurrency_burst() == pytest.approx(0.1)
    clock.now += 0.1
    assert injector.concurrency_burst() is None  # over: the next draw (a miss) lets it in
    assert injector.injected == {"concurrency": 3, "concurrency-burst": 1}


def test_no_fault_strikes_at_rate_zero_and_every_time_at_rate_one() -> None:
    off = FaultInjector(FaultConfig(), seed=0)
    on = FaultInjector(
        FaultConfig(
            error_rate=1,
            concurrency_burst_rate=1,
            task_error_rate=1,
            render_failure_rate=1,
            lost_response_rate=1,
        ),
        seed=0,
    )
    for n in range(20):
        assert off.server_error() is None
        assert not off.concurrency_burst()
        assert not off.lose_response()
        assert not off.task_fails(n)
        assert not off.render_fails(n)
        assert on.server_error() in (502, 503)
        assert on.concurrency_burst()
        assert on.lose_response()
        assert on.task_fails(n)
        assert on.render_fails(n)
    assert on.injected["error"] == 20


def test_the_error_page_is_html_not_an_envelope() -> None:
    page = error_page(503)
    assert page.startswith("<!DOCTYPE html>")
    assert "503 Service Temporarily Unavailable" in page


@pytest.mark.parametrize(
    ("faults", "problem"),
    [
        (FaultConfig(error_rate=1.5), "error_rate"),
        (FaultConfig(task_error_rate=-0.1), "task_error_rate"),
        (FaultConfig(latency_ms=-1), "latency_ms"),
        (FaultConfig(cut_streams_after=0), "cut_streams_after"),
        (FaultConfig(error_rate=float("nan")), "error_rate must be a finite number"),
        (FaultConfig(latency_ms=float("inf")), "latency_ms must be a finite number"),
        (FaultConfig(latency_ms=float("nan")), "latency_ms must be a finite number"),
        (FaultConfig(jitter_ms=float("inf")), "jitter_ms must be a finite number"),
        (FaultConfig(latency_ms=600_000), "latency_ms must be at least 0 and at most 60000"),
        (FaultConfig(concurrency_burst_seconds=0), "concurrency_burst_seconds"),
        (FaultConfig(concurrency_burst_seconds=float("inf")), "concurrency_burst_seconds"),
    ],
)
def test_impossible_fault_values_are_reported(faults: FaultConfig, problem: str) -> None:
    assert any(problem in line for line in faults.problems())


def test_usable_fault_values_have_no_problems() -> None:
    assert FaultConfig().problems() == []
    edge = FaultConfig(latency_ms=60_000, jitter_ms=0, error_rate=1, concurrency_burst_seconds=0.1)
    assert edge.problems() == []


# ------------------------------------------------------------ over the socket


def test_latency_holds_every_api_request(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(faults={"latency_ms": 150, "jitter_ms": 20})) as client:
        for _ in range(3):
            started = time.monotonic()
            client.get("/me")
            assert time.monotonic() - started >= 0.13


def test_server_errors_are_html_pages_before_any_processing(make_engine: EngineFactory) -> None:
    running = make_engine(faults={"error_rate": 1.0})
    with EngineClient(running) as client:
        for path in ("/me", "/projects"):
            response = client.get(path)
            assert response.status_code in (502, 503)
            assert response.headers["content-type"].startswith("text/html")
            with pytest.raises(ValueError, match="Expecting value"):
                response.json()
        response = client.post("/projects", {"name": "never made"})
        assert response.status_code in (502, 503)
        assert running.ledger() == []
        # Even a request without a key gets the page: the proxy answers before the API.
        assert httpx.get(running.api_url + "/me").status_code in (502, 503)
        # Admin endpoints and the stats are not subject to faults, and count what happened.
        stats = running.stats()
        assert stats["requests"]["byRoute"]["POST /api/v1/projects"] == 1
        assert stats["faults"]["error"] == 4


def test_a_share_of_server_errors_is_reproducible(make_engine: EngineFactory) -> None:
    def statuses(seed: int) -> list[int]:
        with EngineClient(make_engine(seed=seed, faults={"error_rate": 0.4})) as client:
            return [client.get("/me").status_code for _ in range(30)]

    first = statuses(5)
    assert first == statuses(5)
    assert 3 < sum(status != 200 for status in first) < 25
    assert first != statuses(6)


def test_an_immediate_retry_inside_a_burst_is_refused(make_engine: EngineFactory) -> None:
    seed = _seed_where_the_first_message_bursts_and_the_second_would_not()
    faults = {"concurrency_burst_rate": 0.5, "concurrency_burst_seconds": 0.6}
    with EngineClient(make_engine(seed=seed, faults=faults)) as client:
        project = client.new_project()
        path = f"/projects/{project['id']}/messages"
        first = client.post(path, {"message": "Hi."})
        assert client.error(first)["code"] == "CONCURRENCY_LIMIT"
        retry = client.post(path, {"message": "Hi."})
        assert client.error(retry)["code"] == "CONCURRENCY_LIMIT"
        assert retry.headers["Retry-After"] == "1"
        time.sleep(0.65)
        assert client.post(path, {"message": "Hi."}).status_code == 202  # backed off: in
        assert client.engine.stats()["faults"]["concurrency-burst"] == 1


def test_concurrency_bursts_refuse_messages_before_charging(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(faults={"concurrency_burst_rate": 1.0})) as client:
        project = client.new_project()
        response = client.post(f"/projects/{project['id']}/messages", {"message": "Hi."})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert client.error(response)["code"] == "CONCURRENCY_LIMIT"
        assert client.data(client.get("/credits"))["used"] == 0
        assert [entry["kind"] for entry in client.engine.ledger()] == ["project"]
        # Other endpoints are not affected.
        assert client.get("/projects").status_code == 200


def test_lost_responses_happen_after_processing(make_engine: EngineFactory) -> None:
    running = make_engine(faults={"lost_response_rate": 1.0})
    with EngineClient(running) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/projects", {"name": "made, but you cannot know"})
        [entry] = running.ledger()
        assert entry["body"] == {"name": "made, but you cannot know"}
        listed = client.data(client.get("/projects"))
        assert [item["name"] for item in listed] == ["made, but you cannot know"]


def test_cut_streams_close_after_n_events(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(faults={"cut_streams_after": 3})) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        task_id = client.send(project["id"], "Open strong. Then the team. Then the price.")
        task = client.wait_task(task_id)
        first = [frame for frame in client.stream(project["id"], task_id) if frame.id]
        assert [frame.id for frame in first] == [1, 2, 3]
        assert task["lastEventId"] > 3
        last = client.stream(project["id"], task_id, after=task["lastEventId"] - 1)
        assert [frame.event for frame in last] == ["result"]


def test_task_errors_strike_a_share_of_tasks(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(seed=4, faults={"task_error_rate": 0.5})) as client:
        outcomes = []
        for index in range(12):
            project = client.new_project(name=f"p{index}")
            outcomes.append(client.wait_task(client.send(project["id"], "Hi."))["status"])
        assert set(outcomes) == {"completed", "error"}
        credits = client.data(client.get("/credits"))
        assert credits["used"] == round(1.1 * outcomes.count("completed"), 2)
