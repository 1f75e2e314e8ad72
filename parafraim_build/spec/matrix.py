"""Matrix expansion: one video per combination of the matrix's lists (a cartesian product)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

# A single video entry may expand to at most this many videos; more is almost surely a
# mistake (three lists of a hundred), and would make planning slow for nothing.
MAX_EXPANSIONS = 10_000


def expansion_count(matrix: Mapping[str, Sequence[Any]]) -> int:
    """How many videos ``matrix`` expands to (1 for an empty matrix)."""
    return math.prod(len(values) for values in matrix.values())


def expand(matrix: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination, in the order the lists are written: the last list varies fastest.

    ``{"lang": ["en", "de"], "size": [1, 2]}`` gives ``lang=en,size=1``, ``lang=en,size=2``,
    ``lang=de,size=1``, ``lang=de,size=2``. An empty matrix gives one empty combination.
    """
    names = list(matrix)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*matrix.values())]


def describe(combination: Mapping[str, Any]) -> str:
    """``lang=en, size=1``: a combination as shown in problems."""
    return ", ".join(f"{name}={value}" for name, value in combination.items())


def repeated(values: Sequence[Any]) -> list[tuple[int, Any]]:
    """Each value of a matrix list that appeared earlier in it, with its index.

    ``[en, de, en]`` gives ``[(2, "en")]``. The type counts: ``1`` and ``true`` differ.
    """
    seen: set[tuple[type, Any]] = set()
    found: list[tuple[int, Any]] = []
    for index, value in enumerate(values):
        identity = (type(value), value)
        if identity in seen:
            found.append((index, value))
        seen.add(identity)
    return found
