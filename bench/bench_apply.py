"""Benchmark of ``apply``: a large build against the local engine, against its lower bound.

Run it from the repository root::

    .venv/bin/python bench/bench_apply.py                        # 40 videos x 3 steps x 2 renders
    .venv/bin/python bench/bench_apply.py --videos 12 --task-seconds 0.5   # quicker

The engine runs with fixed task and render times and an account limit of ``--concurrency``
tasks at once. The lower bound of any schedule is ``max(longest chain, total task time /
concurrency)``: a project's edits are strictly sequential, and the account runs at most that
many tasks at once. The benchmark prints:

1. ``parafraim-build apply --yes`` (a subprocess, as a user runs it) on a fresh spec: wall
   time and its ratio to the lower bound (target: 1.25 or better);
2. a naive script that does what a hand-written curl script does: every video in turn,
   create, send each step and wait, render each output and wait, download; its ratio;
3. a second ``apply`` (nothing changed): wall time and requests made (none: the lock says
   everything is up to date, so not even the account is looked up).

Every video has its own messages, so that no output can be copied from the run cache: the
build pays for every render, as a first build does.

The 1.25 target is for the stated sizes (40 videos, 1 s tasks, 1 s renders, concurrency 4).
The quicker run misses it, and is meant only to check that the benchmark works: every
operation also costs a fixed overhead that does not shrink with the task and render times
(starting the ``apply`` process, starting ffmpeg for each render, the polling interval before
a finished task or render is seen, the atomic lock write after each step). With 0.5 s tasks
and fewer videos, that overhead is a larger share of a smaller lower bound, so the ratio to
the bound grows even though the schedule is the same. With smaller settings the benchmark
prints this caveat under its result.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

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

RENDERS = {
    "clip": RenderConfig(
        width=480, height=270, fps=24, quality="draft", includeAudio=False, includeSubtitles=False
    ),
    "teaser": RenderConfig(
        width=480,
        height=270,
        fps=24,
        format="gif",
        quality="draft",
        includeAudio=False,
        includeSubtitles=False,
    ),
}
STEPS = (
    "Open with a title scene that says: Weekly update number {n}",
    "Add a scene that lists three highlights of week {n}, two seconds each",
    "End with a call to action scene: read the full report {n} on our site",
)


def write_spec(folder: Path, videos: int) -> Path:
    """A spec of ``videos`` blank 16:9 videos, each with its own three steps and two renders."""
    renders = "\n".join(
        f"    {name}: {{width: {c.width}, height: {c.height}, fps: {c.fps}, format: {c.format}, "
        f"quality: {c.quality}, includeAudio: false, includeSubtitles: false}}"
        for name, c in RENDERS.items()
    )
    steps = "\n".join(f'      - "{step.format(n="{{ n }}")}"' for step in STEPS)
    numbers = ", ".join(str(n) for n in range(1, videos + 1))
    spec = folder / "parafraim.yaml"
    spec.write_text(
        textwrap.dedent(
            """\
            version: 1
            outDir: out
            defaults:
              aspectRatio: "16:9"
              renders:
            {renders}
            videos:
              weekly-{{{{ n }}}}:
                matrix: {{n: [{numbers}]}}
                steps:
            {steps}
            """
        ).format(renders=renders, numbers=numbers, steps=steps),
        encoding="utf-8",
    )
    return spec


def run_apply(spec: Path, engine: RunningEngine, parallelism: int) -> tuple[float, str]:
    """``parafraim-build apply --yes`` as a subprocess; its wall time and its stderr."""
    env = {
        **os.environ,
        "PARAFRAIM_BASE_URL": engine.base_url,
        "PARAFRAIM_API_KEY": engine.api_key,
        "PARAFRAIM_CACHE_DIR": str(spec.parent / ".cache"),
        "CI": "1",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parafraim_build",
            "apply",
            "--yes",
            "-f",
            str(spec),
            "--parallelism",
            str(parallelism),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"apply failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stderr


async def naive_script(engine: RunningEngine, videos: int, folder: Path) -> float:
    """What a hand-written script does: one video at a time, every call awaited in turn."""
    settings = ApiSettings(base_url=engine.base_url, api_key=engine.api_key)
    started = time.perf_counter()
    async with ParafraimClient(settings) as client:
        for n in range(1, videos + 1):
            project = await client.create_project(
                CreateProjectRequest(name=f"naive {n}", aspectRatio="16:9")
            )
            for step in STEPS:
                accepted = await client.send_message(
                    project.id, SendMessageRequest(message=step.format(n=n))
                )
                await client.wait_for_task(project.id, accepted.taskId)
            for name, config in RENDERS.items():
                job = await client.start_render(project.id, config)
                finished = await client.wait_for_render(job.jobId)
                assert finished.videoUrl is not None
                await client.download(finished.videoUrl, folder / f"{n}-{name}.{config.format}")
    return time.perf_counter() - started


TARGET_RATIO = 1.25
"""Wall time of ``apply`` over the lower bound, at the stated sizes."""
STATED_VIDEOS = 40
STATED_SECONDS = 1.0
STATED_CONCURRENCY = 4


def smaller_than_stated(args: argparse.Namespace) -> bool:
    """Whether a run is smaller than the sizes the target is stated for."""
    return (
        args.videos < STATED_VIDEOS
        or args.task_seconds < STATED_SECONDS
        or args.render_seconds < STATED_SECONDS
    )


def quick_caveat() -> str:
    """Why a smaller run's ratio says nothing about the target (see the module docstring)."""
    return (
        f"note: smaller than the stated sizes ({STATED_VIDEOS} videos, {STATED_SECONDS:g} s "
        f"tasks and renders): the fixed cost of each operation (process start, ffmpeg start, "
        f"polling, lock writes) does not shrink with them, so the ratio to the lower bound "
        f"grows; the {TARGET_RATIO} target holds for the stated sizes only"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=STATED_VIDEOS)
    parser.add_argument("--task-seconds", type=float, default=STATED_SECONDS)
    parser.add_argument("--render-seconds", type=float, default=STATED_SECONDS)
    parser.add_argument("--concurrency", type=int, default=STATED_CONCURRENCY)
    parser.add_argument("--skip-naive", action="store_true", help="only measure apply")
    args = parser.parse_args()

    steps = len(STEPS)
    renders = len(RENDERS)
    chain = steps * args.task_seconds + renders * args.render_seconds
    by_capacity = args.videos * steps * args.task_seconds / args.concurrency
    bound = max(chain, by_capacity)
    print(
        f"{args.videos} videos x {steps} steps x {renders} renders; task {args.task_seconds} s, "
        f"render {args.render_seconds} s, account concurrency {args.concurrency}"
    )
    print(
        f"lower bound: {bound:.1f} s (longest chain {chain:.1f} s, "
        f"task time / concurrency {by_capacity:.1f} s)"
    )
    config = EngineConfig(
        task_seconds=args.task_seconds,
        render_seconds=args.render_seconds,
        concurrency=args.concurrency,
        credits=1_000_000,
        project_limit=10_000,
    )
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as temp:
        folder = Path(temp)
        spec = write_spec(folder, args.videos)
        with start_engine(config) as engine:
            before = engine.stats()["requests"]["total"]
            wall, _ = run_apply(spec, engine, args.concurrency)
            first = engine.stats()["requests"]["total"] - before
            print(
                f"apply:  {wall:6.1f} s  ratio {wall / bound:.2f}  (target <= {TARGET_RATIO}; "
                f"{first} API requests)"
            )
            if smaller_than_stated(args):
                print(quick_caveat())
            before = engine.stats()["requests"]["total"]
            again, _ = run_apply(spec, engine, args.concurrency)
            noop = engine.stats()["requests"]["total"] - before
            print(f"no-op apply: {again:4.1f} s, {noop} API requests")
            if not args.skip_naive:
                (folder / "naive").mkdir()
                naive = asyncio.run(naive_script(engine, args.videos, folder / "naive"))
                print(f"naive:  {naive:6.1f} s  ratio {naive / bound:.2f}  (sequential script)")


if __name__ == "__main__":
    main()
