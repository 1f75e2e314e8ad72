"""Render jobs: the lifecycle, real files behind signed expiring links, precharge, refunds."""

from __future__ import annotations

import functools
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from engine_client import (
    PRODUCT_LAUNCH,
    SMALL_RENDER,
    WEEKLY_RECAP,
    EngineClient,
    EngineFactory,
    fast_config,
)

from parafraim_build.api.models import RenderConfig
from parafraim_build.emulator import RunningEngine
from parafraim_build.emulator.composition import parse_composition
from parafraim_build.emulator.engine import Engine
from parafraim_build.emulator.pricing import render_cost
from parafraim_build.emulator.render import RenderCancelledError, probe_media, render_video

pytest_plugins = ("engine_fixtures",)

ORDER = ["pending", "generating", "rendering", "uploading", "complete"]


@pytest.fixture
def client(engine: RunningEngine) -> Iterator[EngineClient]:
    with EngineClient(engine) as api:
        yield api


def _download(url: str, target: Path) -> httpx.Response:
    response = httpx.get(url)
    if response.status_code == 200:
        target.write_bytes(response.content)
    return response


def test_a_job_walks_its_statuses_with_rising_progress(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(render_seconds=1.0)) as client:
        project = client.new_project(templateId=WEEKLY_RECAP)
        job_id = client.render(project["id"])
        seen: list[tuple[str, int]] = []
        while not seen or seen[-1][0] not in ("complete", "failed"):
            job = client.data(client.get(f"/render-jobs/{job_id}"))
            assert isinstance(job["progress"], int)
            if not seen or seen[-1] != (job["status"], job["progress"]):
                seen.append((job["status"], job["progress"]))
            assert (job["videoUrl"] is None) == (job["status"] != "complete")
            time.sleep(0.02)
        statuses = list(dict.fromkeys(status for status, _ in seen))
        assert statuses == [status for status in ORDER if status in statuses]
        assert statuses[-1] == "complete"
        assert len(statuses) >= 4
        progress = [value for _, value in seen]
        assert progress == sorted(progress)
        assert progress[-1] == 100
        assert len(set(progress)) >= 5


def test_a_complete_job_serves_the_real_video(client: EngineClient, tmp_path: Path) -> None:
    project = client.new_project(templateId=PRODUCT_LAUNCH)
    config = SMALL_RENDER | {"width": 640, "height": 360, "fps": 25, "includeAudio": True}
    job = client.wait_job(client.render(project["id"], config))
    assert job["status"] == "complete"
    assert job["progress"] == 100
    assert job["error"] is None
    assert job["videoUrl"].startswith(client.engine.base_url + "/files/")
    response = _download(job["videoUrl"], tmp_path / "video.mp4")
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content) > 1000
    info = probe_media(tmp_path / "video.mp4")
    assert (info.width, info.height, info.fps) == (640, 360, 25)
    assert info.audio_codec is not None
    assert info.subtitle_codec is None
    composition = parse_composition(project["compositionHtml"])
    assert composition is not None
    assert info.duration == pytest.approx(composition.duration, abs=0.2)


def test_a_gif_is_served_as_a_gif(client: EngineClient, tmp_path: Path) -> None:
    project = client.new_project(templateId=WEEKLY_RECAP)
    job = client.wait_job(client.render(project["id"], SMALL_RENDER | {"format": "gif"}))
    response = _download(job["videoUrl"], tmp_path / "video.gif")
    assert response.headers["content-type"] == "image/gif"
    assert response.content[:6] in (b"GIF87a", b"GIF89a")
    assert job["videoUrl"].split("?")[0].endswith(".gif")


def test_links_expire_and_the_job_hands_out_fresh_ones(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(url_ttl_seconds=1)) as client:
        project = client.new_project(templateId=WEEKLY_RECAP)
        job = client.wait_job(client.render(project["id"]))
        old_url = job["videoUrl"]
        assert httpx.head(old_url).status_code == 200
        time.sleep(2.05)
        expired = httpx.get(old_url)
        assert expired.status_code == 403
        assert expired.json()["error"]["code"] == "FORBIDDEN"
        assert "expired" in expired.json()["error"]["message"]
        fresh = client.data(client.get(f"/render-jobs/{job['id']}"))["videoUrl"]
        assert fresh != old_url
        assert httpx.get(fresh).status_code == 200


