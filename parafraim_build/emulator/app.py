"""The engine's HTTP face: Starlette routes for every endpoint of ``api.md`` and a few more.

Each API route goes through one wrapper, in this order: count the request, hold it for the
injected latency, maybe answer with an injected HTML 502/503 page (before anything is
processed, so a retry is always safe), check the key, dispatch on the method (``HEAD`` is
answered like ``GET``, without a body), and translate an ``ApiError`` into the documented
envelope. Handlers only parse the request and call the ``Engine``. A body is read only up to
``MAX_BODY_BYTES``: a larger ``Content-Length`` is refused before reading anything.

Outside ``/api/v1``: signed file links (``/files/...``) and the admin endpoints
(``/_engine/stats``, ``/_engine/ledger``: not counted, no faults). They need no key on a
loopback address; an engine listening beyond this machine (``protect_admin``) asks for the API
key there too, since the ledger shows every request body.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from parafraim_build import __version__
from parafraim_build.emulator.engine import Engine
from parafraim_build.emulator.faults import error_page, retry_after
from parafraim_build.emulator.validation import decode_json, page_params, query_int
from parafraim_build.errors import (
    ApiError,
    ApiValidationError,
    ConcurrencyLimitError,
    NotFoundError,
    UnauthorizedError,
)

logger = logging.getLogger(__name__)

API = "/api/v1"
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_BODY_BYTES = 1_000_000
RETRY_AFTER_SECONDS = "1"

STATUS_BY_CODE = {
    "VALIDATION": 400,
    "UNAUTHORIZED": 401,
    "INSUFFICIENT_CREDITS": 402,
    "PROJECT_LIMIT": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "TASK_RUNNING": 409,
    "NO_PREVIEW": 409,
    "CONCURRENCY_LIMIT": 429,
}

Handler = Callable[[Request], Awaitable[Response]]


def ok(data: Any, status: int = 200, pagination: dict[str, int] | None = None) -> JSONResponse:
    """The success envelope."""
    content: dict[str, Any] = {"success": True, "data": data}
    if pagination is not None:
        content["pagination"] = pagination
    return JSONResponse(content, status_code=status)


def failure(error: ApiError, *, wait: str = RETRY_AFTER_SECONDS) -> JSONResponse:
    """The failure envelope, with a sensible status (clients decide on ``error.code``).

    CONCURRENCY_LIMIT carries ``Retry-After: wait`` (whole seconds).
    """
    status = error.status or STATUS_BY_CODE.get(error.code, 400)
    headers = {"Retry-After": wait} if error.code == "CONCURRENCY_LIMIT" else None
    content = {"success": False, "error": {"code": error.code, "message": error.message}}
    return JSONResponse(content, status_code=status, headers=headers)


class DroppedResponse(Response):
    """Sends the head and half the body of ``response``, then drops the connection.

    The injected "lost response" (``lost_response_rate``): the request was processed, but the
    client cannot know. uvicorn closes the connection because the body is incomplete.
    """

    def __init__(self, response: Response) -> None:
        self.inner = response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the head and half the body, then return without finishing the response."""
        body = bytes(self.inner.body)
        await send(
            {
                "type": "http.response.start",
                "status": self.inner.status_code,
                "headers": self.inner.raw_headers,
            }
        )
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )


def head_only(response: Response) -> Response:
    """``response`` as the answer to a HEAD: the same status and headers, no body.

    A streaming response is never started (a HEAD on a task stream must not follow the task).
    """
    return Response(status_code=response.status_code, headers=dict(response.headers))


