"""Benchmark of the API client's costs: requests per task, polls per render, download memory.

Run it from the repository root::

    .venv/bin/python bench/bench_client.py                  # the real 60 s render
    .venv/bin/python bench/bench_client.py --render-seconds 10 --download-mb 256   # quicker
    .venv/bin/python bench/bench_client.py --workdir /mnt/scratch   # where the file goes

It prints three figures, each against its target from issue 4:

1. requests per finished task on a local engine without faults (target: 1 POST, 1 stream
   connection, 1 final GET);
2. polls of ``GET /render-jobs/{id}`` for one render that takes ``--render-seconds`` on the
   engine (target for 60 s: at most 20);
3. peak resident memory of a process downloading a ``--download-mb`` file (default 1 GiB) from
   a local HTTP server, above that process's baseline (target: under 50 MB).

The download runs in a child process so that its memory is its own: the child reads
``VmRSS`` before the download and ``VmHWM`` (the peak, reset first through
``/proc/self/clear_refs``) after it. The render and the download are measured at the same
time, to keep the run short; the figures do not interfere.

The downloaded file goes to a temporary folder under ``--workdir`` (default: the system's
temporary folder), never into the repository. A RAM-backed folder (tmpfs) would not change
the process's figure, but it would hold the whole file in the machine's memory: when the
default is RAM-backed, ``/var/tmp`` is used instead if it is on a disk, and a RAM-backed
``--workdir`` is used as asked, with a warning.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from parafraim_build.api.client import ParafraimClient  # noqa: E402
from parafraim_build.api.models import (  # noqa: E402
    CreateProjectRequest,
    RenderConfig,
    SendMessageRequest,
)
from parafraim_build.config import ApiSettings  # noqa: E402
from parafraim_build.emulator import EngineConfig, RunningEngine, start_engine  # noqa: E402

SMALL_RENDER = RenderConfig(
    width=480, height=270, fps=24, quality="draft", includeAudio=False, includeSubtitles=False
)
CHUNK = bytes(range(256)) * 4096  # 1 MiB of a non-zero pattern


# ----------------------------------------------------------------- 1 and 2: the engine


async def requests_per_task(client: ParafraimClient, tasks: int) -> dict[str, float]:
    """Average requests per finished task: POST message, its stream(s), the final GET."""
    project = await client.create_project(CreateProjectRequest(name="bench tasks"))
    before = dict(client.request_counts)
    for n in range(tasks):
        accepted = await client.send_message(
            project.id, SendMessageRequest(message=f"Make the title bigger, take {n}.")
        )
        task = await client.wait_for_task(project.id, accepted.taskId)
        assert task.status == "completed", task.status
    after = client.request_counts
    return {kind: (after[kind] - before.get(kind, 0)) / tasks for kind in after}


async def polls_per_render(client: ParafraimClient) -> tuple[int, float, str]:
    """Polls of one render job from start to a terminal state, and how long it took."""
    project = await client.create_project(CreateProjectRequest(name="bench render"))
    accepted = await client.send_message(project.id, SendMessageRequest(message="Open big."))
    await client.wait_for_task(project.id, accepted.taskId)
    started = await client.start_render(project.id, SMALL_RENDER)
    before = client.request_counts.get("GET", 0)
    clock = time.monotonic()
    job = await client.wait_for_render(started.jobId, timeout=3600)
    return client.request_counts["GET"] - before, time.monotonic() - clock, job.status


# ---------------------------------------------------------------------- 3: download


class _FileHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``size_mb`` MiB of a generated pattern on any GET, with a Content-Length."""

    size_mb = 1024
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(self.size_mb * len(CHUNK)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(self.size_mb):
                self.wfile.write(CHUNK)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the benchmark prints its own lines."""


@contextlib.contextmanager
def file_server(size_mb: int) -> Iterator[str]:
    handler = type("Handler", (_FileHandler,), {"size_mb": size_mb})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/video.mp4"
    finally:
        server.shutdown()
        server.server_close()


RAM_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})


def filesystem_type(path: Path) -> str:
    """The type of the file system ``path`` is on (``/proc/mounts``; ``""`` if unknown)."""
    resolved = str(path.resolve())
    best, kind = "", ""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def choose_workdir(asked: str | None) -> Path:
    """``--workdir`` as given, else the system temp folder, else ``/var/tmp`` if that one is
    on a disk and the temp folder is in RAM."""
    if asked is not None:
        folder = Path(asked)
        if filesystem_type(folder) in RAM_FILESYSTEMS:
            print(f"warning: {folder} is in RAM ({filesystem_type(folder)}): the downloaded file")
            print("  will take memory of the machine while the benchmark runs")
        return folder
    folder = Path(tempfile.gettempdir())
    fallback = Path("/var/tmp")
    if (
        filesystem_type(folder) in RAM_FILESYSTEMS
        and fallback.is_dir()
        and filesystem_type(fallback) not in RAM_FILESYSTEMS
    ):
        print(f"note: {folder} is in RAM; downloading into {fallback} instead")
        return fallback
    return folder


def download_memory(size_mb: int, workdir: Path) -> dict[str, Any]:
    """Run the child download into a temporary folder under ``workdir``; what it measured."""
    with (
        file_server(size_mb) as url,
        tempfile.TemporaryDirectory(dir=workdir, prefix="bench-client-") as folder,
    ):
        result = subprocess.run(
            [sys.executable, __file__, "--child-download", url, str(Path(folder) / "big.mp4")],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise SystemExit(f"the download child failed:\n{result.stderr}")
    return dict(json.loads(result.stdout))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} is not in /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); False when the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child_download(url: str, dest: str) -> None:
    """In the child: warm up, take the baseline, download, report the peak as JSON."""

    async def main() -> dict[str, Any]:
        settings = ApiSettings(base_url="http://127.0.0.1:1", api_key="pfk_bench_unused")
        async with ParafraimClient(settings) as client:
            # A first small transfer loads every module and buffer the real one will use.
            warm = Path(dest).with_name("warm.bin")
            with file_server(1) as small:
                await client.download(small, warm)
            warm.unlink()
            baseline_kb = _status_kb("VmRSS")
            reset = _reset_peak()
            started = time.monotonic()
            done = await client.download(url, Path(dest))
            elapsed = time.monotonic() - started
            peak_kb = _status_kb("VmHWM")
            size = done.size
            os.unlink(done.path)
        return {
            "baseline_mb": baseline_kb / 1024,
            "peak_mb": peak_kb / 1024,
            "hwm_reset": reset,
            "size": size,
            "seconds": elapsed,
        }

    print(json.dumps(asyncio.run(main())))


# --------------------------------------------------------------------------- main


async def engine_figures(
    running: RunningEngine, tasks: int
) -> tuple[dict[str, float], tuple[int, float, str]]:
    settings = ApiSettings(base_url=running.base_url, api_key=running.api_key)
    async with ParafraimClient(settings) as client:
        per_task = await requests_per_task(client, tasks)
        render = await polls_per_render(client)
    return per_task, render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--render-seconds", type=float, default=60.0)
    parser.add_argument("--download-mb", type=int, default=1024)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument(
        "--workdir",
        metavar="DIR",
        help="folder for the downloaded file (default: the system temp folder, on a disk)",
    )
    parser.add_argument(
        "--child-download", nargs=2, metavar=("URL", "DEST"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child_download:
        child_download(*args.child_download)
        return

    workdir = choose_workdir(args.workdir)
    config = EngineConfig(task_seconds=0.5, render_seconds=args.render_seconds)
    with start_engine(config) as running:
        memory: dict[str, Any] = {}
        downloader = threading.Thread(
            target=lambda: memory.update(download_memory(args.download_mb, workdir)), daemon=True
        )
        downloader.start()
        per_task, (polls, seconds, status) = asyncio.run(engine_figures(running, args.tasks))
        downloader.join()

    print(f"requests per finished task (mean of {args.tasks}, no faults):")
    print(
        f"  POST {per_task.get('POST', 0):g}  STREAM {per_task.get('STREAM', 0):g}  "
        f"GET {per_task.get('GET', 0):g}   (target: POST 1, STREAM 1, GET 1)"
    )
    target = "at most 20" if args.render_seconds >= 60 else "at most 20 for 60 s"
    print(f"polls per render ({args.render_seconds:g} s on the engine, took {seconds:.1f} s):")
    print(f"  {polls} polls, job {status}   (target: {target})")
    above = memory["peak_mb"] - memory["baseline_mb"]
    note = "" if memory["hwm_reset"] else " (VmHWM could not be reset: an upper bound)"
    print(f"peak memory while downloading {memory['size'] / 2**20:.0f} MiB:")
    print(
        f"  {above:.1f} MB above a baseline of {memory['baseline_mb']:.1f} MB, "
        f"{memory['size'] / 2**20 / memory['seconds']:.0f} MiB/s{note}   (target: under 50 MB)"
    )


if __name__ == "__main__":
    main()
