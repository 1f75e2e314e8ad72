"""Jinja2 over spec strings, sandboxed, strict, and compiled once per distinct string.

A spec may come from a pull request, so templates run in Jinja's immutable sandbox (no access
to Python internals, no mutation) with no loader (no ``include`` of local files), and
arithmetic that would build huge values is refused. An undefined variable is an error, never
an empty string. Failures are returned as ``TemplateFailure`` with the line inside the
template and the name involved, so the caller can point at the exact place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from parafraim_build.spec.problems import suggestion

# No spec string needs to be longer than this before the API's own limits apply; a template
# that would produce more is refused before it can exhaust memory.
MAX_OUTPUT = 1_000_000
MAX_EXPONENT = 256

_TEMPLATE_FILE = "<template>"
_NAME_IN_MESSAGE = re.compile(r"'([^']+)' is undefined|attribute '([^']+)'")


@dataclass(frozen=True)
class TemplateFailure:
    """Why a template could not be rendered, and where inside it (1-based ``line``)."""

    message: str
    line: int | None
    name: str | None


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus bounds on ``*`` and ``**`` so no template can allocate gigabytes."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"the exponent {right} is too large")
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                if (
                    isinstance(sized, (str, list, tuple))
                    and isinstance(count, int)
                    and len(sized) * count > MAX_OUTPUT
                ):
                    raise SecurityError("repeating a value that often would be too long")
        return super().call_binop(context, operator, left, right)


def has_template(text: str) -> bool:
    """Whether ``text`` holds any Jinja2 markup at all (most strings do not)."""
    return "{{" in text or "{%" in text or "{#" in text


class Templates:
    """Renders spec strings; each distinct string is compiled once and reused."""

    def __init__(self) -> None:
        self._env = _Sandbox(undefined=StrictUndefined, autoescape=False)
        self._compiled: dict[str, Template | TemplateFailure] = {}

    @property
    def compiled_count(self) -> int:
        """How many distinct strings have been compiled (each exactly once)."""
        return len(self._compiled)

    def render(self, text: str, context: Mapping[str, Any]) -> str | TemplateFailure:
        """``text`` rendered with ``context``, or why it could not be."""
        if not has_template(text):
            return text
        template = self._compile(text)
        if isinstance(template, TemplateFailure):
            return template
        try:
            result = template.render(context)
        except TemplateError as exc:
            return _failure(exc, context)
        except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as exc:
            # Plain Python errors inside an expression ({{ 1 / 0 }}, {{ 'a' + 1 }}); the
            # environment has no loader, which is what makes include/import/extends fail.
            if isinstance(exc, TypeError) and "no loader" in str(exc):
                return TemplateFailure(
                    "spec templates cannot include, import or extend other files "
                    "(use a {file: ...} step to read a prompt file)",
                    _template_line(exc),
                    None,
                )
            return TemplateFailure(
                f"template failed: {type(exc).__name__}: {exc}", _template_line(exc), None
            )
        if len(result) > MAX_OUTPUT:
            return TemplateFailure(
                f"template output is too long ({len(result)} characters)", None, None
            )
        return result

    def _compile(self, text: str) -> Template | TemplateFailure:
        cached = self._compiled.get(text)
        if cached is not None:
            return cached
        compiled: Template | TemplateFailure
        try:
            compiled = self._env.from_string(text)
        except TemplateSyntaxError as exc:
            compiled = TemplateFailure(f"template syntax error: {exc.message}", exc.lineno, None)
        except TemplateError as exc:
            compiled = TemplateFailure(f"template error: {exc}", None, None)
        self._compiled[text] = compiled
        return compiled


def _failure(exc: TemplateError, context: Mapping[str, Any]) -> TemplateFailure:
    line = exc.lineno if isinstance(exc, TemplateSyntaxError) else _template_line(exc)
    text = str(exc.message or exc)
    found = _NAME_IN_MESSAGE.search(text)
    name = (found.group(1) or found.group(2)) if found else None
    if isinstance(exc, SecurityError):
        return TemplateFailure(f"refused by the template sandbox: {text}", line, name)
    if isinstance(exc, UndefinedError):
        if found and found.group(1):
            hint = suggestion(found.group(1), context)
            known = ", ".join(sorted(context)) or "none"
            return TemplateFailure(
                f"undefined variable '{found.group(1)}'{hint}; defined here: {known}", line, name
            )
        return TemplateFailure(f"undefined value: {text}", line, name)
    if isinstance(exc, TemplateSyntaxError):
        return TemplateFailure(f"template syntax error: {text}", line, None)
    return TemplateFailure(f"template error: {text}", line, name)


def _template_line(exc: BaseException) -> int | None:
    """The line inside the template where ``exc`` happened, from Jinja's rewritten frames."""
    line = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
