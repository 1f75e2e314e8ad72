"""``api/pagination.py``: data to models, and listings followed across pages without ever
looping on a server that gets ``totalPages`` wrong."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from test_client_fakes import FakeParafraim, Fault, run

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.models import Me, Page, Pagination, ProjectSummary
from parafraim_build.api.pagination import (
    MAX_PAGES,
    build_page,
    iter_pages,
    parse_data,
    parse_post_data,
)
from parafraim_build.errors import OutcomeUnknownError, UnknownApiError


def test_iter_projects_follows_every_page_at_fifty() -> None:
    fake = FakeParafraim(project_count=123)

    async def scenario(client: ParafraimClient) -> list[str]:
        return [p.id async for p in client.iter_projects()]

    ids = run(fake, scenario)
    assert ids == [p["id"] for p in fake.projects]
    pages = [r.url.params for r in fake.requests]
    assert [(p["page"], p["pageSize"]) for p in pages] == [("1", "50"), ("2", "50"), ("3", "50")]


def test_iter_templates_passes_filters_on_every_page() -> None:
    fake = FakeParafraim(template_count=160)

    async def scenario(client: ParafraimClient) -> list[str]:
        return [t.name async for t in client.iter_templates(category="news", q="template")]

    names = run(fake, scenario)
    assert len(names) == 54
    assert all(r.url.params["category"] == "news" for r in fake.requests)
    assert len(fake.requests) == 2


def test_an_empty_list_is_one_request() -> None:
    fake = FakeParafraim()

    async def scenario(client: ParafraimClient) -> list[str]:
        return [p.id async for p in client.iter_projects()]

    assert run(fake, scenario) == []
    assert len(fake.requests) == 1


def test_page_size_is_clamped_to_the_documented_range() -> None:
    fake = FakeParafraim(project_count=3)
    run(fake, lambda client: client.list_projects(page_size=500))
    run(fake, lambda client: client.list_projects(page=0, page_size=0))
    assert [dict(r.url.params) for r in fake.requests] == [
        {"page": "1", "pageSize": "50"},
        {"page": "1", "pageSize": "1"},
    ]


def test_the_same_page_served_again_stops_the_listing() -> None:
    # A server that ignores ``page`` and announces 1000 pages: two requests, not 1000.
    fake = FakeParafraim(project_count=3)

    def same_page(request: httpx.Request) -> httpx.Response:
        items = [{"id": p["id"], "name": p["name"]} for p in fake.projects]
        pagination = {"page": 1, "pageSize": 50, "total": 50_000, "totalPages": 1000}
        return httpx.Response(200, json={"success": True, "data": items, "pagination": pagination})

    fake.fail("GET /projects", *[Fault(same_page) for _ in range(1000)])

    async def scenario(client: ParafraimClient) -> list[str]:
        return [p.id async for p in client.iter_projects()]

    assert run(fake, scenario) == [p["id"] for p in fake.projects]
    assert fake.count("GET /projects") == 2


def test_a_listing_stops_at_the_page_cap_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    fetched: list[int] = []

    async def endless(number: int) -> Page[ProjectSummary]:
        fetched.append(number)
        item = ProjectSummary(id=f"p{number}")
        return Page[ProjectSummary](
            items=[item], pagination=Pagination(page=number, totalPages=10**9)
        )

    async def collect() -> list[str]:
        return [p.id async for p in iter_pages(endless, max_pages=5)]

    with caplog.at_level(logging.WARNING, logger="parafraim_build.api"):
        ids = asyncio.run(collect())
    assert ids == ["p1", "p2", "p3", "p4", "p5"]
    assert fetched == [1, 2, 3, 4, 5]
    assert any("stopped after 5 pages" in r.getMessage() for r in caplog.records)
    assert MAX_PAGES == 1000  # documented in docs/client.md


def test_a_page_that_repeats_some_items_goes_on() -> None:
    # A list that shifts between two requests repeats an item; the new ones still count.
    pages = {
        1: ["a", "b"],
        2: ["b", "c"],
        3: ["d"],
    }

    async def shifting(number: int) -> Page[ProjectSummary]:
        items = [ProjectSummary(id=i) for i in pages[number]]
        return Page[ProjectSummary](items=items, pagination=Pagination(page=number, totalPages=3))

    async def collect() -> list[str]:
        return [p.id async for p in iter_pages(shifting)]

    assert asyncio.run(collect()) == ["a", "b", "c", "d"]


def test_list_items_with_nulls_are_read() -> None:
    data = [{"id": "p1", "name": None, "hasPreview": None, "aspectRatio": None, "updatedAt": 5}]
    pagination = {"page": None, "pageSize": "50", "total": 1, "totalPages": 1.0}
    page = build_page(ProjectSummary, data, pagination, "/projects", {"page": 1, "pageSize": 50})
    assert page.items[0] == ProjectSummary(id="p1", updatedAt="5")
    assert (page.pagination.page, page.pagination.pageSize, page.pagination.totalPages) == (
        1,
        50,
        1,
    )


def test_data_that_does_not_fit_is_an_unexpected_shape() -> None:
    with pytest.raises(UnknownApiError, match=r"GET /me answered in an unexpected shape: id"):
        parse_data(Me, {"email": "a@b.c"}, "GET", "/me")
    with pytest.raises(UnknownApiError, match="not a list"):
        build_page(ProjectSummary, {"id": 1}, None, "/projects", {"page": 1, "pageSize": 50})


def test_a_post_answer_that_does_not_fit_is_outcome_unknown() -> None:
    with pytest.raises(OutcomeUnknownError) as info:
        parse_post_data(Me, {"nothing": True}, "/projects", "look at the projects")
    assert "succeeded but its answer could not be read" in str(info.value)
    assert info.value.hint == "look at the projects"
