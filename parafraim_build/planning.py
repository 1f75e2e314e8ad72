"""Gathering what the pure planner needs, and asking it: the front half of plan and apply.

``make_plan`` itself does no I/O; this module does the I/O around it once: read the outputs
on disk (hashing only what changed), snapshot the run cache, pick the cost model, and look up
template names that the lock has not pinned yet (the only API request planning may need).

A template name is the one thing in a spec that offline validation cannot check: a name that
matches no template, or several, is reported at the ``template:`` value that set it, like any
other spec problem (``template_problem``).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parafraim_build.api.client import ParafraimClient
from parafraim_build.cache import CacheView, RunCache
from parafraim_build.errors import BuildError, ConfigError, SpecError, SpecProblem
from parafraim_build.lock_model import Lock
from parafraim_build.outputs import observe_outputs
from parafraim_build.plan import make_plan
from parafraim_build.plan_model import Plan
from parafraim_build.pricing_estimate import CostModel, LocalCostModel, ObservedCostModel
from parafraim_build.spec.loader import display_name
from parafraim_build.spec.models import Spec
from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.source import KeyPath, SourceText, format_key_path
from parafraim_build.spec.yamlsource import YamlDocument, parse_yaml, read_text
from parafraim_build.workspace import Workspace


@dataclass(frozen=True)
class PlanRequest:
    """What the user asked to plan: a selection, forced replacements, renders or not."""

    selected: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    no_render: bool = False


def costs_for(view: CacheView, *, local: bool) -> CostModel:
    """The engine's own prices for ``--local``; for the real service, what was observed."""
    if local:
        return LocalCostModel()
    return ObservedCostModel(view.costs, fallback=LocalCostModel())


def compute_plan(
    spec: Spec,
    lock: Lock | None,
    cache: RunCache,
    workspace: Workspace,
    request: PlanRequest,
    *,
    identity: str,
    account_id: str | None,
    template_ids: Mapping[str, str],
    lost_tasks: Collection[str] = (),
    claimed: Collection[str] = (),
) -> Plan:
    """Observe the outputs, snapshot the cache and plan. No API request.

    ``lost_tasks``, ``claimed``: see ``plan.make_plan`` (the executor re-plans a video mid-run).
    """
    view = cache.view(identity, account_id, scope=workspace.scope)
    outputs = observe_outputs(spec, lock, memo=cache.hash_memo())
    return make_plan(
        spec,
        lock,
        view,
        outputs,
        selected=request.selected,
        replace=request.replace,
        no_render=request.no_render,
        template_ids=template_ids,
        costs=costs_for(view, local=workspace.local),
        lost_tasks=lost_tasks,
        claimed=claimed,
    )


async def resolve_template_names(
    client: ParafraimClient,
    names: Collection[str],
    *,
    local: bool = False,
    spec: Spec | None = None,
) -> dict[str, str]:
    """Template ids for exact names, searched through ``GET /templates?q=``.

    A name must match exactly one template; none or several is an error that lists the close
    matches or the candidates' ids (so the spec can use ``{id: ...}`` instead). Given the
    ``spec`` the names come from, it is a ``SpecError`` at the ``template:`` value that set
    the name (``template_problem``); without it, a ``ConfigError``.
    ``local``: the client talks to the embedded engine, so the hint names
    ``templates --local`` (the real catalogue is another one, and may need a key).
    """
    resolved: dict[str, str] = {}
    for name in sorted(names):
        found = [t async for t in client.iter_templates(q=name)]
        exact = [t for t in found if t.name == name]
        if len(exact) == 1:
            resolved[name] = exact[0].id
            continue
        if len(exact) > 1:
            ids = ", ".join(t.id for t in exact)
            raise _name_error(
                spec,
                name,
                f"template name {name!r} matches {len(exact)} templates ({ids})",
                "use `template: {id: <uuid>}` in the spec to pick one",
            )
        catalogue = [t.name async for t in client.iter_templates()]
        close = difflib.get_close_matches(name, catalogue, n=3, cutoff=0.5)
        suggestion = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise _name_error(
            spec,
            name,
            f"no template is named exactly {name!r}{suggestion}",
            f"`{templates_command(local=local)}` lists them; names are case-sensitive",
        )
    return resolved


def _name_error(spec: Spec | None, name: str, message: str, hint: str) -> BuildError:
    if spec is None:
        return ConfigError(message, hint=hint)
    error = SpecError([template_problem(spec, name, message)])
    error.hint = hint
    return error


def template_problem(spec: Spec, name: str, message: str) -> SpecProblem:
    """``message`` about template ``name``, located at the ``template:`` value that set it.

    The expanded spec keeps no positions, so the spec file is read again. The value is the
    one written as exactly ``name``; failing that (the name was templated), the template of
    the plain video entry whose key is a video that uses ``name``; failing that, the only
    templated template value of a matrix entry. When none is found (the file changed since
    it was loaded, or several matrix entries could have produced it) the problem names the
    file alone.
    """
    display = display_name(spec.path)
    doc = _reread(spec.path, display)
    where = _template_path(doc, spec, name) if doc is not None else None
    if doc is None or where is None:
        return SpecProblem(file=display, line=None, column=None, message=message)
    position = doc.position(where)
    line = position.line if position else None
    return SpecProblem(
        file=display,
        line=line,
        column=position.column if position else None,
        message=message,
        key_path=format_key_path(where),
        source_line=doc.source.line(line),
    )


def _reread(path: Path, display: str) -> YamlDocument | None:
    problems = ProblemCollector()
    text = read_text(path, display, problems, "spec")
    if text is None:
        return None
    return parse_yaml(SourceText.from_text(display, text), text, problems)


def _template_path(doc: YamlDocument, spec: Spec, name: str) -> KeyPath | None:
    """The key path of the ``template:`` value that gave videos of ``spec`` the name."""
    data: Any = doc.data
    videos = data.get("videos") if isinstance(data, dict) else None
    defaults = data.get("defaults") if isinstance(data, dict) else None
    if not isinstance(videos, dict):
        return None
    inherited = defaults.get("template") if isinstance(defaults, dict) else None
    # Each video entry's template value: its own, or the one it inherits from defaults.
    entries: dict[str, tuple[KeyPath, str]] = {}
    for raw_key, entry in videos.items():
        if not isinstance(entry, dict):
            continue
        if "template" in entry:
            if isinstance(entry["template"], str):
                entries[raw_key] = (("videos", raw_key, "template"), entry["template"])
        elif isinstance(inherited, str):
            entries[raw_key] = (("defaults", "template"), inherited)
    for path, value in entries.values():
        if value == name:
            return path
    users = {
        key
        for key, video in spec.videos.items()
        if video.template is not None and video.template.name == name
    }
    for raw_key, (path, _) in entries.items():
        if raw_key in users:
            return path
    templated = {
        path
        for raw_key, (path, value) in entries.items()
        if _templated(value) and (_templated(raw_key) or videos[raw_key].get("matrix"))
    }
    return templated.pop() if len(templated) == 1 else None


def _templated(text: str) -> bool:
    return "{{" in text or "{%" in text


def templates_command(*, local: bool) -> str:
    """The command that lists the templates this run can use."""
    return "parafraim-build templates --local" if local else "parafraim-build templates"
