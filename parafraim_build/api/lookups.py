"""Account and catalogue look-ups, one coroutine each: what the account commands call.

Each opens a client for one question and closes it. Look-ups are interactive, so they retry
less than a build does: a user at a prompt would rather see "could not connect" after a
couple of seconds than wait out a long backoff.
"""

from __future__ import annotations

import httpx

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.models import Credits, Me, ProjectSummary, TemplateSummary
from parafraim_build.api.retry import RetryPolicy
from parafraim_build.config import ApiSettings

LOOKUP_POLICY = RetryPolicy(max_attempts=3, max_elapsed=15.0)


def _client(settings: ApiSettings, transport: httpx.AsyncBaseTransport | None) -> ParafraimClient:
    return ParafraimClient(settings, transport=transport, retry=LOOKUP_POLICY)


async def fetch_me(
    settings: ApiSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Me:
    """The account the key belongs to."""
    async with _client(settings, transport) as client:
        return await client.me()


async def fetch_credits(
    settings: ApiSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Credits:
    """Balance, allowance, usage and recent transactions."""
    async with _client(settings, transport) as client:
        return await client.credits()


async def fetch_templates(
    settings: ApiSettings,
    *,
    q: str | None = None,
    category: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[TemplateSummary]:
    """Every template matching ``q`` and ``category``, all pages."""
    async with _client(settings, transport) as client:
        return [template async for template in client.iter_templates(category=category, q=q)]


async def fetch_projects(
    settings: ApiSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> list[ProjectSummary]:
    """Every project of the account, all pages."""
    async with _client(settings, transport) as client:
        return [project async for project in client.iter_projects()]
