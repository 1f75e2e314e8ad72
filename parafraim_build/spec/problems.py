"""Collecting every problem of a spec so that one run reports all of them.

Stages of loading add problems here instead of raising, and go on with what is still usable;
``raise_if_any`` turns the lot into one ``SpecError``. Problems that differ only in which
matrix expansion they happened in are reported once, naming the videos concerned.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from parafraim_build.errors import SpecError, SpecProblem
from parafraim_build.spec.source import KeyPath, SourceText, format_key_path

# How many video names one grouped problem lists before it says "e.g.".
_LISTED_VIDEOS = 3


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` was most likely meant to be, or ``None`` when none is close.

    Case, ``_`` and ``-`` are ignored first (``aspect_ratio`` -> ``aspectRatio``), then
    ``difflib`` finds near spellings (``stpes`` -> ``steps``).
    """
    options = [choice for choice in choices if choice != word]
    normalized = {_fold(choice): choice for choice in options}
    folded = _fold(word)
    if folded in normalized:
        return normalized[folded]
    for candidate, choice in normalized.items():
        if sorted(candidate) == sorted(folded):  # two letters swapped: fsp -> fps
            return choice
    close = difflib.get_close_matches(folded, list(normalized), n=1, cutoff=0.7)
    return normalized[close[0]] if close else None


def _fold(word: str) -> str:
    return word.replace("_", "").replace("-", "").lower()


def suggestion(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    guess = did_you_mean(word, choices)
    return f" (did you mean '{guess}'?)" if guess else ""


@dataclass
class _Group:
    file: str
    line: int | None
    column: int | None
    message: str
    key_path: str
    source_line: str | None
    videos: list[str] = field(default_factory=list)


class ProblemCollector:
    """Accumulates problems; identical ones from several expansions are merged."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, int | None, int | None, str, str], _Group] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def add(
        self,
        source: SourceText,
        line: int | None,
        column: int | None,
        message: str,
        *,
        key_path: KeyPath = (),
        video: str | None = None,
    ) -> None:
        """Record a problem at ``line``/``column`` of ``source``.

        ``video`` names the expanded video the problem belongs to when the location alone
        does not say it (a matrix expansion, or a value inherited from ``defaults``).
        """
        path = format_key_path(key_path)
        identity = (source.display, line, column, message, path)
        group = self._groups.get(identity)
        if group is None:
            group = _Group(source.display, line, column, message, path, source.line(line))
            self._groups[identity] = group
        if video is not None and video not in group.videos:
            group.videos.append(video)

    def add_file(self, display: str, message: str) -> None:
        """Record a problem about a whole file (it is missing, unreadable, ...)."""
        self.add(SourceText(display, ()), None, None, message)

    def add_command_line(self, message: str) -> None:
        """Record a problem with a command-line option: it has no place in any file."""
        self.add(SourceText("", ()), None, None, message)

    def problems(self) -> list[SpecProblem]:
        """Every problem, in file order then line order."""
        ordered = sorted(
            self._groups.values(),
            key=lambda g: (g.file, g.line or 0, g.column or 0),
        )
        return [
            SpecProblem(
                file=group.file,
                line=group.line,
                column=group.column,
                message=group.message + _videos_note(group.videos),
                key_path=group.key_path,
                source_line=group.source_line,
            )
            for group in ordered
        ]

    def raise_if_any(self) -> None:
        """Raise one ``SpecError`` carrying every problem, if there is any."""
        if self._groups:
            raise SpecError(self.problems())


def _videos_note(videos: list[str]) -> str:
    if not videos:
        return ""
    if len(videos) == 1:
        return f" [in video {videos[0]}]"
    if len(videos) <= _LISTED_VIDEOS:
        return f" [in videos {', '.join(videos)}]"
    listed = ", ".join(videos[:_LISTED_VIDEOS])
    return f" [in {len(videos)} videos, e.g. {listed}]"
