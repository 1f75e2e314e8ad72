"""The one way parafraim-build talks to Parafraim: an async client over ``httpx.AsyncClient``.

One method per endpoint of ``api.md``, each returning the shared response models. Around them:

* every attempt is classified (``api.errors``) and retried or not by a pure decision
  (``api.retry``): GETs on transient failures, POSTs only when nothing can have been processed,
  CONCURRENCY_LIMIT and TASK_RUNNING after a backoff; a POST whose fate is unknown raises
  ``OutcomeUnknownError`` with what to check;
* list endpoints are followed to their last page by ``iter_projects`` / ``iter_templates``;
* ``wait_for_task`` / ``wait_for_render`` (``api.waiting``) and ``download`` (``api.download``)
  do the long waits and the file transfer;
* every request is logged at DEBUG on ``parafraim_build.api``, redacted, and counted in
  ``request_counts``.

The key is sent only to the API's origin and never appears in a message, a log line or a repr.
One instance is safe to share between many asyncio tasks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel

from parafraim_build import __version__
from parafraim_build.api import download as _download
from parafraim_build.api import waiting
from parafraim_build.api.download import Downloaded, UrlGoneError, UrlRejectedError, safe_url
from parafraim_build.api.errors import (
    Failure,
    FailureKind,
    classify_exception,
    classify_response,
    envelope_data,
    error_for,
    unusable_error,
)
from parafraim_build.api.models import (
    PAGE_SIZE_MAX,
    CreateProjectRequest,
    Credits,
    Me,
    MessageAccepted,
    Page,
    ProjectCreated,
    ProjectSummary,
    RenderConfig,
    RenderJob,
    RenderRequest,
    RenderStarted,
    SendMessageRequest,
    Task,
    TaskEvent,
    TemplateSummary,
    UseTemplateRequest,
)
from parafraim_build.api.pagination import build_page, iter_pages, parse_data, parse_post_data
from parafraim_build.api.retry import RetryPolicy, decide, outcome_unknown
from parafraim_build.api.sse import SSEDecoder, task_event
from parafraim_build.config import ApiSettings
from parafraim_build.errors import DownloadError, TransientError
from parafraim_build.logs import redact

__all__ = ["USER_AGENT", "Downloaded", "ParafraimClient"]

log = logging.getLogger("parafraim_build.api")

USER_AGENT = f"parafraim-build/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_ERROR_BODY_LIMIT = 64 * 1024

# What to look at before trying again, per POST whose outcome is unknown.
_CHECK_CREATE = "run `parafraim-build projects` to see whether the project was created"
_CHECK_MESSAGE = (
    "open the project in Parafraim to see whether the edit started before sending it again"
)
_CHECK_RENDER = (
    "run `parafraim-build credits` and look for a render precharge before rendering again"
)


class ParafraimClient:
    """An async client for the Parafraim API; use it as ``async with ParafraimClient(...)``.

    ``transport`` replaces the network (tests pass an ``httpx.MockTransport`` or an ASGI
    transport); ``sleep``, ``clock`` and ``jitter`` replace time and randomness so that retry
    and polling schedules can be checked without waiting.
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout: httpx.Timeout | None = None,
        max_connections: int = 64,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._policy = retry or RetryPolicy()
        self._pacing = waiting.Pacing(policy=self._policy, sleep=sleep, clock=clock, jitter=jitter)
        self._timeout = timeout or DEFAULT_TIMEOUT
        self._stream_timeout = httpx.Timeout(
            self._timeout.connect,
            connect=self._timeout.connect,
            read=self._policy.stream_read_timeout,
            write=self._timeout.write,
            pool=self._timeout.pool,
        )
        self._counts: Counter[str] = Counter()
        self._origin = _origin(settings.base_url)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=self._timeout,
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=min(max_connections, 20),
            ),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ParafraimClient(base_url={self._settings.base_url!r})"

    async def __aenter__(self) -> ParafraimClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection; the client cannot be used afterwards."""
        await self._http.aclose()

    @property
    def base_url(self) -> str:
        """The API's base URL, as configured (no key)."""
        return self._settings.base_url

    @property
    def request_counts(self) -> Mapping[str, int]:
        """HTTP attempts so far by kind: ``GET``, ``POST``, ``STREAM``, ``DOWNLOAD``."""
        return dict(self._counts)

    # ------------------------------------------------------------------ account

    async def me(self) -> Me:
        """``GET /me``: the account the key belongs to."""
        data, _ = await self._call("GET", "/me", route="/me")
        return parse_data(Me, data, "GET", "/me")

    async def credits(self) -> Credits:
        """``GET /credits``: balance, allowance, usage and recent transactions."""
        data, _ = await self._call("GET", "/credits", route="/credits")
        return parse_data(Credits, data, "GET", "/credits")

    # ----------------------------------------------------------------- projects

    async def list_projects(self, *, page: int = 1, page_size: int = 50) -> Page[ProjectSummary]:
        """``GET /projects``: one page of project summaries (no composition HTML)."""
        params = {"page": max(page, 1), "pageSize": _clamp_page_size(page_size)}
        data, pagination = await self._call("GET", "/projects", route="/projects", params=params)
        return build_page(ProjectSummary, data, pagination, "/projects", params)

    def iter_projects(self) -> AsyncIterator[ProjectSummary]:
        """Every project of the account, page after page (50 per request)."""
        return iter_pages(lambda page: self.list_projects(page=page, page_size=PAGE_SIZE_MAX))

    async def create_project(self, request: CreateProjectRequest) -> ProjectCreated:
        """``POST /projects``: a blank project, or one seeded from ``templateId``."""
        data, _ = await self._call(
            "POST",
            "/projects",
            route="/projects",
            body=_body(request),
            check=_CHECK_CREATE,
        )
        return parse_post_data(ProjectCreated, data, "/projects", _CHECK_CREATE)

    async def use_template(self, template_id: str, request: UseTemplateRequest) -> ProjectCreated:
        """``POST /templates/{id}/use``: a new project copied from a template."""
        route = "/templates/{templateId}/use"
        data, _ = await self._call(
            "POST",
            f"/templates/{_segment(template_id)}/use",
            route=route,
            body=_body(request),
            check=_CHECK_CREATE,
        )
        return parse_post_data(ProjectCreated, data, route, _CHECK_CREATE)

    # -------------------------------------------------------------------- tasks

    async def send_message(self, project_id: str, request: SendMessageRequest) -> MessageAccepted:
        """``POST /projects/{id}/messages``: start an edit task; waits out TASK_RUNNING and
        CONCURRENCY_LIMIT within the policy's bounds."""
        route = "/projects/{projectId}/messages"
        data, _ = await self._call(
            "POST",
            f"/projects/{_segment(project_id)}/messages",
            route=route,
            body=_body(request),
            check=_CHECK_MESSAGE,
        )
        return parse_post_data(MessageAccepted, data, route, _CHECK_MESSAGE)

    async def get_task(self, task_id: str) -> Task:
        """``GET /tasks/{id}``: the task as persisted, the truth about its outcome."""
        route = "/tasks/{taskId}"
        data, _ = await self._call("GET", f"/tasks/{_segment(task_id)}", route=route)
        return parse_data(Task, data, "GET", route)

    async def stream_task(
        self, project_id: str, task_id: str, *, from_id: int | None = None
    ) -> AsyncGenerator[TaskEvent, None]:
        """One connection to the task's SSE stream, yielding its events as they come.

        No retry and no resume here (``wait_for_task`` does both): a drop raises
        ``TransientError``, an error answer raises its ``ApiError``. Close it early with
        ``contextlib.aclosing``.
        """
        route = "/projects/{projectId}/tasks/{taskId}/stream"
        url = (
            f"{self._settings.api_url}/projects/{_segment(project_id)}"
            f"/tasks/{_segment(task_id)}/stream"
        )
        params = {"from": from_id} if from_id is not None else None
        headers = {**self._auth(), "Accept": "text/event-stream", "Cache-Control": "no-store"}
        self._counts["STREAM"] += 1
        started = time.perf_counter()
        try:
            async with self._http.stream(
                "GET", url, params=params, headers=headers, timeout=self._stream_timeout
            ) as response:
                _log_exchange("STREAM", str(response.request.url), response.status_code, started)
                content_type = response.headers.get("content-type", "")
                if not response.is_success or "text/event-stream" not in content_type:
                    body = await _read_prefix(response, _ERROR_BODY_LIMIT)
                    failure = classify_response(response, body) or Failure(
                        kind=FailureKind.BAD_RESPONSE,
                        status=response.status_code,
                        detail=f"{content_type or 'no content type'} instead of an event stream",
                    )
                    raise error_for(
                        failure,
                        method="GET",
                        route=route,
                        base_url=self._settings.base_url,
                        path=url.removeprefix(self._settings.api_url),
                    )
                decoder = SSEDecoder()
                async for chunk in response.aiter_bytes():
                    for sse in decoder.feed(chunk):
                        yield task_event(sse)
                for sse in decoder.close():
                    yield task_event(sse)
        except httpx.TransportError as exc:
            failure = classify_exception(exc)
            _log_exchange("STREAM", url, failure.detail, started)
            if failure.kind is FailureKind.UNUSABLE:
                raise unusable_error(
                    failure, f"the task stream of {task_id}", base_url=self._settings.base_url
                ) from exc
            raise TransientError(f"the task stream of {task_id} failed: {failure.detail}") from exc
        except httpx.HTTPError as exc:
            raise TransientError(
                f"the task stream of {task_id} failed: {type(exc).__name__}"
            ) from exc

    async def wait_for_task(
        self,
        project_id: str,
        task_id: str,
        *,
        on_event: Callable[[TaskEvent], None] | None = None,
        from_id: int | None = None,
        timeout: float = 1800.0,
    ) -> Task:
        """Follow a task to its end (stream, resume, poll) and return ``GET /tasks/{id}``.

        Does not raise when the task ended in ``error`` or ``cancelled``: the caller decides.
        Raises ``TransientError`` when it cannot find out within ``timeout`` seconds.
        """
        return await waiting.wait_for_task(
            self,
            project_id,
            task_id,
            pacing=self._pacing,
            on_event=on_event,
            from_id=from_id,
            timeout=timeout,
        )

    # ------------------------------------------------------------------ renders

    async def start_render(self, project_id: str, config: RenderConfig) -> RenderStarted:
        """``POST /projects/{id}/render``: precharges the estimate and starts a render job."""
        route = "/projects/{projectId}/render"
        data, _ = await self._call(
            "POST",
            f"/projects/{_segment(project_id)}/render",
            route=route,
            body=_body(RenderRequest(config=config)),
            check=_CHECK_RENDER,
        )
        return parse_post_data(RenderStarted, data, route, _CHECK_RENDER)

    async def get_render_job(self, job_id: str) -> RenderJob:
        """``GET /render-jobs/{id}``: status, progress, video URL or error."""
        route = "/render-jobs/{jobId}"
        data, _ = await self._call("GET", f"/render-jobs/{_segment(job_id)}", route=route)
        return parse_data(RenderJob, data, "GET", route)

    async def wait_for_render(
        self,
        job_id: str,
        *,
        on_progress: Callable[[RenderJob], None] | None = None,
        timeout: float = 3600.0,
    ) -> RenderJob:
        """Poll a render job (0.5 s growing to 5 s) until ``complete`` or ``failed``."""
        return await waiting.wait_for_render(
            self, job_id, pacing=self._pacing, on_progress=on_progress, timeout=timeout
        )

    async def download(self, url: str, dest: Path, *, job_id: str | None = None) -> Downloaded:
        """Download ``url`` to ``dest`` verified (size, sha256) and atomically.

        Transient failures are retried like a GET. A 403/404/410 (an expired signed URL) is
        refreshed once from ``GET /render-jobs/{job_id}`` when ``job_id`` is given. Raises
        ``DownloadError``; an API error while refreshing propagates as is.
        """
        refreshed = False
        attempt = 0
        started = self._pacing.clock()
        while True:
            attempt += 1
            self._counts["DOWNLOAD"] += 1
            begun = time.perf_counter()
            try:
                result = await _download.stream_to_file(
                    self._http, url, dest, headers=self._download_headers(url)
                )
            except UrlRejectedError as exc:
                _log_exchange("DOWNLOAD", safe_url(url), exc.status, begun)
                if refreshed:
                    raise UrlGoneError(
                        f"{safe_url(url)} answered HTTP {exc.status} even as a fresh URL "
                        f"from render job {job_id}: the file is gone from the service",
                        hint="only a new render can bring it back: run apply again, which "
                        "renders an output whose file is gone",
                    ) from exc
                if job_id is None:
                    raise UrlGoneError(
                        f"{safe_url(url)} answered HTTP {exc.status}: the URL has expired "
                        "or is wrong, and without its render job no fresh one can be asked for",
                        hint="download from the render job's current videoUrl "
                        "(GET /render-jobs/{id}); apply does that by itself",
                    ) from exc
                refreshed = True
                url = await self._fresh_video_url(job_id)
                continue
            except TransientError as exc:
                _log_exchange("DOWNLOAD", safe_url(url), str(exc), begun)
                decision = decide(
                    self._policy,
                    method="GET",
                    failure=Failure(kind=FailureKind.LOST, detail=str(exc)),
                    attempt=attempt,
                    elapsed=self._pacing.clock() - started,
                    jitter=self._pacing.jitter(),
                )
                if not decision.retry:
                    raise DownloadError(
                        f"{exc.message} (gave up after {attempt} attempts)",
                        hint="check the network and run the command again",
                    ) from exc
                log.info("retrying the download in %.1f s: %s", decision.delay, exc.message)
                await self._pacing.sleep(decision.delay)
                continue
            _log_exchange("DOWNLOAD", safe_url(url), f"{result.size} bytes", begun)
            return result

    async def _fresh_video_url(self, job_id: str) -> str:
        job = await self.get_render_job(job_id)
        if not job.videoUrl:
            raise DownloadError(
                f"render job {job_id} has no video URL any more (status {job.status})",
                hint="render the video again",
            )
        log.info("the video URL expired; using a fresh one from render job %s", job_id)
        return job.videoUrl

    # ---------------------------------------------------------------- templates

    async def list_templates(
        self,
        *,
        category: str | None = None,
        q: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> Page[TemplateSummary]:
        """``GET /templates``: one page of template summaries, optionally filtered."""
        params: dict[str, Any] = {"page": max(page, 1), "pageSize": _clamp_page_size(page_size)}
        if category is not None:
            params["category"] = category
        if q is not None:
            params["q"] = q
        data, pagination = await self._call("GET", "/templates", route="/templates", params=params)
        return build_page(TemplateSummary, data, pagination, "/templates", params)

    def iter_templates(
        self, *, category: str | None = None, q: str | None = None
    ) -> AsyncIterator[TemplateSummary]:
        """Every template matching the filters, page after page (50 per request)."""
        return iter_pages(
            lambda page: self.list_templates(
                category=category, q=q, page=page, page_size=PAGE_SIZE_MAX
            )
        )

    # ---------------------------------------------------------------- plumbing

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._settings.api_key}"}

    def _download_headers(self, url: str) -> dict[str, str]:
        # A video URL is usually signed storage elsewhere: the key goes only to the API's own
        # origin (a local engine serves its files there and may ask for it).
        return self._auth() if _origin(url) == self._origin else {}

    async def _call(
        self,
        method: str,
        path: str,
        *,
        route: str,
        params: Mapping[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        check: str = "",
    ) -> tuple[Any, Any]:
        """One API call with the policy's retries; ``(data, pagination)`` of the envelope."""
        url = self._settings.api_url + path
        started = self._pacing.clock()
        attempt = 0
        while True:
            attempt += 1
            failure, content = await self._attempt(method, url, params, body)
            if failure is None:
                return envelope_data(content)
            decision = decide(
                self._policy,
                method=method,
                failure=failure,
                attempt=attempt,
                elapsed=self._pacing.clock() - started,
                jitter=self._pacing.jitter(),
            )
            if not decision.retry:
                raise error_for(
                    failure,
                    method=method,
                    route=route,
                    base_url=self._settings.base_url,
                    outcome_unknown=outcome_unknown(method, failure, self._policy),
                    check=check,
                    attempts=attempt,
                    path=path,
                )
            log.info(
                "retrying %s %s in %.1f s (%s): %s",
                method,
                route,
                decision.delay,
                decision.reason,
                failure.code or failure.detail or failure.status,
            )
            await self._pacing.sleep(decision.delay)

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: dict[str, Any] | None,
    ) -> tuple[Failure | None, bytes]:
        self._counts[method] += 1
        started = time.perf_counter()
        try:
            response = await self._http.request(
                method, url, params=params, json=body, headers=self._auth()
            )
        except httpx.TransportError as exc:
            failure = classify_exception(exc)
            _log_exchange(method, url, failure.detail, started)
            return failure, b""
        except httpx.HTTPError as exc:
            # Raised while reading an answer (e.g. a body that fails to decompress): the
            # request was sent and may have been processed.
            _log_exchange(method, url, type(exc).__name__, started)
            return Failure(kind=FailureKind.LOST, detail=type(exc).__name__), b""
        _log_exchange(method, str(response.request.url), response.status_code, started)
        return classify_response(response, response.content), response.content


def _log_exchange(method: str, url: str, outcome: int | str, started: float) -> None:
    if log.isEnabledFor(logging.DEBUG):
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.debug(redact(f"{method} {url} -> {outcome} ({elapsed_ms:.0f} ms)"))


def _origin(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("", "")
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}.get(scheme)
    host = (parts.hostname or "").lower()
    return scheme, f"{host}:{port or default}"


def _segment(value: str) -> str:
    """An id as one path segment: escaped, so that it can never reach another endpoint."""
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")


def _clamp_page_size(page_size: int) -> int:
    return min(max(page_size, 1), PAGE_SIZE_MAX)


def _body(request: BaseModel) -> dict[str, Any]:
    return request.model_dump(mode="json", exclude_none=True)


async def _read_prefix(response: httpx.Response, limit: int) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])
