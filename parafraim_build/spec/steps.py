"""Steps: each edit templated, its file read, its selection checked, as the API will get it."""

from __future__ import annotations

from typing import Any

from parafraim_build.api.models import MESSAGE_MAX, SELECTED_ELEMENTS_MAX
from parafraim_build.spec.document import FileStepDocument, MessageStepDocument
from parafraim_build.spec.models import Step
from parafraim_build.spec.reporter import Reporter, Scope
from parafraim_build.spec.source import KeyPath
from parafraim_build.spec.stepfiles import StepFiles

StepInput = str | MessageStepDocument | FileStepDocument


class StepExpander:
    """Turns the steps of the input document into ``Step``s for one expansion at a time."""

    def __init__(self, reporter: Reporter, step_files: StepFiles) -> None:
        self._report = reporter
        self._step_files = step_files

    def step(self, path: KeyPath, raw: StepInput, scope: Scope) -> Step | None:
        """The step written at ``path``, or ``None`` when it has a problem (reported)."""
        before = self._report.failures
        if isinstance(raw, str):
            message = self._message(self._report.render(raw, path, scope), path, scope, None)
            return Step(message=message) if message is not None else None
        if isinstance(raw, FileStepDocument):
            message = self._file_message(raw.file, (*path, "file"), scope)
        else:
            rendered = self._report.render(raw.message, (*path, "message"), scope)
            message = self._message(rendered, (*path, "message"), scope, None)
        selected = None
        if raw.selectedElement is not None:
            selected = self._render_json(raw.selectedElement, (*path, "selectedElement"), scope)
        elements = None
        if raw.selectedElements is not None:
            elements = tuple(
                self._render_json(element, (*path, "selectedElements", index), scope)
                for index, element in enumerate(raw.selectedElements)
            )
        total = len(raw.selectedElements or ()) + (raw.selectedElement is not None)
        if total > SELECTED_ELEMENTS_MAX:
            self._report.at(
                path,
                f"the step selects {total} elements in all (selectedElement and "
                f"selectedElements); the API takes at most {SELECTED_ELEMENTS_MAX}",
                scope=scope,
            )
        if message is None or self._report.failures != before:
            return None
        return Step(message=message, selectedElement=selected, selectedElements=elements)

    def _message(
        self, rendered: str | None, path: KeyPath, scope: Scope, origin: str | None
    ) -> str | None:
        """The message as sent: surrounding whitespace trimmed, length within the limit."""
        if rendered is None:
            return None
        message = rendered.strip()
        what = f"the message from {origin}" if origin else "the message"
        if not message:
            self._report.at(path, f"{what} is empty after templating", scope=scope)
            return None
        if len(message) > MESSAGE_MAX:
            self._report.at(
                path,
                f"{what} is {len(message)} characters after templating; the API takes at most "
                f"{MESSAGE_MAX}",
                scope=scope,
            )
            return None
        return message

    def _file_message(self, raw_name: str, path: KeyPath, scope: Scope) -> str | None:
        name = self._report.render(raw_name, path, scope)
        if name is None:
            return None
        found = self._step_files.read(name)
        if found is None:
            # Not text: reported at the offending byte of the file; this step fails too.
            self._report.failures += 1
            return None
        if isinstance(found, str):
            self._report.at(path, found, scope=scope)
            return None
        rendered = self._report.render_file(found, path, scope)
        return self._message(rendered, path, scope, found.relative)

    def _render_json(self, value: Any, path: KeyPath, scope: Scope) -> Any:
        """A selected element with every string in it templated."""
        if isinstance(value, str):
            return self._report.render(value, path, scope)
        if isinstance(value, dict):
            return {k: self._render_json(v, (*path, k), scope) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render_json(v, (*path, i), scope) for i, v in enumerate(value)]
        return value
