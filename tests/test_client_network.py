"""The client over real sockets, where the failures are the network's: a server that accepts
and never answers, TLS that cannot work, a redirect to a URL that cannot be fetched. Each
must fail in bounded time, and only what may succeed later is retried."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_client_fakes import KEY

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.errors import TLS_CERTIFICATE, TLS_PROTOCOL
from parafraim_build.api.models import CreateProjectRequest
from parafraim_build.api.retry import RetryPolicy
from parafraim_build.config import ApiSettings
from parafraim_build.errors import (
    ApiError,
    BuildError,
    DownloadError,
    OutcomeUnknownError,
    TransientError,
)

SHORT = httpx.Timeout(0.3)
POLICY = RetryPolicy(max_attempts=2, stream_read_timeout=0.3, stream_max_failures=2)
BOUND = 5.0
"""Seconds any failure here may take: a few 0.3 s timeouts, never the 30 s defaults."""


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def client_for(base_url: str) -> ParafraimClient:
    """A real client with short timeouts and no backoff waits."""
    return ParafraimClient(
        ApiSettings(base_url=base_url, api_key=KEY),
        retry=POLICY,
        timeout=SHORT,
        sleep=_no_wait,
        jitter=lambda: 0.0,
    )


def timed(scenario: Callable[[], Awaitable[object]]) -> tuple[BuildError, float]:
    """Run ``scenario()`` expecting one of our errors; return it and how long it took."""
    started = time.monotonic()
    with pytest.raises(BuildError) as info:
        asyncio.run(scenario())
    return info.value, time.monotonic() - started


class SilentServer:
    """Accepts every connection, reads nothing, answers nothing, until closed."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_a_get_to_a_hung_server_times_out_and_gives_up(silent: SilentServer) -> None:
    async def scenario() -> None:
        async with client_for(f"http://127.0.0.1:{silent.port}") as client:
            await client.me()

    error, took = timed(scenario)
    assert isinstance(error, TransientError)
    assert "timed out waiting for the answer" in str(error)
    assert "after 2 attempts" in str(error)
    assert took < BOUND
    assert len(silent.accepted) == 2


def test_a_post_to_a_hung_server_is_outcome_unknown_at_once(silent: SilentServer) -> None:
    async def scenario() -> None:
        async with client_for(f"http://127.0.0.1:{silent.port}") as client:
            await client.create_project(CreateProjectRequest(name="x"))

    error, took = timed(scenario)
    assert isinstance(error, OutcomeUnknownError)  # the body was sent: never retried
    assert took < BOUND
    assert len(silent.accepted) == 1


def test_a_task_wait_on_a_hung_server_ends(silent: SilentServer) -> None:
    async def scenario() -> None:
        async with client_for(f"http://127.0.0.1:{silent.port}") as client:
            await client.wait_for_task("p1", "t1", timeout=2.0)

    error, took = timed(scenario)
    assert isinstance(error, TransientError)
    assert took < BOUND


def test_a_download_from_a_hung_server_ends(silent: SilentServer, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with client_for("https://parafraim.test") as client:
            await client.download(f"http://127.0.0.1:{silent.port}/v.mp4", tmp_path / "v.mp4")

    error, took = timed(scenario)
    assert isinstance(error, DownloadError)
    assert "gave up after 2 attempts" in str(error)
    assert took < BOUND
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_never_accepts_is_a_connect_timeout() -> None:
    # A listen backlog that is full: the kernel leaves new connections unanswered.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as full:
        port = full.getsockname()[1]
        fillers = []
        try:
            for _ in range(3):
                filler = socket.socket()
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
                fillers.append(filler)

            async def scenario() -> None:
                async with client_for(f"http://127.0.0.1:{port}") as client:
                    await client.me()

            error, took = timed(scenario)
        finally:
            for filler in fillers:
                filler.close()
    assert isinstance(error, TransientError)
    assert took < BOUND


# ------------------------------------------------------------------------- TLS


class _Answer(http.server.BaseHTTPRequestHandler):
    """Plain HTTP: a redirect to an ftp:// URL for ``/redirect``, else a small JSON body."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "ftp://files.example/video.mp4")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"success": true, "data": {"id": "me"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextlib.contextmanager
def http_server(context: ssl.SSLContext | None = None) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def me_over_https(port: int) -> tuple[BuildError, float, dict[str, int]]:
    """``GET /me`` over https to a local port: the error, how long it took, the requests."""
    attempts: dict[str, int] = {}

    async def scenario() -> None:
        async with client_for(f"https://127.0.0.1:{port}") as client:
            try:
                await client.me()
            finally:
                attempts.update(client.request_counts)

    error, took = timed(scenario)
    return error, took, attempts


def test_https_to_a_plain_http_port_is_a_final_tls_error() -> None:
    with http_server() as port:
        error, took, attempts = me_over_https(port)
    assert type(error) is ApiError
    assert error.code == TLS_PROTOCOL
    assert attempts == {"GET": 1}
    assert "not retried" in str(error)
    assert "plain http" in (error.hint or "")
    assert took < BOUND


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a cert")
def test_an_untrusted_certificate_is_a_final_tls_error(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with http_server(context) as port:
        error, took, attempts = me_over_https(port)
    assert type(error) is ApiError
    assert error.code == TLS_CERTIFICATE
    assert "certificate" in str(error)
    assert "SSL_CERT_FILE" in (error.hint or "")
    assert attempts == {"GET": 1}
    assert took < BOUND


def test_a_redirect_to_an_ftp_url_is_a_final_download_error(tmp_path: Path) -> None:
    with http_server() as port:

        async def scenario() -> None:
            async with client_for("https://parafraim.test") as client:
                await client.download(f"http://127.0.0.1:{port}/redirect", tmp_path / "v.mp4")

        error, took = timed(scenario)
    assert isinstance(error, DownloadError)
    assert "not retried" in str(error)
    assert "http:// and https://" in (error.hint or "")
    assert took < BOUND
    assert list(tmp_path.iterdir()) == []
