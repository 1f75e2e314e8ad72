"""Conformance of the engine's HTTP API: every endpoint, error code and documented limit.

Everything here goes over a real socket to a real engine. Render limits are checked against
an engine whose renderer is a fast stand-in (the real renderer at 3840x2160 would take far
too long for a unit suite); ``test_emulator_renders.py`` covers real renders.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
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
)

from parafraim_build.api.models import RenderConfig
from parafraim_build.emulator import RunningEngine, start_engine
from parafraim_build.emulator.composition import parse_composition
from parafraim_build.emulator.engine import Engine
from parafraim_build.emulator.server import serve_engine

pytest_plugins = ("engine_fixtures",)


@pytest.fixture(scope="module")
def shared_engine() -> Iterator[RunningEngine]:
    """One engine for the many read-only auth checks (starting one per case is slow)."""
    with start_engine(fast_config()) as running:
        yield running


@pytest.fixture(scope="module")
def shared_quick_engine() -> Iterator[RunningEngine]:
    """One engine with the fast stand-in renderer for the many render-limit cases."""
    with serve_engine(Engine(fast_config(), renderer=quick_renderer)) as running:
        yield running


@pytest.fixture
def shared_client(shared_engine: RunningEngine) -> Iterator[EngineClient]:
    """A client of the module's shared engine: for checks that do not count anything."""
    with EngineClient(shared_engine) as api:
        yield api


@pytest.fixture
def shared_quick_client(shared_quick_engine: RunningEngine) -> Iterator[EngineClient]:
    with EngineClient(shared_quick_engine) as api:
        yield api


@pytest.fixture
def client(engine: RunningEngine) -> Iterator[EngineClient]:
    with EngineClient(engine) as api:
        yield api


