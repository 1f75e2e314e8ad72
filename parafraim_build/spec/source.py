"""Where things are in a spec: key paths, positions and the text they point into.

These are the plain types every stage of loading shares, so that a problem found anywhere
(YAML syntax, a wrong type, a bad template, a limit) can name ``FILE:LINE:COLUMN``, the dotted
key path and the offending line.
"""

from __future__ import annotations

from dataclasses import dataclass

KeyPath = tuple[str | int, ...]
"""A location in the YAML document: mapping keys and list indexes from the top."""


@dataclass(frozen=True)
class Position:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True)
class NodeSpan:
    """Where a YAML value sits, and where its key is when it is a mapping value.

    ``style`` is the scalar style PyYAML reports (``None`` plain, ``'`` or ``"`` quoted,
    ``|`` literal block, ``>`` folded block) and ``text`` the scalar exactly as written; both
    are ``None`` for mappings and lists.
    """

    start: Position
    end_line: int
    key: Position | None = None
    style: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class SourceText:
    """A file's text split into lines, as shown in problems (``display`` is its name)."""

    display: str
    lines: tuple[str, ...]

    @classmethod
    def from_text(cls, display: str, text: str) -> SourceText:
        """Split ``text`` into lines the way YAML and editors count them."""
        return cls(display, tuple(text.splitlines()))

    def line(self, number: int | None) -> str | None:
        """The text of 1-based line ``number``, or ``None`` when there is no such line."""
        if number is None or not 1 <= number <= len(self.lines):
            return None
        return self.lines[number - 1]


def format_key_path(path: KeyPath) -> str:
    """``("videos", "launch", "steps", 2)`` -> ``videos.launch.steps[2]``.

    A key that holds a dot or a bracket is written ``["a.b"]`` so that the path stays
    unambiguous.
    """
    text = ""
    for item in path:
        if isinstance(item, int):
            text += f"[{item}]"
        elif "." in item or "[" in item or "]" in item or not item:
            text += f'["{item}"]'
        else:
            text += f".{item}" if text else item
    return text
