"""Field types for response models that take what a real service sends and degrade gracefully.

``api.md`` asks the client to survive a service that differs from its documentation: a field
that comes back ``null``, a number sent as a string, a percentage with decimals. Each type here
is an ``Annotated`` type whose before-validator turns such drift into the documented shape, so
that one odd field never makes a whole answer unreadable (which, after a POST, would hide a
project or a task that exists and may cost credits).

The rule for every optional field: ``null`` or an unusable value becomes the field's default;
a harmless drift (``"42"`` for ``42``, ``42.0`` for ``42``, ``7`` for ``"7"``) is converted.
Required fields (ids, statuses) still fail when missing, because nothing can be done without
them, but they accept a number where a string is expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator

Number = int | float
"""A count or an amount as the service sent it: an int when it is integral, else a float."""


def to_number(value: Any) -> Number | None:
    """A finite number from a number or a numeric string; ``None`` for anything else.

    Integral values come back as ``int`` so that ``10000`` stays ``10000`` (not ``10000.0``)
    when it is shown or dumped as JSON again.
    """
    if isinstance(value, bool):
        return None  # True is an int in Python, but a flag is not an amount
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return _parse_number(value.strip())
    if isinstance(value, float):
        return _finite(value)
    return None


def _parse_number(text: str) -> Number | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return _finite(float(text))
    except ValueError:
        return None


def _finite(value: float) -> Number | None:
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() else value


def to_int(value: Any) -> int | None:
    """An integer from a number or a numeric string (decimals rounded down); else ``None``."""
    number = to_number(value)
    if number is None:
        return None
    return number if isinstance(number, int) else math.floor(number)


def to_str(value: Any) -> str | None:
    """A string, or a number written as one; ``None`` for null, flags, objects and lists."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = to_number(value)
        return None if number is None else str(number)
    return None


def to_text(value: Any) -> str:
    """Like ``to_str``, with ``""`` where there is no usable string (e.g. composition HTML)."""
    text = to_str(value)
    return "" if text is None else text


def to_bool(value: Any) -> bool:
    """``true``/``false`` as sent, or spelled as ``"true"``/``"false"``/``1``/``0``; else False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return False


def to_percent(value: Any) -> int:
    """A progress percentage: rounded down to an integer and clamped to 0..100 (0 if unusable).

    Rounded down so that a job is never shown at 100 % before it says it is complete.
    """
    number = to_int(value)
    return 0 if number is None else min(max(number, 0), 100)


def to_object(value: Any) -> Any:
    """A nested object as sent when it is one; ``None`` (the field's default) otherwise."""
    return value if isinstance(value, Mapping) else None


def to_list(value: Any) -> list[Any]:
    """The objects of a list; ``[]`` for null or a non-list, non-objects dropped."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def to_message(value: Any) -> str | None:
    """An error text: a string as is, or the ``message`` (else ``code``) of an error object."""
    if isinstance(value, Mapping):
        for key in ("message", "code"):
            text = to_str(value.get(key))
            if text:
                return text
        return None
    return to_str(value)


def to_error_body(value: Any) -> Any:
    """A task's ``error``: an object as is, a bare string as its message, else ``None``."""
    if isinstance(value, Mapping):
        return value
    text = to_str(value)
    return {"message": text} if text else None


def to_limits(value: Any) -> dict[str, Number | str | None] | None:
    """Plan limits as ``{name: value}``: numbers normalised, ``null`` kept (no limit), words
    such as ``"unlimited"`` kept; anything else dropped. ``None`` when there is no object."""
    if not isinstance(value, Mapping):
        return None
    limits: dict[str, Number | str | None] = {}
    for name, raw in value.items():
        if not isinstance(name, str):
            continue
        if raw is None:
            limits[name] = None
        elif (number := to_number(raw)) is not None:
            limits[name] = number
        elif isinstance(raw, str):
            limits[name] = raw
    return limits


def int_or(default: int) -> BeforeValidator:
    """A validator for an integer field: ``to_int``, with ``default`` for null or garbage."""

    def validate(value: Any) -> int:
        number = to_int(value)
        return default if number is None else number

    return BeforeValidator(validate)


def _code(value: Any) -> str:
    return to_str(value) or "UNKNOWN"


def _required_str(value: Any) -> Any:
    # A number becomes its string; anything else is left for pydantic to refuse as missing.
    return to_str(value) if isinstance(value, int | float) else value


def _required_number(value: Any) -> Any:
    number = to_number(value)
    return value if number is None else number


# Optional fields: drift converted, null or garbage -> the default.
OptStr = Annotated[str | None, BeforeValidator(to_str)]
Text = Annotated[str, BeforeValidator(to_text)]
Flag = Annotated[bool, BeforeValidator(to_bool)]
OptInt = Annotated[int | None, BeforeValidator(to_int)]
OptNumber = Annotated[Number | None, BeforeValidator(to_number)]
Percent = Annotated[int, BeforeValidator(to_percent)]
OptMessage = Annotated[str | None, BeforeValidator(to_message)]
Limits = Annotated[dict[str, Number | str | None] | None, BeforeValidator(to_limits)]
Code = Annotated[str, BeforeValidator(_code)]
"""An error code: ``UNKNOWN`` when absent or unusable."""

# Required fields: still required, but a number where a string belongs is accepted.
RequiredStr = Annotated[str, BeforeValidator(_required_str)]
RequiredNumber = Annotated[Number, BeforeValidator(_required_number)]
