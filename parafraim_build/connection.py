"""Opening the API for a build: the real service from the environment, or the local engine.

``open_connection`` is an async context manager that yields a ``Connection``: a client, the
identity the lock and the run cache record (the base URL, or ``local://engine`` for the
embedded engine, whose port changes on every run) and whether prices are the engine's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from parafraim_build.api.client import ParafraimClient
from parafraim_build.config import ApiSettings, settings_from_env
from parafraim_build.workspace import LOCAL_IDENTITY, Workspace

LOCAL_API_KEY = "pfk_local_embedded"
LOCAL_TASK_SECONDS = 0.5
LOCAL_RENDER_SECONDS = 0.5


@dataclass(frozen=True)
class Connection:
    """A client and the identity of the service it talks to."""

    client: ParafraimClient
    identity: str
    local: bool


@asynccontextmanager
async def open_connection(
    workspace: Workspace,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    settings: ApiSettings | None = None,
) -> AsyncIterator[Connection]:
    """Connect to the service ``workspace`` is built against.

    For ``--local`` the engine starts in a background thread with its state in the
    workspace, and stops (finishing its writes) when the block ends.
    """
    if not workspace.local:
        settings = settings or settings_from_env()
        async with ParafraimClient(settings, transport=transport) as client:
            yield Connection(client=client, identity=settings.base_url, local=False)
        return

    # Imported here: the engine pulls in uvicorn and starlette, which a real run never needs.
    from parafraim_build.emulator import EngineConfig, start_engine

    config = EngineConfig(
        api_key=LOCAL_API_KEY,
        state_dir=workspace.engine_state_dir,
        task_seconds=LOCAL_TASK_SECONDS,
        render_seconds=LOCAL_RENDER_SECONDS,
        credits=1_000_000,
        project_limit=10_000,
    )
    engine = await asyncio.to_thread(start_engine, config)
    try:
        local_settings = ApiSettings(base_url=engine.base_url, api_key=engine.api_key)
        async with ParafraimClient(local_settings, transport=transport) as client:
            yield Connection(client=client, identity=LOCAL_IDENTITY, local=True)
    finally:
        await asyncio.to_thread(engine.stop)
