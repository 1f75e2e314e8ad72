"""Real renders of a composition with ffmpeg: a storyboard video, one card per scene.

The ffmpeg binary comes from the ``imageio-ffmpeg`` wheel. Pillow draws each card
(:mod:`~parafraim_build.emulator.cards`); ffmpeg holds each card for its scene's duration and
encodes exactly ``config.width`` x ``config.height`` at ``config.fps`` (a GIF at most 50 fps):

* MP4: H.264, ``yuv420p`` for even sizes. 4:2:0 cannot encode an odd width or height, so an
  odd size (481x271 is a legal API value) is encoded ``yuv444p`` (High 4:4:4) at the exact
  size instead of being padded or scaled. Quality maps to CRF. With ``includeAudio`` an AAC
  track holds a quiet generated chord; with ``includeSubtitles`` a ``mov_text`` track holds
  one cue per scene.
* GIF: a palette made from the cards, no audio or subtitles, encoded at ``min(fps, 50)``.
  GIF frame delays are counted in hundredths of a second, so the muxer rounds each frame's
  timestamp to 1/100 s: at 30 fps the delays run 3, 3, 4 cs. Above 50 fps some delays would
  be 1 cs, and browsers show any delay of 1 cs or less as 10 cs, so a 60 fps GIF would play
  several times too slowly; at 50 fps every delay is 2 cs. The frame count is exactly
  ``duration x encoded fps`` and the total length is exact to 1/100 s.

Each scene lasts ``round(duration x fps)`` frames (at least one), so the video's length is
the sum of the scene durations to within one frame per scene.

A render can be cancelled from another thread (``cancel``): ffmpeg is killed at once, the
partial file removed and ``RenderCancelledError`` raised. The engine uses it so that a stop
never waits for a long render.
"""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from parafraim_build.api.models import RenderConfig
from parafraim_build.emulator.cards import draw_card
from parafraim_build.emulator.composition import Composition, parse_composition

# A composition longer than this is refused rather than rendered for minutes; the editor
# keeps compositions within 60 s.
MAX_RENDER_SECONDS = 600.0
CRF = {"draft": 32, "standard": 23, "high": 18}
PRESET = {"draft": "ultrafast", "standard": "veryfast", "high": "veryfast"}
AUDIO_BITRATE = "96k"
# Browsers show GIF delays of 1 cs or less as 10 cs; 50 fps is the fastest rate with 2 cs.
GIF_MAX_FPS = 50
# How often the ffmpeg watcher looks at the cancel event and the timeout.
_WATCH_SECONDS = 0.05
# Progress: drawing the cards is the first share of the work, encoding the rest.
_DRAWN = 10
_ENCODED = 99
_STDERR_TAIL = 1500


class RenderError(Exception):
    """The composition cannot be rendered, or ffmpeg failed; the message says why."""


class RenderCancelledError(RenderError):
    """The render was cancelled through its ``cancel`` event; no file was made."""


@dataclass(frozen=True)
class MediaInfo:
    """What ``ffmpeg -i`` says about a media file."""

    container: str
    width: int
    height: int
    fps: float
    duration: float
    video_codec: str
    audio_codec: str | None
    subtitle_codec: str | None
    pixel_format: str | None = None


@functools.cache
def ffmpeg_exe() -> str:
    """The path of the ffmpeg binary shipped by ``imageio-ffmpeg`` (or IMAGEIO_FFMPEG_EXE)."""
    import imageio_ffmpeg

    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise RenderError(f"ffmpeg is not available: {exc}") from exc


def scene_frames(composition: Composition, fps: int) -> list[int]:
    """How many frames each scene is shown for at ``fps``."""
    return [max(1, round(scene.duration * fps)) for scene in composition.scenes]


def encoded_fps(config: RenderConfig) -> int:
    """The frame rate of the file: ``config.fps``, but at most 50 for a GIF (see above)."""
    return min(config.fps, GIF_MAX_FPS) if config.format == "gif" else config.fps


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise RenderCancelledError("the render was cancelled")


