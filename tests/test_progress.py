"""Progress of ``apply``: plain CI lines (with their heartbeat) and the live terminal table.

``parafraim_build.progress`` is the protocol; ``parafraim_build.console.progress`` holds both
reporters, tested here with an injected clock and a recording console.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest
from rich.console import Console

from parafraim_build.console.progress import HEARTBEAT_SECONDS, LiveReporter, PlainReporter
from parafraim_build.progress import ApplyReporter, NullReporter

STAMP = re.compile(r"^2025-01-31T09:30:00Z ")


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def plain(clock: Clock, lines: list[str]) -> PlainReporter:
    return PlainReporter(
        clock=clock,
        now=lambda: datetime(2025, 1, 31, 9, 30, tzinfo=timezone.utc),
        write=lines.append,
    )


def test_every_line_is_timestamped_and_names_its_video(
    plain: PlainReporter, lines: list[str]
) -> None:
    plain.video_started("launch", steps_total=2, actions_total=4)
    plain.action_started("launch", "step 1/2")
    assert lines == [
        "2025-01-31T09:30:00Z launch: started (4 actions)",
        "2025-01-31T09:30:00Z launch: step 1/2 ...",
    ]
    assert all(STAMP.match(line) for line in lines)


def test_the_heartbeat_fills_every_silence_while_work_runs(
    plain: PlainReporter, clock: Clock, lines: list[str]
) -> None:
    plain.video_started("launch", steps_total=2, actions_total=3)
    plain.action_started("launch", "step 1/2")
    plain.video_started("recap", steps_total=1, actions_total=1)
    plain.action_started("recap", "render hd")
    plain.render_progress("recap", "hd", "rendering", 40)
    said = len(lines)
    times = []
    for _ in range(180):  # three minutes of one tick a second, and no event
        clock.now += 1
        before = len(lines)
        plain.tick()
        if len(lines) > before:
            times.append(clock.now)
    gaps = [b - a for a, b in zip([clock.now - 180, *times], times, strict=False)]
    assert len(lines) - said == len(times) >= 6
    assert max(gaps) <= HEARTBEAT_SECONDS < 30
    beat = lines[said]
    assert beat.startswith("2025-01-31T09:30:00Z still working: ")
    assert "launch step 1/2 (25 s)" in beat
    assert "recap render hd rendering 40% (25 s)" in beat


def test_no_heartbeat_once_every_video_finished(
    plain: PlainReporter, clock: Clock, lines: list[str]
) -> None:
    plain.video_started("launch", steps_total=1, actions_total=1)
    plain.video_finished("launch", error=None)
    said = len(lines)
    for _ in range(120):
        clock.now += 1
        plain.tick()
    assert len(lines) == said


def test_an_event_resets_the_heartbeat(
    plain: PlainReporter, clock: Clock, lines: list[str]
) -> None:
    plain.video_started("launch", steps_total=1, actions_total=1)
    clock.now += HEARTBEAT_SECONDS - 1
    plain.action_started("launch", "step 1/1")
    clock.now += HEARTBEAT_SECONDS - 1
    plain.tick()
    assert not any("still working" in line for line in lines)
    clock.now += 1
    plain.tick()
    assert "still working" in lines[-1]


def test_one_line_per_render_status_not_per_percent(plain: PlainReporter, lines: list[str]) -> None:
    plain.video_started("launch", steps_total=0, actions_total=2)
    for status, percent in [
        ("pending", 0),
        ("pending", 0),
        ("generating", 5),
        ("rendering", 20),
        ("rendering", 55),
        ("rendering", 90),
        ("uploading", 95),
        ("complete", 100),
    ]:
        plain.render_progress("launch", "hd", status, percent)
    plain.render_progress("launch", "teaser", "pending", 0)
    rendered = [line.split(" ", 1)[1] for line in lines[1:]]
    assert rendered == [
        "launch: render hd: pending 0%",
        "launch: render hd: generating 5%",
        "launch: render hd: rendering 20%",
        "launch: render hd: uploading 95%",
        "launch: render hd: complete 100%",
        "launch: render teaser: pending 0%",
    ]


def test_a_finished_step_quotes_what_the_assistant_said_on_one_line(
    plain: PlainReporter, lines: list[str]
) -> None:
    plain.video_started("launch", steps_total=1, actions_total=1)
    plain.action_started("launch", "step 1/1")
    for delta in ["Added scene 2\n", "“Pricing” (4 s).", "  The video now has 2 scenes."]:
        plain.task_text("launch", delta)
    plain.action_finished("launch", "step 1/1", "composition 1a2b3c")
    assert lines[-1].endswith(
        "launch: step 1/1 done (composition 1a2b3c): "
        "Added scene 2 “Pricing” (4 s). The video now has 2 scenes."
    )
    plain.action_finished("launch", "render hd", "")
    assert lines[-1].endswith("launch: render hd done")


def test_a_long_reply_keeps_its_beginning_on_the_done_line(
    plain: PlainReporter, lines: list[str]
) -> None:
    plain.video_started("launch", steps_total=1, actions_total=1)
    plain.action_started("launch", "step 1/1")
    opening = "Added scene 2 “Pricing” with the three plans side by side."
    plain.task_text("launch", opening + " " + "Then I checked every caption. " * 10)
    plain.action_finished("launch", "step 1/1", "")
    said = lines[-1].split("launch: step 1/1 done: ", 1)[1]
    assert said.startswith(opening)
    assert said.endswith("…")
    assert len(said) == 120


def test_the_live_table_shows_the_newest_words_of_a_streaming_reply() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=False, width=160)
    with LiveReporter(console) as live:
        live.video_started("launch", steps_total=1, actions_total=1)
        live.action_started("launch", "step 1/1")
        live.task_text("launch", "Opening words. " + "filler " * 20 + "newest words")
    # Leaving the display draws the table once more, with the reply still streaming.
    text = screen.getvalue()
    assert "…" in text
    assert "newest words" in text
    assert "Opening words" not in text


def test_failures_waits_and_run_wide_notes(
    plain: PlainReporter, clock: Clock, lines: list[str]
) -> None:
    plain.video_started("launch", steps_total=1, actions_total=1)
    plain.waiting("launch", "for a free task slot (--parallelism)")
    clock.now += 12.5
    plain.video_finished("launch", error="step 1/1: the service ended the task error")
    plain.waiting("", "stopping: no new work starts")
    assert [line.split(" ", 1)[1] for line in lines[1:]] == [
        "launch: waiting: for a free task slot (--parallelism)",
        "launch: FAILED after 12.5 s: step 1/1: the service ended the task error",
        "stopping: no new work starts",
    ]


def test_the_live_table_shows_each_video_and_how_it_ended() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=False, width=160)
    with LiveReporter(console) as live:
        live.video_started("launch", steps_total=2, actions_total=3)
        live.video_started("recap", steps_total=1, actions_total=2)
        live.action_started("launch", "step 1/2")
        live.task_text("launch", "Added scene 2.")
        live.render_progress("recap", "hd", "rendering", 40)
        live.waiting("", "stopping: no new work starts")
        live.tick()
        live.video_finished("launch", error=None)
        live.video_finished("recap", error="render hd: the render job j1 ended failed")
    text = screen.getvalue()
    final = text[text.rindex("video") :]
    assert re.search(r"launch\s+done", final)
    assert re.search(r"recap\s+failed\s+render hd: the render job j1 ended failed", final)
    assert "stopping: no new work starts" in final


def test_both_reporters_and_the_null_one_satisfy_the_protocol() -> None:
    reporters: list[ApplyReporter] = [NullReporter(), PlainReporter(write=lambda _: None)]
    for reporter in reporters:
        reporter.video_started("v", steps_total=0, actions_total=0)
        reporter.preview_updated("v", "<html></html>")
        reporter.video_finished("v", error=None)
        reporter.tick()
