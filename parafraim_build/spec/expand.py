"""Expansion: the shape-checked input document becomes the videos the planner consumes.

For every video entry and every combination of its matrix, strings are templated, the
``defaults`` are merged under the video, step files are read, and each value is checked
against the API's documented limits *after* templating, so that nothing the API would refuse
can reach it. Every problem is reported where it was written: the YAML value, the video key,
the ``defaults`` entry a value was inherited from, or the line of a step file. Steps and
renders have their own modules; this one owns the loop, the keys and the project fields.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from parafraim_build.api.models import (
    ASPECT_RATIOS,
    DESCRIPTION_MAX,
    NAME_MAX,
    UUID_PATTERN,
    AspectRatio,
)
from parafraim_build.spec import matrix
from parafraim_build.spec.document import SpecDocument, TemplateIdDocument, VideoDocument
from parafraim_build.spec.models import TemplateRef, Video
from parafraim_build.spec.renders import FILE_NAME, NAME_RULE, RenderMerger
from parafraim_build.spec.reporter import Reporter, Scope
from parafraim_build.spec.source import KeyPath, format_key_path
from parafraim_build.spec.stepfiles import StepFiles
from parafraim_build.spec.steps import StepExpander
from parafraim_build.spec.variables import Variables, variable_name_problem

_UUID = re.compile(UUID_PATTERN)
_ASPECT_RATIOS: dict[str, AspectRatio] = {ratio: ratio for ratio in get_args(AspectRatio)}


class Expander:
    """Expands every video of a shape-checked document; problems go to the reporter."""

    def __init__(
        self,
        spec: SpecDocument,
        variables: Variables,
        reporter: Reporter,
        step_files: StepFiles,
    ) -> None:
        self._spec = spec
        self._base = variables.context()
        self._report = reporter
        self._steps = StepExpander(reporter, step_files)
        self._renders = RenderMerger(reporter, spec.defaults.renders)
        # Case-folded key -> the key, entry and matrix combination that produced it first:
        # keys that differ only in case are one folder on macOS and Windows.
        self._seen: dict[str, tuple[str, str, dict[str, Any]]] = {}

    def videos(self) -> dict[str, Video]:
        """Every video of every entry, by expanded key; failed ones are left out."""
        result: dict[str, Video] = {}
        for raw_key, entry in self._spec.videos.items():
            path: KeyPath = ("videos", raw_key)
            if not self._matrix_ok(path, entry):
                continue
            for combination in matrix.expand(entry.matrix):
                # No video name yet: problems with the key itself quote the expanded key.
                scope = Scope({**self._base, **combination}, None, bool(combination))
                key = self._video_key(raw_key, combination, scope)
                if key is None:
                    continue
                scope = Scope({**scope.context, "video": key}, key, scope.in_matrix)
                video = self._video(raw_key, key, entry, scope)
                if video is not None:
                    result[key] = video
        return result

    def _matrix_ok(self, path: KeyPath, entry: VideoDocument) -> bool:
        before = self._report.failures
        for name, values in entry.matrix.items():
            reason = variable_name_problem(name)
            if reason is None and name in self._base:
                reason = f"matrix list '{name}' has the name of a variable in vars: rename one"
            if reason is not None:
                self._report.at((*path, "matrix", name), reason, on_key=True)
            for index, twice in matrix.repeated(values):
                self._report.at(
                    (*path, "matrix", name, index),
                    f"matrix list '{name}' has {twice!r} twice: every combination would be "
                    "built twice under one key; remove one",
                )
        count = matrix.expansion_count(entry.matrix)
        if count > matrix.MAX_EXPANSIONS:
            self._report.at(
                (*path, "matrix"),
                f"the matrix expands to {count} videos; at most {matrix.MAX_EXPANSIONS} per entry",
                on_key=True,
            )
        return self._report.failures == before

    def _video_key(self, raw_key: str, combination: dict[str, Any], scope: Scope) -> str | None:
        path: KeyPath = ("videos", raw_key)
        key = self._report.render(raw_key, path, scope, on_key=True)
        if key is None:
            return None
        origin = f" (expanded from '{raw_key}')" if key != raw_key else ""
        if not FILE_NAME.fullmatch(key):
            self._report.at(
                path,
                f"video key {key!r}{origin} is not a valid file name: {NAME_RULE} characters",
                on_key=True,
                scope=scope,
            )
            return None
        seen = self._seen.get(key.casefold())
        if seen is None:
            self._seen[key.casefold()] = (key, raw_key, combination)
            return key
        self._report.at(path, self._duplicate(key, origin, raw_key, combination, seen), on_key=True)
        return None

    def _duplicate(
        self,
        key: str,
        origin: str,
        raw_key: str,
        combination: dict[str, Any],
        first: tuple[str, str, dict[str, Any]],
    ) -> str:
        """Why ``key`` clashes with the ``first`` key of the same case-folded name."""
        first_key, first_raw, first_combination = first
        if first_key == key and first_raw == raw_key:
            return (
                f"video key '{key}' is produced by more than one matrix combination "
                f"({matrix.describe(first_combination)} and {matrix.describe(combination)}): "
                f"{self._key_advice(raw_key, combination)}"
            )
        where = format_key_path(("videos", first_raw)) + _line(self._report, first_raw)
        if first_key == key:
            return (
                f"video key '{key}'{origin} is also produced by {where}: two videos cannot "
                "share a key"
            )
        other = f"'{first_key}' of {where}"
        if first_raw == raw_key:
            other = f"'{first_key}' ({matrix.describe(first_combination)})"
            origin = f" ({matrix.describe(combination)})"
        return (
            f"video key '{key}'{origin} differs only in case from {other}: on macOS and "
            "Windows both would be one folder; rename one"
        )

    def _key_advice(self, raw_key: str, combination: dict[str, Any]) -> str:
        """What to put in a matrix key so that every combination gets its own."""
        used = self._report.templates.names_used(raw_key)
        unused = [name for name in combination if name not in used]
        if not unused:
            return "make the key tell the combinations apart"
        example = raw_key + "".join(f"-{{{{ {name} }}}}" for name in unused)
        return f"put the matrix variables in the key, e.g. {example}"

    def _video(self, raw_key: str, key: str, entry: VideoDocument, scope: Scope) -> Video | None:
        before = self._report.failures
        path: KeyPath = ("videos", raw_key)
        name = key
        if entry.name is not None:
            name = self._text(entry.name, (*path, "name"), scope, NAME_MAX, required=True) or key
        description = None
        if entry.description is not None:
            description = self._text(
                entry.description, (*path, "description"), scope, DESCRIPTION_MAX, required=False
            )
        template = self._template(path, entry, scope)
        self._refuse_key(path, entry, key, name, description, template, scope)
        aspect_ratio = self._aspect_ratio(path, entry, scope)
        steps = tuple(
            step
            for index, raw_step in enumerate(entry.steps)
            if (step := self._steps.step((*path, "steps", index), raw_step, scope)) is not None
        )
        renders = self._renders.renders(path, entry.renders, scope)
        if self._report.failures != before or aspect_ratio is None:
            return None
        return Video(
            key=key,
            name=name,
            description=description,
            template=template,
            aspectRatio=aspect_ratio,
            steps=steps,
            renders=renders,
        )

    def _refuse_key(
        self,
        path: KeyPath,
        entry: VideoDocument,
        key: str,
        name: str,
        description: str | None,
        template: TemplateRef | None,
        scope: Scope,
    ) -> None:
        """Report a key, name, description or template name that looks like an API key.

        They are sent to the service (``POST /projects``) or written to the lock (the key
        always is, as the video's entry and in its output paths), which refuses key-like text
        (``secrets_check``): caught here, nothing is ever sent or paid for.
        """
        own_template = "template" in entry.model_fields_set
        where_template = (*path, "template") if own_template else ("defaults", "template")
        fields: list[tuple[KeyPath, str, str | None, bool]] = [
            (path, "the video key", key, True),
            ((*path, "name"), "the video's name", name if entry.name is not None else None, False),
            ((*path, "description"), "the description", description, False),
            (where_template, "the template name", template.name if template else None, False),
        ]
        for where, what, value, on_key in fields:
            if value is not None:
                self._report.refuse_api_key(where, what, value, scope, on_key=on_key)

    def _text(
        self, text: str, path: KeyPath, scope: Scope, most: int, *, required: bool
    ) -> str | None:
        value = self._report.render(text, path, scope)
        if value is None:
            return None
        field = str(path[-1])
        if required and not value.strip():
            self._report.at(path, f"{field} is empty after templating", scope=scope)
            return None
        if len(value) > most:
            self._report.at(
                path,
                f"{field} is {len(value)} characters after templating; the API takes at most "
                f"{most}",
                scope=scope,
            )
            return None
        return value

    def _template(self, path: KeyPath, entry: VideoDocument, scope: Scope) -> TemplateRef | None:
        if "template" in entry.model_fields_set:
            value, where = entry.template, (*path, "template")
        else:
            value, where = self._spec.defaults.template, ("defaults", "template")
        if value is None:
            return None
        if isinstance(value, TemplateIdDocument):
            template_id = self._report.render(value.id, (*where, "id"), scope)
            if template_id is None:
                return None
            if not _UUID.fullmatch(template_id):
                self._report.at(
                    (*where, "id"),
                    f"template id {template_id!r} is not a UUID "
                    "(like 00000000-0000-0000-0000-000000000007)",
                    scope=scope,
                )
                return None
            return TemplateRef(id=template_id.lower())
        template_name = self._report.render(value, where, scope)
        if template_name is None:
            return None
        if not template_name.strip():
            self._report.at(where, "template name is empty after templating", scope=scope)
            return None
        return TemplateRef(name=template_name)

    def _aspect_ratio(
        self, path: KeyPath, entry: VideoDocument, scope: Scope
    ) -> AspectRatio | None:
        raw, where = entry.aspectRatio, (*path, "aspectRatio")
        if raw is None:
            raw, where = self._spec.defaults.aspectRatio, ("defaults", "aspectRatio")
        if raw is None:
            return "16:9"
        value = self._report.render(raw, where, scope)
        if value is None:
            return None
        ratio = _ASPECT_RATIOS.get(value)
        if ratio is None:
            self._report.at(
                where,
                f"aspectRatio {value!r} is not one of {', '.join(ASPECT_RATIOS)}",
                scope=scope,
            )
        return ratio


def _line(reporter: Reporter, raw_key: str) -> str:
    span = reporter.doc.span(("videos", raw_key))
    return f" (line {span.key.line})" if span is not None and span.key is not None else ""
