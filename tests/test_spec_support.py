"""Helpers shared by the spec tests (this module holds no tests of its own).

``write_project`` lays out a spec and its prompt files in a folder; ``problems`` loads a spec
that must fail and returns every ``SpecProblem``; ``only_problem`` insists there is exactly
one, so a test that expects one mistake also proves no other was invented.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from parafraim_build.errors import SpecError, SpecProblem
from parafraim_build.spec import Spec, load_spec

MINIMAL = """\
version: 1
videos:
  clip:
    steps: [Say hello.]
"""


def write_project(
    root: Path, spec: str | bytes, files: Mapping[str, str | bytes] | None = None
) -> Path:
    """Write ``parafraim.yaml`` (dedented when text) and ``files`` under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "parafraim.yaml"
    if isinstance(spec, bytes):
        path.write_bytes(spec)
    else:
        path.write_text(textwrap.dedent(spec), encoding="utf-8")
    for name, content in (files or {}).items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return path


def load(
    root: Path,
    spec: str,
    files: Mapping[str, str | bytes] | None = None,
    variables: Mapping[str, str] | None = None,
) -> Spec:
    """Write a project and load it; it must be valid."""
    return load_spec(write_project(root, spec, files), variables=variables)


def problems(
    root: Path,
    spec: str | bytes,
    files: Mapping[str, str | bytes] | None = None,
    variables: Mapping[str, str] | None = None,
) -> list[SpecProblem]:
    """Write a project, load it, and return the problems of the ``SpecError`` it must raise."""
    path = write_project(root, spec, files)
    with pytest.raises(SpecError) as caught:
        load_spec(path, variables=variables)
    return list(caught.value.problems)


def only_problem(
    root: Path,
    spec: str | bytes,
    files: Mapping[str, str | bytes] | None = None,
    variables: Mapping[str, str] | None = None,
) -> SpecProblem:
    """The one problem of a spec that must fail with exactly one."""
    found = problems(root, spec, files, variables)
    assert len(found) == 1, "\n".join(problem.render() for problem in found)
    return found[0]
