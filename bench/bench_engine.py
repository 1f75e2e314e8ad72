"""Benchmark of the local engine: JSON requests per second and concurrent SSE streams.

    .venv/bin/python bench/bench_engine.py [--duration 5] [--workers 16] [--streams 50]

Starts ``parafraim-build emulator`` in its own process (so that the load generator and the
engine do not share one interpreter lock), prepares a few projects, then measures:

1. JSON: ``--workers`` concurrent keep-alive connections cycling through GET /me, /credits,
   /projects, /templates?q=, /tasks/{id} and /render-jobs/{id} for ``--duration`` seconds
   (a minimal HTTP/1.1 client: httpx would spend more CPU than the engine it measures).
2. SSE: ``--streams`` message tasks started at once, each followed by its own stream to the
   terminal event, while the JSON load keeps running.

Targets (issue 3): 300 JSON requests/s and 50 concurrent streams without errors. The exit code
is 0 when both are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

KEY = "pfk_bench_engine_key"
TARGET_RPS = 300
TARGET_STREAMS = 50


@dataclass
class Load:
    """What a load run measured."""

    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


@contextmanager
def engine_process(task_seconds: float, streams: int) -> Iterator[str]:
    """``parafraim-build emulator`` on a free port; yields its base URL."""
    command = [
        sys.executable,
        "-c",
        "from parafraim_build.cli import main; main()",
        "emulator",
        "--port",
        "0",
        "--api-key",
        KEY,
        "--concurrency",
        str(streams + 8),
        "--project-limit",
        str(streams + 50),
        "--task-seconds",
        str(task_seconds),
        "--render-seconds",
        "0.2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", first)
        if not match:
            raise SystemExit(f"the engine did not start: {first!r}")
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=60)


async def poll(client: httpx.AsyncClient, path: str, ends: tuple[str, ...]) -> None:
    """GET ``path`` until its status is one of ``ends``."""
    for _ in range(1200):
        if (await client.get(path)).json()["data"]["status"] in ends:
            return
        await asyncio.sleep(0.05)
    raise SystemExit(f"{path} did not finish")


async def prepare(client: httpx.AsyncClient) -> list[str]:
    """A few projects, a finished task and a finished render; the JSON paths to cycle."""
    created = await client.post(
        "/projects", json={"name": "bench", "templateId": "00000000-0000-0000-0000-000000000001"}
    )
    project = created.json()["data"]
    for index in range(20):
        await client.post("/projects", json={"name": f"bench {index}"})
    task_id = (
        await client.post(f"/projects/{project['id']}/messages", json={"message": "Open big."})
    ).json()["data"]["taskId"]
    await poll(client, f"/tasks/{task_id}", ("completed", "error"))
    config = {"width": 480, "height": 270, "fps": 24, "quality": "draft"}
    job_id = (
        await client.post(f"/projects/{project['id']}/render", json={"config": config})
    ).json()["data"]["jobId"]
    await poll(client, f"/render-jobs/{job_id}", ("complete", "failed"))
    return [
        "/me",
        "/credits",
        "/projects?pageSize=20",
        "/templates?q=recap",
        f"/tasks/{task_id}",
        f"/render-jobs/{job_id}",
    ]


class KeepAliveConnection:
    """A minimal HTTP/1.1 keep-alive GET client on asyncio streams.

    The load generator shares this 2-core machine with the engine, and httpx spends far more
    CPU per request than the engine does, so it would measure itself. This client does only
    what the benchmark needs: GET, Content-Length bodies, one request at a time.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.head}\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def json_load(api_url: str, paths: list[str], workers: int, stop: asyncio.Event) -> Load:
    """``workers`` keep-alive connections sending GETs until ``stop`` is set."""
    url = httpx.URL(api_url)
    assert url.port is not None
    load = Load()
    cycle = itertools.cycle(paths)

    async def worker() -> None:
        connection = KeepAliveConnection(url.host, url.port, {"Authorization": f"Bearer {KEY}"})
        try:
            while not stop.is_set():
                path = url.path + next(cycle)
                started = time.perf_counter()
                try:
                    status, body = await connection.get(path)
                    good = status == 200 and body.startswith(b'{"success":true')
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    good = False
                    await connection.close()
                    connection = KeepAliveConnection(
                        url.host, url.port, {"Authorization": f"Bearer {KEY}"}
                    )
                if good:
                    load.ok += 1
                    load.latencies.append(time.perf_counter() - started)
                else:
                    load.errors += 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    load.seconds = time.perf_counter() - started
    return load


