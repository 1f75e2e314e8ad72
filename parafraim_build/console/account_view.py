"""How the account commands print: a readable table, or JSON for scripts.

JSON is the models as the API named their fields (``model_dump``), lists as JSON arrays, so
that ``parafraim-build templates --json | jq '.[].id'`` works. Numbers stay as the service sent
them: an integral amount is an integer (``10000``, not ``10000.0``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from rich.table import Table

from parafraim_build import console
from parafraim_build.api.models import Credits, Me, ProjectSummary, TemplateSummary

# Lists are read in 80-column terminals and CI logs: no borders, two spaces between columns.
_LIST_STYLE: dict[str, Any] = {
    "title_justify": "left",
    "box": None,
    "pad_edge": False,
    "padding": (0, 2, 0, 0),
    "header_style": "bold underline",
}


def _dump(model: BaseModel) -> object:
    return model.model_dump(mode="json")


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _limit_rows(limits: Mapping[str, float | str | None] | None) -> list[tuple[str, str]]:
    """One row per plan limit, named in words: ``concurrentTasks`` -> ``concurrent tasks``."""
    rows = []
    for name, value in (limits or {}).items():
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").lower()
        if value is None:
            shown = "no limit"
        elif isinstance(value, str):
            shown = value
        else:
            shown = _number(value)
        rows.append((f"limit: {words}", shown))
    return rows


def _text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _fields(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", box=None)
    table.add_column("field", style="bold")
    table.add_column("value")
    for name, value in rows:
        table.add_row(name, value)
    return table


def print_me(me: Me, *, base_url: str, as_json: bool) -> None:
    """``whoami``: who the key belongs to, and which API it was checked against."""
    if as_json:
        console.print_json(_dump(me))
        return
    table = _fields(
        "Parafraim account",
        [
            ("email", _text(me.email)),
            ("id", me.id),
            ("plan", _text(me.plan)),
            ("render credits", _number(me.renderCredits)),
            ("API", base_url),
        ],
    )
    console.stdout_console().print(table)


def print_credits(credits: Credits, *, as_json: bool) -> None:
    """``credits``: the balance, the month's usage and the latest transactions."""
    if as_json:
        console.print_json(_dump(credits))
        return
    out = console.stdout_console()
    out.print(
        _fields(
            "Credits",
            [
                ("balance", _number(credits.balance)),
                ("plan", _text(credits.plan)),
                ("monthly allowance", _number(credits.monthlyAllowance)),
                ("used this month", _number(credits.used)),
                ("used today", _number(credits.usedToday)),
                *_limit_rows(credits.limits),
            ],
        )
    )
    if not credits.recent:
        return
    table = Table(**_LIST_STYLE, title="Recent transactions")
    for column in ("when", "type", "amount", "description"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    for entry in credits.recent:
        table.add_row(
            _text(entry.createdAt),
            _text(entry.type),
            _number(entry.amount),
            _text(entry.description),
        )
    out.print(table)


def print_templates(
    templates: Sequence[TemplateSummary],
    *,
    as_json: bool,
    categories: Sequence[str] = (),
) -> None:
    """``templates``: every matching template, with the id to put in a spec.

    ``categories`` (when nothing matched a ``--category``) are the ones that exist, since a
    category must match exactly.
    """
    if as_json:
        console.print_json([_dump(t) for t in templates])
        return
    if not templates:
        console.out("no templates match")
        if categories:
            console.err(f"the categories are: {', '.join(categories)} (exact, case-sensitive)")
        return
    table = Table(**_LIST_STYLE, title=_count(len(templates), "template"))
    table.add_column("id", no_wrap=True)
    table.add_column("name")
    table.add_column("category", no_wrap=True)
    table.add_column("uses", justify="right")
    table.add_column("preview")
    for template in templates:
        table.add_row(
            template.id,
            template.name,
            _text(template.category),
            _text(template.usageCount),
            _yes_no(template.hasPreview),
        )
    console.stdout_console().print(table)


def print_projects(projects: Sequence[ProjectSummary], *, as_json: bool) -> None:
    """``projects``: every project of the account."""
    if as_json:
        console.print_json([_dump(p) for p in projects])
        return
    if not projects:
        console.out("no projects yet")
        return
    table = Table(**_LIST_STYLE, title=_count(len(projects), "project"))
    table.add_column("id", no_wrap=True)
    table.add_column("name")
    table.add_column("aspect")
    table.add_column("preview")
    table.add_column("updated")
    for project in projects:
        table.add_row(
            project.id,
            _text(project.name),
            _text(project.aspectRatio),
            _yes_no(project.hasPreview),
            _text(project.updatedAt or project.createdAt),
        )
    console.stdout_console().print(table)
