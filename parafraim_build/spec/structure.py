"""The shape check: the input document against ``document.SpecDocument``.

Pydantic finds every wrong key, type and range at once; this module turns each of its errors
into a problem at the exact key or value, in words a spec author understands, with a
did-you-mean for a misspelt key. Videos whose shape is wrong are left out of the later stages
so that the rest of the spec is still checked in the same run.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from parafraim_build.api.models import (
    FPS_MAX,
    FPS_MIN,
    HEIGHT_MAX,
    HEIGHT_MIN,
    SELECTED_ELEMENTS_MAX,
    WIDTH_MAX,
    WIDTH_MIN,
)
from parafraim_build.spec.document import (
    UNION_TAGS,
    DefaultsDocument,
    FileStepDocument,
    MessageStepDocument,
    RenderDocument,
    SpecDocument,
    TemplateIdDocument,
    VideoDocument,
)
from parafraim_build.spec.problems import ProblemCollector, did_you_mean, suggestion
from parafraim_build.spec.source import KeyPath
from parafraim_build.spec.yamlsource import YamlDocument, colon_text_message

_RANGES = {
    "width": (WIDTH_MIN, WIDTH_MAX),
    "height": (HEIGHT_MIN, HEIGHT_MAX),
    "fps": (FPS_MIN, FPS_MAX),
}


# Repairs normally take one round; a value set aside can, rarely, expose another (a step
# left without a key it needed). A few more rounds clear those without reporting them again.
_REPAIR_ROUNDS = 4

# A placeholder for a malformed step: keeps later steps at their index (and so at their
# position in the file) while the malformed one is reported and skipped.
_STEP_PLACEHOLDER = "-"


def check_structure(doc: YamlDocument, problems: ProblemCollector) -> SpecDocument | None:
    """The validated document, or ``None`` when nothing further can be checked.

    Every shape problem is reported. The broken values are then set aside (an unknown key
    dropped, a bad variable or template removed, a malformed step or video left out) and the
    rest is validated again, so that templating and limit problems elsewhere are found in the
    same run. Only the first round reports: what later rounds find follows from the repairs.
    """
    data: Any = doc.data
    for round_number in range(_REPAIR_ROUNDS):
        try:
            return SpecDocument.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        if round_number == 0:
            data = copy.deepcopy(doc.data)
            _report_all(doc, errors, problems)
        if not isinstance(data, dict):
            return None
        located = [(real_path(data, error["loc"]), error["type"]) for error in errors]
        for path, kind in located:
            if not _set_aside(data, path, kind):
                return None
        if not data.get("videos"):
            return None
    return None


def _report_all(doc: YamlDocument, errors: list[ErrorDetails], problems: ProblemCollector) -> None:
    located = [(real_path(doc.data, error["loc"]), error) for error in errors]
    # A step written as text with `: ` in it is one mistake, not a missing and an unknown key.
    misread = {
        path[:-1]
        for path, error in located
        if error["type"] == "extra_forbidden" and _is_step(path[:-1])
        if _is_misread_text(doc, path[:-1])
    }
    for step in sorted(misread, key=lambda path: path[3]):
        _report_misread_text(doc, step, problems)
    located = [(path, error) for path, error in located if path[:4] not in misread]
    # "unknown key 'mesage' (did you mean 'message'?)" already says that message is missing.
    misspelt = {
        (path[:-1], did_you_mean(str(path[-1]), _allowed(doc.data, path[:-1])))
        for path, error in located
        if error["type"] == "extra_forbidden"
    }
    for path, error in located:
        if doc.is_broken(path) or (error["type"] == "missing" and _implied(path, misspelt)):
            continue
        _report(doc, path, error, problems)


def _implied(path: KeyPath, misspelt: set[tuple[KeyPath, str | None]]) -> bool:
    """Whether a missing key at ``path`` is explained by a misspelt key beside it.

    A step's text is `message` or `file`, so ``{fiel: x}`` misses `message` because of the
    misspelt `file`.
    """
    parent, name = path[:-1], path[-1]
    if (parent, name) in misspelt:
        return True
    return _is_step(parent) and name == "message" and (parent, "file") in misspelt


def _is_step(path: KeyPath) -> bool:
    return len(path) == 4 and path[0] == "videos" and path[2] == "steps"


# A step key as one would type it: a single word (``mesage``, ``selectedElemnts``).
_KEYLIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
_STEP_KEYS = tuple(
    dict.fromkeys([*MessageStepDocument.model_fields, *FileStepDocument.model_fields])
)


def _is_misread_text(doc: YamlDocument, step: KeyPath) -> bool:
    """Whether the step at ``step`` is text that YAML read as ``{key: value}``.

    ``- title: Rocket in fifteen`` and ``- Add a scene about pricing: From $9`` are one-key
    mappings whose key is no step key. A key that looks like a misspelt step key (one word
    close to one: ``mesage``) is left to the did-you-mean; prose (spaces, or a word like
    ``title`` that is close to none) is the text of a message.
    """
    value = _container(doc.data, step)
    if not isinstance(value, dict) or len(value) != 1:
        return False
    start = doc.position(step)
    line = doc.source.line(start.line) if start is not None else None
    if line is None or start is None or line[start.column - 1 : start.column] == "{":
        return False  # {colour: x} was written as a mapping on purpose
    ((key, inner),) = value.items()
    if key in _STEP_KEYS or isinstance(inner, (dict, list)) or doc.is_broken((*step, key)):
        return False
    return not (_KEYLIKE.fullmatch(key) and did_you_mean(key, _STEP_KEYS) is not None)


def _report_misread_text(doc: YamlDocument, step: KeyPath, problems: ProblemCollector) -> None:
    """Report a step misread as ``{key: value}`` at the step, with the quoted form to write."""
    (key,) = _container(doc.data, step)
    written = doc.written(step, (*step, key)) or f"{key}: {_container(doc.data, (*step, key))}"
    start = doc.position(step)
    line = doc.source.line(start.line) if start is not None else None
    item = (
        line is not None and start is not None and line[: start.column - 1].rstrip().endswith("-")
    )
    doc.report(problems, step, colon_text_message(written, key, key=None, item=item))


def _set_aside(data: dict[str, Any], path: KeyPath, kind: str) -> bool:
    """Remove the value at ``path`` from ``data`` so it no longer fails; ``False`` if fatal."""
    if not path or path == ("videos",):
        return False
    if path == ("version",):
        data["version"] = 1
        return True
    if path[0] == "videos" and (len(path) == 2 or "matrix" in path[2:3]):
        videos = data.get("videos")
        if isinstance(videos, dict):
            videos.pop(path[1], None)
        return True
    whole_step = len(path) == 4 or (kind == "missing" and len(path) == 5)
    if path[0] == "videos" and path[2] == "steps" and len(path) >= 4 and whole_step:
        steps, index = _container(data, path[:3]), path[3]
        if isinstance(steps, list) and isinstance(index, int):
            steps[index] = _STEP_PLACEHOLDER
        return True
    # A template mapping that is wrong anywhere is dropped whole: {id: 5} without its id
    # would only fail again as "missing id".
    if path[:2] == ("defaults", "template") or (path[0] == "videos" and path[2:3] == ("template",)):
        path = path[: 2 if path[0] == "defaults" else 3]
    while path and not isinstance(path[-1], str):
        path = path[:-1]
    parent = _container(data, path[:-1])
    if isinstance(parent, dict):
        # A refused variable is removed, not emptied: templates using it then fail quietly
        # (see ``variables``) instead of producing empty names.
        parent.pop(path[-1], None)
    return True


def _container(data: Any, path: KeyPath) -> Any:
    """The value at ``path``, or ``None`` when an earlier repair already removed it."""
    for part in path:
        if not _contains(data, part):
            return None
        data = data[part]
    return data


def real_path(data: Any, loc: tuple[int | str, ...]) -> KeyPath:
    """The key path in the YAML data that a pydantic error location points to.

    Union tags are dropped; whatever is left once the data runs out (a missing or unknown
    key) is kept as the last element.
    """
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if isinstance(part, str) and part in UNION_TAGS:
            continue
        if _contains(current, part):
            current = current[part]
        else:
            path.extend(p for p in loc[index:] if not (isinstance(p, str) and p in UNION_TAGS))
            return tuple(path)
        path.append(part)
    return tuple(path)


def _contains(container: Any, part: int | str) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _report(
    doc: YamlDocument, path: KeyPath, error: ErrorDetails, problems: ProblemCollector
) -> None:
    kind = error["type"]
    on_key = kind == "extra_forbidden"
    if kind == "missing":
        parent, name = path[:-1], path[-1]
        message = f"missing required key '{name}'"
        if name == "version":
            message += " (start the spec with `version: 1`)"
        doc.report(problems, parent, message)
        return
    if kind == "extra_forbidden":
        message = _unknown_key(doc.data, path)
    else:
        message = _describe_error(doc, path, error)
    doc.report(problems, path, message, on_key=on_key)


def _model_at(data: Any, path: KeyPath) -> type[BaseModel] | None:
    """Which input model describes the mapping at ``path`` (for did-you-mean)."""
    match path:
        case ():
            return SpecDocument
        case ("defaults",):
            return DefaultsDocument
        case ("defaults", "renders", _) | ("videos", _, "renders", _):
            return RenderDocument
        case ("defaults", "template") | ("videos", _, "template"):
            return TemplateIdDocument
        case ("videos", _):
            return VideoDocument
        case ("videos", str(key), "steps", int(index)):
            step = data["videos"][key]["steps"][index]
            return FileStepDocument if "file" in step else MessageStepDocument
    return None


def _allowed(data: Any, parent: KeyPath) -> list[str]:
    """The keys allowed at ``parent``; for a step, those of both kinds of step."""
    if _is_step(parent):
        return list(dict.fromkeys([*MessageStepDocument.model_fields, "file"]))
    model = _model_at(data, parent)
    return list(model.model_fields) if model is not None else []


def _unknown_key(data: Any, path: KeyPath) -> str:
    parent, key = path[:-1], str(path[-1])
    model = _model_at(data, parent)
    allowed = _allowed(data, parent)
    if model is FileStepDocument and key == "message":
        return "a step has either `message` or `file`, not both"
    hint = suggestion(key, allowed)
    if not hint and allowed:
        hint = f"; expected one of: {', '.join(allowed)}"
    where = " at the top level" if not parent else ""
    return f"unknown key '{key}'{where}{hint}"


def describe_value(value: Any) -> str:
    """A YAML value in words: ``a list``, ``the number 969``, ``the text 'abc'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _describe_error(doc: YamlDocument, path: KeyPath, error: ErrorDetails) -> str:
    kind = error["type"]
    value = error.get("input")
    got = describe_value(value)
    field = str(path[-1]) if path and isinstance(path[-1], str) else "value"
    ctx = error.get("ctx") or {}
    if kind == "string_type":
        span = doc.span(path)
        if span is not None and not span.style and span.text and not isinstance(value, str):
            return (
                f"expected text, but YAML reads the unquoted {span.text} as {got}: "
                f'put it in quotes ("{span.text}")'
            )
        return f"expected text, got {got}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"{field} must be a whole number, got {got}"
    if kind == "bool_type":
        return f"{field} must be true or false, got {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping (key: value lines), got {got}"
    if kind == "list_type":
        return f"expected a list, got {got}"
    if kind in ("greater_than_equal", "less_than_equal") and field in _RANGES:
        low, high = _RANGES[field]
        return f"{field} {value} is out of range: the API takes {low} to {high}"
    if kind == "too_long":
        return (
            f"{field} has {ctx.get('actual_length', '?')} elements: the API takes at most "
            f"{SELECTED_ELEMENTS_MAX}"
        )
    if kind == "too_short":
        if path and path[0] == "videos" and len(path) == 1:
            return "declare at least one video under videos"
        return f"matrix list '{field}' is empty: it would expand to no videos"
    if kind == "step_kind":
        return f"a step is text, {{message: ...}} or {{file: ...}}, got {got}"
    if kind == "template_kind":
        return f"a template is an exact name or {{id: <uuid>}}, got {got}"
    return str(error["msg"])
