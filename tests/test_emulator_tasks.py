"""Message tasks: the planned events, the SSE stream and its resume, the task object."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from engine_client import (
    PRODUCT_LAUNCH,
    EngineClient,
    EngineFactory,
    SseFrame,
)

from parafraim_build.emulator import RunningEngine
from parafraim_build.emulator.composition import parse_composition
from parafraim_build.emulator.tasks import format_event, plan_events

pytest_plugins = ("engine_fixtures",)


@pytest.fixture
def client(engine: RunningEngine) -> Iterator[EngineClient]:
    with EngineClient(engine) as api:
        yield api


@dataclass(frozen=True)
class Outcome:
    html: str
    html_updates: tuple[str, ...]
    text_chunks: tuple[str, ...]


def _events(frames: list[SseFrame]) -> list[SseFrame]:
    return [frame for frame in frames if frame.comment is None]


# ------------------------------------------------------------------ planning


@pytest.mark.parametrize(("texts", "previews"), [(1, 1), (5, 1), (1, 4), (7, 4), (3, 3)])
def test_a_plan_streams_all_text_and_ends_on_the_final_preview(texts: int, previews: int) -> None:
    outcome = Outcome(
        html=f"final-{previews}",
        html_updates=(*(f"draft-{i}" for i in range(1, previews)), f"final-{previews}"),
        text_chunks=tuple(f"t{i} " for i in range(texts)),
    )
    events = plan_events(outcome, fails=False)
    deltas = [event["data"]["delta"] for event in events if event["event"] == "text"]
    htmls = [event["data"]["html"] for event in events if event["event"] == "html_update"]
    assert "".join(deltas) == "".join(outcome.text_chunks)
    assert htmls == list(outcome.html_updates)
    assert events[0]["event"] == "text"
    assert events[-1] == {"event": "html_update", "data": {"html": outcome.html}}


def test_a_failing_plan_stops_half_way_after_one_preview() -> None:
    outcome = Outcome("c", ("a", "b", "c"), tuple("abcdef"))
    events = plan_events(outcome, fails=True)
    assert [event["event"] for event in events] == ["text"] * 3 + ["html_update"]
    assert events[-1]["data"] == {"html": "a"}


def test_an_outcome_without_text_still_has_a_delta_and_a_preview() -> None:
    events = plan_events(Outcome("h", (), ()), fails=False)
    assert events == [
        {"event": "text", "data": {"delta": ""}},
        {"event": "html_update", "data": {"html": "h"}},
    ]


def test_sse_frames_carry_an_integer_id_an_event_name_and_one_line_of_json() -> None:
    frame = format_event(7, {"event": "html_update", "data": {"html": "<p>\n</p>"}})
    assert frame == b'id: 7\nevent: html_update\ndata: {"html":"<p>\\n</p>"}\n\n'


# ------------------------------------------------------------------ streaming


def test_a_stream_has_integer_ids_text_previews_and_a_result(client: EngineClient) -> None:
    project = client.new_project(name="Stream me")
    task_id = client.send(project["id"], "Open with our new product. Then show the price.")
    frames = _events(client.stream(project["id"], task_id))
    assert [frame.id for frame in frames] == list(range(1, len(frames) + 1))
    names = [frame.event for frame in frames]
    assert names[-1] == "result"
    assert "text" in names
    assert "html_update" in names
    assert set(names[:-1]) == {"text", "html_update"}

    task = client.data(client.get(f"/tasks/{task_id}"))
    assert frames[-1].data == task
    assert task["status"] == "completed"
    assert task["lastEventId"] == len(frames)
    deltas = "".join(frame.data["delta"] for frame in frames if frame.event == "text")
    assert task["assistantMessage"]["content"] == deltas
    assert task["assistantMessage"]["id"]
    last_preview = [frame.data["html"] for frame in frames if frame.event == "html_update"][-1]
    assert task["project"]["compositionHtml"] == last_preview
    assert task["project"]["hasPreview"] is True
    assert task["project"]["id"] == project["id"]
    composition = parse_composition(last_preview)
    assert composition is not None
    assert len(composition.scenes) >= 1


def test_from_resumes_after_an_event_id(client: EngineClient) -> None:
    project = client.new_project()
    task_id = client.send(project["id"], "Say hello. Then say goodbye.")
    everything = _events(client.stream(project["id"], task_id))
    for after in (1, 3, len(everything) - 1):
        resumed = _events(client.stream(project["id"], task_id, after=after))
        assert [frame.id for frame in resumed] == [frame.id for frame in everything[after:]]
        assert [frame.data for frame in resumed] == [frame.data for frame in everything[after:]]


def test_a_stream_opened_after_the_end_replays_what_was_missed(client: EngineClient) -> None:
    project = client.new_project()
    task_id = client.send(project["id"], "Hello.")
    task = client.wait_task(task_id)
    replay = _events(client.stream(project["id"], task_id, after=0))
    assert len(replay) == task["lastEventId"]
    assert replay[-1].event == "result"
    assert client.stream(project["id"], task_id, after=task["lastEventId"]) == []


def test_a_stream_resumed_after_a_cut_reaches_the_end(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(faults={"cut_streams_after": 2})) as client:
        project = client.new_project()
        task_id = client.send(project["id"], "Open strong. Then show the team. Then the price.")
        seen: list[SseFrame] = []
        connections = 0
        while not seen or seen[-1].event not in ("result", "task_error"):
            frames = _events(
                client.stream(project["id"], task_id, after=seen[-1].id if seen else None)
            )
            connections += 1
            assert len(frames) <= 2
            seen.extend(frames)
            assert connections < 50
        assert connections >= 3
        assert [frame.id for frame in seen] == list(range(1, len(seen) + 1))
        assert seen[-1].event == "result"


def test_an_idle_stream_gets_keepalive_comments(make_engine: EngineFactory) -> None:
    running = make_engine(task_seconds=1.2, keepalive_seconds=0.1)
    with EngineClient(running) as client:
        project = client.new_project()
        task_id = client.send(project["id"], "Hi.")
        frames = client.stream(project["id"], task_id)
        assert any(frame.comment == "keep-alive" for frame in frames)
        assert _events(frames)[-1].event == "result"


def test_a_stream_delivers_events_as_they_happen(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(task_seconds=1.0)) as client:
        project = client.new_project()
        task_id = client.send(project["id"], "One. Two. Three.")
        path = f"/api/v1/projects/{project['id']}/tasks/{task_id}/stream"
        arrivals: list[float] = []
        started = time.monotonic()
        with client.http.stream("GET", path.removeprefix("/api/v1")) as response:
            for line in response.iter_lines():
                if line.startswith("id: "):
                    arrivals.append(time.monotonic() - started)
        assert arrivals[0] < 0.5
        assert arrivals[-1] > 0.8


def test_the_task_object_while_running_and_after(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(task_seconds=0.6)) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        before = project["compositionHtml"]
        task_id = client.send(project["id"], "Make the opening more direct.")
        running = client.data(client.get(f"/tasks/{task_id}"))
        assert running["status"] == "running"
        assert running["assistantMessage"] is None
        assert running["project"]["compositionHtml"] == before
        assert running["renderJob"] is None
        assert running["error"] is None
        assert 0 <= running["lastEventId"] < 10
        done = client.wait_task(task_id)
        assert done["status"] == "completed"
        assert done["project"]["compositionHtml"] != before
        assert done["lastEventId"] > running["lastEventId"]


def test_the_task_object_shows_the_latest_render_asked_after_it(client: EngineClient) -> None:
    project = client.new_project(templateId=PRODUCT_LAUNCH)
    early_job = client.render(project["id"])
    task_id = client.send(project["id"], "Shorten everything.")
    client.wait_task(task_id)
    assert client.data(client.get(f"/tasks/{task_id}"))["renderJob"] is None
    job_id = client.render(project["id"])
    task = client.data(client.get(f"/tasks/{task_id}"))
    assert task["renderJob"]["id"] == job_id != early_job
    client.wait_job(job_id)
    client.wait_job(early_job)


def test_an_edit_changes_the_composition_for_real(client: EngineClient) -> None:
    project = client.new_project(templateId=PRODUCT_LAUNCH)
    before = parse_composition(project["compositionHtml"])
    task = client.wait_task(client.send(project["id"], "Remove scene 2."))
    after = parse_composition(task["project"]["compositionHtml"])
    assert before is not None
    assert after is not None
    assert len(after.scenes) == len(before.scenes) - 1


def test_the_same_message_gives_the_same_html_unless_nondeterministic(
    make_engine: EngineFactory,
) -> None:
    def outcome(running: RunningEngine) -> list[str]:
        with EngineClient(running) as client:
            htmls = []
            for _ in range(2):
                project = client.new_project(name="same")
                task = client.wait_task(client.send(project["id"], "Open with a bang."))
                htmls.append(task["project"]["compositionHtml"])
            return htmls

    first, second = outcome(make_engine())
    assert first == second
    first, second = outcome(make_engine(nondeterministic=True))
    assert first != second


def test_a_message_is_charged_when_accepted(client: EngineClient) -> None:
    project = client.new_project()
    task_id = client.send(project["id"], "x" * 2500)
    credits = client.data(client.get("/credits"))
    assert credits["balance"] == 10_000 - 1.3
    assert credits["recent"][0]["taskId"] == task_id
    client.wait_task(task_id)
    assert client.data(client.get("/credits"))["balance"] == 10_000 - 1.3


def test_a_task_error_ends_the_stream_and_is_refunded(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(faults={"task_error_rate": 1.0})) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        task_id = client.send(project["id"], "Make it shine.")
        frames = _events(client.stream(project["id"], task_id))
        assert frames[-1].event == "task_error"
        assert frames[-1].data["code"] == "TASK_FAILED"
        assert "injected" in frames[-1].data["message"]
        assert "html_update" in [frame.event for frame in frames]
        task = client.data(client.get(f"/tasks/{task_id}"))
        assert task["status"] == "error"
        assert task["error"] == frames[-1].data
        assert task["assistantMessage"] is None
        assert task["project"]["compositionHtml"] == project["compositionHtml"]
        credits = client.data(client.get("/credits"))
        assert credits["balance"] == 10_000
        assert credits["usedToday"] == 0
        assert [item["type"] for item in credits["recent"]] == ["refund", "charge"]
        assert credits["recent"][0]["taskId"] == task_id
        # The project is free again for the next message.
        client.send(project["id"], "Try again.")


def test_closed_clients_do_not_leak_streams(make_engine: EngineFactory) -> None:
    running = make_engine(task_seconds=2.0, keepalive_seconds=0.05)
    with EngineClient(running) as client:
        project = client.new_project()
        task_id = client.send(project["id"], "Long one.")
        path = f"/projects/{project['id']}/tasks/{task_id}/stream"
        with client.http.stream("GET", path) as response:
            lines = response.iter_lines()  # kept: a dropped iterator closes the response
            next(lines)
            assert running.stats()["streams"]["open"] == 1
        deadline = time.monotonic() + 2
        while running.stats()["streams"]["open"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert running.stats()["streams"]["open"] == 0


def test_many_streams_follow_one_task_together(make_engine: EngineFactory) -> None:
    running = make_engine(task_seconds=0.5)
    with EngineClient(running) as client:
        project = client.new_project()
        task_id = client.send(project["id"], "Hello everyone.")
        results: list[list[SseFrame]] = []

        def follow() -> None:
            with EngineClient(running) as own:
                results.append(_events(own.stream(project["id"], task_id)))

        threads = [threading.Thread(target=follow) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(results) == 8
        assert all([f.data for f in frames] == [f.data for f in results[0]] for frames in results)
        assert running.stats()["streams"]["peak"] >= 2


def test_a_bad_from_is_a_validation_error(client: EngineClient) -> None:
    project = client.new_project()
    task_id = client.send(project["id"], "Hi.")
    path = f"/projects/{project['id']}/tasks/{task_id}/stream"
    for value in ("-1", "abc"):
        response = client.get(path, params={"from": value})
        assert client.error(response)["code"] == "VALIDATION"
        assert client.error(response)["message"].startswith("from: ")


def test_stream_content_type_and_caching(client: EngineClient) -> None:
    project = client.new_project()
    task_id = client.send(project["id"], "Hi.")
    client.wait_task(task_id)
    response = httpx.get(
        f"{client.engine.api_url}/projects/{project['id']}/tasks/{task_id}/stream",
        headers={"Authorization": f"Bearer {client.engine.api_key}"},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
