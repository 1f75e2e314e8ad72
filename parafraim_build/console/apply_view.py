"""What ``plan`` and ``apply`` print around the plan itself: confirmation, results, JSON."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import click

from parafraim_build.apply import ApplyResult
from parafraim_build.console import print_json
from parafraim_build.console.plan_view import NO_CHANGES, format_credits, print_plan, use_colour
from parafraim_build.console.progress import LiveReporter, PlainReporter, use_live_display
from parafraim_build.plan_model import Plan
from parafraim_build.progress import ApplyReporter

_SAME_CREDITS = 0.005
"""Below half a hundredth of a credit, the balance moved by what the run spent (figures are
shown to two decimals)."""


def print_plan_json(plan: Plan) -> None:
    """The ``plan --json`` document."""
    print_json(plan.to_json())


def print_no_changes() -> None:
    """What an apply with nothing to do says: what ``plan`` says, and that nothing ran."""
    click.echo(f"{NO_CHANGES} Nothing to apply.")


def print_plan_saved(path: str, command: str) -> None:
    """Where ``plan --out`` wrote the plan, and the command line that applies it (quoted and
    redacted: ``commands.command_line``)."""
    click.echo(f"Saved the plan to {path}; apply it with `{command}`.")


def print_plan_saved_without_changes(path: str) -> None:
    """``plan --out`` of a plan with nothing to do: saved, but there is nothing to apply."""
    click.echo(f"Saved the plan to {path}; it has no changes, so there is nothing to apply.")


def confirm_plan(plan: Plan, *, assume_yes: bool, show: bool) -> bool:
    """Show the plan, then ask on a terminal (``--yes`` skips the question).

    ``show`` False (``apply --json``: stdout is the result document's) still shows the plan
    when there is a question to answer, on stderr beside the question: nobody is asked to
    confirm a plan they cannot see.
    """
    if show:
        print_plan(plan)
    elif not assume_yes:
        print_plan(plan, err=True)
    if assume_yes:
        return True
    answer = click.confirm("Apply these changes?", default=False, err=True)
    if not answer:
        click.echo("Nothing was applied.", err=True)
    return answer


def reporter_factory() -> AbstractContextManager[ApplyReporter]:
    """A live display on an interactive terminal, plain timestamped lines elsewhere."""
    if use_live_display():
        return LiveReporter()
    return _plain()


@contextmanager
def _plain() -> Iterator[ApplyReporter]:
    yield PlainReporter()


def print_apply_result(result: ApplyResult, *, as_json: bool) -> None:
    """The end of an apply: a line per video and a summary, or the JSON document."""
    if as_json:
        print_json(result.to_json())
        return
    if not result.changes:
        print_no_changes()
        return
    if not result.confirmed:
        return
    colour = use_colour(sys.stdout)
    for video in result.videos:
        if video.status == "ok":
            mark, style = "ok", "green"
        elif video.status == "failed":
            mark, style = "FAILED", "red"
        else:
            mark, style = "interrupted", "yellow"
        line = f"{click.style(mark, fg=style) if colour else mark}  {video.video}"
        if video.outputs:
            line += "  -> " + ", ".join(sorted(video.outputs))
        click.echo(line)
        if video.error:
            click.echo(f"    {video.error}")
            if video.hint:
                click.echo(f"    hint: {video.hint}")
    done = sum(1 for video in result.videos if video.status == "ok")
    summary = (
        f"Apply: {done} of {len(result.videos)} videos done. Estimated credits: "
        f"{format_credits(result.estimated_credits)} (estimate; {result.cost_label}); "
        f"{spent_text(result)}"
    )
    if result.interrupted:
        summary += ". Interrupted: run apply again to resume what was in flight."
    click.echo(summary)


def spent_text(result: ApplyResult) -> str:
    """What the run spent, with the balance before and after when both were read.

    ``spent 12.5 credits (balance 500 → 487.5)``; the balance's difference is called out only
    when it is not what the run spent (other use of the account in the meantime).
    """
    unit = "emulated credits of the local engine" if result.local else "credits"
    before, after = result.balance_before, result.balance_after
    if result.spent_credits is not None:
        text = f"spent {format_credits(result.spent_credits)} {unit}"
    elif after is None:
        return f"{unit} spent: unknown (the balance could not be read after the run)"
    else:
        text = (
            f"{unit} spent: unknown, some of this run's charges are no longer among the "
            "account's recent transactions"
        )
    if before is not None and after is not None:
        balance = f"balance {format_credits(before)} → {format_credits(after)}"
        moved = before - after
        if result.spent_credits is not None and abs(moved - result.spent_credits) > _SAME_CREDITS:
            balance += (
                f", which moved by {format_credits(moved)}: the difference includes other use "
                "of the account"
            )
        text += f" ({balance})"
    elif after is not None:
        text += f" (balance after the run {format_credits(after)})"
    return text
