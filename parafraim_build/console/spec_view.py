"""How the spec commands print: the validate summary, the expanded spec, the schema, init.

Plain aligned lines rather than a rich table: ``validate`` may list a thousand matrix videos,
and CI logs read plain text best.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parafraim_build import console
from parafraim_build.api.models import RenderConfig
from parafraim_build.spec.models import Spec, Video
from parafraim_build.spec.starter import InitResult


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def describe_render(name: str, config: RenderConfig) -> str:
    """``hd 1920x1080 30fps mp4`` (quality, audio and subtitles only when not the default)."""
    text = f"{name} {config.width}x{config.height} {config.fps}fps {config.format}"
    extras: list[str] = []
    if config.quality != "standard":
        extras.append(config.quality)
    if not config.includeAudio:
        extras.append("no audio")
    if not config.includeSubtitles:
        extras.append("no subtitles")
    return text + (f" ({', '.join(extras)})" if extras else "")


def _source(video: Video) -> str:
    return f"blank {video.aspectRatio}" if video.template is None else video.template.describe()


def summary_lines(spec: Spec, display: str) -> list[str]:
    """The ``validate`` summary: totals, then one line per video."""
    videos = list(spec.videos.values())
    steps = sum(len(video.steps) for video in videos)
    renders = sum(len(video.renders) for video in videos)
    out_dir = spec.out_dir.relative_to(spec.root).as_posix()
    lines = [
        f"{display} is valid: {_plural(len(videos), 'video')}, {_plural(steps, 'step')}, "
        f"{_plural(renders, 'render')} (outputs in {out_dir}/)"
    ]
    if not videos:
        return lines
    key_width = max(len(video.key) for video in videos)
    source_width = max(len(_source(video)) for video in videos)
    for video in videos:
        outputs = ", ".join(describe_render(n, c) for n, c in video.renders.items()) or "no renders"
        lines.append(
            f"  {video.key:<{key_width}}  {_source(video):<{source_width}}  "
            f"{_plural(len(video.steps), 'step'):>8}  {outputs}"
        )
    return lines


def print_spec_summary(spec: Spec, display: str) -> None:
    """What ``validate`` prints on success."""
    for line in summary_lines(spec, display):
        console.out(line)


def print_spec_json(spec: Spec) -> None:
    """``validate --json``: the fully expanded spec, keys sorted."""
    console.print_json(spec.canonical())


def print_schema(schema: Mapping[str, Any]) -> None:
    """``schema``: the JSON Schema of the input document."""
    console.print_json(schema)


def print_init_result(result: InitResult, *, cwd: Path) -> None:
    """``init``: what was written, and what to run next."""

    def shown(path: Path) -> str:
        try:
            return path.resolve().relative_to(cwd.resolve()).as_posix()
        except ValueError:
            return str(path)

    for path in result.created:
        console.out(f"created {shown(path)}")
    if result.gitignore_added:
        console.out(f"added {', '.join(result.gitignore_added)} to {shown(result.gitignore)}")
    spec = shown(result.created[0]) if result.created else "parafraim.yaml"
    flag = "" if spec == "parafraim.yaml" else f" -f {spec}"
    console.out(f"next: edit {spec}, then run `parafraim-build validate{flag}`")