def quick_renderer(
    html: str,
    config: RenderConfig,
    out_path: Path,
    *,
    on_progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> float:
    """Stands in for ffmpeg: writes a small file and reports the composition's length."""
    composition = parse_composition(html)
    assert composition is not None
    out_path.write_bytes(f"{config.width}x{config.height}@{config.fps}".encode())
    if on_progress is not None:
        on_progress(100)
    return composition.duration


@pytest.fixture
def quick_client(make_engine: EngineFactory) -> Iterator[EngineClient]:
    running = make_engine(engine=Engine(fast_config(), renderer=quick_renderer))
    with EngineClient(running) as api:
        yield api


# ----------------------------------------------------------------------------- auth

ENDPOINTS = [
    ("GET", "/me"),
    ("GET", "/credits"),
    ("GET", "/projects"),
    ("POST", "/projects"),
    ("POST", "/projects/00000000-0000-0000-0000-00000000abcd/messages"),
    ("POST", "/projects/00000000-0000-0000-0000-00000000abcd/render"),
    ("GET", "/projects/00000000-0000-0000-0000-00000000abcd/tasks/task_x/stream"),
    ("GET", "/tasks/task_x"),
    ("GET", "/render-jobs/00000000-0000-0000-0000-00000000abcd"),
    ("GET", "/templates"),
    ("POST", f"/templates/{PRODUCT_LAUNCH}/use"),
    ("GET", "/no/such/route"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "Missing API key"),
        ("pfk_local_engine_key", "Malformed API key"),
        ("Basic pfk_local_engine_key", "Malformed API key"),
        ("Bearer local_engine_key", "Malformed API key"),
        ("Bearer pfk_wrong_key_1234", "Invalid API key"),
    ],
)
def test_every_endpoint_refuses_a_missing_malformed_or_wrong_key(
    shared_engine: RunningEngine, method: str, path: str, header: str | None, reason: str
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = httpx.request(method, shared_engine.api_url + path, headers=headers, json={})
    assert response.status_code == 401
    document = response.json()
    assert document == {
        "success": False,
        "error": {"code": "UNAUTHORIZED", "message": document["error"]["message"]},
    }
    assert document["error"]["message"].startswith(reason)
    assert "pfk_wrong" not in response.text


def test_the_right_key_is_accepted_with_any_case_of_bearer(engine: RunningEngine) -> None:
    headers = {"Authorization": f"bearer {engine.api_key}"}
    assert httpx.get(engine.api_url + "/me", headers=headers).status_code == 200


# ------------------------------------------------------------------- account


def test_me_shows_the_account_and_its_credits(client: EngineClient) -> None:
    me = client.data(client.get("/me"))
    assert set(me) >= {"id", "email", "plan", "renderCredits"}
    assert len(me["id"]) == 36
    assert me["id"].count("-") == 4
    assert me["renderCredits"] == 10_000


def test_credits_show_balance_allowance_usage_and_recent_transactions(
    client: EngineClient,
) -> None:
    credits = client.data(client.get("/credits"))
    assert credits == {
        "balance": 10_000,
        "plan": "local",
        "monthlyAllowance": 10_000,
        "used": 0,
        "usedToday": 0,
        "limits": {"projects": 200, "concurrentTasks": 4},
        "recent": [],
    }
    project = client.new_project()
    task_id = client.send(project["id"], "Say hello.")
    credits = client.data(client.get("/credits"))
    assert credits["balance"] == 10_000 - 1.1
    assert credits["used"] == credits["usedToday"] == 1.1
    [charge] = credits["recent"]
    assert charge["type"] == "charge"
    assert charge["amount"] == 1.1
    assert charge["taskId"] == task_id
    assert charge["projectId"] == project["id"]
    assert charge["createdAt"].endswith("Z")
    assert client.data(client.get("/me"))["renderCredits"] == credits["balance"]


# ------------------------------------------------------------------ projects


def test_a_blank_project_is_empty_until_edited(client: EngineClient) -> None:
    project = client.new_project(name="Launch video", aspectRatio="9:16", description="d")
    assert project["compositionHtml"] == ""
    assert project["hasPreview"] is False
    assert project["aspectRatio"] == "9:16"
    assert len(project["id"]) == 36


def test_a_project_from_a_template_copies_its_composition(client: EngineClient) -> None:
    project = client.new_project(name="From template", templateId=PRODUCT_LAUNCH)
    assert project["hasPreview"] is True
    composition = parse_composition(project["compositionHtml"])
    assert composition is not None
    assert composition.scenes
    assert project["templateId"] == PRODUCT_LAUNCH


def test_an_unknown_template_id_is_not_found(client: EngineClient) -> None:
    response = client.post(
        "/projects", {"name": "x", "templateId": "00000000-0000-0000-0000-0000000000ff"}
    )
    assert response.status_code == 404
    assert client.error(response)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({}, "name"),
        ({"name": "ok", "description": "d" * 501}, "description"),
        ({"name": "ok", "aspectRatio": "4:3"}, "aspectRatio"),
        ({"name": "ok", "templateId": "not-a-uuid"}, "templateId"),
        ({"name": "ok", "owner": "me"}, "owner"),
    ],
)
def test_project_limits_just_past_the_edge(
    shared_client: EngineClient, body: dict[str, Any], field: str
) -> None:
    response = shared_client.post("/projects", body)
    assert response.status_code == 400
    error = shared_client.error(response)
    assert error["code"] == "VALIDATION"
    assert error["message"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},
        {"name": "x" * 100},
        {"name": "ok", "description": "d" * 500},
        {"name": "ok", "description": ""},
        {"name": "ok", "aspectRatio": "16:9"},
        {"name": "ok", "aspectRatio": "1:1"},
    ],
)
def test_project_limits_at_the_edge(shared_client: EngineClient, body: dict[str, Any]) -> None:
    assert shared_client.post("/projects", body).status_code == 201


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'"name"', b"\xff"])
def test_a_body_that_is_not_a_json_object_is_a_validation_error(
    shared_client: EngineClient, raw: bytes
) -> None:
    response = shared_client.http.post(
        "/projects", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert shared_client.error(response)["code"] == "VALIDATION"


def test_project_limit_applies_to_create_and_use(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(project_limit=2)) as client:
        client.new_project()
        client.post(f"/templates/{WEEKLY_RECAP}/use")
        for response in (
            client.post("/projects", {"name": "third"}),
            client.post(f"/templates/{WEEKLY_RECAP}/use", {}),
        ):
            assert response.status_code == 403
            assert client.error(response)["code"] == "PROJECT_LIMIT"
        assert len(client.engine.ledger()) == 2


def test_projects_are_paginated_newest_first_without_html(client: EngineClient) -> None:
    created = [client.new_project(name=f"p{index}")["id"] for index in range(7)]
    page = client.get("/projects", params={"page": 1, "pageSize": 3}).json()
    assert page["success"] is True
    assert page["pagination"] == {"page": 1, "pageSize": 3, "total": 7, "totalPages": 3}
    assert [item["id"] for item in page["data"]] == created[::-1][:3]
    assert all("compositionHtml" not in item for item in page["data"])
    assert all(item["hasPreview"] is False for item in page["data"])
    last = client.get("/projects", params={"page": 3, "pageSize": 3}).json()
    assert [item["id"] for item in last["data"]] == [created[0]]
    beyond = client.get("/projects", params={"page": 4, "pageSize": 3}).json()
    assert beyond["data"] == []
    assert beyond["pagination"]["total"] == 7


@pytest.mark.parametrize(
    ("params", "page", "size"),
    [
        ({}, 1, 20),
        ({"pageSize": 0}, 1, 1),
        ({"pageSize": 1}, 1, 1),
        ({"pageSize": 50}, 1, 50),
        ({"pageSize": 51}, 1, 50),
        ({"page": 0}, 1, 20),
    ],
)
def test_page_size_is_clamped_to_1_through_50(
    shared_client: EngineClient, params: dict[str, int], page: int, size: int
) -> None:
    pagination = shared_client.get("/projects", params=params).json()["pagination"]
    assert (pagination["page"], pagination["pageSize"]) == (page, size)


def test_a_non_numeric_page_is_a_validation_error(shared_client: EngineClient) -> None:
    response = shared_client.get("/projects", params={"page": "two"})
    assert shared_client.error(response) == {
        "code": "VALIDATION",
        "message": "page: must be an integer",
    }


# ------------------------------------------------------------------ messages


def test_message_limits(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(concurrency=50)) as client:
        refused = {
            "": "message",
            "x" * 10_001: "message",
        }
        project = client.new_project()
        path = f"/projects/{project['id']}/messages"
        for message, field in refused.items():
            response = client.post(path, {"message": message})
            assert client.error(response)["code"] == "VALIDATION"
            assert client.error(response)["message"].startswith(f"{field}: ")
        for body in (
            {"message": "a", "selectedElements": [{"selector": "#scene-1"}] * 9},
            {"message": "a", "selectedElement": ["#scene-1"]},
            {"message": "a", "selectedElements": "#scene-1"},
            {"message": 7},
            {"message": "a", "stream": True},
        ):
            assert client.error(client.post(path, body))["code"] == "VALIDATION"
        for body in (
            {"message": "x"},
            {"message": "x" * 10_000},
            {"message": "a", "selectedElements": [{"selector": "#scene-1"}] * 8},
            {"message": "a", "selectedElement": {"selector": "#scene-1"}},
        ):
            fresh = client.new_project()
            response = client.post(f"/projects/{fresh['id']}/messages", body)
            assert response.status_code == 202, response.text
            accepted = client.data(response)
            assert set(accepted) == {"taskId", "workspaceId", "traceId"}
        assert [entry["kind"] for entry in client.engine.ledger()].count("message") == 4


def test_a_message_to_an_unknown_project_is_not_found(client: EngineClient) -> None:
    response = client.post(
        "/projects/00000000-0000-0000-0000-000000000000/messages", {"message": "a"}
    )
    assert response.status_code == 404
    assert client.error(response)["code"] == "NOT_FOUND"


def test_one_running_task_per_project(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(task_seconds=2)) as client:
        project = client.new_project()
        client.send(project["id"], "First.")
        response = client.post(f"/projects/{project['id']}/messages", {"message": "Second."})
        assert response.status_code == 409
        assert client.error(response)["code"] == "TASK_RUNNING"
        other = client.new_project()
        client.send(other["id"], "Another project is fine.")


def test_the_account_wide_concurrent_task_limit(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(task_seconds=2, concurrency=2)) as client:
        projects = [client.new_project(name=f"p{index}") for index in range(3)]
        client.send(projects[0]["id"], "One.")
        client.send(projects[1]["id"], "Two.")
        response = client.post(f"/projects/{projects[2]['id']}/messages", {"message": "Three."})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert client.error(response)["code"] == "CONCURRENCY_LIMIT"
        assert client.data(client.get("/credits"))["used"] == 2.2


def test_insufficient_credits_are_refused_before_anything_is_spent(
    make_engine: EngineFactory,
) -> None:
    with EngineClient(make_engine(credits=1)) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        response = client.post(f"/projects/{project['id']}/messages", {"message": "Hi."})
        assert response.status_code == 402
        error = client.error(response)
        assert error["code"] == "INSUFFICIENT_CREDITS"
        assert "1.1" in error["message"]
        response = client.post(f"/projects/{project['id']}/render", {})
        assert client.error(response)["code"] == "INSUFFICIENT_CREDITS"
        assert client.data(client.get("/credits"))["balance"] == 1
        assert [entry["kind"] for entry in client.engine.ledger()] == ["project"]


# -------------------------------------------------------------------- renders


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"width": 479}, "config.width"),
        ({"width": 3841}, "config.width"),
        ({"height": 269}, "config.height"),
        ({"height": 2161}, "config.height"),
        ({"fps": 23}, "config.fps"),
        ({"fps": 61}, "config.fps"),
        ({"format": "webm"}, "config.format"),
        ({"quality": "best"}, "config.quality"),
        ({"includeAudio": "true"}, "config.includeAudio"),
        ({"includeSubtitles": None}, "config.includeSubtitles"),
        ({"codec": "h265"}, "config.codec"),
    ],
)
def test_render_limits_just_past_the_edge(
    shared_quick_client: EngineClient, config: dict[str, Any], field: str
) -> None:
    project = shared_quick_client.new_project(templateId=PRODUCT_LAUNCH)
    response = shared_quick_client.post(f"/projects/{project['id']}/render", {"config": config})
    assert response.status_code == 400
    error = shared_quick_client.error(response)
    assert error["code"] == "VALIDATION"
    assert error["message"].startswith(f"{field}: ")
    assert shared_quick_client.engine.ledger()[-1]["kind"] == "project"  # nothing charged


