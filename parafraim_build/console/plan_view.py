"""The readable plan: one symbol per kind of action, the reasons, warnings, a summary line.

    parafraim-build plan: 3 videos, 1 unchanged
    + launch  use template "Product launch" (00000000-0000-0000-0000-000000000001)
        + send step 1/2     "Make the opening more direct for Acme."  (new video)
        + render hd         1920x1080 30fps mp4 standard  (new video)
    -/+ recap-de  replace project p-7: step 1 differs from the applied history ...

    Symbols: + create or add, -/+ replace
    Plan: 2 projects, 3 messages, 2 renders, 0 downloads, 0 removals. Estimated credits: 24.3
    (estimate; local engine prices)

``format_plan`` builds the text (colour only when asked); ``print_plan`` prints it with colour
on a terminal unless ``NO_COLOR`` is set.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

import click

from parafraim_build.api.models import RenderConfig
from parafraim_build.lock_model import BlankSource
from parafraim_build.plan_model import PROJECT_KINDS, Action, ActionKind, Plan, VideoPlan

SYMBOLS: dict[ActionKind, str] = {
    "create_project": "+",
    "use_template": "+",
    "replace_project": "-/+",
    "send_message": "+",
    "resume_task": ">",
    "render": "+",
    "resume_render": ">",
    "download": "<",
    "copy_cached": "=",
    "remove_output": "-",
}
_COLOURS = {"+": "green", "-/+": "magenta", ">": "cyan", "<": "cyan", "=": "blue", "-": "red"}
_LEGEND = {
    "+": "create or add",
    "-/+": "replace",
    "~": "update in place",
    ">": "resume",
    "<": "download again",
    "=": "copy from the run cache (or move)",
    "-": "remove",
}
_EXCERPT = 48

NO_CHANGES = "No changes: every video is up to date."
"""What ``plan`` says when nothing would change; ``apply`` says the same (``apply_view``)."""


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def print_plan(plan: Plan, *, err: bool = False) -> None:
    """Print the readable plan on stdout (on stderr with ``err``)."""
    colour = use_colour(sys.stderr if err else sys.stdout)
    click.echo(format_plan(plan, colour=colour), color=colour, err=err)


def format_plan(plan: Plan, *, colour: bool = False) -> str:
    """The plan as text; ANSI colour codes only with ``colour``."""
    changed = [video for video in plan.videos if video.changes]
    unchanged = len(plan.videos) - len(changed)
    total = len(plan.videos)
    lines = [
        f"parafraim-build plan: {total} video{'s' if total != 1 else ''}, {unchanged} unchanged"
    ]
    symbols: list[str] = []
    for video in plan.videos:
        if video.changes:
            lines += _video_lines(video, colour, symbols)
        elif video.warnings:
            # Up to date, but with something to say: under its own name, like a change.
            lines.append(f"  {_style(video.video, colour, bold=True)}  up to date")
            lines += [_warning(text, colour) for text in video.warnings]
    lines.append("")
    if not plan.changes:
        lines.append(NO_CHANGES)
        return "\n".join(lines)
    legend = [f"{symbol} {_LEGEND[symbol]}" for symbol in _LEGEND if symbol in symbols]
    lines.append("Symbols: " + ", ".join(legend))
    lines.append(
        f"{_summary(plan)} Estimated credits: {format_credits(plan.estimated_credits)} "
        f"(estimate; {plan.cost_label})"
    )
    return "\n".join(lines)


def format_credits(value: float) -> str:
    """``42.5``, ``3``, ``0.25``: at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _style(text: str, colour: bool, fg: str | None = None, bold: bool = False) -> str:
    return click.style(text, fg=fg, bold=bold) if colour else text


def _symbol(symbol: str, colour: bool, used: list[str]) -> str:
    used.append(symbol)
    return _style(symbol, colour, _COLOURS.get(symbol, "yellow"), bold=True)


def _warning(text: str, colour: bool) -> str:
    return "    " + _style("warning:", colour, "yellow", bold=True) + " " + text