class Api:
    """The routes of one engine."""

    def __init__(self, engine: Engine, *, protect_admin: bool = False) -> None:
        self.engine = engine
        self.protect_admin = protect_admin
        self._key = engine.config.api_key.encode()

    def routes(self) -> list[Route]:
        """Every route: the API under ``/api/v1``, file links, admin endpoints, the root."""
        engine_routes = [
            self._api("/me", GET=self.me),
            self._api("/credits", GET=self.credits),
            self._api("/projects", GET=self.list_projects, POST=self.create_project),
            self._api("/projects/{projectId}/messages", POST=self.send_message),
            self._api("/projects/{projectId}/render", POST=self.start_render),
            self._api("/projects/{projectId}/tasks/{taskId}/stream", GET=self.stream),
            self._api("/tasks/{taskId}", GET=self.get_task),
            self._api("/render-jobs/{jobId}", GET=self.get_job),
            self._api("/templates", GET=self.list_templates),
            self._api("/templates/{templateId}/use", POST=self.use_template),
            self._api("/{path:path}", unknown=True),
            Route("/files/{name}", self.file, methods=["GET", "HEAD"]),
            Route("/_engine/stats", self.admin_stats, methods=["GET"]),
            Route("/_engine/ledger", self.admin_ledger, methods=["GET"]),
            Route("/", self.index, methods=["GET"]),
        ]
        return engine_routes

    # ------------------------------------------------------------ the wrapper

    def _api(self, template: str, *, unknown: bool = False, **handlers: Handler) -> Route:
        path = API + template
        label = f"{API}/*" if unknown else path

        async def endpoint(request: Request) -> Response:
            method = request.method
            self.engine.stats.count(f"{method} {label}")
            faults = self.engine.core.faults
            delay = faults.latency_seconds()
            if delay:
                await asyncio.sleep(delay)
            status = faults.server_error()
            if status is not None:
                return HTMLResponse(
                    error_page(status), status, headers={"Retry-After": RETRY_AFTER_SECONDS}
                )
            try:
                self._authorize(request)
                if unknown:
                    raise NotFoundError(f"no endpoint {method} {request.url.path}")
                handler = handlers.get("GET" if method == "HEAD" else method)
                if handler is None:
                    raise ApiError(
                        f"{method} is not allowed on {path}; use {', '.join(handlers)}",
                        code="METHOD_NOT_ALLOWED",
                    )
                response = await handler(request)
                if method == "HEAD":
                    response = head_only(response)
            except ApiError as error:
                return failure(error)
            except Exception:
                logger.exception("the engine failed on %s %s", method, path)
                return failure(
                    ApiError("the local engine failed; see its log", code="INTERNAL", status=500)
                )
            if method == "POST" and faults.lose_response():
                return DroppedResponse(response)
            return response

        return Route(path, endpoint, methods=ALL_METHODS, name=label)

    def _authorize(self, request: Request) -> None:
        header = request.headers.get("authorization")
        if not header:
            raise UnauthorizedError("Missing API key: send Authorization: Bearer pfk_...")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith("pfk_"):
            raise UnauthorizedError("Malformed API key: expected Authorization: Bearer pfk_...")
        if not hmac.compare_digest(token.encode(), self._key):
            raise UnauthorizedError("Invalid API key")

    @staticmethod
    async def _body(request: Request) -> Any:
        """The JSON body, read at most ``MAX_BODY_BYTES`` far (a client could send gigabytes)."""
        too_large = ApiValidationError(f"request body is larger than {MAX_BODY_BYTES} bytes")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_large
            chunks.append(chunk)
        return decode_json(b"".join(chunks))

    async def _admin(self, request: Request, build: Callable[[], Any]) -> Response:
        """An admin answer; off loopback, only for a caller with the API key."""
        if self.protect_admin:
            try:
                self._authorize(request)
            except ApiError as error:
                return failure(error)
        return JSONResponse(build())

    # --------------------------------------------------------------- handlers

    async def me(self, request: Request) -> Response:
        """``GET /me``."""
        return ok(self.engine.me())

    async def credits(self, request: Request) -> Response:
        """``GET /credits``."""
        return ok(self.engine.credits())

    async def list_projects(self, request: Request) -> Response:
        """``GET /projects``."""
        page, size = page_params(request.query_params)
        items, pagination = self.engine.list_projects(page, size)
        return ok(items, pagination=pagination)

    async def create_project(self, request: Request) -> Response:
        """``POST /projects``."""
        return ok(await self.engine.create_project(await self._body(request)), 201)

    async def send_message(self, request: Request) -> Response:
        """``POST /projects/{id}/messages`` (refused while an injected burst lasts)."""
        burst_left = self.engine.core.faults.concurrency_burst()
        if burst_left is not None:
            error = ConcurrencyLimitError(
                "the account reached its concurrent task limit "
                "(injected by --concurrency-burst-rate); retry later"
            )
            return failure(error, wait=retry_after(burst_left))
        project_id = request.path_params["projectId"]
        data = await self.engine.tasks.accept(project_id, await self._body(request))
        return ok(data, 202)

    async def start_render(self, request: Request) -> Response:
        """``POST /projects/{id}/render``."""
        project_id = request.path_params["projectId"]
        data = await self.engine.renders.accept(project_id, await self._body(request))
        return ok(data, 202)

    async def stream(self, request: Request) -> Response:
        """``GET /projects/{id}/tasks/{taskId}/stream?from=``: SSE."""
        after = query_int(request.query_params, "from", 0)
        if after < 0:
            raise ApiValidationError("from: must be a non-negative integer")
        frames = self.engine.tasks.open_stream(
            request.path_params["projectId"], request.path_params["taskId"], after
        )
        return StreamingResponse(
            frames,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def get_task(self, request: Request) -> Response:
        """``GET /tasks/{id}``."""
        return ok(self.engine.tasks.get(request.path_params["taskId"]))

    async def get_job(self, request: Request) -> Response:
        """``GET /render-jobs/{id}``."""
        return ok(self.engine.renders.get(request.path_params["jobId"]))

    async def list_templates(self, request: Request) -> Response:
        """``GET /templates``."""
        params = request.query_params
        page, size = page_params(params)
        items, pagination = self.engine.list_templates(
            params.get("category"), params.get("q"), page, size
        )
        return ok(items, pagination=pagination)

    async def use_template(self, request: Request) -> Response:
        """``POST /templates/{id}/use``."""
        template_id = request.path_params["templateId"]
        return ok(await self.engine.use_template(template_id, await self._body(request)), 201)

    # ------------------------------------------------------ outside /api/v1

    async def file(self, request: Request) -> Response:
        """``GET /files/{name}?expires=&sig=``: a rendered video behind a signed link."""
        self.engine.stats.count(f"{request.method} /files/{{name}}")
        try:
            path, media_type = self.engine.file_for(
                request.path_params["name"],
                request.query_params.get("expires"),
                request.query_params.get("sig"),
            )
        except ApiError as error:
            return failure(error)
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private"})

    async def admin_stats(self, request: Request) -> Response:
        """``GET /_engine/stats``."""
        return await self._admin(request, self.engine.stats_snapshot)

    async def admin_ledger(self, request: Request) -> Response:
        """``GET /_engine/ledger``."""
        return await self._admin(request, self.engine.ledger)

    async def index(self, request: Request) -> Response:
        """``GET /``: what this server is."""
        return JSONResponse(
            {
                "engine": "parafraim-build local engine (scripted editor, no AI)",
                "version": __version__,
                "api": f"{self.engine.core.base_url}{API}",
                "admin": ["/_engine/stats", "/_engine/ledger"],
            }
        )


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    if status == 405:
        return failure(ApiError("method not allowed", code="METHOD_NOT_ALLOWED"))
    return failure(NotFoundError(f"no route {request.method} {request.url.path}", status=status))


def build_app(engine: Engine, *, protect_admin: bool = False) -> Starlette:
    """The ASGI app of ``engine``; its lifespan starts and stops the engine's runners.

    ``protect_admin`` asks for the API key on the admin endpoints (an engine reachable from
    other machines).
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()

    return Starlette(
        routes=Api(engine, protect_admin=protect_admin).routes(),
        exception_handlers={HTTPException: _not_found},
        lifespan=lifespan,
    )
