"""``load_spec``: the one way in. A path becomes a ``Spec`` or one ``SpecError``.

The stages run in order (read, YAML, shape, variables, output folder, expansion), each adding
its problems to one collector and going on with whatever is still usable, so that a single run
reports every problem in the file. Nothing but ``SpecError`` leaves this module: file system,
YAML, pydantic and Jinja failures are all translated into located problems.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from collections.abc import Mapping
from pathlib import Path

from parafraim_build.commands import DEFAULT_SPEC, PROGRAM, command_line
from parafraim_build.errors import SpecError
from parafraim_build.spec.expand import Expander
from parafraim_build.spec.models import Spec
from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.reporter import Reporter, Scope
from parafraim_build.spec.source import KeyPath, SourceText
from parafraim_build.spec.stepfiles import StepFiles, check_relative_path, check_resolved_path
from parafraim_build.spec.structure import check_structure
from parafraim_build.spec.templating import Templates
from parafraim_build.spec.variables import Variables, resolve_variables
from parafraim_build.spec.yamlsource import parse_yaml, read_text


def load_spec(path: Path, *, variables: Mapping[str, str] | None = None) -> Spec:
    """Read, template, expand and check the spec at ``path``.

    ``variables`` are ``--var`` overrides of the spec's ``vars``, as typed on the command
    line; each takes the type of the variable it overrides (``variables.parse_override``).
    Raises ``SpecError`` with every problem found, and nothing else; returns a frozen ``Spec``
    whose videos are ready to plan.
    """
    problems = ProblemCollector()
    display = display_name(path)
    overrides = dict(variables or {})
    spec = _load(Path(path), display, overrides, problems)
    if spec is None and not len(problems):  # pragma: no cover - a stage always says why
        problems.add_file(display, "the spec could not be read")
    if len(problems):
        error = SpecError(problems.problems())
        # Every command reads the spec here: the hint repeats this run's -f and --var, so
        # that the command it prints checks the same spec the same way.
        error.hint = f"fix the spec and run `{validate_command(display, overrides)}` again"
        raise error
    assert spec is not None
    return spec


def validate_command(display: str, variables: Mapping[str, str] | None = None) -> str:
    """``parafraim-build validate`` for the spec shown as ``display``, with these ``--var``s
    (quoted, redacted, ``-f`` only when needed: ``commands.command_line``)."""
    return command_line("validate", spec_file=display, variables=variables or {})


def missing_spec_error(display: str) -> SpecError:
    """The error for a spec that does not exist at ``display`` (as typed or shown).

    Its hint is how to get one there (``init``, or the right path), not "fix the spec".
    """
    problems = ProblemCollector()
    problems.add_file(display, "the spec does not exist")
    error = SpecError(problems.problems())
    error.hint = _start_one(display)
    return error


def display_name(path: Path) -> str:
    """``path`` as problems show it: relative to the working directory when inside it."""
    text = os.fspath(path)
    if os.path.isabs(text):
        try:
            relative = os.path.relpath(text)
        except ValueError:  # another drive on Windows
            return text
        if not relative.startswith(".."):
            return relative
    return text


def _load(
    path: Path, display: str, overrides: dict[str, str], problems: ProblemCollector
) -> Spec | None:
    try:
        missing = not path.exists() and not path.is_symlink()
        absolute = path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # too long, a symlink loop, a NUL
        problems.add_file(display, f"the spec cannot be read: {exc}")
        return None
    if missing:
        raise missing_spec_error(display)
    text = read_text(path, display, problems, "spec")
    if text is None:
        return None
    doc = parse_yaml(SourceText.from_text(display, text), text, problems)
    if doc is None:
        return None
    if not isinstance(doc.data, dict):
        doc.report(problems, (), "a spec is a mapping with `version: 1` and `videos`, not a value")
        return None
    document = check_structure(doc, problems)
    if document is None:
        return None
    variables = resolve_variables(doc, document, overrides, problems)
    root = absolute.parent
    reporter = Reporter(doc, Templates(), problems, broken=variables.is_broken)
    out_dir = _out_dir(reporter, document.outDir, root, variables)
    step_files = StepFiles(root, posixpath.dirname(display.replace(os.sep, "/")), problems)
    videos = Expander(document, variables, reporter, step_files).videos()
    if out_dir is None or len(problems):
        return None
    return Spec(path=absolute, out_dir=out_dir, videos=videos)


def _start_one(display: str) -> str:
    """How to get a spec at ``display``: ``init`` writes ``parafraim.yaml`` in a folder."""
    folder, name = posixpath.split(display.replace(os.sep, "/"))
    init = shlex.join([PROGRAM, "init", *([folder] if folder else [])])
    if name == DEFAULT_SPEC:
        return f"run `{init}` to start one, or pass -f SPEC"
    return f"check the path given to -f, or run `{init}` to start a {DEFAULT_SPEC} there"


def _out_dir(reporter: Reporter, raw: str, root: Path, variables: Variables) -> Path | None:
    """The absolute output folder: ``outDir`` below the spec's folder, never outside it.

    Outputs are written and old ones removed there, so a spec from a pull request must not
    be able to aim ``apply`` at another folder of the machine, nor at a hidden one such as
    ``.git`` inside its own.
    """
    path: KeyPath = ("outDir",)
    scope = Scope(variables.context(), None, False)
    rendered = reporter.render(raw, path, scope)
    if rendered is None:
        return None
    # Every output path in the lock starts with it.
    if reporter.refuse_api_key(path, "outDir", rendered, scope):
        return None
    reason = check_relative_path(rendered, "outDir")
    if reason is None and posixpath.normpath(rendered) == ".":
        reason = "outDir must be a folder inside the spec's folder, not the folder itself"
    if reason is None:
        out_dir = root / posixpath.normpath(rendered)
        try:
            resolved = out_dir.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            resolved, reason = out_dir, f"outDir {rendered!r} cannot be resolved: {exc}"
        if reason is None:
            reason = check_resolved_path(rendered, resolved, root, "outDir")
        if reason is None:
            return out_dir
    reporter.at(path, reason)
    return None
