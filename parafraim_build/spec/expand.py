"""Expansion: the shape-checked input document becomes the videos the planner consumes.

For every video entry and every combination of its matrix, strings are templated, the
``defaults`` are merged under the video, step files are read, and each value is checked
against the API's documented limits *after* templating, so that nothing the API would refuse
can reach it. Every problem is reported where it was written: the YAML value, the video key,
the ``defaults`` entry a value was inherited from, or the line of a step file.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import ValidationError

from parafraim_build.api.models import (
    ASPECT_RATIOS,
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    RENDER_FORMATS,
    RENDER_QUALITIES,
    SELECTED_ELEMENTS_MAX,
    UUID_PATTERN,
    AspectRatio,
    RenderConfig,
)
from parafraim_build.spec import matrix
from parafraim_build.spec.document import (
    NAME_PATTERN,
    FileStepDocument,
    MessageStepDocument,
    RenderDocument,
    SpecDocument,
    TemplateIdDocument,
    VideoDocument,
)
from parafraim_build.spec.models import Step, TemplateRef, Video
from parafraim_build.spec.problems import ProblemCollector, suggestion
from parafraim_build.spec.source import KeyPath, Position, SourceText, format_key_path
from parafraim_build.spec.stepfiles import StepFiles
from parafraim_build.spec.templating import TemplateFailure, Templates
from parafraim_build.spec.yamlsource import YamlDocument

_FILE_NAME = re.compile(NAME_PATTERN)
_UUID = re.compile(UUID_PATTERN)
_ASPECT_RATIOS: dict[str, AspectRatio] = {ratio: ratio for ratio in get_args(AspectRatio)}
RESERVED_NAMES = frozenset({"video", "vars"})
"""Template variables the tool defines itself; a var or matrix list may not take them."""
_NAME_RULE = "use letters, digits, '.', '_' and '-', start with a letter or digit, at most 64"


def variable_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a template variable, or ``None`` when it can."""
    if name in RESERVED_NAMES:
        return f"'{name}' is reserved: the tool sets it for every video"
    if not name.isidentifier() or keyword.iskeyword(name) or name in ("true", "false", "none"):
        return (
            f"'{name}' is not a usable variable name: use letters, digits and _, "
            "not starting with a digit"
        )
    return None


@dataclass(frozen=True)
class _Scope:
    """One expansion of one video entry: the template variables and how problems name it."""

    context: Mapping[str, Any]
    video: str | None
    in_matrix: bool


