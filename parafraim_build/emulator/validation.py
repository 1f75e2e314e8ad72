"""Request parsing for the engine: JSON bodies through the shared request models, query values.

Pydantic's errors are translated here, at the boundary, into one ``ApiValidationError`` whose
message names every offending field in the API's own words, e.g.
``config.width: must be between 480 and 3840``. Values the client sent are never echoed (a
message could contain anything), only numbers are.

A body is plain JSON and nothing more: nested at most ``MAX_JSON_DEPTH`` deep (the engine saves
and serves bodies back, and deeper documents exhaust Python's recursion limit), and without
``NaN``, ``Infinity`` or numbers too large for a float, which are not JSON and which no
response could carry back. ``api.md`` types ``width``, ``height`` and ``fps`` as numbers, so an
integral float such as ``1000.0`` is accepted as ``1000``; ``1000.5`` is refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError

from parafraim_build.api import models
from parafraim_build.errors import ApiValidationError

M = TypeVar("M", bound=BaseModel)

DEFAULT_PAGE_SIZE = 20
MAX_JSON_DEPTH = 64

# Fields the shared request models type as ``StrictInt`` that api.md calls numbers: an
# integral float is turned into an int before validation (the shared models stay strict).
_INTEGER_FIELDS: tuple[tuple[str, str], ...] = (
    ("config", "width"),
    ("config", "height"),
    ("config", "fps"),
)

# The documented limits, by field path, so a message can state both ends of a range.
_RANGES: dict[str, tuple[int, int]] = {
    "config.width": (models.WIDTH_MIN, models.WIDTH_MAX),
    "config.height": (models.HEIGHT_MIN, models.HEIGHT_MAX),
    "config.fps": (models.FPS_MIN, models.FPS_MAX),
}
_LENGTHS: dict[str, tuple[int, int]] = {
    "name": (1, models.NAME_MAX),
    "description": (0, models.DESCRIPTION_MAX),
    "message": (1, models.MESSAGE_MAX),
}
_TYPE_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be an array",
    "string_pattern_mismatch": "must be a UUID",
}


def _refuse_constant(name: str) -> NoReturn:
    raise ApiValidationError(f"request body is not valid JSON ({name} is not a JSON number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ApiValidationError("request body has a number too large for a float")
    return value


def decode_json(raw: bytes) -> Any:
    """The request's JSON body; an empty body is ``{}``.

    ``ApiValidationError`` for anything that is not plain JSON nested at most
    ``MAX_JSON_DEPTH`` deep.
    """
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise _too_deep() from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiValidationError("request body is not valid JSON") from exc
    # Counting brackets is cheap and bounds the depth: most bodies need no walk at all.
    openers = raw.count(b"[") + raw.count(b"{")
    if openers > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
        raise _too_deep()
    return body


def _too_deep() -> ApiValidationError:
    return ApiValidationError(f"request body is nested more than {MAX_JSON_DEPTH} levels deep")


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects (a scalar is 0, ``[]`` is 1).

    Iterative, so that no document can exhaust the recursion limit while being measured.
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _integral_numbers(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the integral floats of ``_INTEGER_FIELDS`` turned into ints."""
    changed = body
    for parent, name in _INTEGER_FIELDS:
        section = changed.get(parent)
        if not isinstance(section, dict):
            continue
        value = section.get(name)
        if isinstance(value, float) and value.is_integer():
            changed = changed | {parent: section | {name: int(value)}}
    return changed


def parse_body(model: type[M], body: Any) -> M:
    """``body`` validated by ``model``, or ``ApiValidationError`` naming every bad field."""
    if not isinstance(body, dict):
        raise ApiValidationError("request body must be a JSON object")
    try:
        return model.model_validate(_integral_numbers(body))
    except ValidationError as exc:
        messages = [describe_error(error) for error in exc.errors()]
        raise ApiValidationError("; ".join(dict.fromkeys(messages))) from exc


def require_not_blank(field: str, value: str | None) -> None:
    """VALIDATION when ``value`` is present but only whitespace (the API needs a real name)."""
    if value is not None and not value.strip():
        raise ApiValidationError(f"{field}: must not be blank")


def field_path(location: tuple[int | str, ...]) -> str:
    """``("config", "width")`` -> ``config.width``; ``("selectedElements", 3)`` -> ``...[3]``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "body"


def describe_error(error: Mapping[str, Any]) -> str:
    """One pydantic error as ``field: what is wrong``."""
    path = field_path(tuple(error.get("loc", ())))
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = _RANGES.get(path, (context.get("ge"), context.get("le")))
        if low is not None and high is not None:
            return f"{path}: must be between {low} and {high} (got {error.get('input')})"
        bound = context.get("ge", context.get("gt", context.get("le", context.get("lt"))))
        return f"{path}: is out of range (limit {bound})"
    if kind in ("string_too_short", "string_too_long"):
        low, high = _LENGTHS.get(path, (context.get("min_length", 0), context.get("max_length")))
        if high is None:
            return f"{path}: must have at least {low} characters"
        if low:
            return f"{path}: must be {low}-{high} characters"
        return f"{path}: must be at most {high} characters"
    if kind in ("too_long", "too_short"):
        limit = context.get("max_length", context.get("min_length"))
        word = "most" if kind == "too_long" else "least"
        return f"{path}: must have at {word} {limit} items"
    if kind == "literal_error":
        expected = str(context.get("expected", "")).replace("'", "")
        return f"{path}: must be one of {expected}"
    if kind in _TYPE_MESSAGES:
        return f"{path}: {_TYPE_MESSAGES[kind]}"
    return f"{path}: {str(error.get('msg', 'is invalid')).lower()}"


def query_int(params: Mapping[str, str], name: str, default: int) -> int:
    """An integer query parameter, ``default`` when absent, VALIDATION when not an integer."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiValidationError(f"{name}: must be an integer") from exc


def page_params(params: Mapping[str, str]) -> tuple[int, int]:
    """``(page, pageSize)``: page from 1, pageSize clamped to 1..50, 20 by default."""
    page = max(1, query_int(params, "page", 1))
    size = min(models.PAGE_SIZE_MAX, max(1, query_int(params, "pageSize", DEFAULT_PAGE_SIZE)))
    return page, size
