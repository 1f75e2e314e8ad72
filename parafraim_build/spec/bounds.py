"""What a filter, text method or operator would build, checked *before* it builds it.

Most of what a template does produces a value about as big as its inputs, and the sandbox
measures inputs and results as they pass. A few operations multiply instead: a width or a
count argument (``center``, ``batch``, ``'%9999999s'``), a string inserted once per match or
per line (``replace``, ``join``, ``wordwrap``, ``urlize``), an exponent. For those, measuring
the result would come too late (the memory is already taken), so the size is worked out from
the arguments first and anything over ``MAX_OUTPUT`` is refused with ``SecurityError``.

``Measure`` is the sandbox's own measuring function: it sizes a value (refusing one that is
not plain data when ``plain``) and spends budget for doing so.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable
from typing import Any, Protocol

from jinja2 import Undefined
from jinja2.exceptions import SecurityError

MAX_OUTPUT = 100_000
"""Characters of any value a template builds, and of a template's whole output."""
MAX_EXPONENT = 256

# A %-format field: flags, then width and precision (digits or *).
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})


class Measure(Protocol):
    """The sandbox's measure: the size of ``value`` in characters, spent as work."""

    def __call__(self, value: Any, *, plain: bool) -> int: ...


FilterCheck = Callable[[Measure, dict[str, Any]], None]
"""Checks a filter's bound arguments (by parameter name); may replace the value in place."""


def too_long(size: int) -> str:
    """The refusal of a value of ``size`` characters."""
    return f"this would build a value of over {MAX_OUTPUT:,} characters ({size:,} at least)"


def _refuse_over(size: int) -> None:
    if size > MAX_OUTPUT:
        raise SecurityError(too_long(size))


def _refuse_count(count: Any, what: str) -> None:
    if isinstance(count, int) and not isinstance(count, bool) and abs(count) > MAX_OUTPUT:
        raise SecurityError(f"{what} of {count:,} is more than {MAX_OUTPUT:,}")


# ------------------------------------------------------------------ filters


def _join(measure: Measure, arguments: dict[str, Any]) -> None:
    value = arguments["value"]
    if not isinstance(value, (str, Undefined)):
        # A generator can be joined only once: make it a list, measured before joining.
        arguments["value"] = value = list(value)
    check_join(measure, value, arguments.get("d", ""))


def _center(measure: Measure, arguments: dict[str, Any]) -> None:
    _refuse_count(arguments.get("width", 80), "a width")


def _indent(measure: Measure, arguments: dict[str, Any]) -> None:
    text, width = arguments["s"], arguments.get("width", 4)
    _refuse_count(width, "a width")
    if isinstance(text, str) and isinstance(width, (int, str)):
        pad = len(width) if isinstance(width, str) else abs(width)
        _refuse_over(len(text) + (text.count("\n") + 1) * pad)


def _format(measure: Measure, arguments: dict[str, Any]) -> None:
    if isinstance(arguments["value"], str):
        check_percent_format(arguments["value"])
    measure((list(arguments.get("args", ())), dict(arguments.get("kwargs", {}))), plain=True)


def _replace(measure: Measure, arguments: dict[str, Any]) -> None:
    text, old, new = arguments["s"], arguments["old"], arguments["new"]
    if isinstance(text, str):
        check_replace(text, str(old), str(new), arguments.get("count"))


def _batch(measure: Measure, arguments: dict[str, Any]) -> None:
    _refuse_count(arguments["linecount"], "a batch size")


def _slice(measure: Measure, arguments: dict[str, Any]) -> None:
    _refuse_count(arguments["slices"], "a number of slices")


def _tojson(measure: Measure, arguments: dict[str, Any]) -> None:
    indent = arguments.get("indent")
    if isinstance(indent, int) and indent > 0:
        # Every item can start a line of its own, indented at least once.
        _refuse_over(measure(arguments["value"], plain=False) * (indent + 1))


