"""Real renders with ffmpeg: exact size, frame rate, length and streams of what was made."""

from __future__ import annotations

import re
import stat
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageSequence

from parafraim_build.api.models import RenderConfig
from parafraim_build.emulator.composition import Composition, Scene, render_composition_html
from parafraim_build.emulator.render import (
    MAX_RENDER_SECONDS,
    RenderCancelledError,
    RenderError,
    count_frames,
    encoded_fps,
    expected_duration,
    ffmpeg_exe,
    probe_media,
    render_video,
)
from parafraim_build.emulator.templates import find_template

SHORT = Composition(
    title="Render test",
    aspect_ratio="16:9",
    scenes=(
        Scene("scene-1", "First card", "Red background.", 1.0, "#C0392B"),
        Scene("scene-2", "Second card", "Blue background.", 1.5, "#2B6CB0"),
    ),
)
SHORT_HTML = render_composition_html(SHORT)


def render(tmp_path: Path, name: str, **config: Any) -> tuple[Path, float]:
    out = tmp_path / name
    seconds = render_video(SHORT_HTML, RenderConfig(**config), out)
    return out, seconds


def frame_at(path: Path, seconds: float, tmp_path: Path) -> Image.Image:
    """One decoded frame of a video, as an RGB image."""
    png = tmp_path / f"frame-{seconds}.png"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-ss",
            str(seconds),
            "-i",
            str(path),
            "-frames:v",
            "1",
            str(png),
        ],
        check=True,
    )
    return Image.open(png).convert("RGB")


def close(colour: tuple[int, ...], hex_colour: str, tolerance: int = 14) -> bool:
    wanted = (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], wanted, strict=True))