@dataclass
class StreamRun:
    completed: int = 0
    errors: int = 0
    events: int = 0
    peak_open: int = 0
    seconds: float = 0.0


async def follow(client: httpx.AsyncClient, project_id: str, task_id: str, run: StreamRun) -> None:
    """Read one task's stream to its terminal event."""
    path = f"/projects/{project_id}/tasks/{task_id}/stream"
    last_event = ""
    try:
        async with client.stream("GET", path, headers={"Accept": "text/event-stream"}) as response:
            if response.status_code != 200:
                run.errors += 1
                return
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    last_event = line[7:]
                    run.events += 1
    except httpx.HTTPError:
        run.errors += 1
        return
    if last_event == "result":
        run.completed += 1
    else:
        run.errors += 1


async def stream_load(client: httpx.AsyncClient, admin: httpx.AsyncClient, count: int) -> StreamRun:
    """``count`` tasks at once, each followed by its own stream."""
    run = StreamRun()
    projects = [
        (await client.post("/projects", json={"name": f"stream {index}"})).json()["data"]["id"]
        for index in range(count)
    ]
    started = time.perf_counter()
    accepted = await asyncio.gather(
        *(
            client.post(f"/projects/{project}/messages", json={"message": f"Scene {i}."})
            for i, project in enumerate(projects)
        )
    )
    followers = []
    for project, response in zip(projects, accepted, strict=True):
        if response.status_code != 202:
            run.errors += 1
            continue
        task_id = response.json()["data"]["taskId"]
        followers.append(asyncio.create_task(follow(client, project, task_id, run)))

    async def watch_peak() -> None:
        while not all(task.done() for task in followers):
            stats = (await admin.get("/_engine/stats")).json()
            run.peak_open = max(run.peak_open, stats["streams"]["open"])
            await asyncio.sleep(0.1)

    await asyncio.gather(*followers, watch_peak())
    run.seconds = time.perf_counter() - started
    return run


async def main_async(args: argparse.Namespace, base_url: str) -> bool:
    limits = httpx.Limits(max_connections=args.workers + args.streams + 10)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        httpx.AsyncClient(
            base_url=base_url + "/api/v1", headers=headers, limits=limits, timeout=60
        ) as client,
        httpx.AsyncClient(base_url=base_url, timeout=60) as admin,
    ):
        paths = await prepare(client)

        stop = asyncio.Event()
        api_url = base_url + "/api/v1"
        running = asyncio.create_task(json_load(api_url, paths, args.workers, stop))
        await asyncio.sleep(args.duration)
        stop.set()
        alone = await running

        stop = asyncio.Event()
        background = asyncio.create_task(json_load(api_url, paths, args.workers // 2 or 1, stop))
        streams = await stream_load(client, admin, args.streams)
        stop.set()
        beside = await background

    print(f"engine {base_url} (separate process), {args.workers} JSON connections")
    print(
        f"JSON requests: {alone.rps:.0f} req/s over {alone.seconds:.1f} s "
        f"({alone.ok} ok, {alone.errors} errors; p50 {alone.percentile(0.5):.1f} ms, "
        f"p99 {alone.percentile(0.99):.1f} ms)"
    )
    print(
        f"SSE streams: {streams.completed}/{args.streams} completed, {streams.errors} errors, "
        f"peak {streams.peak_open} open at once, {streams.events} events in {streams.seconds:.1f} s"
    )
    mean = statistics.fmean(beside.latencies) * 1000 if beside.latencies else 0.0
    print(
        f"JSON while streaming: {beside.rps:.0f} req/s ({beside.errors} errors, mean {mean:.1f} ms)"
    )
    met = (
        alone.rps >= TARGET_RPS
        and alone.errors == 0
        and streams.completed == args.streams >= TARGET_STREAMS
        and streams.errors == 0
        and streams.peak_open >= TARGET_STREAMS
    )
    verdict = "met" if met else "NOT met"
    print(f"targets ({TARGET_RPS} JSON req/s, {TARGET_STREAMS} concurrent streams): {verdict}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="JSON phase, seconds")
    parser.add_argument("--workers", type=int, default=16, help="concurrent JSON clients")
    parser.add_argument("--streams", type=int, default=TARGET_STREAMS, help="concurrent streams")
    parser.add_argument(
        "--task-seconds", type=float, default=4.0, help="how long each streamed task runs"
    )
    args = parser.parse_args()
    with engine_process(args.task_seconds, args.streams) as base_url:
        met = asyncio.run(main_async(args, base_url))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
