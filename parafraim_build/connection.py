"""Opening the API for a build: the real service from the environment, or the local engine.

``open_connection`` is an async context manager that yields a ``Connection``: a client, the
identity the lock and the run cache record (the base URL, or ``local://engine`` for the
embedded engine, whose port changes on every run) and whether prices are the engine's.
``embedded_engine`` starts the same engine for a look-up (``credits --local``) and yields the
settings that reach it; by default it only reads the state, so a look-up changes nothing of
it and works beside a running ``apply --local``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from parafraim_build.api.client import ParafraimClient
from parafraim_build.config import ApiSettings, settings_from_env
from parafraim_build.errors import ConfigError
from parafraim_build.workspace import LOCAL_IDENTITY, Workspace

if TYPE_CHECKING:
    from parafraim_build.emulator import RunningEngine

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
    read_only: bool = False,
) -> AsyncIterator[Connection]:
    """Connect to the service ``workspace`` is built against.

    For ``--local`` the engine starts in a background thread with its state in the
    workspace, and stops (finishing its writes) when the block ends. ``read_only`` (a plan,
    which only looks templates up) reads that state without changing it, as a look-up does:
    interrupted work is left for the next ``apply --local`` to find as it was.
    """
    if not workspace.local:
        settings = settings or settings_from_env()
        async with ParafraimClient(settings, transport=transport) as client:
            yield Connection(client=client, identity=settings.base_url, local=False)
        return

    if read_only:
        state_dir = lookup_state_dir(workspace)
        engine = await asyncio.to_thread(_start_local_engine, state_dir, read_only=True)
    else:
        engine = await asyncio.to_thread(_start_build_engine, workspace)
    try:
        async with ParafraimClient(_settings_for(engine), transport=transport) as client:
            yield Connection(client=client, identity=LOCAL_IDENTITY, local=True)
    finally:
        await asyncio.to_thread(engine.stop)


def open_read_only_connection(workspace: Workspace) -> AbstractAsyncContextManager[Connection]:
    """``open_connection`` for a plan: a ``--local`` engine that never changes its state."""
    return open_connection(workspace, read_only=True)


@contextmanager
def embedded_engine(state_dir: Path | None, *, read_only: bool = True) -> Iterator[ApiSettings]:
    """The engine of ``--local`` for the block, and the settings that reach it.

    ``state_dir`` is the engine state ``--local`` builds keep (``Workspace.engine_state_dir``);
    ``None`` starts a fresh engine in memory, which writes nothing. ``read_only`` (a look-up)
    reads the state as it is now and never changes it: no lock is taken, interrupted work is
    not resumed (the next ``apply --local`` must find it as it was left), nothing is saved.
    ``read_only=False`` owns the state while the block runs, as a build's engine does (tests
    use it to hold a state the way a running ``apply --local`` would).
    """
    engine = _start_local_engine(state_dir, read_only=read_only)
    try:
        yield _settings_for(engine)
    finally:
        engine.stop()


def lookup_state_dir(workspace: Workspace) -> Path | None:
    """The engine state a look-up should read: the workspace's, once a ``--local`` run made it.

    Before any local run there is nothing to read, and a look-up must not leave a state
    folder behind: ``None`` (a fresh engine in memory, which answers the same).
    """
    state_dir = workspace.engine_state_dir
    return state_dir if state_dir.is_dir() else None


def _start_build_engine(workspace: Workspace) -> RunningEngine:
    """The engine of a ``--local`` build, owning the workspace's state while it runs."""
    from parafraim_build.emulator.store import StateBusyError

    try:
        return _start_local_engine(workspace.engine_state_dir)
    except StateBusyError as exc:
        # The engine's own hint names --state-dir, an option of the engine command only.
        raise ConfigError(
            f"the local engine's state of {workspace.spec_path.name} is in use "
            f"({workspace.engine_state_dir})",
            hint="another engine uses it (an `apply --local` of this spec, or "
            "`parafraim-build emulator --state-dir` on that folder); try again when it ends",
        ) from exc


def _start_local_engine(state_dir: Path | None, *, read_only: bool = False) -> RunningEngine:
    # Imported here: the engine pulls in uvicorn and starlette, which a real run never needs.
    from parafraim_build.emulator import EngineConfig, start_engine

    config = EngineConfig(
        api_key=LOCAL_API_KEY,
        state_dir=state_dir,
        task_seconds=LOCAL_TASK_SECONDS,
        render_seconds=LOCAL_RENDER_SECONDS,
        credits=1_000_000,
        project_limit=10_000,
        read_only=read_only,
    )
    return start_engine(config)


def _settings_for(engine: RunningEngine) -> ApiSettings:
    return ApiSettings(base_url=engine.base_url, api_key=engine.api_key)
