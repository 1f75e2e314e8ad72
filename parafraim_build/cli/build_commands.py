"""The build commands: ``plan`` and ``apply``.

Each loads the spec, calls one function of ``parafraim_build.build`` and hands the result to
``console``. Exit codes: 0 done (or no changes), 1 an error or a failed video, 2 changes
(``plan --detailed-exitcode``), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Collection
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
from parafraim_build.commands import command_words, printable
from parafraim_build.console import apply_view
from parafraim_build.console.plan_view import print_plan
from parafraim_build.errors import ConfigError
from parafraim_build.lockfile import read_lock
from parafraim_build.plan_file import PlanOptions, SavedPlan, load_plan_file, save_plan
from parafraim_build.plan_model import Plan
from parafraim_build.planning import PlanRequest
from parafraim_build.spec import load_spec
from parafraim_build.spec.models import Spec
from parafraim_build.workspace import Workspace, workspace_for

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
    outcome = asyncio.run(plan_spec(spec, workspace, request, identify=out_file is not None))
    if out_file is not None:
        save_plan(
            out_file,
            outcome.plan,
            spec=spec,
            lock_digest=outcome.lock_digest,
            options=PlanOptions(selected=videos, replace=replace, no_render=no_render, local=local),
            template_ids=outcome.template_ids,
            service=outcome.service,
            account_id=outcome.account_id,
        )
    if as_json:
        apply_view.print_plan_json(outcome.plan)
    else:
        print_plan(outcome.plan)
        if out_file is not None and not outcome.plan.changes:
            apply_view.print_plan_saved_without_changes(str(out_file))
        elif out_file is not None:
            command = apply_command(
                out_file,
                spec_file=spec_file,
                local=local,
                variables=variables,
                cache_dir=cache_dir,
                video_keys=spec.videos,
            )
            apply_view.print_plan_saved(str(out_file), printable(command))
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
    `plan --out` (without asking: the saved plan was the one reviewed). Otherwise asks for
    confirmation on a terminal; elsewhere --yes is required.
    Outputs go to <outDir>/<video>/<render>.<format> beside the spec.
    """
    spec = load_spec(spec_file, variables=parse_variables(variables))
    workspace = workspace_for(spec.path, local=local, cache_dir=cache_dir)
    videos, saved = _split_targets(targets, spec, workspace)
    request = PlanRequest(selected=videos, replace=replace, no_render=no_render)
    if saved is not None:
        if videos or replace or no_render:
            raise ConfigError(
                "a saved plan already says which videos to apply and how",
                hint="apply the plan file alone, or make a new plan with those options",
            )
        if saved.options.local != local:
            if saved.options.local:
                raise ConfigError(
                    "the saved plan was made with --local", hint="add --local to apply it"
                )
            raise ConfigError(
                "the saved plan was made for the real service, not --local",
                hint="apply it without --local",
            )
        request = PlanRequest(
            selected=saved.options.selected,
            replace=saved.options.replace,
            no_render=saved.options.no_render,
        )
        # Like `terraform apply PLANFILE`: saving and reviewing the plan was the approval,
        # and apply refuses to run anything but exactly that plan, for that service and
        # account. One made before any account was known still asks (see SavedPlan.approved).
        assume_yes = assume_yes or saved.approved
    if not assume_yes and not sys.stdin.isatty():
        raise ConfigError(
            "apply asks for confirmation, but there is no terminal to ask on",
            hint="pass --yes to apply without asking (review the plan first: "
            "`parafraim-build plan` with the same -f, --local, --var and videos)",
        )

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


def apply_command(
    plan_file: Path,
    *,
    spec_file: Path,
    local: bool,
    variables: tuple[str, ...] = (),
    cache_dir: Path | None = None,
    video_keys: Collection[str] = (),
) -> list[str]:
    """The ``apply`` command line (argv) that applies ``plan_file`` as ``plan --out`` saved it.

    A saved plan is only applied against the same spec, service and run cache it was made
    with, with the same variables (they change the spec): ``-f`` when the spec is not the
    default, ``--local``, ``--cache-dir`` and every ``--var`` as given. Paths are kept as typed,
    so the command works from the folder ``plan`` ran in; a plan file named like one of
    ``video_keys`` gets a ``./``, or apply would take it for that video.
    """
    target = str(plan_file)
    return command_words(
        "apply",
        spec_file=spec_file,
        variables=variables,
        local=local,
        cache_dir=cache_dir,
        extra=[f"./{target}" if target in video_keys else target],
    )


def _split_targets(
    targets: tuple[str, ...], spec: Spec, workspace: Workspace
) -> tuple[tuple[str, ...], SavedPlan | None]:
    """``VIDEO... [PLANFILE]``: a video's key (of the spec, or of the lock: a video removed
    from the spec), or an existing file, which is the plan file (at most one).

    Anything else is refused here, naming both things it could have been.
    """
    videos: list[str] = []
    plan_files: list[Path] = []
    unknown: list[str] = []
    locked: set[str] | None = None
    for target in targets:
        if target in spec.videos:
            videos.append(target)
        elif Path(target).is_file():
            plan_files.append(Path(target))
        else:
            if locked is None:
                # Read only for a target the spec does not know: the usual apply reads the
                # lock once, under its own lock, later.
                lock = read_lock(workspace.lock_path)
                locked = set(lock.videos) if lock is not None else set()
            (videos if target in locked else unknown).append(target)
    if unknown:
        name = spec.path.name
        what = (
            f"no such plan file and no video of that name in {name}"
            if len(unknown) == 1
            else f"no such plan files and no videos of those names in {name}"
        )
        declared = ", ".join(sorted(spec.videos)) or "none"
        raise ConfigError(
            f"{', '.join(unknown)}: {what}",
            hint=f"the videos of {name} are: {declared}; a plan file is saved by "
            "`parafraim-build plan --out FILE`",
        )
    if len(plan_files) > 1:
        raise ConfigError(
            "apply takes at most one plan file, got " + ", ".join(map(str, plan_files))
        )
    saved = load_plan_file(plan_files[0]) if plan_files else None
    return tuple(videos), saved


COMMANDS: list[click.Command] = [plan, apply]