@pytest.mark.parametrize(
    "config",
    [
        {"width": 480, "height": 270, "fps": 24},
        {"width": 3840, "height": 2160, "fps": 60},
        {"format": "gif", "quality": "draft"},
        {"quality": "high", "includeAudio": False, "includeSubtitles": False},
        {},
    ],
)
def test_render_limits_at_the_edge(
    shared_quick_client: EngineClient, config: dict[str, Any]
) -> None:
    project = shared_quick_client.new_project(templateId=PRODUCT_LAUNCH)
    job = shared_quick_client.wait_job(shared_quick_client.render(project["id"], config))
    assert job["status"] == "complete"
    assert job["config"] == RenderConfig.model_validate(config).model_dump()


def test_render_without_a_body_uses_the_documented_defaults(quick_client: EngineClient) -> None:
    project = quick_client.new_project(templateId=WEEKLY_RECAP)
    response = quick_client.post(f"/projects/{project['id']}/render")
    job = quick_client.wait_job(quick_client.data(response)["jobId"])
    assert job["config"] == {
        "width": 1920,
        "height": 1080,
        "fps": 30,
        "format": "mp4",
        "quality": "standard",
        "includeAudio": True,
        "includeSubtitles": True,
    }


def test_a_project_without_html_has_no_preview_to_render(client: EngineClient) -> None:
    project = client.new_project()
    response = client.post(f"/projects/{project['id']}/render", {})
    assert response.status_code == 409
    assert client.error(response)["code"] == "NO_PREVIEW"
    assert client.engine.ledger()[-1]["kind"] == "project"