def _video_lines(video: VideoPlan, colour: bool, used: list[str]) -> list[str]:
    project = next((a for a in video.actions if a.kind in PROJECT_KINDS), None)
    name = _style(video.video, colour, bold=True)
    if video.drop_video:
        head = f"{_symbol('-', colour, used)} {name}  no longer in the spec"
    elif project is not None and project.reuse is not None and project.reuse.own:
        # The video stays in its project (a replace_project in the fixed vocabulary, with
        # the project itself as the reuse): shown as the update in place it is.
        head = f"{_symbol('~', colour, used)} {name}  take back project {video.project_id}: "
        head += project.reason
    elif project is not None and project.kind == "replace_project":
        head = f"{_symbol('-/+', colour, used)} {name}  replace project {video.project_id}: "
        head += project.reason
    elif project is not None:
        head = f"{_symbol('+', colour, used)} {name}  {_project_text(project)}"
    else:
        head = f"{_symbol('~', colour, used)} {name}  project {video.project_id}"
    lines = [head]
    for action in video.actions:
        if action is project:
            continue
        label, detail = _describe(action, video.steps_total)
        symbol = _symbol(SYMBOLS[action.kind], colour, used)
        lines.append(f"    {symbol} {label:<18} {detail}")
    lines += [_warning(text, colour) for text in video.warnings]
    return lines


def _project_text(action: Action) -> str:
    recipe = action.recipe
    if recipe is None:
        return action.reason
    source = recipe.source
    if isinstance(source, BlankSource):
        what = f"create a blank {source.aspectRatio} project"
    else:
        what = f"use {source.describe()}"
    return f'{what} named "{recipe.name}"'


def _describe(action: Action, steps_total: int) -> tuple[str, str]:
    """(label, detail) of one action line."""
    kind = action.kind
    if kind in ("send_message", "resume_task"):
        verb = "send" if kind == "send_message" else "resume"
        label = f"{verb} step {action.step}/{steps_total}"
        if action.message is not None:
            return label, f"{_excerpt(action.message.message)}  ({action.reason})"
        return label, action.reason
    if kind == "remove_output":
        if action.path is None:
            return ("forget " + action.render if action.render else "remove entry"), action.reason
        # apply deletes only the file it recorded: one changed since is kept.
        where = f"{action.path}, if unchanged" if action.expected_sha256 else action.path
        return f"remove {action.render}", f"{where}  ({action.reason})"
    if kind == "copy_cached" and action.source_path is not None:
        detail = f"from {action.source_path}  ({action.reason})"
        return f"move {action.render}", detail
    verbs = {
        "render": "render",
        "resume_render": "resume render",
        "download": "download",
        "copy_cached": "copy",
    }
    label = f"{verbs.get(kind, kind)} {action.render}"
    config = _config_text(action.config) if action.config is not None else ""
    return label, f"{config}  ({action.reason})" if config else action.reason


def _excerpt(message: str) -> str:
    text = " ".join(message.split())
    if len(text) > _EXCERPT:
        text = text[: _EXCERPT - 1].rstrip() + "…"
    return f'"{text}"'


def _config_text(config: RenderConfig) -> str:
    parts = [
        f"{config.width}x{config.height}",
        f"{config.fps}fps",
        config.format,
        config.quality,
    ]
    if not config.includeAudio:
        parts.append("no audio")
    if not config.includeSubtitles:
        parts.append("no subtitles")
    return " ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _summary(plan: Plan) -> str:
    counts = plan.summary()
    # A project reused from the run cache, or a video's own taken back, costs nothing:
    # counted apart from new ones.
    reuses = [a.reuse for video in plan.videos for a in video.actions if a.reuse is not None]
    taken = sum(1 for reuse in reuses if reuse.own)
    reused = len(reuses) - taken
    projects = sum(counts[kind] for kind in PROJECT_KINDS) - len(reuses)
    parts = [
        _count(projects, "project"),
        _count(counts["send_message"], "message"),
        _count(counts["render"], "render"),
        _count(counts["download"], "download"),
    ]
    if taken:
        parts.insert(1, f"{taken} project{'' if taken == 1 else 's'} taken back")
    if reused:
        parts.insert(1, f"{reused} project{'' if reused == 1 else 's'} reused")
    if resumed := counts["resume_task"] + counts["resume_render"]:
        parts.append(f"{resumed} resumed")
    # An output moved to a new outDir is a copy_cached too, but nothing comes from the cache.
    moved = sum(
        1
        for video in plan.videos
        for action in video.actions
        if action.kind == "copy_cached" and action.source_path is not None
    )
    if copied := counts["copy_cached"] - moved:
        parts.append(f"{copied} copied from the run cache")
    if moved:
        parts.append(f"{moved} moved")
    parts.append(_count(counts["remove_output"], "removal"))
    return "Plan: " + ", ".join(parts) + "."
