"""Reporting where a value came from, and rendering templates that report their own failures.

Expansion works on values that came from somewhere: a YAML scalar, a mapping key, an entry of
``defaults``, a line of a step file. ``Reporter`` turns a key path (and, for a template, the
line and name inside it) into ``FILE:LINE:COLUMN`` and counts failures so callers can tell
whether a video came out whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.source import KeyPath, Position, SourceText
from parafraim_build.spec.stepfiles import StepFile
from parafraim_build.spec.templating import TemplateFailure, Templates
from parafraim_build.spec.yamlsource import YamlDocument


@dataclass(frozen=True)
class Scope:
    """One expansion of one video entry: its template variables and how problems name it.

    ``video`` is the expanded key once known; it is added to a problem's message when the
    location alone does not say which video it is (a matrix expansion, or a value inherited
    from ``defaults``).
    """

    context: Mapping[str, Any]
    video: str | None
    in_matrix: bool


class Reporter:
    """Locates problems in the spec (or a step file) and renders templates."""

    def __init__(self, doc: YamlDocument, templates: Templates, problems: ProblemCollector) -> None:
        self.doc = doc
        self.templates = templates
        self.problems = problems
        self.failures = 0

    def at(
        self,
        path: KeyPath,
        message: str,
        *,
        on_key: bool = False,
        scope: Scope | None = None,
    ) -> None:
        """A problem with the value at ``path`` (or with its key, when ``on_key``)."""
        span = self.doc.span(path)
        position: Position | None = None
        if span is not None:
            position = span.key if on_key and span.key is not None else span.start
        self._add(
            self.doc.source,
            position.line if position else None,
            position.column if position else None,
            message,
            path,
            scope,
        )

    def render(self, text: str, path: KeyPath, scope: Scope, *, on_key: bool = False) -> str | None:
        """``text`` (written at ``path``) rendered in ``scope``; ``None`` once reported."""
        result = self.templates.render(text, scope.context)
        if not isinstance(result, TemplateFailure):
            return result
        span = self.doc.span(path)
        line = column = None
        if span is not None:
            if on_key and span.key is not None:
                first, last, start = span.key.line, span.key.line, span.key
            else:
                first, last, start = span.start.line, span.end_line, span.start
            guess = first
            if not on_key and result.line is not None and span.style == "|":
                # A literal block's content starts on the line after the `|` indicator.
                guess = min(first + result.line, last)
            line, column = find_name(self.doc.source, result.name, guess, first, last, start)
        self._add(self.doc.source, line, column, result.message, path, scope)
        return None

    def render_file(self, step_file: StepFile, path: KeyPath, scope: Scope) -> str | None:
        """A step file's text rendered in ``scope``; a failure names the file and its line."""
        result = self.templates.render(step_file.text, scope.context)
        if not isinstance(result, TemplateFailure):
            return result
        source = step_file.source
        line = result.line or 1
        line, column = find_name(
            source, result.name, line, 1, max(len(source.lines), 1), Position(line, 1)
        )
        self._add(source, line, column, result.message, path, scope)
        return None

    def _add(
        self,
        source: SourceText,
        line: int | None,
        column: int | None,
        message: str,
        path: KeyPath,
        scope: Scope | None,
    ) -> None:
        self.failures += 1
        self.problems.add(source, line, column, message, key_path=path, video=_label(scope, path))


def _label(scope: Scope | None, path: KeyPath) -> str | None:
    if scope is None or scope.video is None:
        return None
    if scope.in_matrix or (path and path[0] == "defaults"):
        return scope.video
    return None


def find_name(
    source: SourceText,
    name: str | None,
    guess: int,
    first: int,
    last: int,
    start: Position,
) -> tuple[int, int]:
    """Line and column of ``name`` near ``guess`` within lines ``first``..``last``.

    Without a name (or when it cannot be found) the guess is returned, at the value's own
    column on its first line and at the first non-blank character on later lines.
    """
    if name:
        for number in [guess, *range(first, last + 1)]:
            text = source.line(number)
            if text is None:
                continue
            offset = start.column - 1 if number == start.line else 0
            found = text.find(name, offset)
            if found >= 0:
                return number, found + 1
    if guess == start.line:
        return guess, start.column
    text = source.line(guess) or ""
    return guess, len(text) - len(text.lstrip()) + 1