class Expander:
    """Expands every video of a shape-checked document; problems go to the collector."""

    def __init__(
        self,
        doc: YamlDocument,
        spec: SpecDocument,
        variables: Mapping[str, Any],
        templates: Templates,
        step_files: StepFiles,
        problems: ProblemCollector,
    ) -> None:
        self._doc = doc
        self._spec = spec
        self._base: dict[str, Any] = {**variables, "vars": dict(variables)}
        self._templates = templates
        self._step_files = step_files
        self._problems = problems
        self._failures = 0
        self._configs: dict[tuple[tuple[str, Any], ...], RenderConfig] = {}
        # Expanded key -> the entry and matrix combination that produced it first.
        self._seen: dict[str, tuple[str, dict[str, Any]]] = {}

    # ------------------------------------------------------------------ reporting

    def _at(
        self,
        path: KeyPath,
        message: str,
        *,
        on_key: bool = False,
        scope: _Scope | None = None,
    ) -> None:
        span = self._doc.span(path)
        position: Position | None = None
        if span is not None:
            position = span.key if on_key and span.key is not None else span.start
        self._failures += 1
        self._problems.add(
            self._doc.source,
            position.line if position else None,
            position.column if position else None,
            message,
            key_path=path,
            video=_label(scope, path),
        )

    def _template_problem(
        self, path: KeyPath, failure: TemplateFailure, *, on_key: bool, scope: _Scope | None
    ) -> None:
        span = self._doc.span(path)
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
            line, column = _find_name(self._doc.source, failure.name, guess, first, last, start)
        self._failures += 1
        self._problems.add(
            self._doc.source,
            line,
            column,
            failure.message,
            key_path=path,
            video=_label(scope, path),
        )

    def _render(
        self, text: str, path: KeyPath, scope: _Scope, *, on_key: bool = False
    ) -> str | None:
        result = self._templates.render(text, scope.context)
        if isinstance(result, TemplateFailure):
            self._template_problem(path, result, on_key=on_key, scope=scope)
            return None
        return result

    # ------------------------------------------------------------------ videos

    def videos(self) -> dict[str, Video]:
        """Every video of every entry, by expanded key; failed ones are left out."""
        result: dict[str, Video] = {}
        for raw_key, entry in self._spec.videos.items():
            path: KeyPath = ("videos", raw_key)
            if not self._matrix_ok(path, entry):
                continue
            for combination in matrix.expand(entry.matrix):
                # No video name yet: problems with the key itself quote the expanded key.
                scope = _Scope({**self._base, **combination}, None, bool(combination))
                key = self._video_key(raw_key, combination, scope)
                if key is None:
                    continue
                scope = _Scope({**scope.context, "video": key}, key, scope.in_matrix)
                video = self._video(raw_key, key, entry, scope)
                if video is not None:
                    result[key] = video
        return result

    def _matrix_ok(self, path: KeyPath, entry: VideoDocument) -> bool:
        before = self._failures
        for name in entry.matrix:
            reason = variable_name_problem(name)
            if reason is None and name in self._base:
                reason = f"matrix list '{name}' has the name of a variable in vars: rename one"
            if reason is not None:
                self._at((*path, "matrix", name), reason, on_key=True)
        count = matrix.expansion_count(entry.matrix)
        if count > matrix.MAX_EXPANSIONS:
            self._at(
                (*path, "matrix"),
                f"the matrix expands to {count} videos; at most {matrix.MAX_EXPANSIONS} per entry",
                on_key=True,
            )
        return self._failures == before

    def _video_key(self, raw_key: str, combination: dict[str, Any], scope: _Scope) -> str | None:
        path: KeyPath = ("videos", raw_key)
        key = self._render(raw_key, path, scope, on_key=True)
        if key is None:
            return None
        origin = f" (expanded from '{raw_key}')" if key != raw_key else ""
        if not _FILE_NAME.match(key):
            self._at(
                path,
                f"video key '{key}'{origin} is not a valid file name: {_NAME_RULE} characters",
                on_key=True,
                scope=scope,
            )
            return None
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = (raw_key, combination)
            return key
        first, first_combination = seen
        if first == raw_key:
            example = f"{raw_key}-{{{{ {next(iter(combination))} }}}}"
            self._at(
                path,
                f"video key '{key}' is produced by more than one matrix combination "
                f"({matrix.describe(first_combination)} and {matrix.describe(combination)}): "
                f"put the matrix variables in the key, e.g. {example}",
                on_key=True,
            )
        else:
            other = self._doc.span(("videos", first))
            where = f" (line {other.key.line})" if other and other.key else ""
            self._at(
                path,
                f"video key '{key}'{origin} is also produced by "
                f"{format_key_path(('videos', first))}{where}: two videos cannot share a key",
                on_key=True,
                scope=scope,
            )
        return None

    def _video(self, raw_key: str, key: str, entry: VideoDocument, scope: _Scope) -> Video | None:
        before = self._failures
        path: KeyPath = ("videos", raw_key)
        name = key
        if entry.name is not None:
            name = self._checked_text(entry.name, (*path, "name"), scope, 1, NAME_MAX) or key
        description = None
        if entry.description is not None:
            description = self._checked_text(
                entry.description, (*path, "description"), scope, 0, DESCRIPTION_MAX
            )
        template = self._template(path, entry, scope)
        aspect_ratio = self._aspect_ratio(path, entry, scope)
        steps = tuple(
            step
            for index, raw_step in enumerate(entry.steps)
            if (step := self._step((*path, "steps", index), raw_step, scope)) is not None
        )
        renders = self._renders(path, entry, scope)
        if self._failures != before or aspect_ratio is None:
            return None
        try:
            return Video(
                key=key,
                name=name,
                description=description,
                template=template,
                aspectRatio=aspect_ratio,
                steps=steps,
                renders=renders,
            )
        except ValidationError as exc:  # pragma: no cover - every field was checked above
            self._at(path, f"video cannot be built: {exc.errors()[0]['msg']}", scope=scope)
            return None

    def _checked_text(
        self, text: str, path: KeyPath, scope: _Scope, least: int, most: int
    ) -> str | None:
        value = self._render(text, path, scope)
        if value is None:
            return None
        field = str(path[-1])
        if least and not value.strip():
            self._at(path, f"{field} is empty after templating", scope=scope)
            return None
        if len(value) > most:
            self._at(
                path,
                f"{field} is {len(value)} characters after templating; the API takes at most "
                f"{most}",
                scope=scope,
            )
            return None
        return value

    def _template(self, path: KeyPath, entry: VideoDocument, scope: _Scope) -> TemplateRef | None:
        if "template" in entry.model_fields_set:
            value, where = entry.template, (*path, "template")
        else:
            value, where = self._spec.defaults.template, ("defaults", "template")
        if value is None:
            return None
        if isinstance(value, TemplateIdDocument):
            template_id = self._render(value.id, (*where, "id"), scope)
            if template_id is None:
                return None
            if not _UUID.match(template_id):
                self._at(
                    (*where, "id"),
                    f"template id {template_id!r} is not a UUID "
                    "(like 00000000-0000-0000-0000-000000000007)",
                    scope=scope,
                )
                return None
            return TemplateRef(id=template_id.lower())
        template_name = self._render(value, where, scope)
        if template_name is None:
            return None
        if not template_name.strip():
            self._at(where, "template name is empty after templating", scope=scope)
            return None
        return TemplateRef(name=template_name)

    def _aspect_ratio(
        self, path: KeyPath, entry: VideoDocument, scope: _Scope
    ) -> AspectRatio | None:
        raw, where = entry.aspectRatio, (*path, "aspectRatio")
        if raw is None:
            raw, where = self._spec.defaults.aspectRatio, ("defaults", "aspectRatio")
        if raw is None:
            return "16:9"
        value = self._render(raw, where, scope)
        if value is None:
            return None
        ratio = _ASPECT_RATIOS.get(value)
        if ratio is not None:
            return ratio
        self._at(
            where,
            f"aspectRatio {value!r} is not one of {', '.join(ASPECT_RATIOS)}",
            scope=scope,
        )
        return None

    # ------------------------------------------------------------------ steps

    def _step(
        self, path: KeyPath, raw: str | MessageStepDocument | FileStepDocument, scope: _Scope
    ) -> Step | None:
        before = self._failures
        if isinstance(raw, str):
            message = self._message(self._render(raw, path, scope), path, scope, None)
            return Step(message=message) if message is not None else None
        if isinstance(raw, FileStepDocument):
            message = self._file_message(raw.file, (*path, "file"), scope)
        else:
            rendered = self._render(raw.message, (*path, "message"), scope)
            message = self._message(rendered, (*path, "message"), scope, None)
        selected = None
        if raw.selectedElement is not None:
            selected = self._render_json(raw.selectedElement, (*path, "selectedElement"), scope)
        elements = None
        if raw.selectedElements is not None:
            elements = [
                self._render_json(element, (*path, "selectedElements", index), scope)
                for index, element in enumerate(raw.selectedElements)
            ]
        total = len(raw.selectedElements or ()) + (raw.selectedElement is not None)
        if total > SELECTED_ELEMENTS_MAX:
            self._at(
                path,
                f"the step selects {total} elements in all (selectedElement and "
                f"selectedElements); the API takes at most {SELECTED_ELEMENTS_MAX}",
                scope=scope,
            )
        if message is None or self._failures != before:
            return None
        return Step(
            message=message,
            selectedElement=selected,
            selectedElements=tuple(elements) if elements is not None else None,
        )

    def _message(
        self, rendered: str | None, path: KeyPath, scope: _Scope, origin: str | None
    ) -> str | None:
        """The message as sent: surrounding whitespace trimmed, length within the limit."""
        if rendered is None:
            return None
        message = rendered.strip()
        what = f"the message from {origin}" if origin else "the message"
        if not message:
            self._at(path, f"{what} is empty after templating", scope=scope)
            return None
        if len(message) > MESSAGE_MAX:
            self._at(
                path,
                f"{what} is {len(message)} characters after templating; the API takes at most "
                f"{MESSAGE_MAX}",
                scope=scope,
            )
            return None
        return message

    def _file_message(self, raw_name: str, path: KeyPath, scope: _Scope) -> str | None:
        name = self._render(raw_name, path, scope)
        if name is None:
            return None
        found = self._step_files.read(name)
        if found is None:
            self._failures += 1
            return None
        if isinstance(found, str):
            self._at(path, found, scope=scope)
            return None
        rendered = self._templates.render(found.text, scope.context)
        if isinstance(rendered, TemplateFailure):
            self._file_template_problem(found.source, rendered, path, scope)
            return None
        return self._message(rendered, path, scope, found.relative)

    def _file_template_problem(
        self, source: SourceText, failure: TemplateFailure, path: KeyPath, scope: _Scope
    ) -> None:
        line = failure.line or 1
        last = max(len(source.lines), 1)
        line, column = _find_name(source, failure.name, line, 1, last, Position(line, 1))
        self._failures += 1
        self._problems.add(
            source, line, column, failure.message, key_path=path, video=_label(scope, path)
        )

    def _render_json(self, value: Any, path: KeyPath, scope: _Scope) -> Any:
        """A selected element with every string in it templated."""
        if isinstance(value, str):
            return self._render(value, path, scope)
        if isinstance(value, dict):
            return {k: self._render_json(v, (*path, k), scope) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render_json(v, (*path, i), scope) for i, v in enumerate(value)]
        return value

    # ------------------------------------------------------------------ renders

    def _renders(
        self, path: KeyPath, entry: VideoDocument, scope: _Scope
    ) -> dict[str, RenderConfig]:
        inherited = self._spec.defaults.renders
        own = entry.renders
        result: dict[str, RenderConfig] = {}
        for raw_name in [*inherited, *(n for n in own if n not in inherited)]:
            own_path: KeyPath = (*path, "renders", raw_name)
            if raw_name in own and own[raw_name] is None:
                if raw_name not in inherited:
                    self._at(
                        own_path,
                        f"'{raw_name}: null' drops a render inherited from defaults, but "
                        f"defaults.renders has no '{raw_name}'{suggestion(raw_name, inherited)}",
                        on_key=True,
                        scope=scope,
                    )
                continue
            name_path = own_path if raw_name in own else ("defaults", "renders", raw_name)
            name = self._render(raw_name, name_path, scope, on_key=True)
            if name is None:
                continue
            if not _FILE_NAME.match(name):
                self._at(
                    name_path,
                    f"render name '{name}' is not a valid file name: {_NAME_RULE} characters",
                    on_key=True,
                    scope=scope,
                )
                continue
            if name in result:
                self._at(
                    name_path,
                    f"two renders of this video are named '{name}' after templating",
                    on_key=True,
                    scope=scope,
                )
                continue
            layers = [
                (("defaults", "renders", raw_name), inherited.get(raw_name)),
                (own_path, own.get(raw_name)),
            ]
            config = self._render_config(layers, scope)
            if config is not None:
                result[name] = config
        return result

    def _render_config(
        self, layers: list[tuple[KeyPath, RenderDocument | None]], scope: _Scope
    ) -> RenderConfig | None:
        values: dict[str, Any] = {}
        where: dict[str, KeyPath] = {}
        for layer_path, layer in layers:
            if layer is None:
                continue
            for field in RenderDocument.model_fields:
                value = getattr(layer, field)
                if value is not None:
                    values[field], where[field] = value, (*layer_path, field)
        ok = True
        for field, choices in (("format", RENDER_FORMATS), ("quality", RENDER_QUALITIES)):
            if field not in values:
                continue
            value = self._render(values[field], where[field], scope)
            if value is None:
                ok = False
            elif value not in choices:
                self._at(
                    where[field],
                    f"{field} {value!r} is not one of {', '.join(choices)}",
                    scope=scope,
                )
                ok = False
            else:
                values[field] = value
        if not ok:
            return None
        identity = tuple(sorted(values.items()))
        config = self._configs.get(identity)
        if config is None:
            config = self._configs[identity] = RenderConfig(**values)
        return config


def _label(scope: _Scope | None, path: KeyPath) -> str | None:
    """The video to name in a problem when its location alone does not say which one."""
    if scope is None or scope.video is None:
        return None
    if scope.in_matrix or (path and path[0] == "defaults"):
        return scope.video
    return None


def _find_name(
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
