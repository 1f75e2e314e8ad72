"""The build commands: ``plan`` and ``apply``.

Each loads the spec, calls one function of ``parafraim_build.build`` and hands the result to
``console``. Exit codes: 0 done (or no changes), 1 an error or a failed video, 2 changes
(``plan --detailed-exitcode``), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from parafraim_build.apply import ApplySettings
from parafraim_build.build import apply_spec, plan_spec
from parafraim_build.cli.options import (
    json_option,
    local_option,
    parse_variables,
    spec_file_option,
    var_option,
    verbose_option,
)
from parafraim_build.console import apply_view
from parafraim_build.console.plan_view import print_plan
from parafraim_build.errors import ConfigError
from parafraim_build.plan_file import PlanOptions, SavedPlan, load_plan_file, save_plan
from parafraim_build.plan_model import Plan
from parafraim_build.planning import PlanRequest
from parafraim_build.spec import load_spec
from parafraim_build.workspace import workspace_for

EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


def _selection_options(func: F) -> F:
    func = click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="VIDEO",
        help="Build VIDEO in a new project even if its history still fits (repeatable).",
    )(func)
    func = click.option(
        "--no-render", is_flag=True, help="Only edit projects; plan no render or download."
    )(func)
    func = click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Run cache folder (default: PARAFRAIM_CACHE_DIR or .parafraim/cache beside the spec).",
    )(func)
    return func


@click.command()
@verbose_option
@spec_file_option
@click.argument("videos", nargs=-1, metavar="[VIDEO]...")
@var_option
@json_option
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would, 1 on error.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan to a file that `apply` can run exactly.",
)
@_selection_options
@local_option
def plan(
    spec_file: Path,
    videos: tuple[str, ...],
    variables: tuple[str, ...],
    as_json: bool,
    detailed_exitcode: bool,
    out_file: Path | None,
    replace: tuple[str, ...],
    no_render: bool,
    cache_dir: Path | None,
    local: bool,
) -> None:
    """Show what apply would change and what it would cost.

    Plans every video, or only the VIDEOs named. Makes no API request when nothing needs
    looking up (an unchanged project costs nothing to plan).
    """
    spec = load_spec(spec_file, variables=parse_variables(variables))
    workspace = workspace_for(spec.path, local=local, cache_dir=cache_dir)
    request = PlanRequest(selected=videos, replace=replace, no_render=no_render)
    outcome = asyncio.run(plan_spec(spec, workspace, request))
    if out_file is not None:
        save_plan(
            out_file,
            outcome.plan,
            spec=spec,
            lock_digest=outcome.lock_digest,
            options=PlanOptions(selected=videos, replace=replace, no_render=no_render, local=local),
            template_ids=outcome.template_ids,
        )
    if as_json:
        apply_view.print_plan_json(outcome.plan)
    else:
        print_plan(outcome.plan)
        if out_file is not None:
            apply_view.print_plan_saved(str(out_file))
    if detailed_exitcode and outcome.plan.changes:
        raise click.exceptions.Exit(EXIT_CHANGES)


@click.command()
@verbose_option
@spec_file_option
@click.argument("targets", nargs=-1, metavar="[VIDEO]... [PLANFILE]")
@var_option
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Apply without asking.")
@json_option
@click.option(
    "--parallelism",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Videos editing at once (the account's concurrent task limit).",
)
@click.option(
    "--render-parallelism",
    type=click.IntRange(min=1),
    default=None,
    help="Renders and downloads in flight at once (default: 4 x --parallelism).",
)
@click.option(
    "--max-credits",
    type=click.FloatRange(min=0),
    default=None,
    help="Refuse a plan estimated above N credits, and start no operation that would pass N.",
)
@_selection_options
@local_option
def apply(
    spec_file: Path,
    targets: tuple[str, ...],
    variables: tuple[str, ...],
    assume_yes: bool,
    as_json: bool,
    parallelism: int,
    render_parallelism: int | None,
    max_credits: float | None,
    replace: tuple[str, ...],
    no_render: bool,
    cache_dir: Path | None,
    local: bool,
) -> None:
    """Make what the plan says: new projects, new steps, renders, downloads.

    Applies every video, or only the VIDEOs named, or exactly a PLANFILE saved by
    `plan --out`. Asks for confirmation on a terminal; elsewhere --yes is required.
    Outputs go to <outDir>/<video>/<render>.<format> beside the spec.
    """
    spec = load_spec(spec_file, variables=parse_variables(variables))
    videos, saved = _split_targets(targets, set(spec.videos))
    request = PlanRequest(selected=videos, replace=replace, no_render=no_render)
    if saved is not None:
        if videos or replace or no_render:
            raise ConfigError(
                "a saved plan already says which videos to apply and how",
                hint="apply the plan file alone, or make a new plan with those options",
            )
        if saved.options.local != local:
            where = "--local" if saved.options.local else "the real service"
            raise ConfigError(f"the saved plan was made for {where}", hint="match --local")
        request = PlanRequest(
            selected=saved.options.selected,
            replace=saved.options.replace,
            no_render=saved.options.no_render,
        )
    if not assume_yes and not sys.stdin.isatty():
        raise ConfigError(
            "apply asks for confirmation, but there is no terminal to ask on",
            hint="pass --yes to apply without asking (review `parafraim-build plan` first)",
        )
    workspace = workspace_for(spec.path, local=local, cache_dir=cache_dir)

    def confirm(plan: Plan) -> bool:
        return apply_view.confirm_plan(plan, assume_yes=assume_yes, show=not as_json)

    result = asyncio.run(
        apply_spec(
            spec,
            workspace,
            request,
            ApplySettings(
                parallelism=parallelism,
                render_parallelism=render_parallelism,
                max_credits=max_credits,
            ),
            confirm=confirm,
            reporter=apply_view.reporter_factory,
            saved=saved,
        )
    )
    apply_view.print_apply_result(result, as_json=as_json)
    if result.interrupted:
        raise click.exceptions.Exit(EXIT_INTERRUPTED)
    if result.failed:
        raise click.exceptions.Exit(EXIT_ERROR)


def _split_targets(
    targets: tuple[str, ...], video_keys: set[str]
) -> tuple[tuple[str, ...], SavedPlan | None]:
    """``VIDEO... [PLANFILE]``: an argument that is not a video but an existing file is the
    plan file (at most one)."""
    videos: list[str] = []
    plan_files: list[Path] = []
    for target in targets:
        if target not in video_keys and Path(target).is_file():
            plan_files.append(Path(target))
        else:
            videos.append(target)
    if len(plan_files) > 1:
        raise ConfigError(
            "apply takes at most one plan file, got " + ", ".join(map(str, plan_files))
        )
    saved = load_plan_file(plan_files[0]) if plan_files else None
    return tuple(videos), saved


COMMANDS: list[click.Command] = [plan, apply]
