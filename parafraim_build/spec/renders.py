"""Renders: ``defaults.renders`` merged under a video's own, field by field, then the API's
defaults; names checked as file names, choices checked after templating.

Every render named in ``defaults.renders`` is given to every video; a video's render of the
same name overrides it field by field, and ``name: null`` drops it. Equal configs are built
once and shared, so a thousand matrix videos do not validate a thousand copies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from parafraim_build.api.models import RENDER_FORMATS, RENDER_QUALITIES, RenderConfig
from parafraim_build.spec.document import NAME_PATTERN, RenderDocument
from parafraim_build.spec.problems import suggestion
from parafraim_build.spec.reporter import Reporter, Scope
from parafraim_build.spec.source import KeyPath, format_key_path

FILE_NAME = re.compile(NAME_PATTERN)
NAME_RULE = "use letters, digits, '.', '_' and '-', start with a letter or digit, at most 64"
_CHOICES = (("format", RENDER_FORMATS), ("quality", RENDER_QUALITIES))


class RenderMerger:
    """Builds the render configs of one expansion of a video at a time."""

    def __init__(self, reporter: Reporter, inherited: Mapping[str, RenderDocument]) -> None:
        self._report = reporter
        self._inherited = inherited
        self._configs: dict[tuple[tuple[str, Any], ...], RenderConfig] = {}

    def renders(
        self, path: KeyPath, own: Mapping[str, RenderDocument | None], scope: Scope
    ) -> dict[str, RenderConfig]:
        """The renders of the video at ``path``, by expanded name; failed ones left out."""
        inherited = self._inherited
        result: dict[str, RenderConfig] = {}
        # Case-folded name -> the name and where it was written: HD and hd would be one file
        # on macOS and Windows.
        taken: dict[str, tuple[str, KeyPath]] = {}
        for raw_name in [*inherited, *(n for n in own if n not in inherited)]:
            own_path: KeyPath = (*path, "renders", raw_name)
            if raw_name in own and own[raw_name] is None:
                if raw_name not in inherited:
                    self._report.at(
                        own_path,
                        f"'{raw_name}: null' drops a render inherited from defaults, but "
                        f"defaults.renders has no '{raw_name}'{suggestion(raw_name, inherited)}",
                        on_key=True,
                        scope=scope,
                    )
                continue
            name_path = own_path if raw_name in own else ("defaults", "renders", raw_name)
            name = self._name(raw_name, name_path, taken, scope)
            if name is None:
                continue
            layers = [
                (("defaults", "renders", raw_name), inherited.get(raw_name)),
                (own_path, own.get(raw_name)),
            ]
            config = self._config(layers, scope)
            if config is not None:
                result[name] = config
        return result

    def _name(
        self,
        raw_name: str,
        path: KeyPath,
        taken: dict[str, tuple[str, KeyPath]],
        scope: Scope,
    ) -> str | None:
        name = self._report.render(raw_name, path, scope, on_key=True)
        if name is None:
            return None
        if not FILE_NAME.fullmatch(name):
            self._report.at(
                path,
                f"render name {name!r} is not a valid file name: {NAME_RULE} characters",
                on_key=True,
                scope=scope,
            )
            return None
        # The name is the output's file name, written to the lock with its path.
        if self._report.refuse_api_key(path, "the render name", name, scope, on_key=True):
            return None
        first = taken.get(name.casefold())
        if first is None:
            taken[name.casefold()] = (name, path)
            return name
        first_name, first_path = first
        position = self._report.doc.position(first_path, on_key=True)
        where = f"{format_key_path(first_path)}" + (f" (line {position.line})" if position else "")
        if first_name == name:
            message = f"two renders of this video are named '{name}' after templating"
        else:
            message = (
                f"render name '{name}' differs only in case from '{first_name}': on macOS and "
                "Windows both would be one file; rename one"
            )
        self._report.at(path, f"{message} (the other is {where})", on_key=True, scope=scope)
        return None

    def _config(
        self, layers: list[tuple[KeyPath, RenderDocument | None]], scope: Scope
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
        for field, choices in _CHOICES:
            if field not in values:
                continue
            value = self._report.render(values[field], where[field], scope)
            if value is None:
                ok = False
            elif value not in choices:
                self._report.at(
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
            # Ranges and types were checked on the input document, choices just above.
            config = self._configs[identity] = RenderConfig(**values)
        return config
