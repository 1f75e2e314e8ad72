"""The environment spec templates run in: Jinja2's immutable sandbox, deterministic and bounded.

A spec may come from a pull request, and what its templates produce is hashed into the keys
that decide what ``apply`` pays for. On top of Jinja's sandbox (no Python internals, no
mutation, no loader) this environment makes sure that:

* the same spec gives the same text on every run: the ``random`` filter and the ``lipsum``
  global are removed, and only plain data (text, numbers, true/false, lists and mappings of
  them) may be printed, joined or formatted into text, because anything else prints as
  ``<... object at 0x7f...>``, an address that changes from run to run;
* no value grows without bound: everything a template builds, and its whole output, is at
  most ``MAX_OUTPUT`` characters, measured as it passes, and worked out *before* anything that
  multiplies builds it (``*``, ``+``, ``~`` here; widths, ``replace``, ``join``, ``batch``
  and the like in ``bounds``); ``range`` gives at most ``MAX_RANGE`` items, and text methods
  that cannot be bounded (``encode``, ``translate``, ``int.to_bytes``) are unavailable;
* no render runs for long: each has a budget of ``MAX_STEPS`` steps. Every pass through a
  loop body or a macro, every call, filter, concatenation and printed value spends one, plus
  one per ``CHARS_PER_STEP`` characters it handles, so nested loops and recursive macros stop
  well within a second; and all the renders of one spec share ``MAX_TOTAL_STEPS``, so ten
  thousand matrix videos cannot each spend a full budget.

``Templates`` (in ``templating``) calls ``begin`` before each render and compiles every parsed
template through ``bound_work``, which is what charges loop bodies and macros.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import wraps
from types import BuiltinMethodType
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from parafraim_build.spec.bounds import (
    FILTER_CHECKS,
    MAX_OUTPUT,
    check_brace_format,
    check_percent_format,
    check_power,
    check_text_call,
    too_long,
)

__all__ = [
    "MAX_OUTPUT",
    "MAX_RANGE",
    "MAX_STEPS",
    "MAX_TOTAL_STEPS",
    "BoundedSandbox",
    "bound_work",
]

MAX_RANGE = 10_000
"""Items of one ``range()``."""
MAX_STEPS = 100_000
"""Work one render may do: loop passes, calls, filters, concatenations, printed values."""
MAX_TOTAL_STEPS = 2_000_000
"""Work all the renders of one spec may do (a 1,000-video spec takes about 20,000)."""
CHARS_PER_STEP = 100
"""Handling this many characters costs one more step."""
REMOVED = {
    "random": "the random filter",
    "lipsum": "lipsum",
}
"""What Jinja offers but a spec may not use, because its result differs on every run."""

# Filters that turn their value into text: a value that is not plain data would print as an
# address, different on every run.
_TEXT_FILTERS = frozenset(
    {
        "capitalize",
        "center",
        "e",
        "escape",
        "forceescape",
        "format",
        "indent",
        "lower",
        "pprint",
        "replace",
        "safe",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "upper",
        "urlencode",
        "urlize",
        "wordcount",
        "wordwrap",
    }
)
# Methods of text a template may call; the others (encode, translate, ...) build values this
# module cannot bound in advance, and no spec needs them.
_TEXT_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "center",
        "count",
        "endswith",
        "expandtabs",
        "find",
        "format",
        "format_map",
        "index",
        "isalnum",
        "isalpha",
        "isascii",
        "isdecimal",
        "isdigit",
        "isidentifier",
        "islower",
        "isnumeric",
        "isprintable",
        "isspace",
        "istitle",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rjust",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "zfill",
    }
)
_NUMBER_METHODS = frozenset({"as_integer_ratio", "bit_length", "conjugate", "is_integer"})
_PLAIN = (str, int, float, type(None), list, tuple, dict, range, Undefined)


class _WorkBudget(Extension):
    """Gives compiled templates ``charge``, which ``bound_work`` calls atop loop bodies."""

    def charge(self, cost: int) -> str:
        """Spend ``cost`` steps of the render's budget (one pass through a body)."""
        environment = self.environment
        if isinstance(environment, BoundedSandbox):
            environment.spend(cost)
        return ""