def render_video(
    html: str,
    config: RenderConfig,
    out_path: Path,
    *,
    on_progress: Callable[[int], None] | None = None,
    ffmpeg: str | None = None,
    cancel: threading.Event | None = None,
) -> float:
    """Render the composition ``html`` to ``out_path``; return the video's length in seconds.

    Blocking and thread-safe. The file appears atomically (a temporary file in the same
    folder, then a rename), so a reader never sees half a video. ``on_progress`` receives
    rising integers from 0 to 100. ``ffmpeg`` overrides the binary (tests pass a failing one).
    Setting ``cancel`` (from any thread) stops the render within ~50 ms: ffmpeg is killed,
    nothing is left behind, and ``RenderCancelledError`` is raised.
    """
    composition = parse_composition(html)
    if composition is None or not composition.scenes:
        raise RenderError("the composition has no scenes to render")
    fps = encoded_fps(config)
    frames = scene_frames(composition, fps)
    total_frames = sum(frames)
    seconds = total_frames / fps
    if seconds > MAX_RENDER_SECONDS:
        raise RenderError(
            f"the composition lasts {seconds:.1f} s; the local engine renders at most "
            f"{MAX_RENDER_SECONDS:g} s"
        )
    progress = _Progress(on_progress)
    progress(0)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(
        prefix=f".{out_path.name}.", suffix=".part", dir=out_path.parent
    )
    os.close(handle)
    partial = Path(partial_name)
    try:
        with tempfile.TemporaryDirectory(prefix="parafraim-render-") as work_dir:
            work = Path(work_dir)
            cards = _draw_cards(composition, config, work, progress, cancel)
            inputs, graph, maps = _graph(composition, config, fps, cards, frames, work)
            command = [
                ffmpeg or ffmpeg_exe(),
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                *inputs,
                "-filter_complex",
                graph,
                *maps,
                *_codec_options(config, fps, total_frames),
                "-progress",
                "pipe:1",
                "-nostats",
                str(partial),
            ]
            _run(command, total_frames, progress, timeout=60 + seconds * 10, cancel=cancel)
        if partial.stat().st_size == 0:
            raise RenderError("ffmpeg wrote an empty file")
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)
    progress(100)
    return seconds


class _Progress:
    """Forwards only rising values, so callers never see progress go back."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self._callback = callback
        self._last = -1

    def __call__(self, value: float) -> None:
        current = max(0, min(100, int(value)))
        if self._callback is not None and current > self._last:
            self._last = current
            self._callback(current)


def _draw_cards(
    composition: Composition,
    config: RenderConfig,
    work: Path,
    progress: _Progress,
    cancel: threading.Event | None,
) -> list[Path]:
    paths = []
    count = len(composition.scenes)
    for index, scene in enumerate(composition.scenes, 1):
        _check(cancel)  # a 4K card takes a while to draw: a stop should not wait for all
        card = draw_card(
            scene,
            index=index,
            count=count,
            title=composition.title,
            width=config.width,
            height=config.height,
        )
        path = work / f"card-{index:03d}.png"
        # Fast compression: the card is decoded once and then held, size hardly matters.
        card.save(path, format="PNG", compress_level=1)
        paths.append(path)
        progress(_DRAWN * index / count)
    return paths


def _graph(
    composition: Composition,
    config: RenderConfig,
    fps: int,
    cards: Sequence[Path],
    frames: Sequence[int],
    work: Path,
) -> tuple[list[str], str, list[str]]:
    """ffmpeg inputs, the filter graph and the stream maps, at the encoded ``fps``."""
    count = len(cards)
    inputs: list[str] = []
    for card in cards:
        inputs += ["-i", str(card)]
    gif = config.format == "gif"
    chains: list[str] = []
    if gif:
        # The palette comes from the distinct cards, not from every frame: the same colours,
        # and memory does not grow with the length of the video.
        chains += [f"[{index}:v]split[c{index}][p{index}]" for index in range(count)]
        palette = "".join(f"[p{index}]" for index in range(count))
        chains.append(f"{palette}concat=n={count}:v=1:a=0,palettegen=stats_mode=full[pal]")
    # 4:2:0 needs even sizes; 4:4:4 keeps an odd size exact (see the module docstring).
    even = config.width % 2 == 0 and config.height % 2 == 0
    pixel_format = "rgb24" if gif else "yuv420p" if even else "yuv444p"
    for index, length in enumerate(frames):
        source = f"[c{index}]" if gif else f"[{index}:v]"
        # Decode and convert the card once, then repeat it for the scene at fps: the
        # per-frame work is left to the encoder alone.
        chains.append(
            f"{source}format={pixel_format},loop=loop={length - 1}:size=1:start=0,"
            f"settb=1/{fps},setpts=N[v{index}]"
        )
    story = "".join(f"[v{index}]" for index in range(count))
    if gif:
        chains.append(f"{story}concat=n={count}:v=1:a=0[story]")
        chains.append("[story][pal]paletteuse=dither=bayer:bayer_scale=3[out]")
        return inputs, ";".join(chains), ["-map", "[out]"]
    chains.append(f"{story}concat=n={count}:v=1:a=0[out]")
    maps = ["-map", "[out]"]
    next_input = count
    if config.includeAudio:
        inputs += ["-f", "lavfi", "-i", _tone(sum(frames) / fps)]
        maps += ["-map", f"{next_input}:a"]
        next_input += 1
    if config.includeSubtitles:
        subtitles = work / "subtitles.srt"
        subtitles.write_text(_srt(composition, frames, fps), encoding="utf-8")
        inputs += ["-i", str(subtitles)]
        maps += ["-map", f"{next_input}:s"]
    return inputs, ";".join(chains), maps


def _tone(seconds: float) -> str:
    """A quiet A-minor chord that fades in and out: audible, never annoying."""
    fade = min(0.5, seconds / 4)
    expression = "0.020*sin(2*PI*220*t)+0.014*sin(2*PI*261.63*t)+0.014*sin(2*PI*329.63*t)"
    return (
        f"aevalsrc=exprs='{expression}':sample_rate=44100:duration={seconds:.3f},"
        f"afade=t=in:d={fade:.3f},afade=t=out:st={max(0.0, seconds - fade):.3f}:d={fade:.3f}"
    )


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d},{millis:03d}"


def _srt(composition: Composition, frames: Sequence[int], fps: int) -> str:
    """One cue per scene, timed to the scene's frames: the heading, then the body."""
    cues = []
    start = 0
    for number, (scene, count) in enumerate(zip(composition.scenes, frames, strict=True), 1):
        end = start + count
        text = "\n".join(line for line in (scene.heading, scene.body) if line) or " "
        cues.append(f"{number}\n{_timestamp(start / fps)} --> {_timestamp(end / fps)}\n{text}\n")
        start = end
    return "\n".join(cues)


