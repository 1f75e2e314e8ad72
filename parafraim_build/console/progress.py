"""Progress of ``apply``: a live per-video display on a terminal, plain lines in CI.

Both implement ``parafraim_build.progress.ApplyReporter`` and write to stderr, so that the
result (and ``--json``) on stdout stays clean.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from parafraim_build.console import stderr_console

HEARTBEAT_SECONDS = 25.0
"""Plain mode prints a line after this much silence while anything runs. The executor ticks
about once a second, so no gap between lines reaches the 30 s CI systems are promised."""

_TEXT_TAIL = 60
"""The live table shows this many characters of a reply while it streams."""

_SAID_HEAD = 120
"""A plain ``done`` line quotes this many characters of the finished reply."""


@dataclass
class _VideoState:
    steps_total: int
    status: str = "waiting"
    detail: str = ""
    started: float = 0.0
    text: list[str] = field(default_factory=list)
    error: str | None = None
    done: bool = False


def _head(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut at the end (``first…``).

    A finished reply opens with what the assistant did ("Added scene 2 ..."), so a record of
    it keeps the beginning.
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _tail(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut at the start (``…last``).

    While a reply streams, its newest words are what moves; showing them tells the user the
    task is alive, where a fixed beginning would look stuck.
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else "…" + flat[-(limit - 1) :]


class PlainReporter:
    """Timestamped lines, one per event that matters, and a heartbeat while work runs."""

    def __init__(
        self,
        *,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        write: Callable[[str], None] | None = None,
    ) -> None:
        self._heartbeat = heartbeat_seconds
        self._clock = clock
        self._now = now
        self._write = write or (lambda line: click.echo(line, err=True))
        self._videos: dict[str, _VideoState] = {}
        self._last_line = clock()
        self._render_status: dict[tuple[str, str], str] = {}

    def _emit(self, video: str | None, message: str) -> None:
        stamp = self._now().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._write(f"{stamp} {video + ': ' if video else ''}{message}")
        self._last_line = self._clock()

    def video_started(self, video: str, *, steps_total: int, actions_total: int) -> None:
        self._videos[video] = _VideoState(steps_total=steps_total, started=self._clock())
        noun = "action" if actions_total == 1 else "actions"
        self._emit(video, f"started ({actions_total} {noun})")

    def action_started(self, video: str, label: str) -> None:
        state = self._videos.get(video)
        if state is not None:
            state.status, state.detail, state.text = label, "", []
        self._emit(video, f"{label} ...")

    def task_text(self, video: str, delta: str) -> None:
        state = self._videos.get(video)
        if state is not None:
            state.text.append(delta)

    def preview_updated(self, video: str, html: str) -> None:
        state = self._videos.get(video)
        if state is not None:
            state.detail = "preview updated"

    def render_progress(self, video: str, render: str, status: str, percent: int) -> None:
        state = self._videos.get(video)
        if state is not None:
            state.detail = f"{status} {percent}%"
        # One line per status change, not per percent: CI logs stay readable.
        if self._render_status.get((video, render)) != status:
            self._render_status[(video, render)] = status
            self._emit(video, f"render {render}: {status} {percent}%")

    def action_finished(self, video: str, label: str, outcome: str) -> None:
        state = self._videos.get(video)
        said = ""
        if state is not None and state.text:
            said = f": {_head(''.join(state.text), _SAID_HEAD)}"
            state.text = []
        self._emit(video, f"{label} done{' (' + outcome + ')' if outcome else ''}{said}")

    def waiting(self, video: str, why: str) -> None:
        if not video:
            self._emit(None, why)
            return
        state = self._videos.get(video)
        if state is not None:
            state.detail = why
        self._emit(video, f"waiting: {why}")

    def video_finished(self, video: str, *, error: str | None) -> None:
        state = self._videos.get(video)
        if state is not None:
            state.done, state.error = True, error
        elapsed = self._clock() - state.started if state is not None else 0.0
        if error is None:
            self._emit(video, f"finished in {elapsed:.1f} s")
        else:
            self._emit(video, f"FAILED after {elapsed:.1f} s: {error}")

    def tick(self) -> None:
        if self._clock() - self._last_line < self._heartbeat:
            return
        running = [
            f"{key} {state.status}{' ' + state.detail if state.detail else ''}"
            f" ({self._clock() - state.started:.0f} s)"
            for key, state in sorted(self._videos.items())
            if not state.done
        ]
        if running:
            self._emit(None, "still working: " + "; ".join(running))


class LiveReporter:
    """A table on the terminal, one row per video, redrawn as events arrive.

    ``console`` is where it draws (stderr by default; tests pass a recording console).
    """

    def __init__(self, console: Console | None = None) -> None:
        self._videos: dict[str, _VideoState] = {}
        self._notice = ""
        self._live = Live(
            self._table(),
            console=console or stderr_console(),
            refresh_per_second=8,
            transient=False,
        )

    def __enter__(self) -> LiveReporter:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._redraw()
        self._live.__exit__(exc_type, exc, traceback)

    def _table(self) -> Table:
        table = Table(
            box=None,
            show_header=True,
            header_style="bold",
            expand=False,
            caption=self._notice or None,
            caption_justify="left",
        )
        table.add_column("video", no_wrap=True)
        table.add_column("doing", no_wrap=True)
        table.add_column("detail", overflow="ellipsis", no_wrap=True, max_width=72)
        for key, state in sorted(self._videos.items()):
            if state.error is not None:
                doing, style = "failed", "red"
                detail = state.error
            elif state.done:
                doing, style, detail = "done", "green", ""
            else:
                doing, style = state.status, "cyan"
                # Still streaming (a finished action replaces the detail): the tail moves.
                detail = state.detail or _tail("".join(state.text), _TEXT_TAIL)
            table.add_row(key, Text(doing, style=style), detail)
        return table

    def _redraw(self) -> None:
        self._live.update(self._table())

    def video_started(self, video: str, *, steps_total: int, actions_total: int) -> None:
        self._videos[video] = _VideoState(steps_total=steps_total, started=time.monotonic())
        self._redraw()

    def _state(self, video: str) -> _VideoState:
        # An event for a video the display has not heard of yet still gets a row.
        return self._videos.setdefault(video, _VideoState(steps_total=0, started=time.monotonic()))

    def action_started(self, video: str, label: str) -> None:
        state = self._state(video)
        state.status, state.detail, state.text = label, "", []
        self._redraw()

    def task_text(self, video: str, delta: str) -> None:
        state = self._state(video)
        state.text.append(delta)
        state.detail = ""
        self._redraw()

    def preview_updated(self, video: str, html: str) -> None:
        pass

    def render_progress(self, video: str, render: str, status: str, percent: int) -> None:
        self._state(video).detail = f"{status} {percent}%"
        self._redraw()

    def action_finished(self, video: str, label: str, outcome: str) -> None:
        self._state(video).detail = f"{label} done" + (f" ({outcome})" if outcome else "")
        self._redraw()

    def waiting(self, video: str, why: str) -> None:
        if video:
            self._state(video).detail = why
        else:  # about the whole run (e.g. ^C): a line under the table
            self._notice = why
        self._redraw()

    def video_finished(self, video: str, *, error: str | None) -> None:
        state = self._state(video)
        state.done, state.error = True, error
        self._redraw()

    def tick(self) -> None:
        self._redraw()


def use_live_display() -> bool:
    """A live display only on an interactive terminal outside CI."""
    return sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"
