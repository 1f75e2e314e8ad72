"""Template variables: the spec's ``vars``, the ``--var`` overrides, and the reserved names.

An override keeps the type of the variable it replaces, so ``--var count=5`` gives the number
5 when the spec declares ``count: 3`` (and ``{{ count + 1 }}`` still works), while a text
variable takes the value exactly as typed. A variable whose value the shape check refused is
*broken*: it is left undefined, and templates that fail only because they use it are not
reported again, since the one real problem is already on the ``vars`` line.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from parafraim_build.spec.document import SpecDocument
from parafraim_build.spec.problems import ProblemCollector, suggestion
from parafraim_build.spec.yamlsource import YamlDocument

RESERVED_NAMES = frozenset({"video", "vars"})
"""Template variables the tool defines itself; a var or matrix list may not take them."""

_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "true or false"),
    (int, "a whole number"),
    (float, "a number"),
)


@dataclass(frozen=True)
class Variables:
    """The values templates see, and which declared variables are broken.

    ``all_broken`` is set when ``vars`` itself is unusable (not a mapping): every name a
    template cannot find may then have been meant to come from it.
    """

    values: dict[str, Any]
    broken: frozenset[str] = frozenset()
    all_broken: bool = False

    def is_broken(self, name: str) -> bool:
        """Whether a template that cannot find ``name`` failed because of a reported value."""
        return self.all_broken or name in self.broken

    def context(self) -> dict[str, Any]:
        """The template context before any matrix value: each variable, and ``vars``."""
        return {**self.values, "vars": dict(self.values)}


@dataclass(frozen=True)
class Refused:
    """Why an override cannot stand for the variable it names."""

    reason: str


def variable_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a template variable, or ``None`` when it can."""
    if name in RESERVED_NAMES:
        return f"'{name}' is reserved: the tool sets it for every video"
    if not name.isidentifier() or keyword.iskeyword(name) or name in ("true", "false", "none"):
        return (
            f"'{name}' is not a usable variable name: use letters, digits and _, "
            "not starting with a digit"
        )
    return None


def resolve_variables(
    doc: YamlDocument,
    document: SpecDocument,
    overrides: Mapping[str, str],
    problems: ProblemCollector,
) -> Variables:
    """``vars`` with the ``--var`` overrides applied; bad names and overrides reported.

    An override of a name the spec does not declare is a command-line problem: it has no
    place in the file, so it is reported without one.
    """
    raw = doc.data.get("vars") if isinstance(doc.data, dict) else None
    all_broken = raw is not None and not isinstance(raw, dict)
    # Declared but refused by the shape check (already reported): left out, and quiet.
    broken = frozenset(str(name) for name in raw or {}) - frozenset(document.vars)
    values: dict[str, Any] = {}
    for name, value in document.vars.items():
        reason = variable_name_problem(name)
        if reason is not None:
            doc.report(problems, ("vars", name), reason, on_key=True)
        else:
            values[name] = value
    for name, text in overrides.items():
        if name in values:
            value = parse_override(values[name], text)
            if isinstance(value, Refused):
                problems.add_command_line(f"--var {name}={text}: {value.reason}")
            else:
                values[name] = value
        elif name not in document.vars and name not in broken and not all_broken:
            problems.add_command_line(
                f"--var {name}: the spec declares no variable '{name}'"
                f"{suggestion(name, document.vars)}; declare it under vars to override it"
            )
    return Variables(values, broken, all_broken)


def parse_override(declared: Any, text: str) -> Any:
    """``text`` as a value of the declared variable's type, or ``Refused``.

    Text variables take ``text`` as is. For numbers and booleans it is read as a YAML scalar
    (``5``, ``2.5``, ``true``, ``no``) and must give the same type; a whole number is accepted
    for a decimal variable.
    """
    if isinstance(declared, str) or not isinstance(declared, (bool, int, float)):
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = None
    if isinstance(declared, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(value, bool):
        pass  # true is not a number here, whatever Python thinks
    elif isinstance(declared, int):
        if isinstance(value, int):
            return value
    elif isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    words = next(words for kind, words in _KINDS if isinstance(declared, kind))
    return Refused(f"the spec declares it as {words} ({declared!r}), and {text!r} is not one")
