"""Gathering what the pure planner needs, and asking it: the front half of plan and apply.

``make_plan`` itself does no I/O; this module does the I/O around it once: read the outputs
on disk (hashing only what changed), snapshot the run cache, pick the cost model, and look up
template names that the lock has not pinned yet (the only API request planning may need).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from parafraim_build.api.client import ParafraimClient
from parafraim_build.cache import CacheView, RunCache
from parafraim_build.errors import ConfigError
from parafraim_build.lock_model import Lock
from parafraim_build.outputs import observe_outputs
from parafraim_build.plan import make_plan
from parafraim_build.plan_model import Plan
from parafraim_build.pricing_estimate import CostModel, LocalCostModel, ObservedCostModel
from parafraim_build.spec.models import Spec
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
    client: ParafraimClient, names: Collection[str], *, local: bool = False
) -> dict[str, str]:
    """Template ids for exact names, searched through ``GET /templates?q=``.

    A name must match exactly one template; none or several is a ``ConfigError`` that lists
    the close matches or the candidates' ids (so the spec can use ``{id: ...}`` instead).
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
            raise ConfigError(
                f"template name {name!r} matches {len(exact)} templates ({ids})",
                hint="use `template: {id: <uuid>}` in the spec to pick one",
            )
        catalogue = [t.name async for t in client.iter_templates()]
        close = difflib.get_close_matches(name, catalogue, n=3, cutoff=0.5)
        suggestion = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(
            f"no template is named exactly {name!r}{suggestion}",
            hint=f"`{templates_command(local=local)}` lists them; names are case-sensitive",
        )
    return resolved


def templates_command(*, local: bool) -> str:
    """The command that lists the templates this run can use."""
    return "parafraim-build templates --local" if local else "parafraim-build templates"
