"""The local Parafraim engine: the whole API over a real socket, with real renders.

A Starlette app served by uvicorn that behaves like the API of ``api.md``, endpoint by
endpoint and error by error: auth, the envelope, validation at the documented limits,
pagination, plan and concurrency limits, a credit ledger with precharges and refunds, message
tasks streamed as SSE with resumable ids, the render lifecycle with real MP4/GIF files made by
ffmpeg, state that survives a restart, and seeded fault injection. Edits are made by a
scripted editor (``editor.py``): it is no AI.

Modules: ``config`` (what an engine is), ``server`` (start/stop), ``app`` (routes),
``engine`` (account, projects, templates, files), ``tasks`` and ``renders`` (the two kinds of
background work), ``state`` and ``store`` (the model and its atomic persistence), ``faults``,
``pricing``, ``signing``, ``validation``, ``views``, ``stats``; the content side is
``composition``, ``editor``, ``render`` and ``templates``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parafraim_build.emulator.config import EngineConfig, FaultConfig

if TYPE_CHECKING:
    from parafraim_build.emulator.server import RunningEngine, start_engine

__all__ = ["EngineConfig", "FaultConfig", "RunningEngine", "start_engine"]


def __getattr__(name: str) -> Any:
    # The server pulls in uvicorn, starlette and Pillow: loaded only when an engine is
    # started, so that importing the package for its config (every CLI command does, for
    # the emulator command's defaults) stays cheap.
    if name in ("RunningEngine", "start_engine"):
        from parafraim_build.emulator import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
