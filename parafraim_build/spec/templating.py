"""Jinja2 over spec strings: sandboxed, deterministic, bounded, strict, compiled once each.

A spec may come from a pull request, so templates run in ``sandbox.BoundedSandbox`` (Jinja's
immutable sandbox with no loader, no ``random`` or ``lipsum``, and bounds on the size of every
value and on the work of every render). An undefined variable is an error, never an empty
string, and every undefined name of a string is reported, not only the first. Failures come
back as ``TemplateFailure``s with the line inside the template and the name involved, so the
caller can point at the exact place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from jinja2 import Template, TemplateError, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError

from parafraim_build.spec.problems import suggestion
from parafraim_build.spec.sandbox import MAX_OUTPUT, REMOVED, BoundedSandbox, bound_work

_TEMPLATE_FILE = "<template>"
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
_MISSING_ATTRIBUTE = re.compile(r"attribute '([^']+)'")
_UNKNOWN = re.compile(r"No (filter|test) named '([^']+)'")
# A Jinja expression or statement (an unclosed one runs to the end); comments are not code.
_MARKUP = re.compile(r"\{\{.*?(?:\}\}|\Z)|\{%.*?(?:%\}|\Z)", re.DOTALL)
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


@dataclass(frozen=True)
class TemplateFailure:
    """One reason a template could not be rendered, and where inside it (1-based ``line``).

    ``name`` is the variable, attribute (``attribute`` is then true) or filter involved, when
    there is one, so that the caller can point at it; ``undefined`` says the failure is that
    this name has no value.
    """

    message: str
    line: int | None
    name: str | None
    attribute: bool = False
    undefined: bool = False


Failures = tuple[TemplateFailure, ...]
"""What a failed render returns: at least one failure, in the order they appear."""


@dataclass(frozen=True)
class _Compiled:
    template: Template
    undeclared: frozenset[str]


def has_template(text: str) -> bool:
    """Whether ``text`` holds any Jinja2 markup at all (most strings do not)."""
    return "{{" in text or "{%" in text or "{#" in text


def name_offsets(text: str, name: str, *, attribute: bool = False) -> list[int]:
    """Where ``name`` is used as code in ``text``: inside ``{{ }}`` or ``{% %}``, not quoted.

    An attribute is a name after a dot (``vars.brand``); a variable or filter is a name not
    preceded by one. Plain text around the markup never matches, so ``brand {{ brand }}``
    points at the second ``brand``.
    """
    word = re.escape(name)
    pattern = re.compile(rf"\.\s*({word})(?!\w)" if attribute else rf"(?<![\w.])({word})(?!\w)")
    offsets: list[int] = []
    for markup in _MARKUP.finditer(text):
        code = _QUOTED.sub(lambda quoted: " " * len(quoted.group()), markup.group())
        offsets.extend(markup.start() + hit.start(1) for hit in pattern.finditer(code))
    return offsets


class Templates:
    """Renders spec strings; each distinct string is compiled once and reused.

    One ``Templates`` serves one load of a spec, so its sandbox's total budget bounds the work
    of all the spec's templates together.
    """

    def __init__(self, sandbox: BoundedSandbox | None = None) -> None:
        self._env = sandbox if sandbox is not None else BoundedSandbox()
        self._compiled: dict[str, _Compiled | Failures] = {}

    @property
    def compiled_count(self) -> int:
        """How many distinct strings have been compiled (each exactly once)."""
        return len(self._compiled)

    def names_used(self, text: str) -> frozenset[str]:
        """The variables ``text`` reads; empty when it has no template or does not compile."""
        if not has_template(text):
            return frozenset()
        compiled = self._compile(text)
        return compiled.undeclared if isinstance(compiled, _Compiled) else frozenset()

    def render(self, text: str, context: Mapping[str, Any]) -> str | Failures:
        """``text`` rendered with ``context``, or every reason it could not be."""
        if not has_template(text):
            return text
        compiled = self._compile(text)
        if not isinstance(compiled, _Compiled):
            return compiled
        self._env.begin()
        chunks: list[str] = []
        length = 0
        try:
            for chunk in compiled.template.generate(context):
                length += len(chunk)
                if length > MAX_OUTPUT:
                    message = f"template output is longer than {MAX_OUTPUT:,} characters"
                    return (TemplateFailure(message, None, None),)
                chunks.append(chunk)
        except TemplateError as exc:
            return self._failures(exc, text, context, compiled)
        except (
            ArithmeticError,
            AssertionError,  # Jinja's own checks of filter arguments ({{ x|truncate(1) }})
            AttributeError,
            LookupError,
            RuntimeError,  # RecursionError, and StopIteration leaking out of a generator
            TypeError,
            ValueError,
        ) as exc:
            # A filter or method given the wrong kind of value ({{ 5|dictsort }}): a problem
            # of the template, located like any other, never a crash of the loader.
            return (_python_failure(exc),)
        return "".join(chunks)

    def _compile(self, text: str) -> _Compiled | Failures:
        cached = self._compiled.get(text)
        if cached is not None:
            return cached
        compiled: _Compiled | Failures
        # Constants are finalized (and so measured) while compiling: start from a full budget.
        self._env.begin()
        try:
            tree = self._env.parse(text)
            undeclared = frozenset(meta.find_undeclared_variables(tree))
            compiled = _Compiled(self._env.from_string(bound_work(tree)), undeclared)
        except TemplateSyntaxError as exc:
            compiled = (self._unknown(exc) or _syntax_failure(exc),)
        except TemplateError as exc:
            compiled = (TemplateFailure(f"template error: {exc}", None, None),)
        self._compiled[text] = compiled
        return compiled

    def _failures(
        self, exc: TemplateError, text: str, context: Mapping[str, Any], compiled: _Compiled
    ) -> Failures:
        line = exc.lineno if isinstance(exc, TemplateSyntaxError) else _template_line(exc)
        message = str(exc.message or exc)
        attribute = _MISSING_ATTRIBUTE.search(message)
        if isinstance(exc, SecurityError):
            name = attribute.group(1) if attribute else None
            failure = TemplateFailure(
                f"refused by the template sandbox: {message}", line, name, attribute=bool(name)
            )
            return (failure,)
        unknown = self._unknown(exc)
        if unknown is not None:
            return (unknown,)
        if isinstance(exc, TemplateSyntaxError):
            return (_syntax_failure(exc),)
        if not isinstance(exc, UndefinedError):
            return (TemplateFailure(f"template error: {message}", line, None),)
        variable = _UNDEFINED_NAME.search(message)
        if variable is None:
            name = attribute.group(1) if attribute else None
            failure = TemplateFailure(
                f"undefined value: {message}", line, name, attribute=bool(name), undefined=True
            )
            return (failure,)
        # Jinja stops at the first undefined name; report every other one the text reads too.
        first = variable.group(1)
        defined = set(context) | set(self._env.globals)
        names = sorted({first} | (compiled.undeclared - defined), key=lambda n: _first_use(text, n))
        known = ", ".join(sorted(context)) or "none"
        return tuple(
            _undefined(name, line if name == first else _line_of(text, name), context, known)
            for name in names
        )

    def _unknown(self, exc: TemplateError) -> TemplateFailure | None:
        """A filter or test that does not exist (or was removed), in words."""
        found = _UNKNOWN.search(str(exc.message or exc))
        if found is None:
            return None
        kind, name = found.groups()
        choices = self._env.filters if kind == "filter" else self._env.tests
        message = f"unknown {kind} '{name}'{_removed_note(name) or suggestion(name, choices)}"
        line = exc.lineno if isinstance(exc, TemplateSyntaxError) else _template_line(exc)
        return TemplateFailure(message, line, name)


def _undefined(
    name: str, line: int | None, context: Mapping[str, Any], known: str
) -> TemplateFailure:
    hint = _removed_note(name) or suggestion(name, context)
    message = f"undefined variable '{name}'{hint}; defined here: {known}"
    return TemplateFailure(message, line, name, undefined=True)


def _removed_note(name: str) -> str:
    if name not in REMOVED:
        return ""
    return (
        f": {REMOVED[name]} is not available in spec templates, because it gives different "
        "text on every run and every apply would then pay again"
    )


def _first_use(text: str, name: str) -> int:
    offsets = name_offsets(text, name)
    return offsets[0] if offsets else len(text)


def _line_of(text: str, name: str) -> int:
    return text.count("\n", 0, _first_use(text, name)) + 1


def _syntax_failure(exc: TemplateSyntaxError) -> TemplateFailure:
    return TemplateFailure(f"template syntax error: {exc.message or exc}", exc.lineno, None)


def _python_failure(exc: Exception) -> TemplateFailure:
    """A plain Python error inside an expression (``{{ 1 / 0 }}``, ``{{ 'a' + 1 }}``)."""
    if isinstance(exc, TypeError) and "no loader" in str(exc):
        # The environment has no loader, which is what makes include/import/extends fail.
        return TemplateFailure(
            "spec templates cannot include, import or extend other files "
            "(use a {file: ...} step to read a prompt file)",
            _template_line(exc),
            None,
        )
    return TemplateFailure(
        f"template failed: {type(exc).__name__}: {exc}", _template_line(exc), None
    )


def _template_line(exc: BaseException) -> int | None:
    """The line inside the template where ``exc`` happened, from Jinja's rewritten frames."""
    line = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
