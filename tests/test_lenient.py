"""``api/lenient.py``: what each lenient field type makes of null and of type drift, and the
response models built from them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from parafraim_build.api.lenient import (
    to_bool,
    to_int,
    to_limits,
    to_list,
    to_message,
    to_number,
    to_percent,
    to_str,
    to_text,
)
from parafraim_build.api.models import (
    Credits,
    Me,
    MessageAccepted,
    RenderJob,
    RenderStarted,
    Task,
    TemplateSummary,
)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (10000, 10000),
        (10000.0, 10000),
        (12.5, 12.5),
        ("42", 42),
        (" 7.25 ", 7.25),
        ("1e3", 1000),
        (None, None),
        (True, None),
        ("soon", None),
        (float("nan"), None),
        ("inf", None),
        ([1], None),
    ],
)
def test_to_number_keeps_integers_integral(value: Any, number: object) -> None:
    result = to_number(value)
    assert result == number
    assert type(result) is type(number)


@pytest.mark.parametrize(
    ("value", "expected"), [(42.9, 42), ("3", 3), ("2.5", 2), (None, None), ("x", None)]
)
def test_to_int(value: Any, expected: int | None) -> None:
    assert to_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42.5, 42), (99.9, 99), (100, 100), (250, 100), (-1, 0), (None, 0), ("50", 50), ({}, 0)],
)
def test_to_percent_rounds_down_and_clamps(value: Any, expected: int) -> None:
    assert to_percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a", "a"), (7, "7"), (7.0, "7"), (None, None), (True, None), ({"a": 1}, None), ([], None)],
)
def test_to_str(value: Any, expected: str | None) -> None:
    assert to_str(value) == expected
    assert to_text(value) == (expected or "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (None, False), ("true", True), ("False", False), (1, True)],
)
def test_to_bool(value: Any, expected: bool) -> None:
    assert to_bool(value) is expected


def test_to_message_reads_an_error_object_or_text() -> None:
    assert to_message("ffmpeg crashed") == "ffmpeg crashed"
    assert to_message({"code": "E1", "message": "ffmpeg crashed"}) == "ffmpeg crashed"
    assert to_message({"code": "E1"}) == "E1"
    assert to_message({}) is None
    assert to_message(None) is None


def test_to_list_keeps_objects_only() -> None:
    assert to_list(None) == []
    assert to_list("x") == []
    assert to_list([{"a": 1}, None, 3, {"b": 2}]) == [{"a": 1}, {"b": 2}]


def test_to_limits() -> None:
    raw = {"projects": 100.0, "tasks": "4", "renders": None, "tier": "unlimited", "x": [1]}
    assert to_limits(raw) == {"projects": 100, "tasks": 4, "renders": None, "tier": "unlimited"}
    assert to_limits(None) is None
    assert to_limits([1, 2]) is None


def test_a_render_job_with_an_error_object_keeps_its_message() -> None:
    job = RenderJob.model_validate(
        {"status": "failed", "progress": "30", "error": {"code": "X", "message": "boom"}}
    )
    assert (job.progress, job.error, job.videoUrl) == (30, "boom", None)


def test_a_task_with_odd_nested_values_is_read() -> None:
    task = Task.model_validate(
        {
            "status": "error",
            "lastEventId": 9.0,
            "assistantMessage": "text instead of an object",
            "project": [],
            "renderJob": {"status": "complete", "progress": 100.0, "videoUrl": None},
            "error": "the model refused",
        }
    )
    assert task.lastEventId == 9
    assert task.assistantMessage is None
    assert task.project is None
    assert task.renderJob is not None
    assert task.renderJob.progress == 100
    assert task.error is not None
    assert (task.error.code, task.error.message) == ("UNKNOWN", "the model refused")


def test_required_fields_accept_numbers_for_strings() -> None:
    assert Me.model_validate({"id": 12}).id == "12"
    assert MessageAccepted.model_validate({"taskId": 5}).taskId == "5"
    assert RenderStarted.model_validate({"jobId": 6, "traceId": None}).jobId == "6"


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Me, {"id": None}),
        (Me, {}),
        (MessageAccepted, {"taskId": {"id": "t"}}),
        (RenderJob, {"progress": 5}),
        (Credits, {"balance": None}),
        (Credits, {"balance": "lots"}),
    ],
)
def test_required_fields_are_still_required(model: type[Any], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_a_template_without_a_name_is_listed_with_an_empty_one() -> None:
    template = TemplateSummary.model_validate(
        {"id": "t", "name": None, "hasPreview": "true", "usageCount": "12"}
    )
    assert (template.name, template.hasPreview, template.usageCount) == ("", True, 12)
