"""Downloads: verified, atomic, flat in memory, with one refresh of an expired URL."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from test_client_fakes import BASE_URL, KEY, FakeParafraim, FakeTime, Fault, html_page, make_client

from parafraim_build.api.download import (
    NAME_MAX_BYTES,
    Downloaded,
    safe_url,
    stream_to_file,
    temp_path_for,
)
from parafraim_build.errors import DownloadError, LocalWriteError, NotFoundError, TransientError

DATA = FakeParafraim().video_bytes


def download(fake: FakeParafraim, url: str, dest: Path, job_id: str | None = None) -> Downloaded:
    async def main() -> Downloaded:
        async with make_client(fake, FakeTime()) as client:
            return await client.download(url, dest, job_id=job_id)

    return asyncio.run(main())


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_download_writes_the_file_with_its_sha256_and_size(tmp_path: Path) -> None:
    fake = FakeParafraim()
    dest = tmp_path / "out" / "launch" / "hd.mp4"
    result = download(fake, fake.video_url(), dest)
    assert dest.read_bytes() == DATA
    assert result.path == dest
    assert result.size == len(DATA)
    assert result.sha256 == hashlib.sha256(DATA).hexdigest()
    assert leftovers(dest.parent) == []


def test_the_key_is_not_sent_to_another_origin(tmp_path: Path) -> None:
    fake = FakeParafraim()
    download(fake, fake.video_url(), tmp_path / "v.mp4")
    (request,) = fake.requests
    assert "authorization" not in request.headers
    assert request.headers["accept-encoding"] == "identity"


def test_a_short_body_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    fake = FakeParafraim(lie_about_length=len(DATA) + 10)
    dest = tmp_path / "v.mp4"
    dest.write_bytes(b"previous good file")
    with pytest.raises(DownloadError, match=r"sent \d+ bytes but announced \d+") as info:
        download(fake, fake.video_url(), dest)
    assert "gave up after" in str(info.value)  # a body cut short is retried first
    assert fake.count(f"GET {httpx.URL(fake.video_url()).host}") > 1
    assert dest.read_bytes() == b"previous good file"  # the old file is untouched
    assert leftovers(tmp_path) == []


def test_a_body_cut_short_once_is_downloaded_again(tmp_path: Path) -> None:
    fake = FakeParafraim()
    url = fake.video_url()
    short = DATA[: len(DATA) // 2]

    def cut(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "video/mp4", "content-length": str(len(DATA))}
        return httpx.Response(200, headers=headers, content=short)

    fake.fail(f"GET {httpx.URL(url).host}", Fault(cut))
    result = download(fake, url, tmp_path / "v.mp4")
    assert result.size == len(DATA)
    assert (tmp_path / "v.mp4").read_bytes() == DATA


def test_an_unwritable_folder_is_a_local_write_error_naming_the_file(tmp_path: Path) -> None:
    # A file where the output's folder should be: no one can write there, root included
    # (a read-only folder would not stop root, who runs CI here).
    fake = FakeParafraim()
    folder = tmp_path / "out"
    folder.write_bytes(b"not a folder")
    with pytest.raises(LocalWriteError, match=r"cannot write .*out/v\.mp4"):
        download(fake, fake.video_url(), folder / "v.mp4")
    assert folder.read_bytes() == b"not a folder"


def test_a_folder_in_the_files_place_is_a_local_write_error(tmp_path: Path) -> None:
    fake = FakeParafraim()
    dest = tmp_path / "v.mp4"
    (dest / "something").mkdir(parents=True)
    with pytest.raises(LocalWriteError, match=r"cannot write .*v\.mp4") as info:
        download(fake, fake.video_url(), dest)
    assert "remove anything in the file's place" in (info.value.hint or "")
    assert leftovers(tmp_path) == []


def test_an_expired_url_is_refreshed_once_from_the_render_job(tmp_path: Path) -> None:
    fake = FakeParafraim()
    old = fake.video_url("old")
    fresh = fake.video_url("fresh")
    fake.expired_urls.add(old)
    job_id = fake.add_job({"status": "complete", "progress": 100, "videoUrl": fresh})
    download(fake, old, tmp_path / "v.mp4", job_id=job_id)
    assert [str(r.url) for r in fake.requests] == [
        old,
        f"{BASE_URL}/api/v1/render-jobs/{job_id}",
        fresh,
    ]
    assert (tmp_path / "v.mp4").read_bytes() == DATA


def test_an_expired_url_without_a_job_is_a_download_error(tmp_path: Path) -> None:
    fake = FakeParafraim()
    url = fake.video_url()
    fake.expired_urls.add(url)
    with pytest.raises(DownloadError, match="expired") as info:
        download(fake, url, tmp_path / "v.mp4")
    assert "sig=" not in str(info.value)  # signatures stay out of messages


def test_a_refreshed_url_that_expired_too_is_not_refreshed_again(tmp_path: Path) -> None:
    fake = FakeParafraim()
    old, fresh = fake.video_url("a"), fake.video_url("b")
    fake.expired_urls.update({old, fresh})
    job_id = fake.add_job({"status": "complete", "progress": 100, "videoUrl": fresh})
    with pytest.raises(DownloadError, match="the file is gone from the service") as info:
        download(fake, old, tmp_path / "v.mp4", job_id=job_id)
    assert len(fake.requests) == 3
    # The file is gone: asking the job again would not help, a render would.
    assert "fresh URL is taken" not in (info.value.hint or "")
    assert "only a new render can bring it back" in (info.value.hint or "")


def test_a_job_without_a_url_any_more_says_render_again(tmp_path: Path) -> None:
    fake = FakeParafraim()
    url = fake.video_url()
    fake.expired_urls.add(url)
    job_id = fake.add_job({"status": "failed", "progress": 0, "error": "gone"})
    with pytest.raises(DownloadError, match="no video URL") as info:
        download(fake, url, tmp_path / "v.mp4", job_id=job_id)
    assert info.value.hint == "render the video again"


def test_an_unknown_job_while_refreshing_propagates(tmp_path: Path) -> None:
    fake = FakeParafraim()
    url = fake.video_url()
    fake.expired_urls.add(url)
    with pytest.raises(NotFoundError):
        download(fake, url, tmp_path / "v.mp4", job_id="missing")


def test_transient_failures_are_retried(tmp_path: Path) -> None:
    fake = FakeParafraim()
    url = fake.video_url()
    fake.fail(f"GET {httpx.URL(url).host}", html_page(503), html_page(502))
    download(fake, url, tmp_path / "v.mp4")
    assert len(fake.requests) == 3
    assert (tmp_path / "v.mp4").read_bytes() == DATA


def test_a_drop_mid_body_leaves_no_partial_file(tmp_path: Path) -> None:
    class Dropping(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"x" * 1000
            raise httpx.ReadError("connection reset by peer")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "5000"}, stream=Dropping())

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            await stream_to_file(http, "https://cdn.test/v.mp4", tmp_path / "v.mp4")

    with pytest.raises(Exception, match="connection dropped") as info:
        asyncio.run(main())
    assert type(info.value).__name__ == "TransientError"
    assert list(tmp_path.iterdir()) == []


def test_a_client_error_other_than_expiry_is_not_retried(tmp_path: Path) -> None:
    fake = FakeParafraim()
    url = fake.video_url()
    fake.fail(f"GET {httpx.URL(url).host}", Fault(lambda r: httpx.Response(400, text="bad")))
    with pytest.raises(DownloadError, match="HTTP 400"):
        download(fake, url, tmp_path / "v.mp4")
    assert len(fake.requests) == 1


def test_memory_stays_flat_for_a_large_file(tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    piece = bytes(range(256)) * 256  # 64 KiB

    class Big(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(size // len(piece)):
                yield piece

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": str(size)}, stream=Big())

    async def main() -> int:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            result = await stream_to_file(http, "https://cdn.test/big.mp4", tmp_path / "big.mp4")
            return result.size

    tracemalloc.start()
    try:
        assert asyncio.run(main()) == size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 64 MiB file"
    assert (tmp_path / "big.mp4").stat().st_size == size


def test_safe_url_drops_signatures_and_credentials() -> None:
    assert safe_url("https://u:p@cdn.test/a/b.mp4?sig=s3cret&x=1#f") == "https://cdn.test/a/b.mp4"


def test_temp_files_are_hidden_beside_the_target(tmp_path: Path) -> None:
    # ``.<name>.<random>.part``: the name ``apply`` sweeps after a crash.
    temp = temp_path_for(tmp_path / "hd.mp4")
    assert temp.parent == tmp_path
    assert temp.name.startswith(".hd.mp4.")
    assert temp.name.endswith(".part")
    assert temp != temp_path_for(tmp_path / "hd.mp4")


def test_a_temp_name_that_would_be_too_long_is_short(tmp_path: Path) -> None:
    dest = tmp_path / ("v" * 250 + ".mp4")
    temp = temp_path_for(dest)
    assert temp.parent == tmp_path
    assert temp.name.startswith(".pfb-")
    assert temp.name.endswith(".part")
    assert len(temp.name) < 20


def test_a_long_file_name_downloads(tmp_path: Path) -> None:
    # The longest name a file system takes: its temporary name must still fit.
    fake = FakeParafraim()
    dest = tmp_path / ("v" * (NAME_MAX_BYTES - 4) + ".mp4")
    result = download(fake, fake.video_url(), dest)
    assert result.size == len(DATA)
    assert dest.read_bytes() == DATA
    assert leftovers(tmp_path) == []


def test_a_name_too_long_for_the_file_system_is_a_clear_download_error(tmp_path: Path) -> None:
    # The real error (the name) is reported; cleaning up never replaces it with an OSError.
    fake = FakeParafraim()
    dest = tmp_path / ("v" * 300 + ".mp4")
    with pytest.raises(LocalWriteError, match=r"cannot write .*\.mp4: File name too long"):
        download(fake, fake.video_url(), dest)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://[::1", "is not a valid URL"),
        ("https://cdn.test:1/\x00v.mp4", "is not a valid URL"),
        ("ftp://x/y", "is not an http(s) URL"),
        ("not a url", "is not an http(s) URL"),
    ],
)
def test_a_url_that_cannot_be_fetched_is_a_download_error_at_once(
    tmp_path: Path, url: str, problem: str
) -> None:
    fake = FakeParafraim()
    with pytest.raises(DownloadError) as info:
        download(fake, url, tmp_path / "v.mp4")
    assert type(info.value) is DownloadError
    assert problem in str(info.value)
    assert "check the network" not in (info.value.hint or "")
    assert fake.requests == []  # nothing sent, nothing retried
    assert list(tmp_path.iterdir()) == []


def _raising(exc: Exception) -> Fault:
    def action(request: httpx.Request) -> httpx.Response:
        raise exc

    return Fault(action)


def _tls_error(cause: ssl.SSLError) -> httpx.ConnectError:
    error = httpx.ConnectError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("exc", "hint_words"),
    [
        (httpx.UnsupportedProtocol("Request URL has an unsupported protocol"), "http://"),
        (_tls_error(ssl.SSLCertVerificationError(1, "certificate has expired")), "certificate"),
        (_tls_error(ssl.SSLError(1, "[SSL] record layer failure")), "plain http"),
    ],
)
def test_tls_and_protocol_failures_are_final(
    tmp_path: Path, exc: httpx.TransportError, hint_words: str
) -> None:
    fake = FakeParafraim()
    url = fake.video_url()
    fake.fail(f"GET {httpx.URL(url).host}", *[_raising(exc) for _ in range(5)])
    with pytest.raises(DownloadError) as info:
        download(fake, url, tmp_path / "v.mp4")
    assert len(fake.requests) == 1  # not retried as if the network had failed
    assert "not retried" in str(info.value)
    assert "cdn.parafraim-media.test/renders/video.mp4" in (info.value.hint or "")
    assert hint_words in (info.value.hint or "")
    assert "sig=" not in f"{info.value} {info.value.hint}"


def test_a_connection_failure_is_still_retried(tmp_path: Path) -> None:
    fake = FakeParafraim()
    url = fake.video_url()
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    fake.fail(f"GET {httpx.URL(url).host}", _raising(refused))
    download(fake, url, tmp_path / "v.mp4")
    assert len(fake.requests) == 2


def test_stream_to_file_says_which_failures_are_transient(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            await stream_to_file(http, "https://cdn.test/v.mp4", tmp_path / "v.mp4")

    with pytest.raises(TransientError):
        asyncio.run(main())


def test_the_api_key_goes_to_the_api_origin_only(tmp_path: Path) -> None:
    fake = FakeParafraim()
    same_origin = f"{BASE_URL}/files/v.mp4?sig=x"

    def video(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=DATA)

    fake.fail(f"GET {httpx.URL(BASE_URL).host}", Fault(video))
    download(fake, same_origin, tmp_path / "v.mp4")
    assert fake.requests[0].headers["authorization"] == f"Bearer {KEY}"