def test_unknown_ids_are_not_found(client: EngineClient) -> None:
    project = client.new_project()
    task_id = client.send(project["id"], "Hello.")
    missing = "00000000-0000-0000-0000-000000000000"
    for path in (
        "/tasks/task_missing",
        f"/render-jobs/{missing}",
        f"/projects/{missing}/tasks/{task_id}/stream",
        f"/projects/{project['id']}/tasks/task_missing/stream",
        "/nothing/here",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert client.error(response)["code"] == "NOT_FOUND"
    for path in (f"/projects/{missing}/render", f"/templates/{missing}/use"):
        assert client.error(client.post(path, {}))["code"] == "NOT_FOUND"


def test_a_wrong_method_is_an_error_envelope(client: EngineClient) -> None:
    response = client.http.delete("/projects")
    assert response.status_code == 405
    assert client.error(response)["code"] == "METHOD_NOT_ALLOWED"


# ------------------------------------------------------------------ templates


def test_the_catalogue_has_12_templates_in_4_categories(client: EngineClient) -> None:
    listing = client.get("/templates", params={"pageSize": 50}).json()
    templates = listing["data"]
    assert listing["pagination"]["total"] == len(templates) >= 12
    assert len({item["category"] for item in templates}) >= 4
    assert all(item["hasPreview"] is True for item in templates)
    assert all("compositionHtml" not in item and "html" not in item for item in templates)
    by_id = {item["id"]: item for item in templates}
    assert by_id[PRODUCT_LAUNCH]["name"] == "Product launch"
    assert by_id[WEEKLY_RECAP]["category"] == "news"


def test_templates_filter_by_exact_category_and_search_by_text(client: EngineClient) -> None:
    news = client.data(client.get("/templates", params={"category": "news"}))
    assert news
    assert all(item["category"] == "news" for item in news)
    assert client.data(client.get("/templates", params={"category": "New"})) == []
    found = client.data(client.get("/templates", params={"q": "RECAP"}))
    assert WEEKLY_RECAP in [item["id"] for item in found]
    by_category = client.data(client.get("/templates", params={"q": "marketing"}))
    assert PRODUCT_LAUNCH in [item["id"] for item in by_category]
    both = client.data(client.get("/templates", params={"category": "news", "q": "weekly"}))
    assert [item["id"] for item in both] == [WEEKLY_RECAP]
    assert client.data(client.get("/templates", params={"q": "zzz-nothing"})) == []


def test_templates_are_paginated(client: EngineClient) -> None:
    first = client.get("/templates", params={"pageSize": 5}).json()
    second = client.get("/templates", params={"pageSize": 5, "page": 2}).json()
    assert first["pagination"]["totalPages"] == -(-first["pagination"]["total"] // 5)
    ids = [item["id"] for item in first["data"] + second["data"]]
    assert len(ids) == len(set(ids)) == 10


def test_using_a_template_copies_it_and_counts_the_use(client: EngineClient) -> None:
    def usage() -> int:
        items = client.data(client.get("/templates", params={"q": "Weekly recap"}))
        return int(next(item for item in items if item["id"] == WEEKLY_RECAP)["usageCount"])

    assert usage() == 0
    response = client.post(f"/templates/{WEEKLY_RECAP}/use", {})
    assert response.status_code == 201
    project = client.data(response)
    assert project["name"] == "Weekly recap"
    assert project["hasPreview"] is True
    assert project["compositionHtml"]
    named = client.data(
        client.post(f"/templates/{WEEKLY_RECAP}/use", {"name": "Mine", "description": "d"})
    )
    assert named["name"] == "Mine"
    assert named["description"] == "d"
    assert usage() == 2
    client.new_project(templateId=WEEKLY_RECAP)
    assert usage() == 2  # only `use` counts, as documented


@pytest.mark.parametrize(
    "body", [{"name": ""}, {"name": "n" * 101}, {"description": "d" * 501}, {"tags": []}]
)
def test_use_template_validates_its_body(shared_client: EngineClient, body: dict[str, Any]) -> None:
    response = shared_client.post(f"/templates/{WEEKLY_RECAP}/use", body)
    assert shared_client.error(response)["code"] == "VALIDATION"


# ---------------------------------------------------------------------- admin


def test_stats_count_every_request_by_route_template(client: EngineClient) -> None:
    project = client.new_project()
    client.get("/me")
    client.get("/me")
    client.get(f"/tasks/{client.send(project['id'], 'Hi.')}")
    client.get("/nowhere")
    httpx.get(client.engine.base_url + "/_engine/ledger")
    stats = httpx.get(client.engine.base_url + "/_engine/stats").json()
    assert stats["requests"]["byRoute"] == {
        "GET /api/v1/me": 2,
        "POST /api/v1/projects": 1,
        "POST /api/v1/projects/{projectId}/messages": 1,
        "GET /api/v1/tasks/{taskId}": 1,
        "GET /api/v1/*": 1,
    }
    assert stats["requests"]["total"] == 6
    assert client.engine.stats()["requests"] == stats["requests"]


def test_the_ledger_lists_every_accepted_operation_in_order(quick_client: EngineClient) -> None:
    blank = quick_client.new_project(name="blank", aspectRatio="1:1")
    used = quick_client.data(quick_client.post(f"/templates/{PRODUCT_LAUNCH}/use", {}))
    task_id = quick_client.send(blank["id"], "Hello there.", selectedElements=[{"a": 1}])
    job_id = quick_client.render(used["id"], {"width": 640, "height": 360})
    quick_client.post("/projects", {"name": ""})  # refused: not in the ledger
    ledger = httpx.get(quick_client.engine.base_url + "/_engine/ledger").json()
    assert ledger == quick_client.engine.ledger()
    assert [(entry["kind"], entry["projectId"]) for entry in ledger] == [
        ("project", blank["id"]),
        ("project", used["id"]),
        ("message", blank["id"]),
        ("render", used["id"]),
    ]
    assert ledger[0]["body"] == {"name": "blank", "aspectRatio": "1:1"}
    assert ledger[1]["body"] == {}
    assert ledger[2]["taskId"] == task_id
    assert ledger[2]["body"] == {"message": "Hello there.", "selectedElements": [{"a": 1}]}
    assert ledger[3]["jobId"] == job_id
    assert ledger[3]["body"] == {"config": {"width": 640, "height": 360}}
    assert all(entry["at"].endswith("Z") for entry in ledger)


def test_the_root_describes_the_engine(engine: RunningEngine) -> None:
    document = httpx.get(engine.base_url + "/").json()
    assert "no AI" in document["engine"]
    assert document["api"] == engine.api_url


# --------------------------------------------------------- hostile bodies


def test_a_body_nested_past_the_parsers_limit_is_a_validation_error(
    shared_client: EngineClient,
) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    response = shared_client.http.post(
        "/projects", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    error = shared_client.error(response)
    assert error["code"] == "VALIDATION"
    assert "nested more than 64 levels" in error["message"]


def _nested_element(depth: int) -> dict[str, Any]:
    element: dict[str, Any] = {}
    for _ in range(depth - 1):
        element = {"child": element}
    return element


def test_a_deep_selected_element_is_refused_and_one_at_the_limit_is_kept(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    with EngineClient(make_engine(state_dir=state_dir)) as client:
        project = client.new_project()
        path = f"/projects/{project['id']}/messages"
        too_deep = {"message": "Hi.", "selectedElement": _nested_element(500)}
        assert client.error(client.post(path, too_deep))["code"] == "VALIDATION"
        # The body itself is one level; its selectedElement may use the other 63.
        deepest = {"message": "Hi.", "selectedElement": _nested_element(63)}
        task = client.wait_task(client.send(project["id"], **deepest | {"message": "Hi."}))
        assert task["status"] == "completed"
        assert client.engine.ledger()[-1]["body"] == deepest
        client.engine.stop()
    with EngineClient(make_engine(state_dir=state_dir)) as client:
        assert client.engine.ledger()[-1]["body"] == deepest


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_nan_and_infinity_are_refused_and_the_ledger_stays_json(
    shared_client: EngineClient, constant: bytes
) -> None:
    project = shared_client.new_project()
    raw = b'{"message":"hi","selectedElement":{"a":' + constant + b"}}"
    response = shared_client.http.post(
        f"/projects/{project['id']}/messages",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert shared_client.error(response)["code"] == "VALIDATION"
    ledger = httpx.get(shared_client.engine.base_url + "/_engine/ledger")
    assert ledger.status_code == 200
    assert ledger.json()[-1]["kind"] == "project"


def test_a_declared_oversized_body_is_refused_before_it_is_read(
    shared_engine: RunningEngine,
) -> None:
    host, port = shared_engine.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /api/v1/projects HTTP/1.1\r\n"
            b"Host: engine\r\n"
            b"Authorization: Bearer " + shared_engine.api_key.encode() + b"\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: 2000000\r\n\r\n"
            b'{"name": "'
        )
        # The engine answers without waiting for the 2 MB it was promised.
        answer = _read_response(connection)
    assert answer.startswith("HTTP/1.1 400")
    assert "larger than 1000000 bytes" in answer


def _read_response(connection: socket.socket) -> str:
    """One whole HTTP response (head and ``Content-Length`` body), however it is split."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    [length] = [
        int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length:")
    ]
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, received
        body += chunk
    return (head + b"\r\n\r\n" + body).decode("latin-1")


def test_a_streamed_oversized_body_is_cut_off(shared_client: EngineClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65536  # 1.3 MB in all, without a Content-Length

    response = shared_client.http.post(
        "/projects", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "larger than" in shared_client.error(response)["message"]


# ------------------------------------------------------------ small rules


def test_integral_numbers_are_accepted_in_a_render_config(
    shared_quick_client: EngineClient,
) -> None:
    project = shared_quick_client.new_project(templateId=PRODUCT_LAUNCH)
    config = {"width": 1000.0, "height": 720.0, "fps": 30.0}
    job = shared_quick_client.wait_job(shared_quick_client.render(project["id"], config))
    assert job["status"] == "complete"
    assert (job["config"]["width"], job["config"]["height"], job["config"]["fps"]) == (
        1000,
        720,
        30,
    )
    response = shared_quick_client.post(
        f"/projects/{project['id']}/render", {"config": {"width": 1000.5}}
    )
    assert shared_quick_client.error(response) == {
        "code": "VALIDATION",
        "message": "config.width: must be an integer",
    }


@pytest.mark.parametrize("route", ["/projects", f"/templates/{WEEKLY_RECAP}/use"])
@pytest.mark.parametrize("name", [" ", "   ", "\t\n"])
def test_a_blank_name_is_refused(shared_client: EngineClient, route: str, name: str) -> None:
    response = shared_client.post(route, {"name": name})
    assert shared_client.error(response) == {
        "code": "VALIDATION",
        "message": "name: must not be blank",
    }


def test_head_answers_like_get_without_a_body(client: EngineClient) -> None:
    project = client.new_project()
    task_id = client.send(project["id"], "Hi.")
    for path in (
        "/me",
        "/credits",
        "/projects",
        "/templates",
        f"/tasks/{task_id}",
        f"/projects/{project['id']}/tasks/{task_id}/stream",
    ):
        got = client.get(path)
        head = client.http.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
    assert client.http.head("/tasks/task_missing").status_code == 404
    refused = client.http.head(f"/projects/{project['id']}/messages")
    assert refused.status_code == 405
    assert client.engine.stats()["streams"]["served"] == 1  # the HEAD opened no stream


# ------------------------------------------------------------------ links


def _links_of_one_task(client: EngineClient) -> list[str]:
    """A render asked while a task runs: the task's result event, GET /tasks/{id} and
    GET /render-jobs/{id} all carry its videoUrl. Every GET claims to be for evil.example."""
    project = client.new_project(templateId=PRODUCT_LAUNCH)
    task_id = client.send(project["id"], "Shorten it.")
    job_id = client.render(project["id"])
    assert client.wait_job(job_id)["status"] == "complete"
    frames = client.stream(project["id"], task_id)
    [result] = [frame for frame in frames if frame.event == "result"]
    evil = {"Host": "evil.example"}
    job = client.data(client.get(f"/render-jobs/{job_id}", headers=evil))
    task = client.data(client.get(f"/tasks/{task_id}", headers=evil))
    return [result.data["renderJob"]["videoUrl"], task["renderJob"]["videoUrl"], job["videoUrl"]]


def test_links_never_follow_the_host_header(make_engine: EngineFactory) -> None:
    running = make_engine(engine=Engine(fast_config(task_seconds=1.0), renderer=quick_renderer))
    with EngineClient(running) as client:
        links = _links_of_one_task(client)
        assert all(link.startswith(running.base_url + "/files/") for link in links), links
        index = httpx.get(running.base_url + "/", headers={"Host": "evil.example"}).json()
        assert index["api"] == running.api_url


def test_a_public_url_is_the_base_of_every_link(make_engine: EngineFactory) -> None:
    public = "https://engine.example:8443"
    config = fast_config(task_seconds=1.0, public_url=public + "/")
    running = make_engine(engine=Engine(config, renderer=quick_renderer))
    with EngineClient(running) as client:
        links = _links_of_one_task(client)
        assert all(link.startswith(public + "/files/") for link in links), links
        # The engine itself serves what the public links point at.
        assert httpx.get(links[-1].replace(public, running.base_url)).status_code == 200


def test_admin_endpoints_need_the_key_off_loopback(make_engine: EngineFactory) -> None:
    running = make_engine(host="0.0.0.0")
    key = {"Authorization": f"Bearer {running.api_key}"}
    for path in ("/_engine/stats", "/_engine/ledger"):
        refused = httpx.get(running.base_url + path)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "UNAUTHORIZED"
        assert httpx.get(running.base_url + path, headers=key).status_code == 200
    assert running.ledger() == []  # in-process access is not over the network


def test_admin_endpoints_are_open_on_loopback(shared_engine: RunningEngine) -> None:
    assert httpx.get(shared_engine.base_url + "/_engine/stats").status_code == 200
