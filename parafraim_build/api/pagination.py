"""From a success envelope's ``data`` to the shared response models, and across pages.

Responses ignore unknown fields and tolerate missing or null optional ones (``api/models.py``);
what still does not fit is reported as the API answering "in an unexpected shape", never as a
pydantic traceback. List endpoints are followed page after page by ``iter_pages``, which
trusts ``totalPages`` only as far as the pages keep bringing new items: it stops at an empty
page, at a page whose every item was already seen, and after ``MAX_PAGES`` pages whatever the
server says.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from parafraim_build.api.errors import bad_data_error
from parafraim_build.api.models import Page, Pagination, ProjectSummary, TemplateSummary
from parafraim_build.errors import OutcomeUnknownError

log = logging.getLogger("parafraim_build.api")

MAX_PAGES = 1000
"""The most pages one listing follows: 50,000 items at 50 a page, far beyond any account."""

ModelT = TypeVar("ModelT", bound=BaseModel)
ItemT = TypeVar("ItemT", ProjectSummary, TemplateSummary)


def parse_data(model: type[ModelT], data: Any, method: str, route: str) -> ModelT:
    """``data`` as ``model``; ``UnknownApiError`` (BAD_RESPONSE) when it does not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_data_error(method, route, _first_problem(exc)) from exc


def parse_post_data(model: type[ModelT], data: Any, route: str, check: str) -> ModelT:
    """Like ``parse_data`` for a POST: a body that does not fit is ``OutcomeUnknownError``."""
    # The POST was processed (a success envelope came back), so a body we cannot read must not
    # look like a failure worth retrying: the project or task exists and may cost credits.
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise OutcomeUnknownError(
            f"POST {route} succeeded but its answer could not be read ({_first_problem(exc)})",
            hint=check,
        ) from exc


def build_page(
    model: type[ItemT],
    data: Any,
    pagination: Any,
    route: str,
    params: Mapping[str, Any],
) -> Page[ItemT]:
    """One page from ``data`` (a list) and ``pagination`` (absent: the list is all there is)."""
    if not isinstance(data, list):
        raise bad_data_error("GET", route, "`data` is not a list")
    items = [parse_data(model, item, "GET", route) for item in data]
    if isinstance(pagination, dict):
        meta = parse_data(Pagination, pagination, "GET", route)
    else:
        # No pagination object: the answer is all there is.
        meta = Pagination(
            page=params["page"], pageSize=params["pageSize"], total=len(items), totalPages=1
        )
    return Page[model](items=items, pagination=meta)  # type: ignore[valid-type]


async def iter_pages(
    fetch: Callable[[int], Awaitable[Page[ItemT]]],
    *,
    max_pages: int = MAX_PAGES,
) -> AsyncIterator[ItemT]:
    """Every item of every page, fetched one page at a time by ``fetch(page_number)``.

    Follows ``totalPages``, but a server that gets it wrong cannot make this loop: it stops
    at an empty page, at a page that brings no item not seen before (the same page served
    again), and after ``max_pages`` pages (logged as a warning: the list may be incomplete).
    Items seen on an earlier page are skipped, which a list that shifts between two requests
    would repeat.
    """
    seen: set[str] = set()
    number = 1
    while True:
        page = await fetch(number)
        new = 0
        for item in page.items:
            if item.id not in seen:
                seen.add(item.id)
                new += 1
                yield item
        if new == 0 or number >= page.pagination.totalPages:
            if page.items and new == 0:
                log.info("page %d brought no new item; stopping there", number)
            return
        if number >= max_pages:
            log.warning(
                "stopped after %d pages although the service announced %d: the list may be "
                "incomplete",
                number,
                page.pagination.totalPages,
            )
            return
        number += 1


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "data"
    return f"{where}: {first.get('msg', 'invalid')}"