def test_forged_or_unsigned_links_are_refused(client: EngineClient) -> None:
    project = client.new_project(templateId=WEEKLY_RECAP)
    url = client.wait_job(client.render(project["id"]))["videoUrl"]
    bare = url.split("?")[0]
    assert httpx.get(bare).status_code == 403
    assert httpx.get(url[:-1] + ("0" if url[-1] != "0" else "1")).status_code == 403
    later = url.replace("expires=", "expires=9")
    assert httpx.get(later).status_code == 403
    missing = client.engine.base_url + "/files/00000000-0000-0000-0000-000000000000.mp4"
    assert httpx.get(missing).status_code == 403
    assert httpx.get(client.engine.base_url + "/files/..%2Fengine.json").status_code == 404


def test_a_render_is_precharged_by_the_documented_formula(client: EngineClient) -> None:
    project = client.new_project(templateId=PRODUCT_LAUNCH)
    composition = parse_composition(project["compositionHtml"])
    assert composition is not None
    config = SMALL_RENDER | {"quality": "high", "fps": 48}
    expected = render_cost(RenderConfig.model_validate(config), composition.duration)
    job_id = client.render(project["id"], config)
    credits = client.data(client.get("/credits"))
    assert credits["balance"] == round(10_000 - expected, 2)
    assert credits["recent"][0] == credits["recent"][0] | {
        "type": "charge",
        "amount": expected,
        "jobId": job_id,
        "projectId": project["id"],
    }
    assert client.wait_job(job_id)["status"] == "complete"
    assert client.data(client.get("/credits"))["balance"] == round(10_000 - expected, 2)


def test_an_injected_render_failure_is_refunded(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(faults={"render_failure_rate": 1.0})) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        job_id = client.render(project["id"])
        assert client.data(client.get("/credits"))["balance"] < 10_000
        job = client.wait_job(job_id)
        assert job["status"] == "failed"
        assert job["videoUrl"] is None
        assert "injected" in job["error"]
        credits = client.data(client.get("/credits"))
        assert credits["balance"] == 10_000
        assert credits["used"] == credits["usedToday"] == 0
        refund, charge = credits["recent"][:2]
        assert (refund["type"], charge["type"]) == ("refund", "charge")
        assert refund["amount"] == charge["amount"] > 0
        assert refund["jobId"] == charge["jobId"] == job_id