@pytest.mark.parametrize(
    ("audio", "subtitles"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_mp4_streams_size_fps_and_length(tmp_path: Path, audio: bool, subtitles: bool) -> None:
    out, seconds = render(
        tmp_path,
        "video.mp4",
        width=480,
        height=270,
        fps=24,
        quality="draft",
        includeAudio=audio,
        includeSubtitles=subtitles,
    )
    info = probe_media(out)
    assert (info.container, info.video_codec, info.pixel_format) == ("mp4", "h264", "yuv420p")
    assert (info.width, info.height, info.fps) == (480, 270, 24.0)
    assert seconds == pytest.approx(2.5)
    assert info.duration == pytest.approx(2.5, abs=0.06)
    assert count_frames(out) == 60
    assert info.audio_codec == ("aac" if audio else None)
    assert info.subtitle_codec == ("mov_text" if subtitles else None)


def test_an_odd_size_is_kept_exact_with_full_chroma(tmp_path: Path) -> None:
    out, _ = render(tmp_path, "odd.mp4", width=481, height=271, fps=30, includeAudio=False)
    info = probe_media(out)
    assert (info.width, info.height, info.fps) == (481, 271, 30.0)
    assert info.pixel_format == "yuv444p"
    assert count_frames(out) == 75


def gif_delays(path: Path) -> list[int]:
    """Each frame's delay in milliseconds, as a browser reads it from the file."""
    with Image.open(path) as gif:
        return [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]


@pytest.mark.parametrize(
    ("width", "height", "fps", "encoded"),
    [(480, 270, 25, 25), (480, 270, 30, 30), (481, 271, 50, 50), (481, 271, 60, 50)],
)
def test_gif_size_fps_and_length(
    tmp_path: Path, width: int, height: int, fps: int, encoded: int
) -> None:
    out, seconds = render(tmp_path, "teaser.gif", format="gif", width=width, height=height, fps=fps)
    info = probe_media(out)
    assert (info.container, info.video_codec) == ("gif", "gif")
    assert (info.width, info.height) == (width, height)
    assert (info.audio_codec, info.subtitle_codec) == (None, None)
    assert encoded_fps(RenderConfig(format="gif", fps=fps)) == encoded
    frames = round(1.0 * encoded) + round(1.5 * encoded)
    assert seconds == pytest.approx(frames / encoded)
    # Read the delays themselves: browsers play a delay of 10 ms or less as 100 ms, so none
    # may be that short, and together they must last exactly the video's length.
    delays = gif_delays(out)
    assert len(delays) == frames
    assert min(delays) >= 20
    assert sum(delays) == round(seconds * 1000)  # exact to the hundredth: 2.52 s at 25 fps
    assert info.fps == pytest.approx(encoded, abs=0.5)
    with Image.open(out) as gif:
        assert gif.size == (width, height)


def test_a_fast_gif_keeps_its_length_at_50_fps(tmp_path: Path) -> None:
    out, seconds = render(tmp_path, "fast.gif", format="gif", width=480, height=270, fps=60)
    assert seconds == 2.5
    assert set(gif_delays(out)) == {20}  # 2 cs each: as fast as browsers really play
    assert count_frames(out) == 125


def test_an_mp4_keeps_the_asked_frame_rate_above_50(tmp_path: Path) -> None:
    config = RenderConfig(fps=60, includeAudio=False, includeSubtitles=False)
    assert encoded_fps(config) == 60
    out, _ = render(
        tmp_path, "fast.mp4", width=480, height=270, fps=60, quality="draft", includeAudio=False
    )
    assert probe_media(out).fps == 60.0
    assert count_frames(out) == 150


def test_the_length_follows_the_scene_durations(tmp_path: Path) -> None:
    composition = Composition(
        "Durations",
        "1:1",
        tuple(
            Scene(f"scene-{n}", f"Card {n}", "", seconds, "#264653")
            for n, seconds in enumerate((0.5, 1.25, 2.0), 1)
        ),
    )
    out = tmp_path / "durations.mp4"
    config = RenderConfig(width=480, height=480, fps=24, includeAudio=False, quality="draft")
    seconds = render_video(render_composition_html(composition), config, out)
    assert seconds == expected_duration(composition, 24) == pytest.approx(3.75)
    assert count_frames(out) == 12 + 30 + 48
    assert probe_media(out).duration == pytest.approx(3.75, abs=0.05)


def test_each_scene_is_shown_for_its_duration(tmp_path: Path) -> None:
    out, _ = render(tmp_path, "cards.mp4", width=480, height=270, fps=24, includeAudio=False)
    # Sample a corner, away from the text: the gradient starts at the scene colour at the top.
    first = frame_at(out, 0.5, tmp_path).getpixel((470, 4))
    second = frame_at(out, 1.9, tmp_path).getpixel((470, 4))
    assert isinstance(first, tuple)
    assert isinstance(second, tuple)
    assert close(first, "#C0392B")
    assert close(second, "#2B6CB0")


def test_subtitles_have_one_cue_per_scene(tmp_path: Path) -> None:
    out, _ = render(tmp_path, "subs.mp4", width=480, height=270, fps=24, includeAudio=False)
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(out), "-map", "0:s:0", "-f", "srt", "-"],
        check=True,
        capture_output=True,
    )
    cues = result.stdout.decode()
    assert re.search(r"00:00:00,000 --> 00:00:01,000\s+First card\s+Red background\.", cues)
    assert re.search(r"00:00:01,000 --> 00:00:02,500\s+Second card\s+Blue background\.", cues)


def test_the_audio_track_is_quiet_but_not_silent(tmp_path: Path) -> None:
    out, _ = render(tmp_path, "audio.mp4", width=480, height=270, fps=24, includeSubtitles=False)
    result = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-i",
            str(out),
            "-map",
            "0:a",
            "-af",
            "volumedetect",
            "-f",
            "null",
            "-",
        ],
        check=True,
        capture_output=True,
    )
    peak = re.search(r"max_volume: (-?[\d.]+) dB", result.stderr.decode())
    assert peak is not None
    assert -50 < float(peak.group(1)) < -10


