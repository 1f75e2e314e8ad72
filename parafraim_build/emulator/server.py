"""Running the engine: uvicorn on a background thread, for tests, ``--local`` and the CLI.

``start_engine`` binds the socket itself (so port 0 gives a free port with no race), serves
the app on a thread with its own event loop and returns once connections are accepted.
``RunningEngine.stop`` ends open streams first, then the server, then stops renders in
progress (ffmpeg is killed, the job resumes after a restart) and finishes the last writes, so
a stop takes moments and leaves a consistent state directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

import uvicorn

from parafraim_build.emulator.app import build_app
from parafraim_build.emulator.config import EngineConfig
from parafraim_build.emulator.engine import Engine
from parafraim_build.errors import ConfigError

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 60.0
GRACEFUL_SHUTDOWN_SECONDS = 5
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

T = TypeVar("T")


class _DroppedResponseFilter(logging.Filter):
    """Hides uvicorn's complaint about the responses the engine drops on purpose.

    Installed only while an engine with ``lost_response_rate`` runs: that fault answers by
    closing the connection mid-body, which uvicorn reports as an application error.
    """

    MESSAGE = "ASGI callable returned without completing response."

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.MESSAGE


_DROP_FILTER = _DroppedResponseFilter()
_drop_filter_users = 0
_drop_filter_lock = threading.Lock()


def _use_drop_filter(active: bool) -> None:
    """Install the filter for the first engine that drops responses, remove it after the last."""
    global _drop_filter_users
    with _drop_filter_lock:
        _drop_filter_users += 1 if active else -1
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if _drop_filter_users > 0:
            uvicorn_errors.addFilter(_DROP_FILTER)  # no-op when already installed
        else:
            uvicorn_errors.removeFilter(_DROP_FILTER)


def is_loopback(host: str) -> bool:
    """True for hosts only this machine can reach."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise ConfigError(
            f"the engine cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (0 picks a free one) or --host",
        ) from exc
    sock.setblocking(False)
    return sock


class RunningEngine:
    """A started engine. Use it as a context manager, or call ``stop()``."""

    def __init__(
        self,
        engine: Engine,
        server: uvicorn.Server,
        thread: threading.Thread,
        loop: asyncio.AbstractEventLoop,
        base_url: str,
    ) -> None:
        self.engine = engine
        self.config: EngineConfig = engine.config
        self.api_key: str = engine.config.api_key
        self.base_url = base_url
        self._server = server
        self._thread = thread
        self._loop = loop
        self._stopped = False

    def __repr__(self) -> str:
        return f"RunningEngine(base_url={self.base_url!r}, stopped={self._stopped})"

    def __enter__(self) -> RunningEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """The base of every API path: ``<base_url>/api/v1``."""
        return f"{self.base_url}/api/v1"

    @property
    def running(self) -> bool:
        """Started, not stopped, and its server thread alive."""
        return not self._stopped and self._thread.is_alive()

    def _call(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        async def run() -> T:
            return await factory()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def stats(self) -> dict[str, Any]:
        """The same as ``GET /_engine/stats``."""
        return self._call(lambda: _value(self.engine.stats_snapshot))

    def ledger(self) -> list[dict[str, Any]]:
        """The same as ``GET /_engine/ledger``."""
        return self._call(lambda: _value(self.engine.ledger))

    def stop(self) -> None:
        """End streams, stop the server, stop renders in progress, finish pending writes."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(self.engine.begin_shutdown)
            self._server.should_exit = True
            self._thread.join(STOP_TIMEOUT_SECONDS)
        if self.engine.config.faults.lost_response_rate > 0:
            _use_drop_filter(False)


async def _value(getter: Callable[[], T]) -> T:
    return getter()


DEFAULT_CONFIG = EngineConfig()


def start_engine(
    config: EngineConfig = DEFAULT_CONFIG, *, host: str = "127.0.0.1", port: int = 0
) -> RunningEngine:
    """Start an engine on ``host:port`` (0: a free port) in a background thread.

    Returns once the engine accepts connections. Raises ``ConfigError`` for an unusable
    config, state directory or address.
    """
    problems = config.problems()
    if problems:
        raise ConfigError("the engine cannot start: " + "; ".join(problems))
    return serve_engine(Engine(config), host=host, port=port)


def serve_engine(engine: Engine, *, host: str = "127.0.0.1", port: int = 0) -> RunningEngine:
    """Serve an already built ``Engine`` (tests inject its editor, renderer or clock)."""
    try:
        sock = _bind(host, port)
    except BaseException:
        engine.close_unstarted()
        raise
    bound_port = sock.getsockname()[1]
    base_url = f"http://{_url_host(host)}:{bound_port}"
    engine.core.listening_on(base_url)

    uv_config = uvicorn.Config(
        # Reachable from other machines, the admin endpoints need the key: the ledger shows
        # every request body.
        build_app(engine, protect_admin=not is_loopback(host)),
        log_config=None,
        access_log=False,
        lifespan="on",
        http="h11",
        loop="asyncio",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(uv_config)
    loops: list[asyncio.AbstractEventLoop] = []
    failures: list[BaseException] = []

    def serve() -> None:
        async def main() -> None:
            loops.append(asyncio.get_running_loop())
            await server.serve(sockets=[sock])

        try:
            asyncio.run(main())
        except BaseException as exc:  # uvicorn exits the thread on a failed startup
            failures.append(exc)
            logger.error("the engine stopped on an error: %r", exc)
            engine.close_unstarted()
        finally:
            sock.close()

    if engine.config.faults.lost_response_rate > 0:
        _use_drop_filter(True)
    thread = threading.Thread(target=serve, name=f"parafraim-engine-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(STOP_TIMEOUT_SECONDS)
            if engine.config.faults.lost_response_rate > 0:
                _use_drop_filter(False)
            reason = repr(failures[0]) if failures else "it did not start in time"
            raise ConfigError(f"the engine failed to start: {reason}")
        time.sleep(0.005)
    return RunningEngine(engine, server, thread, loops[0], base_url)


def _url_host(host: str) -> str:
    """How clients on this machine reach a server bound to ``host``."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def serve_until_stopped(
    config: EngineConfig,
    *,
    host: str,
    port: int,
    on_ready: Callable[[RunningEngine], None],
) -> None:
    """Run an engine until ^C (``KeyboardInterrupt`` propagates after a clean stop) or
    SIGTERM (returns after a clean stop). ``on_ready`` is called once it accepts requests."""
    stop_requested = threading.Event()
    # Signal handlers can only be set from the main thread; elsewhere ^C/SIGTERM are not ours.
    owns_signals = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if owns_signals else None
    running = start_engine(config, host=host, port=port)
    try:
        if owns_signals:
            signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
        on_ready(running)
        while running.running and not stop_requested.wait(0.25):
            pass
    finally:
        running.stop()
        if owns_signals:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