def _wordwrap(measure: Measure, arguments: dict[str, Any]) -> None:
    text, width = arguments["s"], arguments.get("width", 79)
    wrap = arguments.get("wrapstring") or "\n"
    if isinstance(text, str) and isinstance(width, int) and isinstance(wrap, str):
        # A line holds at least half its width, unless a newline ends it early.
        lines = 2 * len(text) // max(width, 1) + text.count("\n") + 1
        _refuse_over(len(text) + lines * len(wrap))


def _urlize(measure: Measure, arguments: dict[str, Any]) -> None:
    text = arguments["value"]
    extra = sum(len(str(arguments.get(name) or "")) for name in ("target", "rel"))
    if isinstance(text, str):
        # A link takes at least four characters ("a.co"), and gets the extras each time.
        _refuse_over(len(text) * 10 + (len(text) // 4 + 1) * extra)


FILTER_CHECKS: dict[str, FilterCheck] = {
    "batch": _batch,
    "center": _center,
    "format": _format,
    "indent": _indent,
    "join": _join,
    "replace": _replace,
    "slice": _slice,
    "tojson": _tojson,
    "urlize": _urlize,
    "wordwrap": _wordwrap,
}
"""The filters whose result can be far bigger than their value, by filter name."""


# ------------------------------------------------------------------ text methods


def check_text_call(
    measure: Measure, text: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """The arguments of ``text.<method>(...)``, after checking what it would build."""
    if method in _PADDING_METHODS and args:
        _refuse_count(args[0], "a width")
    elif method == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            _refuse_over(len(text) + text.count("\t") * size)
    elif method == "replace" and len(args) >= 2:
        check_replace(text, str(args[0]), str(args[1]), args[2] if len(args) > 2 else None)
    elif method == "join" and args:
        items = list(args[0])
        check_join(measure, items, text)
        return (items, *args[1:])
    return args


def check_join(measure: Measure, items: Any, separator: Any) -> None:
    """Joining ``items`` (plain data only) with ``separator`` stays within the limit."""
    size = measure(items, plain=True)
    if isinstance(separator, str) and isinstance(items, list) and items:
        size += len(separator) * (len(items) - 1)
    _refuse_over(size)


def check_replace(text: str, old: str, new: str, count: Any) -> None:
    """Replacing ``old`` by ``new`` in ``text`` (``count`` times at most) stays within it."""
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    _refuse_over(len(text) + found * (len(new) - len(old)))


# ------------------------------------------------------------------ operators and formats


def check_power(base: Any, exponent: Any) -> None:
    """``base ** exponent`` has a sane exponent and at most ``MAX_OUTPUT`` digits."""
    if not isinstance(exponent, (int, float)) or isinstance(exponent, bool):
        return
    if abs(exponent) > MAX_EXPONENT:
        raise SecurityError(f"the exponent {exponent} is too large")
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and base.bit_length() * exponent * math.log10(2) > MAX_OUTPUT
    ):
        raise SecurityError("the power would have too many digits")


def check_percent_format(template: str) -> None:
    """No ``%`` field of ``template`` asks for a width or precision over the limit (or ``*``)."""
    for field in _PERCENT_FIELD.finditer(template):
        for size in field.groups():
            if size == "*" or (size is not None and int(size) > MAX_OUTPUT):
                raise SecurityError(
                    f"a %-format width or precision over {MAX_OUTPUT:,} (or *) is refused"
                )


def check_brace_format(template: str) -> None:
    """No ``{}`` field of ``template`` asks for a width over the limit, or takes it from an
    argument (``{:{}}``)."""
    for _text, _field, spec, _conversion in string.Formatter().parse(template):
        if spec and ("{" in spec or any(int(d) > MAX_OUTPUT for d in _DIGITS.findall(spec))):
            raise SecurityError(
                f"a format width or precision over {MAX_OUTPUT:,} (or taken from an "
                "argument) is refused"
            )
