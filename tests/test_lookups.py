"""``api/lookups.py``: one question per client, answered from every page, with the short retry
budget of an interactive command."""

from __future__ import annotations

import asyncio
import time

import pytest
from test_client_fakes import BASE_URL, KEY, FakeParafraim, html_page, refused

from parafraim_build.api import lookups
from parafraim_build.config import ApiSettings
from parafraim_build.errors import TransientError, UnauthorizedError

SETTINGS = ApiSettings(base_url=BASE_URL, api_key=KEY)


def test_fetch_me_and_credits() -> None:
    fake = FakeParafraim()
    me = asyncio.run(lookups.fetch_me(SETTINGS, transport=fake.transport()))
    credits = asyncio.run(lookups.fetch_credits(SETTINGS, transport=fake.transport()))
    assert (me.plan, me.email) == ("pro", "a@b.c")
    assert credits.balance == 1000
    assert [r.url.path for r in fake.requests] == ["/api/v1/me", "/api/v1/credits"]


def test_fetch_templates_reads_every_page_with_the_filters() -> None:
    fake = FakeParafraim(template_count=160)
    found = asyncio.run(
        lookups.fetch_templates(SETTINGS, category="news", q="template", transport=fake.transport())
    )
    assert len(found) == 54
    assert {t.category for t in found} == {"news"}
    assert [r.url.params["page"] for r in fake.requests] == ["1", "2"]
    assert all(r.url.params["q"] == "template" for r in fake.requests)


def test_fetch_projects_reads_every_page() -> None:
    fake = FakeParafraim(project_count=51)
    found = asyncio.run(lookups.fetch_projects(SETTINGS, transport=fake.transport()))
    assert [p.id for p in found] == [p["id"] for p in fake.projects]
    assert len(fake.requests) == 2


def test_a_lookup_gives_up_after_three_attempts() -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", *[refused() for _ in range(10)])
    started = time.monotonic()
    with pytest.raises(TransientError) as info:
        asyncio.run(lookups.fetch_me(SETTINGS, transport=fake.transport()))
    assert fake.count("GET /me") == lookups.LOOKUP_POLICY.max_attempts == 3
    assert "after 3 attempts" in str(info.value)
    assert time.monotonic() - started < lookups.LOOKUP_POLICY.max_elapsed


def test_a_lookup_survives_one_error_page() -> None:
    fake = FakeParafraim()
    fake.fail("GET /credits", html_page(503))
    credits = asyncio.run(lookups.fetch_credits(SETTINGS, transport=fake.transport()))
    assert credits.balance == 1000
    assert fake.count("GET /credits") == 2


def test_a_refused_key_is_not_retried() -> None:
    fake = FakeParafraim(api_key="pfk_another_key_entirely")
    with pytest.raises(UnauthorizedError):
        asyncio.run(lookups.fetch_projects(SETTINGS, transport=fake.transport()))
    assert len(fake.requests) == 1