def test_a_template_renders_at_hd(tmp_path: Path) -> None:
    template = find_template("00000000-0000-0000-0000-000000000001")
    assert template is not None
    out = tmp_path / "launch.mp4"
    seconds = render_video(template.html, RenderConfig(width=1280, height=720, fps=30), out)
    info = probe_media(out)
    assert (info.width, info.height, info.fps) == (1280, 720, 30.0)
    assert (info.audio_codec, info.subtitle_codec) == ("aac", "mov_text")
    assert seconds == pytest.approx(10.0)
    assert count_frames(out) == 300


def test_progress_rises_from_0_to_100(tmp_path: Path) -> None:
    seen: list[int] = []
    render_video(
        SHORT_HTML,
        RenderConfig(width=480, height=270, fps=24),
        tmp_path / "p.mp4",
        on_progress=seen.append,
    )
    assert seen[0] == 0
    assert seen[-1] == 100
    assert seen == sorted(set(seen))
    assert all(isinstance(value, int) for value in seen)


@pytest.mark.parametrize(
    "html", ["", "<p>not a storyboard</p>", render_composition_html(Composition("E", "1:1", ()))]
)
def test_nothing_to_render_is_an_error(tmp_path: Path, html: str) -> None:
    with pytest.raises(RenderError, match="no scenes"):
        render_video(html, RenderConfig(), tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_an_overlong_composition_is_refused(tmp_path: Path) -> None:
    long = Composition(
        "Long", "16:9", (Scene("scene-1", "Long", "", MAX_RENDER_SECONDS + 1, "#000000"),)
    )
    with pytest.raises(RenderError, match="at most"):
        render_video(render_composition_html(long), RenderConfig(), tmp_path / "x.mp4")


def test_a_failing_ffmpeg_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'boom: invalid filter graph' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "video.mp4"
    out.write_bytes(b"previous render")
    with pytest.raises(RenderError, match=r"exit code 1.*boom: invalid filter graph"):
        render_video(SHORT_HTML, RenderConfig(width=480, height=270), out, ffmpeg=str(fake))
    assert out.read_bytes() == b"previous render"
    assert sorted(path.name for path in out_dir.iterdir()) == ["video.mp4"]


def test_a_cancelled_render_stops_at_once_and_leaves_nothing(tmp_path: Path) -> None:
    template = find_template("00000000-0000-0000-0000-000000000001")
    assert template is not None
    cancel = threading.Event()
    seen: list[int] = []

    def on_progress(value: int) -> None:
        seen.append(value)
        if value > 12:  # ffmpeg is encoding: cancel from another thread
            threading.Timer(0.2, cancel.set).start()

    out = tmp_path / "out" / "long.mp4"
    config = RenderConfig(width=1920, height=1080, fps=60, quality="high")  # ~4 s alone
    started = time.monotonic()
    with pytest.raises(RenderCancelledError):
        render_video(template.html, config, out, on_progress=on_progress, cancel=cancel)
    assert cancel.is_set()
    assert time.monotonic() - started < 3
    assert list(out.parent.iterdir()) == []
    assert seen[-1] < 100


def test_a_render_cancelled_before_it_starts_makes_nothing(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(RenderCancelledError):
        render_video(
            SHORT_HTML, RenderConfig(width=480, height=270), tmp_path / "x.mp4", cancel=cancel
        )
    assert list(tmp_path.iterdir()) == []


def test_probe_refuses_what_is_not_media(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(RenderError):
        probe_media(text)
    with pytest.raises(RenderError, match="does not exist"):
        probe_media(tmp_path / "missing.mp4")


def test_renders_run_in_parallel_threads(tmp_path: Path) -> None:
    configs = [
        RenderConfig(width=480, height=270, fps=24, quality="draft", includeAudio=False),
        RenderConfig(width=480, height=270, fps=30, format="gif"),
    ]

    def one(index: int) -> float:
        config = configs[index]
        return render_video(SHORT_HTML, config, tmp_path / f"{index}.{config.format}")

    with ThreadPoolExecutor(max_workers=2) as pool:
        lengths = list(pool.map(one, range(2)))
    assert lengths == [2.5, 2.5]
    assert probe_media(tmp_path / "0.mp4").fps == 24.0
    assert probe_media(tmp_path / "1.gif").fps == 30.0
