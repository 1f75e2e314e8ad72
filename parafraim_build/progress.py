"""What ``apply`` reports while it runs, as a protocol the console implements.

The executor calls these methods as things happen; it never prints. ``console.progress`` has
two implementations (a live display on a terminal, plain timestamped lines in CI) and
``NullReporter`` here is for ``--json`` runs and tests.
"""

from __future__ import annotations

from typing import Protocol


class ApplyReporter(Protocol):
    """Receives progress from the executor. Every method must return quickly."""

    def video_started(self, video: str, *, steps_total: int, actions_total: int) -> None:
        """A video's pipeline began."""

    def action_started(self, video: str, label: str) -> None:
        """An action began; ``label`` says what, e.g. ``step 2/3``, ``render hd``."""

    def task_text(self, video: str, delta: str) -> None:
        """A piece of the assistant's answer to the running step arrived."""

    def preview_updated(self, video: str, html: str) -> None:
        """The running step streamed a new HTML preview."""

    def render_progress(self, video: str, render: str, status: str, percent: int) -> None:
        """A render job moved on."""

    def action_finished(self, video: str, label: str, outcome: str) -> None:
        """An action ended well; ``outcome`` is a short note (e.g. ``12.3 MB``)."""

    def waiting(self, video: str, why: str) -> None:
        """The video waits for something other than its own work (a slot, a back-off).

        ``video`` is empty for a note about the whole run (e.g. that ^C stops new work).
        """

    def video_finished(self, video: str, *, error: str | None) -> None:
        """A video's pipeline ended, with the error that stopped it if any."""

    def tick(self) -> None:
        """Called about once a second while anything runs (heartbeats, redraws)."""


class NullReporter:
    """Reports nothing."""

    def video_started(self, video: str, *, steps_total: int, actions_total: int) -> None:
        pass

    def action_started(self, video: str, label: str) -> None:
        pass

    def task_text(self, video: str, delta: str) -> None:
        pass

    def preview_updated(self, video: str, html: str) -> None:
        pass

    def render_progress(self, video: str, render: str, status: str, percent: int) -> None:
        pass

    def action_finished(self, video: str, label: str, outcome: str) -> None:
        pass

    def waiting(self, video: str, why: str) -> None:
        pass

    def video_finished(self, video: str, *, error: str | None) -> None:
        pass

    def tick(self) -> None:
        pass