def bound_work(tree: nodes.Template) -> nodes.Template:
    """``tree`` with a charge at the top of every loop body, macro and call block.

    A pass costs one step plus one per ``CHARS_PER_STEP`` characters of literal text inside,
    since that text is copied to the output on every pass without any other check.
    """
    bodies: list[nodes.For | nodes.Macro | nodes.CallBlock] = [
        *tree.find_all(nodes.For),
        *tree.find_all(nodes.Macro),
        *tree.find_all(nodes.CallBlock),
    ]
    for node in bodies:
        literal = sum(len(data.data) for data in node.find_all(nodes.TemplateData))
        line = node.lineno
        charge = nodes.Call(
            nodes.ExtensionAttribute(_WorkBudget.identifier, "charge", lineno=line),
            [nodes.Const(1 + literal // CHARS_PER_STEP, lineno=line)],
            [],
            None,
            None,
            lineno=line,
        )
        node.body.insert(0, nodes.ExprStmt(charge, lineno=line))
    return tree


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, with ``~`` checked before it joins its parts."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.bounded_join({join}, (")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox of spec templates: strict undefined, no autoescape, deterministic, bounded."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, total_steps: int = MAX_TOTAL_STEPS) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            finalize=self._finalize,
            extensions=[_WorkBudget],
        )
        self._steps = MAX_STEPS
        self._total = total_steps
        self._total_steps = total_steps
        for name in REMOVED:
            self.filters.pop(name, None)
            self.globals.pop(name, None)
        self.globals["range"] = self._range
        self.filters = {name: self._bounded_filter(name, f) for name, f in self.filters.items()}

    # ------------------------------------------------------------------ the budget

    def begin(self) -> None:
        """Start a render with a full budget."""
        self._steps = MAX_STEPS

    def spend(self, steps: int) -> None:
        """Take ``steps`` from the budgets; refuse the render once either is spent."""
        self._steps -= steps
        self._total -= steps
        if self._steps < 0:
            raise SecurityError(
                f"the template does too much work (more than {MAX_STEPS:,} steps of loops, "
                "calls and filters); spec templates should only fill in text"
            )
        if self._total < 0:
            raise SecurityError(
                f"the templates of this spec do too much work in all (more than "
                f"{self._total_steps:,} steps of loops, calls and filters)"
            )

    def measure(self, value: Any, *, plain: bool) -> int:
        """The size of ``value`` in characters (about what ``str`` would give), spent as work.

        Refuses a value over ``MAX_OUTPUT`` and, when ``plain``, one that holds anything but
        plain data. Stops counting as soon as the limit is passed, so a list that repeats a
        list that repeats a list costs no more than the limit to measure.
        """
        size = 0
        pending = [value]
        while pending:
            item = pending.pop()
            if plain and not isinstance(item, _PLAIN):
                raise SecurityError(_not_plain(item))
            if isinstance(item, str):
                size += len(item)
            elif isinstance(item, bool) or item is None:
                size += 5
            elif isinstance(item, int):
                size += item.bit_length() * 3 // 10 + 1
            elif isinstance(item, (list, tuple)):
                size += 2 * len(item) + 2
                pending.extend(item)
            elif isinstance(item, dict):
                size += 4 * len(item) + 2
                pending.extend(item.keys())
                pending.extend(item.values())
            else:
                size += 8
            if size > MAX_OUTPUT:
                raise SecurityError(too_long(size))
        self.spend(1 + size // CHARS_PER_STEP)
        return size

    def _range(self, *args: int) -> range:
        values = range(*args)
        if len(values) > MAX_RANGE:
            raise SecurityError(
                f"range() of {len(values):,} items: the sandbox allows at most {MAX_RANGE:,}"
            )
        return values

    # ------------------------------------------------------------ compiled-in hooks

    def _finalize(self, value: Any) -> Any:
        """Every printed value: plain data of bounded size (an ``Undefined`` raises later)."""
        self.measure(value, plain=True)
        return value

    def bounded_join(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ c``: every part plain, the joined text within the limit."""
        total = sum(self.measure(part, plain=True) for part in parts)
        if total > MAX_OUTPUT:
            raise SecurityError(too_long(total))
        return join(parts)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                if (
                    isinstance(sized, (str, list, tuple))
                    and isinstance(count, int)
                    and self.measure(sized, plain=False) * max(count, 0) > MAX_OUTPUT
                ):
                    raise SecurityError("repeating a value that often would be too long")
        elif operator == "**":
            check_power(left, right)
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                size = self.measure(left, plain=False) + self.measure(right, plain=False)
                if size > MAX_OUTPUT:
                    raise SecurityError(too_long(size))
        elif operator == "%" and isinstance(left, str):
            check_percent_format(left)
            self.measure(right, plain=True)
        result = super().call_binop(context, operator, left, right)
        self.measure(result, plain=False)
        return result

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """A call from a template: one step, bounded text methods, a bounded result."""
        self.spend(1)
        if isinstance(obj, BuiltinMethodType) and isinstance(obj.__self__, str):
            args = check_text_call(self.measure, obj.__self__, obj.__name__, args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        self.measure(result, plain=False)
        return result

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if callable(value) and isinstance(obj, str):
            return attr in _TEXT_METHODS
        if callable(value) and isinstance(obj, (int, float)):
            return attr in _NUMBER_METHODS
        return True

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        template: str = value.__self__

        @wraps(formatter)
        def checked(*args: Any, **kwargs: Any) -> str:
            check_brace_format(template)
            self.measure((list(args), dict(kwargs)), plain=True)
            return formatter(*args, **kwargs)

        return checked

    # ------------------------------------------------------------------ filters

    def _bounded_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` with its value measured first (plain data for text filters), the
        arguments of the filters that multiply checked (``bounds``), and its result measured.
        """
        # Filters that take the environment or context get it first; the value comes next.
        skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
        text = name in _TEXT_FILTERS
        check = FILTER_CHECKS.get(name)
        # Arguments are checked by name, bound to the function Jinja's wrappers stand for;
        # a wrapper may take an evaluation context that function does not.
        target = inspect.unwrap(func)
        extra = skip if getattr(target, "jinja_pass_arg", None) is None else 0
        signature = inspect.signature(target)

        @wraps(func)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            if check is not None:
                bound = signature.bind(*args[extra:], **kwargs)
                check(self.measure, bound.arguments)
                args, kwargs = (*args[:extra], *bound.args), bound.kwargs
            if len(args) > skip:
                self.measure(args[skip], plain=text)
            result = func(*args, **kwargs)
            self.measure(result, plain=False)
            return result

        return bounded


def _not_plain(value: Any) -> str:
    return (
        f"a {type(value).__name__} cannot be turned into text: only text, numbers, "
        "true/false and lists or mappings of them print the same on every run (add |list "
        "after map, select or reject)"
    )