def _codec_options(config: RenderConfig, fps: int, total_frames: int) -> list[str]:
    options = ["-frames:v", str(total_frames), "-r", str(fps)]
    if config.format == "gif":
        return [*options, "-loop", "0", "-f", "gif"]
    options += [
        "-c:v",
        "libx264",
        "-preset",
        PRESET[config.quality],
        "-tune",
        "stillimage",
        "-crf",
        str(CRF[config.quality]),
        # A keyframe every two seconds keeps the video seekable.
        "-g",
        str(fps * 2),
    ]
    if config.includeAudio:
        options += ["-c:a", "aac", "-b:a", AUDIO_BITRATE]
    if config.includeSubtitles:
        options += ["-c:s", "mov_text", "-metadata:s:s:0", "language=eng"]
    return [*options, "-movflags", "+faststart", "-f", "mp4"]


def _run(
    command: list[str],
    total_frames: int,
    progress: _Progress,
    *,
    timeout: float,
    cancel: threading.Event | None,
) -> None:
    """Run ffmpeg, turning its ``-progress`` lines into progress, its failure into RenderError.

    A watcher thread kills ffmpeg when ``cancel`` is set or ``timeout`` passes, which ends the
    read loop below at once.
    """
    _check(cancel)
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            raise RenderError(f"cannot start ffmpeg: {exc}") from exc
        finished = threading.Event()
        killed_because: list[str] = []

        def watch() -> None:
            deadline = time.monotonic() + timeout
            while not finished.wait(_WATCH_SECONDS):
                if cancel is not None and cancel.is_set():
                    killed_because.append("cancelled")
                elif time.monotonic() >= deadline:
                    killed_because.append(f"timed out after {timeout:.0f} s")
                else:
                    continue
                process.kill()
                return

        watcher = threading.Thread(target=watch, name="ffmpeg-watcher", daemon=True)
        watcher.start()
        try:
            with process:
                assert process.stdout is not None
                for raw in process.stdout:
                    key, _, value = raw.decode("utf-8", "replace").strip().partition("=")
                    if key == "frame" and value.isdigit():
                        done = int(value) / max(total_frames, 1)
                        progress(_DRAWN + (_ENCODED - _DRAWN) * done)
        finally:
            finished.set()
            watcher.join()
        if killed_because == ["cancelled"]:
            raise RenderCancelledError("the render was cancelled")
        code = process.returncode
        if code != 0:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace")[-_STDERR_TAIL:].strip()
            reason = killed_because[0] if killed_because else f"exit code {code}"
            raise RenderError(f"ffmpeg failed ({reason}): {tail or 'no message'}")


