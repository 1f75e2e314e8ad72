"""Reporting where a value came from, and rendering templates that report their own failures.

Expansion works on values that came from somewhere: a YAML scalar, a mapping key, an entry of
``defaults``, a line of a step file. ``Reporter`` turns a key path (and, for a template, the
line and name inside it) into ``FILE:LINE:COLUMN`` and counts failures so callers can tell
whether a video came out whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parafraim_build.secrets_check import looks_like_api_key
from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.source import KeyPath, Position, SourceText
from parafraim_build.spec.stepfiles import StepFile
from parafraim_build.spec.templating import Failures, TemplateFailure, Templates, name_offsets
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


def _nothing_broken(_name: str) -> bool:
    return False


class Reporter:
    """Locates problems in the spec (or a step file) and renders templates.

    ``broken`` says whether a variable's value was refused (and reported) already: a template
    that fails only because it cannot find such a variable still fails, but is not reported a
    second time.
    """

    def __init__(
        self,
        doc: YamlDocument,
        templates: Templates,
        problems: ProblemCollector,
        *,
        broken: Callable[[str], bool] = _nothing_broken,
    ) -> None:
        self.doc = doc
        self.templates = templates
        self.problems = problems
        self.failures = 0
        self._broken = broken

    def at(
        self,
        path: KeyPath,
        message: str,
        *,
        on_key: bool = False,
        scope: Scope | None = None,
    ) -> None:
        """A problem with the value at ``path`` (or with its key, when ``on_key``)."""
        self.failures += 1
        self.doc.report(self.problems, path, message, on_key=on_key, video=_label(scope, path))

    def refuse_api_key(
        self, path: KeyPath, what: str, value: str, scope: Scope | None, *, on_key: bool = False
    ) -> bool:
        """Report ``value`` (``what``, written at ``path``) when it looks like an API key, and
        say whether it did. The message names the place and the kind, never the value.

        Video keys, names, descriptions, template names, render names and ``outDir`` are sent
        to the service or written to the lock, which refuses key-like text (``secrets_check``):
        refused here, after templating, nothing is ever made that could not be recorded.
        """
        if not looks_like_api_key(value):
            return False
        self.at(
            path,
            f"{what} looks like an API key (pfk_...): keys belong in PARAFRAIM_API_KEY, never "
            "in the spec, whose names are sent to the service and written to the lock",
            on_key=on_key,
            scope=scope,
        )
        return True

    def render(self, text: str, path: KeyPath, scope: Scope, *, on_key: bool = False) -> str | None:
        """``text`` (written at ``path``) rendered in ``scope``; ``None`` once reported."""
        result = self.templates.render(text, scope.context)
        if isinstance(result, str):
            return result
        self.failures += 1
        span = self.doc.span(path)
        for failure in self._reportable(result):
            line = column = None
            if span is not None:
                if on_key and span.key is not None:
                    first, last, start = span.key.line, span.key.line, span.key
                else:
                    first, last, start = span.start.line, span.end_line, span.start
                guess = first
                if not on_key and failure.line is not None and span.style == "|":
                    # A literal block's content starts on the line after the `|` indicator.
                    guess = min(first + failure.line, last)
                line, column = find_name(self.doc.source, failure, guess, first, last, start)
            self._add(self.doc.source, line, column, failure.message, path, scope)
        return None

    def render_file(self, step_file: StepFile, path: KeyPath, scope: Scope) -> str | None:
        """A step file's text rendered in ``scope``; a failure names the file and its line."""
        result = self.templates.render(step_file.text, scope.context)
        if isinstance(result, str):
            return result
        self.failures += 1
        source = step_file.source
        last = max(len(source.lines), 1)
        for failure in self._reportable(result):
            guess = failure.line or 1
            line, column = find_name(source, failure, guess, 1, last, Position(guess, 1))
            self._add(source, line, column, failure.message, path, scope)
        return None

    def _reportable(self, failures: Failures) -> list[TemplateFailure]:
        return [
            failure
            for failure in failures
            if not (failure.undefined and failure.name and self._broken(failure.name))
        ]

    def _add(
        self,
        source: SourceText,
        line: int | None,
        column: int | None,
        message: str,
        path: KeyPath,
        scope: Scope | None,
    ) -> None:
        self.problems.add(source, line, column, message, key_path=path, video=_label(scope, path))


def _label(scope: Scope | None, path: KeyPath) -> str | None:
    if scope is None or scope.video is None:
        return None
    if scope.in_matrix or (path and path[0] == "defaults"):
        return scope.video
    return None


def find_name(
    source: SourceText,
    failure: TemplateFailure,
    guess: int,
    first: int,
    last: int,
    start: Position,
) -> tuple[int, int]:
    """Line and column of the failure's name within lines ``first``..``last``.

    Only template code is searched (inside ``{{ }}`` and ``{% %}``, outside quotes, and not
    before the value on its first line), preferring the ``guess`` line. Without a name, or
    when it cannot be found, the guess is returned: at the value's own column on its first
    line, and at the first non-blank character on later lines.
    """
    if failure.name:
        pieces: list[tuple[int, int, str]] = []  # line number, column offset, text
        for number in range(first, last + 1):
            text = source.line(number)
            if text is not None:
                skip = start.column - 1 if number == start.line else 0
                pieces.append((number, skip, text[skip:]))
        joined = "\n".join(text for _, _, text in pieces)
        offsets = name_offsets(joined, failure.name, attribute=failure.attribute)
        if not offsets and failure.attribute:
            offsets = name_offsets(joined, failure.name)
        found = [_line_and_column(pieces, offset) for offset in offsets]
        if found:
            return next((hit for hit in found if hit[0] == guess), found[0])
    if guess == start.line:
        return guess, start.column
    text = source.line(guess) or ""
    return guess, len(text) - len(text.lstrip()) + 1


def _line_and_column(pieces: list[tuple[int, int, str]], offset: int) -> tuple[int, int]:
    """The position in the file of ``offset`` into the pieces joined with newlines."""
    for number, skip, text in pieces[:-1]:
        if offset <= len(text):
            return number, skip + offset + 1
        offset -= len(text) + 1
    number, skip, _ = pieces[-1]
    return number, skip + offset + 1