def test_an_ffmpeg_failure_fails_the_job_and_refunds(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    broken = shutil.which("false") or "/bin/false"
    renderer = functools.partial(render_video, ffmpeg=broken)
    with EngineClient(make_engine(engine=Engine(fast_config(), renderer=renderer))) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        job = client.wait_job(client.render(project["id"]))
        assert job["status"] == "failed"
        assert job["error"].startswith("render failed: ffmpeg failed")
        assert client.data(client.get("/credits"))["balance"] == 10_000


def test_a_render_uses_the_composition_as_it_was_when_asked(make_engine: EngineFactory) -> None:
    rendered: list[str] = []

    def recording(
        html: str,
        config: RenderConfig,
        out_path: Path,
        *,
        on_progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> float:
        rendered.append(html)
        out_path.write_bytes(b"video")
        return 1.0

    running = make_engine(engine=Engine(fast_config(render_seconds=0.5), renderer=recording))
    with EngineClient(running) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        job_id = client.render(project["id"])
        task = client.wait_task(client.send(project["id"], "Remove scene 1."))
        client.wait_job(job_id)
        assert rendered == [project["compositionHtml"]]
        assert task["project"]["compositionHtml"] != project["compositionHtml"]


def test_the_api_stays_responsive_while_rendering(make_engine: EngineFactory) -> None:
    with EngineClient(make_engine(render_seconds=0.2)) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        jobs = [
            client.render(project["id"], SMALL_RENDER | {"width": 1280, "height": 720})
            for _ in range(2)
        ]
        slowest = 0.0
        while any(
            client.data(client.get(f"/render-jobs/{job}"))["status"] != "complete" for job in jobs
        ):
            started = time.monotonic()
            client.get("/me")
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.01)
        assert slowest < 0.5


# ----------------------------------------------------------------- stopping


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class QuickRenderer:
    """Writes a stand-in file at once and counts its calls; ``refuse`` fails any call."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.calls = 0
        self.refuse = refuse

    def __call__(
        self,
        html: str,
        config: RenderConfig,
        out_path: Path,
        *,
        on_progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> float:
        self.calls += 1
        if self.refuse:
            raise AssertionError("this render should not have run again")
        out_path.write_bytes(b"stand-in video")
        return 1.0


def test_stop_during_a_real_render_is_quick_and_the_job_resumes(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    first = make_engine(state_dir=state_dir)
    with EngineClient(first) as client:
        project = client.new_project(templateId=PRODUCT_LAUNCH)
        # 10 s of 4K at 60 fps, high quality: ffmpeg needs well over ten seconds for it.
        big = SMALL_RENDER | {"width": 3840, "height": 2160, "fps": 60, "quality": "high"}
        job_id = client.render(project["id"], big)
        # 27%: every card is drawn and ffmpeg is encoding.
        _wait_for(lambda: client.data(client.get(f"/render-jobs/{job_id}"))["progress"] >= 27)
        time.sleep(0.3)
    started = time.monotonic()
    first.stop()
    assert time.monotonic() - started < 3
    assert list((state_dir / "files").iterdir()) == []  # the partial file is gone
    saved = json.loads((state_dir / "jobs" / f"{job_id}.json").read_text())
    assert saved["status"] not in ("complete", "failed")

    renderer = QuickRenderer()
    second = make_engine(engine=Engine(fast_config(state_dir=state_dir), renderer=renderer))
    with EngineClient(second) as client:
        assert client.wait_job(job_id)["status"] == "complete"
        assert renderer.calls == 1
        recent = client.data(client.get("/credits"))["recent"]
        assert [item["type"] for item in recent] == ["charge"]  # neither refunded nor repaid


def test_a_render_stopped_after_its_file_was_made_is_recorded_complete(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    renderer = QuickRenderer()
    # The file is made after 25% of 5 s; the job would pace on for about 3 s more.
    config = fast_config(state_dir=state_dir, render_seconds=5)
    first = make_engine(engine=Engine(config, renderer=renderer))
    with EngineClient(first) as client:
        project = client.new_project(templateId=WEEKLY_RECAP)
        job_id = client.render(project["id"])
        _wait_for(lambda: renderer.calls == 1)
    started = time.monotonic()
    first.stop()
    assert time.monotonic() - started < 3
    saved = json.loads((state_dir / "jobs" / f"{job_id}.json").read_text())
    assert saved["status"] == "complete"

    again = QuickRenderer(refuse=True)
    second = make_engine(engine=Engine(fast_config(state_dir=state_dir), renderer=again))
    with EngineClient(second) as client:
        job = client.data(client.get(f"/render-jobs/{job_id}"))
        assert job["status"] == "complete"
        assert httpx.get(job["videoUrl"]).content == b"stand-in video"


def test_an_unrecorded_finished_file_completes_its_job_at_the_next_start(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    started_rendering = threading.Event()

    def endless(
        html: str,
        config: RenderConfig,
        out_path: Path,
        *,
        on_progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> float:
        started_rendering.set()
        assert cancel is not None
        assert cancel.wait(30), "the engine never cancelled the render"
        raise RenderCancelledError("cancelled")

    first = make_engine(engine=Engine(fast_config(state_dir=state_dir), renderer=endless))
    with EngineClient(first) as client:
        project = client.new_project(templateId=WEEKLY_RECAP)
        job_id = client.render(project["id"])
        assert started_rendering.wait(30)
    started = time.monotonic()
    first.stop()
    assert time.monotonic() - started < 3
    # As if the engine had died between ffmpeg's rename and the job's record.
    (state_dir / "files" / f"{job_id}.mp4").write_bytes(b"finished before the crash")

    second = make_engine(
        engine=Engine(fast_config(state_dir=state_dir), renderer=QuickRenderer(refuse=True))
    )
    with EngineClient(second) as client:
        job = client.wait_job(job_id)
        assert job["status"] == "complete"
        assert httpx.get(job["videoUrl"]).content == b"finished before the crash"