# ------------------------------------------------------------------------------ probing

_INPUT = re.compile(r"^Input #0, (?P<formats>[\w,]+), from", re.MULTILINE)
_DURATION = re.compile(r"Duration: (?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #0:\d+.*?: (?P<kind>Video|Audio|Subtitle): (?P<rest>.*)$", re.M)
_SIZE = re.compile(r", (?P<w>\d+)x(?P<h>\d+)[,\s\[]")
_RATE = re.compile(r"(?P<value>\d+(?:\.\d+)?)(?P<k>k?) (?P<unit>tbr|fps)\b")


def _ffmpeg_info(path: Path) -> str:
    if not path.is_file():
        raise RenderError(f"{path} does not exist")
    try:
        result = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"cannot run ffmpeg on {path}: {exc}") from exc
    return result.stderr.decode("utf-8", "replace")


def probe_media(path: Path) -> MediaInfo:
    """Container, size, frame rate, length and streams of a media file, from ``ffmpeg -i``.

    imageio-ffmpeg ships ffmpeg but no ffprobe; ``ffmpeg -i`` prints the same facts. The
    frame rate is the stream's ``tbr`` (its real frame rate); for a GIF, whose delays are
    rounded to 1/100 s, it is the frame count over the length.
    """
    info = _ffmpeg_info(path)
    header = _INPUT.search(info)
    if header is None:
        raise RenderError(f"ffmpeg does not recognise {path}: {info.strip()[-300:]}")
    formats = header.group("formats").split(",")
    container = "mp4" if "mp4" in formats else formats[0]
    duration_match = _DURATION.search(info)
    duration = 0.0
    if duration_match:
        duration = (
            int(duration_match.group("h")) * 3600
            + int(duration_match.group("m")) * 60
            + float(duration_match.group("s"))
        )
    streams: dict[str, str] = {}
    for stream in _STREAM.finditer(info):
        streams.setdefault(stream.group("kind"), stream.group("rest"))
    video = streams.get("Video")
    if video is None:
        raise RenderError(f"{path} has no video stream")
    size = _SIZE.search(video)
    if size is None:
        raise RenderError(f"cannot read the frame size of {path}")
    rates = {match.group("unit"): _rate(match) for match in _RATE.finditer(video)}
    fps = rates.get("tbr", rates.get("fps", 0.0))
    if container == "gif" and duration > 0:
        # GIF delays are whole hundredths, so ffmpeg's guessed rate can be off (100 for a
        # 60 fps GIF whose delays run 2, 2, 1 cs); frames over length is the true rate.
        fps = round(count_frames(path) / duration, 2)
    return MediaInfo(
        container=container,
        width=int(size.group("w")),
        height=int(size.group("h")),
        fps=fps,
        duration=duration,
        video_codec=_codec(video),
        pixel_format=_pixel_format(video),
        audio_codec=_codec(streams["Audio"]) if "Audio" in streams else None,
        subtitle_codec=_codec(streams["Subtitle"]) if "Subtitle" in streams else None,
    )


def _rate(match: re.Match[str]) -> float:
    value = float(match.group("value"))
    return value * 1000 if match.group("k") else value


def _pixel_format(description: str) -> str | None:
    # "h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 480x270, ...": the second part.
    parts = re.split(r",\s*(?![^()]*\))", description)
    if len(parts) < 2:
        return None
    return parts[1].split("(", 1)[0].strip() or None


def _codec(description: str) -> str:
    return description.split(" ", 1)[0].rstrip(",")


def count_frames(path: Path) -> int:
    """The number of video frames in a file (packets of its first video stream)."""
    try:
        result = subprocess.run(
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-nostdin",
                "-i",
                str(path),
                "-map",
                "0:v:0",
                "-c",
                "copy",
                "-f",
                "null",
                "-",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"cannot run ffmpeg on {path}: {exc}") from exc
    found = re.findall(r"frame=\s*(\d+)", result.stderr.decode("utf-8", "replace"))
    if result.returncode != 0 or not found:
        raise RenderError(f"cannot count the frames of {path}")
    return int(found[-1])


def expected_duration(composition: Composition, fps: int) -> float:
    """The exact length :func:`render_video` gives ``composition`` at encoded rate ``fps``."""
    return math.fsum(scene_frames(composition, fps)) / fps
