"""Stream a file to disk: temporary file beside the target, size check, sha256, atomic rename.

Memory stays flat whatever the size: bytes go from the socket through a bounded buffer into the
file and the hash, and nothing holds the whole body. The target only ever appears complete and
verified (``os.replace`` after ``fsync``); a failure removes the temporary file, and a failure
to remove it never hides the failure that matters.

This module does one attempt, and says which failures are worth another: ``TransientError``
(5xx, 429, a dropped connection) and ``UrlRejectedError`` (an expired signed URL). A URL that
is not http(s) or cannot be parsed, or a TLS certificate or protocol failure, is a final
``DownloadError``. Retrying, and refreshing an expired URL, is the client's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

import httpx

from parafraim_build.api.errors import FailureKind, classify_exception, unusable_hint
from parafraim_build.errors import DownloadError, LocalWriteError, TransientError
from parafraim_build.fsutil import fsync_directory

CHUNK_BYTES = 1 << 20
"""Bytes gathered before one write: large enough to keep thread hops rare, small to keep RSS."""

EXPIRED_STATUSES = frozenset({403, 404, 410})

_DOWNLOAD_HINT = (
    "make the output folder writable (and remove anything in the file's place), then run the "
    "command again: the file is downloaded, not rendered, again"
)

NAME_MAX_BYTES = 255
"""The longest file name most file systems take (ext4, XFS, APFS, NTFS in UTF-16 units)."""


@dataclass(frozen=True)
class Downloaded:
    """A verified file: where it is, its sha256 (hex) and its size in bytes."""

    path: Path
    sha256: str
    size: int


class UrlRejectedError(DownloadError):
    """The URL answered 403/404/410: a signed URL that expired, worth one refresh."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, hint="start the download again to get a fresh URL")
        self.status = status


class UrlGoneError(DownloadError):
    """The video URL was still refused (403/404/410) after one refresh from its render job:
    the file is gone from the service, and only a new render can bring it back."""


def safe_url(url: str) -> str:
    """``url`` without its query or fragment, where signed URLs keep their signature."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def temp_path_for(dest: Path) -> Path:
    """A hidden, unique temporary name in ``dest``'s folder, so the final rename is atomic.

    ``.<name>.<random>.part``, the name ``apply`` sweeps after a crash; when that would be
    longer than a file name may be, the short ``.pfb-<random>.part`` instead.
    """
    token = secrets.token_hex(4)
    name = f".{dest.name}.{token}.part"
    if len(os.fsencode(name)) > NAME_MAX_BYTES:
        name = f".pfb-{token}.part"
    return dest.with_name(name)


def check_url(url: str) -> str:
    """``url``'s safe form (``safe_url``); ``DownloadError`` unless it is an http(s) URL."""
    shown = safe_url(url)
    try:
        scheme = urlsplit(url).scheme.lower()
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise DownloadError(
            f"the video URL {shown} is not a valid URL",
            hint="the render job gave a URL that cannot be fetched: render the video again, "
            "and report it if it persists",
        ) from exc
    if scheme not in ("http", "https"):
        raise DownloadError(
            f"the video URL {shown} is not an http(s) URL",
            hint="only http:// and https:// URLs can be downloaded: render the video again, "
            "and report it if it persists",
        )
    return shown


async def stream_to_file(
    http: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    headers: dict[str, str] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Downloaded:
    """GET ``url`` into ``dest``; raise ``UrlRejectedError``, ``TransientError`` or
    ``DownloadError``. ``dest``'s folder is created when missing."""
    shown = check_url(url)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalWriteError(dest, exc, hint=_DOWNLOAD_HINT) from exc
    temp = temp_path_for(dest)
    request_headers = {"Accept-Encoding": "identity", **(headers or {})}
    try:
        async with http.stream(
            "GET", url, headers=request_headers, follow_redirects=True
        ) as response:
            _check_status(response, shown)
            expected = _content_length(response)
            digest, size = await _write_body(response, temp, dest, chunk_bytes)
    except httpx.TransportError as exc:
        _remove(temp)
        failure = classify_exception(exc)
        if failure.kind is FailureKind.UNUSABLE:
            raise DownloadError(
                f"downloading {shown} cannot work: {failure.detail}; not retried",
                hint=unusable_hint(failure, f"the video URL {shown}"),
            ) from exc
        raise TransientError(f"downloading {shown} failed: {failure.detail}") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # InvalidURL: a redirect to a URL httpx cannot parse.
        _remove(temp)
        raise DownloadError(f"downloading {shown} failed: {type(exc).__name__}") from exc
    except BaseException:
        _remove(temp)
        raise
    if expected is not None and size != expected:
        _remove(temp)
        # A body cut short on the way: worth another try, like a dropped connection.
        raise TransientError(
            f"{shown} sent {size} bytes but announced {expected}; the file was not kept"
        )
    try:
        os.replace(temp, dest)
        fsync_directory(dest.parent)
    except OSError as exc:
        _remove(temp)
        raise LocalWriteError(dest, exc, hint=_DOWNLOAD_HINT) from exc
    return Downloaded(path=dest, sha256=digest, size=size)


def _check_status(response: httpx.Response, shown: str) -> None:
    status = response.status_code
    if response.is_success:
        return
    if status in EXPIRED_STATUSES:
        raise UrlRejectedError(f"{shown} answered HTTP {status} (expired URL?)", status=status)
    if status >= 500 or status == 429:
        raise TransientError(f"downloading {shown} failed: HTTP {status}", status=status)
    raise DownloadError(f"downloading {shown} failed: HTTP {status}")


def _content_length(response: httpx.Response) -> int | None:
    # A compressed body has a Content-Length for the compressed bytes; we ask for identity, and
    # if a server compresses anyway the announced length cannot be checked against our count.
    if response.headers.get("content-encoding", "identity").lower() not in ("", "identity"):
        return None
    value = response.headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


async def _write_body(
    response: httpx.Response, temp: Path, dest: Path, chunk_bytes: int
) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        handle = await asyncio.to_thread(_open_exclusive, temp)
    except OSError as exc:
        raise LocalWriteError(dest, exc, hint=_DOWNLOAD_HINT) from exc
    try:
        buffer = bytearray()
        async for chunk in response.aiter_bytes():
            digest.update(chunk)
            size += len(chunk)
            buffer += chunk
            if len(buffer) >= chunk_bytes:
                full, buffer = buffer, bytearray()
                await asyncio.to_thread(handle.write, full)
        if buffer:
            await asyncio.to_thread(handle.write, buffer)
        await asyncio.to_thread(_flush_and_sync, handle)
    except OSError as exc:
        raise LocalWriteError(dest, exc, hint=_DOWNLOAD_HINT) from exc
    finally:
        handle.close()
    return digest.hexdigest(), size


def _open_exclusive(path: Path) -> BinaryIO:
    return open(path, "xb")  # closed by the caller, across awaits


def _flush_and_sync(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _remove(path: Path) -> None:
    # Called while another error is on its way out: a temporary file that cannot be removed
    # (never created, a name too long, a read-only folder) must not replace that error.
    with contextlib.suppress(OSError):
        path.unlink()
